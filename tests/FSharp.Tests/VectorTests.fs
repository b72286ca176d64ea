/// The transforms of functions of a vector (module Hybrid.FSharp) against Hybrid.Fn and closed forms.
module Hybrid.FSharp.Tests.VectorTests

open System
open Expecto
open FsCheck
open FsCheck.FSharp
open Hybrid
open Hybrid.FSharp
open Hybrid.FSharp.Tests.Check

/// Rosenbrock written with slices: Σ 100 (x[i+1] − x[i]²)² + (1 − x[i])².
let rosen (x: Vec) =
    let head, tail = x[.. x.Length - 2], x[1 ..]
    Vec.Sum(100.0 * Vec.Square(tail - Vec.Square head) + Vec.Square(1.0 - head))

/// ∇ of the two-dimensional Rosenbrock function, by hand.
let rosenGrad (x: float[]) =
    [| -400.0 * x[0] * (x[1] - x[0] * x[0]) - 2.0 * (1.0 - x[0]); 200.0 * (x[1] - x[0] * x[0]) |]

/// The Hessian of the two-dimensional Rosenbrock function, by hand.
let rosenHessian (x: float[]) =
    array2D [ [ 1200.0 * x[0] * x[0] - 400.0 * x[1] + 2.0; -400.0 * x[0] ]; [ -400.0 * x[0]; 200.0 ] ]

/// F(z) = (z₀z₁, sin z₂ + z₀): ℝ³ → ℝ², and its Jacobian by hand.
let fv (z: Vec) = vecOfReals [ z[0] * z[1]; sin z[2] + z[0] ]
let fvJacobian (z: float[]) = array2D [ [ z[1]; z[0]; 0.0 ]; [ 1.0; 0.0; cos z[2] ] ]

let x0 = [| -1.2; 1.0 |]
let z0 = [| 0.5; -2.0; 0.3 |]

/// Fn's result for the same call, as arrays.
let fnGrad (f: Vec -> Real) (x: float[]) = Fn.Grad(Func<Vec, Real> f).Invoke(Vec x).ToArray()

[<Tests>]
let tests =
    testList "Hybrid.FSharp (functions of a vector)" [
        testList "grad" [
            test "float[] in, float[] out: the closed form and Fn.Grad" {
                let g: float[] = grad rosen x0
                closeAll 1e-14 "∇rosen" (rosenGrad x0) g
                Expect.equal g (fnGrad rosen x0) "the same numbers as Fn.Grad"
            }
            test "pipelines, lists and Vec points" {
                let g = x0 |> grad rosen
                let gl: float list = [ -1.2; 1.0 ] |> grad rosen
                let gv: Vec = vec x0 |> grad rosen
                closeAll 1e-14 "x |> grad f" (rosenGrad x0) g
                Expect.equal gl (List.ofArray g) "float list in, float list out"
                Expect.equal (gv.ToArray()) g "Vec in, Vec out"
            }
            testProperty "∇(c·x·x) = 2c·x at random points" <| fun (c: NormalFloat) (xs: NormalFloat list) ->
                let xs = 1.0 :: (xs |> List.map (fun v -> v.Get % 1e3))
                let c = c.Get % 1e3
                let g = xs |> grad (fun x -> c * Vec.Dot(x, x))
                closeAll 1e-12 "∇(c x·x)" (xs |> List.map (fun v -> 2.0 * c * v) |> Array.ofList) (Array.ofList g)
        ]
        testList "gradAndValue" [
            test "(∇f(x), f(x)) in one pass" {
                let g, v = gradAndValue rosen x0
                closeAll 1e-14 "grad" (rosenGrad x0) g
                close 1e-15 "value" (100.0 * (1.0 - 1.44) ** 2.0 + 2.2 ** 2.0) v
            }
            test "gradAndValueAux: an F# tuple aux of any type comes back unchanged" {
                let g, v, (label, count) = x0 |> gradAndValueAux (fun x -> rosen x, ("rosenbrock", x.Length))
                closeAll 1e-14 "grad" (rosenGrad x0) g
                close 1e-15 "value" 24.2 v
                Expect.equal (label, count) ("rosenbrock", 2) "aux passed through"
            }
            test "a Real aux comes back as its constant value" {
                let _, _, aux = gradAndValueAux (fun x -> Vec.Dot(x, x), x[0] * 3.0) [| 2.0; 1.0 |]
                Expect.isTrue (Real.IsConstant aux) "aux is a constant"
                Expect.equal aux.Value 6.0 "aux value"
            }
        ]
        testList "second order" [
            test "hessian: closed form, float[,] for float[], float list list for a list" {
                closeMat 1e-12 "H" (rosenHessian x0) (hessian rosen x0)
                let hl = hessian rosen [ -1.2; 1.0 ]
                Expect.equal hl [ [ 1330.0; 480.0 ]; [ 480.0; 200.0 ] ] "list of rows"
            }
            test "hessian = Fn.Hessian and = jacobian (grad f) (nesting)" {
                let h = hessian rosen x0
                let viaFn = Fn.Hessian(Func<Vec, Real> rosen).Invoke(Vec x0).ToArray()
                closeMat 0.0 "Fn.Hessian" viaFn h
                let nested: Mat = jacobian (grad rosen) (vec x0)
                closeMat 1e-12 "jacobian (grad f)" h (nested.ToArray())
            }
            test "hvp = H·v without forming H" {
                let v = [| 0.25; -2.0 |]
                let h = rosenHessian x0
                let expected = [| h[0, 0] * v[0] + h[0, 1] * v[1]; h[1, 0] * v[0] + h[1, 1] * v[1] |]
                closeAll 1e-12 "H·v" expected (hvp rosen x0 v)
            }
        ]
        testList "functions ℝⁿ → ℝᵐ" [
            test "jvp = (F(z), J·v)" {
                let y, t = jvp fv z0 [| 0.0; 0.0; 1.0 |]
                closeAll 1e-15 "F(z)" [| -1.0; sin 0.3 + 0.5 |] y
                closeAll 1e-15 "J·e₂" [| 0.0; cos 0.3 |] t
            }
            test "vjp: a reusable pullback u ↦ uᵀJ" {
                let y, pullback = vjp fv z0
                closeAll 1e-15 "F(z)" [| -1.0; sin 0.3 + 0.5 |] y
                closeAll 1e-15 "e₀ᵀJ" [| -2.0; 0.5; 0.0 |] (pullback [| 1.0; 0.0 |])
                closeAll 1e-15 "e₁ᵀJ" [| 1.0; 0.0; cos 0.3 |] (pullback [| 0.0; 1.0 |])
            }
            test "linearize: F(z) and v ↦ J·v" {
                let y, push = linearize fv z0
                closeAll 1e-15 "F(z)" [| -1.0; sin 0.3 + 0.5 |] y
                closeAll 1e-15 "J·(1, 1, 1)" [| -1.5; 1.0 + cos 0.3 |] (push [| 1.0; 1.0; 1.0 |])
            }
            test "jacobian, jacFwd and jacRev agree with the closed form" {
                let j = fvJacobian z0
                closeMat 1e-15 "jacobian" j (jacobian fv z0)
                closeMat 1e-15 "jacFwd" j (jacFwd fv z0)
                closeMat 1e-15 "jacRev" j (jacRev fv z0)
            }
        ]
        testList "vmap over rows" [
            test "float[][] and float[,] batches give float[], a Mat gives a Vec" {
                let rows = [| [| 1.0; 2.0 |]; [| 3.0; 4.0 |]; [| -1.0; 0.5 |] |]
                let norms = rows |> vmap (fun r -> Vec.Dot(r, r))
                Expect.equal norms [| 5.0; 25.0; 1.25 |] "float[][]"
                Expect.equal (vmap (fun r -> Vec.Dot(r, r)) (array2D rows)) norms "float[,]"
                let m: Vec = vmap (fun r -> Vec.Dot(r, r)) (Mat(array2D rows))
                Expect.equal (m.ToArray()) norms "Mat"
            }
            test "vmapAux: per-row aux; differentiable inside grad" {
                let values, aux = vmapAux (fun r -> Vec.Sum r, r.Length) [| [| 1.0; 2.0 |]; [| 3.0; 4.0 |] |]
                Expect.equal values [| 3.0; 7.0 |] "values"
                Expect.equal aux [| 2; 2 |] "aux"
                // d/dw Σ_rows (w · row)² at w = (1, 1), rows fixed
                let batch = Mat(array2D [ [ 1.0; 2.0 ]; [ 3.0; 4.0 ] ])
                let g = grad (fun w -> Vec.Sum(vmap (fun r -> let s = Vec.Dot(w, r) in s * s) batch)) [| 1.0; 1.0 |]
                Expect.equal g [| 2.0 * (3.0 * 1.0 + 7.0 * 3.0); 2.0 * (3.0 * 2.0 + 7.0 * 4.0) |] "gradient through vmap"
            }
        ]
        testList "scan" [
            test "the plain loop, any carry" {
                let carry, ys = scan (fun c x -> c + x, c * x) 0.0 [ 1.0; 2.0; 3.0 ]
                Expect.equal (carry, ys) (6.0, [| 0.0; 2.0; 9.0 |]) "(carry, ys)"
            }
            test "differentiable through the elements" {
                // f(x) = Σ ys with ys[k] = (x₀ + … + x_{k−1}) · x_k
                let f (x: Vec) = let _, ys = scan (fun c t -> c + t, c * t) (real 0.0) (x.ToReals()) in Vec.Sum(vecOfReals ys)
                // ∂/∂x_j = Σ_{k<j} x_k + Σ_{k>j} x_k
                Expect.equal (grad f [| 1.0; 2.0; 3.0 |]) [| 5.0; 4.0; 3.0 |] "gradient"
            }
        ]
        testList "errors pass through with Fn's messages" [
            test "an empty point" {
                throwsWith<ArgumentException> [ "Fn.Grad"; "empty" ] "grad f [||]" (fun () -> grad rosen [||] |> ignore)
                throwsWith<ArgumentException> [ "Fn.Hessian"; "empty" ] "hessian f []" (fun () -> hessian rosen [] |> ignore)
            }
            test "mismatched lengths" {
                throwsWith<ArgumentException> [ "Fn.Hvp"; "length 2"; "length 3" ] "hvp" (fun () -> hvp rosen x0 [| 1.0; 2.0; 3.0 |] |> ignore)
                throwsWith<ArgumentException> [ "Fn.Jvp"; "length 3"; "length 1" ] "jvp" (fun () -> jvp fv z0 [| 1.0 |] |> ignore)
                let _, pullback = vjp fv z0
                throwsWith<ArgumentException> [ "Fn.Vjp"; "2 outputs"; "length 3" ] "pullback" (fun () -> pullback z0 |> ignore)
            }
            test "a ragged batch" {
                throwsWith<ArgumentException> [ "row 0"; "row 1 has 1" ] "vmap" (fun () -> vmap Vec.Sum [| [| 1.0; 2.0 |]; [| 3.0 |] |] |> ignore)
            }
            test "a float[] result that would drop an enclosing transform's derivatives throws" {
                let f (x: Vec) =
                    let inner: float[] = grad (fun y -> Vec.Dot(x, y)) [| 1.0; 1.0 |] // = x, traced by the outer grad
                    x[0] * inner[0]
                throwsWith<InvalidOperationException> [ "Hybrid.FSharp.grad"; "enclosing transform"; "Vec" ] "nested float[]" (fun () -> grad f [| 2.0; 3.0 |] |> ignore)
                // with a Vec point the inner result stays differentiable: d/dx₀ x₀² = 4
                let g (x: Vec) = let inner: Vec = grad (fun y -> Vec.Dot(x, y)) (vec [ 1.0; 1.0 ]) in x[0] * inner[0]
                Expect.equal (grad g [| 2.0; 3.0 |]) [| 4.0; 0.0 |] "Vec point"
            }
        ]
    ]
