#nowarn "9" // the caller's x and gradient pinned for the in-place passes (`fixed`)
namespace Hybrid.Kernel

#nowarn "9" // Jvp reads the caller's x and v through their pinned addresses

open System
open System.Runtime.InteropServices
open System.Threading
open Microsoft.FSharp.NativeInterop

/// Limits of the compiler (settable for tests and benchmarks).
module internal Compiler =
    /// Graphs with more straight-line nodes than this (nodes outside recognised loops, plus one body
    /// per loop: `Loops.straightNodes`) are replayed by the interpreter instead of compiled to IL.
    /// Measured (bench: `compile-time`): the JIT costs tens of µs per node, the IL runs 5–8× faster
    /// than the interpreter; at 10⁴ nodes the first call's JIT is about a second on a busy 2-core machine.
    let mutable MaxCompiledNodes = 10_000
    /// A path with at most this many straight-line nodes is emitted as IL when it is recorded at x0
    /// (else at its second use); a larger one (up to MaxCompiledNodes) runs interpreted until its
    /// calls have done the interpreter's work that the JIT would cost (`TierUpWork`). Measured
    /// (bench: `chunks`, 2026-12-01): the JIT of the lean forward and reverse passes takes 60 µs
    /// per straight-line node on a quiet machine (88 ms at 1336 nodes, 1.1–1.5 s at 1.3·10⁴ at load
    /// 16), so 500 nodes stay near 30 ms.
    let mutable EagerCompileNodes = 500
    /// Interpreted node visits per straight-line node after which a larger path is emitted as IL:
    /// the JIT's cost per straight-line node over what IL saves per node and call (60 µs against
    /// 15–35 ns measured by `chunks`: 3 600–4 000 calls of a graph with nothing rolled), so a path
    /// pays at most about twice the better of the two choices had its calls been known.
    let mutable TierUpWork = 4000L
    /// Uses after which a path of `straight` straight-line nodes and `count` nodes is emitted as IL.
    let usesBeforeIL (straight: int) (count: int) =
        if straight <= EagerCompileNodes then 1
        else int (min 1_000_000_000L (max 1L ((TierUpWork * int64 straight + int64 count - 1L) / int64 (max 1 count))))
    /// Paths kept per compiled function; past it a new path is recorded and interpreted each time.
    let mutable MaxPaths = 32
    /// Newton–CG's products at one held point (`HeldHvp`) over the tape of partials even when the
    /// path is compiled (else, the default, its IL joint passes, as `Hvp`'s: measured faster per
    /// product).
    let mutable HeldHvpOnTape = false
    /// The dense Hessian by edge pushing (`EdgePush`) where it does less work than the block
    /// passes (true, the default), or always by the block passes (false: H·eⱼ per unit direction,
    /// the eager tape's sums to the last bit, then symmetrised).
    let mutable HessianByEdges = true
    /// What one entry update of edge pushing (a hash probe and an add, 5–10 ns) costs in lane
    /// updates of the block passes (1.8 ns per 4-lane vector, bench/RESULTS.md): edge pushing is kept
    /// for a path while W's updates stay below the block passes' n·Count·2 lane updates divided by
    /// this, plus one per node (a matrix node's k×k result over its inputs is not counted: its size
    /// is bounded by `EdgePush.fits`).
    let mutable EdgeUpdateCost = 16L

/// Per-thread scratch for compiled passes: four pinned arrays (values, adjoints, tangents, adjoint
/// tangents), grown to the largest path used on the thread and then reused, so a call allocates
/// nothing after warm-up. A call takes the thread's workspace and gives it back; a call nested in
/// another (f re-recorded calls a compiled function) gets a fresh one.
[<Sealed; AllowNullLiteral>]
type internal Workspace() =
    [<ThreadStatic; DefaultValue>] static val mutable private idle: Workspace
    let mutable cap = 0
    let mutable v: float[] = null
    let mutable a: float[] = null
    let mutable s: float[] = null
    let mutable at: float[] = null
    let mutable d0: float[] = null
    let mutable d1: float[] = null
    let mutable h00: float[] = null
    let mutable h01: float[] = null
    let mutable h11: float[] = null
    member _.V = v
    member _.D0 = d0
    member _.D1 = d1
    member _.H00 = h00
    member _.H01 = h01
    member _.H11 = h11
    /// The graph whose partials (first, and second) D0 … H11 hold in this call (null: none yet).
    member val PartialsOf: Graph = null with get, set
    /// True while A holds every node's adjoint of the point held (`CompiledCore.TryHold` with keep,
    /// for `HeldHessian`).
    member val Kept = false with get, set
    member val HessiansOf: Graph = null with get, set
    /// The compiled passes (a PathCode) whose joint forward pass `Path.ForwardJoint` last ran in
    /// this workspace (null: it ran interpreted).
    member val Joint: obj = null with get, set
    /// Room for w directions per slot of `count` slots: (tangents, adjoint tangents).
    member val SB: float[] = Array.empty with get, set
    member val ATB: float[] = Array.empty with get, set
    member w.EnsureBlock(size: int) =
        if w.SB.Length < size then
            w.SB <- Array.zeroCreate size
            w.ATB <- Array.zeroCreate size
    /// Edge pushing's sparse symmetric W (made on first use).
    member val Edges: EdgeStore = null with get, set
    member _.A = a
    member _.S = s
    member _.AT = at
    member val PV = 0n with get, set
    member val PA = 0n with get, set
    member val PS = 0n with get, set
    member val PAT = 0n with get, set
    /// Room for `count` slots (keeping the first `keep` values and tangents: the inputs').
    member w.Ensure(count: int, keep: int) =
        if count > cap then
            let n = max count (2 * cap)
            let pinned () = GC.AllocateArray<float>(n, true)
            let nv = pinned ()
            if not (isNull v) then Array.Copy(v, nv, min keep v.Length)
            v <- nv
            a <- pinned ()
            let ns = pinned ()
            if not (isNull s) then Array.Copy(s, ns, min keep s.Length)
            s <- ns
            at <- pinned ()
            d0 <- Array.zeroCreate n
            d1 <- Array.zeroCreate n
            h00 <- Array.zeroCreate n
            h01 <- Array.zeroCreate n
            h11 <- Array.zeroCreate n
            w.PV <- Marshal.UnsafeAddrOfPinnedArrayElement(v, 0)
            w.PA <- Marshal.UnsafeAddrOfPinnedArrayElement(a, 0)
            w.PS <- Marshal.UnsafeAddrOfPinnedArrayElement(s, 0)
            w.PAT <- Marshal.UnsafeAddrOfPinnedArrayElement(at, 0)
            cap <- n
    static member Take() =
        let w = Workspace.idle
        if isNull w then Workspace()
        else
            Workspace.idle <- null
            w.PartialsOf <- null
            w.HessiansOf <- null
            w
    static member Give(w: Workspace) = Workspace.idle <- w

/// For tests: the method `CompiledCore.TryHessian` takes on this thread — 0 chosen by cost (the
/// default), 1 edge pushing wherever it applies (matrix nodes that fit, finite partials) with no cap
/// on its work, 2 the block passes only.
[<AbstractClass; Sealed>]
type internal HessianMethod =
    [<ThreadStatic; DefaultValue>] static val mutable private forced: int
    static member Forced
        with get () = HessianMethod.forced
        and set (v: int) = HessianMethod.forced <- v

/// The compiled passes of a path (IL), emitted when the path is first reused; the tangent passes
/// when first needed.
[<Sealed; AllowNullLiteral>]
type internal PathCode(g: Graph, loops: Loop[], guardLoops: Loop[]) =
    let forward = Emit.forward g loops
    let inPlace = Emit.inPlaceOk g loops guardLoops
    let forwardLean = Emit.forwardLeanInPlace g loops inPlace
    let guards = Emit.guardsInPlace g guardLoops inPlace
    let reverse = Emit.reverseInPlace g loops inPlace
    let clear = Emit.leanClear g loops
    let mutable reverseKept: PassFn[] = null
    let mutable tangent: PassFn[] = null
    let mutable reverseTangent: PassFn[] = null
    let mutable forwardTangent: PassFn[] = null
    let mutable forwardJoint: PassFn[] = null
    let mutable reverseJoint: PassFn[] = null
    /// Every node's value (for the passes over the tape, which read them all).
    member _.Forward = forward
    /// The values `Value` and the lean sweep need (loops in lanes store only what later code reads);
    /// the inputs' values from argument S (the caller's x, or V when x is copied there).
    member _.ForwardLean = forwardLean
    /// The guards over (v, x): the inputs' values from the second argument (x, or v itself).
    member _.Guards = guards
    /// True when ForwardLean, Guards and Reverse read the inputs' values from the caller's x and
    /// add their adjoints into the caller's gradient (`Emit.inPlaceOk`); false: they read and
    /// write the workspace only, whatever the arguments S and AT.
    member _.InPlace = inPlace
    /// The adjoint ranges (start, length) the lean sweep needs zero.
    member _.Clear = clear
    /// The adjoint sweep leaving only the gradient (the inputs' adjoints) in memory: in argument AT
    /// (the caller's gradient, or A) when InPlace, the inputs' values from argument S.
    member _.Reverse = reverse
    /// The adjoint sweep leaving every node's adjoint in memory (for the passes over the tape).
    member p.ReverseKept =
        if isNull reverseKept then lock p (fun () -> if isNull reverseKept then reverseKept <- Emit.reverse g loops true)
        reverseKept
    member p.Tangent =
        if isNull tangent then lock p (fun () -> if isNull tangent then tangent <- Emit.tangent g loops)
        tangent
    member p.ReverseTangent =
        if isNull reverseTangent then lock p (fun () -> if isNull reverseTangent then reverseTangent <- Emit.reverseTangent g loops)
        reverseTangent
    /// Values and tangents in one pass, only what is read afterwards stored (Jvp), the inputs'
    /// read from the arguments A and AT (`Emit.jvpAt`): (v, x, s, dx).
    member p.ForwardTangent =
        if isNull forwardTangent then lock p (fun () -> if isNull forwardTangent then forwardTangent <- Emit.jvp g loops)
        forwardTangent
    /// True when ForwardTangent and the guards read the inputs only from x and dx (`Emit.inputsDirect`):
    /// Jvp then needs no copy of x and v in the workspace.
    member val JvpDirect = Emit.inputsDirect g loops
    /// Hvp's joint forward pass: values and tangents, every one stored but the lane trips'.
    member p.ForwardJoint =
        if isNull forwardJoint then lock p (fun () -> if isNull forwardJoint then forwardJoint <- Emit.forwardJoint g loops)
        forwardJoint
    /// Hvp's joint sweep: adjoints and adjoint tangents in one pass (after ForwardJoint; A and AT
    /// zero where Clear says).
    member p.ReverseJoint =
        if isNull reverseJoint then lock p (fun () -> if isNull reverseJoint then reverseJoint <- Emit.reverseJoint g loops)
        reverseJoint

/// What selecting a path runs first (with its guards).
type internal Run =
    /// The values `Value` and the lean sweep read.
    | Lean = 0
    /// Every node's value (the passes over the tape of partials read them all).
    | Full = 1
    /// Values with the tangents along w.S in one pass (Jvp).
    | Tangents = 2
    /// Values and tangents along w.S for Hvp's joint passes.
    | Joint = 3

/// One recorded path: its graph, run by the interpreter until it is reused, then by its IL (when
/// it has at most `Compiler.MaxCompiledNodes` straight-line nodes once its loops are rolled; larger
/// graphs stay interpreted). The loops are found when the path is first reused (or at x0); a path
/// with more than `Compiler.EagerCompileNodes` straight-line nodes is emitted only after the uses
/// `Compiler.usesBeforeIL` gives (the JIT's cost grows with them).
[<Sealed; AllowNullLiteral>]
type internal Path(g: Graph, compileNow: bool) =
    let mutable code: PathCode = null
    let mutable uses = 0
    /// Too many straight-line nodes for IL (known once the loops have been looked for).
    let mutable tooLarge = false
    /// Uses after which the IL is emitted (0: not decided yet, the loops not yet found).
    let mutable needed = 0
    let mutable loops: Loop[] = null
    let decide () =
        // a loop over matrix nodes' slots is none (each node is a piece of its own); their output
        // slots are no straight-line code
        loops <- Loops.find g |> Array.filter (fun l -> g.Mats |> Array.forall (fun m -> m.Out + m.OutLen <= l.First || m.Out >= l.End))
        let straight = Loops.straightNodes g loops - MatNodes.slots g.Mats
        if straight > Compiler.MaxCompiledNodes then tooLarge <- true
        else needed <- Compiler.usesBeforeIL straight g.Count
    let compile (u: int) =
        if needed = 0 then decide ()
        if not tooLarge && u >= needed then code <- PathCode(g, loops, Loops.findGuards g)
    do if compileNow then compile 1
    member _.Graph = g
    member _.IsCompiled = not (isNull code)
    /// The compiled passes, or null while interpreted (no use counted: `Code` counts them).
    member _.Compiled = code
    /// How this path's dense Hessian is computed: 0 not yet decided, 1 edge pushing, 2 block passes.
    member val HessianBy = 0 with get, set
    member private p.Code =
        if isNull code && not tooLarge then
            let u = Interlocked.Increment &uses
            if u >= 2 && (needed = 0 || u >= needed) then
                lock p (fun () -> if isNull code && not tooLarge then compile u)
        code
    static member private GuardsHold(c: PathCode, w: Workspace) = Path.GuardsAt(c, w.PV, w.PV)
    /// The guards over the values at pv, the inputs' at px (pv itself when x is copied there).
    static member GuardsAt(c: PathCode, pv: nativeint, px: nativeint) =
        let mutable ok = true
        let mutable k = 0
        while ok && k < c.Guards.Length do
            ok <- c.Guards[k].Invoke(pv, px)
            k <- k + 1
        ok
    /// The compiled passes when they run in place over the caller's arrays (`PathCode.InPlace`),
    /// else null (not compiled yet, or not in place).
    member _.InPlace = if not (isNull code) && code.InPlace then code else null
    /// Values and guards at the inputs in w.V; true when this path is the one taken there. With
    /// `full`, every node's value (else, compiled, those `Value` and the lean sweep read).
    member p.Forward(w: Workspace, full: bool) : bool =
        let c = p.Code
        if isNull c then Interpreter.forward g w.V
        else
            // (the lean pass reads the inputs' values from argument S: here x copied into V)
            for f in (if full then c.Forward else c.ForwardLean) do f.Invoke(w.PV, 0n, w.PV, 0n)
            Path.GuardsHold(c, w)
    /// Values, tangents (the inputs' in w.S) and guards in one pass; true when this path is the one
    /// taken there. Compiled, only the outputs' values and tangents are left in memory (Jvp).
    member p.ForwardTangent(w: Workspace) : bool =
        let c = p.Code
        if isNull c then
            let ok = Interpreter.forward g w.V
            if ok then
                p.Partials(w, false)
                Interpreter.tangent g w.V w.S w.D0 w.D1
            ok
        else Path.JvpAt(c, w, w.PV, w.PS)
    /// Compiled p's Jvp pass with the inputs' values at px and tangents at pv (pinned: the caller's
    /// x and v where `c.JvpDirect`, else the workspace's copies w.PV, w.PS), and its guards: true
    /// when this path is the one taken there.
    static member JvpAt(c: PathCode, w: Workspace, px: nativeint, pv: nativeint) : bool =
        let fs = c.ForwardTangent
        for k in 0 .. fs.Length - 1 do fs[k].Invoke(w.PV, px, w.PS, pv)
        Path.GuardsHold(c, w)
    /// Values, tangents (the inputs' in w.S) and guards for Hvp's joint passes; true when this path
    /// is the one taken there. Compiled, every value and tangent but the lane trips' is stored (the
    /// joint sweep recomputes those) and w.Joint is the code that ran; interpreted, the values only
    /// (w.Joint null: the caller takes the four separate passes).
    member p.ForwardJoint(w: Workspace) : bool =
        let c = p.Code
        w.Joint <- box c
        if isNull c then Interpreter.forward g w.V
        else
            for f in c.ForwardJoint do f.Invoke(w.PV, 0n, w.PS, 0n)
            Path.GuardsHold(c, w)
    /// After ForwardJoint by c: the adjoints and adjoint tangents of output 0 in one sweep (A and AT
    /// cleared where it reads them, seeded); H·v is then w.AT[0 .. N−1].
    member _.ReverseJoint(w: Workspace, c: PathCode) =
        for struct (start, length) in c.Clear do
            Array.Clear(w.A, start, length)
            Array.Clear(w.AT, start, length)
        let o = g.Outputs[0]
        if o >= 0 then w.A[o] <- 1.0
        let r = c.ReverseJoint
        for k = r.Length - 1 downto 0 do r[k].Invoke(w.PV, w.PA, w.PS, w.PAT)
    /// The tape of first (and, with `second`, second) partials in w, computed once per call.
    member _.Partials(w: Workspace, second: bool) =
        if not (obj.ReferenceEquals(w.PartialsOf, g)) then
            Interpreter.partialsAll g w.V w.D0 w.D1
            w.PartialsOf <- g
        if second && not (obj.ReferenceEquals(w.HessiansOf, g)) then
            Interpreter.hessiansAll g w.V w.D0 w.D1 w.H00 w.H01 w.H11
            w.HessiansOf <- g
    /// Zeroes the adjoints the sweep `Reverse(w, keep)` reads (all of them with `keep` or interpreted).
    member _.ClearAdjoints(w: Workspace, keep: bool) =
        if keep || isNull code then Array.Clear(w.A, 0, g.Count)
        else
            for struct (start, length) in code.Clear do Array.Clear(w.A, start, length)
    /// Adjoints into w.A (seeded by the caller, zero elsewhere): every node's with `keep` (the
    /// second-order passes read them), else at least the inputs' (the compiled sweep leaves the
    /// others as they were).
    member p.Reverse(w: Workspace, keep: bool) =
        if isNull code then
            p.Partials(w, false)
            Interpreter.reverse g w.V w.A w.D0 w.D1
        else
            // (the lean sweep reads the inputs' values from argument S and adds their adjoints into
            // argument AT: here x copied into V, the gradient left in A)
            if keep then
                let r = code.ReverseKept
                for k = r.Length - 1 downto 0 do r[k].Invoke(w.PV, w.PA, 0n, 0n)
            else
                let r = code.Reverse
                for k = r.Length - 1 downto 0 do r[k].Invoke(w.PV, w.PA, w.PV, w.PA)
    /// Tangents into w.S (inputs seeded by the caller). `tape`: over the partials' tape even when
    /// compiled (for many directions at one x, where the tape is computed once).
    member p.Tangent(w: Workspace, tape: bool) =
        if isNull code || tape then
            p.Partials(w, false)
            Interpreter.tangent g w.V w.S w.D0 w.D1
        else for f in code.Tangent do f.Invoke(w.PV, 0n, w.PS, 0n)
    /// Adjoint tangents into w.AT (zero before), from w.A and w.S.
    member p.ReverseTangent(w: Workspace, tape: bool) =
        if isNull code || tape then
            p.Partials(w, true)
            Interpreter.reverseTangent g w.V w.A w.S w.AT w.D0 w.D1 w.H00 w.H01 w.H11
        else
            let r = code.ReverseTangent
            for k = r.Length - 1 downto 0 do r[k].Invoke(w.PV, w.PA, w.PS, w.PAT)

/// A function compiled by paths: the mechanism behind Fn.Compile. Each entry point copies x into
/// the thread's workspace, finds the path whose guards hold there (the last one taken first), or
/// records f at x anew, and runs that path's passes. `false` from an entry point means f cannot
/// be compiled at x (`Unsupported` says why): the caller then uses the eager transforms.
[<Sealed>]
type internal CompiledCore private (owner: string, f: Func<Vec, Real[]>, n: int, m: int) =
    let mutable paths: Path[] = [||]
    let mutable last = 0
    let mutable recordings = 0
    let mutable unsupported: string = null

    let gate = obj ()
    /// Keeps p (under `gate`) unless the cache is full; a path past it is recorded and interpreted each time.
    let add (p: Path) = if paths.Length < Compiler.MaxPaths then paths <- Array.append paths [| p |]

    /// Runs p's first pass as `run` says, and its guards: true when p is taken there.
    let run (p: Path) (w: Workspace) (how: Run) =
        match how with
        | Run.Tangents -> p.ForwardTangent w
        | Run.Joint -> p.ForwardJoint w
        | Run.Full -> p.Forward(w, true)
        | _ -> p.Forward(w, false)

    /// The path taken at the inputs in w.V[0 .. n−1], its first pass (`run`) and guards done; null
    /// if f cannot be compiled there.
    let select (w: Workspace) (how: Run) : Path =
        let ps = paths
        let start = Volatile.Read &last
        let mutable found: Path = null
        let mutable k = 0
        while isNull found && k < ps.Length do
            let idx = (start + k) % ps.Length
            let p = ps[idx]
            w.Ensure(p.Graph.Count, n)
            if run p w how then
                found <- p
                if idx <> start then Volatile.Write(&last, idx)
            k <- k + 1
        if isNull found && isNull unsupported then
            // one recording at a time: a thread that waited here first tries the paths added meanwhile
            lock gate (fun () ->
                let now = paths
                let mutable k = ps.Length
                while isNull found && k < now.Length do
                    w.Ensure(now[k].Graph.Count, n)
                    if run now[k] w how then found <- now[k]
                    k <- k + 1
                if isNull found && isNull unsupported then
                    let x = Array.sub w.V 0 n
                    Interlocked.Increment &recordings |> ignore
                    match GraphRecorder.record owner f x with
                    | Choice2Of2 u -> unsupported <- u.Reason
                    | Choice1Of2 g ->
                        if g.Outputs.Length <> m then
                            invalidOp (sprintf "%s: the function returned %d outputs at this x but %d at x0; its output length must not depend on x." owner g.Outputs.Length m)
                        let p = Path(g, false)
                        w.Ensure(g.Count, n)
                        if not (run p w how) then
                            invalidOp (sprintf "%s: recording f again at the same x took a different path (f is not a deterministic function of x: it reads state that changes between calls, or random numbers)." owner)
                        add p
                        found <- p)
        found

    let output (w: Workspace) (g: Graph) (k: int) = let o = g.Outputs[k] in if o >= 0 then w.V[o] else g.OutConst[k]

    /// Adjoints of output k (w.A zeroed and seeded; then the sweep; every node's with `keep`).
    let sweep (w: Workspace) (p: Path) (k: int) (keep: bool) =
        let g = p.Graph
        p.ClearAdjoints(w, keep)
        let o = g.Outputs[k]
        if o >= 0 then w.A[o] <- 1.0
        p.Reverse(w, keep)

    /// H·v into hv at the point w holds, swept with kept adjoints: one tangent and one
    /// reverse-tangent pass — IL when the path is compiled (unless `tape`), else over the tape of
    /// partials (computed once per point).
    let hvpAt (w: Workspace) (p: Path) (v: ReadOnlySpan<float>) (hv: Span<float>) (tape: bool) =
        v.CopyTo(Span<float>(w.S, 0, n))
        p.Tangent(w, tape)
        Array.Clear(w.AT, 0, p.Graph.Count)
        p.ReverseTangent(w, tape)
        Span<float>(w.AT, 0, n).CopyTo hv

    /// H·v after `ForwardJoint` (values and tangents along v, the inputs' in w.S): by its IL, one
    /// joint sweep of adjoints and adjoint tangents (loops in lanes where they run so); interpreted
    /// (the path not yet compiled), the separate passes.
    let hvpJoint (w: Workspace) (p: Path) (v: ReadOnlySpan<float>) (hv: Span<float>) =
        match w.Joint with
        | :? PathCode as code ->
            p.ReverseJoint(w, code)
            Span<float>(w.AT, 0, n).CopyTo hv
        | _ ->
            sweep w p 0 true
            hvpAt w p v hv false

    /// Records f at x0 and compiles its path, at the top level only (a recording is made once
    /// and replayed at new points, so it cannot belong to an enclosing transform). Exceptions of f
    /// propagate.
    static member Create(owner: string, f: Func<Vec, Real[]>, x0: Vec) : CompiledCore =
        if Traces.Depth <> 0 || not x0.IsConstant then
            invalidOp (
                sprintf "%s: compile outside every other transform, at a constant x0 (here a transform is active on this thread, or x0 carries derivatives); compile once at the top level and call the compiled function on doubles." owner)
        CompiledCore.Create(owner, f, x0.ToArray())

    /// Records f at x0 and compiles its path. Exceptions of f propagate.
    static member Create(owner: string, f: Func<Vec, Real[]>, x0: float[]) : CompiledCore =
        match GraphRecorder.record owner f x0 with
        | Choice2Of2 u ->
            let c = CompiledCore(owner, f, x0.Length, -1)
            c.SetUnsupported u.Reason
            c
        | Choice1Of2 g ->
            let c = CompiledCore(owner, f, x0.Length, g.Outputs.Length)
            c.Seed(Path(g, true))
            c
    member private _.SetUnsupported(reason: string) =
        unsupported <- reason
        recordings <- 1
    member private _.Seed(p: Path) =
        paths <- [| p |]
        recordings <- 1

    /// Inputs.
    member _.InputLength = n
    /// Outputs (−1 when f could not be compiled at x0).
    member _.OutputLength = m
    /// Paths recorded so far (x0's included).
    member _.Recordings = Volatile.Read &recordings
    /// Paths kept.
    member _.Paths = paths.Length
    /// True when the path at x0 runs as IL (not interpreted).
    member _.IsCompiled = paths.Length > 0 && paths[0].IsCompiled
    /// Why f cannot be compiled (null while it can).
    member _.Unsupported = unsupported
    /// Nodes of the path at x0.
    member _.Nodes = if paths.Length > 0 then paths[0].Graph.Count else 0
    /// How the path at x0 computes its dense Hessian: 0 not yet asked, 1 edge pushing, 2 block passes.
    member _.HessianBy = if paths.Length > 0 then paths[0].HessianBy else 0

    /// A workspace holding x and the path whose guards x passes (null: none, the caller falls back);
    /// the workspace goes back if selecting the path (which may record f again) throws.
    member private _.Enter(x: ReadOnlySpan<float>, how: Run) : struct (Workspace * Path) =
        let w = Workspace.Take()
        try
            w.Ensure(n, 0)
            x.CopyTo(Span<float>(w.V, 0, n))
            struct (w, select w how)
        with _ ->
            Workspace.Give w
            reraise ()

    /// Enter, with the tangents along v computed with the values (`how`: Hvp's joint forward pass;
    /// Jvp copies x and v itself where it must: `JvpIn`).
    member private _.Enter(x: ReadOnlySpan<float>, v: ReadOnlySpan<float>, how: Run) : struct (Workspace * Path) =
        let w = Workspace.Take()
        try
            w.Ensure(n, 0)
            x.CopyTo(Span<float>(w.V, 0, n))
            v.CopyTo(Span<float>(w.S, 0, n))
            struct (w, select w how)
        with _ ->
            Workspace.Give w
            reraise ()

    /// The path taken last, when it is compiled to run in place (`Path.InPlace`); else null.
    member private _.LastInPlace : Path =
        let ps = paths
        if ps.Length = 0 then null
        else
            let p = ps[Volatile.Read &last % ps.Length]
            if isNull p.InPlace then null else p

    /// For tests: the path taken last runs `TryGradAndValue` and `TryValue` in place (compiled, and
    /// `Emit.inPlaceOk`), so a call at a point where its guards hold copies nothing.
    member c.RunsInPlace = not (isNull c.LastInPlace)

    /// Output k of g at x, its values in w (an input's in x itself).
    static member private OutputAt(w: Workspace, g: Graph, x: ReadOnlySpan<float>, k: int) =
        let o = g.Outputs[k]
        if o < 0 then g.OutConst[k] elif o < x.Length then x[o] else w.V[o]

    /// f(x) into y by the last path's lean pass over x in place (nothing copied); false when that
    /// path is not compiled in place, its guards fail at x, or y overlaps x (an output that is an
    /// input would be read after y's writes): the caller then selects by copying.
    member private c.TryValueInPlace(x: ReadOnlySpan<float>, y: Span<float>) : bool =
        let p = c.LastInPlace
        if isNull p || x.Overlaps(Span<float>.op_Implicit y) then false
        else
            let code = p.InPlace
            let g = p.Graph
            let w = Workspace.Take()
            try
                w.Ensure(g.Count, 0)
                use px = fixed x
                let ix = NativePtr.toNativeInt px
                for f in code.ForwardLean do f.Invoke(w.PV, 0n, ix, 0n)
                if Path.GuardsAt(code, w.PV, ix) then
                    for k in 0 .. m - 1 do y[k] <- CompiledCore.OutputAt(w, g, x, k)
                    true
                else false
            finally
                Workspace.Give w

    /// f(x) and ∇f(x) by the last path's lean passes in place: the inputs' values read from x, their
    /// adjoints added into grad (cleared first where the sweep reads it), nothing copied in or out.
    /// False when that path is not compiled in place, its guards fail at x, or x and grad overlap
    /// (the sweep would write the gradient over values it still reads): the caller then takes the
    /// copying path, which reads all of x before it writes grad — so an overlapping grad gets
    /// ∇f at the x the call was given.
    member private c.TryGradAndValueInPlace(x: ReadOnlySpan<float>, grad: Span<float>, value: byref<float>) : bool =
        let p = c.LastInPlace
        if isNull p || x.Overlaps(Span<float>.op_Implicit grad) then false
        else
            let code = p.InPlace
            let g = p.Graph
            let w = Workspace.Take()
            try
                w.Ensure(g.Count, 0)
                use px = fixed x
                use pg = fixed grad
                let ix = NativePtr.toNativeInt px
                let ig = NativePtr.toNativeInt pg
                for f in code.ForwardLean do f.Invoke(w.PV, 0n, ix, 0n)
                if Path.GuardsAt(code, w.PV, ix) then
                    value <- CompiledCore.OutputAt(w, g, x, 0)
                    for struct (start, length) in code.Clear do
                        let e = start + length
                        if start < n then grad.Slice(start, min e n - start).Clear()
                        if e > n then Array.Clear(w.A, max start n, e - max start n)
                    let o = g.Outputs[0]
                    if o >= 0 then (if o < n then grad[o] <- 1.0 else w.A[o] <- 1.0)
                    let r = code.Reverse
                    for k = r.Length - 1 downto 0 do r[k].Invoke(w.PV, w.PA, ix, ig)
                    true
                else false
            finally
                Workspace.Give w

    member c.TryValue(x: ReadOnlySpan<float>, y: Span<float>) : bool =
        c.TryValueInPlace(x, y) || c.TryValueCopied(x, y)

    member private c.TryValueCopied(x: ReadOnlySpan<float>, y: Span<float>) : bool =
        let mutable ok = false
        let struct (w, p) = c.Enter(x, Run.Lean)
        try
            if not (isNull p) then
                for k in 0 .. m - 1 do y[k] <- output w p.Graph k
                ok <- true
        finally
            Workspace.Give w
        ok

    /// f(x) and ∇f(x) into grad: in place over x and grad when the last path taken is compiled so
    /// and holds at x (`TryGradAndValueInPlace`), else through the workspace (x copied in, the
    /// path selected or recorded, the gradient copied out).
    member c.TryGradAndValue(x: ReadOnlySpan<float>, grad: Span<float>, value: byref<float>) : bool =
        c.TryGradAndValueInPlace(x, grad, &value) || c.TryGradAndValueCopied(x, grad, &value)

    member private c.TryGradAndValueCopied(x: ReadOnlySpan<float>, grad: Span<float>, value: byref<float>) : bool =
        let struct (w, p) = c.Enter(x, Run.Lean)
        try
            if isNull p then false
            else
                value <- output w p.Graph 0
                sweep w p 0 false
                Span<float>(w.A, 0, n).CopyTo grad
                true
        finally
            Workspace.Give w

    /// Jvp's one pass at x along v into w: on the last path taken, reading x and v where they are
    /// (pinned, no copies) when that path is compiled and `JvpDirect`; else — or where its guards
    /// fail — x and v copied into w and the path selected as every entry point does. The path
    /// taken (null: f cannot be compiled at x); its outputs by `jvpOutput`.
    member private _.JvpIn(w: Workspace, x: ReadOnlySpan<float>, v: ReadOnlySpan<float>) : Path =
        let ps = paths
        let k = Volatile.Read &last
        let mutable found: Path = null
        if k < ps.Length then
            let p = ps[k]
            let code = p.Compiled
            if not (isNull code) && code.JvpDirect then
                w.Ensure(p.Graph.Count, 0)
                use px = fixed &MemoryMarshal.GetReference x
                use pv = fixed &MemoryMarshal.GetReference v
                if Path.JvpAt(code, w, NativePtr.toNativeInt px, NativePtr.toNativeInt pv) then found <- p
        if isNull found then
            w.Ensure(n, 0)
            x.CopyTo(Span<float>(w.V, 0, n))
            v.CopyTo(Span<float>(w.S, 0, n))
            found <- select w Run.Tangents
        found

    /// Output k's value and tangent after JvpIn on g: an input's from x and v themselves.
    static member private JvpOutput(w: Workspace, g: Graph, x: ReadOnlySpan<float>, v: ReadOnlySpan<float>, k: int,
                                    value: byref<float>, tangent: byref<float>) =
        let o = g.Outputs[k]
        if o < 0 then
            value <- g.OutConst[k]
            tangent <- 0.0
        elif o < x.Length then
            value <- x[o]
            tangent <- v[o]
        else
            value <- w.V[o]
            tangent <- w.S[o]

    /// Values and tangents along v in one pass.
    member c.TryJvp(x: ReadOnlySpan<float>, v: ReadOnlySpan<float>, y: Span<float>, jv: Span<float>) : bool =
        let w = Workspace.Take()
        try
            let p = c.JvpIn(w, x, v)
            if isNull p then false
            else
                for k in 0 .. m - 1 do CompiledCore.JvpOutput(w, p.Graph, x, v, k, &y[k], &jv[k])
                true
        finally
            Workspace.Give w

    /// A scalar f's value and tangent along v in one pass (TryJvp without the output spans).
    member c.TryJvp(x: ReadOnlySpan<float>, v: ReadOnlySpan<float>, value: byref<float>, tangent: byref<float>) : bool =
        let w = Workspace.Take()
        try
            let p = c.JvpIn(w, x, v)
            if isNull p then false
            else
                CompiledCore.JvpOutput(w, p.Graph, x, v, 0, &value, &tangent)
                true
        finally
            Workspace.Give w

    /// H·v by two IL passes: values with tangents along v (`ForwardJoint`), then adjoints with
    /// adjoint tangents (`ReverseJoint`), every row's partials by its own code, loops in lanes where
    /// they run so (the joint sweep recomputes the lane trips' values and tangents in registers).
    /// (Measured before lanes: fusing the four separate passes into two ran slower, 2.7 against
    /// 2.0 µs for Rosenbrock at n = 100 — the fused methods' locals outgrew the registers; with
    /// lanes and lean storage the two passes are the faster: bench/RESULTS.md, fifth session.)
    member c.TryHvp(x: ReadOnlySpan<float>, v: ReadOnlySpan<float>, hv: Span<float>) : bool =
        let struct (w, p) = c.Enter(x, v, Run.Joint)
        try
            if isNull p then false
            else
                hvpJoint w p v hv
                true
        finally
            Workspace.Give w

    /// The dense Hessian into h (n×n column-major). By edge pushing (`EdgePush`: one reverse sweep
    /// carrying a sparse symmetric W) when the path's matrix nodes fit (`EdgePush.fits`) and W's
    /// entry updates stay below the block passes' work (`Compiler.EdgeUpdateCost`; decided at the
    /// path's first Hessian, kept while it holds): exactly symmetric, entries equal to the eager
    /// tape's to rounding. Otherwise as the eager tape's: H·eⱼ for every unit direction, carried
    /// `Block` directions at a time over the tape of partials, then symmetrised (the mean of
    /// H[i, j] and H[j, i]).
    member c.TryHessian(x: ReadOnlySpan<float>, h: Span<float>) : bool =
        let struct (w, p) = c.Enter(x, Run.Full)
        try
            if isNull p then false
            else
                sweep w p 0 true
                c.HessianAt(w, p, h)
                true
        finally
            Workspace.Give w

    /// TryHessian's work at the point w holds on path p: every value, and every node's adjoint of
    /// output 0 (a kept sweep).
    member private c.HessianAt(w: Workspace, p: Path, h: Span<float>) =
                let g = p.Graph
                p.Partials(w, true)
                if p.HessianBy = 0 then p.HessianBy <- if EdgePush.fits g (max n 256) then 1 else 2
                let forced = HessianMethod.Forced
                let tryEdges = Compiler.HessianByEdges && forced <> 2 && p.HessianBy = 1 && EdgePush.finite g w.D0 w.D1 w.H00 w.H01 w.H11
                let edges =
                    tryEdges
                    && (let width = CompiledCore.Block(n, g.Count, g.Mats.Length > 0)
                        let blocks = int64 ((n + width - 1) / width * width) * int64 g.Count * 2L
                        let cap = if forced = 1 then Int64.MaxValue else blocks / Compiler.EdgeUpdateCost + int64 g.Count
                        if isNull w.Edges then w.Edges <- EdgeStore()
                        EdgePush.hessian g w.V w.A w.D0 w.D1 w.H00 w.H01 w.H11 w.Edges cap h)
                if not edges then
                    if tryEdges then p.HessianBy <- 2 // W's updates passed the block passes' work: blocks from now on
                    c.BlockHessian(w, p, h)

    /// The block passes of TryHessian (w swept with kept adjoints, the partials computed).
    member private _.BlockHessian(w: Workspace, p: Path, h: Span<float>) =
        let g = p.Graph
        let count = g.Count
        let width = CompiledCore.Block(n, count, g.Mats.Length > 0)
        w.EnsureBlock(count * width)
        let s = w.SB
        let at = w.ATB
        let mutable first = 0
        while first < n do
            let k = min width (n - first)
            CompiledCore.SeedBlock(s, n, width, first, k)
            Block.tangent g w.V s width w.D0 w.D1
            Array.Clear(at, 0, count * width)
            Block.reverseTangent g w.V w.A s at width w.D0 w.D1 w.H00 w.H01 w.H11
            for q in 0 .. k - 1 do
                for i in 0 .. n - 1 do h[i + (first + q) * n] <- at[i * width + q]
            first <- first + k
        for i in 0 .. n - 1 do
            for j in i + 1 .. n - 1 do
                let mean = 0.5 * (h[i + j * n] + h[j + i * n])
                h[i + j * n] <- mean
                h[j + i * n] <- mean

    /// The input tangents of one block pass: directions first .. first + k − 1 of the identity, one
    /// per lane of `width` (the inputs' slots; every other lane zero).
    static member private SeedBlock(s: float[], n: int, width: int, first: int, k: int) =
        Array.Clear(s, 0, n * width)
        for q in 0 .. k - 1 do s[(first + q) * width + q] <- 1.0

    /// Lanes per block pass (a multiple of Block.Lanes): the n directions split evenly into as few
    /// blocks as keep one block's tangents near 8 MB and at most 64 directions each. A graph with
    /// matrix nodes takes wider blocks (tangents up to 64 MB, at most 256 directions): each block
    /// pass is a product with the whole matrix each way (X·V, Xᵀ·V̄), a pass over memory that costs
    /// more than the tangents of the scalar nodes beside it.
    static member Block(n: int, count: int, mats: bool) =
        let most = if mats then max 1 (min 256 (8_000_000 / max 1 count)) else max 1 (min 64 (1_000_000 / max 1 count))
        let blocks = (n + most - 1) / most
        Block.padded ((n + blocks - 1) / blocks)

    /// The m×n Jacobian into jac (column-major), by the eager choice of mode: forward (one tangent
    /// pass per column) when n ≤ m, reverse (one sweep per row) otherwise.
    member c.TryJacobian(x: ReadOnlySpan<float>, jac: Span<float>) : bool =
        let struct (w, p) = c.Enter(x, Run.Full)
        try
            if isNull p then false
            else
                let g = p.Graph
                if n <= m then
                    p.Partials(w, false)
                    let width = CompiledCore.Block(n, g.Count, g.Mats.Length > 0)
                    w.EnsureBlock(g.Count * width)
                    let s = w.SB
                    let mutable first = 0
                    while first < n do
                        let k = min width (n - first)
                        CompiledCore.SeedBlock(s, n, width, first, k)
                        Block.tangent g w.V s width w.D0 w.D1
                        for q in 0 .. k - 1 do
                            for i in 0 .. m - 1 do
                                let o = g.Outputs[i]
                                jac[i + (first + q) * m] <- if o >= 0 then s[o * width + q] else 0.0
                        first <- first + k
                else
                    for i in 0 .. m - 1 do
                        sweep w p i false
                        for j in 0 .. n - 1 do jac[i + j * m] <- w.A[j]
                true
        finally
            Workspace.Give w

    /// The kept path whose guards hold at the inputs in w.V[0 .. n−1], its forward pass done (every
    /// value with `full`), never recording; null when none holds there.
    member private _.Known(w: Workspace, full: bool) : Path =
        let ps = paths
        let start = Volatile.Read &last
        let mutable found: Path = null
        let mutable k = 0
        while isNull found && k < ps.Length do
            let p = ps[(start + k) % ps.Length]
            w.Ensure(p.Graph.Count, n)
            if p.Forward(w, full) then found <- p
            k <- k + 1
        found

    /// f(x) by a path already recorded whose guards hold at x, never recording f (false: no kept
    /// path holds there, or f is not compiled). For the Newton solvers' line searches, which try
    /// points they may reject: a trial off every kept path is evaluated plainly by the caller, and
    /// only an accepted point is recorded (by the next derivative call), so a solver never records
    /// more often than its eager form.
    member c.TryValueKnown(x: ReadOnlySpan<float>, y: Span<float>) : bool =
        let w = Workspace.Take()
        try
            w.Ensure(n, 0)
            x.CopyTo(Span<float>(w.V, 0, n))
            let found = c.Known(w, false)
            if isNull found then false
            else
                for i in 0 .. m - 1 do y[i] <- output w found.Graph i
                true
        finally
            Workspace.Give w

    /// TryValueKnown in the caller's own workspace w, every node's value stored: f(x) into y and the
    /// path, or null (no kept path holds at x; w then holds nothing). Afterwards w holds x's values
    /// on that path, and `HoldSwept` takes the point from there without the forward pass again —
    /// for a line search whose accepted trial is the solver's next point.
    member c.TryValueHeld(w: Workspace, x: ReadOnlySpan<float>, y: Span<float>) : Path =
        w.PartialsOf <- null
        w.HessiansOf <- null
        w.Kept <- false
        w.Ensure(n, 0)
        x.CopyTo(Span<float>(w.V, 0, n))
        let found = c.Known(w, true)
        if not (isNull found) then
            for i in 0 .. m - 1 do y[i] <- output w found.Graph i
        found

    /// After the forward pass of p at the point w holds (`TryValueHeld`, or TryHold's selection):
    /// the sweep, ∇f(x) into grad, f(x) into value. With `keep` every node's adjoint stays in w.A
    /// (for `HeldHessian`).
    member _.HoldSwept(w: Workspace, p: Path, grad: Span<float>, value: byref<float>, keep: bool) =
        w.PartialsOf <- null
        w.HessiansOf <- null
        value <- output w p.Graph 0
        // HeldHvp over the tape, or its separate passes, read every node's adjoint; its joint
        // passes sweep again themselves
        let kept = keep || Compiler.HeldHvpOnTape || not p.IsCompiled
        sweep w p 0 kept
        w.Kept <- kept
        Span<float>(w.A, 0, n).CopyTo grad

    /// For the Newton solvers, derivatives at one x: finds the path at x (recording it if new) in
    /// the caller's own workspace w, sweeps it, writes ∇f(x) into grad and f(x) into value, and
    /// leaves w holding that point (values, adjoints — every node's with `keep`, for `HeldHessian` —
    /// and after the first product the tape of partials) for `HeldHvp` and `HeldHessian`, until w
    /// holds another point. Null: f cannot be compiled at x.
    member c.TryHold(w: Workspace, x: ReadOnlySpan<float>, grad: Span<float>, value: byref<float>, keep: bool) : Path =
        w.PartialsOf <- null
        w.HessiansOf <- null
        w.Kept <- false
        w.Ensure(n, 0)
        x.CopyTo(Span<float>(w.V, 0, n))
        let p = select w Run.Full
        if not (isNull p) then c.HoldSwept(w, p, grad, &value, keep)
        p

    /// TryHold without kept adjoints (Newton–CG's products sweep again themselves).
    member c.TryHold(w: Workspace, x: ReadOnlySpan<float>, grad: Span<float>, value: byref<float>) : Path =
        c.TryHold(w, x, grad, &value, false)

    /// The dense Hessian (as TryHessian) at the point w holds (`TryHold` with keep), without the
    /// forward pass and sweep again: Newton's iteration takes value, gradient and Hessian from one
    /// forward pass and one sweep.
    member c.HeldHessian(w: Workspace, p: Path, h: Span<float>) =
        if not w.Kept then invalidOp "Hybrid internal error: HeldHessian needs the point held with every adjoint (TryHold with keep)."
        c.HessianAt(w, p, h)

    /// H(x)·v at the point w holds (`TryHold`), without selecting the path: compiled, `TryHvp`'s two
    /// joint passes (the guards already held at x); interpreted, or with `Compiler.HeldHvpOnTape`,
    /// one tangent and one reverse-tangent pass over the tape of partials (computed once per point).
    /// (`HeldHvpOnTape` must not change between TryHold and the HeldHvp calls at its point.)
    member _.HeldHvp(w: Workspace, p: Path, v: ReadOnlySpan<float>, hv: Span<float>) =
        if Compiler.HeldHvpOnTape || not p.IsCompiled then hvpAt w p v hv Compiler.HeldHvpOnTape
        else
            // the joint passes overwrite values and adjoints: no HeldHessian at this point after them
            w.Kept <- false
            v.CopyTo(Span<float>(w.S, 0, n))
            p.ForwardJoint w |> ignore
            hvpJoint w p v hv
