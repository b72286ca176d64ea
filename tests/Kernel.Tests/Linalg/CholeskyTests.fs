module Hybrid.Kernel.Tests.CholeskyTests

open System
open Expecto
open MathNet.Numerics.LinearAlgebra
open Hybrid.Kernel
open Hybrid.Kernel.Tests.MatCheck

[<Tests>]
let tests =
    testList "Mat.Cholesky" [
        for n in [ 1; 2; 4 ] do
            test (sprintf "L of an SPD %d×%d: jvp, vjp and Hessians (non-symmetric directions act through their symmetric part)" n n) {
                checkAll "chol" (fun x -> (Mat.Cholesky(mat x 0 n n)).Data) (spd (rng n) n) 1
            }
        test "chol(MᵀM + I) composed with solves: L⁻¹b" {
            let r = rng 5
            let b = Vec(randn r 3)
            checkAll "L⁻¹b" (fun x ->
                let m = mat x 0 3 3
                Mat.Solve(Mat.Cholesky(Mat.TransposeTimes(m, m) + Mat(Matrix<float>.Build.DenseIdentity 3)), b)) (randn r 9) 2
        }
        test "the value matches MathNet and LLᵀ = A" {
            let a = Dense.mat 3 3 (spd (rng 2) 3)
            let l = (Mat.Cholesky(Mat a)).ToMatrix()
            Expect.isTrue ((l - a.Cholesky().Factor).FrobeniusNorm() < 1e-14) "L"
            Expect.isTrue ((l.TransposeAndMultiply l - a).FrobeniusNorm() < 1e-13) "LLᵀ"
        }
        test "indefinite and non-square inputs throw" {
            let indef = Mat(array2D [ [ 1.0; 2.0 ]; [ 2.0; 1.0 ] ])
            throwsWith<NotPositiveDefiniteException> [ "Cholesky: A (2×2) is not symmetric positive definite" ] (fun () -> Mat.Cholesky indef |> ignore)
            throwsWith<NotPositiveDefiniteException> [ "Cholesky: A (2×2) is not symmetric positive definite" ] (fun () ->
                grad (fun x -> Mat.Sum(Mat.Cholesky(Mat(x, 2, 2)))) [| 1.0; 2.0; 2.0; 1.0 |] |> ignore)
            throwsWith<NotPositiveDefiniteException> [ "Cholesky: A (2×2) is not symmetric positive definite" ] (fun () ->
                nestedHessian (fun x -> Mat.Sum(Mat.Cholesky(Mat(x, 2, 2)))) [| 1.0; 2.0; 2.0; 1.0 |] |> ignore)
            throwsWith<ArgumentException> [ "Cholesky: A is 2×3; it must be square" ] (fun () -> Mat.Cholesky(Mat(Array2D.zeroCreate 2 3)) |> ignore)
        }
    ]
