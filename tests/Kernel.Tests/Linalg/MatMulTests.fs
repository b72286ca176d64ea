module Hybrid.Kernel.Tests.MatMulTests

open System
open Expecto
open MathNet.Numerics.LinearAlgebra
open Hybrid.Kernel
open Hybrid.Kernel.Tests.MatCheck

let shapes = [ 1, 1, 1; 2, 3, 4; 3, 1, 2; 4, 2, 1; 1, 3, 2 ]

[<Tests>]
let tests =
    testList "Mat.MatMul" [
        for (m, k, n) in shapes do
            let name = sprintf "%d×%d·%d×%d" m k k n
            let x = randn (rng (m * 100 + k * 10 + n)) (m * k + k * n)
            test (sprintf "A·B %s: jvp, vjp and Hessians" name) {
                checkAll "A·B" (fun x -> (mat x 0 m k * mat x (m * k) k n).Data) x 1
            }
            test (sprintf "AᵀB and ABᵀ %s" name) {
                checkAll "AᵀB" (fun x -> (Mat.TransposeTimes(mat x 0 k m, mat x (m * k) k n)).Data) x 2
                checkAll "ABᵀ" (fun x -> (Mat.TimesTranspose(mat x 0 m k, mat x (m * k) n k)).Data) x 3
            }
            test (sprintf "constant sides %s: A·C and C·B" name) {
                let c = Mat(Matrix<float>.Build.Random(k, n, 7))
                let d = Mat(Matrix<float>.Build.Random(m, k, 8))
                checkAll "A·C" (fun x -> (mat x 0 m k * c).Data) x 4
                checkAll "D·B" (fun x -> (d * mat x (m * k) k n).Data) x 5
            }
            test (sprintf "A·x, xᵀA and x·yᵀ %s" name) {
                checkAll "A·x" (fun x -> mat x 0 m k * x.Slice(m * k, k)) x 6
                checkAll "xᵀA" (fun x -> x.Slice(m * k, m) * mat x 0 m k) (Array.append x (randn (rng 1) m)) 7
                checkAll "x·yᵀ" (fun x -> (Mat.Outer(x.Slice(0, m), x.Slice(m, n))).Data) (Array.sub x 0 (m + n)) 8
            }
        test "A·A (the same operand twice) and A·(A·A)" {
            let x = randn (rng 3) 9
            checkAll "A·A" (fun x -> let a = mat x 0 3 3 in (a * a).Data) x 9
            checkAll "A·A·A" (fun x -> let a = mat x 0 3 3 in (a * (a * a)).Data) x 10
        }
        test "the value matches MathNet" {
            let a = Matrix<float>.Build.Random(3, 4, 1)
            let b = Matrix<float>.Build.Random(4, 2, 2)
            let c = (Mat a * Mat b).ToMatrix()
            Expect.isTrue ((c - a * b).FrobeniusNorm() < 1e-14) "A·B"
        }
        test "one tape node per product" {
            let x = randn (rng 4) 8
            grad (fun x ->
                let t = Traces.Top
                let before = t.Count
                let c = mat x 0 2 2 * mat x 4 2 2
                Expect.equal (t.Count - before) 1 "nodes recorded by A·B"
                Mat.Sum c) x |> ignore
        }
        test "inner dimensions must match" {
            throwsWith<ArgumentException> [ "MatMul: A is 3×4 but B is 5×2; inner dimensions must match" ] (fun () ->
                Mat(Matrix<float>.Build.Dense(3, 4)) * Mat(Matrix<float>.Build.Dense(5, 2)) |> ignore)
            throwsWith<ArgumentException> [ "MatVec: A is 3×4 but x has length 3" ] (fun () ->
                Mat(Matrix<float>.Build.Dense(3, 4)) * Vec(Array.zeroCreate 3) |> ignore)
            throwsWith<ArgumentException> [ "TransposeTimes: Aᵀ is 4×3 but B is 2×2" ] (fun () ->
                Mat.TransposeTimes(Mat(Matrix<float>.Build.Dense(3, 4)), Mat(Matrix<float>.Build.Dense(2, 2))) |> ignore)
        }
        testProperty "random shapes: ⟨u, J·v⟩ = ⟨Jᵀu, v⟩ and jvp = central differences" (fun (a: byte) (b: byte) (c: byte) ->
            let m, k, n = int a % 4 + 1, int b % 4 + 1, int c % 4 + 1
            let x = randn (rng (int a + 7 * int b + 49 * int c)) (m * k + k * n)
            checkFirst "A·B" (fun x -> (mat x 0 m k * mat x (m * k) k n).Data) x (int a))
    ]
