namespace Hybrid.Kernel

open System

/// A read-only run of doubles: `Arr[Off .. Off + Len − 1]`. Length 1 broadcasts.
[<Struct>]
type internal View =
    { Arr: float[]; Off: int; Len: int }
    member inline v.Item(k: int) = if v.Len = 1 then v.Arr[v.Off] else v.Arr[v.Off + k]

/// A partial derivative per element: an array view, or one constant for every element.
[<Struct>]
type internal Partial =
    { View: View; Const: float; IsConst: bool }
    static member Of(c: float) = { View = Unchecked.defaultof<View>; Const = c; IsConst = true }
    static member Of(v: View) = { View = v; Const = 0.0; IsConst = false }
    member inline p.Item(k: int) = if p.IsConst then p.Const else p.View[k]

// The vector primitives. Each holds what its rules need (partials computed while the value was,
// so the rules never re-dispatch on the function) and owns its jvp, vjp and second-order rule.
// A length-1 operand broadcasts: its tangent is reused, its adjoint receives the sum. All are
// `Batched`: tangents come `w = Store.Width` per element, direction-fastest (element e, direction j
// at e·w + j); adjoints are always one per element.

/// Elementwise f(x) for a rule-table function: y' = f'(x)·x'.
[<Sealed>]
type internal MapOp(x: VecRef, d: float[], d2: float[], n: int, out: VecRef) =
    inherit VecOp(out)
    override _.Batched = true
    override _.Jvp(tan) =
        let w = tan.Width
        let tx = tan.Span x
        let ty = tan.Out out
        for e in 0 .. n - 1 do
            let de = d[e]
            for j in e * w .. e * w + w - 1 do ty[j] <- de * tx[j]
    override _.Vjp(adj) =
        // spans of exactly n elements, so the JIT drops the bounds checks in the loops
        let g = (adj.Span out).Slice(0, n)
        let ds = ReadOnlySpan<float>(d, 0, n)
        let mutable assign = false
        let ax = (adj.Target(x, &assign)).Slice(0, n)
        if assign then for k in 0 .. n - 1 do ax[k] <- ds[k] * g[k]
        else for k in 0 .. n - 1 do ax[k] <- ax[k] + ds[k] * g[k]
    override _.VjpTangent(adj, tan, adjT) =
        let w = tan.Width
        let g = adj.Span out
        let gt = adjT.Span out
        let tx = tan.Span x
        let ax = adjT.Span x
        for e in 0 .. n - 1 do
            let de = d[e]
            let ce = d2[e] * g[e]
            for j in e * w .. e * w + w - 1 do ax[j] <- ax[j] + de * gt[j] + ce * tx[j]

/// Elementwise f(x, y) for a binary rule, either side possibly a broadcast scalar or a constant
/// (`VecRef.None`): z' = f_x·x' + f_y·y'. Second partials (hxx, hxy, hyy) only on second-order traces.
[<Sealed>]
type internal ZipOp(x: VecRef, y: VecRef, dx: Partial, dy: Partial, hxx: Partial, hxy: Partial, hyy: Partial, n: int, out: VecRef) =
    inherit VecOp(out)
    /// Index of element e, direction j in a span that is broadcast (1 element) or not.
    static member inline private Ix(s: Span<float>, w: int, e: int, j: int) = if s.Length = w then j else e * w + j
    /// a[r] += d ⊙ g, or a sum into a broadcast r; assigns when r is an untouched whole buffer.
    /// A partial that is one number (a constant, or a broadcast view) and one stored per element get
    /// loops of their own, so no element tests the partial's kind or broadcast (the same products
    /// and sums in the same order as `d[e]` would give).
    static member private Pull(adj: Store, r: VecRef, d: Partial, g: Span<float>, n: int) =
        let one = d.IsConst || d.View.Len = 1
        let c = if d.IsConst then d.Const elif d.View.Len = 1 then d.View.Arr[d.View.Off] else 0.0
        let ds = if one then ReadOnlySpan<float>.Empty else ReadOnlySpan<float>(d.View.Arr, d.View.Off, n)
        let g = g.Slice(0, n)
        if r.Length = 1 && n > 1 then
            let a = adj.Span r
            let mutable s = 0.0
            if one then for e in 0 .. n - 1 do s <- s + c * g[e]
            else for e in 0 .. n - 1 do s <- s + ds[e] * g[e]
            a[0] <- a[0] + s
        else
            let mutable assign = false
            let a = (adj.Target(r, &assign)).Slice(0, n)
            if assign then
                if one then for e in 0 .. n - 1 do a[e] <- c * g[e]
                else for e in 0 .. n - 1 do a[e] <- ds[e] * g[e]
            elif one then for e in 0 .. n - 1 do a[e] <- a[e] + c * g[e]
            else for e in 0 .. n - 1 do a[e] <- a[e] + ds[e] * g[e]
    static member inline private At(s: Span<float>, w: int, e: int, j: int) =
        if s.Length = 0 then 0.0 elif s.Length = w then s[j] else s[e * w + j]
    override _.Batched = true
    override _.Jvp(tan) =
        let w = tan.Width
        let tz = tan.Out out
        tz.Clear()
        if not x.IsNone then
            let tx = tan.Span x
            for e in 0 .. n - 1 do
                for j in 0 .. w - 1 do tz[e * w + j] <- tz[e * w + j] + dx[e] * tx[ZipOp.Ix(tx, w, e, j)]
        if not y.IsNone then
            let ty = tan.Span y
            for e in 0 .. n - 1 do
                for j in 0 .. w - 1 do tz[e * w + j] <- tz[e * w + j] + dy[e] * ty[ZipOp.Ix(ty, w, e, j)]
    override _.Vjp(adj) =
        let g = adj.Span out
        if not x.IsNone then ZipOp.Pull(adj, x, dx, g, n)
        if not y.IsNone then ZipOp.Pull(adj, y, dy, g, n)
    override _.VjpTangent(adj, tan, adjT) =
        let w = tan.Width
        let g = adj.Span out
        let gt = adjT.Span out
        let tx = if x.IsNone then Span<float>.Empty else tan.Span x
        let ty = if y.IsNone then Span<float>.Empty else tan.Span y
        if not x.IsNone then
            let ax = adjT.Span x
            for e in 0 .. n - 1 do
                for j in 0 .. w - 1 do
                    let i = ZipOp.Ix(ax, w, e, j)
                    let cross = if y.IsNone then 0.0 else hxy[e] * ZipOp.At(ty, w, e, j) // a constant side has no tangent
                    ax[i] <- ax[i] + dx[e] * gt[e * w + j] + (hxx[e] * ZipOp.At(tx, w, e, j) + cross) * g[e]
        if not y.IsNone then
            let ay = adjT.Span y
            for e in 0 .. n - 1 do
                for j in 0 .. w - 1 do
                    let i = ZipOp.Ix(ay, w, e, j)
                    let cross = if x.IsNone then 0.0 else hxy[e] * ZipOp.At(tx, w, e, j)
                    ay[i] <- ay[i] + dy[e] * gt[e * w + j] + (cross + hyy[e] * ZipOp.At(ty, w, e, j)) * g[e]

/// Σ x: a scalar (its output is the op node's own slot).
[<Sealed>]
type internal SumOp(x: VecRef, n: int, out: VecRef) =
    inherit VecOp(out)
    override _.Batched = true
    override _.Jvp(tan) =
        let w = tan.Width
        let tx = tan.Span x
        let ts = tan.Out out
        ts.Clear()
        for e in 0 .. n - 1 do
            for j in 0 .. w - 1 do ts[j] <- ts[j] + tx[e * w + j]
    override _.Vjp(adj) =
        let g = (adj.Span out)[0]
        let mutable assign = false
        let ax = adj.Target(x, &assign)
        if assign then ax.Fill g
        else for k in 0 .. n - 1 do ax[k] <- ax[k] + g
    override _.VjpTangent(_, _, adjT) =
        let w = adjT.Width
        let gt = adjT.Span out
        let ax = adjT.Span x
        for e in 0 .. n - 1 do
            for j in 0 .. w - 1 do ax[e * w + j] <- ax[e * w + j] + gt[j]
