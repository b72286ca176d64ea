module Hybrid.Kernel.Tests.LinearTests

open System
open Expecto
open Hybrid.Kernel
open Hybrid.Kernel.Tests.MatCheck

let shapes = [ 1, 1; 2, 3; 3, 2; 3, 3 ]

/// y ∘ y after the linear map, so the second-order rule meets a nonzero adjoint tangent.
let squared (f: Vec -> Vec) (x: Vec) = let y = f x in y * y

[<Tests>]
let tests =
    testList "Mat.Linear" [
        for (r, c) in shapes do
            let x = randn (rng (10 * r + c)) (r * c)
            let a (x: Vec) = mat x 0 r c
            test (sprintf "Transpose, SumRows, SumCols, Diag on %d×%d" r c) {
                checkAll "Aᵀ" (squared (fun x -> (a x).T.Data)) x 1
                checkAll "SumRows" (squared (fun x -> Mat.SumRows(a x))) x 2
                checkAll "SumCols" (squared (fun x -> Mat.SumCols(a x))) x 3
                checkAll "Diag" (squared (fun x -> Mat.Diag(a x))) x 4
                checkAll "Sum" (squared (fun x -> Vec.OfReals [| Mat.Sum(a x) |])) x 5
                checkAll "Dot" (fun x -> Vec.OfReals [| Mat.Dot(a x, Mat.Exp(a x)) |]) x 6
            }
        test "Aᵀ values and SumRows/SumCols values" {
            let m = Mat(array2D [ [ 1.0; 2.0; 3.0 ]; [ 4.0; 5.0; 6.0 ] ])
            Expect.equal (m.T.ToArray()) (array2D [ [ 1.0; 4.0 ]; [ 2.0; 5.0 ]; [ 3.0; 6.0 ] ]) "Aᵀ"
            Expect.equal ((Mat.SumRows m).ToArray()) [| 6.0; 15.0 |] "row sums"
            Expect.equal ((Mat.SumCols m).ToArray()) [| 5.0; 7.0; 9.0 |] "column sums"
            Expect.equal ((Mat.Diag m).ToArray()) [| 1.0; 5.0 |] "diagonal"
        }
        test "Trace and Diag (build) on 1×1 and 3×3" {
            for n in [ 1; 3 ] do
                let x = randn (rng n) (n * n)
                checkAll "Trace" (fun x -> let s = Mat.Trace(mat x 0 n n) in Vec.OfReals [| s * s |]) x 7
                checkAll "Diag build" (fun x -> (Mat.Diag(x.Slice(0, n)) * mat x 0 n n).Data) x 8
        }
        test "Trace needs a square matrix" {
            throwsWith<ArgumentException> [ "Trace: A is 2×3" ] (fun () -> Mat.Trace(Mat(Array2D.zeroCreate 2 3)) |> ignore)
        }
    ]
