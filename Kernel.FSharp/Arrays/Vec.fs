namespace Hybrid.Kernel

open System
open MathNet.Numerics.LinearAlgebra

/// A differentiable vector: its values plus, when it belongs to an active trace, where its
/// derivatives live there (`Ref`). Whole-vector operations are one tape node each; indexing gives a
/// `Real`; slicing is free (a view). On a nested trace, operations run element by element through
/// `Real` so every derivative stays differentiable.
///
/// A vector of a trace that has closed (kept from inside a transform's function) throws
/// `EscapedValueException` on every read: its pooled storage may already hold another
/// computation's numbers.
[<Sealed; AllowNullLiteral>]
type Vec internal (arr: float[], off: int, len: int, tid: int, alive: int[], r: VecRef) =
    do
        if isNull arr then nullArg "arr"
        if off < 0 || len < 0 || int64 off + int64 len > int64 arr.Length then
            invalidArg "len" (sprintf "A Vec of %d elements from offset %d does not fit in an array of %d." len off arr.Length)
    // `tid` is the trace's id when this vector was made and `alive` the trace's id box: the trace
    // object is reused with a new id (or a negated one once closed), so `alive[0] <> tid` tells a
    // stale vector in one comparison — and a kept vector holds the box, not the trace's node arrays

    /// A vector of trace t (null for a constant) over arr[off .. off + len − 1].
    internal new(arr: float[], off: int, len: int, trace: Trace, r: VecRef) =
        Vec(arr, off, len, (if isNull trace then 0 else trace.Id), (if isNull trace then null else trace.Alive), r)

    /// A constant vector over `values` (not copied).
    new(values: float[]) =
        if isNull values then nullArg "values"
        Vec(values, 0, values.Length, null, VecRef.None)

    /// Throws EscapedValueException when this vector's trace has closed.
    member internal _.CheckLive() = if tid <> 0 && alive[0] <> tid then Traces.Escaped tid
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
            elif alive[0] <> tid then Vec.Stale tid
            elif r.Slot >= 0 then Real(arr[off + i], r.Slot + i, tid)
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
        if t.Kind = TraceKind.Reverse then Real(v, t.Push(NodeKind.Element, r.Op, r.Offset + i, 0.0, 0.0), tid)
        else Real(v, t.Push(NodeKind.Scalar, -1, -1, (t.Tangents.Buffer r.Op)[r.Offset + i], 0.0), tid)

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
        else
            let first = t.Count
            for i in 0 .. n - 1 do
                Real.Lift(t, x[i], Real(if isNull tan then 0.0 else tan[i])) |> ignore
            Vec(Array.sub x.Arr x.Off n, 0, n, t, VecRef.Slots(first, n))

    // --------------------------------------------------------------------------- primitives

    /// The trace a vector op on operands with these trace ids runs on at full speed, or null
    /// when it must run element by element (nested, or operands of different traces).
    static member internal FastTrace(tx: int, ty: int) =
        let t = Traces.Top
        if isNull t || t.Nested then null
        elif (tx = 0 || tx = t.Id) && (ty = 0 || ty = t.Id) then t
        else null

    /// A new op output on t: n pooled values, its derivatives in the op's own buffer.
    static member internal OpOutput(t: Trace, values: float[], n: int) =
        Vec(values, 0, n, t, VecRef.OfOp(t.NextOp, 0, n))

    /// Elementwise f(x) for a rule-table function (one tape node).
    [<System.ComponentModel.EditorBrowsable(System.ComponentModel.EditorBrowsableState.Never)>]
    static member inline internal Map(f: Fun1, c: float, x: Vec) : Vec =
        let n = x.Length
        if x.Tid = 0 then Vec(Array.init n (fun k -> Rules.value1 f c x.Arr[x.Off + k]))
        else
            let t = Vec.FastTrace(x.Tid, 0)
            if isNull t then Vec.OfReals(Array.init n (fun k -> Real.Apply1(f, c, x[k])))
            else
                let v = t.Rent n
                let d = t.Rent n
                let d2 = if t.SecondOrder then t.Rent n else null
                let xa = x.Arr
                let xo = x.Off
                for k in 0 .. n - 1 do
                    let xk = xa[xo + k]
                    let fx = Rules.value1 f c xk
                    v[k] <- fx
                    let dk = Rules.d1<float> f c xk fx
                    d[k] <- dk
                    if not (isNull d2) then d2[k] <- Rules.d2 f c xk fx dk
                let y = Vec.OpOutput(t, v, n)
                let op = MapOp(x.Ref, d, d2, n, y.Ref)
                t.PushOp(op, n) |> ignore
                if t.Kind = TraceKind.Forward then op.Jvp t.Tangents
                y

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
            let t = Vec.FastTrace(x.Tid, y.Tid)
            if isNull t then Vec.OfReals(Array.init n (fun k -> Real.Apply2(f, (if x.Length = 1 then x[0] else x[k]), (if y.Length = 1 then y[0] else y[k]))))
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
                for k in 0 .. n - 1 do
                    let a = xv[k]
                    let b = yv[k]
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
                let z = Vec.OpOutput(t, v, n)
                let op = ZipOp(xr, yr, dx, dy, hxx, hxy, hyy, n, z.Ref)
                t.PushOp(op, n) |> ignore
                if t.Kind = TraceKind.Forward then op.Jvp t.Tangents
                z

    /// Map and Zip without inlining, for tools and tests outside the kernel.
    [<System.ComponentModel.EditorBrowsable(System.ComponentModel.EditorBrowsableState.Never)>]
    static member MapRule(f: Fun1, c: float, x: Vec) = Vec.Map(f, c, x)
    [<System.ComponentModel.EditorBrowsable(System.ComponentModel.EditorBrowsableState.Never)>]
    static member ZipRule(f: Fun2, x: Vec, y: Vec) = Vec.Zip(f, x, y)

    /// A scalar op's output on t: the op node's own slot.
    static member internal ScalarOp(t: Trace, value: float, op: int -> VecOp) : Real =
        let slot = t.Count
        let o = op slot
        t.PushOp(o, 0) |> ignore
        if t.Kind = TraceKind.Forward then o.Jvp t.Tangents
        elif t.SecondOrder then t.SetHessian(slot, 0.0, 0.0, 0.0)
        Real(value, slot, t.Id)

    /// Σₖ xₖ (one tape node).
    static member Sum(x: Vec) : Real =
        let n = x.Length
        let mutable s = 0.0
        for k in 0 .. n - 1 do s <- s + x.Arr[x.Off + k]
        if x.Tid = 0 then Real s
        else
            let t = Vec.FastTrace(x.Tid, 0)
            if isNull t then
                let mutable acc = Real 0.0
                for k in 0 .. n - 1 do acc <- acc + x[k]
                acc
            else Vec.ScalarOp(t, s, fun slot -> SumOp(x.Ref, n, VecRef.Slots(slot, 1)) :> VecOp)

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
            let t = Vec.FastTrace(x.Tid, y.Tid)
            if isNull t then
                let mutable acc = Real 0.0
                for k in 0 .. n - 1 do acc <- acc + x[k] * y[k]
                acc
            else
                let xr = if x.Tid = 0 then VecRef.None else x.Ref
                let yr = if y.Tid = 0 then VecRef.None else y.Ref
                Vec.ScalarOp(t, s, fun slot -> DotOp(xr, yr, xv, yv, n, VecRef.Slots(slot, 1)) :> VecOp)

    // ------------------------------------------------------------------------ arithmetic

    static member private OfReal(x: Real) =
        if x.Tid = 0 then Vec([| x.V |]) else Vec([| x.V |], 0, 1, Traces.Find x.Tid, VecRef.Slots(x.I, 1))
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
