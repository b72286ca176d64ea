module Hybrid.Kernel.Tests.LogDetTests

open System
open Expecto
open MathNet.Numerics.LinearAlgebra
open Hybrid.Kernel
open Hybrid.Kernel.Tests.MatCheck

[<Tests>]
let tests =
    testList "Mat.LogDet" [
        for n in [ 1; 2; 4 ] do
            test (sprintf "LogDet (LU) of a %d×%d general matrix (negative determinant included)" n n) {
                checkAll "logdet" (fun x -> Vec.OfReals [| Mat.LogDet(mat x 0 n n) |]) (general (rng n) n) 1
            }
            test (sprintf "LogDetSpd (Cholesky) of a %d×%d SPD matrix" n n) {
                checkAll "logdetspd" (fun x -> Vec.OfReals [| Mat.LogDetSpd(mat x 0 n n) |]) (spd (rng n) n) 2
            }
        test "second order: LogDet(A(x)) with A(x) = X and with A(x) = XᵀX + I (SPD)" {
            let r = rng 3
            checkHessian "logdet X" (fun x -> Mat.LogDet(mat x 0 3 3)) (general r 3) 1e-6
            checkHessian "logdetspd XᵀX + I" (fun x ->
                let m = mat x 0 3 3
                Mat.LogDetSpd(Mat.TransposeTimes(m, m) + Mat(Matrix<float>.Build.DenseIdentity 3))) (randn r 9) 1e-6
        }
        test "values match MathNet" {
            let a = Dense.mat 3 3 (general (rng 9) 3)
            Check.close 1e-13 "log|det A|" (log (abs (a.Determinant()))) (Mat.LogDet(Mat a)).V
            let s = Dense.mat 3 3 (spd (rng 9) 3)
            Check.close 1e-13 "log det S" (s.Cholesky().DeterminantLn) (Mat.LogDetSpd(Mat s)).V
        }
        test "singular and indefinite inputs throw" {
            throwsWith<SingularMatrixException> [ "LogDet: A (2×2) is singular" ] (fun () -> Mat.LogDet(Mat(array2D [ [ 1.0; 2.0 ]; [ 2.0; 4.0 ] ])) |> ignore)
            throwsWith<NotPositiveDefiniteException> [ "LogDetSpd: A (2×2) is not symmetric positive definite" ] (fun () ->
                Mat.LogDetSpd(Mat(array2D [ [ 1.0; 2.0 ]; [ 2.0; 1.0 ] ])) |> ignore)
            throwsWith<ArgumentException> [ "LogDet: A is 2×3" ] (fun () -> Mat.LogDet(Mat(Array2D.zeroCreate 2 3)) |> ignore)
        }
    ]
