module Hybrid.Kernel.Tests.DualTests

open System
open Expecto
open FsCheck
open FsCheck.FSharp
open Hybrid.Kernel
open Hybrid.Kernel.Tests.Check

let private c = 2.5 // PowC's exponent, as in RulesTests

/// Two grids inside (lo, hi) with no common point, so min/max have no ties.
let grid lo hi = [ for x in points lo hi 4 do for y in points lo hi 3 -> x, y ]

/// Central difference of a two-argument function in x and in y.
let fdx (f: float -> float -> float) x y = fd (fun x -> f x y) x
let fdy (f: float -> float -> float) x y = fd (fun y -> f x y) y

/// A finite double in [lo, hi] for FsCheck.
let between lo hi =
    ArbMap.defaults |> ArbMap.generate<float> |> Gen.filter Double.IsFinite
    |> Gen.map (fun u -> lo + (hi - lo) * (Math.Abs u % 1.0))
    |> Arb.fromGen

let private prop name (arb: Arbitrary<'a>) (body: 'a -> unit) =
    testPropertyWithConfig { FsCheckConfig.defaultConfig with maxTest = 200 } name (Prop.forAll arb body)

[<Tests>]
let tests =
    testList "Dual" [
        testList "rule table" [
            for (f, name, lo, hi) in Rules.unary do
                test (sprintf "%s: value exact, tangent against central differences" name) {
                    for x in points lo hi 7 do
                        let y = Dual.Apply1(f, c, Dual(x, 1.0))
                        Expect.equal y.V (Rules.value1 f c x) (sprintf "%s(%g) value" name x)
                        close 1e-7 (sprintf "%s'(%g)" name x) (fd (Rules.value1 f c) x) y.T
                        // the tangent is linear in the seed
                        close 1e-14 (sprintf "%s tangent scales" name) (-0.75 * y.T) (Dual.Apply1(f, c, Dual(x, -0.75))).T
                }
            for (f, name, lo, hi) in Rules.binary do
                test (sprintf "%s: partials against central differences; constant forms agree" name) {
                    for (x, y) in grid lo hi do
                        let v = Rules.value2 f x y
                        let zx = Dual.Apply2(f, Dual(x, 1.0), Dual(y, 0.0))
                        let zy = Dual.Apply2(f, Dual(x, 0.0), Dual(y, 1.0))
                        Expect.equal zx.V v (sprintf "%s(%g, %g) value" name x y)
                        close 1e-7 (sprintf "∂%s/∂x(%g, %g)" name x y) (fdx (Rules.value2 f) x y) zx.T
                        close 1e-7 (sprintf "∂%s/∂y(%g, %g)" name x y) (fdy (Rules.value2 f) x y) zy.T
                        let zl = Dual.Apply2L(f, Dual(x, 1.0), y)
                        let zr = Dual.Apply2R(f, x, Dual(y, 1.0))
                        Expect.equal (zl.V, zl.T) (zx.V, zx.T) "Apply2L = Apply2 with a constant y"
                        Expect.equal (zr.V, zr.T) (zy.V, zy.T) "Apply2R = Apply2 with a constant x"
                        let both = Dual.Apply2(f, Dual(x, 0.3), Dual(y, -1.7))
                        close 1e-14 "directional = combination of partials" (0.3 * zx.T - 1.7 * zy.T) both.T
                }
        ]

        testList "conventions at undefined points" [
            test "abs'(0) = 0" { Expect.equal (Dual.Abs(Dual(0.0, 1.0))).T 0.0 "" }
            test "sqrt'(0) = +∞" { Expect.equal (Dual.Sqrt(Dual(0.0, 1.0))).T Double.PositiveInfinity "" }
            test "cbrt'(0) = +∞" { Expect.equal (Dual.Cbrt(Dual(0.0, 1.0))).T Double.PositiveInfinity "" }
            test "min and max at a tie split ½, ½" {
                Expect.equal (Dual.Min(Dual(2.0, 1.0), Dual(2.0, 0.0))).T 0.5 "min ∂x"
                Expect.equal (Dual.Max(Dual(2.0, 0.0), Dual(2.0, 1.0))).T 0.5 "max ∂y"
                Expect.equal (Dual.Max(Dual(2.0, 1.0), Dual(2.0, 1.0))).T 1.0 "max(x, x)' = 1"
            }
            test "d/dy x^y at x = 0 is 0" {
                let z = Dual.Pow(Dual(0.0, 0.0), Dual(2.0, 1.0))
                Expect.equal (z.V, z.T) (0.0, 0.0) "0^y"
                Expect.equal (Dual.Pow(0.0, Dual(2.0, 1.0))).T 0.0 "constant base 0"
            }
            test "hypot'(0, 0) = 0" { Expect.equal (Dual.Hypot(Dual(0.0, 1.0), Dual(0.0, 1.0))).T 0.0 "" }
            test "outside the domain the value is NaN, as for double" {
                Expect.isTrue (Double.IsNaN (Dual.Log(Dual(-1.0, 1.0))).V) "log(−1)"
                let s = Dual.Sqrt(Dual(-1.0, 1.0))
                Expect.isTrue (Double.IsNaN s.V && Double.IsNaN s.T) "sqrt(−1) and its derivative"
                let a = Dual.Asin(Dual(2.0, 1.0))
                Expect.isTrue (Double.IsNaN a.V && Double.IsNaN a.T) "asin 2 and its derivative"
            }
        ]

        testList "IEEE" [
            test "NaN flows through" {
                let y = Dual.Sin(Dual(nan, 1.0) * 2.0 + 1.0)
                Expect.isTrue (Double.IsNaN y.V && Double.IsNaN y.T) "sin(2·NaN + 1)"
                Expect.isTrue (Dual.IsNaN(Dual.Min(Dual(nan, 0.0), Dual(1.0, 1.0)))) "min with NaN is NaN"
                Expect.isFalse (Dual.op_Equality(Dual(nan, 0.0), Dual(nan, 0.0))) "NaN ≠ NaN"
                Expect.isFalse (Dual.op_LessThan(Dual(nan, 0.0), Dual(1.0, 0.0))) "NaN < 1 is false"
            }
            test "±∞ flows through" {
                let y = Dual(Double.PositiveInfinity, 1.0) * 2.0
                Expect.equal (y.V, y.T) (Double.PositiveInfinity, 2.0) "∞·2 (a constant factor adds no 0·∞)"
                Expect.equal (Dual.Exp(Dual(Double.NegativeInfinity, 1.0))).V 0.0 "exp(−∞)"
                Expect.equal (Dual.Log(Dual(0.0, 1.0))).V Double.NegativeInfinity "log 0"
                Expect.equal (Dual.Atan(Dual(Double.PositiveInfinity, 1.0))).V (Math.PI / 2.0) "atan ∞"
                Expect.isTrue (Dual.IsPositiveInfinity(Dual(1.0, 0.0) / Dual(0.0, 0.0))) "1/0"
            }
        ]

        testList "properties" [
            prop "product rule" (Arb.zip (between -3.0 3.0, between -3.0 3.0)) (fun (a, b) ->
                let x, y = Dual(a, 1.0), Dual(b, 0.5)
                close 1e-14 "(xy)'" (1.0 * b + a * 0.5) (x * y).T)
            prop "quotient rule" (Arb.zip (between 0.5 3.0, between 0.5 3.0)) (fun (a, b) ->
                close 1e-13 "(x/y)'" ((1.0 * b - a * 0.5) / (b * b)) (Dual(a, 1.0) / Dual(b, 0.5)).T)
            prop "exp(log x)' = 1" (between 0.01 50.0) (fun a ->
                close 1e-14 "(exp ∘ log)'" 1.0 (Dual.Exp(Dual.Log(Dual(a, 1.0)))).T)
            prop "sin² + cos² has derivative 0" (between -10.0 10.0) (fun a ->
                let x = Dual(a, 1.0)
                close 1e-14 "(sin² + cos²)'" 0.0 (Dual.Square(Dual.Sin x) + Dual.Square(Dual.Cos x)).T)
            prop "chain rule: sin(x²)' = cos(x²)·2x" (between -3.0 3.0) (fun a ->
                close 1e-13 "sin(x²)'" (Math.Cos(a * a) * 2.0 * a) (Dual.Sin(Dual.Square(Dual(a, 1.0)))).T)
            prop "comparisons and equality see the primal only" (Arb.zip (between -3.0 3.0, between -3.0 3.0)) (fun (a, b) ->
                Expect.equal (Dual.op_LessThan(Dual(a, 5.0), Dual(b, -5.0))) (a < b) "<"
                Expect.equal (Dual(a, 5.0) = Dual(a, -5.0)) true "= ignores tangents"
                Expect.equal (compare (Dual(a, 1.0)) (Dual(b, 0.0))) (compare a b) "compare")
        ]

        test "no GC allocation per scalar operation" {
            let run () =
                let mutable x = Dual(0.3, 1.0)
                for _ in 1..1000 do
                    x <- Dual.Sin(x * x + 1.0) / Dual.Exp(x) - Dual.Pow(Dual.Abs x, 1.5) + Dual.Max(x, Dual.Tanh x)
                x
            run () |> ignore
            let before = GC.GetAllocatedBytesForCurrentThread()
            run () |> ignore
            Expect.equal (GC.GetAllocatedBytesForCurrentThread() - before) 0L "bytes allocated"
        }
    ]
