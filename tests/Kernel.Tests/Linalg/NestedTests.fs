/// Matrix primitives on nested traces are one node per primitive per level (their rules run on
/// the level below's vectors), not element-by-element scalar graphs.
module Hybrid.Kernel.Tests.NestedTests

open System
open Expecto
open MathNet.Numerics.LinearAlgebra
open Hybrid.Kernel
open Hybrid.Kernel.Tests.MatCheck

/// Nodes on trace t other than inputs.
let private recorded (t: Trace) =
    let mutable c = 0
    for i in 0 .. t.Count - 1 do
        if t.Kinds[i] <> NodeKind.Input then c <- c + 1
    c

/// Grad∘Grad (reverse over reverse) of f: s(x) = Σᵢ ∂f/∂xᵢ and its gradient H·1, with the nodes the
/// inner and the outer trace recorded.
let private gradGrad (f: Vec -> Real) (x: float[]) =
    let mutable inner = 0
    let mutable outer = 0
    let s = Func<Vec, Real>(fun xo ->
        let struct (_, g) =
            Ad.Grad("inner", Func<Vec, Real>(fun xi ->
                let y = f xi
                inner <- recorded Traces.Top
                y), xo)
        outer <- recorded Traces.Top
        Vec.Sum g)
    let struct (_, h1) = Ad.Grad("outer", s, Vec x)
    h1.ToArray(), inner, outer

let private identity n = Mat(Matrix<float>.Build.DenseIdentity n)
let private shifted (x: Vec) n = mat x 0 n n + float n * identity n

/// The matrix functions, each a few primitives whatever n is.
let private functions : (string * (int -> Vec -> Real)) list =
    [ "Σ (A·A)", (fun n x -> let a = mat x 0 n n in Mat.Sum(a * a))
      "b·A⁻¹b", (fun n x -> let b = Vec(Array.init n (fun i -> 1.0 + float i)) in Vec.Dot(b, Mat.Solve(shifted x n, b)))
      "log|det A|", (fun n x -> Mat.LogDet(shifted x n))
      "log det AᵀA + nI", (fun n x -> let a = mat x 0 n n in Mat.LogDetSpd(Mat.TransposeTimes(a, a) + float n * identity n))
      "Σ chol(AᵀA + nI)", (fun n x -> let a = mat x 0 n n in Mat.Sum(Mat.Cholesky(Mat.TransposeTimes(a, a) + float n * identity n)))
      "Σ A⁻¹ ∘ Aᵀ", (fun n x -> let a = shifted x n in Mat.Sum(Mat.PointwiseMultiply(Mat.Inverse a, a.T)))
      "Σ tanh(A·x₀)", (fun n x -> let a = mat x 0 n n in Vec.Sum(Vec.Tanh(a * Vec(Array.create n 0.5)))) ]

[<Tests>]
let tests =
    testList "Nested matrix primitives" [
        for name, f in functions do
            test (sprintf "Grad∘Grad of %s records the same nodes per level at n = 4, 8 and 16" name) {
                let counts =
                    [ for n in [ 4; 8; 16 ] ->
                        let _, inner, outer = gradGrad (f n) (randn (rng n) (n * n) |> Array.map (fun v -> 0.3 * v))
                        inner, outer ]
                let inner0, outer0 = counts[0]
                // element by element these grow as n³ (matrix products and factorisations) or n²
                for (inner, outer), n in List.zip counts [ 4; 8; 16 ] do
                    if inner <> inner0 || outer <> outer0 then
                        failtestf "%s: at n = %d the traces recorded %d (inner) and %d (outer) nodes, at n = 4 %d and %d" name n inner outer inner0 outer0
                Expect.isLessThan inner0 40 "inner nodes"
                Expect.isLessThan outer0 200 "outer nodes"
            }
            test (sprintf "Grad∘Grad of %s equals the second-order tape's H·1 and finite differences" name) {
                let n = 3
                let x = randn (rng 11) (n * n) |> Array.map (fun v -> 0.3 * v)
                let h1, _, _ = gradGrad (f n) x
                let tape = tapeHessian (f n) x
                let expected = Array.init (n * n) (fun i -> Seq.sum (seq { for j in 0 .. n * n - 1 -> tape[i, j] }))
                closeAll 1e-10 (name + ": H·1 nested vs tape") expected h1
                let fd = fdHessian (f n) x
                closeAll 1e-6 (name + ": H·1 nested vs differences") (Array.init (n * n) (fun i -> Seq.sum (seq { for j in 0 .. n * n - 1 -> fd[i, j] }))) h1
            }
        test "a singular matrix throws at every level" {
            let x = Array.zeroCreate 4
            let f (v: Vec) = Mat.LogDet(mat v 0 2 2)
            throwsWith<SingularMatrixException> [ "LogDet: A (2×2) is singular" ] (fun () -> grad f x |> ignore)
            throwsWith<SingularMatrixException> [ "LogDet: A (2×2) is singular" ] (fun () -> gradGrad f x |> ignore)
        }
    ]
