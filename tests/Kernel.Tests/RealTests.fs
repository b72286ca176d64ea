/// Every rule-table entry through Real on each kind of trace: reverse (Ad.Grad), forward
/// (Ad.Jvp), nested forward-over-reverse (Ad.Jvp of Ad.Grad), reverse-over-reverse, the
/// second-order tape, and the one-node vector ops — against central differences, against
/// Rules.d2 and against Dual / HyperDual.
module Hybrid.Kernel.Tests.RealTests

open System
open Expecto
open Hybrid.Kernel
open Hybrid.Kernel.Tests.Check
open Hybrid.Kernel.Tests.Modes

let private c = 2.5 // PowC's exponent in these tests

let private f1 (f: Fun1) (x: Real) = Real.Rule1(f, c, x)
let private f2 (f: Fun2) (x: Real) (y: Real) = Real.Rule2(f, x, y)

[<Tests>]
let unary =
    testList "Real.unary" [
        for (f, name, lo, hi) in Rules.unary do
            test (sprintf "%s: reverse, forward, nested and tape derivatives agree with the table and FD" name) {
                for x in points lo hi 5 do
                    let v = Rules.value1 f c x
                    let d = Rules.d1<float> f c x v
                    let dd = Rules.d2 f c x v d
                    let fd1 = fd (Rules.value1 f c) x
                    let g = grad (fun x -> f1 f x[0]) [| x |]
                    close 1e-7 (sprintf "%s' reverse vs FD at %g" name x) fd1 g[0]
                    close 1e-15 (sprintf "%s' reverse vs table at %g" name x) d g[0]
                    close 1e-15 (sprintf "%s' forward vs reverse at %g" name x) g[0] (jvp (fun x -> f1 f x[0]) [| x |] [| 1.0 |])
                    close 1e-15 (sprintf "%s' Dual vs reverse at %g" name x) g[0] (Dual.Apply1(f, c, Dual(x, 1.0))).T
                    let h = HyperDual.Apply1(f, c, HyperDual(x, 1.0, 1.0, 0.0))
                    close 1e-12 (sprintf "%s'' nested fwd-over-rev vs HyperDual at %g" name x) h.E12 ((hvpNested (fun x -> f1 f x[0]) [| x |] [| 1.0 |])[0])
                    close 1e-12 (sprintf "%s'' rev-over-rev vs table at %g" name x) dd ((hessianRevRev (fun x -> f1 f x[0]) [| x |]).[0].[0])
                    close 1e-12 (sprintf "%s'' tape vs table at %g" name x) dd ((hessianTape (fun x -> f1 f x[0]) [| x |])[0, 0])
                    close 1e-5 (sprintf "%s'' tape vs FD at %g" name x) (fd2 (Rules.value1 f c) x) dd
            }
            test (sprintf "%s: the one-node vector op equals the scalar rule, first and second order" name) {
                let xs = points lo hi 4 |> Array.ofList
                let g = grad (fun x -> Vec.Sum(Vec.MapRule(f, c, x))) xs
                let h = hessianTape (fun x -> Vec.Sum(Vec.MapRule(f, c, x))) xs
                for i in 0 .. xs.Length - 1 do
                    let v = Rules.value1 f c xs[i]
                    let d = Rules.d1<float> f c xs[i] v
                    close 1e-15 (sprintf "%s vector grad[%d]" name i) d g[i]
                    close 1e-12 (sprintf "%s vector H[%d,%d]" name i i) (Rules.d2 f c xs[i] v d) h[i, i]
                let struct (_, t) = Ad.Jvp("test", Func<Vec, Vec>(fun x -> Vec.MapRule(f, c, x)), Vec xs, Vec(Array.create xs.Length 1.0))
                for i in 0 .. xs.Length - 1 do close 1e-15 (sprintf "%s vector jvp[%d]" name i) g[i] (t.ToArray()[i])
            }
    ]

[<Tests>]
let binary =
    testList "Real.binary" [
        for (f, name, lo, hi) in Rules.binary do
            test (sprintf "%s: gradient and Hessian in every mode agree with the table, HyperDual and FD" name) {
                for x in points lo hi 3 do
                    for y in points lo hi 3 |> List.map (fun y -> y + 0.037) do // avoid ties on the diagonal
                        let fz = Rules.value2 f x y
                        let struct (dx, dy) = Rules.partials2<float> f x y fz
                        let struct (hxx, hxy, hyy) = Rules.hessian2 f x y fz dx dy
                        let fn (v: Vec) = f2 f v[0] v[1]
                        let g = grad fn [| x; y |]
                        close 1e-7 (sprintf "%s ∂x FD (%g,%g)" name x y) (fd (fun a -> Rules.value2 f a y) x) g[0]
                        close 1e-7 (sprintf "%s ∂y FD (%g,%g)" name x y) (fd (fun b -> Rules.value2 f x b) y) g[1]
                        close 1e-15 (sprintf "%s ∂x table" name) dx g[0]
                        close 1e-15 (sprintf "%s ∂y table" name) dy g[1]
                        close 1e-15 (sprintf "%s forward ∂x" name) dx (jvp fn [| x; y |] [| 1.0; 0.0 |])
                        let hd = HyperDual.Apply2(f, HyperDual(x, 1.0, 0.0, 0.0), HyperDual(y, 0.0, 1.0, 0.0))
                        close 1e-12 (sprintf "%s ∂²xy HyperDual vs table" name) hxy hd.E12
                        let tape = hessianTape fn [| x; y |]
                        let nested = [| hvpNested fn [| x; y |] [| 1.0; 0.0 |]; hvpNested fn [| x; y |] [| 0.0; 1.0 |] |]
                        let rr = hessianRevRev fn [| x; y |]
                        let expected = array2D [ [ hxx; hxy ]; [ hxy; hyy ] ]
                        for i in 0..1 do
                            for j in 0..1 do
                                close 1e-12 (sprintf "%s H[%d,%d] tape" name i j) expected[i, j] (tape[i, j])
                                close 1e-12 (sprintf "%s H[%d,%d] fwd-over-rev" name i j) expected[i, j] (nested[j][i])
                                close 1e-12 (sprintf "%s H[%d,%d] rev-over-rev" name i j) expected[i, j] (rr[i][j])
            }
            test (sprintf "%s: the one-node vector op (and broadcasting) equals the scalar rule" name) {
                let xs = points lo hi 3 |> Array.ofList
                let ys = xs |> Array.map (fun y -> hi - y + lo + 0.011)
                let fn (v: Vec) = Vec.Sum(Vec.ZipRule(f, v[0..2], v[3..5]))
                let g = grad fn (Array.append xs ys)
                let h = hessianTape fn (Array.append xs ys)
                for k in 0..2 do
                    let fz = Rules.value2 f xs[k] ys[k]
                    let struct (dx, dy) = Rules.partials2<float> f xs[k] ys[k] fz
                    let struct (hxx, hxy, hyy) = Rules.hessian2 f xs[k] ys[k] fz dx dy
                    close 1e-15 (sprintf "%s vec ∂x[%d]" name k) dx g[k]
                    close 1e-15 (sprintf "%s vec ∂y[%d]" name k) dy g[k + 3]
                    close 1e-12 (sprintf "%s vec hxx[%d]" name k) hxx h[k, k]
                    close 1e-12 (sprintf "%s vec hxy[%d]" name k) hxy h[k, k + 3]
                    close 1e-12 (sprintf "%s vec hyy[%d]" name k) hyy h[k + 3, k + 3]
                // a scalar Real broadcast against a vector: its adjoint is the sum
                let gb = grad (fun v -> Vec.Sum(Vec.ZipRule(f, v[0..2], Vec.OfReals [| v[3] |]))) (Array.append xs [| ys[0] |])
                let expected = xs |> Array.sumBy (fun a -> let fz = Rules.value2 f a ys[0] in let struct (_, d) = Rules.partials2<float> f a ys[0] fz in d)
                close 1e-14 (sprintf "%s broadcast adjoint" name) expected gb[3]
            }
    ]

[<Tests>]
let conventions =
    testList "Real.conventions" [
        test "abs'(0) = 0 in every mode" {
            Expect.equal (grad (fun x -> Real.Abs x[0]) [| 0.0 |]) [| 0.0 |] "reverse"
            Expect.equal (jvp (fun x -> Real.Abs x[0]) [| 0.0 |] [| 1.0 |]) 0.0 "forward"
        }
        test "sqrt'(0) = +∞" { Expect.equal (grad (fun x -> Real.Sqrt x[0]) [| 0.0 |]) [| Double.PositiveInfinity |] "reverse" }
        test "min/max at a tie split ½, ½" {
            Expect.equal (grad (fun x -> Real.Max(x[0], x[1])) [| 1.0; 1.0 |]) [| 0.5; 0.5 |] "max"
            Expect.equal (grad (fun x -> Real.Min(x[0], x[1])) [| 1.0; 1.0 |]) [| 0.5; 0.5 |] "min"
        }
        test "d/dy x^y at x = 0 is 0" { Expect.equal (grad (fun x -> Real.Pow(x[0], x[1])) [| 0.0; 2.0 |]) [| 0.0; 0.0 |] "pow" }
        test "log outside its domain: value and derivative NaN" {
            let g = grad (fun x -> Real.Log x[0]) [| -1.0 |]
            Expect.isTrue (Double.IsNaN g[0]) "NaN derivative"
        }
        test "NaN and ∞ flow through as for double" {
            let g = grad (fun x -> x[0] * x[1]) [| Double.NaN; 2.0 |]
            Expect.isTrue (Double.IsNaN g[1]) "∂/∂y of NaN·y"
            Expect.equal g[0] 2.0 "∂/∂x"
            let struct (v, _) = Ad.Grad("t", Func<Vec, Real>(fun x -> x[0] / x[1]), Vec [| 1.0; 0.0 |])
            Expect.equal v.V Double.PositiveInfinity "1/0"
        }
    ]
