/// The transforms of functions of a scalar (module Hybrid.FSharp.Scalar), the seed examples, nesting.
module Hybrid.FSharp.Tests.ScalarTests

open System
open Expecto
open Hybrid
open Hybrid.FSharp
open Hybrid.FSharp.Tests.Check

let square (x: Real) = x * x
let squareIfEven (x: Real) = if x.Value % 2.0 = 0.0 then x * x else x
let cube (x: Real) = x * x * x

[<Tests>]
let tests =
    testList "Hybrid.FSharp.Scalar (functions of a scalar)" [
        testList "the seed examples" [
            test "1. gradAndValueAux square at 2: grad 4, value 4, aux passed through" {
                let g, v, aux = Scalar.gradAndValueAux (fun x -> square x, "any object") 2.0
                Expect.equal (g, v, aux) (4.0, 4.0, "any object") "(grad, value, aux)"
                let _, _, none = Scalar.gradAndValueAux (fun x -> square x, None) 2.0
                Expect.equal none (None: string option) "None as aux"
            }
            test "2. vmap square over linspace(0, 10, 100), then the gradient of the sum: 2·xᵢ" {
                let xs = Array.init 100 (fun i -> 10.0 * float i / 99.0)
                let g = xs |> grad (fun x -> Vec.Sum(Scalar.vmap square x))
                Expect.equal g (xs |> Array.map (fun x -> 2.0 * x)) "2·xᵢ"
            }
            test "3. scan squareIfEven over [1; 2; 3; 4] with even/odd aux, then the gradient" {
                let g, _, (outputs, parity) =
                    [| 1.0; 2.0; 3.0; 4.0 |] |> gradAndValueAux (fun x ->
                        let _, steps =
                            scan (fun carry xi -> carry, (squareIfEven xi, (if xi.Value % 2.0 = 0.0 then "even" else "odd"))) (real 0.0) (x.ToReals())
                        let ys = steps |> Array.map fst |> vecOfReals
                        Vec.Sum ys, (ys.ToArray(), steps |> Array.map snd))
                Expect.equal outputs [| 1.0; 4.0; 3.0; 16.0 |] "outputs"
                Expect.equal g [| 1.0; 4.0; 1.0; 8.0 |] "gradient"
                Expect.equal parity [| "odd"; "even"; "odd"; "even" |] "aux"
            }
            test "4. hessian square at 2 = 2 (1×1 for the vector form)" {
                Expect.equal (Scalar.hessian square 2.0) 2.0 "scalar"
                Expect.equal (hessian (fun x -> square x[0]) [| 2.0 |]) (array2D [ [ 2.0 ] ]) "1×1"
            }
            test "5. jvp square 2 1 = (4, 4)" { Expect.equal (Scalar.jvp square 2.0 1.0) (4.0, 4.0) "(value, tangent)" }
            test "6. reverse mode: the pullback of square at 2 gives 4" {
                let y, pullback = Scalar.vjp square 2.0
                Expect.equal (y, pullback 1.0, pullback 0.5) (4.0, 4.0, 2.0) "(value, pullback 1, pullback ½)"
            }
            test "7. vmap squareIfEven over [1; 2; 3; 4] and its gradient" {
                let xs = [| 1.0; 2.0; 3.0; 4.0 |]
                Expect.equal (Scalar.vmap squareIfEven xs) [| 1.0; 4.0; 3.0; 16.0 |] "outputs"
                Expect.equal (grad (fun x -> Vec.Sum(Scalar.vmap squareIfEven x)) xs) [| 1.0; 4.0; 1.0; 8.0 |] "gradient"
            }
            test "8. the manual derivative 2x beside the automatic one" { Expect.equal (Scalar.grad square 2.0) (2.0 * 2.0) "4 and 4" }
            test "9. grad square 2 = 4 (JAX's grad(square)(2.0)), also as a pipeline" {
                Expect.equal (Scalar.grad square 2.0) 4.0 "call"
                Expect.equal (2.0 |> Scalar.grad square) 4.0 "pipeline"
            }
        ]
        testList "every scalar transform against Fn and the closed form" [
            test "grad, gradAndValue: sin at 0.7" {
                Expect.equal (Scalar.grad sin 0.7) (Fn.Grad(Func<Real, Real> sin).Invoke(Real 0.7)).Value "= Fn.Grad"
                close 1e-15 "cos 0.7" (cos 0.7) (Scalar.grad sin 0.7)
                let g, v = Scalar.gradAndValue sin 0.7
                Expect.equal (g, v) (cos 0.7, sin 0.7) "(cos, sin)"
            }
            test "hessian, jvp, vjp, linearize: x³ at 1.5" {
                Expect.equal (Scalar.hessian cube 1.5) 9.0 "6x"
                Expect.equal (Scalar.jvp cube 1.5 2.0) (3.375, 13.5) "(x³, 3x²·2)"
                let y, pullback = Scalar.vjp cube 1.5
                Expect.equal (y, pullback 2.0) (3.375, 13.5) "(x³, 2·3x²)"
                let y', push = Scalar.linearize cube 1.5
                Expect.equal (y', push 1.0, push -1.0) (3.375, 6.75, -6.75) "(x³, 3x², −3x²)"
            }
            test "vmapAux and scan over a vector's elements" {
                let ys, aux = Scalar.vmapAux (fun x -> x * 2.0, x.Value > 1.5) [ 1.0; 2.0 ]
                Expect.equal (ys, aux) ([ 2.0; 4.0 ], [| false; true |]) "(values, aux)"
                Expect.equal (Scalar.scan (fun c x -> c + x, c * x) 0.0 [| 1.0; 2.0; 3.0 |]) (6.0, [| 0.0; 2.0; 9.0 |]) "(carry, ys)"
                // d/d init of the final carry of c ↦ c·x over [2, 3] = 6
                Expect.equal (Scalar.grad (fun c0 -> fst (Scalar.scan (fun c x -> c * x, c) c0 (vec [ 2.0; 3.0 ]))) 1.0) 6.0 "through init"
            }
            test "Real points give Real results" {
                let g: Real = Scalar.grad square (real 3.0)
                Expect.equal g.Value 6.0 "Real in, Real out"
            }
        ]
        testList "nesting" [
            test "grad (grad (grad x⁴)) at 2 = 48" {
                Expect.equal (Scalar.grad (Scalar.grad (Scalar.grad (fun x -> x * x * x * x))) 2.0) 48.0 "24·2"
            }
            test "no perturbation confusion: d/dx [x · d/dy (x + y)] = 1" {
                Expect.equal (Scalar.grad (fun x -> x * Scalar.grad (fun y -> x + y) (real 5.0)) 3.0) 1.0 "1, not 2"
            }
            test "d/da [d/db (a·b)] = 1 with a Real inner point; a float inner result throws" {
                Expect.equal (Scalar.grad (fun a -> Scalar.grad (fun b -> a * b) (real 5.0)) 3.0) 1.0 "Real inner point"
                let f (a: Real) =
                    let inner: float = Scalar.grad (fun b -> a * b) 5.0 // = a, traced by the outer grad
                    a * inner
                throwsWith<InvalidOperationException> [ "Hybrid.FSharp.Scalar.grad"; "enclosing transform"; "real 5.0" ] "float inner result"
                    (fun () -> Scalar.grad f 3.0 |> ignore)
            }
            test "jvp of a vjp (forward over reverse) = f″·v" {
                let f (x: Real) = Scalar.vjp cube x |> fun (_, pullback) -> pullback (real 1.0)
                Expect.equal (Scalar.jvp f 1.5 1.0) (6.75, 9.0) "(3x², 6x)"
            }
        ]
    ]
