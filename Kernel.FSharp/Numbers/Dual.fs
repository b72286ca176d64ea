namespace Hybrid.Kernel

open System
open System.Globalization
open System.Numerics
open System.Runtime.CompilerServices

/// A dual number V + T·ε (ε² = 0): a value and one tangent, for forward mode.
/// f(V + T·ε) = f(V) + f'(V)·T·ε, with f' taken from the one rule table (`Rules`).
///
/// Comparisons, equality, hashing and the Is* predicates use the primal `V` only: two duals with
/// the same value and different tangents are equal, as branching code expects. The tangent is an
/// IEEE product f'(V)·T, so NaN and ±∞ flow as in `double` (and 0·∞ = NaN, e.g. Sqrt at 0 with T = 0).
[<Struct; CustomEquality; CustomComparison>]
type Dual =
    /// The primal value.
    val V: float
    /// The tangent (directional derivative).
    val T: float
    /// V + T·ε.
    new(v, t) = { V = v; T = t }

    /// The primal value.
    member x.Value = x.V
    /// The tangent.
    member x.Tangent = x.T

    // ------------------------------------------------------------------------------------------------
    // The primitives: the only place this type applies the rule table. Every other member is
    // written in terms of these (and the block below is the same text in Dual, HyperDual and Real).

    /// A constant c + 0·ε.
    [<System.ComponentModel.EditorBrowsable(System.ComponentModel.EditorBrowsableState.Never)>]
    static member inline Const(c: float) = Dual(c, 0.0)

    /// f(x) for a unary rule: (f(V), f'(V)·T). `c` is PowC's exponent.
    [<System.ComponentModel.EditorBrowsable(System.ComponentModel.EditorBrowsableState.Never)>]
    static member inline Apply1(f: Fun1, c: float, x: Dual) =
        let v = Rules.value1 f c x.V
        Dual(v, Rules.d1<float> f c x.V v * x.T)

    /// f(x, y) for a binary rule: (f, f_x·x.T + f_y·y.T).
    [<System.ComponentModel.EditorBrowsable(System.ComponentModel.EditorBrowsableState.Never)>]
    static member inline Apply2(f: Fun2, x: Dual, y: Dual) =
        let v = Rules.value2 f x.V y.V
        let struct (dx, dy) = Rules.partials2<float> f x.V y.V v
        Dual(v, dx * x.T + dy * y.T)

    /// f(x, c) with c constant: (f, f_x·x.T). No 0·f_y term, so an infinite f_y cannot make NaN.
    [<System.ComponentModel.EditorBrowsable(System.ComponentModel.EditorBrowsableState.Never)>]
    static member inline Apply2L(f: Fun2, x: Dual, c: float) =
        let v = Rules.value2 f x.V c
        let struct (dx, _) = Rules.partials2<float> f x.V c v
        Dual(v, dx * x.T)

    /// f(c, y) with c constant: (f, f_y·y.T).
    [<System.ComponentModel.EditorBrowsable(System.ComponentModel.EditorBrowsableState.Never)>]
    static member inline Apply2R(f: Fun2, c: float, y: Dual) =
        let v = Rules.value2 f c y.V
        let struct (_, dy) = Rules.partials2<float> f c y.V v
        Dual(v, dy * y.T)

    /// Is x a constant (the tangent is 0)? Pow uses it to take the constant-argument forms.
    [<System.ComponentModel.EditorBrowsable(System.ComponentModel.EditorBrowsableState.Never)>]
    static member inline IsConstant(x: Dual) = x.T = 0.0

    /// The primal value (what comparisons and predicates see).
    [<System.ComponentModel.EditorBrowsable(System.ComponentModel.EditorBrowsableState.Never)>]
    static member inline Primal(x: Dual) = x.V

    /// A decision on primal values with its outcome (Real turns it into a guard while Fn.Compile records).
    static member inline internal Decided(_: Decision, _: Dual, _: Dual, outcome: bool) = outcome
    /// Decided for an integer outcome (CompareTo).
    static member inline internal DecidedInt(_: Decision, _: Dual, _: Dual, outcome: int) = outcome
    /// The primal value where the surface uses it beyond a decision (hashing, conversions).
    static member inline internal Observed(x: Dual) = x.V

    /// The explicit conversion to double: the primal value (the derivative parts are dropped, as for any
    /// plain number type).
    [<System.ComponentModel.EditorBrowsable(System.ComponentModel.EditorBrowsableState.Never)>]
    static member inline ToDouble(x: Dual) = x.V

    /// "V + Tε".
    override x.ToString() = x.ToString(null, CultureInfo.InvariantCulture)
    /// "V + Tε", each part formatted with `format`.
    member x.ToString(format: string, provider: IFormatProvider) =
        x.V.ToString(format, provider) + " + " + x.T.ToString(format, provider) + "ε"

    // ------------------------------------------------------------------------------------------------
    // BEGIN generic-math surface. Everything from here to the end of the type is written only in terms
    // of the primitives above, and is the same text in every number type with the type name replaced
    // (the build appends it, the type name replaced, to HyperDual.fs and Real.fs: NumberSurface.targets).

    /// 0.
    static member Zero = Dual.Const 0.0
    /// 1.
    static member One = Dual.Const 1.0
    /// e.
    static member E = Dual.Const Math.E
    /// π.
    static member Pi = Dual.Const Math.PI
    /// τ = 2π.
    static member Tau = Dual.Const Math.Tau
    /// NaN.
    static member NaN = Dual.Const Double.NaN
    /// +∞.
    static member PositiveInfinity = Dual.Const Double.PositiveInfinity
    /// −∞.
    static member NegativeInfinity = Dual.Const Double.NegativeInfinity
    /// Double.MinValue.
    static member MinValue = Dual.Const Double.MinValue
    /// Double.MaxValue.
    static member MaxValue = Dual.Const Double.MaxValue

    /// The constant x.
    static member op_Implicit(x: float) : Dual = Dual.Const x
    /// The explicit conversion to double (see ToDouble).
    static member op_Explicit(x: Dual) : float = Dual.ToDouble x

    /// −x.
    [<MethodImpl(MethodImplOptions.AggressiveInlining)>]
    static member (~-)(x: Dual) = Dual.Apply1(Fun1.Neg, 0.0, x)
    /// x.
    static member (~+)(x: Dual) = x
    /// x + y.
    [<MethodImpl(MethodImplOptions.AggressiveInlining)>]
    static member (+)(x: Dual, y: Dual) = Dual.Apply2(Fun2.Add, x, y)
    /// x + c.
    [<MethodImpl(MethodImplOptions.AggressiveInlining)>]
    static member (+)(x: Dual, c: float) = Dual.Apply2L(Fun2.Add, x, c)
    /// c + y.
    [<MethodImpl(MethodImplOptions.AggressiveInlining)>]
    static member (+)(c: float, y: Dual) = Dual.Apply2R(Fun2.Add, c, y)
    /// x − y.
    [<MethodImpl(MethodImplOptions.AggressiveInlining)>]
    static member (-)(x: Dual, y: Dual) = Dual.Apply2(Fun2.Sub, x, y)
    /// x − c.
    [<MethodImpl(MethodImplOptions.AggressiveInlining)>]
    static member (-)(x: Dual, c: float) = Dual.Apply2L(Fun2.Sub, x, c)
    /// c − y.
    [<MethodImpl(MethodImplOptions.AggressiveInlining)>]
    static member (-)(c: float, y: Dual) = Dual.Apply2R(Fun2.Sub, c, y)
    /// x · y.
    [<MethodImpl(MethodImplOptions.AggressiveInlining)>]
    static member (*)(x: Dual, y: Dual) = Dual.Apply2(Fun2.Mul, x, y)
    /// x · c.
    [<MethodImpl(MethodImplOptions.AggressiveInlining)>]
    static member (*)(x: Dual, c: float) = Dual.Apply2L(Fun2.Mul, x, c)
    /// c · y.
    [<MethodImpl(MethodImplOptions.AggressiveInlining)>]
    static member (*)(c: float, y: Dual) = Dual.Apply2R(Fun2.Mul, c, y)
    /// x / y.
    [<MethodImpl(MethodImplOptions.AggressiveInlining)>]
    static member (/)(x: Dual, y: Dual) = Dual.Apply2(Fun2.Div, x, y)
    /// x / c.
    [<MethodImpl(MethodImplOptions.AggressiveInlining)>]
    static member (/)(x: Dual, c: float) = Dual.Apply2L(Fun2.Div, x, c)
    /// c / y.
    [<MethodImpl(MethodImplOptions.AggressiveInlining)>]
    static member (/)(c: float, y: Dual) = Dual.Apply2R(Fun2.Div, c, y)
    /// x % y (remainder with the sign of x); ∂/∂x = 1, ∂/∂y = −trunc(x/y).
    [<MethodImpl(MethodImplOptions.AggressiveInlining)>]
    static member (%)(x: Dual, y: Dual) = Dual.Apply2(Fun2.Mod, x, y)
    /// x % c.
    [<MethodImpl(MethodImplOptions.AggressiveInlining)>]
    static member (%)(x: Dual, c: float) = Dual.Apply2L(Fun2.Mod, x, c)
    /// c % y.
    [<MethodImpl(MethodImplOptions.AggressiveInlining)>]
    static member (%)(c: float, y: Dual) = Dual.Apply2R(Fun2.Mod, c, y)
    /// x + 1.
    static member op_Increment(x: Dual) = Dual.Apply2L(Fun2.Add, x, 1.0)
    /// x − 1.
    static member op_Decrement(x: Dual) = Dual.Apply2L(Fun2.Sub, x, 1.0)

    /// Primal x = primal y (derivative parts ignored; NaN ≠ NaN).
    static member op_Equality(x: Dual, y: Dual) = Dual.Decided(Decision.Eq, x, y, Dual.Primal x = Dual.Primal y)
    /// Primal x ≠ primal y.
    static member op_Inequality(x: Dual, y: Dual) = Dual.Decided(Decision.Ne, x, y, Dual.Primal x <> Dual.Primal y)
    /// Primal x &lt; primal y.
    static member op_LessThan(x: Dual, y: Dual) = Dual.Decided(Decision.Lt, x, y, Dual.Primal x < Dual.Primal y)
    /// Primal x ≤ primal y.
    static member op_LessThanOrEqual(x: Dual, y: Dual) = Dual.Decided(Decision.Le, x, y, Dual.Primal x <= Dual.Primal y)
    /// Primal x &gt; primal y.
    static member op_GreaterThan(x: Dual, y: Dual) = Dual.Decided(Decision.Gt, x, y, Dual.Primal x > Dual.Primal y)
    /// Primal x ≥ primal y.
    static member op_GreaterThanOrEqual(x: Dual, y: Dual) = Dual.Decided(Decision.Ge, x, y, Dual.Primal x >= Dual.Primal y)

    /// |x|; abs'(0) = 0.
    static member Abs(x: Dual) = Dual.Apply1(Fun1.Abs, 0.0, x)
    /// −x.
    static member Negate(x: Dual) = Dual.Apply1(Fun1.Neg, 0.0, x)
    /// 1/x.
    static member Reciprocal(x: Dual) = Dual.Apply1(Fun1.Recip, 0.0, x)
    /// x².
    static member Square(x: Dual) = Dual.Apply1(Fun1.Square, 0.0, x)
    /// √x; sqrt'(0) = +∞.
    static member Sqrt(x: Dual) = Dual.Apply1(Fun1.Sqrt, 0.0, x)
    /// ∛x (real cube root); cbrt'(0) = +∞.
    static member Cbrt(x: Dual) = Dual.Apply1(Fun1.Cbrt, 0.0, x)
    /// x^(1/n), the real n-th root (negative x with odd n gives −(−x)^(1/n)).
    static member RootN(x: Dual, n: int) =
        if n % 2 <> 0 && Dual.Decided(Decision.Lt, x, Dual.Zero, Dual.Primal x < 0.0) then -Dual.Apply1(Fun1.PowC, 1.0 / float n, -x)
        else Dual.Apply1(Fun1.PowC, 1.0 / float n, x)
    /// √(x² + y²) without overflow; derivative 0 at (0, 0).
    static member Hypot(x: Dual, y: Dual) = Dual.Apply2(Fun2.Hypot, x, y)
    /// eˣ.
    static member Exp(x: Dual) = Dual.Apply1(Fun1.Exp, 0.0, x)
    /// 2ˣ.
    static member Exp2(x: Dual) = Dual.Apply1(Fun1.Exp2, 0.0, x)
    /// 10ˣ = exp(x·ln 10).
    static member Exp10(x: Dual) = Dual.Exp(Dual.Apply2L(Fun2.Mul, x, Rules.ln10))
    /// eˣ − 1, accurate near 0.
    static member ExpM1(x: Dual) = Dual.Apply1(Fun1.Expm1, 0.0, x)
    /// 2ˣ − 1 = expm1(x·ln 2).
    static member Exp2M1(x: Dual) = Dual.ExpM1(Dual.Apply2L(Fun2.Mul, x, Rules.ln2))
    /// 10ˣ − 1 = expm1(x·ln 10).
    static member Exp10M1(x: Dual) = Dual.ExpM1(Dual.Apply2L(Fun2.Mul, x, Rules.ln10))
    /// ln x.
    static member Log(x: Dual) = Dual.Apply1(Fun1.Log, 0.0, x)
    /// log_b x = ln x / ln b.
    static member Log(x: Dual, b: Dual) = Dual.Log x / Dual.Log b
    /// log₂ x.
    static member Log2(x: Dual) = Dual.Apply1(Fun1.Log2, 0.0, x)
    /// log₁₀ x.
    static member Log10(x: Dual) = Dual.Apply1(Fun1.Log10, 0.0, x)
    /// ln(1 + x), accurate near 0.
    static member LogP1(x: Dual) = Dual.Apply1(Fun1.Log1p, 0.0, x)
    /// log₂(1 + x) = log1p(x) / ln 2.
    static member Log2P1(x: Dual) = Dual.Apply2L(Fun2.Div, Dual.LogP1 x, Rules.ln2)
    /// log₁₀(1 + x) = log1p(x) / ln 10.
    static member Log10P1(x: Dual) = Dual.Apply2L(Fun2.Div, Dual.LogP1 x, Rules.ln10)
    /// xʸ; ∂/∂y at x = 0 is 0. A constant argument takes the constant form, so a constant exponent
    /// with a negative base (x² written Pow(x, 2)) has no 0·log(x) = NaN term, as in double code.
    static member Pow(x: Dual, y: Dual) =
        if Dual.IsConstant y then Dual.Apply2L(Fun2.Pow, x, Dual.Primal y)
        elif Dual.IsConstant x then Dual.Apply2R(Fun2.Pow, Dual.Primal x, y)
        else Dual.Apply2(Fun2.Pow, x, y)
    /// xᶜ for a constant exponent c.
    static member Pow(x: Dual, c: float) = Dual.Apply1(Fun1.PowC, c, x)
    /// xⁿ for an integer exponent n.
    static member Pow(x: Dual, n: int) = Dual.Apply1(Fun1.PowC, float n, x)
    /// cʸ for a constant base c.
    static member Pow(c: float, y: Dual) = Dual.Apply2R(Fun2.Pow, c, y)
    /// sin x.
    static member Sin(x: Dual) = Dual.Apply1(Fun1.Sin, 0.0, x)
    /// cos x.
    static member Cos(x: Dual) = Dual.Apply1(Fun1.Cos, 0.0, x)
    /// (sin x, cos x).
    static member SinCos(x: Dual) = struct (Dual.Sin x, Dual.Cos x)
    /// tan x.
    static member Tan(x: Dual) = Dual.Apply1(Fun1.Tan, 0.0, x)
    /// sin(πx).
    static member SinPi(x: Dual) = Dual.Sin(Dual.Apply2L(Fun2.Mul, x, Math.PI))
    /// cos(πx).
    static member CosPi(x: Dual) = Dual.Cos(Dual.Apply2L(Fun2.Mul, x, Math.PI))
    /// (sin πx, cos πx).
    static member SinCosPi(x: Dual) = struct (Dual.SinPi x, Dual.CosPi x)
    /// tan(πx).
    static member TanPi(x: Dual) = Dual.Tan(Dual.Apply2L(Fun2.Mul, x, Math.PI))
    /// asin x.
    static member Asin(x: Dual) = Dual.Apply1(Fun1.Asin, 0.0, x)
    /// acos x.
    static member Acos(x: Dual) = Dual.Apply1(Fun1.Acos, 0.0, x)
    /// atan x.
    static member Atan(x: Dual) = Dual.Apply1(Fun1.Atan, 0.0, x)
    /// asin(x)/π.
    static member AsinPi(x: Dual) = Dual.Apply2L(Fun2.Div, Dual.Asin x, Math.PI)
    /// acos(x)/π.
    static member AcosPi(x: Dual) = Dual.Apply2L(Fun2.Div, Dual.Acos x, Math.PI)
    /// atan(x)/π.
    static member AtanPi(x: Dual) = Dual.Apply2L(Fun2.Div, Dual.Atan x, Math.PI)
    /// atan2(y, x), the angle of the point (x, y), in .NET's argument order.
    static member Atan2(y: Dual, x: Dual) = Dual.Apply2(Fun2.Atan2, y, x)
    /// atan2(y, x)/π.
    static member Atan2Pi(y: Dual, x: Dual) = Dual.Apply2L(Fun2.Div, Dual.Atan2(y, x), Math.PI)
    /// degrees · π/180.
    static member DegreesToRadians(x: Dual) = Dual.Apply2L(Fun2.Mul, x, Math.PI / 180.0)
    /// radians · 180/π.
    static member RadiansToDegrees(x: Dual) = Dual.Apply2L(Fun2.Mul, x, 180.0 / Math.PI)
    /// sinh x.
    static member Sinh(x: Dual) = Dual.Apply1(Fun1.Sinh, 0.0, x)
    /// cosh x.
    static member Cosh(x: Dual) = Dual.Apply1(Fun1.Cosh, 0.0, x)
    /// tanh x.
    static member Tanh(x: Dual) = Dual.Apply1(Fun1.Tanh, 0.0, x)
    /// asinh x.
    static member Asinh(x: Dual) = Dual.Apply1(Fun1.Asinh, 0.0, x)
    /// acosh x.
    static member Acosh(x: Dual) = Dual.Apply1(Fun1.Acosh, 0.0, x)
    /// atanh x.
    static member Atanh(x: Dual) = Dual.Apply1(Fun1.Atanh, 0.0, x)
    /// erf x = (2/√π)∫₀ˣ e^(−t²) dt.
    static member Erf(x: Dual) = Dual.Apply1(Fun1.Erf, 0.0, x)
    /// min(x, y); a tie splits the derivative ½, ½; NaN if either is NaN.
    static member Min(x: Dual, y: Dual) = Dual.Apply2(Fun2.Min, x, y)
    /// max(x, y); a tie splits the derivative ½, ½; NaN if either is NaN.
    static member Max(x: Dual, y: Dual) = Dual.Apply2(Fun2.Max, x, y)
    /// The argument of larger |primal| (x at a tie), as Math.MaxMagnitude.
    static member MaxMagnitude(x: Dual, y: Dual) =
        if Dual.IsNaN x then x elif Dual.IsNaN y then y
        elif Dual.Decided(Decision.AbsGt, y, x, Math.Abs(Dual.Primal y) > Math.Abs(Dual.Primal x)) then y else x
    /// The argument of smaller |primal| (x at a tie), as Math.MinMagnitude.
    static member MinMagnitude(x: Dual, y: Dual) =
        if Dual.IsNaN x then x elif Dual.IsNaN y then y
        elif Dual.Decided(Decision.AbsLt, y, x, Math.Abs(Dual.Primal y) < Math.Abs(Dual.Primal x)) then y else x
    /// MaxMagnitude, preferring the number when one primal is NaN.
    static member MaxMagnitudeNumber(x: Dual, y: Dual) =
        if Dual.IsNaN x then y elif Dual.IsNaN y then x else Dual.MaxMagnitude(x, y)
    /// MinMagnitude, preferring the number when one primal is NaN.
    static member MinMagnitudeNumber(x: Dual, y: Dual) =
        if Dual.IsNaN x then y elif Dual.IsNaN y then x else Dual.MinMagnitude(x, y)

    /// Is the primal NaN? (All Is* predicates look at the primal only.)
    static member IsNaN(x: Dual) = Dual.Decided(Decision.IsNaN, x, x, Double.IsNaN(Dual.Primal x))
    /// IsFinite, of the primal.
    static member IsFinite(x: Dual) = Dual.Decided(Decision.IsFinite, x, x, Double.IsFinite(Dual.Primal x))
    /// IsInfinity, of the primal.
    static member IsInfinity(x: Dual) = Dual.Decided(Decision.IsInfinity, x, x, Double.IsInfinity(Dual.Primal x))
    /// IsPositiveInfinity, of the primal.
    static member IsPositiveInfinity(x: Dual) = Dual.Decided(Decision.IsPositiveInfinity, x, x, Double.IsPositiveInfinity(Dual.Primal x))
    /// IsNegativeInfinity, of the primal.
    static member IsNegativeInfinity(x: Dual) = Dual.Decided(Decision.IsNegativeInfinity, x, x, Double.IsNegativeInfinity(Dual.Primal x))
    /// IsNegative, of the primal.
    static member IsNegative(x: Dual) = Dual.Decided(Decision.IsNegative, x, x, Double.IsNegative(Dual.Primal x))
    /// IsPositive, of the primal.
    static member IsPositive(x: Dual) = Dual.Decided(Decision.IsPositive, x, x, Double.IsPositive(Dual.Primal x))
    /// IsZero, of the primal.
    static member IsZero(x: Dual) = Dual.Decided(Decision.IsZero, x, x, Dual.Primal x = 0.0)
    /// IsNormal, of the primal.
    static member IsNormal(x: Dual) = Dual.Decided(Decision.IsNormal, x, x, Double.IsNormal(Dual.Primal x))
    /// IsSubnormal, of the primal.
    static member IsSubnormal(x: Dual) = Dual.Decided(Decision.IsSubnormal, x, x, Double.IsSubnormal(Dual.Primal x))
    /// IsInteger, of the primal.
    static member IsInteger(x: Dual) = Dual.Decided(Decision.IsInteger, x, x, Double.IsInteger(Dual.Primal x))
    /// IsEvenInteger, of the primal.
    static member IsEvenInteger(x: Dual) = Dual.Decided(Decision.IsEvenInteger, x, x, Double.IsEvenInteger(Dual.Primal x))
    /// IsOddInteger, of the primal.
    static member IsOddInteger(x: Dual) = Dual.Decided(Decision.IsOddInteger, x, x, Double.IsOddInteger(Dual.Primal x))

    /// A constant from any .NET number (through double); a Dual argument is kept as is.
    static member CreateChecked<'O when 'O :> INumberBase<'O>>(v: 'O) : Dual =
        let mutable v = v
        if typeof<'O> = typeof<Dual> then Unsafe.As<'O, Dual>(&v) else Dual.Const(Double.CreateChecked v)
    /// As CreateChecked, saturating.
    static member CreateSaturating<'O when 'O :> INumberBase<'O>>(v: 'O) : Dual =
        let mutable v = v
        if typeof<'O> = typeof<Dual> then Unsafe.As<'O, Dual>(&v) else Dual.Const(Double.CreateSaturating v)
    /// As CreateChecked, truncating.
    static member CreateTruncating<'O when 'O :> INumberBase<'O>>(v: 'O) : Dual =
        let mutable v = v
        if typeof<'O> = typeof<Dual> then Unsafe.As<'O, Dual>(&v) else Dual.Const(Double.CreateTruncating v)

    /// Parses the primal value (a constant).
    static member Parse(s: string, provider: IFormatProvider) = Dual.Const(Double.Parse(s, provider))
    static member Parse(s: string, style: NumberStyles, provider: IFormatProvider) = Dual.Const(Double.Parse(s, style, provider))
    static member Parse(s: ReadOnlySpan<char>, provider: IFormatProvider) = Dual.Const(Double.Parse(s, provider))
    static member Parse(s: ReadOnlySpan<char>, style: NumberStyles, provider: IFormatProvider) = Dual.Const(Double.Parse(s, style, provider))
    static member Parse(s: ReadOnlySpan<byte>, provider: IFormatProvider) = Dual.Const(Double.Parse(s, provider))
    static member Parse(s: ReadOnlySpan<byte>, style: NumberStyles, provider: IFormatProvider) = Dual.Const(Double.Parse(s, style, provider))
    /// Parses the primal value (a constant); false if the text is not a number.
    static member TryParse(s: string, provider: IFormatProvider, result: byref<Dual>) =
        let mutable d = 0.0
        let ok = Double.TryParse(s, provider, &d)
        result <- Dual.Const d
        ok
    static member TryParse(s: string, style: NumberStyles, provider: IFormatProvider, result: byref<Dual>) =
        let mutable d = 0.0
        let ok = Double.TryParse(s, style, provider, &d)
        result <- Dual.Const d
        ok
    static member TryParse(s: ReadOnlySpan<char>, provider: IFormatProvider, result: byref<Dual>) =
        let mutable d = 0.0
        let ok = Double.TryParse(s, provider, &d)
        result <- Dual.Const d
        ok
    static member TryParse(s: ReadOnlySpan<char>, style: NumberStyles, provider: IFormatProvider, result: byref<Dual>) =
        let mutable d = 0.0
        let ok = Double.TryParse(s, style, provider, &d)
        result <- Dual.Const d
        ok
    static member TryParse(s: ReadOnlySpan<byte>, provider: IFormatProvider, result: byref<Dual>) =
        let mutable d = 0.0
        let ok = Double.TryParse(s, provider, &d)
        result <- Dual.Const d
        ok
    static member TryParse(s: ReadOnlySpan<byte>, style: NumberStyles, provider: IFormatProvider, result: byref<Dual>) =
        let mutable d = 0.0
        let ok = Double.TryParse(s, style, provider, &d)
        result <- Dual.Const d
        ok

    /// Equality of primal values (Double.Equals: NaN equals NaN here, as for double).
    member x.Equals(y: Dual) = Dual.Decided(Decision.Same, x, y, (Dual.Primal x).Equals(Dual.Primal y))
    override x.Equals(o: obj) = match o with :? Dual as y -> x.Equals y | _ -> false
    override x.GetHashCode() = (Dual.Observed x).GetHashCode()
    /// Orders by primal value.
    member x.CompareTo(y: Dual) = Dual.DecidedInt(Decision.CompareTo, x, y, (Dual.Primal x).CompareTo(Dual.Primal y))

    interface IEquatable<Dual> with
        member x.Equals(y) = x.Equals y
    interface IComparable<Dual> with
        member x.CompareTo(y) = x.CompareTo y
    interface IComparable with
        member x.CompareTo(o) =
            match o with
            | null -> 1
            | :? Dual as y -> x.CompareTo y
            | _ -> raise (ArgumentException("Object must be of type Dual.", "obj"))
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

    interface INumberBase<Dual> with
        static member Zero = Dual.Zero
        static member One = Dual.One
        static member Radix = 2
        static member AdditiveIdentity = Dual.Zero
        static member MultiplicativeIdentity = Dual.One
        static member op_Addition(x, y) = x + y
        static member op_Subtraction(x, y) = x - y
        static member op_Multiply(x, y) = x * y
        static member op_Division(x, y) = x / y
        static member op_UnaryNegation x = -x
        static member op_UnaryPlus x = x
        static member op_Increment x = Dual.op_Increment x
        static member op_Decrement x = Dual.op_Decrement x
        static member Abs x = Dual.Abs x
        static member IsCanonical _ = true
        static member IsComplexNumber _ = false
        static member IsImaginaryNumber _ = false
        static member IsRealNumber x = not (Dual.IsNaN x)
        static member IsNaN x = Dual.IsNaN x
        static member IsFinite x = Dual.IsFinite x
        static member IsInfinity x = Dual.IsInfinity x
        static member IsPositiveInfinity x = Dual.IsPositiveInfinity x
        static member IsNegativeInfinity x = Dual.IsNegativeInfinity x
        static member IsNegative x = Dual.IsNegative x
        static member IsPositive x = Dual.IsPositive x
        static member IsZero x = Dual.IsZero x
        static member IsNormal x = Dual.IsNormal x
        static member IsSubnormal x = Dual.IsSubnormal x
        static member IsInteger x = Dual.IsInteger x
        static member IsEvenInteger x = Dual.IsEvenInteger x
        static member IsOddInteger x = Dual.IsOddInteger x
        static member MaxMagnitude(x, y) = Dual.MaxMagnitude(x, y)
        static member MinMagnitude(x, y) = Dual.MinMagnitude(x, y)
        static member MaxMagnitudeNumber(x, y) = Dual.MaxMagnitudeNumber(x, y)
        static member MinMagnitudeNumber(x, y) = Dual.MinMagnitudeNumber(x, y)
        static member CreateChecked v = Dual.CreateChecked v
        static member CreateSaturating v = Dual.CreateSaturating v
        static member CreateTruncating v = Dual.CreateTruncating v
        static member TryConvertFromChecked(v, result) = NumberConvert.tryFrom(Dual.CreateChecked, v, &result)
        static member TryConvertFromSaturating(v, result) = NumberConvert.tryFrom(Dual.CreateSaturating, v, &result)
        static member TryConvertFromTruncating(v, result) = NumberConvert.tryFrom(Dual.CreateTruncating, v, &result)
        static member TryConvertToChecked(x, result) = NumberConvert.tryToChecked(Dual.Observed x, &result)
        static member TryConvertToSaturating(x, result) = NumberConvert.tryToSaturating(Dual.Observed x, &result)
        static member TryConvertToTruncating(x, result) = NumberConvert.tryToTruncating(Dual.Observed x, &result)
        static member Parse(s: string, style: NumberStyles, provider: IFormatProvider) = Dual.Parse(s, style, provider)
        static member Parse(s: ReadOnlySpan<char>, style: NumberStyles, provider: IFormatProvider) = Dual.Parse(s, style, provider)
        static member Parse(s: ReadOnlySpan<byte>, style: NumberStyles, provider: IFormatProvider) = Dual.Parse(s, style, provider)
        static member Parse(s: string, provider: IFormatProvider) = Dual.Parse(s, provider)
        static member Parse(s: ReadOnlySpan<char>, provider: IFormatProvider) = Dual.Parse(s, provider)
        static member Parse(s: ReadOnlySpan<byte>, provider: IFormatProvider) = Dual.Parse(s, provider)
        static member TryParse(s: string, style: NumberStyles, provider: IFormatProvider, result: byref<Dual>) = Dual.TryParse(s, style, provider, &result)
        static member TryParse(s: ReadOnlySpan<char>, style: NumberStyles, provider: IFormatProvider, result: byref<Dual>) = Dual.TryParse(s, style, provider, &result)
        static member TryParse(s: ReadOnlySpan<byte>, style: NumberStyles, provider: IFormatProvider, result: byref<Dual>) = Dual.TryParse(s, style, provider, &result)
        static member TryParse(s: string, provider: IFormatProvider, result: byref<Dual>) = Dual.TryParse(s, provider, &result)
        static member TryParse(s: ReadOnlySpan<char>, provider: IFormatProvider, result: byref<Dual>) = Dual.TryParse(s, provider, &result)
        static member TryParse(s: ReadOnlySpan<byte>, provider: IFormatProvider, result: byref<Dual>) = Dual.TryParse(s, provider, &result)
        member x.TryFormat(destination: Span<byte>, bytesWritten: byref<int>, format: ReadOnlySpan<char>, provider: IFormatProvider) =
            let s = x.ToString(format.ToString(), provider)
            let n = Text.Encoding.UTF8.GetByteCount s
            if n <= destination.Length then
                bytesWritten <- Text.Encoding.UTF8.GetBytes(s.AsSpan(), destination)
                true
            else
                bytesWritten <- 0
                false
    interface IEqualityOperators<Dual, Dual, bool> with
        static member op_Equality(x, y) = Dual.op_Equality(x, y)
        static member op_Inequality(x, y) = Dual.op_Inequality(x, y)
    interface IModulusOperators<Dual, Dual, Dual> with
        static member op_Modulus(x, y) = x % y
    interface IComparisonOperators<Dual, Dual, bool> with
        static member op_LessThan(x, y) = Dual.op_LessThan(x, y)
        static member op_LessThanOrEqual(x, y) = Dual.op_LessThanOrEqual(x, y)
        static member op_GreaterThan(x, y) = Dual.op_GreaterThan(x, y)
        static member op_GreaterThanOrEqual(x, y) = Dual.op_GreaterThanOrEqual(x, y)
    interface IMinMaxValue<Dual> with
        static member MinValue = Dual.MinValue
        static member MaxValue = Dual.MaxValue
    interface IFloatingPointConstants<Dual> with
        static member E = Dual.E
        static member Pi = Dual.Pi
        static member Tau = Dual.Tau
    interface IExponentialFunctions<Dual> with
        static member Exp x = Dual.Exp x
        static member Exp2 x = Dual.Exp2 x
        static member Exp10 x = Dual.Exp10 x
        static member ExpM1 x = Dual.ExpM1 x
        static member Exp2M1 x = Dual.Exp2M1 x
        static member Exp10M1 x = Dual.Exp10M1 x
    interface ILogarithmicFunctions<Dual> with
        static member Log(x: Dual) = Dual.Log x
        static member Log(x: Dual, b: Dual) = Dual.Log(x, b)
        static member Log2 x = Dual.Log2 x
        static member Log10 x = Dual.Log10 x
        static member LogP1 x = Dual.LogP1 x
        static member Log2P1 x = Dual.Log2P1 x
        static member Log10P1 x = Dual.Log10P1 x
    interface IPowerFunctions<Dual> with
        static member Pow(x: Dual, y: Dual) = Dual.Pow(x, y)
    interface IRootFunctions<Dual> with
        static member Sqrt x = Dual.Sqrt x
        static member Cbrt x = Dual.Cbrt x
        static member RootN(x, n) = Dual.RootN(x, n)
        static member Hypot(x, y) = Dual.Hypot(x, y)
    interface ITrigonometricFunctions<Dual> with
        static member Sin x = Dual.Sin x
        static member Cos x = Dual.Cos x
        static member Tan x = Dual.Tan x
        static member SinCos x = Dual.SinCos x
        static member SinPi x = Dual.SinPi x
        static member CosPi x = Dual.CosPi x
        static member TanPi x = Dual.TanPi x
        static member SinCosPi x = Dual.SinCosPi x
        static member Asin x = Dual.Asin x
        static member Acos x = Dual.Acos x
        static member Atan x = Dual.Atan x
        static member AsinPi x = Dual.AsinPi x
        static member AcosPi x = Dual.AcosPi x
        static member AtanPi x = Dual.AtanPi x
        static member DegreesToRadians x = Dual.DegreesToRadians x
        static member RadiansToDegrees x = Dual.RadiansToDegrees x
    interface IHyperbolicFunctions<Dual> with
        static member Sinh x = Dual.Sinh x
        static member Cosh x = Dual.Cosh x
        static member Tanh x = Dual.Tanh x
        static member Asinh x = Dual.Asinh x
        static member Acosh x = Dual.Acosh x
        static member Atanh x = Dual.Atanh x
