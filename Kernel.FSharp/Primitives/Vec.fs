namespace Hybrid.Kernel

open System
open MathNet.Numerics.LinearAlgebra

/// A differentiable vector: its values plus, when it belongs to an active trace, where its
/// derivatives live there (`Ref`). Whole-vector operations are one tape node each; indexing gives a
/// `Real`; slicing is free (a view). On a nested trace a whole-vector operation is one node as well,
/// whose rules run on the level below's vectors, so every derivative stays differentiable (`Prim`).
///
/// A vector of a trace that has closed (kept from inside a transform's function) throws
/// `EscapedValueException` on every read: its pooled storage may already hold another
/// computation's numbers.
[<Sealed; AllowNullLiteral>]
type Vec internal (arr: float[], off: int, len: int, tid: int, alive: TraceBox, r: VecRef) =
    do
        if isNull arr then nullArg "arr"
        if off < 0 || len < 0 || int64 off + int64 len > int64 arr.Length then
            invalidArg "len" (sprintf "A Vec of %d elements from offset %d does not fit in an array of %d." len off arr.Length)
    // `tid` is the trace's id when this vector was made and `alive` the trace's id box: the trace
    // object is reused with a new id (or a negated one once closed), so `alive.Id <> tid` tells a
    // stale vector in one comparison — and a kept vector holds the box, which lets go of the trace
    // (and its node arrays) when it closes

    /// A vector of trace t (null for a constant) over arr[off .. off + len − 1].
    internal new(arr: float[], off: int, len: int, trace: Trace, r: VecRef) =
        Vec(arr, off, len, (if isNull trace then 0 else trace.Id), (if isNull trace then null else trace.Alive), r)

    /// A constant vector over `values` (not copied).
    new(values: float[]) =
        if isNull values then nullArg "values"
        Vec(values, 0, values.Length, null, VecRef.None)

    /// Throws EscapedValueException when this vector's trace has closed.
    member internal _.CheckLive() = if tid <> 0 && alive.Id <> tid then Traces.Escaped tid
    member internal x.Arr =
        x.CheckLive()
        arr
    member internal _.Off = off
    member internal _.Tid = tid
    member internal _.Ref = r
    member internal x.View =
        x.CheckLive()
        { Arr = arr; Off = off; Len = len }

    /// Number of elements.
    member _.Length = len
    /// Number of elements.
    member _.Count = len
    /// True when no element carries derivative information.
    member _.IsConstant = tid = 0

    /// Element i as a differentiable scalar (small, so the JIT inlines it into loops).
    member x.Item
        with [<System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveInlining)>]
             get (i: int) : Real =
            if uint i >= uint len then Vec.OutOfRange(i, len)
            if tid = 0 then Real arr[off + i]
            elif alive.Id <> tid then Vec.Stale tid
            elif r.Slot >= 0 then Real(arr[off + i], r.Slot + i, tid, alive.Trace)
            else x.OpElement i

    static member private OutOfRange(i: int, len: int) : unit =
        raise (IndexOutOfRangeException(sprintf "Vec index %d is outside [0, %d)." i len))
    static member private Stale(tid: int) : Real =
        Traces.Escaped tid
        Real 0.0

    /// Element i of a vector op's output: one Element node on the op's trace.
    member private _.OpElement(i: int) : Real =
        let v = arr[off + i]
        let t = Traces.Find tid
        let e = r.Offset + i
        if not t.Nested then
            if t.Kind = TraceKind.Reverse then Real(v, t.Push(NodeKind.Element, r.Op, e, 0.0, 0.0), tid, t)
            else Real(v, t.Push(NodeKind.Scalar, -1, -1, (t.Tangents.Buffer r.Op)[e], 0.0), tid, t)
        else
            // a nested op keeps its output one level down (and, forward, its tangent there)
            let node = t.Ops[r.Op] :?> PrimNode
            let lower = node.Lower[e]
            let s =
                if t.Kind = TraceKind.Reverse then t.Push(NodeKind.Element, r.Op, e, 0.0, 0.0)
                else
                    let d = if isNull node.Tangent then Real 0.0 else node.Tangent[e]
                    let s = t.Push(NodeKind.Scalar, -1, -1, d.V, 0.0)
                    t.SetD0(s, d.I, d.Tid)
                    s
            t.SetLower(s, lower.I, lower.Tid)
            Real(v, s, tid, t)

    /// Elements [start, start + length) as a view (no copy, no tape node). Supports C# ranges.
    member x.Slice(start: int, length: int) =
        if start < 0 || length < 0 || int64 start + int64 length > int64 len then
            raise (ArgumentOutOfRangeException("start", sprintf "Slice [%d, %d) is outside a Vec of length %d." start (int64 start + int64 length) len))
        x.CheckLive()
        Vec(arr, off + start, length, tid, alive, r.Slice(start, length))

    /// F# slicing x[a..b].
    member x.GetSlice(lo: int option, hi: int option) =
        let a = defaultArg lo 0
        let b = defaultArg hi (len - 1)
        x.Slice(a, b - a + 1)

    /// The primal values as a new array. A vector of a transform that has returned throws: its
    /// pooled storage may already hold another computation's values.
    member x.ToArray() =
        x.CheckLive()
        if tid <> 0 && IrLog.Active then IrRecording.Unguarded "it reads the values of a traced Vec (ToArray, ToVector)" // Fn.Compile
        Array.sub arr off len
    /// The primal values as a MathNet vector (a copy).
    member x.ToVector() = Vector<float>.Build.Dense(x.ToArray())
    /// Elements as Reals.
    member x.ToReals() = Array.init len (fun i -> x[i])

    override x.ToString() =
        x.CheckLive()
        let shown = Array.sub arr off (min len 8) |> Array.map (fun v -> v.ToString("G6", Globalization.CultureInfo.InvariantCulture))
        "[" + String.Join(", ", shown) + (if len > 8 then sprintf ", … (%d)" len else "") + "]"

    static member op_Implicit(values: float[]) : Vec = Vec values
    /// The values, for results at the top level. A vector that still carries derivatives (inside a
    /// transform) throws rather than silently dropping them; use ToArray() to take values on purpose.
    static member op_Implicit(x: Vec) : float[] =
        if isNull x then null
        elif not x.IsConstant then
            x.CheckLive()
            invalidOp "Hybrid: converting a Vec that carries derivatives to double[] would drop them; call ToArray() to take the values on purpose."
        else x.ToArray()
    /// As the conversion to double[], to a MathNet vector.
    static member op_Implicit(x: Vec) : Vector<float> =
        if isNull x then null
        elif not x.IsConstant then
            x.CheckLive()
            invalidOp "Hybrid: converting a Vec that carries derivatives to Vector<double> would drop them; call ToVector() to take the values on purpose."
        else x.ToVector()
    static member op_Implicit(v: Vector<float>) : Vec =
        if isNull v then nullArg "v"
        Vec(v.ToArray())

    // ------------------------------------------------------------------------------ building

    /// A vector of the given Reals: a view when they are consecutive slots of one trace, otherwise
    /// one copy node per element on the innermost trace among them.
    static member OfReals(xs: Real[]) : Vec =
        if isNull xs then nullArg "xs"
        let n = xs.Length
        let mutable top = 0
        for x in xs do if x.Tid > top then top <- x.Tid
        let values = Array.init n (fun i -> xs[i].V)
        if top = 0 then Vec values
        else
            let mutable consecutive = n > 0
            for i in 0 .. n - 1 do
                if xs[i].Tid <> top || xs[i].I <> xs[0].I + i then consecutive <- false
            let t = Traces.Find top
            if consecutive then Vec(values, 0, n, t, VecRef.Slots(xs[0].I, n))
            else
                let first = t.Count
                for x in xs do Real.Lift(t, x, Real 0.0) |> ignore
                Vec(values, 0, n, t, VecRef.Slots(first, n))

    /// n inputs of trace t standing for x (constants or lower-level values), with tangents `tan`
    /// on forward traces. The values are always a copy taken before f runs (into a buffer of the
    /// trace's pool for a constant x): the recording must not depend on memory the caller can
    /// change during the call or, for a kept recording, after it.
    static member internal Input(t: Trace, x: Vec, tan: float[]) : Vec =
        let n = x.Length
        if x.Tid = 0 && not t.Nested && t.Kind = TraceKind.Reverse then
            let first = t.PushInputs n
            let values = t.Rent n
            Array.blit x.Arr x.Off values 0 n
            Vec(values, 0, n, t, VecRef.Slots(first, n))
        elif t.Nested && t.Kind = TraceKind.Reverse then
            // one node standing for the whole vector below, so its adjoint stays one vector there
            // (a gradient is one vector of the level below, not n scalars)
            let lower = if x.IsConstant then Vec(x.ToArray()) else x
            let outRef = VecRef.OfOp(t.NextOp, 0, n)
            t.PushOp(PrimNode(InputPrim.Instance, [||], lower, null, [||], outRef), n) |> ignore
            Vec(lower.Arr, lower.Off, n, t, outRef)
        else
            let first = t.Count
            for i in 0 .. n - 1 do
                Real.Lift(t, x[i], Real(if isNull tan then 0.0 else tan[i])) |> ignore
            Vec(Array.sub x.Arr x.Off n, 0, n, t, VecRef.Slots(first, n))

    // --------------------------------------------------------------------------- primitives

    /// The trace an operation on operands with these trace ids records on: the innermost of them
    /// (an operand of a closed trace throws EscapedValueException).
    static member internal TraceOf(tx: int, ty: int) : Trace =
        let top = max tx ty
        let t = Traces.Top
        if not (isNull t) && t.Id = top then t else Traces.Find top

    /// The same values as a constant (no derivative ref).
    member internal x.Const() = if tid = 0 then x else Vec(x.Arr, off, len, null, VecRef.None)

    /// x (a vector of nested trace t) as the vector of the level below that it stands for.
    static member internal LowerOf(t: Trace, x: Vec) : Vec =
        let r = x.Ref
        if r.Slot >= 0 then
            let a = x.Arr
            Vec.OfReals(Array.init x.Length (fun i -> Real.Lower(t, Real(a[x.Off + i], r.Slot + i, t.Id))))
        else (t.Ops[r.Op] :?> PrimNode).Lower.Slice(r.Offset, r.Length)

    /// The tangent of x (a vector of nested forward trace t) as a vector of the level below, or
    /// null when it is zero.
    static member internal TangentOf(t: Trace, x: Vec) : Vec =
        let r = x.Ref
        if r.Slot >= 0 then Vec.OfReals(Array.init x.Length (fun i -> Real.Tangent(t, r.Slot + i)))
        else
            let d = (t.Ops[r.Op] :?> PrimNode).Tangent
            if isNull d then null else d.Slice(r.Offset, r.Length)

    /// The tangents of x, a result on bottom-level forward trace t, as doubles (zeros when x does
    /// not depend on t).
    static member internal TangentValues(t: Trace, x: Vec) : float[] =
        let n = x.Length
        if x.Tid <> t.Id then Array.zeroCreate n
        else
            let r = x.Ref
            if r.Slot >= 0 then Array.init n (fun i -> t.D0[r.Slot + i])
            else Array.sub (t.Tangents.Buffer r.Op) r.Offset n

    /// A length-1 vector of x (a view of its slot).
    static member internal OfReal(x: Real) =
        if x.Tid = 0 then Vec([| x.V |]) else Vec([| x.V |], 0, 1, Traces.Find x.Tid, VecRef.Slots(x.I, 1))

    /// A length-1 x repeated to length n (n = 1: x itself).
    static member internal Broadcast(x: Vec, n: int) = if x.Length = n then x else x + Vec(Array.zeroCreate n)

    /// Where the output of the next op recorded on t keeps its n derivatives: the op's own buffer.
    static member internal NextRef(t: Trace, n: int) = VecRef.OfOp(t.NextOp, 0, n)

    /// Records `op` (its output ref from NextRef) on bottom-level trace t, its output's n values
    /// `values`; a forward trace gets the output's tangent right away.
    static member internal Record(t: Trace, op: VecOp, values: float[], n: int) : Vec =
        t.PushOp(op, n) |> ignore
        if t.Kind = TraceKind.Forward then op.Jvp t.Tangents
        Vec(values, 0, n, t, op.Out)

    /// A constant operand's values for Fn.Compile's log (null for a traced one).
    static member internal IrValues(x: Vec) : float[] = if x.Tid = 0 then Array.sub x.Arr x.Off x.Length else null

    /// Elementwise f(x) for a rule-table function (one tape node).
    [<System.ComponentModel.EditorBrowsable(System.ComponentModel.EditorBrowsableState.Never)>]
    static member inline internal Map(f: Fun1, c: float, x: Vec) : Vec =
        let n = x.Length
        if x.Tid = 0 then Vec(Array.init n (fun k -> Rules.value1 f c x.Arr[x.Off + k]))
        else
            let t = Vec.TraceOf(x.Tid, 0)
            if t.Nested then Prim.Nested(MapPrim(f, c), t, [| x |])
            else
                let v = t.Rent n
                let xs = ReadOnlySpan<float>(x.Arr, x.Off, n)
                let vs = Span<float>(v, 0, n)
                if not t.SecondOrder && (f = Fun1.Square || f = Fun1.Neg) then
                    // a partial recomputed from the operand (2x) or constant (−1): no array for it
                    let kind =
                        if f = Fun1.Square then
                            Simd.square xs vs
                            MapPartial.Twice
                        else
                            for k in 0 .. n - 1 do vs[k] <- -xs[k]
                            MapPartial.MinusOne
                    Vec.Record(t, MapOp(x.Ref, x.View, kind, null, null, n, Vec.NextRef(t, n)), v, n)
                else
                    let d = t.Rent n
                    let d2 = if t.SecondOrder then t.Rent n else null
                    let ds = Span<float>(d, 0, n)
                    // two loops, so the common one (no second partials) has no test per element
                    if isNull d2 then
                        for k in 0 .. n - 1 do
                            let xk = xs[k]
                            let fx = Rules.value1 f c xk
                            vs[k] <- fx
                            ds[k] <- Rules.d1<float> f c xk fx
                    else
                        for k in 0 .. n - 1 do
                            let xk = xs[k]
                            let fx = Rules.value1 f c xk
                            vs[k] <- fx
                            let dk = Rules.d1<float> f c xk fx
                            ds[k] <- dk
                            d2[k] <- Rules.d2 f c xk fx dk
                    if not (isNull t.Ir) then t.Ir.Map(t.NextOp, f, c, x.Ref, n)
                    Vec.Record(t, MapOp(x.Ref, d, d2, n, Vec.NextRef(t, n)), v, n)

    /// Elementwise f(x, y) for a binary rule; a length-1 side broadcasts (one tape node).
    [<System.ComponentModel.EditorBrowsable(System.ComponentModel.EditorBrowsableState.Never)>]
    static member inline internal Zip(f: Fun2, x: Vec, y: Vec) : Vec =
        let n = if x.Length = 1 then y.Length else x.Length
        if x.Length <> y.Length && x.Length <> 1 && y.Length <> 1 then
            invalidArg "y" (sprintf "Elementwise %A of vectors of lengths %d and %d: lengths must match (or one be a scalar)." f x.Length y.Length)
        let xv = x.View
        let yv = y.View
        if x.Tid = 0 && y.Tid = 0 then Vec(Array.init n (fun k -> Rules.value2 f xv[k] yv[k]))
        else
            let t = Vec.TraceOf(x.Tid, y.Tid)
            if t.Nested then Prim.Nested(ZipPrim f, t, [| x; y |])
            else
                let v = t.Rent n
                let xr = if x.Tid = 0 then VecRef.None else x.Ref
                let yr = if y.Tid = 0 then VecRef.None else y.Ref
                let view (a: float[]) = { Arr = a; Off = 0; Len = n }
                // Partials that are constants (+, −, × by a constant side) are not stored per element.
                let dx, dy =
                    match f with
                    | Fun2.Add -> Partial.Of 1.0, Partial.Of 1.0
                    | Fun2.Sub -> Partial.Of 1.0, Partial.Of -1.0
                    | Fun2.Mul -> Partial.Of yv, Partial.Of xv
                    | _ -> Partial.Of(view (t.Rent n)), Partial.Of(view (t.Rent n))
                let stored = f <> Fun2.Add && f <> Fun2.Sub && f <> Fun2.Mul
                let second = t.SecondOrder && stored
                let hxx, hxy, hyy =
                    if second then Partial.Of(view (t.Rent n)), Partial.Of(view (t.Rent n)), Partial.Of(view (t.Rent n))
                    elif f = Fun2.Mul then Partial.Of 0.0, Partial.Of 1.0, Partial.Of 0.0
                    else Partial.Of 0.0, Partial.Of 0.0, Partial.Of 0.0
                // a broadcast side (length 1) steps by 0: no test per element
                let xa = xv.Arr
                let ya = yv.Arr
                let xo = xv.Off
                let yo = yv.Off
                let xs = if xv.Len = 1 then 0 else 1
                let ys = if yv.Len = 1 then 0 else 1
                if not stored then
                    Simd.binary f (ReadOnlySpan<float>(xa, xo, xv.Len)) (ReadOnlySpan<float>(ya, yo, yv.Len)) (Span<float>(v, 0, n))
                else
                    for k in 0 .. n - 1 do
                        let a = xa[xo + k * xs]
                        let b = ya[yo + k * ys]
                        let fz = Rules.value2 f a b
                        v[k] <- fz
                        if stored then
                            let struct (pa, pb) = Rules.partials2<float> f a b fz
                            dx.View.Arr[k] <- pa
                            dy.View.Arr[k] <- pb
                            if second then
                                let struct (haa, hab, hbb) = Rules.hessian2 f a b fz pa pb
                                hxx.View.Arr[k] <- haa
                                hxy.View.Arr[k] <- hab
                                hyy.View.Arr[k] <- hbb
                if not (isNull t.Ir) then t.Ir.Zip(t.NextOp, f, xr, Vec.IrValues x, yr, Vec.IrValues y, n)
                Vec.Record(t, ZipOp(xr, yr, dx, dy, hxx, hxy, hyy, n, Vec.NextRef(t, n)), v, n)

    /// Map and Zip without inlining, for tools and tests outside the kernel.
    [<System.ComponentModel.EditorBrowsable(System.ComponentModel.EditorBrowsableState.Never)>]
    static member MapRule(f: Fun1, c: float, x: Vec) = Vec.Map(f, c, x)
    [<System.ComponentModel.EditorBrowsable(System.ComponentModel.EditorBrowsableState.Never)>]
    static member ZipRule(f: Fun2, x: Vec, y: Vec) = Vec.Zip(f, x, y)

    /// Elementwise f⁽ᵐ⁾(x), m ≥ 1, for a rule-table function: the partial of an elementwise
    /// primitive one level down (`MapPrim`), one node at every level whatever the order — on a
    /// bottom-level trace a `MapOp` whose partial is f⁽ᵐ⁺¹⁾ (and f⁽ᵐ⁺²⁾ on second-order traces),
    /// the numbers from `Derivatives`. `fx` is f(x) when the caller has it (m = 1), else null.
    static member internal MapDerivative(f: Fun1, c: float, m: int, x: Vec, fx: Vec) : Vec =
        let n = x.Length
        let xv = x.View
        if x.Tid = 0 then
            let v = Array.zeroCreate n
            Derivatives.unary f c m xv n v
            Vec v
        else
            let t = Vec.TraceOf(x.Tid, 0)
            if t.Nested then Prim.Nested(MapPrim(f, c, m), t, [| x |])
            else
                let v = t.Rent n
                let d = t.Rent n
                let d2 = if t.SecondOrder then t.Rent n else null
                if m = 1 && isNull d2 then
                    // f' and f'' from the table's columns in one pass, f(x) read where it is known
                    for k in 0 .. n - 1 do
                        let xk = xv[k]
                        let fk = if isNull fx then Rules.value1 f c xk else fx.Arr[fx.Off + k]
                        let dk = Rules.d1<float> f c xk fk
                        v[k] <- dk
                        d[k] <- Rules.d2 f c xk fk dk
                else
                    Derivatives.unary f c m xv n v
                    Derivatives.unary f c (m + 1) xv n d
                    if not (isNull d2) then Derivatives.unary f c (m + 2) xv n d2
                if not (isNull t.Ir) then t.Ir.MapDerivative(t.NextOp, f, c, m, x.Ref, n)
                Vec.Record(t, MapOp(x.Ref, d, d2, n, Vec.NextRef(t, n)), v, n)

    /// Elementwise ∂ⁱ⁺ʲf/∂xⁱ∂yʲ(x, y), i + j ≥ 1, for a binary rule (a length-1 side broadcasts):
    /// the partials of a zip one level down (`ZipPrim`), one node at every level — on a
    /// bottom-level trace a `ZipOp` whose partials are the next orders, from `Derivatives`.
    static member internal ZipDerivative(f: Fun2, i: int, j: int, x: Vec, y: Vec) : Vec =
        let n = if x.Length = 1 then y.Length else x.Length
        let xv = x.View
        let yv = y.View
        if x.Tid = 0 && y.Tid = 0 then
            let v = Array.zeroCreate n
            Derivatives.binary f i j xv yv n v
            Vec v
        else
            let t = Vec.TraceOf(x.Tid, y.Tid)
            if t.Nested then Prim.Nested(ZipPrim(f, i, j), t, [| x; y |])
            else
                let part a b =
                    let p = t.Rent n
                    Derivatives.binary f a b xv yv n p
                    Partial.Of { Arr = p; Off = 0; Len = n }
                let v = t.Rent n
                Derivatives.binary f i j xv yv n v
                let hxx, hxy, hyy =
                    if t.SecondOrder then part (i + 2) j, part (i + 1) (j + 1), part i (j + 2)
                    else Partial.Of 0.0, Partial.Of 0.0, Partial.Of 0.0
                let xr = if x.Tid = 0 then VecRef.None else x.Ref
                let yr = if y.Tid = 0 then VecRef.None else y.Ref
                if not (isNull t.Ir) then t.Ir.ZipDerivative(t.NextOp, f, i, j, xr, Vec.IrValues x, yr, Vec.IrValues y, n)
                Vec.Record(t, ZipOp(xr, yr, part (i + 1) j, part i (j + 1), hxx, hxy, hyy, n, Vec.NextRef(t, n)), v, n)

    /// A scalar op's output on t: the op node's own slot.
    static member internal ScalarOp(t: Trace, value: float, op: int -> VecOp) : Real =
        let slot = t.Count
        let o = op slot
        t.PushOp(o, 0) |> ignore
        if t.Kind = TraceKind.Forward then o.Jvp t.Tangents
        elif t.SecondOrder then t.SetHessian(slot, 0.0, 0.0, 0.0)
        Real(value, slot, t.Id, t)

    /// Σₖ xₖ (one tape node).
    static member Sum(x: Vec) : Real =
        let n = x.Length
        let xs = ReadOnlySpan<float>(x.Arr, x.Off, n) // (x.Arr checks liveness: once, not per element)
        let mutable s = 0.0
        for k in 0 .. n - 1 do s <- s + xs[k]
        if x.Tid = 0 then Real s
        else
            let t = Vec.TraceOf(x.Tid, 0)
            if t.Nested then (Prim.Nested(SumPrim.Instance, t, [| x |]))[0]
            else
                if not (isNull t.Ir) then t.Ir.Sum(t.NextOp, x.Ref, n)
                Vec.ScalarOp(t, s, fun slot -> SumOp(x.Ref, n, VecRef.Slots(slot, 1)) :> VecOp)

    /// x · y = Σₖ xₖyₖ (one tape node).
    static member Dot(x: Vec, y: Vec) : Real =
        if x.Length <> y.Length then
            invalidArg "y" (sprintf "Dot of vectors of lengths %d and %d: lengths must match." x.Length y.Length)
        let n = x.Length
        let xv = x.View
        let yv = y.View
        let mutable s = 0.0
        for k in 0 .. n - 1 do s <- s + xv[k] * yv[k]
        if x.Tid = 0 && y.Tid = 0 then Real s
        else
            let t = Vec.TraceOf(x.Tid, y.Tid)
            if t.Nested then (Prim.Nested(DotPrim.Instance, t, [| x; y |]))[0]
            else
                let xr = if x.Tid = 0 then VecRef.None else x.Ref
                let yr = if y.Tid = 0 then VecRef.None else y.Ref
                if not (isNull t.Ir) then t.Ir.Dot(t.NextOp, xr, Vec.IrValues x, yr, Vec.IrValues y, n)
                Vec.ScalarOp(t, s, fun slot -> DotOp(xr, yr, xv, yv, n, VecRef.Slots(slot, 1)) :> VecOp)

    // ------------------------------------------------------------------------ arithmetic

    static member private OfFloat(c: float) = Vec([| c |])

    static member (~-)(x: Vec) = Vec.Map(Fun1.Neg, 0.0, x)
    static member (+)(x: Vec, y: Vec) = Vec.Zip(Fun2.Add, x, y)
    static member (+)(x: Vec, y: Real) = Vec.Zip(Fun2.Add, x, Vec.OfReal y)
    static member (+)(x: Real, y: Vec) = Vec.Zip(Fun2.Add, Vec.OfReal x, y)
    static member (+)(x: Vec, c: float) = Vec.Zip(Fun2.Add, x, Vec.OfFloat c)
    static member (+)(c: float, y: Vec) = Vec.Zip(Fun2.Add, Vec.OfFloat c, y)
    static member (-)(x: Vec, y: Vec) = Vec.Zip(Fun2.Sub, x, y)
    static member (-)(x: Vec, y: Real) = Vec.Zip(Fun2.Sub, x, Vec.OfReal y)
    static member (-)(x: Real, y: Vec) = Vec.Zip(Fun2.Sub, Vec.OfReal x, y)
    static member (-)(x: Vec, c: float) = Vec.Zip(Fun2.Sub, x, Vec.OfFloat c)
    static member (-)(c: float, y: Vec) = Vec.Zip(Fun2.Sub, Vec.OfFloat c, y)
    static member (*)(x: Vec, y: Vec) = Vec.Zip(Fun2.Mul, x, y)
    static member (*)(x: Vec, y: Real) = Vec.Zip(Fun2.Mul, x, Vec.OfReal y)
    static member (*)(x: Real, y: Vec) = Vec.Zip(Fun2.Mul, Vec.OfReal x, y)
    static member (*)(x: Vec, c: float) = Vec.Zip(Fun2.Mul, x, Vec.OfFloat c)
    static member (*)(c: float, y: Vec) = Vec.Zip(Fun2.Mul, Vec.OfFloat c, y)
    static member (/)(x: Vec, y: Vec) = Vec.Zip(Fun2.Div, x, y)
    static member (/)(x: Vec, y: Real) = Vec.Zip(Fun2.Div, x, Vec.OfReal y)
    static member (/)(x: Real, y: Vec) = Vec.Zip(Fun2.Div, Vec.OfReal x, y)
    static member (/)(x: Vec, c: float) = Vec.Zip(Fun2.Div, x, Vec.OfFloat c)
    static member (/)(c: float, y: Vec) = Vec.Zip(Fun2.Div, Vec.OfFloat c, y)

    /// Σₖ xₖ.
    member x.Sum() = Vec.Sum x
    /// x · y.
    member x.Dot(y: Vec) = Vec.Dot(x, y)

    // Elementwise functions of the rule table (each one tape node).
    static member Abs(x: Vec) = Vec.Map(Fun1.Abs, 0.0, x)
    static member Reciprocal(x: Vec) = Vec.Map(Fun1.Recip, 0.0, x)
    static member Square(x: Vec) = Vec.Map(Fun1.Square, 0.0, x)
    static member Sqrt(x: Vec) = Vec.Map(Fun1.Sqrt, 0.0, x)
    static member Cbrt(x: Vec) = Vec.Map(Fun1.Cbrt, 0.0, x)
    static member Exp(x: Vec) = Vec.Map(Fun1.Exp, 0.0, x)
    static member Exp2(x: Vec) = Vec.Map(Fun1.Exp2, 0.0, x)
    static member Log(x: Vec) = Vec.Map(Fun1.Log, 0.0, x)
    static member Log2(x: Vec) = Vec.Map(Fun1.Log2, 0.0, x)
    static member Log10(x: Vec) = Vec.Map(Fun1.Log10, 0.0, x)
    static member LogP1(x: Vec) = Vec.Map(Fun1.Log1p, 0.0, x)
    static member ExpM1(x: Vec) = Vec.Map(Fun1.Expm1, 0.0, x)
    static member Sin(x: Vec) = Vec.Map(Fun1.Sin, 0.0, x)
    static member Cos(x: Vec) = Vec.Map(Fun1.Cos, 0.0, x)
    static member Tan(x: Vec) = Vec.Map(Fun1.Tan, 0.0, x)
    static member Asin(x: Vec) = Vec.Map(Fun1.Asin, 0.0, x)
    static member Acos(x: Vec) = Vec.Map(Fun1.Acos, 0.0, x)
    static member Atan(x: Vec) = Vec.Map(Fun1.Atan, 0.0, x)
    static member Sinh(x: Vec) = Vec.Map(Fun1.Sinh, 0.0, x)
    static member Cosh(x: Vec) = Vec.Map(Fun1.Cosh, 0.0, x)
    static member Tanh(x: Vec) = Vec.Map(Fun1.Tanh, 0.0, x)
    static member Asinh(x: Vec) = Vec.Map(Fun1.Asinh, 0.0, x)
    static member Acosh(x: Vec) = Vec.Map(Fun1.Acosh, 0.0, x)
    static member Atanh(x: Vec) = Vec.Map(Fun1.Atanh, 0.0, x)
    static member Erf(x: Vec) = Vec.Map(Fun1.Erf, 0.0, x)
    /// xₖᶜ for a constant exponent.
    static member Pow(x: Vec, c: float) = Vec.Map(Fun1.PowC, c, x)
    /// xₖ^yₖ.
    static member Pow(x: Vec, y: Vec) = Vec.Zip(Fun2.Pow, x, y)
    static member Atan2(y: Vec, x: Vec) = Vec.Zip(Fun2.Atan2, y, x)
    static member Hypot(x: Vec, y: Vec) = Vec.Zip(Fun2.Hypot, x, y)
    static member Min(x: Vec, y: Vec) = Vec.Zip(Fun2.Min, x, y)
    static member Max(x: Vec, y: Vec) = Vec.Zip(Fun2.Max, x, y)

// ------------------------------------------------------------------------------------ primitives

/// A primitive defined once: its value, its jvp (linear in the tangents) and its vjp (linear in
/// the cotangent), both written with differentiable `Vec`/`Mat` operations. From that one
/// definition every mode follows: on a bottom-level trace the rules run on constants (plain
/// doubles, BLAS); on a nested trace they run on the level below's values, so the op is one node
/// per level whose derivatives are themselves differentiable there (`PrimNode`, the nested sweep);
/// the second-order replay is the forward replay of the vjp rule's own tape, every direction of a
/// Hessian block at once (`PrimNode.DerivedVjpTangent`).
///
/// `Eval` computes the value at constant operands and may leave a residual (e.g. a factorisation)
/// that the rules may use when the operand it belongs to is a constant. `Call` is the operation
/// itself on operands of any level (what a nested level computes its value one level down with).
/// A `Scalar` primitive's output is one number (its node's own slot).
and [<AbstractClass>] internal Prim(name: string, scalar: bool) =
    member _.Name: string = name
    member _.Scalar: bool = scalar
    /// The value at constant operands, and a residual for the rules (or null).
    abstract Eval: xs: Vec[] -> struct (float[] * obj)
    default _.Eval _ = invalidOp (sprintf "Hybrid internal error: primitive %s has no generic value path." name)
    /// The operation on operands of any level.
    abstract Call: xs: Vec[] -> Vec
    default p.Call xs = Prim.Apply(p, xs)
    /// ẏ for tangents dxs of the operands (null = a zero tangent; at least one is not null).
    abstract Jvp: xs: Vec[] * y: Vec * res: obj * dxs: Vec[] -> Vec
    /// x̄ᵢ for each operand with need[i] (null elsewhere), for the cotangent ȳ of y.
    abstract Vjp: xs: Vec[] * y: Vec * res: obj * ybar: Vec * need: bool[] -> Vec[]
    /// False for a primitive whose jvp rule is the primitive itself (a linear map): a k-direction
    /// replay gains nothing by recording that rule once (`PrimNode.DerivedJvp`).
    abstract DeriveJvp: bool
    default _.DeriveJvp = true

    /// p(xs): computed on constants, recorded on a bottom-level trace as a `PrimNode` whose rules
    /// run in doubles, or on a nested one through `Nested`.
    static member Apply(p: Prim, xs: Vec[]) : Vec =
        let mutable top = 0
        for x in xs do if x.Tid > top then top <- x.Tid
        if top = 0 then
            let struct (v, _) = p.Eval xs
            Vec v
        else
            let t = Vec.TraceOf(top, 0)
            if t.Nested then Prim.Nested(p, t, xs)
            else
                let cs = xs |> Array.map (fun x -> x.Const())
                let struct (v, res) = p.Eval cs
                let refs = xs |> Array.map (fun x -> if x.Tid = 0 then VecRef.None else x.Ref)
                Prim.Record(p, t, xs, cs, Vec v, res, refs)

    /// p(xs) on nested trace t (the innermost among the operands): its value is p one level down,
    /// and the node keeps the operands' and the output's lower-level values for its rules.
    static member Nested(p: Prim, t: Trace, xs: Vec[]) : Vec =
        let lows = xs |> Array.map (fun x -> if x.Tid = t.Id then Vec.LowerOf(t, x) else x)
        let y = p.Call lows
        let refs = xs |> Array.map (fun x -> if x.Tid = t.Id then x.Ref else VecRef.None)
        Prim.Record(p, t, xs, lows, y, null, refs)

    /// Records p's node on t, with operands `xs` (of t or not), their values `lows` one level down
    /// (constants on a bottom-level trace) and the output's `y`; forward traces get its tangent.
    static member private Record(p: Prim, t: Trace, xs: Vec[], lows: Vec[], y: Vec, res: obj, refs: VecRef[]) : Vec =
        let n = y.Length
        let outRef = if p.Scalar then VecRef.Slots(t.Count, 1) else VecRef.OfOp(t.NextOp, 0, n)
        let node = PrimNode(p, lows, y, res, refs, outRef)
        t.PushOp(node, (if p.Scalar then 0 else n)) |> ignore
        let slot = outRef.Slot
        if t.Nested then
            if p.Scalar then
                let l = y[0]
                t.SetLower(slot, l.I, l.Tid)
            if t.Kind = TraceKind.Forward then
                let dxs = Array.init xs.Length (fun i -> if refs[i].IsNone then null else Vec.TangentOf(t, xs[i]))
                let tan = if dxs |> Array.forall isNull then null else p.Jvp(lows, y, res, dxs)
                if p.Scalar then
                    let d = if isNull tan then Real 0.0 else tan[0]
                    t.D0[slot] <- d.V
                    t.SetD0(slot, d.I, d.Tid)
                else node.Tangent <- tan
        elif t.Kind = TraceKind.Forward then node.Jvp t.Tangents
        elif t.SecondOrder && p.Scalar then t.SetHessian(slot, 0.0, 0.0, 0.0)
        Vec(y.Arr, y.Off, n, t, outRef)

/// A primitive's node. On a bottom-level trace its operands and output are constants and its
/// rules run on doubles read from the sweep's stores; on a nested trace they are values of the
/// level below, used by the nested sweep (`NestedSweep`) and by element reads.
and [<Sealed>] internal PrimNode(p: Prim, xs: Vec[], y: Vec, res: obj, refs: VecRef[], out: VecRef) =
    inherit VecOp(out)
    let need = refs |> Array.map (fun r -> not r.IsNone)
    member _.Prim: Prim = p
    /// The operands' values one level down.
    member _.Inputs: Vec[] = xs
    /// The output's value one level down.
    member _.Lower: Vec = y
    /// Where the operands' derivatives live on this node's trace (None for constants).
    member _.Refs: VecRef[] = refs
    member _.Need: bool[] = need
    /// Nested forward traces: the output's tangent one level down (null when zero).
    member val Tangent: Vec = null with get, set

    /// Every direction of a multi-direction replay in one call: the tangent and the second-order
    /// rule are both derived for all k directions at once from the primitive's own rules
    /// (`DerivedJvp`, `DerivedVjpTangent`).
    override _.Batched = true
    override _.Jvp(tan) = PrimNode.DerivedJvp(p, xs, y, res, refs, out, tan)
    override _.Vjp(adj) =
        let xbar = p.Vjp(xs, y, res, Vec(adj.Read out), need)
        for i in 0 .. refs.Length - 1 do
            if need[i] && not (isNull xbar[i]) then adj.AddInto(refs[i], xbar[i].ToArray())
    override _.VjpTangent(adj, tan, adjT) = PrimNode.DerivedVjpTangent(p, xs, y, res, refs, out, adj, tan, adjT)

    /// Jvp rules evaluated on doubles by the nodes of replayed tapes on this thread — not counting
    /// the nodes of a rule's own tape inside a derived replay (tests count them: a block of k
    /// directions evaluates a node's rule once, not k times).
    static member JvpRuns = PrimNode.runs
    [<ThreadStatic; DefaultValue>] static val mutable private runs: int
    /// Inside a derived tangent replay (`DerivedJvp`) on this thread: the rule's own nodes run
    /// their rules one direction at a time, so a rule that contains its own primitive (a linear
    /// one: Solve's rule is a solve) does not derive itself again without end.
    [<ThreadStatic; DefaultValue>] static val mutable private deriving: int

    /// The k tangents of a rule linear in some of its inputs, by replay. The rule runs once on a
    /// fresh bottom-level tape whose inputs are `inputs` — each a value together with the store
    /// and ref where its k tangents live in the replay, read there in place (the store's own
    /// array, adopted: no copy) — and that tape is replayed forward with the k tangents per
    /// element, as a Hessian block replays f's tape, so its vector ops push all k together: a
    /// product in the rule is one dgemm for the k directions, not k. `rule` receives the inputs as
    /// vectors of that tape and returns its results; result i's k tangents are added into (add)
    /// or written to `into[i]`'s store at its ref (a null result, or one that does not depend on
    /// the inputs, adds nothing or writes zeros). The rule sees constants only, so its tape holds
    /// plain doubles even when the replay runs inside another transform.
    static member ReplayRule(name: string, w: int, inputs: struct (Vec * Store * VecRef)[], rule: Vec[] -> Vec[], into: struct (Store * VecRef * bool)[]) =
        let t = Traces.OpenBottom(TraceKind.Reverse, name)
        try
            let places = ResizeArray<struct (int * float[])>()
            let ins =
                inputs |> Array.map (fun (struct (v, from, r)) ->
                    let struct (arr, at) = from.Place r
                    let ref = VecRef.OfOp(t.NextOp, at, v.Length)
                    places.Add(struct (t.PushOp(ReplayInput ref, at + v.Length), arr))
                    Vec(v.Arr, v.Off, v.Length, t, ref))
            let outs = rule ins
            let s = Store(Buffers.RentZeroed(t.Count * w), t.OpLengths, true, w)
            for struct (op, arr) in places do s.Adopt(op, arr)
            try
                Sweep.forwardTangents t s
                for i in 0 .. into.Length - 1 do
                    let struct (dst, r, add) = into[i]
                    let o = outs[i]
                    let live = not (isNull o) && o.Tid = t.Id
                    if live && o.Length <> r.Length then
                        invalidOp (sprintf "Hybrid internal error: %s's rule gave %d values for a result of length %d." name o.Length r.Length)
                    if add then
                        if live then
                            let src = s.Span o.Ref
                            let d = dst.Span r
                            for q in 0 .. d.Length - 1 do d[q] <- d[q] + src[q]
                    else
                        let d = dst.Out r
                        if live then (s.Span o.Ref).CopyTo d else d.Clear()
            finally
                s.Release()
        finally
            Traces.Close(t, false)

    /// The tangent of a bottom-level node for every direction of `tan`: ẏ = jvp(xs, y, ẋs). One
    /// direction is one evaluation of the jvp rule on doubles; k directions record the rule once,
    /// its operand tangents the tape's inputs, and replay it with all k (`ReplayRule`) — except
    /// inside such a replay, and for a primitive that is its own jvp (`Prim.DeriveJvp`), where the
    /// rule runs once per direction.
    static member DerivedJvp(p: Prim, xs: Vec[], y: Vec, res: obj, refs: VecRef[], out: VecRef, tan: Store) =
        let w = tan.Width
        let traced = [| for i in 0 .. refs.Length - 1 do if not refs[i].IsNone then yield i |]
        let evaluate (dxs: Vec[]) =
            if PrimNode.deriving = 0 then PrimNode.runs <- PrimNode.runs + 1
            p.Jvp(xs, y, res, dxs)
        if traced.Length = 0 then (tan.Out out).Clear()
        elif w = 1 || PrimNode.deriving > 0 || not p.DeriveJvp then
            let once () =
                let dxs = refs |> Array.map (fun r -> if r.IsNone then null else Vec(tan.Read r))
                let d = evaluate dxs
                tan.Write(out, (if isNull d then Array.zeroCreate y.Length else d.ToArray()))
            if w = 1 then once ()
            else
                try
                    for j in 0 .. w - 1 do
                        tan.Direction <- j
                        once ()
                finally
                    tan.Direction <- -1
        else
            // the tape's inputs take the first direction's tangents as values (the rule is linear
            // in them: any values record the same partials)
            let first (r: VecRef) =
                let struct (a, at) = tan.Place r
                Vec(Array.init r.Length (fun e -> a[(at + e) * w]))
            let inputs = [| for i in traced -> struct (first refs[i], tan, refs[i]) |]
            if PrimNode.deriving = 0 then PrimNode.runs <- PrimNode.runs + 1
            PrimNode.deriving <- PrimNode.deriving + 1
            try
                PrimNode.ReplayRule(p.Name, w, inputs,
                    (fun ins ->
                        let dxs = Array.zeroCreate xs.Length
                        traced |> Array.iteri (fun j i -> dxs[i] <- ins[j])
                        [| p.Jvp(xs, y, res, dxs) |]),
                    [| struct (tan, out, false) |])
            finally
                PrimNode.deriving <- PrimNode.deriving - 1

    /// The second-order rule of a bottom-level node, derived from its primitive's vjp rule for every
    /// direction of a replay at once: the tangent of x̄ = vjp(xs, y, ȳ) along (ẋs, ẏ, ȳ̇), added into
    /// `adjT`, with ẋs and ẏ from `tan` and ȳ̇ from `adjT` (Width k each), ȳ from `adj`. The rule runs
    /// once, on a tape whose inputs are the operands `xs` that carry derivatives (`refs`), the output
    /// y and the cotangent ȳ, replayed forward with the k tangents (`ReplayRule`). No rule is
    /// written twice: the derivative of the vjp rule is the rule's own tape's forward replay. `xs`
    /// and `y` are constants (the node's values on a bottom-level trace).
    static member DerivedVjpTangent(p: Prim, xs: Vec[], y: Vec, res: obj, refs: VecRef[], out: VecRef, adj: Store, tan: Store, adjT: Store) =
        let need = refs |> Array.map (fun r -> not r.IsNone)
        let traced = [| for i in 0 .. refs.Length - 1 do if need[i] then yield i |]
        let m = traced.Length
        let inputs =
            [| for i in traced -> struct (xs[i], tan, refs[i])
               yield struct (y, tan, out)
               yield struct (Vec(adj.Read out), adjT, out) |]
        PrimNode.ReplayRule(p.Name, tan.Width, inputs,
            (fun ins ->
                let xst = Array.copy xs
                traced |> Array.iteri (fun j i -> xst[i] <- ins[j])
                let xbar = p.Vjp(xst, ins[m], res, ins[m + 1], need)
                [| for i in traced -> xbar[i] |]),
            [| for i in traced -> struct (adjT, refs[i], true) |])

/// An input of the tape `PrimNode.ReplayRule` records a rule on: its derivatives are
/// another store's, adopted by the replay (`Store.Adopt`); it has no rules of its own.
and [<Sealed>] internal ReplayInput(out: VecRef) =
    inherit VecOp(out)
    override _.Batched = true
    override _.Jvp _ = ()
    override _.Vjp _ = ()
    override _.VjpTangent(_, _, _) = ()

/// Elementwise f⁽ᵐ⁾(x) for a rule-table function — f itself for m = 0 — on nested traces (a
/// bottom-level trace records a `MapOp`, built from the same table row): ẏ = f⁽ᵐ⁺¹⁾(x)·ẋ,
/// x̄ = f⁽ᵐ⁺¹⁾(x)·ȳ. The partial f⁽ᵐ⁺¹⁾(x) is this primitive of the next order on the level
/// below: one node there, whose own partial is the order after, so every level holds O(1) nodes
/// per map whatever the depth (`Vec.MapDerivative`; the numbers from the row, `Derivatives`).
and [<Sealed>] internal MapPrim(f: Fun1, c: float, m: int) =
    inherit Prim((if m = 0 then string f else sprintf "%O^(%d)" f m), false)
    new(f: Fun1, c: float) = MapPrim(f, c, 0)
    /// f⁽ᵐ⁺¹⁾(x) as a vector of x's level (y = f⁽ᵐ⁾(x)).
    member _.Partial(x: Vec, y: Vec) : Vec = Vec.MapDerivative(f, c, m + 1, x, (if m = 0 then y else null))
    override _.Call xs = if m = 0 then Vec.Map(f, c, xs[0]) else Vec.MapDerivative(f, c, m, xs[0], null)
    override p.Jvp(xs, y, _, dxs) = p.Partial(xs[0], y) * dxs[0]
    override p.Vjp(xs, y, _, g, _) = [| p.Partial(xs[0], y) * g |]

/// Elementwise ∂ⁱ⁺ʲf/∂xⁱ∂yʲ(x, y) for a binary rule — f itself for i = j = 0 — (either side may
/// broadcast from length 1), on nested traces: ż = z_x·ẋ + z_y·ẏ. The linear and bilinear rules
/// (+, −, ×, ÷) are written with vector operations directly; every other partial is this
/// primitive of the next order on the level below, one node there (`Vec.ZipDerivative`).
and [<Sealed>] internal ZipPrim(f: Fun2, i: int, j: int) =
    inherit Prim((if i + j = 0 then string f else sprintf "%O^(%d,%d)" f i j), false)
    // written with vector operations (order 0 of +, −, ×, ÷)
    let plain = i + j = 0 && (f = Fun2.Add || f = Fun2.Sub || f = Fun2.Mul || f = Fun2.Div)
    new(f: Fun2) = ZipPrim(f, 0, 0)
    /// (∂/∂x, ∂/∂y) of this order's value, as vectors of the operands' level.
    member _.Px(x: Vec, y: Vec) = Vec.ZipDerivative(f, i + 1, j, x, y)
    member _.Py(x: Vec, y: Vec) = Vec.ZipDerivative(f, i, j + 1, x, y)
    /// A cotangent of z reduced to an operand's length (a broadcast operand receives the sum).
    static member private Reduce(v: Vec, len: int) = if v.Length = len then v else Vec.OfReal(Vec.Sum v)
    override _.Call xs = if i + j = 0 then Vec.Zip(f, xs[0], xs[1]) else Vec.ZipDerivative(f, i, j, xs[0], xs[1])
    override p.Jvp(xs, z, _, dxs) =
        let x = xs[0]
        let y = xs[1]
        let dx = dxs[0]
        let dy = dxs[1]
        let n = z.Length
        let d =
            if plain then
                match f with
                | Fun2.Add -> if isNull dx then dy elif isNull dy then dx else dx + dy
                | Fun2.Sub -> if isNull dx then -dy elif isNull dy then dx else dx - dy
                | Fun2.Mul -> if isNull dx then x * dy elif isNull dy then dx * y else dx * y + x * dy
                | _ -> if isNull dx then -(z * dy / y) elif isNull dy then dx / y else (dx - z * dy) / y
            elif isNull dx then p.Py(x, y) * dy
            elif isNull dy then p.Px(x, y) * dx
            else p.Px(x, y) * dx + p.Py(x, y) * dy
        Vec.Broadcast(d, n)
    override p.Vjp(xs, z, _, g, need) =
        let x = xs[0]
        let y = xs[1]
        let struct (gx, gy) =
            if plain then
                match f with
                | Fun2.Add -> struct ((if need[0] then g else null), (if need[1] then g else null))
                | Fun2.Sub -> struct ((if need[0] then g else null), (if need[1] then -g else null))
                | Fun2.Mul -> struct ((if need[0] then g * y else null), (if need[1] then g * x else null))
                | _ ->
                    let gy = g / y
                    struct ((if need[0] then gy else null), (if need[1] then -(gy * z) else null))
            else struct ((if need[0] then p.Px(x, y) * g else null), (if need[1] then p.Py(x, y) * g else null))
        [| (if isNull gx then null else ZipPrim.Reduce(gx, x.Length)); (if isNull gy then null else ZipPrim.Reduce(gy, y.Length)) |]

/// Σₖ xₖ on nested traces (bottom-level traces record a `SumOp`): linear, ṡ = Σ ẋ, x̄ = s̄·1.
and [<Sealed>] internal SumPrim private () =
    inherit Prim("Sum", true)
    static member val Instance = SumPrim()
    override _.Call xs = Vec.OfReal(Vec.Sum xs[0])
    override _.Jvp(_, _, _, dxs) = Vec.OfReal(Vec.Sum dxs[0])
    override _.Vjp(xs, _, _, g, _) = [| Vec.Broadcast(g, xs[0].Length) |]

/// x · y on nested traces (bottom-level traces record a `DotOp`): bilinear, ṡ = ẋ·y + x·ẏ,
/// x̄ = s̄·y, ȳ = s̄·x.
and [<Sealed>] internal DotPrim private () =
    inherit Prim("Dot", true)
    static member val Instance = DotPrim()
    override _.Call xs = Vec.OfReal(Vec.Dot(xs[0], xs[1]))
    override _.Jvp(xs, _, _, dxs) =
        let dx = dxs[0]
        let dy = dxs[1]
        Vec.OfReal(
            if isNull dx then Vec.Dot(xs[0], dy)
            elif isNull dy then Vec.Dot(dx, xs[1])
            else Vec.Dot(dx, xs[1]) + Vec.Dot(xs[0], dy))
    override _.Vjp(xs, _, _, g, need) =
        [| (if need[0] then g * xs[1] else null); (if need[1] then g * xs[0] else null) |]

/// x·y = Σₖ xₖyₖ on a bottom-level trace: a scalar (the op node's own slot). Either side may be a
/// constant (`VecRef.None`). Its tangent and reverse rules run in place on the sweep's buffers; its
/// second-order rule is derived from `DotPrim`'s vjp rule (`PrimNode.DerivedVjpTangent`).
and [<Sealed>] internal DotOp(x: VecRef, y: VecRef, xv: View, yv: View, n: int, out: VecRef) =
    inherit VecOp(out)
    override _.Batched = true
    override _.Jvp(tan) =
        let w = tan.Width
        let ts = tan.Out out
        ts.Clear()
        // element by element, ẋₖyₖ + xₖẏₖ per k: the order of Fn.Compile's lowered Dot (a product
        // node per element, then the running sum), so compiled and eager tangents agree bitwise
        let tx = if x.IsNone then Span<float>.Empty else tan.Span x
        let ty = if y.IsNone then Span<float>.Empty else tan.Span y
        for e in 0 .. n - 1 do
            for j in 0 .. w - 1 do
                let d =
                    if x.IsNone then xv[e] * ty[e * w + j]
                    elif y.IsNone then tx[e * w + j] * yv[e]
                    else tx[e * w + j] * yv[e] + xv[e] * ty[e * w + j]
                ts[j] <- ts[j] + d
    override _.Vjp(adj) =
        let g = (adj.Span out)[0]
        let pull (r: VecRef) (v: View) =
            let mutable assign = false
            let a = adj.Target(r, &assign)
            if assign then for k in 0 .. n - 1 do a[k] <- v[k] * g
            else for k in 0 .. n - 1 do a[k] <- a[k] + v[k] * g
        if not x.IsNone then pull x yv
        if not y.IsNone then pull y xv
    override _.VjpTangent(adj, tan, adjT) =
        let vec (v: View) = Vec(v.Arr, v.Off, n, null, VecRef.None)
        let mutable s = 0.0
        for e in 0 .. n - 1 do s <- s + xv[e] * yv[e]
        PrimNode.DerivedVjpTangent(DotPrim.Instance, [| vec xv; vec yv |], Vec [| s |], null, [| x; y |], out, adj, tan, adjT)

/// The input vector of a nested reverse trace: no operands; the nested sweep leaves its adjoint.
and [<Sealed>] internal InputPrim private () =
    inherit Prim("Input", false)
    static member val Instance = InputPrim()
    override _.Call _ = invalidOp "Hybrid internal error: an input node has no operation."
    override _.Jvp(_, _, _, _) = invalidOp "Hybrid internal error: an input node has no tangent rule."
    override _.Vjp(_, _, _, _, _) = [||]
