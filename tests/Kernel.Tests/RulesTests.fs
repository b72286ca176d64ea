module Hybrid.Kernel.Tests.RulesTests

open System
open Expecto
open Hybrid.Kernel
open Hybrid.Kernel.Tests.Check
open Hybrid.Kernel.Tests.Modes
open Hybrid.Kernel.Tests.Wide

let private powExponent = 2.5

[<Tests>]
let tests =
    testList "Rules" [
        for (f, name, lo, hi) in Rules.unary do
            test (sprintf "%s: d1 and d2 against central differences" name) {
                for x in points lo hi 7 do
                    let v = Rules.value1 f powExponent x
                    let d = Rules.d1<float> f powExponent x v
                    close 1e-7 (sprintf "%s'(%g)" name x) (fd (Rules.value1 f powExponent) x) d
                    let dd = Rules.d2 f powExponent x v d
                    close 1e-5 (sprintf "%s''(%g)" name x) (fd2 (Rules.value1 f powExponent) x) dd
            }
    ]

// ------------------------------------------------------------------------------------------------
// Every rule through every mode at NaN and at extreme magnitudes. One row per rule (per exponent
// for PowC) states the points, the exact derivatives (textbook formulas evaluated in `Wide`
// arithmetic, or closed forms, never the rule table's code) and the tolerance; `modes1` / `modesX`
// / `modesY` / `modesXY` evaluate the rule in each mode.

/// Which derivative of f(x, y) an entry is.
type private Part =
    | Dx
    | Dy
    | Hxx
    | Hxy
    | Hyy

/// How a mode's number relates to the exact derivative it computes.
type private Seeding =
    /// Always the exact derivative.
    | Plain
    /// A forward pass that multiplies these derivatives by an explicit zero seed (HyperDual's
    /// ε₁ε₂ part times f', the second-order tape's tangent replay, Dual arithmetic's constant
    /// operands): NaN (IEEE's 0·∞) where one of them is ±∞, else the exact second derivative.
    | ZeroSeed of Part list
    /// Mixes both arguments with explicit zero seeds (or, in Dual arithmetic, constants with zero
    /// tangents): checked only where every first and second derivative is finite.
    | Mixed

/// f'(x) (order 1) and f''(x) (order 2) of a unary rule in every mode.
let private modes1 (f: Fun1) (c: float) (x: float) : (string * int * Seeding * float) list =
    let v = Rules.value1 f c x
    let d = Rules.d1<float> f c x v
    let g (v: Vec) = Real.Rule1(f, c, v[0])
    let map (v: Vec) = Vec.Sum(Vec.MapRule(f, c, v))
    let h = HyperDual.Apply1(f, c, HyperDual(x, 1.0, 1.0, 0.0))
    let xd = Dual(x, 1.0)
    let struct (_, mapTangent) = Ad.Jvp("test", Func<Vec, Vec>(fun v -> Vec.MapRule(f, c, v)), Vec [| x |], Vec [| 1.0 |])
    [ "table d1", 1, Plain, d
      "Dual", 1, Plain, (Dual.Apply1(f, c, xd)).T
      "HyperDual ε₁", 1, Plain, h.E1
      "reverse", 1, Plain, (grad g [| x |])[0]
      "forward", 1, Plain, jvp g [| x |] [| 1.0 |]
      "Vec.Map reverse", 1, Plain, (grad map [| x |])[0]
      "Vec.Map forward", 1, Plain, mapTangent.ToArray()[0]
      "table d2", 2, Plain, Rules.d2 f c x v d
      // Dual arithmetic's constants (1, 2, …) carry explicit zero tangents: 0·∞ where f' = ±∞
      "generic d1 in Dual arithmetic", 2, Mixed, (Rules.d1<Dual> f c xd (Dual.Apply1(f, c, xd))).T
      "forward-over-reverse", 2, Plain, (hvpNested g [| x |] [| 1.0 |])[0]
      "reverse-over-reverse", 2, Plain, (hessianRevRev g [| x |]).[0].[0]
      "HyperDual ε₁ε₂", 2, ZeroSeed [ Dx ], h.E12
      "second-order tape", 2, ZeroSeed [ Dx ], (hessianTape g [| x |])[0, 0]
      "Vec.Map second-order tape", 2, ZeroSeed [ Dx ], (hessianTape map [| x |])[0, 0] ]

/// ∂f/∂x and ∂²f/∂x² of a binary rule at (x, c), c a constant, in every mode.
let private modesX (f: Fun2) (x: float) (c: float) : (string * Part * Seeding * float) list =
    let fz = Rules.value2 f x c
    let struct (dx, dy) = Rules.partials2<float> f x c fz
    let struct (hxx, _, _) = Rules.hessian2 f x c fz dx dy
    let g (v: Vec) = Real.Rule2L(f, v[0], c)
    let zip (v: Vec) = Vec.Sum(Vec.ZipRule(f, v, Vec [| c |]))
    let h = HyperDual.Apply2L(f, HyperDual(x, 1.0, 1.0, 0.0), c)
    [ "table ∂x", Dx, Plain, dx
      "Dual", Dx, Plain, (Dual.Apply2L(f, Dual(x, 1.0), c)).T
      "HyperDual ε₁", Dx, Plain, h.E1
      "reverse", Dx, Plain, (grad g [| x |])[0]
      "forward", Dx, Plain, jvp g [| x |] [| 1.0 |]
      "Vec.Zip reverse", Dx, Plain, (grad zip [| x |])[0]
      "Vec.Zip forward", Dx, Plain, jvp zip [| x |] [| 1.0 |]
      "table ∂²x", Hxx, Plain, hxx
      "forward-over-reverse", Hxx, Plain, (hvpNested g [| x |] [| 1.0 |])[0]
      "reverse-over-reverse", Hxx, Plain, (hessianRevRev g [| x |]).[0].[0]
      "HyperDual ε₁ε₂", Hxx, ZeroSeed [ Dx ], h.E12
      // the replay also multiplies the constant side's ∂²xy by a zero tangent (see Sweep.reverseTangents)
      "second-order tape", Hxx, ZeroSeed [ Dx ], (hessianTape g [| x |])[0, 0]
      "Vec.Zip second-order tape", Hxx, ZeroSeed [ Dx ], (hessianTape zip [| x |])[0, 0] ]

/// ∂f/∂y and ∂²f/∂y² of a binary rule at (c, y), c a constant, in every mode.
let private modesY (f: Fun2) (c: float) (y: float) : (string * Part * Seeding * float) list =
    let fz = Rules.value2 f c y
    let struct (dx, dy) = Rules.partials2<float> f c y fz
    let struct (_, _, hyy) = Rules.hessian2 f c y fz dx dy
    let g (v: Vec) = Real.Rule2R(f, c, v[0])
    let zip (v: Vec) = Vec.Sum(Vec.ZipRule(f, Vec [| c |], v))
    let h = HyperDual.Apply2R(f, c, HyperDual(y, 1.0, 1.0, 0.0))
    [ "table ∂y", Dy, Plain, dy
      "Dual", Dy, Plain, (Dual.Apply2R(f, c, Dual(y, 1.0))).T
      "HyperDual ε₁", Dy, Plain, h.E1
      "reverse", Dy, Plain, (grad g [| y |])[0]
      "forward", Dy, Plain, jvp g [| y |] [| 1.0 |]
      "Vec.Zip reverse", Dy, Plain, (grad zip [| y |])[0]
      "Vec.Zip forward", Dy, Plain, jvp zip [| y |] [| 1.0 |]
      "table ∂²y", Hyy, Plain, hyy
      "forward-over-reverse", Hyy, Plain, (hvpNested g [| y |] [| 1.0 |])[0]
      "reverse-over-reverse", Hyy, Plain, (hessianRevRev g [| y |]).[0].[0]
      "HyperDual ε₁ε₂", Hyy, ZeroSeed [ Dy ], h.E12
      "second-order tape", Hyy, ZeroSeed [ Dy ], (hessianTape g [| y |])[0, 0]
      "Vec.Zip second-order tape", Hyy, ZeroSeed [ Dy ], (hessianTape zip [| y |])[0, 0] ]

/// Every derivative of a binary rule at (x, y) with both arguments variables, in every mode.
let private modesXY (f: Fun2) (x: float) (y: float) : (string * Part * Seeding * float) list =
    let fz = Rules.value2 f x y
    let struct (_, hxy, _) =
        let struct (dx, dy) = Rules.partials2<float> f x y fz
        Rules.hessian2 f x y fz dx dy
    let g (v: Vec) = Real.Rule2(f, v[0], v[1])
    let zip (v: Vec) = Vec.Sum(Vec.ZipRule(f, v[0..0], v[1..1]))
    let gr = grad g [| x; y |]
    let zg = grad zip [| x; y |]
    let rr = hessianRevRev g [| x; y |]
    let tp = hessianTape g [| x; y |]
    let ztp = hessianTape zip [| x; y |]
    let fr = hvpNested g [| x; y |] [| 0.0; 1.0 |]
    let hm = HyperDual.Apply2(f, HyperDual(x, 1.0, 0.0, 0.0), HyperDual(y, 0.0, 1.0, 0.0))
    let struct (px, py) = Rules.partials2<Dual> f (Dual(x, 1.0)) (Dual(y, 0.0)) (Dual.Apply2(f, Dual(x, 1.0), Dual(y, 0.0)))
    let struct (_, qy) = Rules.partials2<Dual> f (Dual(x, 0.0)) (Dual(y, 1.0)) (Dual.Apply2(f, Dual(x, 0.0), Dual(y, 1.0)))
    [ "reverse, both variables", Dx, Plain, gr[0]
      "reverse, both variables", Dy, Plain, gr[1]
      "Vec.Zip reverse, both variables", Dx, Plain, zg[0]
      "Vec.Zip reverse, both variables", Dy, Plain, zg[1]
      "table ∂²xy", Hxy, Plain, hxy
      "reverse-over-reverse", Hxx, Plain, rr[0][0]
      "reverse-over-reverse", Hxy, Plain, rr[0][1]
      "reverse-over-reverse ∂²yx", Hxy, Plain, rr[1][0]
      "reverse-over-reverse", Hyy, Plain, rr[1][1]
      "forward-over-reverse", Hxy, Mixed, fr[0]
      "forward-over-reverse", Hyy, Mixed, fr[1]
      "HyperDual ε₁ε₂", Hxy, Mixed, hm.E12
      "generic partials in Dual arithmetic", Hxx, Mixed, px.T
      "generic partials in Dual arithmetic", Hxy, Mixed, py.T
      "generic partials in Dual arithmetic", Hyy, Mixed, qy.T
      "second-order tape", Hxx, Mixed, tp[0, 0]
      "second-order tape", Hxy, Mixed, tp[0, 1]
      "second-order tape", Hyy, Mixed, tp[1, 1]
      "Vec.Zip second-order tape", Hxy, Mixed, ztp[0, 1] ]

/// Results below 16 subnormal steps (8e-323) count as equal: the subnormal range keeps few digits.
let private tiny = 16.0 * Double.Epsilon

/// `actual` equals the exact derivative `expected` to a relative `tol`: NaN where NaN is expected,
/// exactly ±∞ where the exact derivative is out of range (IEEE's overflow), within `tiny` of 0
/// where it underflows.
let private exact (tol: float) (what: string) (expected: float) (actual: float) =
    if Double.IsNaN expected then
        if not (Double.IsNaN actual) then failtestf "%s: expected NaN, got %.17g" what actual
    elif Double.IsInfinity expected then
        if actual <> expected then
            failtestf "%s: expected %g (the exact derivative is out of range: IEEE gives ±∞), got %.17g" what expected actual
    elif not (Math.Abs(actual - expected) <= tol * Math.Abs expected + tiny) then
        let note = if expected = 0.0 then " (the exact derivative underflows: IEEE gives 0)" else ""
        failtestf "%s: expected %.17g%s, got %.17g (relative error %.3g > %g)" what expected note actual
            (Math.Abs(actual - expected) / Math.Abs expected) tol

/// A unary rule's row: its points, its exact derivatives there, and the tolerance.
type private Row1 =
    { F: Fun1
      Name: string
      /// PowC's exponent (ignored by the others).
      C: float
      /// Linear (−x): its constant derivative −1 (and 0 second derivative) holds at NaN.
      Linear: bool
      /// Extreme but representable points of the domain (the value is an ordinary double there).
      Points: float list
      /// The exact f'(x) and f''(x), rounded once (±∞ or 0 where out of range).
      D1: float -> float
      D2: float -> float
      Tol: float }

let private tinyPoints = [ 1.7e-300; -1.7e-300; 3.1e-150; -3.1e-150 ]
let private hugePoints = [ 2.3e150; -2.3e150; 1.1e300; -1.1e300 ]
let private extreme = tinyPoints @ hugePoints
let private positive = List.filter (fun x -> x > 0.0)

/// Near ±1 (1 − |x| = 2⁻³³ exactly), where 1 − x² loses half the digits.
let private nearOne = [ 1.0 - Math.ScaleB(1.0, -33); -(1.0 - Math.ScaleB(1.0, -33)) ]
/// (1 − x)(1 + x) for |x| ≤ 1 from the exact e = 1 − |x|: e·(2 − e).
let private oneMinusSquare (x: float) = let e = 1.0 - Math.Abs x in e * (2.0 - e)

let private sqrtPi = Math.Sqrt Math.PI
let private row1 f name points d1 d2 : Row1 =
    // linear: the rule table's row keeps its formulas at NaN (Neg)
    { F = f; Name = name; C = 0.0; Linear = ((Rules.info1 f).NanRule = NanRule.AsWritten); Points = points; D1 = d1; D2 = d2; Tol = 1e-13 }

let private unaryRows : Row1 list =
    let x' = w
    [ row1 Fun1.Neg "Neg" extreme (fun _ -> -1.0) (fun _ -> 0.0)
      row1 Fun1.Recip "Recip" extreme (fun x -> toFloat (-(1.0 / (x' x * x' x)))) (fun x -> toFloat (2.0 / (x' x * x' x * x' x)))
      row1 Fun1.Square "Square" [ 3.1e-150; -3.1e-150; 2.3e150; -2.3e150 ] (fun x -> 2.0 * x) (fun _ -> 2.0)
      row1 Fun1.Sqrt "Sqrt" (positive extreme) (fun x -> toFloat (0.5 * powW (x' x) -0.5)) (fun x -> toFloat (-0.25 * powW (x' x) -1.5))
      row1 Fun1.Cbrt "Cbrt" extreme
          (fun x -> toFloat ((1.0 / 3.0) * powW (x' (Math.Abs x)) (-2.0 / 3.0)))
          (fun x -> toFloat (-(float (Math.Sign x)) * (2.0 / 9.0) * powW (x' (Math.Abs x)) (-5.0 / 3.0)))
      // e^x = 1 + x + … : 1 to double precision at |x| ≤ 1e-150
      row1 Fun1.Exp "Exp" tinyPoints (fun x -> 1.0 + x) (fun x -> 1.0 + x)
      row1 Fun1.Exp2 "Exp2" tinyPoints (fun _ -> Math.Log 2.0) (fun _ -> Math.Log 2.0 * Math.Log 2.0)
      // 1.1e160: x² overflows where −1/x² is subnormal; 1.5e308: ln 10·x overflows
      let logs = positive extreme @ [ 1.1e160; 1.5e308; 3e-308; 4e-320 ]
      row1 Fun1.Log "Log" logs (fun x -> toFloat (1.0 / x' x)) (fun x -> toFloat (-(1.0 / (x' x * x' x))))
      row1 Fun1.Log2 "Log2" logs (fun x -> toFloat (1.0 / (x' x * x' (Math.Log 2.0)))) (fun x -> toFloat (-(1.0 / (x' x * x' x * x' (Math.Log 2.0)))))
      row1 Fun1.Log10 "Log10" logs (fun x -> toFloat (1.0 / (x' x * x' (Math.Log 10.0)))) (fun x -> toFloat (-(1.0 / (x' x * x' x * x' (Math.Log 10.0)))))
      row1 Fun1.Log1p "Log1p" (tinyPoints @ positive hugePoints @ [ 1.5e308 ])
          (fun x -> toFloat (1.0 / (1.0 + x' x))) (fun x -> toFloat (-(1.0 / ((1.0 + x' x) * (1.0 + x' x)))))
      // expm1' = expm1'' = eˣ; at −40 and −700 fx + 1 cancels to 0; at 705 the value nearly overflowed
      row1 Fun1.Expm1 "Expm1" (tinyPoints @ [ -2.3e150; -1.1e300; -40.0; -700.0; 705.0 ]) (fun x -> toFloat (expW x)) (fun x -> toFloat (expW x))
      // cos and sin are their own closed forms; Taylor at the tiny points
      row1 Fun1.Sin "Sin" extreme (fun x -> if Math.Abs x < 1e-100 then 1.0 else Math.Cos x) (fun x -> if Math.Abs x < 1e-100 then -x else -(Math.Sin x))
      row1 Fun1.Cos "Cos" extreme (fun x -> if Math.Abs x < 1e-100 then -x else -(Math.Sin x)) (fun x -> if Math.Abs x < 1e-100 then -1.0 else -(Math.Cos x))
      // sec² and 2 sin/cos³ (the table writes 1 + tan² and 2 tan·tan')
      row1 Fun1.Tan "Tan" extreme (fun x -> let c = Math.Cos x in 1.0 / (c * c)) (fun x -> let c = Math.Cos x in 2.0 * Math.Sin x / (c * c * c))
      row1 Fun1.Asin "Asin" (tinyPoints @ nearOne)
          (fun x -> 1.0 / Math.Sqrt(oneMinusSquare x)) (fun x -> let p = oneMinusSquare x in x / (p * Math.Sqrt p))
      row1 Fun1.Acos "Acos" (tinyPoints @ nearOne)
          (fun x -> -1.0 / Math.Sqrt(oneMinusSquare x)) (fun x -> let p = oneMinusSquare x in -x / (p * Math.Sqrt p))
      // 1/(1 + x²) and −2x/(1 + x²)²; 1.1e160: a subnormal f'; 1e100: f'' = −2e-300; 1.5e308: −2x overflows
      row1 Fun1.Atan "Atan" (extreme @ [ 1.1e160; -1e100; 1.5e308 ])
          (fun x -> toFloat (1.0 / (1.0 + x' x * x' x)))
          (fun x -> let q = 1.0 + x' x * x' x in toFloat (-2.0 * x' x / (q * q)))
      row1 Fun1.Sinh "Sinh" tinyPoints (fun _ -> 1.0) (fun x -> x)
      row1 Fun1.Cosh "Cosh" tinyPoints (fun x -> x) (fun _ -> 1.0)
      // sech² = 4u/(1 + u)² with u = e^(−2|x|); at 20 and 300 the old 1 − tanh² cancelled to 0
      row1 Fun1.Tanh "Tanh" (extreme @ [ 20.0; -300.0 ])
          (fun x -> let u = expW (-2.0 * Math.Abs x) in toFloat (4.0 * u / ((1.0 + u) * (1.0 + u))))
          (fun x -> let u = expW (-2.0 * Math.Abs x) in toFloat (-2.0 * Math.Tanh x * (4.0 * u / ((1.0 + u) * (1.0 + u)))))
      // 1/√(1 + x²) and −x/(1 + x²)^(3/2)
      row1 Fun1.Asinh "Asinh" (extreme @ [ 1.5e308; -1e160 ])
          (fun x -> toFloat (1.0 / sqrtW (1.0 + x' x * x' x)))
          (fun x -> let q = 1.0 + x' x * x' x in toFloat (-(x' x) / (q * sqrtW q)))
      row1 Fun1.Acosh "Acosh" (positive hugePoints @ [ 1.5e308 ])
          (fun x -> toFloat (1.0 / sqrtW (x' x * x' x - 1.0)))
          (fun x -> let q = x' x * x' x - 1.0 in toFloat (-(x' x) / (q * sqrtW q)))
      row1 Fun1.Atanh "Atanh" (tinyPoints @ nearOne)
          (fun x -> 1.0 / oneMinusSquare x) (fun x -> let p = oneMinusSquare x in 2.0 * x / (p * p))
      row1 Fun1.Abs "Abs" extreme (fun x -> float (Math.Sign x)) (fun _ -> 0.0)
      // (2/√π)·e^(−x²) and −2x times that; ±1.5e308: −2x overflows where f' = 0
      row1 Fun1.Erf "Erf" (extreme @ [ 1.5e308; -1.5e308 ])
          (fun x -> let x2 = toFloat (x' x * x' x) in 2.0 / sqrtPi * Math.Exp(-x2))
          (fun x -> let x2 = toFloat (x' x * x' x) in toFloat (-2.0 * x' x * x' (2.0 / sqrtPi * Math.Exp(-x2))))
      for c, pts in [ 0.5, positive extreme; -1.5, [ 3.1e-150; 2.3e150 ]; 2.5, [ 1e-100; 1e100 ] ] do
          { row1 Fun1.PowC (sprintf "PowC(%g)" c) pts
                (fun x -> toFloat (c * powW (x' x) (c - 1.0)))
                (fun x -> toFloat (c * (c - 1.0) * powW (x' x) (c - 2.0))) with C = c } ]

/// A binary rule's row.
type private Row2 =
    { F: Fun2
      Name: string
      /// (∂f/∂x at (NaN, c), ∂f/∂y at (c, NaN)) for the constant c: the linear cases keep theirs.
      AtNaN: float -> float * float
      /// The partials that are the same constant everywhere (x ± y, ∂/∂x of x % y), NaN arguments included.
      Constant: float option * float option
      Points: (float * float) list
      /// The exact (∂x, ∂y, ∂²xx, ∂²xy, ∂²yy), rounded once.
      Exact: float -> float -> float * float * float * float * float
      Tol: float }

let private scales = [ 1.7e-300; 3.1e-150; 2.3e150; 1.1e300 ]
/// (a·s, b·s): the same point at every scale s (the rules' values scale homogeneously).
let private scaled (ss: float list) = [ for s in ss do for a, b in [ 0.7, 1.3; -1.9, 0.45 ] -> a * s, b * s ]
let private nan2 _ = nan, nan

let private binaryRows : Row2 list =
    let row2 (f: Fun2) name atNaN constant points exact : Row2 =
        { F = f; Name = name; AtNaN = atNaN; Constant = constant; Points = points; Exact = exact; Tol = 1e-13 }
    let zero = 0.0
    [ row2 Fun2.Add "Add" (fun _ -> 1.0, 1.0) (Some 1.0, Some 1.0) (scaled scales) (fun _ _ -> 1.0, 1.0, zero, zero, zero)
      row2 Fun2.Sub "Sub" (fun _ -> 1.0, -1.0) (Some 1.0, Some -1.0) (scaled scales) (fun _ _ -> 1.0, -1.0, zero, zero, zero)
      row2 Fun2.Mul "Mul" (fun c -> c, c) (None, None) (scaled [ 3.1e-150; 2.3e150 ]) (fun x y -> y, x, zero, 1.0, zero)
      // (1.7e308, 1.5): 2·(x/y) overflows where 2x/y³ = 1e308 does not
      row2 Fun2.Div "Div" (fun c -> 1.0 / c, nan) (None, None) (scaled scales @ [ 1.7e308, 1.5 ]) (fun x y ->
          let x, y = w x, w y
          toFloat (1.0 / y), toFloat (-x / (y * y)), zero, toFloat (-(1.0 / (y * y))), toFloat (2.0 * x / (y * y * y)))
      { row2 Fun2.Pow "Pow" nan2 (None, None)
            ([ for s in [ 3.1e-150; 2.3e150 ] do for y in [ 1.7; -1.3 ] -> 0.7 * s, y ]
             @ [ for s in [ 1.7e-300; 1.1e300 ] do for y in [ 0.6; -0.7 ] -> 0.7 * s, y ])
            (fun x y ->
                let l = logW (w x)
                let p = powW (w x) y
                let p1 = powW (w x) (y - 1.0)
                toFloat (y * p1), toFloat (l * p), toFloat (y * (y - 1.0) * powW (w x) (y - 2.0)),
                toFloat ((1.0 + y * l) * p1), toFloat (l * l * p))
            with Tol = 1e-12 }
      // Atan2(x, y): ρ = x² + y²: (y/ρ, −x/ρ, −2xy/ρ², (x² − y²)/ρ², 2xy/ρ²)
      row2 Fun2.Atan2 "Atan2" nan2 (None, None) (scaled scales) (fun x y ->
          let x, y = w x, w y
          let r = x * x + y * y
          toFloat (y / r), toFloat (-x / r), toFloat (-2.0 * x * y / (r * r)), toFloat ((x * x - y * y) / (r * r)),
          toFloat (2.0 * x * y / (r * r)))
      // h = √(x² + y²): (x/h, y/h, y²/h³, −xy/h³, x²/h³)
      row2 Fun2.Hypot "Hypot" nan2 (None, None) (scaled scales) (fun x y ->
          let x, y = w x, w y
          let h = sqrtW (x * x + y * y)
          let h3 = h * h * h
          toFloat (x / h), toFloat (y / h), toFloat (y * y / h3), toFloat (-(x * y) / h3), toFloat (x * x / h3))
      row2 Fun2.Min "Min" nan2 (None, None) (scaled scales) (fun x y -> let a, b = (if x < y then 1.0, 0.0 else 0.0, 1.0) in a, b, zero, zero, zero)
      row2 Fun2.Max "Max" nan2 (None, None) (scaled scales) (fun x y -> let a, b = (if x > y then 1.0, 0.0 else 0.0, 1.0) in a, b, zero, zero, zero)
      row2 Fun2.Mod "Mod" (fun _ -> 1.0, nan) (Some 1.0, None) (scaled scales) (fun x y ->
          1.0, -(Math.Truncate(toFloat (w x / w y))), zero, zero, zero) ]

/// The expected value of a mode's entry given the exact derivatives `exactOf` (see `Seeding`);
/// None: not checked.
let private expectedOf (seeding: Seeding) (exactOf: Part -> float) (part: Part) (allFinite: bool) =
    match seeding with
    | Plain -> Some(exactOf part)
    | ZeroSeed zeroed -> Some(if zeroed |> List.exists (exactOf >> Double.IsInfinity) then nan else exactOf part)
    | Mixed -> if allFinite then Some(exactOf part) else None

[<Tests>]
let ieee =
    testList "Rules.IEEE" [
        test "every rule-table function has a row in the NaN and scale tables" {
            Expect.equal [ for r in unaryRows do if r.Linear then r.F ] [ Fun1.Neg ] "the linear unary rows"
            for f in Enum.GetValues<Fun1>() do
                Expect.isTrue (unaryRows |> List.exists (fun r -> r.F = f)) (sprintf "%A has no row" f)
            for f in Enum.GetValues<Fun2>() do
                Expect.isTrue (binaryRows |> List.exists (fun r -> r.F = f)) (sprintf "%A has no row" f)
        }

        for r in unaryRows do
            let what = if r.Linear then "its constant derivative" else "NaN derivatives"
            test (sprintf "%s at NaN: %s in every mode" r.Name what) {
                let e1, e2 = if r.Linear then r.D1 0.0, r.D2 0.0 else nan, nan
                for mode, order, _, value in modes1 r.F r.C nan do
                    exact 0.0 (sprintf "%s at NaN, %s" r.Name mode) (if order = 1 then e1 else e2) value
            }
            test (sprintf "%s at 1e±150 and 1e±300: the exact derivatives in every mode" r.Name) {
                for x in r.Points do
                    Expect.isTrue (Double.IsFinite(Rules.value1 r.F r.C x)) (sprintf "%s(%.17g) is representable" r.Name x)
                    let d1 = r.D1 x
                    let d2 = r.D2 x
                    let exactOf part = if part = Dx then d1 else d2
                    for mode, order, seeding, value in modes1 r.F r.C x do
                        let what = sprintf "%s%s(%.17g), %s" r.Name (if order = 1 then "'" else "''") x mode
                        match expectedOf seeding exactOf (if order = 1 then Dx else Hxx) (Double.IsFinite d1 && Double.IsFinite d2) with
                        | Some e -> exact r.Tol what e value
                        | None -> ()
            }

        for r in binaryRows do
            test (sprintf "%s at NaN: constant partials kept, the others NaN, in every mode" r.Name) {
                let c = 2.5
                let ex, ey = r.AtNaN c
                let second e = if Double.IsNaN e then nan else 0.0
                for mode, part, _, value in modesX r.F nan c do
                    exact 0.0 (sprintf "%s at (NaN, %g), %s" r.Name c mode) (if part = Dx then ex else second ex) value
                for mode, part, _, value in modesY r.F c nan do
                    exact 0.0 (sprintf "%s at (%g, NaN), %s" r.Name c mode) (if part = Dy then ey else second ey) value
                // both arguments variables: the NaN one's partial as above; the other's only if constant
                let cx, cy = r.Constant
                let g = grad (fun v -> Real.Rule2(r.F, v[0], v[1])) [| nan; c |]
                exact 0.0 (sprintf "%s at (NaN, %g), reverse ∂x" r.Name c) ex g[0]
                exact 0.0 (sprintf "%s at (NaN, %g), reverse ∂y" r.Name c) (defaultArg cy nan) g[1]
                let g = grad (fun v -> Real.Rule2(r.F, v[0], v[1])) [| c; nan |]
                exact 0.0 (sprintf "%s at (%g, NaN), reverse ∂x" r.Name c) (defaultArg cx nan) g[0]
                exact 0.0 (sprintf "%s at (%g, NaN), reverse ∂y" r.Name c) ey g[1]
            }
            test (sprintf "%s at 1e±150 and 1e±300: the exact derivatives in every mode" r.Name) {
                for x, y in r.Points do
                    Expect.isTrue (Double.IsFinite(Rules.value2 r.F x y)) (sprintf "%s(%g, %g) is representable" r.Name x y)
                    let dx, dy, hxx, hxy, hyy = r.Exact x y
                    let allFinite = List.forall Double.IsFinite [ dx; dy; hxx; hxy; hyy ]
                    let exactOf part =
                        match part with
                        | Dx -> dx
                        | Dy -> dy
                        | Hxx -> hxx
                        | Hxy -> hxy
                        | Hyy -> hyy
                    let entries = modesX r.F x y @ modesY r.F x y @ modesXY r.F x y
                    for mode, part, seeding, value in entries do
                        match expectedOf seeding exactOf part allFinite with
                        | Some e -> exact r.Tol (sprintf "%s %A at (%.17g, %.17g), %s" r.Name part x y mode) e value
                        | None -> ()
            }

        test "hypot's value at infinities, NaN and zeros is double.Hypot's (IEEE 754: an infinite side wins over NaN)" {
            let specials = [ infinity; -infinity; nan; 0.0; -0.0; 3.0; -4.0; Double.MaxValue; Double.Epsilon ]
            for x in specials do
                for y in specials do
                    let e = Double.Hypot(x, y)
                    let what = sprintf "hypot(%g, %g)" x y
                    // bitwise (the sign of a zero too), except that any NaN is a NaN and a finite
                    // value is the scaled formula's (within an ulp of the library's)
                    let same (v: float) (how: string) =
                        if Double.IsFinite e && e <> 0.0 then Expect.floatClose { absolute = 0.0; relative = 2.3e-16 } v e (sprintf "%s, %s" what how)
                        elif Double.IsNaN e then Expect.isTrue (Double.IsNaN v) (sprintf "%s, %s: NaN, got %g" what how v)
                        else Expect.equal (BitConverter.DoubleToInt64Bits v) (BitConverter.DoubleToInt64Bits e) (sprintf "%s, %s: %g, got %g" what how e v)
                    same (Rules.value2 Fun2.Hypot x y) "the table"
                    same (Real.Hypot(Real x, Real y)).V "Real"
        }

        test "a forward number's zero tangent is an explicit 0: 0·NaN = NaN, as for double" {
            // x·y at x = NaN with y a variable of zero tangent: y·1 + x·0 = NaN; with y a double: y
            Expect.isTrue (Double.IsNaN (Dual(nan, 1.0) * Dual(2.5, 0.0)).T) "Dual · Dual(c, 0)"
            Expect.equal (Dual(nan, 1.0) * 2.5).T 2.5 "Dual · c"
        }
    ]

// ------------------------------------------------------------------------------------------------
// Driven by the rule table's own rows (Rules.rows1 / Rules.rows2): each row's smooth test points, its
// domain and its convention points, checked in every mode (Dual, HyperDual, reverse, forward, nested
// forward-over-reverse and reverse-over-reverse, the second-order tape, the elementwise Vec maps). A
// new row is tested here with no new test code.

/// The second partials of f at (x, y) by central differences: (∂²xx, ∂²xy, ∂²yy).
let private fdHessian (f: float -> float -> float) (x: float) (y: float) =
    let h = 1e-4 * Math.Max(1.0, Math.Max(Math.Abs x, Math.Abs y))
    let xy = (f (x + h) (y + h) - f (x + h) (y - h) - f (x - h) (y + h) + f (x - h) (y - h)) / (4.0 * h * h)
    fd2 (fun a -> f a y) x, xy, fd2 (fun b -> f x b) y

/// Every entry of the binary modes at (x, y): c = y for ∂x, c = x for ∂y, both variables for the rest.
let private modes2 (f: Fun2) (x: float) (y: float) = modesX f x y @ modesY f x y @ modesXY f x y

/// The exact value of `part` among a point's derivatives.
let private partOf (dx, dy, hxx, hxy, hyy) part =
    match part with
    | Dx -> dx
    | Dy -> dy
    | Hxx -> hxx
    | Hxy -> hxy
    | Hyy -> hyy

[<Tests>]
let rows =
    testList "Rules.rows" [
        test "every Fun1 and Fun2 value has a row, under its own name" {
            for f in Enum.GetValues<Fun1>() do
                match (try Some(Rules.info1 f) with :? ArgumentOutOfRangeException -> None) with
                | None -> failtestf "Fun1.%A has no row in Rules.rule1: add one (value, d1, d2, metadata)" f
                | Some r ->
                    Expect.equal r.Fun f (sprintf "the row of Fun1.%A" f)
                    Expect.equal r.Name (string f) (sprintf "the row of Fun1.%A is named after it" f)
            for f in Enum.GetValues<Fun2>() do
                match (try Some(Rules.info2 f) with :? ArgumentOutOfRangeException -> None) with
                | None -> failtestf "Fun2.%A has no row in Rules.rule2: add one (value, partials, hessian, metadata)" f
                | Some r ->
                    Expect.equal r.Fun f (sprintf "the row of Fun2.%A" f)
                    Expect.equal r.Name (string f) (sprintf "the row of Fun2.%A is named after it" f)
            Expect.equal (Rules.rows1 |> List.map (fun r -> r.Fun)) (List.ofArray (Enum.GetValues<Fun1>())) "rows1 lists every unary row in order"
            Expect.equal (Rules.rows2 |> List.map (fun r -> r.Fun)) (List.ofArray (Enum.GetValues<Fun2>())) "rows2 lists every binary row in order"
            Expect.equal (Rules.unary |> List.map (fun (f, _, _, _) -> f)) (Rules.rows1 |> List.map (fun r -> r.Fun)) "unary is the rows"
            Expect.equal (Rules.binary |> List.map (fun (f, _, _, _) -> f)) (Rules.rows2 |> List.map (fun r -> r.Fun)) "binary is the rows"
            // a value without a row is caught: the table's match ends in ArgumentOutOfRangeException
            Expect.throwsT<ArgumentOutOfRangeException> (fun () -> Rules.info1 (enum<Fun1> 999) |> ignore) "Fun1 999 has no row"
            Expect.throwsT<ArgumentOutOfRangeException> (fun () -> Rules.info2 (enum<Fun2> 999) |> ignore) "Fun2 999 has no row"
            Expect.throwsT<ArgumentOutOfRangeException> (fun () -> Rules.value1 (enum<Fun1> 999) 0.0 1.0 |> ignore) "value1 of no row"
        }

        for r in Rules.rows1 do
            for c in r.Constants do
                let name = if r.Fun = Fun1.PowC then sprintf "%s(%g)" r.Name c else r.Name
                test (sprintf "row %s: every mode against central differences at its smooth points" name) {
                    for x in points (fst r.Smooth) (snd r.Smooth) 5 do
                        let e1 = fd (Rules.value1 r.Fun c) x
                        let e2 = fd2 (Rules.value1 r.Fun c) x
                        for mode, order, _, value in modes1 r.Fun c x do
                            if order = 1 then close 1e-7 (sprintf "%s'(%g), %s" name x mode) e1 value
                            else close 1e-5 (sprintf "%s''(%g), %s" name x mode) e2 value
                }
                test (sprintf "row %s: NaN exactly outside its domain, in every mode" name) {
                    let lo, hi = r.Domain
                    let ends = [ lo; hi ] |> List.filter Double.IsFinite
                    let inside = ends @ points (Math.Max(lo, -5.0)) (Math.Min(hi, 5.0)) 9
                    for x in inside do
                        Expect.isFalse (Double.IsNaN(Rules.value1 r.Fun c x)) (sprintf "%s(%g) is defined: inside [%g, %g]" name x lo hi)
                    let outside = [ if Double.IsFinite lo then yield! [ lo - 0.5; lo - 3.0 ]
                                    if Double.IsFinite hi then yield! [ hi + 0.5; hi + 3.0 ] ]
                    for x in outside do
                        Expect.isTrue (Double.IsNaN(Rules.value1 r.Fun c x)) (sprintf "%s(%g) is NaN: outside [%g, %g]" name x lo hi)
                        if r.NanRule = NanRule.Propagate then
                            for mode, order, _, value in modes1 r.Fun c x do
                                exact 0.0 (sprintf "%s%s(%g) outside the domain, %s" name (String.replicate order "'") x mode) nan value
                    // where the domain ends the derivative is a limit: the row must state it
                    for e in ends do
                        Expect.isTrue (r.At |> List.exists (fun p -> p.C = c && p.X = e))
                            (sprintf "%s: the row states its derivatives at %g, the end of its domain (Info1.At)" name e)
                }
                let at = r.At |> List.filter (fun p -> p.C = c)
                if not at.IsEmpty then
                    test (sprintf "row %s: its convention (%s) in every mode" name r.Convention) {
                        for p in at do
                            Expect.isFalse (Double.IsNaN(Rules.value1 r.Fun c p.X)) (sprintf "%s(%g) is defined" name p.X)
                            let exactOf part = if part = Dx then p.D1 else p.D2
                            let allFinite = Double.IsFinite p.D1 && Double.IsFinite p.D2
                            for mode, order, seeding, value in modes1 r.Fun c p.X do
                                let what = sprintf "%s%s(%g), %s" name (String.replicate order "'") p.X mode
                                // reverse-over-reverse too: at asin's, acos's, atanh's and acosh's domain ends
                                // the rows' f' has no zero factor beside an infinite adjoint (Rules.oneMinusSquare)
                                match expectedOf seeding exactOf (if order = 1 then Dx else Hxx) allFinite with
                                | Some e -> exact 1e-15 what e value
                                | None -> ()
                    }

        for r in Rules.rows2 do
            test (sprintf "row %s: every mode against central differences at its smooth points" r.Name) {
                let lo, hi = r.Smooth
                let f = Rules.value2 r.Fun
                for x in points lo hi 3 do
                    for y in points lo hi 3 |> List.map (fun y -> y + 0.037) do // off the diagonal: no ties
                        let hxx, hxy, hyy = fdHessian f x y
                        let exactOf = partOf (fd (fun a -> f a y) x, fd (fun b -> f x b) y, hxx, hxy, hyy)
                        for mode, part, _, value in modes2 r.Fun x y do
                            let tol = if part = Dx || part = Dy then 1e-7 else 1e-5
                            close tol (sprintf "%s %A at (%g, %g), %s" r.Name part x y mode) (exactOf part) value
            }
            test (sprintf "row %s: NaN exactly outside its domain, in every mode" r.Name) {
                let grid = [ -2.5; -1.0; -0.5; 0.0; 0.5; 1.0; 2.5 ]
                for x in grid do
                    for y in grid do
                        let v = Rules.value2 r.Fun x y
                        if r.Domain x y then Expect.isFalse (Double.IsNaN v) (sprintf "%s(%g, %g) is defined: inside its domain" r.Name x y)
                        else
                            Expect.isTrue (Double.IsNaN v) (sprintf "%s(%g, %g) is NaN: outside its domain" r.Name x y)
                            if r.NanRule = NanRule.Propagate then
                                for mode, part, _, value in modes2 r.Fun x y do
                                    exact 0.0 (sprintf "%s %A at (%g, %g) outside the domain, %s" r.Name part x y mode) nan value
            }
            if not r.At.IsEmpty then
                test (sprintf "row %s: its convention (%s) in every mode" r.Name r.Convention) {
                    for p in r.At do
                        Expect.isTrue (r.Domain p.X p.Y) (sprintf "%s: (%g, %g) is in its domain" r.Name p.X p.Y)
                        let exactOf = partOf (p.Dx, p.Dy, p.Hxx, p.Hxy, p.Hyy)
                        let allFinite = List.forall Double.IsFinite [ p.Dx; p.Dy; p.Hxx; p.Hxy; p.Hyy ]
                        for mode, part, seeding, value in modes2 r.Fun p.X p.Y do
                            match expectedOf seeding exactOf part allFinite with
                            | Some e -> exact 1e-15 (sprintf "%s %A at (%g, %g), %s" r.Name part p.X p.Y mode) e value
                            | None -> ()
                }
    ]
