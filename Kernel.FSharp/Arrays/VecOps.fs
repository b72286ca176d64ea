namespace Hybrid.Kernel

open System

/// A read-only run of doubles: `Arr[Off .. Off + Len − 1]`. Length 1 broadcasts.
[<Struct>]
type View =
    { Arr: float[]; Off: int; Len: int }
    member inline v.Item(k: int) = if v.Len = 1 then v.Arr[v.Off] else v.Arr[v.Off + k]

/// A partial derivative per element: an array view, or one constant for every element.
[<Struct>]
type Partial =
    { View: View; Const: float; IsConst: bool }
    static member Of(c: float) = { View = Unchecked.defaultof<View>; Const = c; IsConst = true }
    static member Of(v: View) = { View = v; Const = 0.0; IsConst = false }
    member inline p.Item(k: int) = if p.IsConst then p.Const else p.View[k]

// The vector primitives. Each holds what its rules need (partials computed while the value was,
// so the rules never re-dispatch on the function) and owns its jvp, vjp and second-order rule.
// A length-1 operand broadcasts: its tangent is reused, its adjoint receives the sum.

/// Elementwise f(x) for a rule-table function: y' = f'(x)·x'.
[<Sealed>]
type MapOp(x: VecRef, d: float[], d2: float[], n: int, out: VecRef) =
    inherit VecOp(out)
    override _.Jvp(tan) =
        let tx = tan.Span x
        let ty = tan.Span out
        for k in 0 .. n - 1 do ty[k] <- d[k] * tx[k]
    override _.Vjp(adj) =
        let g = adj.Span out
        let ax = adj.Span x
        for k in 0 .. n - 1 do ax[k] <- ax[k] + d[k] * g[k]
    override _.VjpTangent(adj, tan, adjT) =
        let g = adj.Span out
        let gt = adjT.Span out
        let tx = tan.Span x
        let ax = adjT.Span x
        for k in 0 .. n - 1 do ax[k] <- ax[k] + d[k] * gt[k] + d2[k] * tx[k] * g[k]

/// Elementwise f(x, y) for a binary rule, either side possibly a broadcast scalar or a constant
/// (`VecRef.None`): z' = f_x·x' + f_y·y'. Second partials (hxx, hxy, hyy) only on second-order traces.
[<Sealed>]
type ZipOp(x: VecRef, y: VecRef, dx: Partial, dy: Partial, hxx: Partial, hxy: Partial, hyy: Partial, n: int, out: VecRef) =
    inherit VecOp(out)
    static member inline private Accumulate(a: Span<float>, k: int, v: float) =
        let j = if a.Length = 1 then 0 else k
        a[j] <- a[j] + v
    /// Element k of a tangent span that may be empty (constant: 0) or broadcast (length 1).
    static member inline private At(s: Span<float>, k: int) = if s.Length = 0 then 0.0 elif s.Length = 1 then s[0] else s[k]
    override _.Jvp(tan) =
        let tz = tan.Span out
        if x.IsNone then tz.Clear()
        else
            let tx = tan.Span x
            let bx = tx.Length = 1
            for k in 0 .. n - 1 do tz[k] <- dx[k] * tx[if bx then 0 else k]
        if not y.IsNone then
            let ty = tan.Span y
            let by = ty.Length = 1
            for k in 0 .. n - 1 do tz[k] <- tz[k] + dy[k] * ty[if by then 0 else k]
    override _.Vjp(adj) =
        let g = adj.Span out
        if not x.IsNone then
            let ax = adj.Span x
            for k in 0 .. n - 1 do ZipOp.Accumulate(ax, k, dx[k] * g[k])
        if not y.IsNone then
            let ay = adj.Span y
            for k in 0 .. n - 1 do ZipOp.Accumulate(ay, k, dy[k] * g[k])
    override _.VjpTangent(adj, tan, adjT) =
        let g = adj.Span out
        let gt = adjT.Span out
        let tx = if x.IsNone then Span<float>.Empty else tan.Span x
        let ty = if y.IsNone then Span<float>.Empty else tan.Span y
        if not x.IsNone then
            let ax = adjT.Span x
            for k in 0 .. n - 1 do
                ZipOp.Accumulate(ax, k, dx[k] * gt[k] + (hxx[k] * ZipOp.At(tx, k) + hxy[k] * ZipOp.At(ty, k)) * g[k])
        if not y.IsNone then
            let ay = adjT.Span y
            for k in 0 .. n - 1 do
                ZipOp.Accumulate(ay, k, dy[k] * gt[k] + (hxy[k] * ZipOp.At(tx, k) + hyy[k] * ZipOp.At(ty, k)) * g[k])

/// Σ x: a scalar (its output is the op node's own slot).
[<Sealed>]
type SumOp(x: VecRef, n: int, out: VecRef) =
    inherit VecOp(out)
    override _.Jvp(tan) =
        let tx = tan.Span x
        let mutable s = 0.0
        for k in 0 .. n - 1 do s <- s + tx[k]
        (tan.Span out)[0] <- s
    override _.Vjp(adj) =
        let g = (adj.Span out)[0]
        let ax = adj.Span x
        for k in 0 .. n - 1 do ax[k] <- ax[k] + g
    override _.VjpTangent(_, _, adjT) =
        let gt = (adjT.Span out)[0]
        let ax = adjT.Span x
        for k in 0 .. n - 1 do ax[k] <- ax[k] + gt

/// x·y = Σ xₖyₖ: a scalar. Either side may be a constant (`VecRef.None`).
[<Sealed>]
type DotOp(x: VecRef, y: VecRef, xv: View, yv: View, n: int, out: VecRef) =
    inherit VecOp(out)
    override _.Jvp(tan) =
        let mutable s = 0.0
        if not x.IsNone then
            let tx = tan.Span x
            for k in 0 .. n - 1 do s <- s + tx[k] * yv[k]
        if not y.IsNone then
            let ty = tan.Span y
            for k in 0 .. n - 1 do s <- s + xv[k] * ty[k]
        (tan.Span out)[0] <- s
    override _.Vjp(adj) =
        let g = (adj.Span out)[0]
        if not x.IsNone then
            let ax = adj.Span x
            for k in 0 .. n - 1 do ax[k] <- ax[k] + yv[k] * g
        if not y.IsNone then
            let ay = adj.Span y
            for k in 0 .. n - 1 do ay[k] <- ay[k] + xv[k] * g
    override _.VjpTangent(adj, tan, adjT) =
        let g = (adj.Span out)[0]
        let gt = (adjT.Span out)[0]
        if not x.IsNone then
            let ax = adjT.Span x
            let ty = if y.IsNone then Span<float>.Empty else tan.Span y
            for k in 0 .. n - 1 do
                ax[k] <- ax[k] + yv[k] * gt + (if ty.Length = 0 then 0.0 else ty[k] * g)
        if not y.IsNone then
            let ay = adjT.Span y
            let tx = if x.IsNone then Span<float>.Empty else tan.Span x
            for k in 0 .. n - 1 do
                ay[k] <- ay[k] + xv[k] * gt + (if tx.Length = 0 then 0.0 else tx[k] * g)
