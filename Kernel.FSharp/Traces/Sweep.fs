namespace Hybrid.Kernel

open System
open System.Runtime.CompilerServices
open System.Runtime.InteropServices

/// Which form `Sweep.gradientOf` takes on the calling thread: tests and probes compare the two
/// (thread-static, so a test running beside others changes only its own calls).
[<AbstractClass; Sealed>]
type internal GradientForm =
    [<ThreadStatic; DefaultValue>] static val mutable private copiedOut: bool
    /// False (on this thread only) turns `gradientOf`'s in-place form off.
    static member InPlace
        with get () = not GradientForm.copiedOut
        and set (v: bool) = GradientForm.copiedOut <- not v

/// The passes over a recorded reverse trace: the adjoint sweep (doubles at the bottom level,
/// differentiable lower-level values when nested) and, for traces recorded with second partials,
/// the forward-over-reverse replay that gives Hessian-vector products without re-running f.
module internal Sweep =

    /// A fresh adjoint store for t (scalars zeroed).
    let store (t: Trace) = Store(Buffers.RentZeroed t.Count, t.OpLengths, true)

    /// Scalar node i's adjoint g into its operands' adjoints (each partial times g), unchecked: the
    /// inner step of `reverse` and `gradient`, over the trace's arrays as references.
    let inline private pushScalar (ar: byref<float>) (arg0: byref<int>) (arg1: byref<int>) (d0: byref<float>) (d1: byref<float>) (i: int) (g: float) =
        let j = Unsafe.Add(&arg0, i)
        if j >= 0 then
            let aj = &Unsafe.Add(&ar, j)
            aj <- aj + Unsafe.Add(&d0, i) * g
        let k = Unsafe.Add(&arg1, i)
        if k >= 0 then
            let ak = &Unsafe.Add(&ar, k)
            ak <- ak + Unsafe.Add(&d1, i) * g

    /// The record of compact node kind k (`NodeKind.Unary` … `Minus`, see Nodes.fs) that ends at unit
    /// p of the tape, its adjoint g into its operands' adjoints, unchecked (the same products, in the
    /// same order, as `pushScalar` forms for the node's Scalar form: a fixed ±1 partial times g);
    /// returns the unit where the record starts (the end of the one before).
    let inline private pushCompact (ar: byref<float>) (tape: byref<int>) (k: NodeKind) (p: int) (g: float) : int =
        if k = NodeKind.Binary then
            let q = p - 6
            if g <> 0.0 then
                let u = &Unsafe.Add(&tape, q)
                let aj = &Unsafe.Add(&ar, u)
                aj <- aj + Unsafe.As<int, float>(&Unsafe.Add(&u, 2)) * g
                let ak = &Unsafe.Add(&ar, Unsafe.Add(&u, 1))
                ak <- ak + Unsafe.As<int, float>(&Unsafe.Add(&u, 4)) * g
            q
        elif k = NodeKind.Unary then
            let q = p - 3
            if g <> 0.0 then
                let u = &Unsafe.Add(&tape, q)
                let aj = &Unsafe.Add(&ar, u)
                aj <- aj + Unsafe.As<int, float>(&Unsafe.Add(&u, 1)) * g
            q
        elif k = NodeKind.Add || k = NodeKind.Sub then
            let q = p - 2
            if g <> 0.0 then
                let u = &Unsafe.Add(&tape, q)
                let aj = &Unsafe.Add(&ar, u)
                aj <- aj + 1.0 * g
                let ak = &Unsafe.Add(&ar, Unsafe.Add(&u, 1))
                ak <- ak + (if k = NodeKind.Add then 1.0 else -1.0) * g
            q
        else
            let q = p - 1
            if g <> 0.0 then
                let aj = &Unsafe.Add(&ar, Unsafe.Add(&tape, q))
                aj <- aj + (if k = NodeKind.Plus then 1.0 else -1.0) * g
            q

    /// Node i's operands and partials (j, k, d0, d1; −1 for an absent operand), whatever its form:
    /// a Scalar node's from the node arrays, a compact node's from its record at unit p of the tape,
    /// after which p is the next record's first unit.
    let inline private operands (t: Trace) (kind: NodeKind) (i: int) (p: byref<int>) (j: byref<int>) (k: byref<int>) (d0: byref<float>) (d1: byref<float>) =
        let tape = t.Tape
        match kind with
        | NodeKind.Scalar ->
            j <- t.Arg0[i]
            k <- t.Arg1[i]
            d0 <- t.D0[i]
            d1 <- t.D1[i]
        | NodeKind.Unary ->
            j <- tape[p]
            k <- -1
            d0 <- Unsafe.As<int, float>(&tape[p + 1])
            d1 <- 0.0
            p <- p + 3
        | NodeKind.Binary ->
            j <- tape[p]
            k <- tape[p + 1]
            d0 <- Unsafe.As<int, float>(&tape[p + 2])
            d1 <- Unsafe.As<int, float>(&tape[p + 4])
            p <- p + 6
        | NodeKind.Add
        | NodeKind.Sub ->
            j <- tape[p]
            k <- tape[p + 1]
            d0 <- 1.0
            d1 <- (if kind = NodeKind.Add then 1.0 else -1.0)
            p <- p + 2
        | _ -> // Plus, Minus
            j <- tape[p]
            k <- -1
            d0 <- (if kind = NodeKind.Plus then 1.0 else -1.0)
            d1 <- 0.0
            p <- p + 1

    /// True for the compact scalar nodes (`NodeKind.Unary` … `Minus`).
    let inline private isCompact (kind: NodeKind) = kind >= NodeKind.Unary

    /// Reverse sweep on a bottom-level trace: `adj` holds the seeds (e.g. 1 at the output's slot);
    /// afterwards it holds ∂output/∂slot for every slot. No allocation beyond touched op buffers.
    /// The scalar nodes — nearly all of a scalar loop's tape — are read without bounds checks: the
    /// node arrays have Capacity ≥ Count elements, the adjoints at least Count (checked once here),
    /// and a node's arguments are earlier slots (a value exists before it is used).
    let reverse (t: Trace) (adj: Store) =
        let a = adj.Scalars
        let count = t.Count
        if a.Length < count || t.Kinds.Length < count then
            invalidOp (sprintf "Hybrid internal error: a sweep over %d nodes was given %d adjoints." count a.Length)
        let ar = &MemoryMarshal.GetArrayDataReference a
        let kinds = &MemoryMarshal.GetArrayDataReference t.Kinds
        let arg0 = &MemoryMarshal.GetArrayDataReference t.Arg0
        let arg1 = &MemoryMarshal.GetArrayDataReference t.Arg1
        let d0 = &MemoryMarshal.GetArrayDataReference t.D0
        let d1 = &MemoryMarshal.GetArrayDataReference t.D1
        let tape = &MemoryMarshal.GetArrayDataReference t.Tape
        let mutable p = t.TapeLength
        for i = count - 1 downto 0 do
            let kind = Unsafe.Add(&kinds, i)
            if isCompact kind then p <- pushCompact &ar &tape kind p (Unsafe.Add(&ar, i))
            elif kind = NodeKind.Scalar then
                let g = Unsafe.Add(&ar, i)
                // a zero adjoint is a symbolic zero: a node that does not reach the seeded outputs
                // contributes nothing, even when its partial is NaN or ±∞ (e.g. the unused ∂/∂y of
                // x^y = x^y·log x at x < 0, recorded here by a nested level's rule)
                if g <> 0.0 then pushScalar &ar &arg0 &arg1 &d0 &d1 i g
            elif kind = NodeKind.Element then
                let g = a[i]
                if g <> 0.0 then
                    let b = adj.Buffer t.Arg0[i]
                    b[t.Arg1[i]] <- b[t.Arg1[i]] + g
            elif kind = NodeKind.Vector then
                let op = t.Ops[t.Arg0[i]]
                if not (adj.Untouched op.Out) then op.Vjp adj
        if p <> 0 then invalidOp (sprintf "Hybrid internal error: a sweep ended %d units into the compact tape." p)
        // a kept store (SecondOrderTape's) is read by replays that may run on several threads:
        // nothing is left to be written out on first read
        adj.WriteOutUniforms()

    /// The loop of `gradient` over adjoint array `a` (all zeros, seeded here with 1 at `output`):
    /// nodes count − 1 down to `stop`, each slot cleared once read; an Input slot in
    /// [first, first + grad.Length) writes its adjoint into grad. With `stop` = first + n (the
    /// in-place form, `gradientOf`) the n input slots are not visited: their adjoints stay in `a`.
    let private sweepGradient (t: Trace) (a: float[]) (output: int) (stop: int) (first: int) (grad: Span<float>) =
        let count = t.Count
        if a.Length < count || t.Kinds.Length < count || output < 0 || output >= count then
            invalidOp (sprintf "Hybrid internal error: a gradient sweep over %d nodes from slot %d was given %d adjoints." count output a.Length)
        let adj = Store(a, t.OpLengths, false)
        try
            a[output] <- 1.0
            let ar = &MemoryMarshal.GetArrayDataReference a
            let kinds = &MemoryMarshal.GetArrayDataReference t.Kinds
            let arg0 = &MemoryMarshal.GetArrayDataReference t.Arg0
            let arg1 = &MemoryMarshal.GetArrayDataReference t.Arg1
            let d0 = &MemoryMarshal.GetArrayDataReference t.D0
            let d1 = &MemoryMarshal.GetArrayDataReference t.D1
            let tape = &MemoryMarshal.GetArrayDataReference t.Tape
            let mutable p = t.TapeLength
            let n = grad.Length
            for i = count - 1 downto stop do
                let kind = Unsafe.Add(&kinds, i)
                let ai = &Unsafe.Add(&ar, i)
                let g = ai
                if isCompact kind then
                    ai <- 0.0
                    p <- pushCompact &ar &tape kind p g
                elif kind = NodeKind.Scalar then
                    if g <> 0.0 then // a symbolic zero, as in `reverse`
                        ai <- 0.0
                        pushScalar &ar &arg0 &arg1 &d0 &d1 i g
                elif kind = NodeKind.Input then
                    if g <> 0.0 then
                        ai <- 0.0
                        if uint (i - first) < uint n then grad[i - first] <- g
                elif kind = NodeKind.Element then
                    if g <> 0.0 then
                        ai <- 0.0
                        let b = adj.Buffer t.Arg0[i]
                        b[t.Arg1[i]] <- b[t.Arg1[i]] + g
                elif kind = NodeKind.Vector then
                    let op = t.Ops[t.Arg0[i]]
                    if not (adj.Untouched op.Out) then op.Vjp adj
                    ai <- 0.0 // a scalar op's output slot (Sum, Dot), read by its Vjp
                    // its output's adjoint is read by nothing after its rule (its readers came
                    // later on the tape): the buffer serves the next op's, so the sweep's
                    // adjoints stay in a few cache-warm buffers instead of one per op
                    adj.Recycle op.Out.Op
            // (the in-place form stops above its inputs, slots [0, n): no compact records below them)
            if p <> 0 then invalidOp (sprintf "Hybrid internal error: a gradient sweep ended %d units into the compact tape." p)
        finally
            adj.Release()

    /// The sweep of a gradient (Ad.Grad) on a bottom-level trace: as `reverse` seeded with 1 at
    /// slot `output`, writing the adjoints of the input slots [first, first + grad.Length) into
    /// grad (all zeros: it writes the adjoints that are not 0). It runs over the trace's own all-zero adjoint buffer and clears each slot once read
    /// (every slot is one node's and is read once, when the sweep reaches it), so the buffer is all
    /// zeros again afterwards without a clearing pass; an exception drops it.
    let gradient (t: Trace) (output: int) (first: int) (grad: Span<float>) =
        let a = t.TakeZeroAdjoints()
        sweepGradient t a output 0 first grad
        t.GiveZeroAdjoints a

    /// The gradient of Ad.Grad for the n input slots [first, first + n): `gradient` into a fresh
    /// array (returned with offset 0) — or, when the inputs are the trace's first slots (first = 0)
    /// and the other nodes are few (at most n/8: a function of whole-vector operations, one node
    /// each), the sweep's own adjoint array, fresh for the call, with the gradient at [0, n): the
    /// vector ops' rules add into the input slots and nothing copies them out, clears them or
    /// visits the n input nodes (at n = 10⁶ that is 25 of the ~340 bytes a sliced gradient moves
    /// per element). The caller owns the array either way; the values are bitwise the same (a slot's
    /// adjoint is a sum onto +0, never −0, which `gradient` copies out when it is not 0).
    let gradientOf (t: Trace) (output: int) (first: int) (n: int) : struct (float[] * int) =
        if GradientForm.InPlace && first = 0 && 8L * int64 (t.Count - n) <= int64 n then
            let a = Array.zeroCreate t.Count
            sweepGradient t a output n 0 Span<float>.Empty
            struct (a, 0)
        else
            let g = Array.zeroCreate n
            gradient t output first (Span<float> g)
            struct (g, 0)

    /// The gradient of Ad.GradInto for the input slots [first, first + grad.Length) into grad: as
    /// `gradientOf`, the sweep stops above the inputs when they are the trace's first slots and the
    /// other nodes are few, over the trace's own zero adjoints, whose first n slots are then copied
    /// into grad and cleared (two sequential passes, where `gradient` visits every input node);
    /// else `gradient`. Bitwise the same values either way (see `gradientOf`).
    let gradientInto (t: Trace) (output: int) (first: int) (grad: Span<float>) =
        let n = grad.Length
        if GradientForm.InPlace && first = 0 && 8L * int64 (t.Count - n) <= int64 n then
            let a = t.TakeZeroAdjoints()
            sweepGradient t a output n 0 Span<float>.Empty
            let s = Span<float>(a, 0, n)
            s.CopyTo grad
            s.Clear()
            t.GiveZeroAdjoints a
        else
            grad.Clear()
            gradient t output first grad

    /// A fresh store for w directions per slot (scalars zeroed).
    let storeOf (t: Trace) (w: int) = Store(Buffers.RentZeroed(t.Count * w), t.OpLengths, true, w)

    /// Runs a vector op's tangent rule on every direction of the stores: at once when it is
    /// Batched, else one direction at a time.
    let private eachDirection (op: VecOp) (w: int) (stores: Store list) (run: unit -> unit) =
        if w = 1 || op.Batched then run ()
        else
            for j in 0 .. w - 1 do
                for s in stores do s.Direction <- j
                run ()
            for s in stores do s.Direction <- -1

    /// The tangent pass of a replay: `tan` holds the input slots' tangents (Width directions);
    /// afterwards every slot's tangents. The forward mode of a recorded tape.
    let forwardTangents (t: Trace) (tan: Store) =
        let s = tan.Scalars
        let w = tan.Width
        let kinds = t.Kinds
        let arg0 = t.Arg0
        let arg1 = t.Arg1
        let mutable p = 0
        for i = 0 to t.Count - 1 do
            match kinds[i] with
            | kind when kind = NodeKind.Scalar || isCompact kind ->
                let mutable j = -1
                let mutable k = -1
                let mutable d0 = 0.0
                let mutable d1 = 0.0
                operands t kind i &p &j &k &d0 &d1
                if w = 1 then
                    s[i] <- (if j >= 0 then d0 * s[j] else 0.0) + (if k >= 0 then d1 * s[k] else 0.0)
                else
                    let o = i * w
                    for q in 0 .. w - 1 do
                        s[o + q] <- (if j >= 0 then d0 * s[j * w + q] else 0.0) + (if k >= 0 then d1 * s[k * w + q] else 0.0)
            | NodeKind.Element ->
                let b = tan.Buffer arg0[i]
                for q in 0 .. w - 1 do s[i * w + q] <- b[arg1[i] * w + q]
            | NodeKind.Vector ->
                let op = t.Ops[arg0[i]]
                eachDirection op w [ tan ] (fun () -> op.Jvp tan)
            | _ -> ()

    /// The adjoint-tangent pass of the replay (the tangent of `reverse` along `tan`): with `adj`
    /// from `reverse` seeded at the output (one direction), `adjT` (Width directions, like `tan`)
    /// ends holding H·V at the input slots.
    let reverseTangents (t: Trace) (adj: Store) (tan: Store) (adjT: Store) =
        let a = adj.Scalars
        let s = tan.Scalars
        let at = adjT.Scalars
        let w = tan.Width
        let kinds = t.Kinds
        let arg0 = t.Arg0
        let arg1 = t.Arg1
        // second partials exist on SecondOrder traces only, which are never Plain: no compact nodes
        if t.TapeLength > 0 then invalidOp "Hybrid internal error: a tangent replay of a trace without second partials."
        for i = t.Count - 1 downto 0 do
            match kinds[i] with
            | NodeKind.Scalar ->
                let g = a[i]
                let j = arg0[i]
                let k = arg1[i]
                let d0 = t.D0[i]
                let d1 = t.D1[i]
                let h00 = t.H00[i] * g
                let h01 = t.H01[i] * g
                let h11 = t.H11[i] * g
                for q in 0 .. w - 1 do
                    let gt = at[i * w + q]
                    if g <> 0.0 || gt <> 0.0 then // symbolic zeros, as in `reverse`
                        // an absent (constant) argument has no tangent: its second partials must not
                        // enter at all (h01 may be ±∞ where its tangent would be 0, e.g. x / 1e-200)
                        if j >= 0 then
                            let tj = s[j * w + q]
                            let cross = if k >= 0 then h01 * s[k * w + q] else 0.0
                            at[j * w + q] <- at[j * w + q] + d0 * gt + h00 * tj + cross
                        if k >= 0 then
                            let tk = s[k * w + q]
                            let cross = if j >= 0 then h01 * s[j * w + q] else 0.0
                            at[k * w + q] <- at[k * w + q] + d1 * gt + cross + h11 * tk
            | NodeKind.Element ->
                let b = adjT.Buffer arg0[i]
                for q in 0 .. w - 1 do
                    let g = at[i * w + q]
                    if g <> 0.0 then b[arg1[i] * w + q] <- b[arg1[i] * w + q] + g
            | NodeKind.Vector ->
                let op = t.Ops[arg0[i]]
                if not (adj.Untouched op.Out && adjT.Untouched op.Out) then
                    eachDirection op w [ tan; adjT ] (fun () -> op.VjpTangent(adj, tan, adjT))
            | _ -> ()
