namespace Hybrid.Kernel

open System
open System.Globalization
open System.Numerics
open System.Runtime.CompilerServices

/// A hyper-dual number V + E1·ε₁ + E2·ε₂ + E12·ε₁ε₂ with ε₁² = ε₂² = 0, ε₁ε₂ ≠ 0
/// (Fike & Alonso, AIAA 2011-886). Seeding x = a + b·ε₁ + c·ε₂ gives in one evaluation
/// f(a), f'(a)·b, f'(a)·c and f''(a)·b·c exactly (no truncation error):
/// f(x) = (f(a), f'(a)b, f'(a)c, f'(a)d + f''(a)bc) for x = (a, b, c, d).
/// With ε₁ on input i and ε₂ on input j, E12 of the output is ∂²f/∂xᵢ∂xⱼ.
/// First and second derivatives come from the rule table (`Rules.d1`, `Rules.d2`, `Rules.partials2`,
/// `Rules.hessian2`).
///
/// Comparisons, equality, hashing and the Is* predicates use the primal `V` only.
[<Struct; CustomEquality; CustomComparison>]
type HyperDual =
    /// The primal value f.
    val V: float
    /// The ε₁ part.
    val E1: float
    /// The ε₂ part.
    val E2: float
    /// The ε₁ε₂ part.
    val E12: float
    /// V + E1·ε₁ + E2·ε₂ + E12·ε₁ε₂.
    new(v, e1, e2, e12) = { V = v; E1 = e1; E2 = e2; E12 = e12 }

    /// The primal value.
    member x.Value = x.V
    /// The ε₁ part (first derivative along the ε₁ seed).
    member x.Eps1 = x.E1
    /// The ε₂ part (first derivative along the ε₂ seed).
    member x.Eps2 = x.E2
    /// The ε₁ε₂ part (second derivative along both seeds).
    member x.Eps12 = x.E12

    /// x + e1·ε₁ + e2·ε₂: an input seeded for ∂/∂(ε₁ direction) and ∂/∂(ε₂ direction).
    static member Seed(x: float, e1: float, e2: float) = HyperDual(x, e1, e2, 0.0)

    // ------------------------------------------------------------------------------------------------
    // The primitives: the only place this type applies the rule table.

    /// A constant c.
    static member inline Const(c: float) = HyperDual(c, 0.0, 0.0, 0.0)

    /// f(x) = (f(a), f'(a)b, f'(a)c, f'(a)d + f''(a)bc) for x = (a, b, c, d). `c` is PowC's exponent.
    static member inline Apply1(f: Fun1, c: float, x: HyperDual) =
        let v = Rules.value1 f c x.V
        let d = Rules.d1<float> f c x.V v
        let dd = Rules.d2 f c x.V v d
        HyperDual(v, d * x.E1, d * x.E2, d * x.E12 + dd * x.E1 * x.E2)

    /// f(x, y): ε parts f_x·x.Eᵢ + f_y·y.Eᵢ; ε₁ε₂ part f_x·x.E12 + f_y·y.E12 + f_xx·x.E1·x.E2
    /// + f_xy·(x.E1·y.E2 + y.E1·x.E2) + f_yy·y.E1·y.E2.
    static member inline Apply2(f: Fun2, x: HyperDual, y: HyperDual) =
        let v = Rules.value2 f x.V y.V
        let struct (dx, dy) = Rules.partials2<float> f x.V y.V v
        let struct (dxx, dxy, dyy) = Rules.hessian2 f x.V y.V v dx dy
        HyperDual(
            v,
            dx * x.E1 + dy * y.E1,
            dx * x.E2 + dy * y.E2,
            dx * x.E12 + dy * y.E12 + dxx * x.E1 * x.E2 + dxy * (x.E1 * y.E2 + y.E1 * x.E2) + dyy * y.E1 * y.E2
        )

    /// f(x, c) with c constant: Apply2 with y's ε parts absent (no 0·∞ terms).
    static member inline Apply2L(f: Fun2, x: HyperDual, c: float) =
        let v = Rules.value2 f x.V c
        let struct (dx, dy) = Rules.partials2<float> f x.V c v
        let struct (dxx, _, _) = Rules.hessian2 f x.V c v dx dy
        HyperDual(v, dx * x.E1, dx * x.E2, dx * x.E12 + dxx * x.E1 * x.E2)

    /// f(c, y) with c constant: Apply2 with x's ε parts absent.
    static member inline Apply2R(f: Fun2, c: float, y: HyperDual) =
        let v = Rules.value2 f c y.V
        let struct (dx, dy) = Rules.partials2<float> f c y.V v
        let struct (_, _, dyy) = Rules.hessian2 f c y.V v dx dy
        HyperDual(v, dy * y.E1, dy * y.E2, dy * y.E12 + dyy * y.E1 * y.E2)

    /// Is x a constant (all ε parts are 0)? Pow uses it to take the constant-argument forms.
    static member inline IsConstant(x: HyperDual) = x.E1 = 0.0 && x.E2 = 0.0 && x.E12 = 0.0

    /// The primal value (what comparisons and predicates see).
    static member inline Primal(x: HyperDual) = x.V

    /// The explicit conversion to double: the primal value (the derivative parts are dropped, as for any
    /// plain number type).
    static member inline ToDouble(x: HyperDual) = x.V

    /// "V + E1ε₁ + E2ε₂ + E12ε₁ε₂".
    override x.ToString() = x.ToString(null, CultureInfo.InvariantCulture)
    /// "V + E1ε₁ + E2ε₂ + E12ε₁ε₂", each part formatted with `format`.
    member x.ToString(format: string, provider: IFormatProvider) =
        x.V.ToString(format, provider) + " + " + x.E1.ToString(format, provider) + "ε₁ + "
        + x.E2.ToString(format, provider) + "ε₂ + " + x.E12.ToString(format, provider) + "ε₁ε₂"

    // ------------------------------------------------------------------------------------------------
    // BEGIN generic-math surface. Everything from here to the end of the type is written only in terms
    // of the primitives above, and is the same text in every number type with the type name replaced
    // (scripts/number-surface.py copies it from HyperDual.fs into DualN.fs and HyperDual.fs).

    /// 0.
    static member Zero = HyperDual.Const 0.0
    /// 1.
    static member One = HyperDual.Const 1.0
    /// e.
    static member E = HyperDual.Const Math.E
    /// π.
    static member Pi = HyperDual.Const Math.PI
    /// τ = 2π.
    static member Tau = HyperDual.Const Math.Tau
    /// NaN.
    static member NaN = HyperDual.Const Double.NaN
    /// +∞.
    static member PositiveInfinity = HyperDual.Const Double.PositiveInfinity
    /// −∞.
    static member NegativeInfinity = HyperDual.Const Double.NegativeInfinity
    /// Double.MinValue.
    static member MinValue = HyperDual.Const Double.MinValue
    /// Double.MaxValue.
    static member MaxValue = HyperDual.Const Double.MaxValue

    /// The constant x.
    static member op_Implicit(x: float) : HyperDual = HyperDual.Const x
    /// The explicit conversion to double (see ToDouble).
    static member op_Explicit(x: HyperDual) : float = HyperDual.ToDouble x

    /// −x.
    [<MethodImpl(MethodImplOptions.AggressiveInlining)>]
    static member (~-)(x: HyperDual) = HyperDual.Apply1(Fun1.Neg, 0.0, x)
    /// x.
    static member (~+)(x: HyperDual) = x
    /// x + y.
    [<MethodImpl(MethodImplOptions.AggressiveInlining)>]
    static member (+)(x: HyperDual, y: HyperDual) = HyperDual.Apply2(Fun2.Add, x, y)
    /// x + c.
    [<MethodImpl(MethodImplOptions.AggressiveInlining)>]
    static member (+)(x: HyperDual, c: float) = HyperDual.Apply2L(Fun2.Add, x, c)
    /// c + y.
    [<MethodImpl(MethodImplOptions.AggressiveInlining)>]
    static member (+)(c: float, y: HyperDual) = HyperDual.Apply2R(Fun2.Add, c, y)
    /// x − y.
    [<MethodImpl(MethodImplOptions.AggressiveInlining)>]
    static member (-)(x: HyperDual, y: HyperDual) = HyperDual.Apply2(Fun2.Sub, x, y)
    /// x − c.
    [<MethodImpl(MethodImplOptions.AggressiveInlining)>]
    static member (-)(x: HyperDual, c: float) = HyperDual.Apply2L(Fun2.Sub, x, c)
    /// c − y.
    [<MethodImpl(MethodImplOptions.AggressiveInlining)>]
    static member (-)(c: float, y: HyperDual) = HyperDual.Apply2R(Fun2.Sub, c, y)
    /// x · y.
    [<MethodImpl(MethodImplOptions.AggressiveInlining)>]
    static member (*)(x: HyperDual, y: HyperDual) = HyperDual.Apply2(Fun2.Mul, x, y)
    /// x · c.
    [<MethodImpl(MethodImplOptions.AggressiveInlining)>]
    static member (*)(x: HyperDual, c: float) = HyperDual.Apply2L(Fun2.Mul, x, c)
    /// c · y.
    [<MethodImpl(MethodImplOptions.AggressiveInlining)>]
    static member (*)(c: float, y: HyperDual) = HyperDual.Apply2R(Fun2.Mul, c, y)
    /// x / y.
    [<MethodImpl(MethodImplOptions.AggressiveInlining)>]
    static member (/)(x: HyperDual, y: HyperDual) = HyperDual.Apply2(Fun2.Div, x, y)
    /// x / c.
    [<MethodImpl(MethodImplOptions.AggressiveInlining)>]
    static member (/)(x: HyperDual, c: float) = HyperDual.Apply2L(Fun2.Div, x, c)
    /// c / y.
    [<MethodImpl(MethodImplOptions.AggressiveInlining)>]
    static member (/)(c: float, y: HyperDual) = HyperDual.Apply2R(Fun2.Div, c, y)
    /// x % y (remainder with the sign of x); ∂/∂x = 1, ∂/∂y = −trunc(x/y).
    [<MethodImpl(MethodImplOptions.AggressiveInlining)>]
    static member (%)(x: HyperDual, y: HyperDual) = HyperDual.Apply2(Fun2.Mod, x, y)
    /// x % c.
    [<MethodImpl(MethodImplOptions.AggressiveInlining)>]
    static member (%)(x: HyperDual, c: float) = HyperDual.Apply2L(Fun2.Mod, x, c)
    /// c % y.
    [<MethodImpl(MethodImplOptions.AggressiveInlining)>]
    static member (%)(c: float, y: HyperDual) = HyperDual.Apply2R(Fun2.Mod, c, y)
    /// x + 1.
    static member op_Increment(x: HyperDual) = HyperDual.Apply2L(Fun2.Add, x, 1.0)
    /// x − 1.
    static member op_Decrement(x: HyperDual) = HyperDual.Apply2L(Fun2.Sub, x, 1.0)

    /// Primal x = primal y (derivative parts ignored; NaN ≠ NaN).
    static member op_Equality(x: HyperDual, y: HyperDual) = HyperDual.Primal x = HyperDual.Primal y
    /// Primal x ≠ primal y.
    static member op_Inequality(x: HyperDual, y: HyperDual) = HyperDual.Primal x <> HyperDual.Primal y
    /// Primal x &lt; primal y.
    static member op_LessThan(x: HyperDual, y: HyperDual) = HyperDual.Primal x < HyperDual.Primal y
    /// Primal x ≤ primal y.
    static member op_LessThanOrEqual(x: HyperDual, y: HyperDual) = HyperDual.Primal x <= HyperDual.Primal y
    /// Primal x &gt; primal y.
    static member op_GreaterThan(x: HyperDual, y: HyperDual) = HyperDual.Primal x > HyperDual.Primal y
    /// Primal x ≥ primal y.
    static member op_GreaterThanOrEqual(x: HyperDual, y: HyperDual) = HyperDual.Primal x >= HyperDual.Primal y

    /// |x|; abs'(0) = 0.
    static member Abs(x: HyperDual) = HyperDual.Apply1(Fun1.Abs, 0.0, x)
    /// −x.
    static member Negate(x: HyperDual) = HyperDual.Apply1(Fun1.Neg, 0.0, x)
    /// 1/x.
    static member Reciprocal(x: HyperDual) = HyperDual.Apply1(Fun1.Recip, 0.0, x)
    /// x².
    static member Square(x: HyperDual) = HyperDual.Apply1(Fun1.Square, 0.0, x)
    /// √x; sqrt'(0) = +∞.
    static member Sqrt(x: HyperDual) = HyperDual.Apply1(Fun1.Sqrt, 0.0, x)
    /// ∛x (real cube root); cbrt'(0) = +∞.
    static member Cbrt(x: HyperDual) = HyperDual.Apply1(Fun1.Cbrt, 0.0, x)
    /// x^(1/n), the real n-th root (negative x with odd n gives −(−x)^(1/n)).
    static member RootN(x: HyperDual, n: int) =
        if n % 2 <> 0 && HyperDual.Primal x < 0.0 then -HyperDual.Apply1(Fun1.PowC, 1.0 / float n, -x)
        else HyperDual.Apply1(Fun1.PowC, 1.0 / float n, x)
    /// √(x² + y²) without overflow; derivative 0 at (0, 0).
    static member Hypot(x: HyperDual, y: HyperDual) = HyperDual.Apply2(Fun2.Hypot, x, y)
    /// eˣ.
    static member Exp(x: HyperDual) = HyperDual.Apply1(Fun1.Exp, 0.0, x)
    /// 2ˣ.
    static member Exp2(x: HyperDual) = HyperDual.Apply1(Fun1.Exp2, 0.0, x)
    /// 10ˣ = exp(x·ln 10).
    static member Exp10(x: HyperDual) = HyperDual.Exp(HyperDual.Apply2L(Fun2.Mul, x, Rules.ln10))
    /// eˣ − 1, accurate near 0.
    static member ExpM1(x: HyperDual) = HyperDual.Apply1(Fun1.Expm1, 0.0, x)
    /// 2ˣ − 1 = expm1(x·ln 2).
    static member Exp2M1(x: HyperDual) = HyperDual.ExpM1(HyperDual.Apply2L(Fun2.Mul, x, Rules.ln2))
    /// 10ˣ − 1 = expm1(x·ln 10).
    static member Exp10M1(x: HyperDual) = HyperDual.ExpM1(HyperDual.Apply2L(Fun2.Mul, x, Rules.ln10))
    /// ln x.
    static member Log(x: HyperDual) = HyperDual.Apply1(Fun1.Log, 0.0, x)
    /// log_b x = ln x / ln b.
    static member Log(x: HyperDual, b: HyperDual) = HyperDual.Log x / HyperDual.Log b
    /// log₂ x.
    static member Log2(x: HyperDual) = HyperDual.Apply1(Fun1.Log2, 0.0, x)
    /// log₁₀ x.
    static member Log10(x: HyperDual) = HyperDual.Apply1(Fun1.Log10, 0.0, x)
    /// ln(1 + x), accurate near 0.
    static member LogP1(x: HyperDual) = HyperDual.Apply1(Fun1.Log1p, 0.0, x)
    /// log₂(1 + x) = log1p(x) / ln 2.
    static member Log2P1(x: HyperDual) = HyperDual.Apply2L(Fun2.Div, HyperDual.LogP1 x, Rules.ln2)
    /// log₁₀(1 + x) = log1p(x) / ln 10.
    static member Log10P1(x: HyperDual) = HyperDual.Apply2L(Fun2.Div, HyperDual.LogP1 x, Rules.ln10)
    /// xʸ; ∂/∂y at x = 0 is 0. A constant argument takes the constant form, so a constant exponent
    /// with a negative base (x² written Pow(x, 2)) has no 0·log(x) = NaN term, as in double code.
    static member Pow(x: HyperDual, y: HyperDual) =
        if HyperDual.IsConstant y then HyperDual.Apply2L(Fun2.Pow, x, HyperDual.Primal y)
        elif HyperDual.IsConstant x then HyperDual.Apply2R(Fun2.Pow, HyperDual.Primal x, y)
        else HyperDual.Apply2(Fun2.Pow, x, y)
    /// xᶜ for a constant exponent c.
    static member Pow(x: HyperDual, c: float) = HyperDual.Apply1(Fun1.PowC, c, x)
    /// xⁿ for an integer exponent n.
    static member Pow(x: HyperDual, n: int) = HyperDual.Apply1(Fun1.PowC, float n, x)
    /// cʸ for a constant base c.
    static member Pow(c: float, y: HyperDual) = HyperDual.Apply2R(Fun2.Pow, c, y)
    /// sin x.
    static member Sin(x: HyperDual) = HyperDual.Apply1(Fun1.Sin, 0.0, x)
    /// cos x.
    static member Cos(x: HyperDual) = HyperDual.Apply1(Fun1.Cos, 0.0, x)
    /// (sin x, cos x).
    static member SinCos(x: HyperDual) = struct (HyperDual.Sin x, HyperDual.Cos x)
    /// tan x.
    static member Tan(x: HyperDual) = HyperDual.Apply1(Fun1.Tan, 0.0, x)
    /// sin(πx).
    static member SinPi(x: HyperDual) = HyperDual.Sin(HyperDual.Apply2L(Fun2.Mul, x, Math.PI))
    /// cos(πx).
    static member CosPi(x: HyperDual) = HyperDual.Cos(HyperDual.Apply2L(Fun2.Mul, x, Math.PI))
    /// (sin πx, cos πx).
    static member SinCosPi(x: HyperDual) = struct (HyperDual.SinPi x, HyperDual.CosPi x)
    /// tan(πx).
    static member TanPi(x: HyperDual) = HyperDual.Tan(HyperDual.Apply2L(Fun2.Mul, x, Math.PI))
    /// asin x.
    static member Asin(x: HyperDual) = HyperDual.Apply1(Fun1.Asin, 0.0, x)
    /// acos x.
    static member Acos(x: HyperDual) = HyperDual.Apply1(Fun1.Acos, 0.0, x)
    /// atan x.
    static member Atan(x: HyperDual) = HyperDual.Apply1(Fun1.Atan, 0.0, x)
    /// asin(x)/π.
    static member AsinPi(x: HyperDual) = HyperDual.Apply2L(Fun2.Div, HyperDual.Asin x, Math.PI)
    /// acos(x)/π.
    static member AcosPi(x: HyperDual) = HyperDual.Apply2L(Fun2.Div, HyperDual.Acos x, Math.PI)
    /// atan(x)/π.
    static member AtanPi(x: HyperDual) = HyperDual.Apply2L(Fun2.Div, HyperDual.Atan x, Math.PI)
    /// atan2(y, x), the angle of the point (x, y), in .NET's argument order.
    static member Atan2(y: HyperDual, x: HyperDual) = HyperDual.Apply2(Fun2.Atan2, y, x)
    /// atan2(y, x)/π.
    static member Atan2Pi(y: HyperDual, x: HyperDual) = HyperDual.Apply2L(Fun2.Div, HyperDual.Atan2(y, x), Math.PI)
    /// degrees · π/180.
    static member DegreesToRadians(x: HyperDual) = HyperDual.Apply2L(Fun2.Mul, x, Math.PI / 180.0)
    /// radians · 180/π.
    static member RadiansToDegrees(x: HyperDual) = HyperDual.Apply2L(Fun2.Mul, x, 180.0 / Math.PI)
    /// sinh x.
    static member Sinh(x: HyperDual) = HyperDual.Apply1(Fun1.Sinh, 0.0, x)
    /// cosh x.
    static member Cosh(x: HyperDual) = HyperDual.Apply1(Fun1.Cosh, 0.0, x)
    /// tanh x.
    static member Tanh(x: HyperDual) = HyperDual.Apply1(Fun1.Tanh, 0.0, x)
    /// asinh x.
    static member Asinh(x: HyperDual) = HyperDual.Apply1(Fun1.Asinh, 0.0, x)
    /// acosh x.
    static member Acosh(x: HyperDual) = HyperDual.Apply1(Fun1.Acosh, 0.0, x)
    /// atanh x.
    static member Atanh(x: HyperDual) = HyperDual.Apply1(Fun1.Atanh, 0.0, x)
    /// erf x = (2/√π)∫₀ˣ e^(−t²) dt.
    static member Erf(x: HyperDual) = HyperDual.Apply1(Fun1.Erf, 0.0, x)
    /// min(x, y); a tie splits the derivative ½, ½; NaN if either is NaN.
    static member Min(x: HyperDual, y: HyperDual) = HyperDual.Apply2(Fun2.Min, x, y)
    /// max(x, y); a tie splits the derivative ½, ½; NaN if either is NaN.
    static member Max(x: HyperDual, y: HyperDual) = HyperDual.Apply2(Fun2.Max, x, y)
    /// The argument of larger |primal| (x at a tie), as Math.MaxMagnitude.
    static member MaxMagnitude(x: HyperDual, y: HyperDual) =
        if Double.IsNaN(HyperDual.Primal x) then x elif Double.IsNaN(HyperDual.Primal y) then y
        elif Math.Abs(HyperDual.Primal y) > Math.Abs(HyperDual.Primal x) then y else x
    /// The argument of smaller |primal| (x at a tie), as Math.MinMagnitude.
    static member MinMagnitude(x: HyperDual, y: HyperDual) =
        if Double.IsNaN(HyperDual.Primal x) then x elif Double.IsNaN(HyperDual.Primal y) then y
        elif Math.Abs(HyperDual.Primal y) < Math.Abs(HyperDual.Primal x) then y else x
    /// MaxMagnitude, preferring the number when one primal is NaN.
    static member MaxMagnitudeNumber(x: HyperDual, y: HyperDual) =
        if Double.IsNaN(HyperDual.Primal x) then y elif Double.IsNaN(HyperDual.Primal y) then x else HyperDual.MaxMagnitude(x, y)
    /// MinMagnitude, preferring the number when one primal is NaN.
    static member MinMagnitudeNumber(x: HyperDual, y: HyperDual) =
        if Double.IsNaN(HyperDual.Primal x) then y elif Double.IsNaN(HyperDual.Primal y) then x else HyperDual.MinMagnitude(x, y)

    /// Is the primal NaN? (All Is* predicates look at the primal only.)
    static member IsNaN(x: HyperDual) = Double.IsNaN(HyperDual.Primal x)
    /// IsFinite, of the primal.
    static member IsFinite(x: HyperDual) = Double.IsFinite(HyperDual.Primal x)
    /// IsInfinity, of the primal.
    static member IsInfinity(x: HyperDual) = Double.IsInfinity(HyperDual.Primal x)
    /// IsPositiveInfinity, of the primal.
    static member IsPositiveInfinity(x: HyperDual) = Double.IsPositiveInfinity(HyperDual.Primal x)
    /// IsNegativeInfinity, of the primal.
    static member IsNegativeInfinity(x: HyperDual) = Double.IsNegativeInfinity(HyperDual.Primal x)
    /// IsNegative, of the primal.
    static member IsNegative(x: HyperDual) = Double.IsNegative(HyperDual.Primal x)
    /// IsPositive, of the primal.
    static member IsPositive(x: HyperDual) = Double.IsPositive(HyperDual.Primal x)
    /// IsZero, of the primal.
    static member IsZero(x: HyperDual) = HyperDual.Primal x = 0.0
    /// IsNormal, of the primal.
    static member IsNormal(x: HyperDual) = Double.IsNormal(HyperDual.Primal x)
    /// IsSubnormal, of the primal.
    static member IsSubnormal(x: HyperDual) = Double.IsSubnormal(HyperDual.Primal x)
    /// IsInteger, of the primal.
    static member IsInteger(x: HyperDual) = Double.IsInteger(HyperDual.Primal x)
    /// IsEvenInteger, of the primal.
    static member IsEvenInteger(x: HyperDual) = Double.IsEvenInteger(HyperDual.Primal x)
    /// IsOddInteger, of the primal.
    static member IsOddInteger(x: HyperDual) = Double.IsOddInteger(HyperDual.Primal x)

    /// A constant from any .NET number (through double); a HyperDual argument is kept as is.
    static member CreateChecked<'O when 'O :> INumberBase<'O>>(v: 'O) : HyperDual =
        let mutable v = v
        if typeof<'O> = typeof<HyperDual> then Unsafe.As<'O, HyperDual>(&v) else HyperDual.Const(Double.CreateChecked v)
    /// As CreateChecked, saturating.
    static member CreateSaturating<'O when 'O :> INumberBase<'O>>(v: 'O) : HyperDual =
        let mutable v = v
        if typeof<'O> = typeof<HyperDual> then Unsafe.As<'O, HyperDual>(&v) else HyperDual.Const(Double.CreateSaturating v)
    /// As CreateChecked, truncating.
    static member CreateTruncating<'O when 'O :> INumberBase<'O>>(v: 'O) : HyperDual =
        let mutable v = v
        if typeof<'O> = typeof<HyperDual> then Unsafe.As<'O, HyperDual>(&v) else HyperDual.Const(Double.CreateTruncating v)

    /// Parses the primal value (a constant).
    static member Parse(s: string, provider: IFormatProvider) = HyperDual.Const(Double.Parse(s, provider))
    static member Parse(s: string, style: NumberStyles, provider: IFormatProvider) = HyperDual.Const(Double.Parse(s, style, provider))
    static member Parse(s: ReadOnlySpan<char>, provider: IFormatProvider) = HyperDual.Const(Double.Parse(s, provider))
    static member Parse(s: ReadOnlySpan<char>, style: NumberStyles, provider: IFormatProvider) = HyperDual.Const(Double.Parse(s, style, provider))
    static member Parse(s: ReadOnlySpan<byte>, provider: IFormatProvider) = HyperDual.Const(Double.Parse(s, provider))
    static member Parse(s: ReadOnlySpan<byte>, style: NumberStyles, provider: IFormatProvider) = HyperDual.Const(Double.Parse(s, style, provider))
    /// Parses the primal value (a constant); false if the text is not a number.
    static member TryParse(s: string, provider: IFormatProvider, result: byref<HyperDual>) =
        let mutable d = 0.0
        let ok = Double.TryParse(s, provider, &d)
        result <- HyperDual.Const d
        ok
    static member TryParse(s: string, style: NumberStyles, provider: IFormatProvider, result: byref<HyperDual>) =
        let mutable d = 0.0
        let ok = Double.TryParse(s, style, provider, &d)
        result <- HyperDual.Const d
        ok
    static member TryParse(s: ReadOnlySpan<char>, provider: IFormatProvider, result: byref<HyperDual>) =
        let mutable d = 0.0
        let ok = Double.TryParse(s, provider, &d)
        result <- HyperDual.Const d
        ok
    static member TryParse(s: ReadOnlySpan<char>, style: NumberStyles, provider: IFormatProvider, result: byref<HyperDual>) =
        let mutable d = 0.0
        let ok = Double.TryParse(s, style, provider, &d)
        result <- HyperDual.Const d
        ok
    static member TryParse(s: ReadOnlySpan<byte>, provider: IFormatProvider, result: byref<HyperDual>) =
        let mutable d = 0.0
        let ok = Double.TryParse(s, provider, &d)
        result <- HyperDual.Const d
        ok
    static member TryParse(s: ReadOnlySpan<byte>, style: NumberStyles, provider: IFormatProvider, result: byref<HyperDual>) =
        let mutable d = 0.0
        let ok = Double.TryParse(s, style, provider, &d)
        result <- HyperDual.Const d
        ok

    /// Equality of primal values (Double.Equals: NaN equals NaN here, as for double).
    member x.Equals(y: HyperDual) = (HyperDual.Primal x).Equals(HyperDual.Primal y)
    override x.Equals(o: obj) = match o with :? HyperDual as y -> x.Equals y | _ -> false
    override x.GetHashCode() = (HyperDual.Primal x).GetHashCode()
    /// Orders by primal value.
    member x.CompareTo(y: HyperDual) = (HyperDual.Primal x).CompareTo(HyperDual.Primal y)

    interface IEquatable<HyperDual> with
        member x.Equals(y) = x.Equals y
    interface IComparable<HyperDual> with
        member x.CompareTo(y) = x.CompareTo y
    interface IComparable with
        member x.CompareTo(o) =
            match o with
            | null -> 1
            | :? HyperDual as y -> x.CompareTo y
            | _ -> raise (ArgumentException("Object must be of type HyperDual.", "obj"))
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

    interface INumberBase<HyperDual> with
        static member Zero = HyperDual.Zero
        static member One = HyperDual.One
        static member Radix = 2
        static member AdditiveIdentity = HyperDual.Zero
        static member MultiplicativeIdentity = HyperDual.One
        static member op_Addition(x, y) = x + y
        static member op_Subtraction(x, y) = x - y
        static member op_Multiply(x, y) = x * y
        static member op_Division(x, y) = x / y
        static member op_UnaryNegation x = -x
        static member op_UnaryPlus x = x
        static member op_Increment x = HyperDual.op_Increment x
        static member op_Decrement x = HyperDual.op_Decrement x
        static member Abs x = HyperDual.Abs x
        static member IsCanonical _ = true
        static member IsComplexNumber _ = false
        static member IsImaginaryNumber _ = false
        static member IsRealNumber x = not (HyperDual.IsNaN x)
        static member IsNaN x = HyperDual.IsNaN x
        static member IsFinite x = HyperDual.IsFinite x
        static member IsInfinity x = HyperDual.IsInfinity x
        static member IsPositiveInfinity x = HyperDual.IsPositiveInfinity x
        static member IsNegativeInfinity x = HyperDual.IsNegativeInfinity x
        static member IsNegative x = HyperDual.IsNegative x
        static member IsPositive x = HyperDual.IsPositive x
        static member IsZero x = HyperDual.IsZero x
        static member IsNormal x = HyperDual.IsNormal x
        static member IsSubnormal x = HyperDual.IsSubnormal x
        static member IsInteger x = HyperDual.IsInteger x
        static member IsEvenInteger x = HyperDual.IsEvenInteger x
        static member IsOddInteger x = HyperDual.IsOddInteger x
        static member MaxMagnitude(x, y) = HyperDual.MaxMagnitude(x, y)
        static member MinMagnitude(x, y) = HyperDual.MinMagnitude(x, y)
        static member MaxMagnitudeNumber(x, y) = HyperDual.MaxMagnitudeNumber(x, y)
        static member MinMagnitudeNumber(x, y) = HyperDual.MinMagnitudeNumber(x, y)
        static member CreateChecked v = HyperDual.CreateChecked v
        static member CreateSaturating v = HyperDual.CreateSaturating v
        static member CreateTruncating v = HyperDual.CreateTruncating v
        static member TryConvertFromChecked(v, result) = NumberConvert.tryFrom(HyperDual.CreateChecked, v, &result)
        static member TryConvertFromSaturating(v, result) = NumberConvert.tryFrom(HyperDual.CreateSaturating, v, &result)
        static member TryConvertFromTruncating(v, result) = NumberConvert.tryFrom(HyperDual.CreateTruncating, v, &result)
        static member TryConvertToChecked(x, result) = NumberConvert.tryToChecked(HyperDual.Primal x, &result)
        static member TryConvertToSaturating(x, result) = NumberConvert.tryToSaturating(HyperDual.Primal x, &result)
        static member TryConvertToTruncating(x, result) = NumberConvert.tryToTruncating(HyperDual.Primal x, &result)
        static member Parse(s: string, style: NumberStyles, provider: IFormatProvider) = HyperDual.Parse(s, style, provider)
        static member Parse(s: ReadOnlySpan<char>, style: NumberStyles, provider: IFormatProvider) = HyperDual.Parse(s, style, provider)
        static member Parse(s: ReadOnlySpan<byte>, style: NumberStyles, provider: IFormatProvider) = HyperDual.Parse(s, style, provider)
        static member Parse(s: string, provider: IFormatProvider) = HyperDual.Parse(s, provider)
        static member Parse(s: ReadOnlySpan<char>, provider: IFormatProvider) = HyperDual.Parse(s, provider)
        static member Parse(s: ReadOnlySpan<byte>, provider: IFormatProvider) = HyperDual.Parse(s, provider)
        static member TryParse(s: string, style: NumberStyles, provider: IFormatProvider, result: byref<HyperDual>) = HyperDual.TryParse(s, style, provider, &result)
        static member TryParse(s: ReadOnlySpan<char>, style: NumberStyles, provider: IFormatProvider, result: byref<HyperDual>) = HyperDual.TryParse(s, style, provider, &result)
        static member TryParse(s: ReadOnlySpan<byte>, style: NumberStyles, provider: IFormatProvider, result: byref<HyperDual>) = HyperDual.TryParse(s, style, provider, &result)
        static member TryParse(s: string, provider: IFormatProvider, result: byref<HyperDual>) = HyperDual.TryParse(s, provider, &result)
        static member TryParse(s: ReadOnlySpan<char>, provider: IFormatProvider, result: byref<HyperDual>) = HyperDual.TryParse(s, provider, &result)
        static member TryParse(s: ReadOnlySpan<byte>, provider: IFormatProvider, result: byref<HyperDual>) = HyperDual.TryParse(s, provider, &result)
        member x.TryFormat(destination: Span<byte>, bytesWritten: byref<int>, format: ReadOnlySpan<char>, provider: IFormatProvider) =
            let s = x.ToString(format.ToString(), provider)
            let n = Text.Encoding.UTF8.GetByteCount s
            if n <= destination.Length then
                bytesWritten <- Text.Encoding.UTF8.GetBytes(s.AsSpan(), destination)
                true
            else
                bytesWritten <- 0
                false
    interface IEqualityOperators<HyperDual, HyperDual, bool> with
        static member op_Equality(x, y) = HyperDual.op_Equality(x, y)
        static member op_Inequality(x, y) = HyperDual.op_Inequality(x, y)
    interface IModulusOperators<HyperDual, HyperDual, HyperDual> with
        static member op_Modulus(x, y) = x % y
    interface IComparisonOperators<HyperDual, HyperDual, bool> with
        static member op_LessThan(x, y) = HyperDual.op_LessThan(x, y)
        static member op_LessThanOrEqual(x, y) = HyperDual.op_LessThanOrEqual(x, y)
        static member op_GreaterThan(x, y) = HyperDual.op_GreaterThan(x, y)
        static member op_GreaterThanOrEqual(x, y) = HyperDual.op_GreaterThanOrEqual(x, y)
    interface IMinMaxValue<HyperDual> with
        static member MinValue = HyperDual.MinValue
        static member MaxValue = HyperDual.MaxValue
    interface IFloatingPointConstants<HyperDual> with
        static member E = HyperDual.E
        static member Pi = HyperDual.Pi
        static member Tau = HyperDual.Tau
    interface IExponentialFunctions<HyperDual> with
        static member Exp x = HyperDual.Exp x
        static member Exp2 x = HyperDual.Exp2 x
        static member Exp10 x = HyperDual.Exp10 x
        static member ExpM1 x = HyperDual.ExpM1 x
        static member Exp2M1 x = HyperDual.Exp2M1 x
        static member Exp10M1 x = HyperDual.Exp10M1 x
    interface ILogarithmicFunctions<HyperDual> with
        static member Log(x: HyperDual) = HyperDual.Log x
        static member Log(x: HyperDual, b: HyperDual) = HyperDual.Log(x, b)
        static member Log2 x = HyperDual.Log2 x
        static member Log10 x = HyperDual.Log10 x
        static member LogP1 x = HyperDual.LogP1 x
        static member Log2P1 x = HyperDual.Log2P1 x
        static member Log10P1 x = HyperDual.Log10P1 x
    interface IPowerFunctions<HyperDual> with
        static member Pow(x: HyperDual, y: HyperDual) = HyperDual.Pow(x, y)
    interface IRootFunctions<HyperDual> with
        static member Sqrt x = HyperDual.Sqrt x
        static member Cbrt x = HyperDual.Cbrt x
        static member RootN(x, n) = HyperDual.RootN(x, n)
        static member Hypot(x, y) = HyperDual.Hypot(x, y)
    interface ITrigonometricFunctions<HyperDual> with
        static member Sin x = HyperDual.Sin x
        static member Cos x = HyperDual.Cos x
        static member Tan x = HyperDual.Tan x
        static member SinCos x = HyperDual.SinCos x
        static member SinPi x = HyperDual.SinPi x
        static member CosPi x = HyperDual.CosPi x
        static member TanPi x = HyperDual.TanPi x
        static member SinCosPi x = HyperDual.SinCosPi x
        static member Asin x = HyperDual.Asin x
        static member Acos x = HyperDual.Acos x
        static member Atan x = HyperDual.Atan x
        static member AsinPi x = HyperDual.AsinPi x
        static member AcosPi x = HyperDual.AcosPi x
        static member AtanPi x = HyperDual.AtanPi x
        static member DegreesToRadians x = HyperDual.DegreesToRadians x
        static member RadiansToDegrees x = HyperDual.RadiansToDegrees x
    interface IHyperbolicFunctions<HyperDual> with
        static member Sinh x = HyperDual.Sinh x
        static member Cosh x = HyperDual.Cosh x
        static member Tanh x = HyperDual.Tanh x
        static member Asinh x = HyperDual.Asinh x
        static member Acosh x = HyperDual.Acosh x
        static member Atanh x = HyperDual.Atanh x
