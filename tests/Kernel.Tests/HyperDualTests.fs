module Hybrid.Kernel.Tests.HyperDualTests

open System
open System.Numerics
open Expecto
open Hybrid.Kernel
open Hybrid.Kernel.Tests.Check
open Hybrid.Kernel.Tests.DualTests

let private c = 2.5

/// Central mixed second difference ∂²f/∂x∂y.
let fdxy (f: float -> float -> float) (x: float) (y: float) =
    let h = 1e-4 * Math.Max(1.0, Math.Max(Math.Abs x, Math.Abs y))
    (f (x + h) (y + h) - f (x + h) (y - h) - f (x - h) (y + h) + f (x - h) (y - h)) / (4.0 * h * h)

/// A generic test function of three variables using many rules (for whole Hessians).
let inline g3<'T when 'T :> INumberBase<'T> and 'T :> IExponentialFunctions<'T> and 'T :> ITrigonometricFunctions<'T>
                  and 'T :> ILogarithmicFunctions<'T> and 'T :> IPowerFunctions<'T> and 'T :> IRootFunctions<'T>
                  and 'T :> IHyperbolicFunctions<'T>> (x: 'T[]) : 'T =
    'T.Exp(x[0] * x[1]) * 'T.Sin(x[2]) + 'T.Log(x[0] * x[0] + 'T.One) * 'T.Tanh(x[1])
    + 'T.Pow(x[2], x[0]) / 'T.Sqrt(x[1] * x[1] + x[2]) + 'T.Hypot(x[0], x[2])

[<Tests>]
let tests =
    testList "HyperDual" [
        testList "rule table" [
            for (f, name, lo, hi) in Rules.unary do
                test (sprintf "%s: ε parts = Dual, ε₁ε₂ = Rules.d2 ≈ central second difference" name) {
                    for x in points lo hi 7 do
                        let y = HyperDual.Apply1(f, c, HyperDual(x, 1.0, 1.0, 0.0))
                        let d = Dual.Apply1(f, c, Dual(x, 1.0))
                        Expect.equal (y.V, y.E1, y.E2) (d.V, d.T, d.T) (sprintf "%s(%g): value and first parts" name x)
                        let d2 = Rules.d2 f c x d.V d.T
                        Expect.equal y.E12 d2 (sprintf "%s''(%g) = Rules.d2" name x)
                        close 1e-5 (sprintf "%s''(%g)" name x) (fd2 (Rules.value1 f c) x) y.E12
                        // general seed (a, b, c, d): f'(a)d + f''(a)bc
                        let z = HyperDual.Apply1(f, c, HyperDual(x, 0.5, -2.0, 0.25))
                        close 1e-14 (sprintf "%s general seed" name) (d.T * 0.25 + d2 * 0.5 * -2.0) z.E12
                }
            for (f, name, lo, hi) in Rules.binary do
                test (sprintf "%s: second partials (ε₁ on x, ε₂ on y) against hessian2 and central differences" name) {
                    for (x, y) in grid lo hi do
                        let h (e1x, e2x) (e1y, e2y) = HyperDual.Apply2(f, HyperDual(x, e1x, e2x, 0.0), HyperDual(y, e1y, e2y, 0.0))
                        let xy = h (1.0, 0.0) (0.0, 1.0)
                        let xx = h (1.0, 1.0) (0.0, 0.0)
                        let yy = h (0.0, 0.0) (1.0, 1.0)
                        let dx = Dual.Apply2(f, Dual(x, 1.0), Dual(y, 0.0))
                        let dy = Dual.Apply2(f, Dual(x, 0.0), Dual(y, 1.0))
                        Expect.equal (xy.V, xy.E1, xy.E2) (dx.V, dx.T, dy.T) (sprintf "%s(%g, %g) value and first parts" name x y)
                        let struct (hxx, hxy, hyy) = Rules.hessian2 f x y dx.V dx.T dy.T
                        Expect.equal (xx.E12, xy.E12, yy.E12) (hxx, hxy, hyy) "= Rules.hessian2"
                        let v = Rules.value2 f
                        close 1e-5 (sprintf "∂²%s/∂x²(%g, %g)" name x y) (fd2 (fun x -> v x y) x) xx.E12
                        close 1e-5 (sprintf "∂²%s/∂x∂y(%g, %g)" name x y) (fdxy v x y) xy.E12
                        close 1e-5 (sprintf "∂²%s/∂y²(%g, %g)" name x y) (fd2 (fun y -> v x y) y) yy.E12
                        // constant forms agree with zero seeds
                        let l = HyperDual.Apply2L(f, HyperDual(x, 1.0, 1.0, 0.3), y)
                        let l2 = HyperDual.Apply2(f, HyperDual(x, 1.0, 1.0, 0.3), HyperDual.Const y)
                        Expect.equal (l.V, l.E1, l.E2, l.E12) (l2.V, l2.E1, l2.E2, l2.E12) "Apply2L"
                        let r = HyperDual.Apply2R(f, x, HyperDual(y, 1.0, 1.0, 0.3))
                        let r2 = HyperDual.Apply2(f, HyperDual.Const x, HyperDual(y, 1.0, 1.0, 0.3))
                        Expect.equal (r.V, r.E1, r.E2, r.E12) (r2.V, r2.E1, r2.E2, r2.E12) "Apply2R"
                }
        ]

        test "whole Hessian of a generic function: symmetric, = finite differences of the Dual gradient" {
            let x0 = [| 0.7; 1.3; 0.9 |]
            let n = x0.Length
            let hess =
                Array2D.init n n (fun i j ->
                    let x = Array.init n (fun k -> HyperDual(x0[k], (if k = i then 1.0 else 0.0), (if k = j then 1.0 else 0.0), 0.0))
                    (g3 x).E12)
            let grad (x: float[]) i = (g3 (Array.init n (fun k -> Dual(x[k], (if k = i then 1.0 else 0.0))))).T
            for i in 0 .. n - 1 do
                for j in 0 .. n - 1 do
                    close 1e-14 (sprintf "H[%d,%d] = H[%d,%d]" i j j i) hess[i, j] hess[j, i]
                    let fdij = fd (fun t -> grad (Array.init n (fun k -> if k = j then t else x0[k])) i) x0[j]
                    close 1e-7 (sprintf "H[%d,%d]" i j) fdij hess[i, j]
        }

        testList "conventions and IEEE" [
            test "abs''(0) = 0, abs'(0) = 0" {
                let y = HyperDual.Abs(HyperDual(0.0, 1.0, 1.0, 0.0))
                Expect.equal (y.E1, y.E2, y.E12) (0.0, 0.0, 0.0) ""
            }
            test "min/max tie: first parts ½, second 0" {
                let y = HyperDual.Max(HyperDual(1.0, 1.0, 0.0, 0.0), HyperDual(1.0, 0.0, 1.0, 0.0))
                Expect.equal (y.E1, y.E2, y.E12) (0.5, 0.5, 0.0) ""
            }
            test "pow at x = 0: ∂/∂y = 0 and ∂²/∂y² = 0" {
                let y = HyperDual.Pow(HyperDual.Const 0.0, HyperDual(2.0, 1.0, 1.0, 0.0))
                Expect.equal (y.V, y.E1, y.E12) (0.0, 0.0, 0.0) ""
            }
            test "NaN and ∞ flow" {
                Expect.isTrue (HyperDual.IsNaN(HyperDual.Exp(HyperDual(nan, 1.0, 1.0, 0.0)))) "exp NaN"
                Expect.equal (HyperDual.Exp(HyperDual(Double.PositiveInfinity, 0.0, 0.0, 0.0))).V Double.PositiveInfinity "exp ∞"
                let y = HyperDual(Double.PositiveInfinity, 1.0, 1.0, 0.0) + 1.0
                Expect.equal (y.V, y.E1, y.E12) (Double.PositiveInfinity, 1.0, 0.0) "∞ + 1"
            }
        ]

        test "no GC allocation per scalar operation" {
            let run () =
                let mutable x = HyperDual(0.3, 1.0, 1.0, 0.0)
                for _ in 1..1000 do
                    x <- HyperDual.Sin(x * x + 1.0) / HyperDual.Exp(x) - HyperDual.Pow(HyperDual.Abs x, 1.5) + HyperDual.Max(x, HyperDual.Tanh x)
                x
            run () |> ignore
            let before = GC.GetAllocatedBytesForCurrentThread()
            run () |> ignore
            Expect.equal (GC.GetAllocatedBytesForCurrentThread() - before) 0L "bytes allocated"
        }
    ]
