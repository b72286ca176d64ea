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
    [<System.ComponentModel.EditorBrowsable(System.ComponentModel.EditorBrowsableState.Never)>]
    static member inline Const(c: float) = HyperDual(c, 0.0, 0.0, 0.0)

    /// f(x) = (f(a), f'(a)b, f'(a)c, f'(a)d + f''(a)bc) for x = (a, b, c, d). `c` is PowC's exponent.
    [<System.ComponentModel.EditorBrowsable(System.ComponentModel.EditorBrowsableState.Never)>]
    static member inline Apply1(f: Fun1, c: float, x: HyperDual) =
        let v = Rules.value1 f c x.V
        let d = Rules.d1<float> f c x.V v
        let dd = Rules.d2 f c x.V v d
        HyperDual(v, d * x.E1, d * x.E2, d * x.E12 + dd * x.E1 * x.E2)

    /// f(x, y): ε parts f_x·x.Eᵢ + f_y·y.Eᵢ; ε₁ε₂ part f_x·x.E12 + f_y·y.E12 + f_xx·x.E1·x.E2
    /// + f_xy·(x.E1·y.E2 + y.E1·x.E2) + f_yy·y.E1·y.E2.
    [<System.ComponentModel.EditorBrowsable(System.ComponentModel.EditorBrowsableState.Never)>]
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
    [<System.ComponentModel.EditorBrowsable(System.ComponentModel.EditorBrowsableState.Never)>]
    static member inline Apply2L(f: Fun2, x: HyperDual, c: float) =
        let v = Rules.value2 f x.V c
        let struct (dx, dy) = Rules.partials2<float> f x.V c v
        let struct (dxx, _, _) = Rules.hessian2 f x.V c v dx dy
        HyperDual(v, dx * x.E1, dx * x.E2, dx * x.E12 + dxx * x.E1 * x.E2)

    /// f(c, y) with c constant: Apply2 with x's ε parts absent.
    [<System.ComponentModel.EditorBrowsable(System.ComponentModel.EditorBrowsableState.Never)>]
    static member inline Apply2R(f: Fun2, c: float, y: HyperDual) =
        let v = Rules.value2 f c y.V
        let struct (dx, dy) = Rules.partials2<float> f c y.V v
        let struct (_, _, dyy) = Rules.hessian2 f c y.V v dx dy
        HyperDual(v, dy * y.E1, dy * y.E2, dy * y.E12 + dyy * y.E1 * y.E2)

    /// Is x a constant (all ε parts are 0)? Pow uses it to take the constant-argument forms.
    [<System.ComponentModel.EditorBrowsable(System.ComponentModel.EditorBrowsableState.Never)>]
    static member inline IsConstant(x: HyperDual) = x.E1 = 0.0 && x.E2 = 0.0 && x.E12 = 0.0

    /// The primal value (what comparisons and predicates see).
    [<System.ComponentModel.EditorBrowsable(System.ComponentModel.EditorBrowsableState.Never)>]
    static member inline Primal(x: HyperDual) = x.V

    /// A decision on primal values with its outcome (Real turns it into a guard while Fn.Compile records).
    static member inline internal Decided(_: Decision, _: HyperDual, _: HyperDual, outcome: bool) = outcome
    /// Decided for an integer outcome (CompareTo).
    static member inline internal DecidedInt(_: Decision, _: HyperDual, _: HyperDual, outcome: int) = outcome
    /// The primal value where the surface uses it beyond a decision (hashing, conversions).
    static member inline internal Observed(x: HyperDual) = x.V

    /// The explicit conversion to double: the primal value (the derivative parts are dropped, as for any
    /// plain number type).
    [<System.ComponentModel.EditorBrowsable(System.ComponentModel.EditorBrowsableState.Never)>]
    static member inline ToDouble(x: HyperDual) = x.V

    /// "V + E1ε₁ + E2ε₂ + E12ε₁ε₂".
    override x.ToString() = x.ToString(null, CultureInfo.InvariantCulture)
    /// "V + E1ε₁ + E2ε₂ + E12ε₁ε₂", each part formatted with `format`.
    member x.ToString(format: string, provider: IFormatProvider) =
        x.V.ToString(format, provider) + " + " + x.E1.ToString(format, provider) + "ε₁ + "
        + x.E2.ToString(format, provider) + "ε₂ + " + x.E12.ToString(format, provider) + "ε₁ε₂"

    // The generic-math surface (constants, operators, the .NET generic-math interfaces) is not written
    // here: the build appends Dual.fs's, with the type name replaced (Kernel.FSharp/NumberSurface.targets).
