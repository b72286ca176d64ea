// The one rule table: every elementary function is ONE row below, in `Rules.rule1` (unary) or `Rules.rule2`
// (binary), holding its value, first derivative (generic), second derivative(s), domain, convention at
// undefined points and test points. Dual, HyperDual, Real (reverse, forward, second-order tape, nested) and
// the elementwise Vec maps all read the rows through the column accessors `value1`/`d1`/`d2` and
// `value2`/`partials2`/`hessian2`; RulesTests loops over the rows.
//
// To add a function: one case in `Fun1` / `Fun2`, one row in `rule1` / `rule2` — and, if it is a member of
// a .NET generic-math interface, one line in the surface of Numbers/Dual.fs (`static member Sinc(x: Dual) =
// Dual.Apply1(Fun1.Sinc, 0.0, x)`). Its tests then run in every mode with no new test code, except its
// exact derivatives at extreme magnitudes (RulesTests' scale table, computed independently of the row).

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

/// How a row's derivatives treat a NaN value.
[<System.ComponentModel.EditorBrowsable(System.ComponentModel.EditorBrowsableState.Never)>]
type NanRule =
    /// f(x) is NaN ⇒ every derivative is NaN (the value itself, so a nested level differentiating the
    /// derivative gets NaN too). The column accessors check it; the row's formulas need not.
    | Propagate = 0
    /// The row's formulas hold at NaN as written: linear functions keep their constant derivatives.
    | AsWritten = 1

/// A point where a unary rule's derivatives are fixed by a convention (or are IEEE's ±∞ limits):
/// f'(X) = D1 and f''(X) = D2; C is PowC's exponent (0 for the others).
[<System.ComponentModel.EditorBrowsable(System.ComponentModel.EditorBrowsableState.Never)>]
type Point1 =
    { C: float
      X: float
      D1: float
      D2: float }

/// A unary row's metadata: what tests and documentation read.
[<System.ComponentModel.EditorBrowsable(System.ComponentModel.EditorBrowsableState.Never)>]
type Info1 =
    { Fun: Fun1
      Name: string
      /// How its derivatives treat a NaN value.
      NanRule: NanRule
      /// An interval on which f is smooth: test points are spread over it.
      Smooth: float * float
      /// The closed interval [lo, hi] where f(x) is defined (not NaN); ±∞ for unbounded. Outside it the
      /// derivatives are NaN, like the value.
      Domain: float * float
      /// The convention at points of the domain where a derivative is undefined ("" if there are none).
      Convention: string
      /// The points of that convention (and the finite ends of the domain) with their derivatives.
      At: Point1 list
      /// The constants the tests use for a parameterised rule (PowC's exponents); [0] for the others.
      Constants: float list }

/// A point where a binary rule's derivatives are fixed by a convention: its first partials
/// (Dx, Dy) and second partials (Hxx, Hxy, Hyy) at (X, Y).
[<System.ComponentModel.EditorBrowsable(System.ComponentModel.EditorBrowsableState.Never)>]
type Point2 =
    { X: float
      Y: float
      Dx: float
      Dy: float
      Hxx: float
      Hxy: float
      Hyy: float }

/// A binary row's metadata.
[<System.ComponentModel.EditorBrowsable(System.ComponentModel.EditorBrowsableState.Never)>]
type Info2 =
    { Fun: Fun2
      Name: string
      /// How its derivatives treat a NaN value.
      NanRule: NanRule
      /// A box [lo, hi]² on which f is smooth: test points are spread over it.
      Smooth: float * float
      /// Where f(x, y) is defined (not NaN) for finite x and y. Outside it the derivatives are NaN.
      Domain: float -> float -> bool
      /// The convention at points of the domain where a derivative is undefined ("" if there are none).
      Convention: string
      At: Point2 list }

/// The one rule table. Every elementary function is one row of `rule1` or `rule2`: its value, first
/// and second derivative, domain, convention at undefined points and test points, written exactly once;
/// Dual, HyperDual, the reverse tape, nested traces and the elementwise vector primitives are all
/// instantiated from the rows through the column accessors below, and the tests loop over the rows.
///
/// * `value1` / `value2` evaluate on `double`.
/// * `d1` / `partials2` give first derivatives *generically* (any 'T with .NET generic math), so a
///   nested trace can compute a partial as a differentiable value of the level below it.
///   They receive the already computed value `fx` so that e.g. exp' = exp costs nothing extra.
/// * `d2` / `hessian2` give second derivatives on `double` (hyper-dual numbers, second-order tapes).
/// * `info1` / `info2` give a row's metadata (`Info1`, `Info2`); `unary` / `binary` list every row.
///
/// The rows are arms of one `inline` match, each handing its parts as lambdas to `'C.Row`, the static
/// inline member of a column type (`Column.D1`, …) that evaluates only its own part. F# inlines the
/// member and its lambdas (`InlineIfLambda`), so at each call site the match reduces (to the one arm
/// when f is a constant) and the other parts are never compiled in: no closure, no call, the same IL as
/// a hand-written rule.
/// Adding a function is one case in `Fun1`/`Fun2` and one row (plus, for a generic-math interface
/// member, one line of surface in Numbers/Dual.fs).
///
/// Conventions where a derivative is undefined (each row states its own and lists its points; tested,
/// and stated in the README):
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
/// explicit 0, and 0·NaN = NaN. (A row marked `AsWritten` keeps its formulas at NaN; every other row
/// is `Propagate`: the accessors return NaN there.)
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
        // an infinite side gives +∞ even beside a NaN (IEEE 754, double.Hypot); Max and Min propagate NaN
        if Double.IsPositiveInfinity ax || Double.IsPositiveInfinity ay then Double.PositiveInfinity
        elif big = 0.0 || Double.IsNaN small then big + small
        else
            let r = small / big
            big * Math.Sqrt(1.0 + r * r)

    let inline k<'T when 'T :> INumberBase<'T>> (c: float) : 'T = 'T.CreateTruncating c
    // Comparisons through the generic-math operators (F#'s own need 'T : comparison); they compare primals.
    let inline gt<'T when 'T :> IComparisonOperators<'T, 'T, bool>> (a: 'T) (b: 'T) = 'T.op_GreaterThan(a, b)
    let inline lt<'T when 'T :> IComparisonOperators<'T, 'T, bool>> (a: 'T) (b: 'T) = 'T.op_LessThan(a, b)
    let inline isZero<'T when 'T :> INumberBase<'T>> (a: 'T) = 'T.IsZero a

    let inline eq<'T when 'T :> IEqualityOperators<'T, 'T, bool>> (a: 'T) (b: 'T) = 'T.op_Equality(a, b)

    /// 1 − x², as (1 − x)(1 + x) for |x| ≥ ½: 1 − x·x cancels near ±1, and the derivative of
    /// (1 − x)(1 + x), −(1 + x) + (1 − x), cancels near 0 (a nested level would lose −2x there).
    /// At the domain ends x = ±1 exactly, 2·(1 ∓ x): the same value and the same derivative ∓2 there
    /// (1 ± x is exactly 2), but no factor 1 ∓ x = 0 beside it, which a nested reverse sweep would
    /// multiply by the product's infinite adjoint (0·∞ = NaN where the convention's f'' is ±∞).
    let inline private oneMinusSquare<'T
        when 'T :> INumberBase<'T> and 'T :> IComparisonOperators<'T, 'T, bool>> (x: 'T) : 'T =
        if lt x (k 0.5) && gt x (k -0.5) then 'T.One - x * x
        elif eq x 'T.One then k 2.0 * ('T.One - x)
        elif eq x (k -1.0) then k 2.0 * ('T.One + x)
        else ('T.One - x) * ('T.One + x)

    // ------------------------------------------------------------------------- building rows

    /// What the rows are written with: their metadata builders and constants.
    [<System.ComponentModel.EditorBrowsable(System.ComponentModel.EditorBrowsableState.Never)>]
    module Row =
        /// +∞.
        let inf = Double.PositiveInfinity
        /// NaN.
        let nan = Double.NaN
        /// The whole line (−∞, ∞), as a domain.
        let whole = (-inf, inf)
        /// A unary row's metadata (its `Fun` is filled in by `info1`).
        let meta name smooth domain convention at : Info1 =
            { Fun = enum 0; Name = name; NanRule = NanRule.Propagate; Smooth = smooth; Domain = domain; Convention = convention; At = at; Constants = [ 0.0 ] }
        /// f'(x) = d1 and f''(x) = d2 at x.
        let at x d1 d2 : Point1 = { C = 0.0; X = x; D1 = d1; D2 = d2 }
        /// A binary row's metadata (its `Fun` is filled in by `info2`).
        let meta2 name smooth domain convention at : Info2 =
            { Fun = enum 0; Name = name; NanRule = NanRule.Propagate; Smooth = smooth; Domain = domain; Convention = convention; At = at }
        /// The partials (dx, dy) and second partials (hxx, hxy, hyy) at (x, y).
        let at2 x y (dx, dy) (hxx, hxy, hyy) : Point2 = { X = x; Y = y; Dx = dx; Dy = dy; Hxx = hxx; Hxy = hxy; Hyy = hyy }
        /// The domain of a binary function defined everywhere.
        let always (_: float) (_: float) = true

    open Row

    /// The columns of the table. A column's inline `Row` member receives an accessor's arguments `a` and
    /// every part of a row, and evaluates only its own part: at each call site the compiler inlines it into
    /// the arm and never compiles the other parts (no closure, no call, the arguments' tuple taken apart).
    [<System.ComponentModel.EditorBrowsable(System.ComponentModel.EditorBrowsableState.Never)>]
    module Column =
        /// f(x); a = x.
        [<Sealed; AbstractClass>]
        type Value1 =
            static member inline Row
                (x: float, _: NanRule, [<InlineIfLambda>] value: float -> float, [<InlineIfLambda>] _d1: 'T -> 'T -> 'T,
                 [<InlineIfLambda>] _d2: float -> float -> float -> float, [<InlineIfLambda>] _info: unit -> Info1) : float =
                value x

        /// f'(x), NaN where f(x) is NaN unless the row keeps its formula there; a = (x, fx).
        [<Sealed; AbstractClass>]
        type D1<'T when 'T :> INumberBase<'T>> =
            static member inline Row
                (a: 'T * 'T, nanRule: NanRule, [<InlineIfLambda>] _value: float -> float, [<InlineIfLambda>] d1: 'T -> 'T -> 'T,
                 [<InlineIfLambda>] _d2: float -> float -> float -> float, [<InlineIfLambda>] _info: unit -> Info1) : 'T =
                let x, fx = a
                if nanRule = NanRule.Propagate && 'T.IsNaN fx then fx else d1 x fx

        /// f''(x), NaN where f(x) is NaN unless the row keeps its formula there; a = (x, fx, dfx).
        [<Sealed; AbstractClass>]
        type D2 =
            static member inline Row
                (a: float * float * float, nanRule: NanRule, [<InlineIfLambda>] _value: float -> float,
                 [<InlineIfLambda>] _d1: 'T -> 'T -> 'T, [<InlineIfLambda>] d2: float -> float -> float -> float,
                 [<InlineIfLambda>] _info: unit -> Info1) : float =
                let x, fx, dfx = a
                if nanRule = NanRule.Propagate && Double.IsNaN fx then fx else d2 x fx dfx

        /// A unary row's metadata and NaN rule; a = ().
        [<Sealed; AbstractClass>]
        type Meta1 =
            static member inline Row
                (_: unit, nanRule: NanRule, [<InlineIfLambda>] _value: float -> float, [<InlineIfLambda>] _d1: 'T -> 'T -> 'T,
                 [<InlineIfLambda>] _d2: float -> float -> float -> float, [<InlineIfLambda>] info: unit -> Info1) : struct (NanRule * Info1) =
                struct (nanRule, info ())

        /// f(x, y); a = (x, y).
        [<Sealed; AbstractClass>]
        type Value2 =
            static member inline Row
                (a: float * float, _: NanRule, [<InlineIfLambda>] value: float -> float -> float,
                 [<InlineIfLambda>] _partials: 'T -> 'T -> 'T -> struct ('T * 'T),
                 [<InlineIfLambda>] _hessian: float -> float -> float -> float -> float -> struct (float * float * float),
                 [<InlineIfLambda>] _info: unit -> Info2) : float =
                let x, y = a
                value x y

        /// (∂f/∂x, ∂f/∂y), NaN where f is NaN unless the row keeps its formulas there; a = (x, y, fz).
        [<Sealed; AbstractClass>]
        type Partials2<'T when 'T :> INumberBase<'T>> =
            static member inline Row
                (a: 'T * 'T * 'T, nanRule: NanRule, [<InlineIfLambda>] _value: float -> float -> float,
                 [<InlineIfLambda>] partials: 'T -> 'T -> 'T -> struct ('T * 'T),
                 [<InlineIfLambda>] _hessian: float -> float -> float -> float -> float -> struct (float * float * float),
                 [<InlineIfLambda>] _info: unit -> Info2) : struct ('T * 'T) =
                let x, y, fz = a
                if nanRule = NanRule.Propagate && 'T.IsNaN fz then struct (fz, fz) else partials x y fz

        /// (∂²f/∂x², ∂²f/∂x∂y, ∂²f/∂y²), NaN where f is NaN unless the row keeps its formulas there;
        /// a = (x, y, fz, dx, dy).
        [<Sealed; AbstractClass>]
        type Hessian2 =
            static member inline Row
                (a: float * float * float * float * float, nanRule: NanRule, [<InlineIfLambda>] _value: float -> float -> float,
                 [<InlineIfLambda>] _partials: 'T -> 'T -> 'T -> struct ('T * 'T),
                 [<InlineIfLambda>] hessian: float -> float -> float -> float -> float -> struct (float * float * float),
                 [<InlineIfLambda>] _info: unit -> Info2) : struct (float * float * float) =
                let x, y, fz, dx, dy = a
                if nanRule = NanRule.Propagate && Double.IsNaN fz then struct (fz, fz, fz) else hessian x y fz dx dy

        /// A binary row's metadata and NaN rule; a = ().
        [<Sealed; AbstractClass>]
        type Meta2 =
            static member inline Row
                (_: unit, nanRule: NanRule, [<InlineIfLambda>] _value: float -> float -> float,
                 [<InlineIfLambda>] _partials: 'T -> 'T -> 'T -> struct ('T * 'T),
                 [<InlineIfLambda>] _hessian: float -> float -> float -> float -> float -> struct (float * float * float),
                 [<InlineIfLambda>] info: unit -> Info2) : struct (NanRule * Info2) =
                struct (nanRule, info ())

    // ------------------------------------------------------------------------ the unary rows

    /// The unary rows: one arm per function, `'C.Row(a, nanRule, value, d1, d2, info)` with
    /// * value x = f(x) on doubles;
    /// * d1 x fx = f'(x), generic ('T: a nested trace differentiates it), given fx = f(x);
    /// * d2 x fx dfx = f''(x) on doubles, given fx and dfx = f'(x);
    /// * info () = its metadata: name, smooth interval, domain, convention and its points.
    /// `c` is PowC's exponent. The column 'C (see `Column`) keeps one of the parts; `a` is its arguments.
    let inline rule1<'C, 'A, 'T, 'R
        when 'C: (static member Row:
            'A * NanRule * (float -> float) * ('T -> 'T -> 'T) * (float -> float -> float -> float) * (unit -> Info1) -> 'R)
        and 'T :> INumberBase<'T>
        and 'T :> IComparisonOperators<'T, 'T, bool>
        and 'T :> IExponentialFunctions<'T>
        and 'T :> ILogarithmicFunctions<'T>
        and 'T :> ITrigonometricFunctions<'T>
        and 'T :> IHyperbolicFunctions<'T>
        and 'T :> IRootFunctions<'T>
        and 'T :> IPowerFunctions<'T>>
        (f: Fun1)
        (c: float)
        (a: 'A)
        : 'R =
        // products and quotients are ordered so that no intermediate leaves the range before the result
        match f with
        // linear: the constant derivative holds at NaN too
        | Fun1.Neg ->
            'C.Row(a, NanRule.AsWritten, (fun x -> -x), (fun _ _ -> k -1.0), (fun _ _ _ -> 0.0), fun () ->
                meta "Neg" (-3.0, 3.0) whole "" [])
        | Fun1.Recip ->
            'C.Row(a, NanRule.Propagate, (fun x -> 1.0 / x), (fun _ fx -> -(fx * fx)), (fun _ fx _ -> 2.0 * fx * fx * fx), fun () ->
                meta "Recip" (0.2, 3.0) whole "at 0, 1/0 = +∞ and the derivatives are the limits from the right" [ at 0.0 -inf inf ])
        | Fun1.Square ->
            'C.Row(a, NanRule.Propagate, (fun x -> x * x), (fun x _ -> k 2.0 * x), (fun _ _ _ -> 2.0), fun () ->
                meta "Square" (-3.0, 3.0) whole "" [])
        | Fun1.Sqrt ->
            'C.Row(a, NanRule.Propagate, (fun x -> Math.Sqrt x), (fun _ fx -> k 0.5 / fx), (fun x _ dfx -> -0.5 * dfx / x), fun () ->
                meta "Sqrt" (0.1, 4.0) (0.0, inf) "sqrt'(0) = +∞, the limit from the right" [ at 0.0 inf -inf ])
        // cbrt' = (1/3)/fx/fx, not (1/3)/(fx·fx): at 0 a nested level's derivative of fx·fx is 0·∞ = NaN
        | Fun1.Cbrt ->
            'C.Row(a, NanRule.Propagate, (fun x -> Math.Cbrt x), (fun _ fx -> k (1.0 / 3.0) / fx / fx), (fun x _ dfx -> -2.0 / 3.0 * dfx / x), fun () ->
                meta "Cbrt" (0.1, 4.0) whole "cbrt'(0) = +∞ (and cbrt''(+0) = −∞, the limit from the right)" [ at 0.0 inf -inf ])
        | Fun1.Exp ->
            'C.Row(a, NanRule.Propagate, (fun x -> Math.Exp x), (fun _ fx -> fx), (fun _ fx _ -> fx), fun () ->
                meta "Exp" (-2.0, 2.0) whole "" [])
        | Fun1.Exp2 ->
            'C.Row(a, NanRule.Propagate, (fun x -> Math.Pow(2.0, x)), (fun _ fx -> k ln2 * fx), (fun _ fx _ -> ln2 * ln2 * fx), fun () ->
                meta "Exp2" (-2.0, 2.0) whole "" [])
        // log'' = −f'/x, not −1/(k·x·x): x·x overflows from |x| ≈ 1e154
        | Fun1.Log ->
            'C.Row(a, NanRule.Propagate, (fun x -> Math.Log x), (fun x _ -> 'T.One / x), (fun x _ dfx -> -(dfx / x)), fun () ->
                meta "Log" (0.1, 4.0) (0.0, inf) "at 0, log 0 = −∞ and the derivatives are the limits from the right" [ at 0.0 inf -inf ])
        | Fun1.Log2 ->
            'C.Row(a, NanRule.Propagate, (fun x -> Math.Log2 x), (fun x _ -> k (1.0 / ln2) / x), (fun x _ dfx -> -(dfx / x)), fun () ->
                meta "Log2" (0.1, 4.0) (0.0, inf) "at 0, the limits from the right, as for log" [ at 0.0 inf -inf ])
        | Fun1.Log10 ->
            'C.Row(a, NanRule.Propagate, (fun x -> Math.Log10 x), (fun x _ -> k (1.0 / ln10) / x), (fun x _ dfx -> -(dfx / x)), fun () ->
                meta "Log10" (0.1, 4.0) (0.0, inf) "at 0, the limits from the right, as for log" [ at 0.0 inf -inf ])
        | Fun1.Log1p ->
            'C.Row(a, NanRule.Propagate, log1p, (fun x _ -> 'T.One / ('T.One + x)), (fun _ _ dfx -> -(dfx * dfx)), fun () ->
                meta "Log1p" (-0.5, 3.0) (-1.0, inf) "at −1, the limits from the right, as for log at 0" [ at -1.0 inf -inf ])
        // expm1 + 1 cancels where expm1 ≈ −1 (x ≲ −1): there eˣ itself
        | Fun1.Expm1 ->
            'C.Row(a, NanRule.Propagate, expm1, (fun x fx -> if gt fx (k -0.5) then fx + 'T.One else 'T.Exp x), (fun _ _ dfx -> dfx), fun () ->
                meta "Expm1" (-2.0, 2.0) whole "" [])
        | Fun1.Sin ->
            'C.Row(a, NanRule.Propagate, (fun x -> Math.Sin x), (fun x _ -> 'T.Cos x), (fun _ fx _ -> -fx), fun () ->
                meta "Sin" (-3.0, 3.0) whole "" [])
        | Fun1.Cos ->
            'C.Row(a, NanRule.Propagate, (fun x -> Math.Cos x), (fun x _ -> -('T.Sin x)), (fun _ fx _ -> -fx), fun () ->
                meta "Cos" (-3.0, 3.0) whole "" [])
        | Fun1.Tan ->
            'C.Row(a, NanRule.Propagate, (fun x -> Math.Tan x), (fun _ fx -> 'T.One + fx * fx), (fun _ fx dfx -> 2.0 * fx * dfx), fun () ->
                meta "Tan" (-1.2, 1.2) whole "" [])
        | Fun1.Asin ->
            'C.Row(a, NanRule.Propagate, (fun x -> Math.Asin x), (fun x _ -> 'T.One / 'T.Sqrt(oneMinusSquare x)), (fun x _ dfx -> x * dfx * dfx * dfx), fun () ->
                meta "Asin" (-0.9, 0.9) (-1.0, 1.0) "at ±1, the one-sided limits (+∞, ±∞)" [ at 1.0 inf inf; at -1.0 inf -inf ])
        | Fun1.Acos ->
            'C.Row(a, NanRule.Propagate, (fun x -> Math.Acos x), (fun x _ -> -('T.One / 'T.Sqrt(oneMinusSquare x))), (fun x _ dfx -> x * dfx * dfx * dfx), fun () ->
                meta "Acos" (-0.9, 0.9) (-1.0, 1.0) "at ±1, the one-sided limits (−∞, ∓∞)" [ at 1.0 -inf -inf; at -1.0 -inf inf ])
        // for |x| > 1, 1/(1 + x²) = r²/(1 + r²) with r = 1/x: x² would overflow from |x| ≈ 1e154;
        // atan'' = −2x/(1 + x²)² = −2·q·f' with q = x/(1 + x²), for |x| > 1 as r/(1 + r²)
        | Fun1.Atan ->
            'C.Row(
                a,
                NanRule.Propagate,
                (fun x -> Math.Atan x),
                (fun x _ ->
                    if gt x 'T.One || lt x (k -1.0) then
                        let r = 'T.One / x
                        let r2 = r * r
                        r2 / ('T.One + r2)
                    else 'T.One / ('T.One + x * x)),
                (fun x _ dfx ->
                    let q = if Math.Abs x > 1.0 then (let r = 1.0 / x in r / (1.0 + r * r)) else x * dfx
                    -2.0 * q * dfx),
                fun () -> meta "Atan" (-3.0, 3.0) whole "" [])
        | Fun1.Sinh ->
            'C.Row(a, NanRule.Propagate, (fun x -> Math.Sinh x), (fun x _ -> 'T.Cosh x), (fun _ fx _ -> fx), fun () ->
                meta "Sinh" (-2.0, 2.0) whole "" [])
        | Fun1.Cosh ->
            'C.Row(a, NanRule.Propagate, (fun x -> Math.Cosh x), (fun x _ -> 'T.Sinh x), (fun _ fx _ -> fx), fun () ->
                meta "Cosh" (-2.0, 2.0) whole "" [])
        // 1 − tanh² cancels in the tails (0 from |x| ≈ 19): there sech² = 4u/(1 + u)², u = e^(−2|x|)
        // (u ≤ 1: no overflow, unlike 1/cosh², whose nested derivative is 0·∞ beyond |x| ≈ 710)
        | Fun1.Tanh ->
            'C.Row(
                a,
                NanRule.Propagate,
                (fun x -> Math.Tanh x),
                (fun x fx ->
                    if lt fx (k 0.75) && gt fx (k -0.75) then 'T.One - fx * fx
                    else
                        let u = 'T.Exp(k -2.0 * 'T.Abs x)
                        let v = 'T.One + u
                        k 4.0 * u / (v * v)),
                (fun _ fx dfx -> -2.0 * fx * dfx),
                fun () -> meta "Tanh" (-2.0, 2.0) whole "" [])
        // for |x| > 1, 1/√(x² + 1) = r/√(1 + r²) with r = 1/|x|
        | Fun1.Asinh ->
            'C.Row(
                a,
                NanRule.Propagate,
                (fun x -> Math.Asinh x),
                (fun x _ ->
                    if gt x 'T.One || lt x (k -1.0) then
                        let r = 'T.One / 'T.Abs x
                        r / 'T.Sqrt('T.One + r * r)
                    else 'T.One / 'T.Sqrt(x * x + 'T.One)),
                (fun x _ dfx -> -x * dfx * dfx * dfx),
                fun () -> meta "Asinh" (-3.0, 3.0) whole "" [])
        | Fun1.Acosh ->
            'C.Row(
                a,
                NanRule.Propagate,
                (fun x -> Math.Acosh x),
                // at x = 1 exactly, √(x + 1) is the constant √2: no factor √(x − 1) = 0 beside the
                // product's infinite adjoint in a nested reverse sweep (0·∞; see oneMinusSquare)
                (fun x _ ->
                    if eq x 'T.One then 'T.One / ('T.Sqrt(x - 'T.One) * k (Math.Sqrt 2.0))
                    else 'T.One / ('T.Sqrt(x - 'T.One) * 'T.Sqrt(x + 'T.One))),
                (fun x _ dfx -> -x * dfx * dfx * dfx),
                fun () -> meta "Acosh" (1.1, 4.0) (1.0, inf) "at 1, the limits from the right (+∞, −∞)" [ at 1.0 inf -inf ])
        | Fun1.Atanh ->
            'C.Row(a, NanRule.Propagate, (fun x -> Math.Atanh x), (fun x _ -> 'T.One / oneMinusSquare x), (fun x _ dfx -> 2.0 * x * dfx * dfx), fun () ->
                meta "Atanh" (-0.9, 0.9) (-1.0, 1.0) "at ±1, atanh = ±∞ and the derivatives are the one-sided limits" [ at 1.0 inf inf; at -1.0 inf -inf ])
        // special case: abs'(0) = 0 (the subgradient of least norm); NaN stays NaN.
        | Fun1.Abs ->
            'C.Row(
                a,
                NanRule.Propagate,
                (fun x -> Math.Abs x),
                (fun x _ -> if gt x 'T.Zero then 'T.One elif lt x 'T.Zero then k -1.0 elif isZero x then 'T.Zero else x),
                (fun _ _ _ -> 0.0),
                fun () -> meta "Abs" (0.1, 3.0) whole "abs'(0) = 0, the subgradient of least norm" [ at 0.0 0.0 0.0 ])
        // e^(−x²) underflows to 0 from |x| ≈ 27.3 (and its nested derivative would be ∞·0 at
        // |x| ≈ 1e308): beyond 28 the derivative and its derivative are 0 to double precision;
        // erf'' = −2·(x·f'): −2x overflows at |x| ≈ 1e308 where f' = 0 (∞·0 = NaN)
        | Fun1.Erf ->
            'C.Row(
                a,
                NanRule.Propagate,
                erf,
                (fun x _ -> if gt x (k 28.0) || lt x (k -28.0) then 'T.Zero else k sqrtPi2 * 'T.Exp(-(x * x))),
                (fun x _ dfx -> -2.0 * (x * dfx)),
                fun () -> meta "Erf" (-2.0, 2.0) whole "" [])
        | Fun1.PowC ->
            'C.Row(
                a,
                NanRule.Propagate,
                (fun x -> Math.Pow(x, c)),
                (fun x _ -> if c = 0.0 then 'T.Zero else k c * 'T.Pow(x, k (c - 1.0))),
                (fun x _ _ -> if c = 0.0 || c = 1.0 then 0.0 else c * (c - 1.0) * Math.Pow(x, c - 2.0)),
                fun () ->
                    { meta "PowC" (0.2, 3.0) (0.0, inf) "at 0, the limits from the right" [] with
                        // the tested exponents are not integers, so x < 0 is outside the domain
                        Constants = [ 2.5; 0.5; -1.5 ]
                        At = [ { at 0.0 0.0 0.0 with C = 2.5 }; { at 0.0 inf -inf with C = 0.5 }; { at 0.0 -inf inf with C = -1.5 } ] })
        | _ -> raise (ArgumentOutOfRangeException(nameof f, f, "not a rule-table function"))

    // ----------------------------------------------------------------------- the binary rows

    /// The binary rows: one arm per function, `'C.Row(a, nanRule, value, partials, hessian, info)` with
    /// * value x y = f(x, y) on doubles;
    /// * partials x y fz = (∂f/∂x, ∂f/∂y), generic ('T), given fz = f(x, y);
    /// * hessian x y fz dx dy = (∂²f/∂x², ∂²f/∂x∂y, ∂²f/∂y²) on doubles, given fz and the first partials;
    /// * info () = its metadata.
    /// The column 'C (see `Column`) keeps one of the parts; `a` is its arguments.
    let inline rule2<'C, 'A, 'T, 'R
        when 'C: (static member Row:
            'A
            * NanRule
            * (float -> float -> float)
            * ('T -> 'T -> 'T -> struct ('T * 'T))
            * (float -> float -> float -> float -> float -> struct (float * float * float))
            * (unit -> Info2)
                -> 'R)
        and 'T :> INumberBase<'T>
        and 'T :> IComparisonOperators<'T, 'T, bool>
        and 'T :> IExponentialFunctions<'T>
        and 'T :> ILogarithmicFunctions<'T>
        and 'T :> ITrigonometricFunctions<'T>
        and 'T :> IHyperbolicFunctions<'T>
        and 'T :> IRootFunctions<'T>
        and 'T :> IPowerFunctions<'T>>
        (f: Fun2)
        (a: 'A)
        : 'R =
        match f with
        // linear in each argument: the constant partials hold at NaN too (∂/∂x (x·c) = c)
        | Fun2.Add ->
            'C.Row(a, NanRule.AsWritten, (fun x y -> x + y), (fun _ _ _ -> struct ('T.One, 'T.One)), (fun _ _ _ _ _ -> struct (0.0, 0.0, 0.0)), fun () ->
                meta2 "Add" (-3.0, 3.0) always "" [])
        | Fun2.Sub ->
            'C.Row(a, NanRule.AsWritten, (fun x y -> x - y), (fun _ _ _ -> struct ('T.One, k -1.0)), (fun _ _ _ _ _ -> struct (0.0, 0.0, 0.0)), fun () ->
                meta2 "Sub" (-3.0, 3.0) always "" [])
        | Fun2.Mul ->
            'C.Row(a, NanRule.AsWritten, (fun x y -> x * y), (fun x y _ -> struct (y, x)), (fun _ _ _ _ _ -> struct (0.0, 1.0, 0.0)), fun () ->
                meta2 "Mul" (-3.0, 3.0) always "" [])
        // ∂²/∂y² = 2·((x/y)/y)/y: (x/y)·(1/y)² would under- or overflow in (1/y)² first
        | Fun2.Div ->
            'C.Row(
                a,
                NanRule.AsWritten,
                (fun x y -> x / y),
                (fun _ y fz -> let r = 'T.One / y in struct (r, -(fz * r))),
                (fun _ y fz _ _ -> let r = 1.0 / y in struct (0.0, -(r * r), 2.0 * (fz * r * r))),
                fun () ->
                    meta2 "Div" (0.3, 3.0) (fun x y -> x <> 0.0 || y <> 0.0) "at y = 0, x/0 = ±∞ and the derivatives are IEEE's limits"
                        [ at2 1.0 0.0 (inf, -inf) (0.0, -inf, inf) ])
        // special case: d/dy x^y at x = 0 is 0, the limit from y > 0 (log 0 would give 0·∞ = NaN).
        | Fun2.Pow ->
            'C.Row(
                a,
                NanRule.Propagate,
                (fun x y -> Math.Pow(x, y)),
                (fun x y fz ->
                    let dx = if isZero y then 'T.Zero else y * 'T.Pow(x, y - 'T.One)
                    let dy = if isZero x then 'T.Zero else fz * 'T.Log x
                    struct (dx, dy)),
                (fun x y _ _ dy ->
                    let lx = if x = 0.0 then 0.0 else Math.Log x
                    let xx = if y = 0.0 || y = 1.0 then 0.0 else y * (y - 1.0) * Math.Pow(x, y - 2.0)
                    let xy = if x = 0.0 then 0.0 else Math.Pow(x, y - 1.0) * (1.0 + y * lx)
                    struct (xx, xy, dy * lx)),
                fun () ->
                    meta2 "Pow" (0.3, 2.5) (fun x y -> x >= 0.0 || Double.IsInteger y) "d/dy x^y at x = 0 is 0, the limit from y > 0"
                        [ at2 0.0 2.5 (0.0, 0.0) (0.0, 0.0, 0.0) ])
        // y/(x² + y²) under- or overflows from |x| ≈ 1e∓154: rescaled by m, the power of 2 at
        // max(|x|, |y|) (a constant, so x/m is exact), x'² + y'² lies in [1, 8), and a nested level's
        // derivative leaves the range only at its last division by m (±∞, never ∞ − ∞ = NaN);
        // second partials with a = x/h, b = y/h (h = hypot): ∓2ab/h² and (a − b)(a + b)/h², each divided by h twice
        | Fun2.Atan2 ->
            'C.Row(
                a,
                NanRule.Propagate,
                (fun x y -> Math.Atan2(x, y)),
                (fun x y _ ->
                    let big = Math.Max(Math.Abs(Double.CreateTruncating<'T> x), Math.Abs(Double.CreateTruncating<'T> y))
                    let m = k (if big > 0.0 && Double.IsFinite big then Math.ScaleB(1.0, Math.ILogB big) else 1.0)
                    let xs = x / m
                    let ys = y / m
                    let r = xs * xs + ys * ys
                    struct (ys / r / m, -(xs / r / m))),
                (fun x y _ _ _ ->
                    let h = hypot x y
                    let a = x / h
                    let b = y / h
                    let ab2 = 2.0 * a * b
                    struct (-(ab2 / h / h), (a - b) * (a + b) / h / h, ab2 / h / h)),
                fun () ->
                    meta2 "Atan2" (0.3, 3.0) always "at (0, 0), where atan2 has no limit, the derivatives are NaN"
                        [ at2 0.0 0.0 (nan, nan) (nan, nan, nan) ])
        // special case: hypot at (0, 0) has derivative 0, like abs;
        // y²/h³ = (y/h)²/h with the first partials x/h, y/h: 1/h³ would leave the range from 1e±103
        | Fun2.Hypot ->
            'C.Row(
                a,
                NanRule.Propagate,
                hypot,
                (fun x y fz -> if isZero fz then struct ('T.Zero, 'T.Zero) else struct (x / fz, y / fz)),
                (fun _ _ fz dx dy -> if fz = 0.0 then struct (0.0, 0.0, 0.0) else struct (dy * dy / fz, -(dx * dy) / fz, dx * dx / fz)),
                fun () -> meta2 "Hypot" (0.3, 3.0) always "hypot at (0, 0) has derivative 0, like abs" [ at2 0.0 0.0 (0.0, 0.0) (0.0, 0.0, 0.0) ])
        // special case: a tie splits the derivative (½, ½), as JAX does.
        | Fun2.Min ->
            'C.Row(
                a,
                NanRule.Propagate,
                (fun x y -> if Double.IsNaN x || Double.IsNaN y then Double.NaN else Math.Min(x, y)),
                (fun x y _ ->
                    if lt x y then struct ('T.One, 'T.Zero)
                    elif lt y x then struct ('T.Zero, 'T.One)
                    else struct (k 0.5, k 0.5)),
                (fun _ _ _ _ _ -> struct (0.0, 0.0, 0.0)),
                fun () -> meta2 "Min" (-3.0, 3.0) always "min at a tie splits the derivative ½, ½" [ at2 1.5 1.5 (0.5, 0.5) (0.0, 0.0, 0.0) ])
        | Fun2.Max ->
            'C.Row(
                a,
                NanRule.Propagate,
                (fun x y -> if Double.IsNaN x || Double.IsNaN y then Double.NaN else Math.Max(x, y)),
                (fun x y _ ->
                    if gt x y then struct ('T.One, 'T.Zero)
                    elif gt y x then struct ('T.Zero, 'T.One)
                    else struct (k 0.5, k 0.5)),
                (fun _ _ _ _ _ -> struct (0.0, 0.0, 0.0)),
                fun () -> meta2 "Max" (-3.0, 3.0) always "max at a tie splits the derivative ½, ½" [ at2 1.5 1.5 (0.5, 0.5) (0.0, 0.0, 0.0) ])
        // x % y = x − trunc(x/y)·y: piecewise linear; at the jumps (x/y an integer) the derivative
        // of the piece to the right is taken, as for floor in JAX. ∂/∂x = 1 (∂²/∂x² = ∂²/∂x∂y = 0) at NaN too.
        | Fun2.Mod ->
            'C.Row(
                a,
                NanRule.AsWritten,
                (fun x y -> x % y),
                (fun x y fz ->
                    if 'T.IsNaN fz then struct ('T.One, fz)
                    else
                        let q: float = Double.CreateTruncating<'T>(x / y)
                        struct ('T.One, k (-(Math.Truncate q)))),
                (fun _ _ fz _ _ -> if Double.IsNaN fz then struct (0.0, 0.0, fz) else struct (0.0, 0.0, 0.0)),
                fun () ->
                    meta2 "Mod" (0.3, 3.0) (fun _ y -> y <> 0.0) "at a jump (x/y an integer), the derivative of the piece to the right: ∂/∂y = −x/y"
                        [ at2 3.0 1.5 (1.0, -2.0) (0.0, 0.0, 0.0); at2 -3.0 1.5 (1.0, 2.0) (0.0, 0.0, 0.0) ])
        | _ -> raise (ArgumentOutOfRangeException(nameof f, f, "not a rule-table function"))

    // ------------------------------------------------------------------- the column accessors

    /// f(x) on doubles. `c` is the exponent of PowC and ignored otherwise.
    let inline value1 (f: Fun1) (c: float) (x: float) : float = rule1<Column.Value1, float, float, float> f c x

    /// f'(x), generic in the number type so a nested trace gets a differentiable partial.
    /// `fx` is f(x), already computed by the caller. Outside the domain (value NaN) the derivative is
    /// NaN too, e.g. log at x < 0: the NaN returned is the traced value itself, so a nested level's
    /// second derivative is NaN as well.
    let inline d1<'T
        when 'T :> INumberBase<'T>
        and 'T :> IComparisonOperators<'T, 'T, bool>
        and 'T :> IExponentialFunctions<'T>
        and 'T :> ILogarithmicFunctions<'T>
        and 'T :> ITrigonometricFunctions<'T>
        and 'T :> IHyperbolicFunctions<'T>
        and 'T :> IRootFunctions<'T>
        and 'T :> IPowerFunctions<'T>> (f: Fun1) (c: float) (x: 'T) (fx: 'T) : 'T =
        rule1<Column.D1<'T>, 'T * 'T, 'T, 'T> f c (x, fx)

    /// f''(x) on doubles. `fx` is f(x) and `dfx` is f'(x), already computed.
    let inline d2 (f: Fun1) (c: float) (x: float) (fx: float) (dfx: float) : float =
        rule1<Column.D2, float * float * float, float, float> f c (x, fx, dfx)

    /// f(x, y) on doubles.
    let inline value2 (f: Fun2) (x: float) (y: float) : float = rule2<Column.Value2, float * float, float, float> f (x, y)

    /// (∂f/∂x, ∂f/∂y), generic in the number type. `fz` is f(x, y), already computed. A partial that
    /// is not a constant is NaN at a NaN value: the value itself, as in d1.
    let inline partials2<'T
        when 'T :> INumberBase<'T>
        and 'T :> IComparisonOperators<'T, 'T, bool>
        and 'T :> IExponentialFunctions<'T>
        and 'T :> ILogarithmicFunctions<'T>
        and 'T :> ITrigonometricFunctions<'T>
        and 'T :> IHyperbolicFunctions<'T>
        and 'T :> IRootFunctions<'T>
        and 'T :> IPowerFunctions<'T>> (f: Fun2) (x: 'T) (y: 'T) (fz: 'T) : struct ('T * 'T) =
        rule2<Column.Partials2<'T>, 'T * 'T * 'T, 'T, struct ('T * 'T)> f (x, y, fz)

    /// The second partials (∂²f/∂x², ∂²f/∂x∂y, ∂²f/∂y²) on doubles; `fz` = f(x, y) and
    /// (dx, dy) its first partials, already computed.
    let inline hessian2 (f: Fun2) (x: float) (y: float) (fz: float) (dx: float) (dy: float) : struct (float * float * float) =
        rule2<Column.Hessian2, float * float * float * float * float, float, struct (float * float * float)> f (x, y, fz, dx, dy)

    // --------------------------------------------------------------------------------- metadata

    /// The row of a unary function: its metadata. Throws ArgumentOutOfRangeException for a value of
    /// Fun1 without a row.
    let info1 (f: Fun1) : Info1 =
        let struct (nanRule, info) = rule1<Column.Meta1, unit, float, struct (NanRule * Info1)> f 0.0 ()
        { info with Fun = f; NanRule = nanRule }

    /// The row of a binary function: its metadata.
    let info2 (f: Fun2) : Info2 =
        let struct (nanRule, info) = rule2<Column.Meta2, unit, float, struct (NanRule * Info2)> f ()
        { info with Fun = f; NanRule = nanRule }

    let private rowsOf (values: 'F[]) (info: 'F -> 'I) =
        [ for f in values do
              match (try Some(info f) with :? ArgumentOutOfRangeException -> None) with
              | Some i -> i
              | None -> () ]

    /// Every unary row, in the order of Fun1.
    let rows1 : Info1 list = rowsOf (Enum.GetValues<Fun1>()) info1
    /// Every binary row, in the order of Fun2.
    let rows2 : Info2 list = rowsOf (Enum.GetValues<Fun2>()) info2

    /// Every unary rule with its name and an interval (lo, hi) on which it is smooth, for tests
    /// and documentation (from the rows). PowC's exponent is the caller's.
    let unary : (Fun1 * string * float * float) list = [ for r in rows1 -> r.Fun, r.Name, fst r.Smooth, snd r.Smooth ]

    /// Every binary rule with its name and a box (lo, hi) for both arguments on which it is smooth.
    let binary : (Fun2 * string * float * float) list = [ for r in rows2 -> r.Fun, r.Name, fst r.Smooth, snd r.Smooth ]
