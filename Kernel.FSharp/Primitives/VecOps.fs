namespace Hybrid.Kernel

open System
open System.Runtime.CompilerServices
open System.Runtime.InteropServices
open System.Runtime.Intrinsics

/// The elementwise loops of the vector ops' recording and rules, four doubles per step in
/// `Vector256` where the hardware has it (the JIT does not vectorise loops by itself). Each element
/// gets the same IEEE operations in the same order as the scalar loop (+, −, × lane by lane, no
/// fused multiply-add), so results are bitwise those of one element at a time. Spans are read and
/// written over exactly the output's length; callers pass inputs at least as long.
module internal Simd =
    let inline private ld (r: byref<float>) (k: int) = Vector256.LoadUnsafe(&r, unativeint k)
    let inline private st (v: Vector256<float>) (r: byref<float>) (k: int) = Vector256.StoreUnsafe(v, &r, unativeint k)
    /// A span as read-only (for these functions, which take no implicit conversions).
    let inline ro (s: Span<float>) : ReadOnlySpan<float> = Span<float>.op_Implicit s
    let private check (have: int) (need: int) =
        if have < need then invalidOp (sprintf "Hybrid internal error: an elementwise loop over %d elements was given %d." need have)

    /// The loop of `binary` for one operation (a length-1 side broadcasts).
    let inline private binaryLoop ([<InlineIfLambda>] vop: Vector256<float> -> Vector256<float> -> Vector256<float>) ([<InlineIfLambda>] sop: float -> float -> float)
                                  (x: ReadOnlySpan<float>) (y: ReadOnlySpan<float>) (v: Span<float>) =
        let n = v.Length
        let xb = x.Length = 1 && n > 1
        let yb = y.Length = 1 && n > 1
        if not xb then check x.Length n
        if not yb then check y.Length n
        let xr = &MemoryMarshal.GetReference x
        let yr = &MemoryMarshal.GetReference y
        let vr = &MemoryMarshal.GetReference v
        let mutable k = 0
        if xb && yb then
            let a = sop xr yr
            while k < n do
                Unsafe.Add(&vr, k) <- a
                k <- k + 1
        elif xb then
            let a = xr
            if Vector256.IsHardwareAccelerated then
                let av = Vector256.Create a
                while k <= n - 4 do
                    st (vop av (ld &yr k)) &vr k
                    k <- k + 4
            while k < n do
                Unsafe.Add(&vr, k) <- sop a (Unsafe.Add(&yr, k))
                k <- k + 1
        elif yb then
            let b = yr
            if Vector256.IsHardwareAccelerated then
                let bv = Vector256.Create b
                while k <= n - 4 do
                    st (vop (ld &xr k) bv) &vr k
                    k <- k + 4
            while k < n do
                Unsafe.Add(&vr, k) <- sop (Unsafe.Add(&xr, k)) b
                k <- k + 1
        else
            if Vector256.IsHardwareAccelerated then
                while k <= n - 4 do
                    st (vop (ld &xr k) (ld &yr k)) &vr k
                    k <- k + 4
            while k < n do
                Unsafe.Add(&vr, k) <- sop (Unsafe.Add(&xr, k)) (Unsafe.Add(&yr, k))
                k <- k + 1

    /// v[k] = x[k] ∘ y[k] for ∘ = +, −, × (`f` Add, Sub or Mul); a side of length 1 broadcasts.
    let binary (f: Fun2) (x: ReadOnlySpan<float>) (y: ReadOnlySpan<float>) (v: Span<float>) =
        match f with
        | Fun2.Add -> binaryLoop (fun a b -> a + b) (fun a b -> a + b) x y v
        | Fun2.Sub -> binaryLoop (fun a b -> a - b) (fun a b -> a - b) x y v
        | Fun2.Mul -> binaryLoop (fun a b -> a * b) (fun a b -> a * b) x y v
        | _ -> invalidOp (sprintf "Hybrid internal error: Simd.binary has no loop for %A." f)

    /// a[k] = t(s[k]) (assign) or a[k] += t(s[k]): the loop of the rules below for a term of one
    /// operand (`vop` on four lanes, `sop` on the tail: the same IEEE operations).
    let inline private intoLoop1 ([<InlineIfLambda>] vop: Vector256<float> -> Vector256<float>) ([<InlineIfLambda>] sop: float -> float)
                                 (s: ReadOnlySpan<float>) (a: Span<float>) (assign: bool) =
        let n = a.Length
        check s.Length n
        let sr = &MemoryMarshal.GetReference s
        let ar = &MemoryMarshal.GetReference a
        let mutable k = 0
        if Vector256.IsHardwareAccelerated then
            if assign then
                while k <= n - 4 do
                    st (vop (ld &sr k)) &ar k
                    k <- k + 4
            else
                while k <= n - 4 do
                    st (ld &ar k + vop (ld &sr k)) &ar k
                    k <- k + 4
        if assign then
            while k < n do
                Unsafe.Add(&ar, k) <- sop (Unsafe.Add(&sr, k))
                k <- k + 1
        else
            while k < n do
                Unsafe.Add(&ar, k) <- Unsafe.Add(&ar, k) + sop (Unsafe.Add(&sr, k))
                k <- k + 1

    /// a[k] = t(d[k], g[k]) (assign) or a[k] += t(d[k], g[k]): `intoLoop1` for a term of two operands.
    let inline private intoLoop2 ([<InlineIfLambda>] vop: Vector256<float> -> Vector256<float> -> Vector256<float>) ([<InlineIfLambda>] sop: float -> float -> float)
                                 (d: ReadOnlySpan<float>) (g: ReadOnlySpan<float>) (a: Span<float>) (assign: bool) =
        let n = a.Length
        check g.Length n
        check d.Length n
        let dr = &MemoryMarshal.GetReference d
        let gr = &MemoryMarshal.GetReference g
        let ar = &MemoryMarshal.GetReference a
        let mutable k = 0
        if Vector256.IsHardwareAccelerated then
            if assign then
                while k <= n - 4 do
                    st (vop (ld &dr k) (ld &gr k)) &ar k
                    k <- k + 4
            else
                while k <= n - 4 do
                    st (ld &ar k + vop (ld &dr k) (ld &gr k)) &ar k
                    k <- k + 4
        if assign then
            while k < n do
                Unsafe.Add(&ar, k) <- sop (Unsafe.Add(&dr, k)) (Unsafe.Add(&gr, k))
                k <- k + 1
        else
            while k < n do
                Unsafe.Add(&ar, k) <- Unsafe.Add(&ar, k) + sop (Unsafe.Add(&dr, k)) (Unsafe.Add(&gr, k))
                k <- k + 1

    /// v[k] = x[k]·x[k].
    let square (x: ReadOnlySpan<float>) (v: Span<float>) = intoLoop1 (fun a -> a * a) (fun a -> a * a) x v true

    /// a[k] = c·g[k] (assign) or a[k] += c·g[k].
    let scaleInto (c: float) (g: ReadOnlySpan<float>) (a: Span<float>) (assign: bool) =
        let cv = Vector256.Create c
        intoLoop1 (fun gk -> cv * gk) (fun gk -> c * gk) g a assign

    /// a[k] = d[k]·g[k] (assign) or a[k] += d[k]·g[k].
    let mulInto (d: ReadOnlySpan<float>) (g: ReadOnlySpan<float>) (a: Span<float>) (assign: bool) =
        intoLoop2 (fun dk gk -> dk * gk) (fun dk gk -> dk * gk) d g a assign

    /// a[k] = (2·x[k])·g[k] (assign) or a[k] += (2·x[k])·g[k]: the rule of x², its partial 2x
    /// recomputed from the operand instead of stored (the same products as a stored 2x).
    let twiceMulInto (x: ReadOnlySpan<float>) (g: ReadOnlySpan<float>) (a: Span<float>) (assign: bool) =
        let two = Vector256.Create 2.0
        intoLoop2 (fun xk gk -> (two * xk) * gk) (fun xk gk -> (2.0 * xk) * gk) x g a assign

    /// a[k] = d[k]·u (assign) or a[k] += d[k]·u: `mulInto` for a cotangent whose elements are all u.
    let mulByInto (d: ReadOnlySpan<float>) (u: float) (a: Span<float>) (assign: bool) =
        let uv = Vector256.Create u
        intoLoop1 (fun dk -> dk * uv) (fun dk -> dk * u) d a assign

    /// a[k] = (2·x[k])·u (assign) or a[k] += (2·x[k])·u: `twiceMulInto` for a cotangent whose
    /// elements are all u.
    let twiceByInto (x: ReadOnlySpan<float>) (u: float) (a: Span<float>) (assign: bool) =
        let two = Vector256.Create 2.0
        let uv = Vector256.Create u
        intoLoop1 (fun xk -> (two * xk) * uv) (fun xk -> (2.0 * xk) * u) x a assign

    /// a[k] += c.
    let addScalar (c: float) (a: Span<float>) =
        let n = a.Length
        let ar = &MemoryMarshal.GetReference a
        let mutable k = 0
        if Vector256.IsHardwareAccelerated then
            let cv = Vector256.Create c
            while k <= n - 4 do
                st (ld &ar k + cv) &ar k
                k <- k + 4
        while k < n do
            Unsafe.Add(&ar, k) <- Unsafe.Add(&ar, k) + c
            k <- k + 1

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

/// Cotangents whose elements are all one number (`Store.TrySetUniform`: a sum's, passed on by
/// rules with constant partials) are pulled without reading or writing memory where they can be.
module internal UniformAdjoint =
    /// Adds v to each of the n elements of r's adjoint — for r of length 1 broadcast over n > 1,
    /// the sum of the n v's, in order (the loop a cotangent of n equal elements runs) — and keeps
    /// it uniform when r is a whole op buffer nothing has touched.
    let pull (adj: Store) (r: VecRef) (v: float) (n: int) =
        if r.Length = 1 && n > 1 then
            let a = adj.Span r
            let mutable s = 0.0
            for _ in 0 .. n - 1 do s <- s + v
            a[0] <- a[0] + s
        elif not (adj.TrySetUniform(r, v)) then
            let mutable assign = false
            let a = (adj.Target(r, &assign)).Slice(0, n)
            if assign then a.Fill v else Simd.addScalar v a

/// Where a map's partial f'(x) comes from in its rules: stored per element while the value was
/// computed, or — when it is cheap — recomputed from the operand's values, so the recording writes
/// and the sweep reads one array fewer (the operand's values live until the trace closes).
type internal MapPartial =
    /// d[e], an array.
    | Stored = 0
    /// 2·x[e] (x²).
    | Twice = 1
    /// −1 (−x).
    | MinusOne = 2

/// Elementwise f(x) for a rule-table function: y' = f'(x)·x'. `xv` is the operand's values (read
/// by the `Twice` partial).
[<Sealed>]
type internal MapOp(x: VecRef, xv: View, kind: MapPartial, d: float[], d2: float[], n: int, out: VecRef) =
    inherit VecOp(out)
    /// A map whose partials are stored (`d`, and `d2` on second-order traces).
    new(x: VecRef, d: float[], d2: float[], n: int, out: VecRef) = MapOp(x, Unchecked.defaultof<View>, MapPartial.Stored, d, d2, n, out)
    /// f'(x[e]).
    member inline private _.D(e: int) =
        match kind with
        | MapPartial.Stored -> d[e]
        | MapPartial.Twice -> 2.0 * xv.Arr[xv.Off + e]
        | _ -> -1.0
    override _.Batched = true
    override o.Jvp(tan) =
        let w = tan.Width
        let tx = tan.Span x
        let ty = tan.Out out
        for e in 0 .. n - 1 do
            let de = o.D e
            for j in e * w .. e * w + w - 1 do ty[j] <- de * tx[j]
    override _.Vjp(adj) =
        // spans of exactly n elements; the loops are Simd's
        let mutable u = 0.0
        if adj.Uniform(out, &u) then
            // every element of the cotangent is u (a sum's): the same products, read from a register
            if kind = MapPartial.MinusOne then UniformAdjoint.pull adj x (-1.0 * u) n
            else
                let mutable assign = false
                let ax = (adj.Target(x, &assign)).Slice(0, n)
                if kind = MapPartial.Stored then Simd.mulByInto (ReadOnlySpan<float>(d, 0, n)) u ax assign
                else Simd.twiceByInto (ReadOnlySpan<float>(xv.Arr, xv.Off, n)) u ax assign
        else
            let g = Simd.ro ((adj.Span out).Slice(0, n))
            let mutable assign = false
            let ax = (adj.Target(x, &assign)).Slice(0, n)
            match kind with
            | MapPartial.Stored -> Simd.mulInto (ReadOnlySpan<float>(d, 0, n)) g ax assign
            | MapPartial.Twice -> Simd.twiceMulInto (ReadOnlySpan<float>(xv.Arr, xv.Off, n)) g ax assign
            | _ -> Simd.scaleInto -1.0 g ax assign
    override o.VjpTangent(adj, tan, adjT) =
        let w = tan.Width
        let g = adj.Span out
        let gt = adjT.Span out
        let tx = tan.Span x
        let ax = adjT.Span x
        for e in 0 .. n - 1 do
            let de = o.D e
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
            if one then Simd.scaleInto c (Simd.ro g) a assign
            else Simd.mulInto ds (Simd.ro g) a assign
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
    /// Pull for a cotangent whose elements are all u.
    static member private PullUniform(adj: Store, r: VecRef, d: Partial, u: float, n: int) =
        if d.IsConst || d.View.Len = 1 then
            let c = if d.IsConst then d.Const else d.View.Arr[d.View.Off]
            UniformAdjoint.pull adj r (c * u) n
        else
            let ds = ReadOnlySpan<float>(d.View.Arr, d.View.Off, n)
            if r.Length = 1 && n > 1 then
                let a = adj.Span r
                let mutable s = 0.0
                for e in 0 .. n - 1 do s <- s + ds[e] * u
                a[0] <- a[0] + s
            else
                let mutable assign = false
                let a = (adj.Target(r, &assign)).Slice(0, n)
                Simd.mulByInto ds u a assign
    override _.Vjp(adj) =
        let mutable u = 0.0
        if adj.Uniform(out, &u) then
            if not x.IsNone then ZipOp.PullUniform(adj, x, dx, u, n)
            if not y.IsNone then ZipOp.PullUniform(adj, y, dy, u, n)
        else
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
        // x̄ = s̄·1: one number for every element, kept as such (no memory) when x is a whole op buffer
        let g = (adj.Span out)[0]
        UniformAdjoint.pull adj x g n
    override _.VjpTangent(_, _, adjT) =
        let w = adjT.Width
        let gt = adjT.Span out
        let ax = adjT.Span x
        for e in 0 .. n - 1 do
            for j in 0 .. w - 1 do ax[e * w + j] <- ax[e * w + j] + gt[j]
