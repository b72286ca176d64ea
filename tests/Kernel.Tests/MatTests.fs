module Hybrid.Kernel.Tests.MatTests

open System
open Expecto
open MathNet.Numerics.LinearAlgebra
open Hybrid.Kernel
open Hybrid.Kernel.Tests.MatCheck

/// The two-layer tanh network's loss ½‖W₂ tanh(W₁X + b₁1ᵀ) + b₂1ᵀ − Y‖², parameters packed in p.
let d, h, o, nSamples = 3, 4, 2, 5
let xs = Mat(Matrix<float>.Build.Random(d, nSamples, 21))
let ys = Mat(Matrix<float>.Build.Random(o, nSamples, 22))
let ones = Vec(Array.create nSamples 1.0)
let netLoss (p: Vec) =
    let w1 = mat p 0 h d
    let b1 = p.Slice(h * d, h)
    let w2 = mat p (h * d + h) o h
    let b2 = p.Slice(h * d + h + o * h, o)
    let hidden = Mat.Tanh(w1 * xs + Mat.Outer(b1, ones))
    let r = w2 * hidden + Mat.Outer(b2, ones) - ys
    0.5 * Mat.Sum(Mat.Square r)
let netParams = h * d + h + o * h + o

[<Tests>]
let tests =
    testList "Mat" [
        test "elementwise arithmetic and rule-table maps over Data" {
            let x = randn (rng 1) 12
            checkAll "A + B" (fun x -> (mat x 0 2 3 + mat x 6 2 3).Data) x 1
            checkAll "A − B" (fun x -> (mat x 0 2 3 - mat x 6 2 3).Data) x 2
            checkAll "A ∘ B" (fun x -> (Mat.PointwiseMultiply(mat x 0 2 3, mat x 6 2 3)).Data) x 3
            checkAll "A ⊘ exp B" (fun x -> (Mat.PointwiseDivide(mat x 0 2 3, Mat.Exp(mat x 6 2 3))).Data) x 4
            checkAll "tanh, sin, square" (fun x -> (Mat.Tanh(mat x 0 2 3) + Mat.Sin(mat x 6 2 3) * x[0] + Mat.Square(mat x 0 2 3)).Data) x 5
            checkAll "s·A − 2" (fun x -> (x[11] * mat x 0 3 3 - 2.0).Data) x 6
        }
        test "Hessian of a two-layer tanh network's loss: tape and nested against finite differences" {
            checkHessian "net" netLoss (randn (rng 2) netParams) 1e-6
        }
        test "gradient of the network loss against central differences" {
            let p = randn (rng 3) netParams
            let _, g = grad netLoss p
            for i in 0 .. netParams - 1 do
                let e k = let q = Array.copy p in q[i] <- q[i] + k; (netLoss (Vec q)).V
                Check.close 1e-7 (sprintf "∂loss/∂p[%d]" i) (Check.fd e 0.0) g[i]
        }
        test "every primitive is one tape node on a bottom-level trace" {
            let s = spd (rng 4) 3
            let cases : (string * (Mat -> Vec -> obj)) list =
                [ "A·B", (fun a _ -> box (a * a))
                  "AᵀB", (fun a _ -> box (Mat.TransposeTimes(a, a)))
                  "A·x", (fun a v -> box (a * v))
                  "xᵀA", (fun a v -> box (v * a))
                  "x·yᵀ", (fun _ v -> box (Mat.Outer(v, v)))
                  "Aᵀ", (fun a _ -> box a.T)
                  "SumRows", (fun a _ -> box (Mat.SumRows a))
                  "SumCols", (fun a _ -> box (Mat.SumCols a))
                  "Sum", (fun a _ -> box (Mat.Sum a))
                  "Dot", (fun a _ -> box (Mat.Dot(a, a)))
                  "Trace", (fun a _ -> box (Mat.Trace a))
                  "Diag", (fun a _ -> box (Mat.Diag a))
                  "Diag build", (fun _ v -> box (Mat.Diag v))
                  "A + B", (fun a _ -> box (a + a))
                  "tanh A", (fun a _ -> box (Mat.Tanh a))
                  "Solve vector", (fun a v -> box (Mat.Solve(a, v)))
                  "Solve matrix", (fun a _ -> box (Mat.Solve(a, a)))
                  "Inverse", (fun a _ -> box (Mat.Inverse a))
                  "Cholesky", (fun a _ -> box (Mat.Cholesky a))
                  "LogDet", (fun a _ -> box (Mat.LogDet a))
                  "LogDetSpd", (fun a _ -> box (Mat.LogDetSpd a)) ]
            for name, f in cases do
                let x = Array.append s [| 1.0; 2.0; 3.0 |]
                grad (fun x ->
                    let a = mat x 0 3 3
                    let v = x.Slice(9, 3)
                    let t = Traces.Top
                    let before = t.Count
                    f a v |> ignore
                    Expect.equal (t.Count - before) 1 (sprintf "nodes recorded by %s" name)
                    x[0]) x |> ignore
        }
        test "Wrap uses a dense matrix's storage without copying" {
            let m = Matrix<float>.Build.Dense(2, 2, [| 1.0; 2.0; 3.0; 4.0 |])
            let w = Mat.Wrap m
            Expect.isTrue (obj.ReferenceEquals(w.Data.Arr, m.AsColumnMajorArray())) "same array"
            let c : Mat = Mat.op_Implicit m
            Expect.isTrue (obj.ReferenceEquals(c.Data.Arr, m.AsColumnMajorArray())) "implicit conversion: same array"
        }
        test "constants mix in: only the differentiable side gets an adjoint" {
            let c = Mat.Wrap(Matrix<float>.Build.Dense(2, 2, [| 1.0; 2.0; 3.0; 4.0 |]))
            let _, g = grad (fun x -> Mat.Sum(c * Mat(x, 2, 2))) [| 1.0; 0.0; 0.0; 1.0 |]
            // ∂/∂Bₖⱼ Σᵢⱼ (CB)ᵢⱼ = Σᵢ Cᵢₖ
            closeAll 1e-15 "grad" [| 3.0; 7.0; 3.0; 7.0 |] g
        }
        test "elementwise shapes must match" {
            throwsWith<ArgumentException> [ "+: A is 2×3 but B is 3×2" ] (fun () -> Mat(Array2D.zeroCreate 2 3) + Mat(Array2D.zeroCreate 3 2) |> ignore)
            throwsWith<ArgumentException> [ "Dot: A is 2×3 but B is 3×2" ] (fun () -> Mat.Dot(Mat(Array2D.zeroCreate 2 3), Mat(Array2D.zeroCreate 3 2)) |> ignore)
        }
    ]
