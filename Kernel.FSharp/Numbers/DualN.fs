namespace Hybrid.Kernel

open System
open System.Globalization
open System.Numerics
open System.Runtime.CompilerServices

/// A chunked dual number V + Σⱼ P[j]·εⱼ (εᵢεⱼ = 0): a value and k tangents at once, ForwardDiff's
/// chunk mode. `'P` fixes k and stores the tangents inline (`Partials2`, `Partials4`, `Partials8`;
/// see `IPartials`), so a scalar operation is k + 1 multiply-adds with no allocation.
/// f(x) = (f(V), f'(V)·P); f(x, y) = (f, f_x·x.P + f_y·y.P), derivatives from the rule table.
/// Seed input i of a chunk with eⱼ (`DualN.Seed`) and slot j of an output is ∂out/∂xᵢ.
///
/// Comparisons, equality, hashing and the Is* predicates use the primal `V` only.
[<Struct; CustomEquality; CustomComparison>]
type DualN<'P when 'P: struct and 'P :> IPartials<'P>> =
    /// The primal value.
    val V: float
    /// The k tangents.
    val P: 'P
    /// V + Σⱼ P[j]·εⱼ.
    new(v, p) = { V = v; P = p }

    /// The primal value.
    member x.Value = x.V
    /// Tangent j (the derivative along seed direction j).
    member x.Item(j: int) = x.P.[j]
    /// The chunk width k.
    static member Width = 'P.Count
    /// x + eⱼ·ε: a value seeded with the unit tangent in slot j (a constant if j is outside 0..k−1).
    static member Seed(x: float, j: int) = DualN<'P>(x, 'P.Unit j)

    // ------------------------------------------------------------------------------------------------
    // The primitives: the only place this type applies the rule table.

    /// A constant c (all tangents 0).
    static member inline Const(c: float) = DualN<'P>(c, 'P.Zero)

    /// f(x) = (f(V), f'(V)·P). `c` is PowC's exponent.
    static member inline Apply1(f: Fun1, c: float, x: DualN<'P>) =
        let v = Rules.value1 f c x.V
        DualN<'P>(v, 'P.Scale(Rules.d1<float> f c x.V v, x.P))

    /// f(x, y) = (f, f_x·x.P + f_y·y.P).
    static member inline Apply2(f: Fun2, x: DualN<'P>, y: DualN<'P>) =
        let v = Rules.value2 f x.V y.V
        let struct (dx, dy) = Rules.partials2<float> f x.V y.V v
        DualN<'P>(v, 'P.Axpby(dx, x.P, dy, y.P))

    /// f(x, c) with c constant: (f, f_x·x.P).
    static member inline Apply2L(f: Fun2, x: DualN<'P>, c: float) =
        let v = Rules.value2 f x.V c
        let struct (dx, _) = Rules.partials2<float> f x.V c v
        DualN<'P>(v, 'P.Scale(dx, x.P))

    /// f(c, y) with c constant: (f, f_y·y.P).
    static member inline Apply2R(f: Fun2, c: float, y: DualN<'P>) =
        let v = Rules.value2 f c y.V
        let struct (_, dy) = Rules.partials2<float> f c y.V v
        DualN<'P>(v, 'P.Scale(dy, y.P))

    /// Is x a constant (all tangents are 0)? Pow uses it to take the constant-argument forms.
    static member inline IsConstant(x: DualN<'P>) = 'P.IsZero x.P

    /// The primal value (what comparisons and predicates see).
    static member inline Primal(x: DualN<'P>) = x.V

    /// The explicit conversion to double: the primal value (the derivative parts are dropped, as for any
    /// plain number type).
    static member inline ToDouble(x: DualN<'P>) = x.V

    /// "V + [P0, P1, …]ε".
    override x.ToString() = x.ToString(null, CultureInfo.InvariantCulture)
    /// "V + [P0, P1, …]ε", each part formatted with `format`.
    member x.ToString(format: string, provider: IFormatProvider) =
        let p = x.P
        let parts = Array.init 'P.Count (fun j -> p.[j].ToString(format, provider))
        x.V.ToString(format, provider) + " + [" + String.Join(", ", parts) + "]ε"

    // ------------------------------------------------------------------------------------------------
    // BEGIN generic-math surface. Everything from here to the end of the type is written only in terms
    // of the primitives above, and is the same text in every number type with the type name replaced
    // (scripts/number-surface.py copies it from DualN<'P>.fs into DualN.fs and HyperDual.fs).

    /// 0.
    static member Zero = DualN<'P>.Const 0.0
    /// 1.
    static member One = DualN<'P>.Const 1.0
    /// e.
    static member E = DualN<'P>.Const Math.E
    /// π.
    static member Pi = DualN<'P>.Const Math.PI
    /// τ = 2π.
    static member Tau = DualN<'P>.Const Math.Tau
    /// NaN.
    static member NaN = DualN<'P>.Const Double.NaN
    /// +∞.
    static member PositiveInfinity = DualN<'P>.Const Double.PositiveInfinity
    /// −∞.
    static member NegativeInfinity = DualN<'P>.Const Double.NegativeInfinity
    /// Double.MinValue.
    static member MinValue = DualN<'P>.Const Double.MinValue
    /// Double.MaxValue.
    static member MaxValue = DualN<'P>.Const Double.MaxValue

    /// The constant x.
    static member op_Implicit(x: float) : DualN<'P> = DualN<'P>.Const x
    /// The explicit conversion to double (see ToDouble).
    static member op_Explicit(x: DualN<'P>) : float = DualN<'P>.ToDouble x

    /// −x.
    [<MethodImpl(MethodImplOptions.AggressiveInlining)>]
    static member (~-)(x: DualN<'P>) = DualN<'P>.Apply1(Fun1.Neg, 0.0, x)
    /// x.
    static member (~+)(x: DualN<'P>) = x
    /// x + y.
    [<MethodImpl(MethodImplOptions.AggressiveInlining)>]
    static member (+)(x: DualN<'P>, y: DualN<'P>) = DualN<'P>.Apply2(Fun2.Add, x, y)
    /// x + c.
    [<MethodImpl(MethodImplOptions.AggressiveInlining)>]
    static member (+)(x: DualN<'P>, c: float) = DualN<'P>.Apply2L(Fun2.Add, x, c)
    /// c + y.
    [<MethodImpl(MethodImplOptions.AggressiveInlining)>]
    static member (+)(c: float, y: DualN<'P>) = DualN<'P>.Apply2R(Fun2.Add, c, y)
    /// x − y.
    [<MethodImpl(MethodImplOptions.AggressiveInlining)>]
    static member (-)(x: DualN<'P>, y: DualN<'P>) = DualN<'P>.Apply2(Fun2.Sub, x, y)
    /// x − c.
    [<MethodImpl(MethodImplOptions.AggressiveInlining)>]
    static member (-)(x: DualN<'P>, c: float) = DualN<'P>.Apply2L(Fun2.Sub, x, c)
    /// c − y.
    [<MethodImpl(MethodImplOptions.AggressiveInlining)>]
    static member (-)(c: float, y: DualN<'P>) = DualN<'P>.Apply2R(Fun2.Sub, c, y)
    /// x · y.
    [<MethodImpl(MethodImplOptions.AggressiveInlining)>]
    static member (*)(x: DualN<'P>, y: DualN<'P>) = DualN<'P>.Apply2(Fun2.Mul, x, y)
    /// x · c.
    [<MethodImpl(MethodImplOptions.AggressiveInlining)>]
    static member (*)(x: DualN<'P>, c: float) = DualN<'P>.Apply2L(Fun2.Mul, x, c)
    /// c · y.
    [<MethodImpl(MethodImplOptions.AggressiveInlining)>]
    static member (*)(c: float, y: DualN<'P>) = DualN<'P>.Apply2R(Fun2.Mul, c, y)
    /// x / y.
    [<MethodImpl(MethodImplOptions.AggressiveInlining)>]
    static member (/)(x: DualN<'P>, y: DualN<'P>) = DualN<'P>.Apply2(Fun2.Div, x, y)
    /// x / c.
    [<MethodImpl(MethodImplOptions.AggressiveInlining)>]
    static member (/)(x: DualN<'P>, c: float) = DualN<'P>.Apply2L(Fun2.Div, x, c)
    /// c / y.
    [<MethodImpl(MethodImplOptions.AggressiveInlining)>]
    static member (/)(c: float, y: DualN<'P>) = DualN<'P>.Apply2R(Fun2.Div, c, y)
    /// x % y (remainder with the sign of x); ∂/∂x = 1, ∂/∂y = −trunc(x/y).
    [<MethodImpl(MethodImplOptions.AggressiveInlining)>]
    static member (%)(x: DualN<'P>, y: DualN<'P>) = DualN<'P>.Apply2(Fun2.Mod, x, y)
    /// x % c.
    [<MethodImpl(MethodImplOptions.AggressiveInlining)>]
    static member (%)(x: DualN<'P>, c: float) = DualN<'P>.Apply2L(Fun2.Mod, x, c)
    /// c % y.
    [<MethodImpl(MethodImplOptions.AggressiveInlining)>]
    static member (%)(c: float, y: DualN<'P>) = DualN<'P>.Apply2R(Fun2.Mod, c, y)
    /// x + 1.
    static member op_Increment(x: DualN<'P>) = DualN<'P>.Apply2L(Fun2.Add, x, 1.0)
    /// x − 1.
    static member op_Decrement(x: DualN<'P>) = DualN<'P>.Apply2L(Fun2.Sub, x, 1.0)

    /// Primal x = primal y (derivative parts ignored; NaN ≠ NaN).
    static member op_Equality(x: DualN<'P>, y: DualN<'P>) = DualN<'P>.Primal x = DualN<'P>.Primal y
    /// Primal x ≠ primal y.
    static member op_Inequality(x: DualN<'P>, y: DualN<'P>) = DualN<'P>.Primal x <> DualN<'P>.Primal y
    /// Primal x &lt; primal y.
    static member op_LessThan(x: DualN<'P>, y: DualN<'P>) = DualN<'P>.Primal x < DualN<'P>.Primal y
    /// Primal x ≤ primal y.
    static member op_LessThanOrEqual(x: DualN<'P>, y: DualN<'P>) = DualN<'P>.Primal x <= DualN<'P>.Primal y
    /// Primal x &gt; primal y.
    static member op_GreaterThan(x: DualN<'P>, y: DualN<'P>) = DualN<'P>.Primal x > DualN<'P>.Primal y
    /// Primal x ≥ primal y.
    static member op_GreaterThanOrEqual(x: DualN<'P>, y: DualN<'P>) = DualN<'P>.Primal x >= DualN<'P>.Primal y

    /// |x|; abs'(0) = 0.
    static member Abs(x: DualN<'P>) = DualN<'P>.Apply1(Fun1.Abs, 0.0, x)
    /// −x.
    static member Negate(x: DualN<'P>) = DualN<'P>.Apply1(Fun1.Neg, 0.0, x)
    /// 1/x.
    static member Reciprocal(x: DualN<'P>) = DualN<'P>.Apply1(Fun1.Recip, 0.0, x)
    /// x².
    static member Square(x: DualN<'P>) = DualN<'P>.Apply1(Fun1.Square, 0.0, x)
    /// √x; sqrt'(0) = +∞.
    static member Sqrt(x: DualN<'P>) = DualN<'P>.Apply1(Fun1.Sqrt, 0.0, x)
    /// ∛x (real cube root); cbrt'(0) = +∞.
    static member Cbrt(x: DualN<'P>) = DualN<'P>.Apply1(Fun1.Cbrt, 0.0, x)
    /// x^(1/n), the real n-th root (negative x with odd n gives −(−x)^(1/n)).
    static member RootN(x: DualN<'P>, n: int) =
        if n % 2 <> 0 && DualN<'P>.Primal x < 0.0 then -DualN<'P>.Apply1(Fun1.PowC, 1.0 / float n, -x)
        else DualN<'P>.Apply1(Fun1.PowC, 1.0 / float n, x)
    /// √(x² + y²) without overflow; derivative 0 at (0, 0).
    static member Hypot(x: DualN<'P>, y: DualN<'P>) = DualN<'P>.Apply2(Fun2.Hypot, x, y)
    /// eˣ.
    static member Exp(x: DualN<'P>) = DualN<'P>.Apply1(Fun1.Exp, 0.0, x)
    /// 2ˣ.
    static member Exp2(x: DualN<'P>) = DualN<'P>.Apply1(Fun1.Exp2, 0.0, x)
    /// 10ˣ = exp(x·ln 10).
    static member Exp10(x: DualN<'P>) = DualN<'P>.Exp(DualN<'P>.Apply2L(Fun2.Mul, x, Rules.ln10))
    /// eˣ − 1, accurate near 0.
    static member ExpM1(x: DualN<'P>) = DualN<'P>.Apply1(Fun1.Expm1, 0.0, x)
    /// 2ˣ − 1 = expm1(x·ln 2).
    static member Exp2M1(x: DualN<'P>) = DualN<'P>.ExpM1(DualN<'P>.Apply2L(Fun2.Mul, x, Rules.ln2))
    /// 10ˣ − 1 = expm1(x·ln 10).
    static member Exp10M1(x: DualN<'P>) = DualN<'P>.ExpM1(DualN<'P>.Apply2L(Fun2.Mul, x, Rules.ln10))
    /// ln x.
    static member Log(x: DualN<'P>) = DualN<'P>.Apply1(Fun1.Log, 0.0, x)
    /// log_b x = ln x / ln b.
    static member Log(x: DualN<'P>, b: DualN<'P>) = DualN<'P>.Log x / DualN<'P>.Log b
    /// log₂ x.
    static member Log2(x: DualN<'P>) = DualN<'P>.Apply1(Fun1.Log2, 0.0, x)
    /// log₁₀ x.
    static member Log10(x: DualN<'P>) = DualN<'P>.Apply1(Fun1.Log10, 0.0, x)
    /// ln(1 + x), accurate near 0.
    static member LogP1(x: DualN<'P>) = DualN<'P>.Apply1(Fun1.Log1p, 0.0, x)
    /// log₂(1 + x) = log1p(x) / ln 2.
    static member Log2P1(x: DualN<'P>) = DualN<'P>.Apply2L(Fun2.Div, DualN<'P>.LogP1 x, Rules.ln2)
    /// log₁₀(1 + x) = log1p(x) / ln 10.
    static member Log10P1(x: DualN<'P>) = DualN<'P>.Apply2L(Fun2.Div, DualN<'P>.LogP1 x, Rules.ln10)
    /// xʸ; ∂/∂y at x = 0 is 0. A constant argument takes the constant form, so a constant exponent
    /// with a negative base (x² written Pow(x, 2)) has no 0·log(x) = NaN term, as in double code.
    static member Pow(x: DualN<'P>, y: DualN<'P>) =
        if DualN<'P>.IsConstant y then DualN<'P>.Apply2L(Fun2.Pow, x, DualN<'P>.Primal y)
        elif DualN<'P>.IsConstant x then DualN<'P>.Apply2R(Fun2.Pow, DualN<'P>.Primal x, y)
        else DualN<'P>.Apply2(Fun2.Pow, x, y)
    /// xᶜ for a constant exponent c.
    static member Pow(x: DualN<'P>, c: float) = DualN<'P>.Apply1(Fun1.PowC, c, x)
    /// xⁿ for an integer exponent n.
    static member Pow(x: DualN<'P>, n: int) = DualN<'P>.Apply1(Fun1.PowC, float n, x)
    /// cʸ for a constant base c.
    static member Pow(c: float, y: DualN<'P>) = DualN<'P>.Apply2R(Fun2.Pow, c, y)
    /// sin x.
    static member Sin(x: DualN<'P>) = DualN<'P>.Apply1(Fun1.Sin, 0.0, x)
    /// cos x.
    static member Cos(x: DualN<'P>) = DualN<'P>.Apply1(Fun1.Cos, 0.0, x)
    /// (sin x, cos x).
    static member SinCos(x: DualN<'P>) = struct (DualN<'P>.Sin x, DualN<'P>.Cos x)
    /// tan x.
    static member Tan(x: DualN<'P>) = DualN<'P>.Apply1(Fun1.Tan, 0.0, x)
    /// sin(πx).
    static member SinPi(x: DualN<'P>) = DualN<'P>.Sin(DualN<'P>.Apply2L(Fun2.Mul, x, Math.PI))
    /// cos(πx).
    static member CosPi(x: DualN<'P>) = DualN<'P>.Cos(DualN<'P>.Apply2L(Fun2.Mul, x, Math.PI))
    /// (sin πx, cos πx).
    static member SinCosPi(x: DualN<'P>) = struct (DualN<'P>.SinPi x, DualN<'P>.CosPi x)
    /// tan(πx).
    static member TanPi(x: DualN<'P>) = DualN<'P>.Tan(DualN<'P>.Apply2L(Fun2.Mul, x, Math.PI))
    /// asin x.
    static member Asin(x: DualN<'P>) = DualN<'P>.Apply1(Fun1.Asin, 0.0, x)
    /// acos x.
    static member Acos(x: DualN<'P>) = DualN<'P>.Apply1(Fun1.Acos, 0.0, x)
    /// atan x.
    static member Atan(x: DualN<'P>) = DualN<'P>.Apply1(Fun1.Atan, 0.0, x)
    /// asin(x)/π.
    static member AsinPi(x: DualN<'P>) = DualN<'P>.Apply2L(Fun2.Div, DualN<'P>.Asin x, Math.PI)
    /// acos(x)/π.
    static member AcosPi(x: DualN<'P>) = DualN<'P>.Apply2L(Fun2.Div, DualN<'P>.Acos x, Math.PI)
    /// atan(x)/π.
    static member AtanPi(x: DualN<'P>) = DualN<'P>.Apply2L(Fun2.Div, DualN<'P>.Atan x, Math.PI)
    /// atan2(y, x), the angle of the point (x, y), in .NET's argument order.
    static member Atan2(y: DualN<'P>, x: DualN<'P>) = DualN<'P>.Apply2(Fun2.Atan2, y, x)
    /// atan2(y, x)/π.
    static member Atan2Pi(y: DualN<'P>, x: DualN<'P>) = DualN<'P>.Apply2L(Fun2.Div, DualN<'P>.Atan2(y, x), Math.PI)
    /// degrees · π/180.
    static member DegreesToRadians(x: DualN<'P>) = DualN<'P>.Apply2L(Fun2.Mul, x, Math.PI / 180.0)
    /// radians · 180/π.
    static member RadiansToDegrees(x: DualN<'P>) = DualN<'P>.Apply2L(Fun2.Mul, x, 180.0 / Math.PI)
    /// sinh x.
    static member Sinh(x: DualN<'P>) = DualN<'P>.Apply1(Fun1.Sinh, 0.0, x)
    /// cosh x.
    static member Cosh(x: DualN<'P>) = DualN<'P>.Apply1(Fun1.Cosh, 0.0, x)
    /// tanh x.
    static member Tanh(x: DualN<'P>) = DualN<'P>.Apply1(Fun1.Tanh, 0.0, x)
    /// asinh x.
    static member Asinh(x: DualN<'P>) = DualN<'P>.Apply1(Fun1.Asinh, 0.0, x)
    /// acosh x.
    static member Acosh(x: DualN<'P>) = DualN<'P>.Apply1(Fun1.Acosh, 0.0, x)
    /// atanh x.
    static member Atanh(x: DualN<'P>) = DualN<'P>.Apply1(Fun1.Atanh, 0.0, x)
    /// erf x = (2/√π)∫₀ˣ e^(−t²) dt.
    static member Erf(x: DualN<'P>) = DualN<'P>.Apply1(Fun1.Erf, 0.0, x)
    /// min(x, y); a tie splits the derivative ½, ½; NaN if either is NaN.
    static member Min(x: DualN<'P>, y: DualN<'P>) = DualN<'P>.Apply2(Fun2.Min, x, y)
    /// max(x, y); a tie splits the derivative ½, ½; NaN if either is NaN.
    static member Max(x: DualN<'P>, y: DualN<'P>) = DualN<'P>.Apply2(Fun2.Max, x, y)
    /// The argument of larger |primal| (x at a tie), as Math.MaxMagnitude.
    static member MaxMagnitude(x: DualN<'P>, y: DualN<'P>) =
        if Double.IsNaN(DualN<'P>.Primal x) then x elif Double.IsNaN(DualN<'P>.Primal y) then y
        elif Math.Abs(DualN<'P>.Primal y) > Math.Abs(DualN<'P>.Primal x) then y else x
    /// The argument of smaller |primal| (x at a tie), as Math.MinMagnitude.
    static member MinMagnitude(x: DualN<'P>, y: DualN<'P>) =
        if Double.IsNaN(DualN<'P>.Primal x) then x elif Double.IsNaN(DualN<'P>.Primal y) then y
        elif Math.Abs(DualN<'P>.Primal y) < Math.Abs(DualN<'P>.Primal x) then y else x
    /// MaxMagnitude, preferring the number when one primal is NaN.
    static member MaxMagnitudeNumber(x: DualN<'P>, y: DualN<'P>) =
        if Double.IsNaN(DualN<'P>.Primal x) then y elif Double.IsNaN(DualN<'P>.Primal y) then x else DualN<'P>.MaxMagnitude(x, y)
    /// MinMagnitude, preferring the number when one primal is NaN.
    static member MinMagnitudeNumber(x: DualN<'P>, y: DualN<'P>) =
        if Double.IsNaN(DualN<'P>.Primal x) then y elif Double.IsNaN(DualN<'P>.Primal y) then x else DualN<'P>.MinMagnitude(x, y)

    /// Is the primal NaN? (All Is* predicates look at the primal only.)
    static member IsNaN(x: DualN<'P>) = Double.IsNaN(DualN<'P>.Primal x)
    /// IsFinite, of the primal.
    static member IsFinite(x: DualN<'P>) = Double.IsFinite(DualN<'P>.Primal x)
    /// IsInfinity, of the primal.
    static member IsInfinity(x: DualN<'P>) = Double.IsInfinity(DualN<'P>.Primal x)
    /// IsPositiveInfinity, of the primal.
    static member IsPositiveInfinity(x: DualN<'P>) = Double.IsPositiveInfinity(DualN<'P>.Primal x)
    /// IsNegativeInfinity, of the primal.
    static member IsNegativeInfinity(x: DualN<'P>) = Double.IsNegativeInfinity(DualN<'P>.Primal x)
    /// IsNegative, of the primal.
    static member IsNegative(x: DualN<'P>) = Double.IsNegative(DualN<'P>.Primal x)
    /// IsPositive, of the primal.
    static member IsPositive(x: DualN<'P>) = Double.IsPositive(DualN<'P>.Primal x)
    /// IsZero, of the primal.
    static member IsZero(x: DualN<'P>) = DualN<'P>.Primal x = 0.0
    /// IsNormal, of the primal.
    static member IsNormal(x: DualN<'P>) = Double.IsNormal(DualN<'P>.Primal x)
    /// IsSubnormal, of the primal.
    static member IsSubnormal(x: DualN<'P>) = Double.IsSubnormal(DualN<'P>.Primal x)
    /// IsInteger, of the primal.
    static member IsInteger(x: DualN<'P>) = Double.IsInteger(DualN<'P>.Primal x)
    /// IsEvenInteger, of the primal.
    static member IsEvenInteger(x: DualN<'P>) = Double.IsEvenInteger(DualN<'P>.Primal x)
    /// IsOddInteger, of the primal.
    static member IsOddInteger(x: DualN<'P>) = Double.IsOddInteger(DualN<'P>.Primal x)

    /// A constant from any .NET number (through double); a DualN<'P> argument is kept as is.
    static member CreateChecked<'O when 'O :> INumberBase<'O>>(v: 'O) : DualN<'P> =
        let mutable v = v
        if typeof<'O> = typeof<DualN<'P>> then Unsafe.As<'O, DualN<'P>>(&v) else DualN<'P>.Const(Double.CreateChecked v)
    /// As CreateChecked, saturating.
    static member CreateSaturating<'O when 'O :> INumberBase<'O>>(v: 'O) : DualN<'P> =
        let mutable v = v
        if typeof<'O> = typeof<DualN<'P>> then Unsafe.As<'O, DualN<'P>>(&v) else DualN<'P>.Const(Double.CreateSaturating v)
    /// As CreateChecked, truncating.
    static member CreateTruncating<'O when 'O :> INumberBase<'O>>(v: 'O) : DualN<'P> =
        let mutable v = v
        if typeof<'O> = typeof<DualN<'P>> then Unsafe.As<'O, DualN<'P>>(&v) else DualN<'P>.Const(Double.CreateTruncating v)

    /// Parses the primal value (a constant).
    static member Parse(s: string, provider: IFormatProvider) = DualN<'P>.Const(Double.Parse(s, provider))
    static member Parse(s: string, style: NumberStyles, provider: IFormatProvider) = DualN<'P>.Const(Double.Parse(s, style, provider))
    static member Parse(s: ReadOnlySpan<char>, provider: IFormatProvider) = DualN<'P>.Const(Double.Parse(s, provider))
    static member Parse(s: ReadOnlySpan<char>, style: NumberStyles, provider: IFormatProvider) = DualN<'P>.Const(Double.Parse(s, style, provider))
    static member Parse(s: ReadOnlySpan<byte>, provider: IFormatProvider) = DualN<'P>.Const(Double.Parse(s, provider))
    static member Parse(s: ReadOnlySpan<byte>, style: NumberStyles, provider: IFormatProvider) = DualN<'P>.Const(Double.Parse(s, style, provider))
    /// Parses the primal value (a constant); false if the text is not a number.
    static member TryParse(s: string, provider: IFormatProvider, result: byref<DualN<'P>>) =
        let mutable d = 0.0
        let ok = Double.TryParse(s, provider, &d)
        result <- DualN<'P>.Const d
        ok
    static member TryParse(s: string, style: NumberStyles, provider: IFormatProvider, result: byref<DualN<'P>>) =
        let mutable d = 0.0
        let ok = Double.TryParse(s, style, provider, &d)
        result <- DualN<'P>.Const d
        ok
    static member TryParse(s: ReadOnlySpan<char>, provider: IFormatProvider, result: byref<DualN<'P>>) =
        let mutable d = 0.0
        let ok = Double.TryParse(s, provider, &d)
        result <- DualN<'P>.Const d
        ok
    static member TryParse(s: ReadOnlySpan<char>, style: NumberStyles, provider: IFormatProvider, result: byref<DualN<'P>>) =
        let mutable d = 0.0
        let ok = Double.TryParse(s, style, provider, &d)
        result <- DualN<'P>.Const d
        ok
    static member TryParse(s: ReadOnlySpan<byte>, provider: IFormatProvider, result: byref<DualN<'P>>) =
        let mutable d = 0.0
        let ok = Double.TryParse(s, provider, &d)
        result <- DualN<'P>.Const d
        ok
    static member TryParse(s: ReadOnlySpan<byte>, style: NumberStyles, provider: IFormatProvider, result: byref<DualN<'P>>) =
        let mutable d = 0.0
        let ok = Double.TryParse(s, style, provider, &d)
        result <- DualN<'P>.Const d
        ok

    /// Equality of primal values (Double.Equals: NaN equals NaN here, as for double).
    member x.Equals(y: DualN<'P>) = (DualN<'P>.Primal x).Equals(DualN<'P>.Primal y)
    override x.Equals(o: obj) = match o with :? DualN<'P> as y -> x.Equals y | _ -> false
    override x.GetHashCode() = (DualN<'P>.Primal x).GetHashCode()
    /// Orders by primal value.
    member x.CompareTo(y: DualN<'P>) = (DualN<'P>.Primal x).CompareTo(DualN<'P>.Primal y)

    interface IEquatable<DualN<'P>> with
        member x.Equals(y) = x.Equals y
    interface IComparable<DualN<'P>> with
        member x.CompareTo(y) = x.CompareTo y
    interface IComparable with
        member x.CompareTo(o) =
            match o with
            | null -> 1
            | :? DualN<'P> as y -> x.CompareTo y
            | _ -> raise (ArgumentException("Object must be of type DualN<'P>.", "obj"))
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

    interface INumberBase<DualN<'P>> with
        static member Zero = DualN<'P>.Zero
        static member One = DualN<'P>.One
        static member Radix = 2
        static member AdditiveIdentity = DualN<'P>.Zero
        static member MultiplicativeIdentity = DualN<'P>.One
        static member op_Addition(x, y) = x + y
        static member op_Subtraction(x, y) = x - y
        static member op_Multiply(x, y) = x * y
        static member op_Division(x, y) = x / y
        static member op_UnaryNegation x = -x
        static member op_UnaryPlus x = x
        static member op_Increment x = DualN<'P>.op_Increment x
        static member op_Decrement x = DualN<'P>.op_Decrement x
        static member Abs x = DualN<'P>.Abs x
        static member IsCanonical _ = true
        static member IsComplexNumber _ = false
        static member IsImaginaryNumber _ = false
        static member IsRealNumber x = not (DualN<'P>.IsNaN x)
        static member IsNaN x = DualN<'P>.IsNaN x
        static member IsFinite x = DualN<'P>.IsFinite x
        static member IsInfinity x = DualN<'P>.IsInfinity x
        static member IsPositiveInfinity x = DualN<'P>.IsPositiveInfinity x
        static member IsNegativeInfinity x = DualN<'P>.IsNegativeInfinity x
        static member IsNegative x = DualN<'P>.IsNegative x
        static member IsPositive x = DualN<'P>.IsPositive x
        static member IsZero x = DualN<'P>.IsZero x
        static member IsNormal x = DualN<'P>.IsNormal x
        static member IsSubnormal x = DualN<'P>.IsSubnormal x
        static member IsInteger x = DualN<'P>.IsInteger x
        static member IsEvenInteger x = DualN<'P>.IsEvenInteger x
        static member IsOddInteger x = DualN<'P>.IsOddInteger x
        static member MaxMagnitude(x, y) = DualN<'P>.MaxMagnitude(x, y)
        static member MinMagnitude(x, y) = DualN<'P>.MinMagnitude(x, y)
        static member MaxMagnitudeNumber(x, y) = DualN<'P>.MaxMagnitudeNumber(x, y)
        static member MinMagnitudeNumber(x, y) = DualN<'P>.MinMagnitudeNumber(x, y)
        static member CreateChecked v = DualN<'P>.CreateChecked v
        static member CreateSaturating v = DualN<'P>.CreateSaturating v
        static member CreateTruncating v = DualN<'P>.CreateTruncating v
        static member TryConvertFromChecked(v, result) = NumberConvert.tryFrom(DualN<'P>.CreateChecked, v, &result)
        static member TryConvertFromSaturating(v, result) = NumberConvert.tryFrom(DualN<'P>.CreateSaturating, v, &result)
        static member TryConvertFromTruncating(v, result) = NumberConvert.tryFrom(DualN<'P>.CreateTruncating, v, &result)
        static member TryConvertToChecked(x, result) = NumberConvert.tryToChecked(DualN<'P>.Primal x, &result)
        static member TryConvertToSaturating(x, result) = NumberConvert.tryToSaturating(DualN<'P>.Primal x, &result)
        static member TryConvertToTruncating(x, result) = NumberConvert.tryToTruncating(DualN<'P>.Primal x, &result)
        static member Parse(s: string, style: NumberStyles, provider: IFormatProvider) = DualN<'P>.Parse(s, style, provider)
        static member Parse(s: ReadOnlySpan<char>, style: NumberStyles, provider: IFormatProvider) = DualN<'P>.Parse(s, style, provider)
        static member Parse(s: ReadOnlySpan<byte>, style: NumberStyles, provider: IFormatProvider) = DualN<'P>.Parse(s, style, provider)
        static member Parse(s: string, provider: IFormatProvider) = DualN<'P>.Parse(s, provider)
        static member Parse(s: ReadOnlySpan<char>, provider: IFormatProvider) = DualN<'P>.Parse(s, provider)
        static member Parse(s: ReadOnlySpan<byte>, provider: IFormatProvider) = DualN<'P>.Parse(s, provider)
        static member TryParse(s: string, style: NumberStyles, provider: IFormatProvider, result: byref<DualN<'P>>) = DualN<'P>.TryParse(s, style, provider, &result)
        static member TryParse(s: ReadOnlySpan<char>, style: NumberStyles, provider: IFormatProvider, result: byref<DualN<'P>>) = DualN<'P>.TryParse(s, style, provider, &result)
        static member TryParse(s: ReadOnlySpan<byte>, style: NumberStyles, provider: IFormatProvider, result: byref<DualN<'P>>) = DualN<'P>.TryParse(s, style, provider, &result)
        static member TryParse(s: string, provider: IFormatProvider, result: byref<DualN<'P>>) = DualN<'P>.TryParse(s, provider, &result)
        static member TryParse(s: ReadOnlySpan<char>, provider: IFormatProvider, result: byref<DualN<'P>>) = DualN<'P>.TryParse(s, provider, &result)
        static member TryParse(s: ReadOnlySpan<byte>, provider: IFormatProvider, result: byref<DualN<'P>>) = DualN<'P>.TryParse(s, provider, &result)
        member x.TryFormat(destination: Span<byte>, bytesWritten: byref<int>, format: ReadOnlySpan<char>, provider: IFormatProvider) =
            let s = x.ToString(format.ToString(), provider)
            let n = Text.Encoding.UTF8.GetByteCount s
            if n <= destination.Length then
                bytesWritten <- Text.Encoding.UTF8.GetBytes(s.AsSpan(), destination)
                true
            else
                bytesWritten <- 0
                false
    interface IEqualityOperators<DualN<'P>, DualN<'P>, bool> with
        static member op_Equality(x, y) = DualN<'P>.op_Equality(x, y)
        static member op_Inequality(x, y) = DualN<'P>.op_Inequality(x, y)
    interface IModulusOperators<DualN<'P>, DualN<'P>, DualN<'P>> with
        static member op_Modulus(x, y) = x % y
    interface IComparisonOperators<DualN<'P>, DualN<'P>, bool> with
        static member op_LessThan(x, y) = DualN<'P>.op_LessThan(x, y)
        static member op_LessThanOrEqual(x, y) = DualN<'P>.op_LessThanOrEqual(x, y)
        static member op_GreaterThan(x, y) = DualN<'P>.op_GreaterThan(x, y)
        static member op_GreaterThanOrEqual(x, y) = DualN<'P>.op_GreaterThanOrEqual(x, y)
    interface IMinMaxValue<DualN<'P>> with
        static member MinValue = DualN<'P>.MinValue
        static member MaxValue = DualN<'P>.MaxValue
    interface IFloatingPointConstants<DualN<'P>> with
        static member E = DualN<'P>.E
        static member Pi = DualN<'P>.Pi
        static member Tau = DualN<'P>.Tau
    interface IExponentialFunctions<DualN<'P>> with
        static member Exp x = DualN<'P>.Exp x
        static member Exp2 x = DualN<'P>.Exp2 x
        static member Exp10 x = DualN<'P>.Exp10 x
        static member ExpM1 x = DualN<'P>.ExpM1 x
        static member Exp2M1 x = DualN<'P>.Exp2M1 x
        static member Exp10M1 x = DualN<'P>.Exp10M1 x
    interface ILogarithmicFunctions<DualN<'P>> with
        static member Log(x: DualN<'P>) = DualN<'P>.Log x
        static member Log(x: DualN<'P>, b: DualN<'P>) = DualN<'P>.Log(x, b)
        static member Log2 x = DualN<'P>.Log2 x
        static member Log10 x = DualN<'P>.Log10 x
        static member LogP1 x = DualN<'P>.LogP1 x
        static member Log2P1 x = DualN<'P>.Log2P1 x
        static member Log10P1 x = DualN<'P>.Log10P1 x
    interface IPowerFunctions<DualN<'P>> with
        static member Pow(x: DualN<'P>, y: DualN<'P>) = DualN<'P>.Pow(x, y)
    interface IRootFunctions<DualN<'P>> with
        static member Sqrt x = DualN<'P>.Sqrt x
        static member Cbrt x = DualN<'P>.Cbrt x
        static member RootN(x, n) = DualN<'P>.RootN(x, n)
        static member Hypot(x, y) = DualN<'P>.Hypot(x, y)
    interface ITrigonometricFunctions<DualN<'P>> with
        static member Sin x = DualN<'P>.Sin x
        static member Cos x = DualN<'P>.Cos x
        static member Tan x = DualN<'P>.Tan x
        static member SinCos x = DualN<'P>.SinCos x
        static member SinPi x = DualN<'P>.SinPi x
        static member CosPi x = DualN<'P>.CosPi x
        static member TanPi x = DualN<'P>.TanPi x
        static member SinCosPi x = DualN<'P>.SinCosPi x
        static member Asin x = DualN<'P>.Asin x
        static member Acos x = DualN<'P>.Acos x
        static member Atan x = DualN<'P>.Atan x
        static member AsinPi x = DualN<'P>.AsinPi x
        static member AcosPi x = DualN<'P>.AcosPi x
        static member AtanPi x = DualN<'P>.AtanPi x
        static member DegreesToRadians x = DualN<'P>.DegreesToRadians x
        static member RadiansToDegrees x = DualN<'P>.RadiansToDegrees x
    interface IHyperbolicFunctions<DualN<'P>> with
        static member Sinh x = DualN<'P>.Sinh x
        static member Cosh x = DualN<'P>.Cosh x
        static member Tanh x = DualN<'P>.Tanh x
        static member Asinh x = DualN<'P>.Asinh x
        static member Acosh x = DualN<'P>.Acosh x
        static member Atanh x = DualN<'P>.Atanh x
