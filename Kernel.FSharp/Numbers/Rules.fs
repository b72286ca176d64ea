namespace Hybrid.Kernel

open System
open System.Numerics

/// The unary elementary functions of the rule table. `PowC` is x^c with a constant c.
type Fun1 =
    | Neg = 0
    | Recip = 1
    | Square = 2
    | Sqrt = 3
    | Cbrt = 4
    | Exp = 5
    | Exp2 = 6
    | Log = 7
    | Log2 = 8
    | Log10 = 9
    | Log1p = 10
    | Expm1 = 11
    | Sin = 12
    | Cos = 13
    | Tan = 14
    | Asin = 15
    | Acos = 16
    | Atan = 17
    | Sinh = 18
    | Cosh = 19
    | Tanh = 20
    | Asinh = 21
    | Acosh = 22
    | Atanh = 23
    | Abs = 24
    | Erf = 25
    | PowC = 26

/// The binary elementary functions of the rule table. `Atan2` is atan2(x = y-coordinate, y = x-coordinate)
/// in .NET's argument order: `Atan2(y, x)`.
type Fun2 =
    | Add = 0
    | Sub = 1
    | Mul = 2
    | Div = 3
    | Pow = 4
    | Atan2 = 5
    | Hypot = 6
    | Min = 7
    | Max = 8
    /// x % y, the remainder with the sign of x (C#'s %, IEEE fmod): x − trunc(x/y)·y.
    | Mod = 9

/// The one rule table. Every elementary function has its value, first and second derivative written
/// here exactly once; Dual, HyperDual, the reverse tape, nested traces and the elementwise vector
/// primitives are all instantiated from these functions.
///
/// * `value1` / `value2` evaluate on `double`.
/// * `d1` / `partials2` give first derivatives *generically* (any 'T with .NET generic math), so a
///   nested trace can compute a partial as a differentiable value of the level below it.
///   They receive the already computed value `fx` so that e.g. exp' = exp costs nothing extra.
/// * `d2` / `hessian2` give second derivatives on `double` (hyper-dual numbers, second-order tapes).
///
/// Conventions where a derivative is undefined (tested, and stated in the README):
/// abs'(0) = 0; min/max at a tie split the derivative ½, ½; sqrt'(0) = +∞; cbrt'(0) = +∞;
/// d/dy x^y at x = 0 is 0 (the limit for y > 0); hypot at (0, 0) has derivative 0;
/// outside a function's domain the derivative is NaN, as the value is.
/// In reverse sweeps a zero adjoint is a symbolic zero: a node that does not reach the output adds
/// nothing even when its partial is NaN or ±∞ (forward mode keeps IEEE's 0·∞ = NaN).
///
/// NaN arguments (as JAX and PyTorch): a partial that is a constant keeps its value, every other
/// partial is NaN. So −x has derivative −1; x ± y has partials ±1; x·y has (y, x), so ∂/∂x (x·c) = c
/// at x = NaN; x / y has ∂/∂x = 1/y; x % y has ∂/∂x = 1; their second derivatives in the NaN argument
/// are 0 (and ∂²(x·y)/∂x∂y = 1). Every other first or second derivative at a NaN value is NaN, including abs, min and
/// max, whose derivative asks a comparison NaN cannot answer. A non-constant partial at a NaN value
/// is the value itself (`fx` / `fz`), so a nested level differentiating it gets NaN as well. "A
/// constant" is a `double` operand or a constant `Real`; a forward number's zero tangent is an
/// explicit 0, and 0·NaN = NaN.
///
/// Scale: every rule is written in a form as robust to scale as its value — ratios, `hypot` and
/// rescaling instead of x², 1 + x², x² + y² or 1/h³ — so that at extreme but representable
/// magnitudes (|x| up to 1e±300) a derivative is ±∞ or 0 only where the exact one is out of
/// range. The generic first derivatives stay robust when a nested level differentiates them, and
/// near the ends of a domain (asin, atanh at ±1; tanh, expm1 in their tails) they avoid the
/// cancellation of 1 − x² and 1 − tanh².
module Rules =

    let sqrtPi2 = 2.0 / Math.Sqrt Math.PI
    let ln2 = Math.Log 2.0
    let ln10 = Math.Log 10.0

    /// log(1 + x), accurate for small x (Kahan's trick; .NET's LogP1 is log(x + 1)).
    let log1p (x: float) =
        let u = 1.0 + x
        if u = 1.0 then x
        elif Double.IsInfinity u then Math.Log u
        else Math.Log u * (x / (u - 1.0)) // not (log u · x)/(u − 1): that overflows from x ≈ 2.5e305

    /// exp(x) − 1, accurate for small x (Kahan's trick; .NET's ExpM1 is exp(x) − 1).
    let expm1 (x: float) =
        let u = Math.Exp x
        if u = 1.0 then x
        elif u - 1.0 = -1.0 then -1.0
        elif Double.IsInfinity u then u
        else (u - 1.0) * (x / Math.Log u) // not ((u − 1)·x)/log u: that overflows from x ≈ 703

    /// The error function (MathNet's implementation, accurate to double precision).
    let erf (x: float) = MathNet.Numerics.SpecialFunctions.Erf x

    /// hypot without overflow or underflow.
    let hypot (x: float) (y: float) =
        let ax = Math.Abs x
        let ay = Math.Abs y
        let big = Math.Max(ax, ay)
        let small = Math.Min(ax, ay)
        if Double.IsInfinity big then Double.PositiveInfinity
        elif big = 0.0 || Double.IsNaN small then big + small
        else
            let r = small / big
            big * Math.Sqrt(1.0 + r * r)

    // ---------------------------------------------------------------- values

    /// f(x) on doubles. `c` is the exponent of PowC and ignored otherwise.
    let inline value1 (f: Fun1) (c: float) (x: float) : float =
        match f with
        | Fun1.Neg -> -x
        | Fun1.Recip -> 1.0 / x
        | Fun1.Square -> x * x
        | Fun1.Sqrt -> Math.Sqrt x
        | Fun1.Cbrt -> Math.Cbrt x
        | Fun1.Exp -> Math.Exp x
        | Fun1.Exp2 -> Math.Pow(2.0, x)
        | Fun1.Log -> Math.Log x
        | Fun1.Log2 -> Math.Log2 x
        | Fun1.Log10 -> Math.Log10 x
        | Fun1.Log1p -> log1p x
        | Fun1.Expm1 -> expm1 x
        | Fun1.Sin -> Math.Sin x
        | Fun1.Cos -> Math.Cos x
        | Fun1.Tan -> Math.Tan x
        | Fun1.Asin -> Math.Asin x
        | Fun1.Acos -> Math.Acos x
        | Fun1.Atan -> Math.Atan x
        | Fun1.Sinh -> Math.Sinh x
        | Fun1.Cosh -> Math.Cosh x
        | Fun1.Tanh -> Math.Tanh x
        | Fun1.Asinh -> Math.Asinh x
        | Fun1.Acosh -> Math.Acosh x
        | Fun1.Atanh -> Math.Atanh x
        | Fun1.Abs -> Math.Abs x
        | Fun1.Erf -> erf x
        | Fun1.PowC -> Math.Pow(x, c)
        | _ -> raise (ArgumentOutOfRangeException(nameof f, f, "not a rule-table function"))

    /// f(x, y) on doubles.
    let inline value2 (f: Fun2) (x: float) (y: float) : float =
        match f with
        | Fun2.Add -> x + y
        | Fun2.Sub -> x - y
        | Fun2.Mul -> x * y
        | Fun2.Div -> x / y
        | Fun2.Pow -> Math.Pow(x, y)
        | Fun2.Atan2 -> Math.Atan2(x, y)
        | Fun2.Hypot -> hypot x y
        | Fun2.Min -> if Double.IsNaN x || Double.IsNaN y then Double.NaN else Math.Min(x, y)
        | Fun2.Max -> if Double.IsNaN x || Double.IsNaN y then Double.NaN else Math.Max(x, y)
        | Fun2.Mod -> x % y
        | _ -> raise (ArgumentOutOfRangeException(nameof f, f, "not a rule-table function"))

    // ------------------------------------------------- first derivatives, generic

    let inline k<'T when 'T :> INumberBase<'T>> (c: float) : 'T = 'T.CreateTruncating c
    // Comparisons through the generic-math operators (F#'s own need 'T : comparison); they compare primals.
    let inline gt<'T when 'T :> IComparisonOperators<'T, 'T, bool>> (a: 'T) (b: 'T) = 'T.op_GreaterThan(a, b)
    let inline lt<'T when 'T :> IComparisonOperators<'T, 'T, bool>> (a: 'T) (b: 'T) = 'T.op_LessThan(a, b)
    let inline isZero<'T when 'T :> INumberBase<'T>> (a: 'T) = 'T.IsZero a

    /// 1 − x², as (1 − x)(1 + x) for |x| ≥ ½: 1 − x·x cancels near ±1, and the derivative of
    /// (1 − x)(1 + x), −(1 + x) + (1 − x), cancels near 0 (a nested level would lose −2x there).
    let inline private oneMinusSquare<'T
        when 'T :> INumberBase<'T> and 'T :> IComparisonOperators<'T, 'T, bool>> (x: 'T) : 'T =
        if lt x (k 0.5) && gt x (k -0.5) then 'T.One - x * x else ('T.One - x) * ('T.One + x)

    /// f'(x), generic in the number type so a nested trace gets a differentiable partial.
    /// `fx` is f(x), already computed by the caller.
    let inline d1<'T
        when 'T :> INumberBase<'T>
        and 'T :> IComparisonOperators<'T, 'T, bool>
        and 'T :> IExponentialFunctions<'T>
        and 'T :> ILogarithmicFunctions<'T>
        and 'T :> ITrigonometricFunctions<'T>
        and 'T :> IHyperbolicFunctions<'T>
        and 'T :> IRootFunctions<'T>
        and 'T :> IPowerFunctions<'T>> (f: Fun1) (c: float) (x: 'T) (fx: 'T) : 'T =
        match f with
        // linear: the constant derivative holds at NaN too
        | Fun1.Neg -> k -1.0
        // outside the domain (value NaN) the derivative is NaN too, e.g. log at x < 0; the NaN
        // returned is the traced value itself, so a nested level's second derivative is NaN as well
        | _ when 'T.IsNaN fx -> fx
        | Fun1.Recip -> -(fx * fx)
        | Fun1.Square -> k 2.0 * x
        | Fun1.Sqrt -> k 0.5 / fx
        | Fun1.Cbrt -> k (1.0 / 3.0) / (fx * fx)
        | Fun1.Exp -> fx
        | Fun1.Exp2 -> k ln2 * fx
        | Fun1.Log -> 'T.One / x
        | Fun1.Log2 -> k (1.0 / ln2) / x
        | Fun1.Log10 -> k (1.0 / ln10) / x
        | Fun1.Log1p -> 'T.One / ('T.One + x)
        // expm1 + 1 cancels where expm1 ≈ −1 (x ≲ −1): there eˣ itself
        | Fun1.Expm1 -> if gt fx (k -0.5) then fx + 'T.One else 'T.Exp x
        | Fun1.Sin -> 'T.Cos x
        | Fun1.Cos -> -('T.Sin x)
        | Fun1.Tan -> 'T.One + fx * fx
        | Fun1.Asin -> 'T.One / 'T.Sqrt(oneMinusSquare x)
        | Fun1.Acos -> -('T.One / 'T.Sqrt(oneMinusSquare x))
        // for |x| > 1, 1/(1 + x²) = r²/(1 + r²) with r = 1/x: x² would overflow from |x| ≈ 1e154
        | Fun1.Atan ->
            if gt x 'T.One || lt x (k -1.0) then
                let r = 'T.One / x
                let r2 = r * r
                r2 / ('T.One + r2)
            else 'T.One / ('T.One + x * x)
        | Fun1.Sinh -> 'T.Cosh x
        | Fun1.Cosh -> 'T.Sinh x
        // 1 − tanh² cancels in the tails (0 from |x| ≈ 19): there sech² = 4u/(1 + u)², u = e^(−2|x|)
        // (u ≤ 1: no overflow, unlike 1/cosh², whose nested derivative is 0·∞ beyond |x| ≈ 710)
        | Fun1.Tanh ->
            if lt fx (k 0.75) && gt fx (k -0.75) then 'T.One - fx * fx
            else
                let u = 'T.Exp(k -2.0 * 'T.Abs x)
                let v = 'T.One + u
                k 4.0 * u / (v * v)
        // for |x| > 1, 1/√(x² + 1) = r/√(1 + r²) with r = 1/|x|
        | Fun1.Asinh ->
            if gt x 'T.One || lt x (k -1.0) then
                let r = 'T.One / 'T.Abs x
                r / 'T.Sqrt('T.One + r * r)
            else 'T.One / 'T.Sqrt(x * x + 'T.One)
        | Fun1.Acosh -> 'T.One / ('T.Sqrt(x - 'T.One) * 'T.Sqrt(x + 'T.One))
        | Fun1.Atanh -> 'T.One / oneMinusSquare x
        // special case: abs'(0) = 0 (the subgradient of least norm); NaN stays NaN.
        | Fun1.Abs -> if gt x 'T.Zero then 'T.One elif lt x 'T.Zero then k -1.0 elif isZero x then 'T.Zero else x
        // e^(−x²) underflows to 0 from |x| ≈ 27.3 (and its nested derivative would be ∞·0 at
        // |x| ≈ 1e308): beyond 28 the derivative and its derivative are 0 to double precision
        | Fun1.Erf -> if gt x (k 28.0) || lt x (k -28.0) then 'T.Zero else k sqrtPi2 * 'T.Exp(-(x * x))
        | Fun1.PowC -> if c = 0.0 then 'T.Zero else k c * 'T.Pow(x, k (c - 1.0))
        | _ -> raise (ArgumentOutOfRangeException(nameof f, f, "not a rule-table function"))

    /// (∂f/∂x, ∂f/∂y), generic in the number type. `fz` is f(x, y), already computed.
    let inline partials2<'T
        when 'T :> INumberBase<'T>
        and 'T :> IComparisonOperators<'T, 'T, bool>
        and 'T :> IExponentialFunctions<'T>
        and 'T :> ILogarithmicFunctions<'T>
        and 'T :> ITrigonometricFunctions<'T>
        and 'T :> IHyperbolicFunctions<'T>
        and 'T :> IRootFunctions<'T>
        and 'T :> IPowerFunctions<'T>> (f: Fun2) (x: 'T) (y: 'T) (fz: 'T) : struct ('T * 'T) =
        match f with
        // linear in each argument: the constant partials hold at NaN too (∂/∂x (x·c) = c)
        | Fun2.Add -> struct ('T.One, 'T.One)
        | Fun2.Sub -> struct ('T.One, k -1.0)
        | Fun2.Mul -> struct (y, x)
        | Fun2.Div -> let r = 'T.One / y in struct (r, -(fz * r))
        // x % y = x − trunc(x/y)·y: piecewise linear; at the jumps (x/y an integer) the derivative
        // of the piece to the right is taken, as for floor in JAX. ∂/∂x = 1 at NaN too.
        | Fun2.Mod ->
            if 'T.IsNaN fz then struct ('T.One, fz)
            else
                let q: float = Double.CreateTruncating<'T>(x / y)
                struct ('T.One, k (-(Math.Truncate q)))
        // every other partial at a NaN value is NaN: the value itself, as in d1
        | _ when 'T.IsNaN fz -> struct (fz, fz)
        // special case: d/dy x^y at x = 0 is 0, the limit from y > 0 (log 0 would give 0·∞ = NaN).
        | Fun2.Pow ->
            let dx = if isZero y then 'T.Zero else y * 'T.Pow(x, y - 'T.One)
            let dy = if isZero x then 'T.Zero else fz * 'T.Log x
            struct (dx, dy)
        // y/(x² + y²) under- or overflows from |x| ≈ 1e∓154: rescaled by m, the power of 2 at
        // max(|x|, |y|) (a constant, so x/m is exact), x'² + y'² lies in [1, 8), and a nested level's
        // derivative leaves the range only at its last division by m (±∞, never ∞ − ∞ = NaN)
        | Fun2.Atan2 ->
            let big = Math.Max(Math.Abs(Double.CreateTruncating<'T> x), Math.Abs(Double.CreateTruncating<'T> y))
            let m = k (if big > 0.0 && Double.IsFinite big then Math.ScaleB(1.0, Math.ILogB big) else 1.0)
            let xs = x / m
            let ys = y / m
            let r = xs * xs + ys * ys
            struct (ys / r / m, -(xs / r / m))
        // special case: hypot at (0, 0) has derivative 0, like abs.
        | Fun2.Hypot -> if isZero fz then struct ('T.Zero, 'T.Zero) else struct (x / fz, y / fz)
        // special case: a tie splits the derivative (½, ½), as JAX does.
        | Fun2.Min ->
            if lt x y then struct ('T.One, 'T.Zero)
            elif lt y x then struct ('T.Zero, 'T.One)
            else struct (k 0.5, k 0.5)
        | Fun2.Max ->
            if gt x y then struct ('T.One, 'T.Zero)
            elif gt y x then struct ('T.Zero, 'T.One)
            else struct (k 0.5, k 0.5)
        | _ -> raise (ArgumentOutOfRangeException(nameof f, f, "not a rule-table function"))

    // ------------------------------------------------ second derivatives, double

    /// f''(x) on doubles. `fx` is f(x) and `dfx` is f'(x), already computed.
    let inline d2 (f: Fun1) (c: float) (x: float) (fx: float) (dfx: float) : float =
        match f with
        | Fun1.Neg -> 0.0
        | _ when Double.IsNaN fx -> fx
        // products and quotients ordered so that no intermediate leaves the range before the result
        | Fun1.Recip -> 2.0 * fx * fx * fx
        | Fun1.Square -> 2.0
        | Fun1.Sqrt -> -0.5 * dfx / x
        | Fun1.Cbrt -> -2.0 / 3.0 * dfx / x
        | Fun1.Exp -> fx
        | Fun1.Exp2 -> ln2 * ln2 * fx
        // −f'/x, not −1/(k·x·x): x·x overflows from |x| ≈ 1e154
        | Fun1.Log
        | Fun1.Log2
        | Fun1.Log10 -> -(dfx / x)
        | Fun1.Log1p -> -(dfx * dfx)
        | Fun1.Expm1 -> dfx
        | Fun1.Sin -> -fx
        | Fun1.Cos -> -fx
        | Fun1.Tan -> 2.0 * fx * dfx
        | Fun1.Asin -> x * dfx * dfx * dfx
        | Fun1.Acos -> x * dfx * dfx * dfx
        // −2x/(1 + x²)² = −2·q·f' with q = x/(1 + x²), for |x| > 1 as r/(1 + r²), r = 1/x
        | Fun1.Atan ->
            let q = if Math.Abs x > 1.0 then (let r = 1.0 / x in r / (1.0 + r * r)) else x * dfx
            -2.0 * q * dfx
        | Fun1.Sinh -> fx
        | Fun1.Cosh -> fx
        | Fun1.Tanh -> -2.0 * fx * dfx
        | Fun1.Asinh -> -x * dfx * dfx * dfx
        | Fun1.Acosh -> -x * dfx * dfx * dfx
        | Fun1.Atanh -> 2.0 * x * dfx * dfx
        | Fun1.Abs -> if Double.IsNaN x then x else 0.0
        // −2·(x·f'): −2x overflows at |x| ≈ 1e308 where f' = 0 (∞·0 = NaN)
        | Fun1.Erf -> -2.0 * (x * dfx)
        | Fun1.PowC -> if c = 0.0 || c = 1.0 then 0.0 else c * (c - 1.0) * Math.Pow(x, c - 2.0)
        | _ -> raise (ArgumentOutOfRangeException(nameof f, f, "not a rule-table function"))

    /// The second partials (∂²f/∂x², ∂²f/∂x∂y, ∂²f/∂y²) on doubles; `fz` = f(x, y) and
    /// (dx, dy) its first partials, already computed.
    let inline hessian2 (f: Fun2) (x: float) (y: float) (fz: float) (dx: float) (dy: float) : struct (float * float * float) =
        match f with
        | Fun2.Add
        | Fun2.Sub -> struct (0.0, 0.0, 0.0)
        // ∂/∂x ≡ 1, so ∂²/∂x² = ∂²/∂x∂y = 0 at NaN too; ∂²/∂y² is NaN there
        | Fun2.Mod -> if Double.IsNaN fz then struct (0.0, 0.0, fz) else struct (0.0, 0.0, 0.0)
        | Fun2.Min
        | Fun2.Max -> if Double.IsNaN fz then struct (fz, fz, fz) else struct (0.0, 0.0, 0.0)
        | Fun2.Mul -> struct (0.0, 1.0, 0.0)
        // 2·((x/y)/y)/y: (x/y)·(1/y)² would under- or overflow in (1/y)² first
        | Fun2.Div -> let r = 1.0 / y in struct (0.0, -(r * r), 2.0 * (fz * r * r))
        | Fun2.Pow ->
            let lx = if x = 0.0 then 0.0 else Math.Log x
            let xx = if y = 0.0 || y = 1.0 then 0.0 else y * (y - 1.0) * Math.Pow(x, y - 2.0)
            let xy = if x = 0.0 then 0.0 else Math.Pow(x, y - 1.0) * (1.0 + y * lx)
            struct (xx, xy, dy * lx)
        // with a = x/h, b = y/h (h = hypot): ∓2ab/h² and (a − b)(a + b)/h², each divided by h twice
        | Fun2.Atan2 ->
            let h = hypot x y
            let a = x / h
            let b = y / h
            let ab2 = 2.0 * a * b
            struct (-(ab2 / h / h), (a - b) * (a + b) / h / h, ab2 / h / h)
        // y²/h³ = (y/h)²/h with the first partials x/h, y/h: 1/h³ would leave the range from 1e±103
        | Fun2.Hypot ->
            if fz = 0.0 then struct (0.0, 0.0, 0.0)
            else struct (dy * dy / fz, -(dx * dy) / fz, dx * dx / fz)
        | _ -> raise (ArgumentOutOfRangeException(nameof f, f, "not a rule-table function"))

    // --------------------------------------------------------------- metadata

    /// Every unary rule with its name and a domain (lo, hi) on which it is smooth, for tests
    /// and documentation. PowC is listed with the exponents tests use.
    let unary : (Fun1 * string * float * float) list =
        [ Fun1.Neg, "Neg", -3.0, 3.0
          Fun1.Recip, "Recip", 0.2, 3.0
          Fun1.Square, "Square", -3.0, 3.0
          Fun1.Sqrt, "Sqrt", 0.1, 4.0
          Fun1.Cbrt, "Cbrt", 0.1, 4.0
          Fun1.Exp, "Exp", -2.0, 2.0
          Fun1.Exp2, "Exp2", -2.0, 2.0
          Fun1.Log, "Log", 0.1, 4.0
          Fun1.Log2, "Log2", 0.1, 4.0
          Fun1.Log10, "Log10", 0.1, 4.0
          Fun1.Log1p, "Log1p", -0.5, 3.0
          Fun1.Expm1, "Expm1", -2.0, 2.0
          Fun1.Sin, "Sin", -3.0, 3.0
          Fun1.Cos, "Cos", -3.0, 3.0
          Fun1.Tan, "Tan", -1.2, 1.2
          Fun1.Asin, "Asin", -0.9, 0.9
          Fun1.Acos, "Acos", -0.9, 0.9
          Fun1.Atan, "Atan", -3.0, 3.0
          Fun1.Sinh, "Sinh", -2.0, 2.0
          Fun1.Cosh, "Cosh", -2.0, 2.0
          Fun1.Tanh, "Tanh", -2.0, 2.0
          Fun1.Asinh, "Asinh", -3.0, 3.0
          Fun1.Acosh, "Acosh", 1.1, 4.0
          Fun1.Atanh, "Atanh", -0.9, 0.9
          Fun1.Abs, "Abs", 0.1, 3.0
          Fun1.Erf, "Erf", -2.0, 2.0
          Fun1.PowC, "PowC", 0.2, 3.0 ]

    /// Every binary rule with its name and a box (lo, hi) for both arguments on which it is smooth.
    let binary : (Fun2 * string * float * float) list =
        [ Fun2.Add, "Add", -3.0, 3.0
          Fun2.Sub, "Sub", -3.0, 3.0
          Fun2.Mul, "Mul", -3.0, 3.0
          Fun2.Div, "Div", 0.3, 3.0
          Fun2.Pow, "Pow", 0.3, 2.5
          Fun2.Atan2, "Atan2", 0.3, 3.0
          Fun2.Hypot, "Hypot", 0.3, 3.0
          Fun2.Min, "Min", -3.0, 3.0
          Fun2.Max, "Max", -3.0, 3.0
          Fun2.Mod, "Mod", 0.3, 3.0 ]
