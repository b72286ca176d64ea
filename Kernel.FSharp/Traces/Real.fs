namespace Hybrid.Kernel

open System
open System.Globalization
open System.Numerics
open System.Runtime.CompilerServices

/// The differentiable scalar that transforms feed to user functions and read back.
///
/// A `Real` is its primal value `V` plus, when it belongs to an active trace, the trace's id and
/// its slot there. A constant has trace id 0. Operations are carried out by the innermost trace
/// among the operands (the highest id, as ids grow with nesting); values of outer traces are
/// constants to it. That is what keeps nested transforms free of perturbation confusion.
///
/// Comparisons, equality and hashing use the primal value only.
[<Struct; CustomEquality; CustomComparison>]
type Real =
    val V: float
    val I: int
    val Tid: int
    new(v: float) = { V = v; I = 0; Tid = 0 }
    new(v: float, slot: int, tid: int) = { V = v; I = slot; Tid = tid }

    /// The primal value as a plain double (a constant copy: no derivative flows through it).
    member x.Value = x.V
    /// True when x carries no derivative information at any level.
    static member inline IsConstant(x: Real) = x.Tid = 0

    // ------------------------------------------------------------------------------------------------
    // The primitives: the only place Real applies the rule table. The fast path is a trace at the
    // bottom of its thread's stack whose operands are its own values or constants: doubles only,
    // one append to the struct-of-arrays tape. Everything else (nesting, values of several traces,
    // escaped values) goes through `Slow1` / `Slow2`.

    /// A constant (no trace).
    static member inline Const(c: float) = Real c

    /// The primal value (what comparisons and predicates see).
    static member inline Primal(x: Real) = x.V

    /// The explicit conversion `(double)x`: the value of a constant. Inside a transform a traced x
    /// throws InvalidOperationException instead of silently dropping its derivative (as JAX raises
    /// on float(tracer)); `.Value` is the way to take a constant copy on purpose.
    static member ToDouble(x: Real) : float =
        if x.Tid <> 0 then
            if Traces.Depth = 0 || isNull (Traces.TryFind x.Tid) then Traces.Escaped x.Tid
            invalidOp (
                sprintf "Hybrid: (double) of a differentiable Real (trace #%d) inside a transform would drop its derivative. \
                         Keep computing with the Real, or read x.Value to take a constant copy on purpose." x.Tid)
        x.V

    /// f(x) for a unary rule, on the innermost trace x belongs to. `c` is PowC's exponent.
    static member inline Apply1(f: Fun1, c: float, x: Real) : Real =
        if x.Tid = 0 then Real(Rules.value1 f c x.V)
        else
            let t = Traces.Top
            if not (isNull t) && x.Tid = t.Id && not t.Nested then
                let v = Rules.value1 f c x.V
                let d = Rules.d1<float> f c x.V v
                if t.Kind = TraceKind.Reverse then
                    let i = t.Push(NodeKind.Scalar, x.I, -1, d, 0.0)
                    if t.SecondOrder then t.SetHessian(i, Rules.d2 f c x.V v d, 0.0, 0.0)
                    Real(v, i, t.Id)
                else Real(v, t.Push(NodeKind.Scalar, -1, -1, d * t.D0[x.I], 0.0), t.Id)
            else Real.Slow1(f, c, x)

    /// f(x, y) for a binary rule, on the innermost trace among x and y.
    static member inline Apply2(f: Fun2, x: Real, y: Real) : Real =
        if x.Tid = 0 && y.Tid = 0 then Real(Rules.value2 f x.V y.V)
        else
            let t = Traces.Top
            if not (isNull t) && not t.Nested && (x.Tid = t.Id || x.Tid = 0) && (y.Tid = t.Id || y.Tid = 0) then
                let v = Rules.value2 f x.V y.V
                let struct (dx, dy) = Rules.partials2<float> f x.V y.V v
                let ix = if x.Tid = 0 then -1 else x.I
                let iy = if y.Tid = 0 then -1 else y.I
                if t.Kind = TraceKind.Reverse then
                    let i = t.Push(NodeKind.Scalar, ix, iy, dx, dy)
                    if t.SecondOrder then
                        let struct (hxx, hxy, hyy) = Rules.hessian2 f x.V y.V v dx dy
                        t.SetHessian(i, hxx, hxy, hyy)
                    Real(v, i, t.Id)
                else
                    let tx = if ix < 0 then 0.0 else dx * t.D0[ix]
                    let ty = if iy < 0 then 0.0 else dy * t.D0[iy]
                    Real(v, t.Push(NodeKind.Scalar, -1, -1, tx + ty, 0.0), t.Id)
            else Real.Slow2(f, x, y)

    /// f(x, c) with c constant (no 0·∞ from an unused partial).
    static member inline Apply2L(f: Fun2, x: Real, c: float) : Real = Real.Apply2(f, x, Real c)
    /// f(c, y) with c constant.
    static member inline Apply2R(f: Fun2, c: float, y: Real) : Real = Real.Apply2(f, Real c, y)

    /// x (a value of trace t) as the value of the level below that it stands for.
    static member Lower(t: Trace, x: Real) = if t.Nested then Real(x.V, t.PI[x.I], t.PT[x.I]) else Real x.V
    /// The tangent of slot i of forward trace t, as a value of the level below.
    static member Tangent(t: Trace, i: int) = if t.Nested then Real(t.D0[i], t.D0I[i], t.D0T[i]) else Real t.D0[i]
    /// The partials of slot i of reverse trace t, as values of the level below.
    static member Partial0(t: Trace, i: int) = if t.Nested then Real(t.D0[i], t.D0I[i], t.D0T[i]) else Real t.D0[i]
    static member Partial1(t: Trace, i: int) = if t.Nested then Real(t.D1[i], t.D1I[i], t.D1T[i]) else Real t.D1[i]

    /// The general path of Apply1: x's trace may be nested or not the innermost.
    static member Slow1(f: Fun1, c: float, x: Real) : Real =
        let t = Traces.Find x.Tid
        let lx = Real.Lower(t, x)
        let lv = Real.Apply1(f, c, lx)
        let d = Rules.d1<Real> f c lx lv
        let i =
            if t.Kind = TraceKind.Reverse then
                let i = t.Push(NodeKind.Scalar, x.I, -1, d.V, 0.0)
                t.SetD0(i, d.I, d.Tid)
                if t.SecondOrder then t.SetHessian(i, Rules.d2 f c lx.V lv.V d.V, 0.0, 0.0)
                i
            else
                let tan = Real.Apply2(Fun2.Mul, d, Real.Tangent(t, x.I))
                let i = t.Push(NodeKind.Scalar, -1, -1, tan.V, 0.0)
                t.SetD0(i, tan.I, tan.Tid)
                i
        t.SetLower(i, lv.I, lv.Tid)
        Real(lv.V, i, t.Id)

    /// The general path of Apply2.
    static member Slow2(f: Fun2, x: Real, y: Real) : Real =
        let tx = if x.Tid = 0 then null else Traces.Find x.Tid
        let ty = if y.Tid = 0 then null else Traces.Find y.Tid
        let t = if isNull tx then ty elif isNull ty then tx elif tx.Id >= ty.Id then tx else ty
        let inX = x.Tid = t.Id
        let inY = y.Tid = t.Id
        let lx = if inX then Real.Lower(t, x) else x
        let ly = if inY then Real.Lower(t, y) else y
        let lv = Real.Apply2(f, lx, ly)
        let struct (dx, dy) = Rules.partials2<Real> f lx ly lv
        let i =
            if t.Kind = TraceKind.Reverse then
                let i = t.Push(NodeKind.Scalar, (if inX then x.I else -1), (if inY then y.I else -1), dx.V, dy.V)
                t.SetD0(i, dx.I, dx.Tid)
                t.SetD1(i, dy.I, dy.Tid)
                if t.SecondOrder then
                    let struct (hxx, hxy, hyy) = Rules.hessian2 f lx.V ly.V lv.V dx.V dy.V
                    t.SetHessian(i, hxx, hxy, hyy)
                i
            else
                let tan =
                    if inX && inY then
                        Real.Apply2(Fun2.Add, Real.Apply2(Fun2.Mul, dx, Real.Tangent(t, x.I)), Real.Apply2(Fun2.Mul, dy, Real.Tangent(t, y.I)))
                    elif inX then Real.Apply2(Fun2.Mul, dx, Real.Tangent(t, x.I))
                    else Real.Apply2(Fun2.Mul, dy, Real.Tangent(t, y.I))
                let i = t.Push(NodeKind.Scalar, -1, -1, tan.V, 0.0)
                t.SetD0(i, tan.I, tan.Tid)
                i
        t.SetLower(i, lv.I, lv.Tid)
        Real(lv.V, i, t.Id)

    /// A value of trace t that depends on the values xs of t with partials ∂/∂xs (values of the level
    /// below, so they stay differentiable there), standing for `lower` (the value below): one node
    /// per argument on a reverse trace (a chain of two-argument nodes), one on a forward trace. What
    /// a primitive with many inputs, whose Jacobian row is known, records on a nested trace.
    static member Combine(t: Trace, xs: Real[], partials: Real[], lower: Real) : Real =
        let n = xs.Length
        let i =
            if n = 0 then t.PushInputs 1
            elif t.Kind = TraceKind.Reverse then
                let mutable i = t.Push(NodeKind.Scalar, xs[0].I, -1, partials[0].V, 0.0)
                t.SetD0(i, partials[0].I, partials[0].Tid)
                for j in 1 .. n - 1 do
                    let p = partials[j]
                    let prev = i
                    i <- t.Push(NodeKind.Scalar, prev, xs[j].I, 1.0, p.V)
                    t.SetD0(i, 0, 0)
                    t.SetD1(i, p.I, p.Tid)
                if t.SecondOrder then
                    invalidOp "Hybrid internal error: a many-argument node on a second-order trace."
                i
            else
                let mutable tan = Real 0.0
                for j in 0 .. n - 1 do tan <- tan + partials[j] * Real.Tangent(t, xs[j].I)
                let i = t.Push(NodeKind.Scalar, -1, -1, tan.V, 0.0)
                t.SetD0(i, tan.I, tan.Tid)
                i
        t.SetLower(i, lower.I, lower.Tid)
        Real(lower.V, i, t.Id)

    /// A new slot of trace t standing for x: an input (x constant or of a lower level: no argument,
    /// tangent `tan` in forward traces) or a copy (x of t itself: derivative 1).
    static member Lift(t: Trace, x: Real, tan: Real) : Real =
        if x.Tid = t.Id then
            if t.Kind = TraceKind.Reverse then
                let i = t.Push(NodeKind.Scalar, x.I, -1, 1.0, 0.0)
                t.SetD0(i, 0, 0)
                if t.SecondOrder then t.SetHessian(i, 0.0, 0.0, 0.0)
                t.SetLower(i, (if t.Nested then t.PI[x.I] else 0), (if t.Nested then t.PT[x.I] else 0))
                Real(x.V, i, t.Id)
            else
                let tx = Real.Tangent(t, x.I)
                let i = t.Push(NodeKind.Scalar, -1, -1, tx.V, 0.0)
                t.SetD0(i, tx.I, tx.Tid)
                t.SetLower(i, (if t.Nested then t.PI[x.I] else 0), (if t.Nested then t.PT[x.I] else 0))
                Real(x.V, i, t.Id)
        else
            if x.Tid <> 0 && x.Tid > t.Id then Traces.Escaped x.Tid
            if x.Tid <> 0 then Traces.Find x.Tid |> ignore
            let i = t.PushInputs 1
            if t.Kind = TraceKind.Forward then
                t.D0[i] <- tan.V
                t.SetD0(i, tan.I, tan.Tid)
            t.SetLower(i, x.I, x.Tid)
            Real(x.V, i, t.Id)

    /// "value" (derivative information is not shown).
    override x.ToString() = x.V.ToString("R", Globalization.CultureInfo.InvariantCulture)
    /// The primal value formatted with `format`.
    member x.ToString(format: string, provider: IFormatProvider) = x.V.ToString(format, provider)

    // BEGIN generic-math surface. Everything from here to the end of the type is written only in terms
    // of the primitives above, and is the same text in every number type with the type name replaced
    // (scripts/number-surface.py copies it from Real.fs into DualN.fs and HyperDual.fs).

    /// 0.
    static member Zero = Real.Const 0.0
    /// 1.
    static member One = Real.Const 1.0
    /// e.
    static member E = Real.Const Math.E
    /// π.
    static member Pi = Real.Const Math.PI
    /// τ = 2π.
    static member Tau = Real.Const Math.Tau
    /// NaN.
    static member NaN = Real.Const Double.NaN
    /// +∞.
    static member PositiveInfinity = Real.Const Double.PositiveInfinity
    /// −∞.
    static member NegativeInfinity = Real.Const Double.NegativeInfinity
    /// Double.MinValue.
    static member MinValue = Real.Const Double.MinValue
    /// Double.MaxValue.
    static member MaxValue = Real.Const Double.MaxValue

    /// The constant x.
    static member op_Implicit(x: float) : Real = Real.Const x
    /// The explicit conversion to double (see ToDouble).
    static member op_Explicit(x: Real) : float = Real.ToDouble x

    /// −x.
    [<MethodImpl(MethodImplOptions.AggressiveInlining)>]
    static member (~-)(x: Real) = Real.Apply1(Fun1.Neg, 0.0, x)
    /// x.
    static member (~+)(x: Real) = x
    /// x + y.
    [<MethodImpl(MethodImplOptions.AggressiveInlining)>]
    static member (+)(x: Real, y: Real) = Real.Apply2(Fun2.Add, x, y)
    /// x + c.
    [<MethodImpl(MethodImplOptions.AggressiveInlining)>]
    static member (+)(x: Real, c: float) = Real.Apply2L(Fun2.Add, x, c)
    /// c + y.
    [<MethodImpl(MethodImplOptions.AggressiveInlining)>]
    static member (+)(c: float, y: Real) = Real.Apply2R(Fun2.Add, c, y)
    /// x − y.
    [<MethodImpl(MethodImplOptions.AggressiveInlining)>]
    static member (-)(x: Real, y: Real) = Real.Apply2(Fun2.Sub, x, y)
    /// x − c.
    [<MethodImpl(MethodImplOptions.AggressiveInlining)>]
    static member (-)(x: Real, c: float) = Real.Apply2L(Fun2.Sub, x, c)
    /// c − y.
    [<MethodImpl(MethodImplOptions.AggressiveInlining)>]
    static member (-)(c: float, y: Real) = Real.Apply2R(Fun2.Sub, c, y)
    /// x · y.
    [<MethodImpl(MethodImplOptions.AggressiveInlining)>]
    static member (*)(x: Real, y: Real) = Real.Apply2(Fun2.Mul, x, y)
    /// x · c.
    [<MethodImpl(MethodImplOptions.AggressiveInlining)>]
    static member (*)(x: Real, c: float) = Real.Apply2L(Fun2.Mul, x, c)
    /// c · y.
    [<MethodImpl(MethodImplOptions.AggressiveInlining)>]
    static member (*)(c: float, y: Real) = Real.Apply2R(Fun2.Mul, c, y)
    /// x / y.
    [<MethodImpl(MethodImplOptions.AggressiveInlining)>]
    static member (/)(x: Real, y: Real) = Real.Apply2(Fun2.Div, x, y)
    /// x / c.
    [<MethodImpl(MethodImplOptions.AggressiveInlining)>]
    static member (/)(x: Real, c: float) = Real.Apply2L(Fun2.Div, x, c)
    /// c / y.
    [<MethodImpl(MethodImplOptions.AggressiveInlining)>]
    static member (/)(c: float, y: Real) = Real.Apply2R(Fun2.Div, c, y)
    /// x % y (remainder with the sign of x); ∂/∂x = 1, ∂/∂y = −trunc(x/y).
    [<MethodImpl(MethodImplOptions.AggressiveInlining)>]
    static member (%)(x: Real, y: Real) = Real.Apply2(Fun2.Mod, x, y)
    /// x % c.
    [<MethodImpl(MethodImplOptions.AggressiveInlining)>]
    static member (%)(x: Real, c: float) = Real.Apply2L(Fun2.Mod, x, c)
    /// c % y.
    [<MethodImpl(MethodImplOptions.AggressiveInlining)>]
    static member (%)(c: float, y: Real) = Real.Apply2R(Fun2.Mod, c, y)
    /// x + 1.
    static member op_Increment(x: Real) = Real.Apply2L(Fun2.Add, x, 1.0)
    /// x − 1.
    static member op_Decrement(x: Real) = Real.Apply2L(Fun2.Sub, x, 1.0)

    /// Primal x = primal y (derivative parts ignored; NaN ≠ NaN).
    static member op_Equality(x: Real, y: Real) = Real.Primal x = Real.Primal y
    /// Primal x ≠ primal y.
    static member op_Inequality(x: Real, y: Real) = Real.Primal x <> Real.Primal y
    /// Primal x &lt; primal y.
    static member op_LessThan(x: Real, y: Real) = Real.Primal x < Real.Primal y
    /// Primal x ≤ primal y.
    static member op_LessThanOrEqual(x: Real, y: Real) = Real.Primal x <= Real.Primal y
    /// Primal x &gt; primal y.
    static member op_GreaterThan(x: Real, y: Real) = Real.Primal x > Real.Primal y
    /// Primal x ≥ primal y.
    static member op_GreaterThanOrEqual(x: Real, y: Real) = Real.Primal x >= Real.Primal y

    /// |x|; abs'(0) = 0.
    static member Abs(x: Real) = Real.Apply1(Fun1.Abs, 0.0, x)
    /// −x.
    static member Negate(x: Real) = Real.Apply1(Fun1.Neg, 0.0, x)
    /// 1/x.
    static member Reciprocal(x: Real) = Real.Apply1(Fun1.Recip, 0.0, x)
    /// x².
    static member Square(x: Real) = Real.Apply1(Fun1.Square, 0.0, x)
    /// √x; sqrt'(0) = +∞.
    static member Sqrt(x: Real) = Real.Apply1(Fun1.Sqrt, 0.0, x)
    /// ∛x (real cube root); cbrt'(0) = +∞.
    static member Cbrt(x: Real) = Real.Apply1(Fun1.Cbrt, 0.0, x)
    /// x^(1/n), the real n-th root (negative x with odd n gives −(−x)^(1/n)).
    static member RootN(x: Real, n: int) =
        if n % 2 <> 0 && Real.Primal x < 0.0 then -Real.Apply1(Fun1.PowC, 1.0 / float n, -x)
        else Real.Apply1(Fun1.PowC, 1.0 / float n, x)
    /// √(x² + y²) without overflow; derivative 0 at (0, 0).
    static member Hypot(x: Real, y: Real) = Real.Apply2(Fun2.Hypot, x, y)
    /// eˣ.
    static member Exp(x: Real) = Real.Apply1(Fun1.Exp, 0.0, x)
    /// 2ˣ.
    static member Exp2(x: Real) = Real.Apply1(Fun1.Exp2, 0.0, x)
    /// 10ˣ = exp(x·ln 10).
    static member Exp10(x: Real) = Real.Exp(Real.Apply2L(Fun2.Mul, x, Rules.ln10))
    /// eˣ − 1, accurate near 0.
    static member ExpM1(x: Real) = Real.Apply1(Fun1.Expm1, 0.0, x)
    /// 2ˣ − 1 = expm1(x·ln 2).
    static member Exp2M1(x: Real) = Real.ExpM1(Real.Apply2L(Fun2.Mul, x, Rules.ln2))
    /// 10ˣ − 1 = expm1(x·ln 10).
    static member Exp10M1(x: Real) = Real.ExpM1(Real.Apply2L(Fun2.Mul, x, Rules.ln10))
    /// ln x.
    static member Log(x: Real) = Real.Apply1(Fun1.Log, 0.0, x)
    /// log_b x = ln x / ln b.
    static member Log(x: Real, b: Real) = Real.Log x / Real.Log b
    /// log₂ x.
    static member Log2(x: Real) = Real.Apply1(Fun1.Log2, 0.0, x)
    /// log₁₀ x.
    static member Log10(x: Real) = Real.Apply1(Fun1.Log10, 0.0, x)
    /// ln(1 + x), accurate near 0.
    static member LogP1(x: Real) = Real.Apply1(Fun1.Log1p, 0.0, x)
    /// log₂(1 + x) = log1p(x) / ln 2.
    static member Log2P1(x: Real) = Real.Apply2L(Fun2.Div, Real.LogP1 x, Rules.ln2)
    /// log₁₀(1 + x) = log1p(x) / ln 10.
    static member Log10P1(x: Real) = Real.Apply2L(Fun2.Div, Real.LogP1 x, Rules.ln10)
    /// xʸ; ∂/∂y at x = 0 is 0. A constant argument takes the constant form, so a constant exponent
    /// with a negative base (x² written Pow(x, 2)) has no 0·log(x) = NaN term, as in double code.
    static member Pow(x: Real, y: Real) =
        if Real.IsConstant y then Real.Apply2L(Fun2.Pow, x, Real.Primal y)
        elif Real.IsConstant x then Real.Apply2R(Fun2.Pow, Real.Primal x, y)
        else Real.Apply2(Fun2.Pow, x, y)
    /// xᶜ for a constant exponent c.
    static member Pow(x: Real, c: float) = Real.Apply1(Fun1.PowC, c, x)
    /// xⁿ for an integer exponent n.
    static member Pow(x: Real, n: int) = Real.Apply1(Fun1.PowC, float n, x)
    /// cʸ for a constant base c.
    static member Pow(c: float, y: Real) = Real.Apply2R(Fun2.Pow, c, y)
    /// sin x.
    static member Sin(x: Real) = Real.Apply1(Fun1.Sin, 0.0, x)
    /// cos x.
    static member Cos(x: Real) = Real.Apply1(Fun1.Cos, 0.0, x)
    /// (sin x, cos x).
    static member SinCos(x: Real) = struct (Real.Sin x, Real.Cos x)
    /// tan x.
    static member Tan(x: Real) = Real.Apply1(Fun1.Tan, 0.0, x)
    /// sin(πx).
    static member SinPi(x: Real) = Real.Sin(Real.Apply2L(Fun2.Mul, x, Math.PI))
    /// cos(πx).
    static member CosPi(x: Real) = Real.Cos(Real.Apply2L(Fun2.Mul, x, Math.PI))
    /// (sin πx, cos πx).
    static member SinCosPi(x: Real) = struct (Real.SinPi x, Real.CosPi x)
    /// tan(πx).
    static member TanPi(x: Real) = Real.Tan(Real.Apply2L(Fun2.Mul, x, Math.PI))
    /// asin x.
    static member Asin(x: Real) = Real.Apply1(Fun1.Asin, 0.0, x)
    /// acos x.
    static member Acos(x: Real) = Real.Apply1(Fun1.Acos, 0.0, x)
    /// atan x.
    static member Atan(x: Real) = Real.Apply1(Fun1.Atan, 0.0, x)
    /// asin(x)/π.
    static member AsinPi(x: Real) = Real.Apply2L(Fun2.Div, Real.Asin x, Math.PI)
    /// acos(x)/π.
    static member AcosPi(x: Real) = Real.Apply2L(Fun2.Div, Real.Acos x, Math.PI)
    /// atan(x)/π.
    static member AtanPi(x: Real) = Real.Apply2L(Fun2.Div, Real.Atan x, Math.PI)
    /// atan2(y, x), the angle of the point (x, y), in .NET's argument order.
    static member Atan2(y: Real, x: Real) = Real.Apply2(Fun2.Atan2, y, x)
    /// atan2(y, x)/π.
    static member Atan2Pi(y: Real, x: Real) = Real.Apply2L(Fun2.Div, Real.Atan2(y, x), Math.PI)
    /// degrees · π/180.
    static member DegreesToRadians(x: Real) = Real.Apply2L(Fun2.Mul, x, Math.PI / 180.0)
    /// radians · 180/π.
    static member RadiansToDegrees(x: Real) = Real.Apply2L(Fun2.Mul, x, 180.0 / Math.PI)
    /// sinh x.
    static member Sinh(x: Real) = Real.Apply1(Fun1.Sinh, 0.0, x)
    /// cosh x.
    static member Cosh(x: Real) = Real.Apply1(Fun1.Cosh, 0.0, x)
    /// tanh x.
    static member Tanh(x: Real) = Real.Apply1(Fun1.Tanh, 0.0, x)
    /// asinh x.
    static member Asinh(x: Real) = Real.Apply1(Fun1.Asinh, 0.0, x)
    /// acosh x.
    static member Acosh(x: Real) = Real.Apply1(Fun1.Acosh, 0.0, x)
    /// atanh x.
    static member Atanh(x: Real) = Real.Apply1(Fun1.Atanh, 0.0, x)
    /// erf x = (2/√π)∫₀ˣ e^(−t²) dt.
    static member Erf(x: Real) = Real.Apply1(Fun1.Erf, 0.0, x)
    /// min(x, y); a tie splits the derivative ½, ½; NaN if either is NaN.
    static member Min(x: Real, y: Real) = Real.Apply2(Fun2.Min, x, y)
    /// max(x, y); a tie splits the derivative ½, ½; NaN if either is NaN.
    static member Max(x: Real, y: Real) = Real.Apply2(Fun2.Max, x, y)
    /// The argument of larger |primal| (x at a tie), as Math.MaxMagnitude.
    static member MaxMagnitude(x: Real, y: Real) =
        if Double.IsNaN(Real.Primal x) then x elif Double.IsNaN(Real.Primal y) then y
        elif Math.Abs(Real.Primal y) > Math.Abs(Real.Primal x) then y else x
    /// The argument of smaller |primal| (x at a tie), as Math.MinMagnitude.
    static member MinMagnitude(x: Real, y: Real) =
        if Double.IsNaN(Real.Primal x) then x elif Double.IsNaN(Real.Primal y) then y
        elif Math.Abs(Real.Primal y) < Math.Abs(Real.Primal x) then y else x
    /// MaxMagnitude, preferring the number when one primal is NaN.
    static member MaxMagnitudeNumber(x: Real, y: Real) =
        if Double.IsNaN(Real.Primal x) then y elif Double.IsNaN(Real.Primal y) then x else Real.MaxMagnitude(x, y)
    /// MinMagnitude, preferring the number when one primal is NaN.
    static member MinMagnitudeNumber(x: Real, y: Real) =
        if Double.IsNaN(Real.Primal x) then y elif Double.IsNaN(Real.Primal y) then x else Real.MinMagnitude(x, y)

    /// Is the primal NaN? (All Is* predicates look at the primal only.)
    static member IsNaN(x: Real) = Double.IsNaN(Real.Primal x)
    /// IsFinite, of the primal.
    static member IsFinite(x: Real) = Double.IsFinite(Real.Primal x)
    /// IsInfinity, of the primal.
    static member IsInfinity(x: Real) = Double.IsInfinity(Real.Primal x)
    /// IsPositiveInfinity, of the primal.
    static member IsPositiveInfinity(x: Real) = Double.IsPositiveInfinity(Real.Primal x)
    /// IsNegativeInfinity, of the primal.
    static member IsNegativeInfinity(x: Real) = Double.IsNegativeInfinity(Real.Primal x)
    /// IsNegative, of the primal.
    static member IsNegative(x: Real) = Double.IsNegative(Real.Primal x)
    /// IsPositive, of the primal.
    static member IsPositive(x: Real) = Double.IsPositive(Real.Primal x)
    /// IsZero, of the primal.
    static member IsZero(x: Real) = Real.Primal x = 0.0
    /// IsNormal, of the primal.
    static member IsNormal(x: Real) = Double.IsNormal(Real.Primal x)
    /// IsSubnormal, of the primal.
    static member IsSubnormal(x: Real) = Double.IsSubnormal(Real.Primal x)
    /// IsInteger, of the primal.
    static member IsInteger(x: Real) = Double.IsInteger(Real.Primal x)
    /// IsEvenInteger, of the primal.
    static member IsEvenInteger(x: Real) = Double.IsEvenInteger(Real.Primal x)
    /// IsOddInteger, of the primal.
    static member IsOddInteger(x: Real) = Double.IsOddInteger(Real.Primal x)

    /// A constant from any .NET number (through double); a Real argument is kept as is.
    static member CreateChecked<'O when 'O :> INumberBase<'O>>(v: 'O) : Real =
        let mutable v = v
        if typeof<'O> = typeof<Real> then Unsafe.As<'O, Real>(&v) else Real.Const(Double.CreateChecked v)
    /// As CreateChecked, saturating.
    static member CreateSaturating<'O when 'O :> INumberBase<'O>>(v: 'O) : Real =
        let mutable v = v
        if typeof<'O> = typeof<Real> then Unsafe.As<'O, Real>(&v) else Real.Const(Double.CreateSaturating v)
    /// As CreateChecked, truncating.
    static member CreateTruncating<'O when 'O :> INumberBase<'O>>(v: 'O) : Real =
        let mutable v = v
        if typeof<'O> = typeof<Real> then Unsafe.As<'O, Real>(&v) else Real.Const(Double.CreateTruncating v)

    /// Parses the primal value (a constant).
    static member Parse(s: string, provider: IFormatProvider) = Real.Const(Double.Parse(s, provider))
    static member Parse(s: string, style: NumberStyles, provider: IFormatProvider) = Real.Const(Double.Parse(s, style, provider))
    static member Parse(s: ReadOnlySpan<char>, provider: IFormatProvider) = Real.Const(Double.Parse(s, provider))
    static member Parse(s: ReadOnlySpan<char>, style: NumberStyles, provider: IFormatProvider) = Real.Const(Double.Parse(s, style, provider))
    static member Parse(s: ReadOnlySpan<byte>, provider: IFormatProvider) = Real.Const(Double.Parse(s, provider))
    static member Parse(s: ReadOnlySpan<byte>, style: NumberStyles, provider: IFormatProvider) = Real.Const(Double.Parse(s, style, provider))
    /// Parses the primal value (a constant); false if the text is not a number.
    static member TryParse(s: string, provider: IFormatProvider, result: byref<Real>) =
        let mutable d = 0.0
        let ok = Double.TryParse(s, provider, &d)
        result <- Real.Const d
        ok
    static member TryParse(s: string, style: NumberStyles, provider: IFormatProvider, result: byref<Real>) =
        let mutable d = 0.0
        let ok = Double.TryParse(s, style, provider, &d)
        result <- Real.Const d
        ok
    static member TryParse(s: ReadOnlySpan<char>, provider: IFormatProvider, result: byref<Real>) =
        let mutable d = 0.0
        let ok = Double.TryParse(s, provider, &d)
        result <- Real.Const d
        ok
    static member TryParse(s: ReadOnlySpan<char>, style: NumberStyles, provider: IFormatProvider, result: byref<Real>) =
        let mutable d = 0.0
        let ok = Double.TryParse(s, style, provider, &d)
        result <- Real.Const d
        ok
    static member TryParse(s: ReadOnlySpan<byte>, provider: IFormatProvider, result: byref<Real>) =
        let mutable d = 0.0
        let ok = Double.TryParse(s, provider, &d)
        result <- Real.Const d
        ok
    static member TryParse(s: ReadOnlySpan<byte>, style: NumberStyles, provider: IFormatProvider, result: byref<Real>) =
        let mutable d = 0.0
        let ok = Double.TryParse(s, style, provider, &d)
        result <- Real.Const d
        ok

    /// Equality of primal values (Double.Equals: NaN equals NaN here, as for double).
    member x.Equals(y: Real) = (Real.Primal x).Equals(Real.Primal y)
    override x.Equals(o: obj) = match o with :? Real as y -> x.Equals y | _ -> false
    override x.GetHashCode() = (Real.Primal x).GetHashCode()
    /// Orders by primal value.
    member x.CompareTo(y: Real) = (Real.Primal x).CompareTo(Real.Primal y)

    interface IEquatable<Real> with
        member x.Equals(y) = x.Equals y
    interface IComparable<Real> with
        member x.CompareTo(y) = x.CompareTo y
    interface IComparable with
        member x.CompareTo(o) =
            match o with
            | null -> 1
            | :? Real as y -> x.CompareTo y
            | _ -> raise (ArgumentException("Object must be of type Real.", "obj"))
    interface IFormattable with
        member x.ToString(format, provider) = x.ToString(format, provider)
    interface ISpanFormattable with
        member x.TryFormat(destination, charsWritten, format, provider) =
            let s = x.ToString(format.ToString(), provider)
            if s.AsSpan().TryCopyTo destination then
                charsWritten <- s.Length
                true
            else
                charsWritten <- 0
                false

    interface INumberBase<Real> with
        static member Zero = Real.Zero
        static member One = Real.One
        static member Radix = 2
        static member AdditiveIdentity = Real.Zero
        static member MultiplicativeIdentity = Real.One
        static member op_Addition(x, y) = x + y
        static member op_Subtraction(x, y) = x - y
        static member op_Multiply(x, y) = x * y
        static member op_Division(x, y) = x / y
        static member op_UnaryNegation x = -x
        static member op_UnaryPlus x = x
        static member op_Increment x = Real.op_Increment x
        static member op_Decrement x = Real.op_Decrement x
        static member Abs x = Real.Abs x
        static member IsCanonical _ = true
        static member IsComplexNumber _ = false
        static member IsImaginaryNumber _ = false
        static member IsRealNumber x = not (Real.IsNaN x)
        static member IsNaN x = Real.IsNaN x
        static member IsFinite x = Real.IsFinite x
        static member IsInfinity x = Real.IsInfinity x
        static member IsPositiveInfinity x = Real.IsPositiveInfinity x
        static member IsNegativeInfinity x = Real.IsNegativeInfinity x
        static member IsNegative x = Real.IsNegative x
        static member IsPositive x = Real.IsPositive x
        static member IsZero x = Real.IsZero x
        static member IsNormal x = Real.IsNormal x
        static member IsSubnormal x = Real.IsSubnormal x
        static member IsInteger x = Real.IsInteger x
        static member IsEvenInteger x = Real.IsEvenInteger x
        static member IsOddInteger x = Real.IsOddInteger x
        static member MaxMagnitude(x, y) = Real.MaxMagnitude(x, y)
        static member MinMagnitude(x, y) = Real.MinMagnitude(x, y)
        static member MaxMagnitudeNumber(x, y) = Real.MaxMagnitudeNumber(x, y)
        static member MinMagnitudeNumber(x, y) = Real.MinMagnitudeNumber(x, y)
        static member CreateChecked v = Real.CreateChecked v
        static member CreateSaturating v = Real.CreateSaturating v
        static member CreateTruncating v = Real.CreateTruncating v
        static member TryConvertFromChecked(v, result) = NumberConvert.tryFrom(Real.CreateChecked, v, &result)
        static member TryConvertFromSaturating(v, result) = NumberConvert.tryFrom(Real.CreateSaturating, v, &result)
        static member TryConvertFromTruncating(v, result) = NumberConvert.tryFrom(Real.CreateTruncating, v, &result)
        static member TryConvertToChecked(x, result) = NumberConvert.tryToChecked(Real.Primal x, &result)
        static member TryConvertToSaturating(x, result) = NumberConvert.tryToSaturating(Real.Primal x, &result)
        static member TryConvertToTruncating(x, result) = NumberConvert.tryToTruncating(Real.Primal x, &result)
        static member Parse(s: string, style: NumberStyles, provider: IFormatProvider) = Real.Parse(s, style, provider)
        static member Parse(s: ReadOnlySpan<char>, style: NumberStyles, provider: IFormatProvider) = Real.Parse(s, style, provider)
        static member Parse(s: ReadOnlySpan<byte>, style: NumberStyles, provider: IFormatProvider) = Real.Parse(s, style, provider)
        static member Parse(s: string, provider: IFormatProvider) = Real.Parse(s, provider)
        static member Parse(s: ReadOnlySpan<char>, provider: IFormatProvider) = Real.Parse(s, provider)
        static member Parse(s: ReadOnlySpan<byte>, provider: IFormatProvider) = Real.Parse(s, provider)
        static member TryParse(s: string, style: NumberStyles, provider: IFormatProvider, result: byref<Real>) = Real.TryParse(s, style, provider, &result)
        static member TryParse(s: ReadOnlySpan<char>, style: NumberStyles, provider: IFormatProvider, result: byref<Real>) = Real.TryParse(s, style, provider, &result)
        static member TryParse(s: ReadOnlySpan<byte>, style: NumberStyles, provider: IFormatProvider, result: byref<Real>) = Real.TryParse(s, style, provider, &result)
        static member TryParse(s: string, provider: IFormatProvider, result: byref<Real>) = Real.TryParse(s, provider, &result)
        static member TryParse(s: ReadOnlySpan<char>, provider: IFormatProvider, result: byref<Real>) = Real.TryParse(s, provider, &result)
        static member TryParse(s: ReadOnlySpan<byte>, provider: IFormatProvider, result: byref<Real>) = Real.TryParse(s, provider, &result)
        member x.TryFormat(destination: Span<byte>, bytesWritten: byref<int>, format: ReadOnlySpan<char>, provider: IFormatProvider) =
            let s = x.ToString(format.ToString(), provider)
            let n = Text.Encoding.UTF8.GetByteCount s
            if n <= destination.Length then
                bytesWritten <- Text.Encoding.UTF8.GetBytes(s.AsSpan(), destination)
                true
            else
                bytesWritten <- 0
                false
    interface IEqualityOperators<Real, Real, bool> with
        static member op_Equality(x, y) = Real.op_Equality(x, y)
        static member op_Inequality(x, y) = Real.op_Inequality(x, y)
    interface IModulusOperators<Real, Real, Real> with
        static member op_Modulus(x, y) = x % y
    interface IComparisonOperators<Real, Real, bool> with
        static member op_LessThan(x, y) = Real.op_LessThan(x, y)
        static member op_LessThanOrEqual(x, y) = Real.op_LessThanOrEqual(x, y)
        static member op_GreaterThan(x, y) = Real.op_GreaterThan(x, y)
        static member op_GreaterThanOrEqual(x, y) = Real.op_GreaterThanOrEqual(x, y)
    interface IMinMaxValue<Real> with
        static member MinValue = Real.MinValue
        static member MaxValue = Real.MaxValue
    interface IFloatingPointConstants<Real> with
        static member E = Real.E
        static member Pi = Real.Pi
        static member Tau = Real.Tau
    interface IExponentialFunctions<Real> with
        static member Exp x = Real.Exp x
        static member Exp2 x = Real.Exp2 x
        static member Exp10 x = Real.Exp10 x
        static member ExpM1 x = Real.ExpM1 x
        static member Exp2M1 x = Real.Exp2M1 x
        static member Exp10M1 x = Real.Exp10M1 x
    interface ILogarithmicFunctions<Real> with
        static member Log(x: Real) = Real.Log x
        static member Log(x: Real, b: Real) = Real.Log(x, b)
        static member Log2 x = Real.Log2 x
        static member Log10 x = Real.Log10 x
        static member LogP1 x = Real.LogP1 x
        static member Log2P1 x = Real.Log2P1 x
        static member Log10P1 x = Real.Log10P1 x
    interface IPowerFunctions<Real> with
        static member Pow(x: Real, y: Real) = Real.Pow(x, y)
    interface IRootFunctions<Real> with
        static member Sqrt x = Real.Sqrt x
        static member Cbrt x = Real.Cbrt x
        static member RootN(x, n) = Real.RootN(x, n)
        static member Hypot(x, y) = Real.Hypot(x, y)
    interface ITrigonometricFunctions<Real> with
        static member Sin x = Real.Sin x
        static member Cos x = Real.Cos x
        static member Tan x = Real.Tan x
        static member SinCos x = Real.SinCos x
        static member SinPi x = Real.SinPi x
        static member CosPi x = Real.CosPi x
        static member TanPi x = Real.TanPi x
        static member SinCosPi x = Real.SinCosPi x
        static member Asin x = Real.Asin x
        static member Acos x = Real.Acos x
        static member Atan x = Real.Atan x
        static member AsinPi x = Real.AsinPi x
        static member AcosPi x = Real.AcosPi x
        static member AtanPi x = Real.AtanPi x
        static member DegreesToRadians x = Real.DegreesToRadians x
        static member RadiansToDegrees x = Real.RadiansToDegrees x
    interface IHyperbolicFunctions<Real> with
        static member Sinh x = Real.Sinh x
        static member Cosh x = Real.Cosh x
        static member Tanh x = Real.Tanh x
        static member Asinh x = Real.Asinh x
        static member Acosh x = Real.Acosh x
        static member Atanh x = Real.Atanh x
