module Hybrid.Kernel.Tests.SolveTests

open System
open Expecto
open MathNet.Numerics.LinearAlgebra
open Hybrid.Kernel
open Hybrid.Kernel.Tests.MatCheck

[<Tests>]
let tests =
    testList "Mat.Solve" [
        for n in [ 1; 2; 4 ] do
            let r = rng n
            let a0 = general r n
            test (sprintf "Solve(A, b) %d×%d: A and b differentiable" n n) {
                checkAll "A⁻¹b" (fun x -> Mat.Solve(mat x 0 n n, x.Slice(n * n, n))) (Array.append a0 (randn r n)) 1
            }
            test (sprintf "Solve(A, B) %d×%d with 2 right-hand sides, and constant sides" n n) {
                checkAll "A⁻¹B" (fun x -> (Mat.Solve(mat x 0 n n, mat x (n * n) n 2)).Data) (Array.append a0 (randn r (2 * n))) 2
                let bc = Vec(randn r n)
                checkAll "A⁻¹c" (fun x -> Mat.Solve(mat x 0 n n, bc)) a0 3
                let ac = Mat(Dense.mat n n (general r n))
                checkAll "C⁻¹b" (fun x -> let y = Mat.Solve(ac, x) in y * y) (randn r n) 4
            }
            test (sprintf "Inverse %d×%d" n n) {
                checkAll "A⁻¹" (fun x -> (Mat.Inverse(mat x 0 n n)).Data) a0 5
            }
        test "second order: bᵀ Solve(A(x), b) with A(x) = X ∘ X + 3I" {
            let r = rng 11
            let b = Vec(randn r 3)
            let f (x: Vec) =
                let xm = mat x 0 3 3
                Vec.Dot(b, Mat.Solve(Mat.PointwiseMultiply(xm, xm) + Mat(Matrix<float>.Build.DenseIdentity(3) * 3.0), b))
            checkHessian "bᵀA(x)⁻¹b" f (randn r 9) 1e-6
        }
        test "the value matches MathNet" {
            let a = Matrix<float>.Build.DenseOfArray(array2D [ [ 4.0; 1.0 ]; [ 2.0; 3.0 ] ])
            let b = Vector<float>.Build.Dense [| 1.0; 2.0 |]
            let x = (Mat.Solve(Mat a, Vec(b.ToArray()))).ToArray()
            let e = a.Solve(b).ToArray()
            closeAll 1e-15 "x" e x
            Expect.isTrue (((Mat.Inverse(Mat a)).ToMatrix() - a.Inverse()).FrobeniusNorm() < 1e-15) "A⁻¹"
        }
        test "singular, non-square and mismatched inputs throw with the shapes" {
            let sing = Mat(array2D [ [ 1.0; 2.0 ]; [ 2.0; 4.0 ] ])
            throwsWith<SingularMatrixException> [ "Solve: A (2×2) is singular" ] (fun () -> Mat.Solve(sing, Vec [| 1.0; 1.0 |]) |> ignore)
            throwsWith<SingularMatrixException> [ "Inverse: A (2×2) is singular" ] (fun () -> Mat.Inverse sing |> ignore)
            throwsWith<ArgumentException> [ "Solve: A is 2×3; it must be square" ] (fun () -> Mat.Solve(Mat(Array2D.zeroCreate 2 3), Vec [| 1.0; 1.0 |]) |> ignore)
            throwsWith<ArgumentException> [ "Solve: A is 2×2 but the right-hand side has 3 rows" ] (fun () -> Mat.Solve(sing, Vec [| 1.0; 1.0; 1.0 |]) |> ignore)
            // the same on a trace and on a nested trace (element-wise path)
            throwsWith<SingularMatrixException> [ "Solve: A (2×2) is singular" ] (fun () ->
                grad (fun x -> Vec.Sum(Mat.Solve(Mat(x, 2, 2), Vec [| 1.0; 1.0 |]))) [| 1.0; 2.0; 2.0; 4.0 |] |> ignore)
            throwsWith<SingularMatrixException> [ "Solve: A (2×2) is singular" ] (fun () ->
                nestedHessian (fun x -> Vec.Sum(Mat.Solve(Mat(x, 2, 2), Vec [| 1.0; 1.0 |]))) [| 1.0; 2.0; 2.0; 4.0 |] |> ignore)
        }
    ]
