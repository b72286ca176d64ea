namespace Hybrid.Kernel

open System
open System.Threading

/// Replays of a recorded trace in plain doubles.
module internal Replay =
    /// How many of n directions one replay of t carries: as many as fit in about 256 MB of tangents
    /// per store (at most 256), so a matrix primitive sees one wide block — a dgemm packs its
    /// matrix once per block, and with 16 directions at a time that packing dominates (the
    /// logistic JacFwd∘Grad, X of 20 000 × 200).
    let blockWidth (t: Trace) (n: int) =
        let perDirection = t.Count + Seq.sum t.OpLengths
        max 1 (min n (min 256 (32_000_000 / max 1 perDirection)))

/// A recorded reverse trace kept alive for its pullback (`Ad.Vjp`): pull a cotangent of the
/// outputs back to the inputs as many times as needed, from any thread.
[<Sealed>]
type internal Pullback internal (t: Trace, input: Vec, inputCount: int, outputs: Real[], owner: string) =
    let inputs = input.Ref.Slot // bottom-level recordings: the inputs' first slot
    let tid = t.Id // the trace is closed (its id retired) once Vjp returns
    let mutable released = 0
    let checkLive () =
        if Volatile.Read &released = 1 then
            raise (ObjectDisposedException(owner, sprintf "%s: this recording was disposed (its memory given back); call %s again to record the function anew." owner owner))

    /// Jᵀg for cotangent values g (one sweep of the bottom-level recording).
    let pull (g: float[]) : float[] =
        checkLive ()
        let adj = Sweep.store t
        for k in 0 .. outputs.Length - 1 do
            let r = outputs[k]
            if r.Tid = tid then adj.Scalars[r.I] <- adj.Scalars[r.I] + g[k]
        Sweep.reverse t adj
        let x = Array.sub adj.Scalars inputs inputCount
        adj.Release()
        x

    /// J·v for tangent values v (one forward replay of the bottom-level recording).
    let push (v: float[]) : float[] =
        checkLive ()
        let tan = Sweep.store t
        Array.blit v 0 tan.Scalars inputs inputCount
        Sweep.forwardTangents t tan
        let r = outputs |> Array.map (fun o -> if o.Tid = tid then tan.Scalars[o.I] else 0.0)
        tan.Release()
        r

    /// The checks before a forward replay with n·k tangent values (k directions).
    let checkForward (name: string) (length: int) (k: int) =
        checkLive ()
        if k < 1 then invalidArg "k" (sprintf "%s: %d directions were asked for; a forward replay needs at least one." owner k)
        if length <> inputCount * k then
            invalidArg name (sprintf "%s: the tangent has %d values but x has length %d (%d direction%s)." owner length inputCount k (if k = 1 then "" else "s"))
        if t.Nested then invalidOp (sprintf "%s: a nested recording cannot be replayed forward; use Ad.Jvp." owner)

    /// Number of outputs (the cotangent's length).
    member _.OutputCount = outputs.Length
    /// Number of inputs (the tangent's length).
    member _.InputCount = inputCount

    /// uᵀJ for a cotangent u of the outputs. The result is differentiable in u wherever u is
    /// (uᵀJ is linear in u: its derivative is Jᵀ, its transpose J, both replays of this recording),
    /// and, for a recording made inside another transform, in the values of the level below.
    member _.Apply(u: Vec) : Vec =
        checkLive ()
        if isNull u then nullArg "u"
        if u.Length <> outputs.Length then
            invalidArg "u" (sprintf "%s pullback: the cotangent has length %d but the function has %d outputs; pass one cotangent per output." owner u.Length outputs.Length)
        if not t.Nested then LinearMap.Apply(u, inputCount, pull, push)
        else
            // a nested recording holds differentiable partials: sweep in the arithmetic below
            let adj = Array.zeroCreate<Real> t.Count
            let touched = Array.zeroCreate<bool> t.Count
            for k in 0 .. outputs.Length - 1 do
                let r = outputs[k]
                if r.Tid = tid then
                    adj[r.I] <- (if touched[r.I] then adj[r.I] + u[k] else u[k])
                    touched[r.I] <- true
            let opAdj = NestedSweep.reverse t adj touched
            NestedSweep.adjointOf tid input adj touched opAdj

    /// Gives the recording's buffers and trace back for reuse; the pullback throws
    /// ObjectDisposedException afterwards. Without it the GC reclaims them.
    member _.Release() =
        if Interlocked.Exchange(&released, 1) = 0 then DetachedTraces.Give t
    interface IDisposable with
        member p.Dispose() = p.Release()
    /// True when the recording can also be replayed forward (a bottom-level trace: plain doubles).
    member _.CanPushForward = not t.Nested
    /// Directions per forward replay for n of them (`Replay.blockWidth`).
    member _.BlockWidth(n: int) = Replay.blockWidth t n
    /// J·v by replaying the same recording forward (no re-run of f), one cheap pass per tangent
    /// (JacFwd replays k tangents at once with PushForwardBlock; Linearize uses the differentiable Push).
    member _.PushForward(v: float[]) : float[] =
        if isNull v then nullArg "v"
        checkForward "v" v.Length 1
        push v

    /// J·v for a tangent v by replaying the recording forward, differentiable in v (J·v is linear
    /// in v: its transpose is this recording's pullback). Bottom-level recordings only.
    member _.Push(v: Vec) : Vec =
        if isNull v then nullArg "v"
        checkForward "v" v.Length 1
        LinearMap.Apply(v, outputs.Length, push, pull)

    /// J·V for k tangents at once (V is n×k column-major): one forward replay carrying k tangents
    /// per slot (chunked forward mode, as ForwardDiff's chunks, without re-running f). Returns m×k.
    member _.PushForwardBlock(v: float[], k: int) : float[] =
        if isNull v then nullArg "v"
        checkForward "v" v.Length k
        let tan = Sweep.storeOf t k
        for j in 0 .. k - 1 do
            for i in 0 .. inputCount - 1 do tan.Scalars[(inputs + i) * k + j] <- v[i + j * inputCount]
        Sweep.forwardTangents t tan
        let m = outputs.Length
        let r = Array.zeroCreate (m * k)
        for i in 0 .. m - 1 do
            let o = outputs[i]
            if o.Tid = tid then
                for j in 0 .. k - 1 do r[i + j * m] <- tan.Scalars[o.I * k + j]
        tan.Release()
        r

/// A function recorded once with second partials (forward-over-reverse on the tape): its value,
/// gradient, and Hessian-vector products by replaying the tape in doubles, without re-running f.
[<Sealed>]
type internal SecondOrderTape internal (t: Trace, inputs: int, n: int, output: Real) =
    let mutable released = 0
    let adj =
        let a = Sweep.store t
        if output.Tid = t.Id then
            a.Scalars[output.I] <- 1.0
            Sweep.reverse t a
        a
    /// f(x).
    member _.Value = output.V
    /// ∇f(x).
    member _.Gradient = Array.sub adj.Scalars inputs n
    /// The number of inputs.
    member _.Length = n
    /// H·v, one forward and one reverse replay of the tape.
    member _.Hvp(v: float[]) : float[] =
        if released = 1 then invalidOp "Hvp: this second-order tape was released; record again."
        if isNull v then nullArg "v"
        if v.Length <> n then invalidArg "v" (sprintf "Hvp: the direction has length %d but x has length %d." v.Length n)
        let tan = Sweep.store t
        Array.blit v 0 tan.Scalars inputs n
        Sweep.forwardTangents t tan
        let adjT = Sweep.store t
        Sweep.reverseTangents t adj tan adjT
        let r = Array.sub adjT.Scalars inputs n
        tan.Release()
        adjT.Release()
        r
    /// H·V for k directions at once (V is n×k column-major): one forward and one reverse replay
    /// carrying k tangents per slot, so matrix primitives do matrix–matrix products. Returns n×k.
    member _.HvpBlock(v: float[], k: int) : float[] =
        if released = 1 then invalidOp "HvpBlock: this second-order tape was released; record again."
        if isNull v then nullArg "v"
        if k < 1 || v.Length <> n * k then invalidArg "v" (sprintf "HvpBlock: V has %d values, expected n·k = %d·%d." v.Length n k)
        let tan = Sweep.storeOf t k
        for j in 0 .. k - 1 do
            for i in 0 .. n - 1 do tan.Scalars[(inputs + i) * k + j] <- v[i + j * n]
        Sweep.forwardTangents t tan
        let adjT = Sweep.storeOf t k
        Sweep.reverseTangents t adj tan adjT
        let r = Array.zeroCreate (n * k)
        for j in 0 .. k - 1 do
            for i in 0 .. n - 1 do r[i + j * n] <- adjT.Scalars[(inputs + i) * k + j]
        tan.Release()
        adjT.Release()
        r
    /// The dense Hessian: replays of the tape carrying `chunk` unit directions at a time,
    /// symmetrised to remove rounding asymmetry.
    member s.Hessian(chunk: int) : float[,] =
        if chunk < 1 then invalidArg "chunk" "Hessian: the chunk size must be at least 1."
        let h = Array2D.zeroCreate n n
        let mutable first = 0
        while first < n do
            let k = min chunk (n - first)
            let e = Array.zeroCreate (n * k)
            for j in 0 .. k - 1 do e[first + j + j * n] <- 1.0
            let cols = s.HvpBlock(e, k)
            for j in 0 .. k - 1 do
                for i in 0 .. n - 1 do h[i, first + j] <- cols[i + j * n]
            first <- first + k
        for i in 0 .. n - 1 do
            for j in i + 1 .. n - 1 do
                let m = 0.5 * (h[i, j] + h[j, i])
                h[i, j] <- m
                h[j, i] <- m
        h
    /// The dense Hessian with a chunk chosen by size (`Replay.blockWidth`), so matrix primitives
    /// see wide blocks.
    member s.Hessian() = s.Hessian(Replay.blockWidth t n)
    /// Returns the tape's pooled buffers (the tape is unusable afterwards).
    member _.Release() =
        if Threading.Interlocked.Exchange(&released, 1) = 0 then
            adj.Release()
            DetachedTraces.Give t

/// The mechanisms the transforms are built from: run a function on a fresh trace, then read
/// tangents (forward) or sweep adjoints (reverse). Values in and out are of the level below the
/// trace, so every result is itself differentiable by any enclosing transform.
[<AbstractClass; Sealed>]
type internal Ad =

    /// The outputs of trace t as Reals (vector-op outputs become element nodes).
    static member private Outputs(t: Trace, y: Vec, owner: string) =
        if isNull y then invalidOp (sprintf "%s: the function returned null; return its result vector." owner)
        let ys = Array.init y.Length (fun k -> y[k])
        for r in ys do Ad.CheckResult(t, r)
        ys

    /// A result of trace t's function must be a constant, a value of t, or a value of a trace
    /// still open below t: a value of a closed trace (an earlier transform's, kept from its
    /// function) throws EscapedValueException instead of silently having no derivative.
    static member CheckResult(t: Trace, r: Real) =
        if r.Tid <> 0 && r.Tid <> t.Id then Traces.Find r.Tid |> ignore

    /// Throws EscapedValueException when x belongs to a trace that is no longer open on this thread.
    static member CheckLive(x: Real) = if x.Tid <> 0 then Traces.Find x.Tid |> ignore

    /// x as a value of the level enclosing the innermost trace — what an aux result of that trace's
    /// function becomes: its lower-level value when it belongs to the innermost trace (so enclosing
    /// transforms can differentiate it), itself when it is constant or belongs to an enclosing
    /// trace; a value of a closed trace throws EscapedValueException.
    static member Enclosing(x: Real) : Real =
        if x.Tid = 0 then x
        else
            let t = Traces.Top
            if not (isNull t) && x.Tid = t.Id then Real.Lower(t, x)
            else
                Traces.Find x.Tid |> ignore
                x

    /// Ad.Enclosing for every element of a vector (a constant vector is returned as it is).
    static member Enclosing(x: Vec) : Vec =
        if isNull x || x.IsConstant then x else Vec.OfReals(x.ToReals() |> Array.map (fun r -> Ad.Enclosing r))

    /// Ad.Enclosing for every element of a matrix.
    static member Enclosing(x: Mat) : Mat =
        if isNull x || x.IsConstant then x else Mat(Ad.Enclosing x.Data, x.Rows, x.Cols)

    /// The value of the level below for an output (itself when it does not depend on t).
    static member private Primal(t: Trace, r: Real) = if r.Tid = t.Id then Real.Lower(t, r) else r

    /// Forward mode: (f(x), J·v), one pass with tangents.
    static member Jvp(owner: string, f: Func<Vec, Vec>, x: Vec, v: Vec) : struct (Vec * Vec) =
        let t = Traces.Open(TraceKind.Forward, owner)
        let mutable ok = false
        try
            let n = x.Length
            let first = t.Count
            for i in 0 .. n - 1 do Real.Lift(t, x[i], v[i]) |> ignore
            let xt = Vec(Array.sub x.Arr x.Off n, 0, n, t, VecRef.Slots(first, n))
            let ys = Ad.Outputs(t, f.Invoke xt, owner)
            let primal = ys |> Array.map (fun r -> Ad.Primal(t, r))
            let tangent = ys |> Array.map (fun r -> if r.Tid = t.Id then Real.Tangent(t, r.I) else Real 0.0)
            ok <- true
            struct (Vec.OfReals primal, Vec.OfReals tangent)
        finally
            Traces.Close(t, false)

    /// Reverse mode: f(x) and its pullback u ↦ uᵀJ (reusable; keeps the tape alive).
    static member Vjp(owner: string, f: Func<Vec, Vec>, x: Vec) : struct (Vec * Pullback) =
        let t = Traces.Open(TraceKind.Reverse, owner)
        let mutable keep = false
        try
            let n = x.Length
            let xt = Vec.Input(t, x, null)
            let ys = Ad.Outputs(t, f.Invoke xt, owner)
            let primal = ys |> Array.map (fun r -> Ad.Primal(t, r))
            keep <- true
            struct (Vec.OfReals primal, new Pullback(t, xt, n, ys, owner))
        finally
            Traces.Close(t, keep)

    /// Reverse mode for a scalar function: (f(x), ∇f(x)) in one recording and one sweep.
    static member Grad(owner: string, f: Func<Vec, Real>, x: Vec) : struct (Real * Vec) =
        let t = Traces.Open(TraceKind.Reverse, owner)
        try
            let n = x.Length
            let xt = Vec.Input(t, x, null)
            let y = f.Invoke xt
            Ad.CheckResult(t, y)
            let value = Ad.Primal(t, y)
            if y.Tid <> t.Id then struct (value, Vec(Array.zeroCreate n))
            elif not t.Nested then
                let struct (g, at) = Sweep.gradientOf t y.I xt.Ref.Slot n
                struct (value, Vec(g, at, n, null, VecRef.None))
            else
                let adj = Array.zeroCreate<Real> t.Count
                let touched = Array.zeroCreate<bool> t.Count
                adj[y.I] <- Real 1.0
                touched[y.I] <- true
                let opAdj = NestedSweep.reverse t adj touched
                struct (value, NestedSweep.adjointOf t.Id xt adj touched opAdj)
        finally
            Traces.Close(t, false)

    /// Reverse mode into a caller's buffer: f(x), with ∇f(x) written into grad[0 .. x.Length − 1] —
    /// the sweep of `Grad` through the trace's kept all-zero adjoints, so no gradient array is made
    /// per call. Bottom level only (plain doubles cannot carry an enclosing transform's derivatives):
    /// x a constant, no trace open on this thread.
    static member GradInto(owner: string, f: Func<Vec, Real>, x: Vec, grad: Span<float>) : float =
        if Traces.Depth <> 0 || not x.IsConstant then
            invalidOp (sprintf "%s: the gradient written into a buffer of doubles cannot carry the derivatives of an enclosing transform; inside another transform call %s(f)(x), which returns a differentiable gradient." owner owner)
        let n = x.Length
        if grad.Length <> n then
            invalidArg "grad" (sprintf "%s: the gradient buffer has length %d but x has length %d; pass a buffer of x's length." owner grad.Length n)
        let t = Traces.Open(TraceKind.Reverse, owner)
        try
            let xt = Vec.Input(t, x, null)
            let y = f.Invoke xt
            Ad.CheckResult(t, y)
            if y.Tid = t.Id then Sweep.gradientInto t y.I xt.Ref.Slot grad else grad.Clear()
            y.V
        finally
            Traces.Close(t, false)

    /// Records f once at x with second partials, for value, gradient, Hvp and Hessian replays. The
    /// tape is a bottom-level recording: x must be a constant and no trace active on this thread
    /// (`Compose` decides when that holds and composes through nested traces otherwise).
    static member RecordSecondOrder(owner: string, f: Func<Vec, Real>, x: Vec) : SecondOrderTape =
        if Traces.Depth <> 0 || not x.IsConstant then invalidOp (sprintf "%s: a second-order tape needs a constant x outside other transforms." owner)
        let t = Traces.Open(TraceKind.Reverse, owner)
        t.EnableSecondOrder()
        let mutable keep = false
        try
            let n = x.Length
            let xt = Vec.Input(t, x, null)
            let y = f.Invoke xt
            Ad.CheckResult(t, y)
            let tape = SecondOrderTape(t, xt.Ref.Slot, n, y)
            keep <- true
            tape
        finally
            Traces.Close(t, keep)
