namespace Hybrid.Kernel

open System

/// How a Jacobian is formed: columns J·eⱼ pushed forward, rows eᵢᵀJ pulled back, or forward when
/// n ≤ m and reverse otherwise (m is known from one recording of f).
type internal JacobianWay =
    | Forward = 0
    | Reverse = 1
    | ByShape = 2

/// The linearisation of f at a fixed x: f(x) and v ↦ J·v, either replaying one top-level recording
/// forward or running f with a tangent per call (see `Compose`). Disposing it gives the recording back.
[<Sealed>]
type internal Linearization internal (output: Vec, push: Func<Vec, Vec>, recording: Pullback option) =
    /// f(x).
    member _.Output = output
    /// J·v; differentiable in v and, inside another transform, in x.
    member _.Apply(v: Vec) : Vec = push.Invoke v
    interface IDisposable with
        member _.Dispose() = recording |> Option.iter (fun r -> r.Release())

/// Transforms built by composing the mechanisms of `Ad`, with the one mode decision the kernel owns:
///
/// **Top level or nested.** At the top level (no trace active on this thread, x a constant) f is
/// recorded once — with second partials for Hessians — and every direction is a replay of that
/// recording in plain doubles, k directions per pass, with no re-run of f. Inside another transform
/// (or for a traced x) the transforms are literally their compositions — Hessian = JacFwd(Grad f),
/// Hvp = Jvp(Grad f), JacFwd = one Jvp pass per basis tangent — on nested traces, so the results
/// stay differentiable by the enclosing transforms; matrix primitives are one node per level there,
/// so the compositions run at BLAS speed too. Both give the same numbers (forward-over-reverse
/// either way); the replay is the faster of the two where it is possible (Rosenbrock n = 100:
/// 1.0 ms against 3.0 ms for JacFwd∘Grad).
[<AbstractClass; Sealed>]
type internal Compose =

    /// The rule above: true when f can be recorded once at x and replayed (no active trace, x constant).
    static member private AtTopLevel(x: Vec) = Traces.Depth = 0 && x.IsConstant

    /// An m×n matrix with no elements (m or n is 0).
    static member private Empty(m: int, n: int) = Mat(Vec(Array.empty<float>), m, n)

    /// Jᵀeᵢ for every basis cotangent eᵢ (the rows of J): m sweeps of one recording.
    static member private PullBackBasis(recording: Pullback, m: int) : Mat =
        let e = Array.zeroCreate m
        let rows =
            Array.init m (fun i ->
                e[i] <- 1.0
                let r = recording.Apply(Vec e) // e is read during the call only
                e[i] <- 0.0
                r)
        Mat.OfRows rows

    /// J·eⱼ for every basis vector eⱼ (the columns of J). With a top-level recording: forward
    /// replays carrying k basis tangents each, k as wide as the tangent stores allow
    /// (`Pullback.BlockWidth`; ⌈n/k⌉ passes, none re-running f).
    /// Otherwise one Jvp pass of f per column, differentiable by the enclosing transforms.
    static member private PushForwardBasis(owner: string, f: Func<Vec, Vec>, x: Vec, recording: Pullback option) : Vec[] =
        let n = x.Length
        let columns = Array.zeroCreate<Vec> n
        match recording with
        | Some recording when recording.CanPushForward ->
            let m = recording.OutputCount
            let width = recording.BlockWidth n
            let mutable first = 0
            while first < n do
                let k = min width (n - first)
                let basis = Array.zeroCreate (n * k)
                for j in 0 .. k - 1 do basis[first + j + j * n] <- 1.0
                let block = recording.PushForwardBlock(basis, k)
                for j in 0 .. k - 1 do columns[first + j] <- Vec(Array.sub block (j * m) m)
                first <- first + k
        | _ ->
            let e = Array.zeroCreate n
            for j in 0 .. n - 1 do
                e[j] <- 1.0
                let struct (_, t) = Ad.Jvp(owner, f, x, Vec e) // e is read during the call only
                columns[j] <- t
                e[j] <- 0.0
                if t.Length <> columns[0].Length then
                    invalidOp (sprintf "%s: the function returned %d outputs for the tangent e%d but %d before; its output length must not depend on the tangent or cotangent."
                                   owner t.Length j columns[0].Length)
        columns

    /// The m×n Jacobian J[i, j] = ∂fᵢ/∂xⱼ of f at x, formed the given way. A reverse or by-shape
    /// Jacobian records f once (which tells m) and pulls back the m basis cotangents; a forward one
    /// replays a top-level recording, or runs one Jvp pass per column when nested (a by-shape
    /// choice of forward inside a transform costs that one recording more than Forward).
    static member Jacobian(owner: string, f: Func<Vec, Vec>, x: Vec, way: JacobianWay) : Mat =
        if isNull f then nullArg "f"
        if isNull x then nullArg "x"
        let n = x.Length
        if n = 0 then invalidArg "x" (sprintf "%s: x is empty; a Jacobian needs at least one input." owner)
        let mutable recording: Pullback option = None
        try
            let mutable result: Mat = null
            if way <> JacobianWay.Forward || Compose.AtTopLevel x then
                let struct (y, pb) = Ad.Vjp(owner, f, x)
                recording <- Some pb
                let m = y.Length
                if m = 0 then result <- Compose.Empty(0, n)
                elif way = JacobianWay.Reverse || (way = JacobianWay.ByShape && m < n) then
                    result <- Compose.PullBackBasis(pb, m)
            if isNull result then
                let columns = Compose.PushForwardBasis(owner, f, x, recording)
                result <- if columns[0].Length = 0 then Compose.Empty(0, n) else Mat.OfColumns columns
            result
        finally
            recording |> Option.iter (fun r -> r.Release())

    /// The n×n Hessian H[i, j] = ∂²f/∂xᵢ∂xⱼ, forward-over-reverse: at the top level the second-order
    /// tape replayed with k unit directions per pass (symmetrised); otherwise JacFwd(Grad f).
    static member Hessian(owner: string, f: Func<Vec, Real>, x: Vec) : Mat =
        if isNull f then nullArg "f"
        if isNull x then nullArg "x"
        if Compose.AtTopLevel x then
            let tape = Ad.RecordSecondOrder(owner, f, x)
            try Mat(tape.Hessian()) finally tape.Release()
        else
            let grad = Func<Vec, Vec>(fun u -> let struct (_, g) = Ad.Grad(owner, f, u) in g)
            Compose.Jacobian(owner, grad, x, JacobianWay.Forward)

    /// H·v without forming H, forward-over-reverse: at the top level (and v constant) one recording
    /// with second partials and one forward and one reverse replay; otherwise Jvp(Grad f, x, v).
    static member Hvp(owner: string, f: Func<Vec, Real>, x: Vec, v: Vec) : Vec =
        if isNull f then nullArg "f"
        if isNull x then nullArg "x"
        if isNull v then nullArg "v"
        if Compose.AtTopLevel x && v.IsConstant then
            let tape = Ad.RecordSecondOrder(owner, f, x)
            try Vec(tape.Hvp(v.ToArray())) finally tape.Release()
        else
            let grad = Func<Vec, Vec>(fun u -> let struct (_, g) = Ad.Grad(owner, f, u) in g)
            let struct (_, hv) = Ad.Jvp(owner, grad, x, v)
            hv

    /// f(x) and v ↦ J·v: at the top level one recording replayed forward per call (differentiable
    /// in v, its transpose the recording's pullback); otherwise one Jvp pass of f per call.
    static member Linearize(owner: string, f: Func<Vec, Vec>, x: Vec) : Linearization =
        if isNull f then nullArg "f"
        if isNull x then nullArg "x"
        if Compose.AtTopLevel x then
            let struct (y, recording) = Ad.Vjp(owner, f, x)
            new Linearization(y, Func<Vec, Vec>(fun v -> recording.Push v), Some recording)
        else
            let y = f.Invoke x
            new Linearization(y, Func<Vec, Vec>(fun v -> let struct (_, t) = Ad.Jvp(owner, f, x, v) in t), None)

    /// f recorded at x for a Newton step: value and gradient now, the Hessian and Hvps on demand.
    static member SecondOrderAt(owner: string, f: Func<Vec, Real>, x: Vec) : SecondOrder =
        if isNull f then nullArg "f"
        if isNull x then nullArg "x"
        if Compose.AtTopLevel x then
            let tape = Ad.RecordSecondOrder(owner, f, x)
            new SecondOrder(owner, f, x, Some tape, tape.Value, tape.Gradient)
        else
            let struct (value, g) = Ad.Grad(owner, f, x)
            new SecondOrder(owner, f, x, None, value.Value, g.ToArray())

/// f at a point, in doubles, for solvers: f(x), ∇f(x), and on demand the dense Hessian and H·v. At
/// the top level these are replays of one second-order tape (no re-run of f); inside another
/// transform they are `Compose.Hessian` and `Compose.Hvp` (JacFwd∘Grad and Jvp∘Grad) at x.
and [<Sealed>] internal SecondOrder internal (owner: string, f: Func<Vec, Real>, x: Vec, tape: SecondOrderTape option, value: float, gradient: float[]) =
    /// f(x).
    member _.Value = value
    /// ∇f(x) (the point's own array).
    member _.Gradient = gradient
    /// The dense n×n Hessian.
    member _.Hessian() : float[,] =
        match tape with
        | Some tape -> tape.Hessian()
        | None -> (Compose.Hessian(owner, f, x)).ToArray()
    /// H·v.
    member _.Hvp(v: float[]) : float[] =
        match tape with
        | Some tape -> tape.Hvp v
        | None -> (Compose.Hvp(owner, f, x, Vec v)).ToArray()
    /// Gives the tape's buffers back (nothing to give when nested).
    member _.Release() = tape |> Option.iter (fun t -> t.Release())
    interface IDisposable with
        member p.Dispose() = p.Release()
