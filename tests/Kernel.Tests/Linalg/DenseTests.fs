module Hybrid.Kernel.Tests.DenseTests

open System
open Expecto
open MathNet.Numerics.LinearAlgebra
open Hybrid.Kernel
open Hybrid.Kernel.Tests.MatCheck

[<Tests>]
let tests =
    testList "Linalg.Dense" [
        test "gemm: z += α·op(x)·op(y) for every transpose combination, against MathNet" {
            let r = rng 1
            for tx in [ false; true ] do
                for ty in [ false; true ] do
                    let m, k, n = 3, 4, 2
                    let x = Matrix<float>.Build.Random((if tx then k else m), (if tx then m else k), 1)
                    let y = Matrix<float>.Build.Random((if ty then n else k), (if ty then k else n), 2)
                    let z0 = randn r (m * n)
                    let z = Array.copy z0
                    Dense.gemm tx (Dense.values x) x.RowCount x.ColumnCount ty (Dense.values y) y.RowCount y.ColumnCount 2.0 z
                    let ox = if tx then x.Transpose() else x
                    let oy = if ty then y.Transpose() else y
                    let expected = Dense.mat m n z0 + 2.0 * ox * oy
                    closeAll 1e-14 (sprintf "gemm %b %b" tx ty) (expected.ToColumnMajorArray()) z
        }
        test "exact reuses exact-size storage and copies views" {
            let a = [| 1.0; 2.0; 3.0 |]
            Expect.isTrue (obj.ReferenceEquals(Dense.exact (Vec a), a)) "whole array"
            Expect.equal (Dense.exact ((Vec a).Slice(1, 2))) [| 2.0; 3.0 |] "view"
        }
        test "lu names the op and shape of a singular matrix" {
            throwsWith<SingularMatrixException> [ "Op: A (2×2) is singular" ] (fun () ->
                Dense.lu "Op" (Matrix<float>.Build.Dense(2, 2)) |> ignore)
        }
    ]
