/// Transforms/Compose.fs: Hessian, Hvp, Jacobian, Linearize and the solvers' second-order point, at
/// the top level (one recording replayed) and nested (composition on nested traces), checked against
/// closed forms, against each other, and — for the derivative of a nested result — against central
/// differences of the top-level result.
module Hybrid.Kernel.Tests.ComposeTests

open System
open Expecto
open Hybrid.Kernel
open Hybrid.Kernel.Tests.Check

let private sfn (f: Vec -> Real) = Func<Vec, Real>(f)
let private vfn (f: Vec -> Vec) = Func<Vec, Vec>(f)

/// A scalar function with non-zero third derivatives, through elementwise maps, slices, a matrix
/// product and a log-determinant (matrix primitives on nested traces).
let private a3 = Mat(array2D [ [ 2.0; 0.3; -0.1 ]; [ 0.3; 1.5; 0.2 ]; [ -0.1; 0.2; 1.8 ] ])
let private scalarF (x: Vec) : Real =
    let head = x[.. x.Length - 2]
    let tail = x[1..]
    Vec.Sum(Vec.Sin head * Vec.Square tail) + Vec.Dot(x, a3 * Vec.Tanh x) + Mat.LogDet(a3 + Mat.Outer(x, x))

/// ℝ³ → ℝ⁴, non-linear in every output.
let private vectorF (x: Vec) : Vec =
    Vec.OfReals [| x[0] * x[1]; Real.Sin(x[2]) + x[0] * x[0]; Real.Exp(x[1] * x[2]); x[0] * x[1] * x[2] |]

/// ℝⁿ → ℝᵐ with n = 20 > the forward chunk (16), m = 19.
let private wideF (x: Vec) : Vec = Vec.Exp(x[.. x.Length - 2] * 0.5) * x[1..] + Vec.Sin(x[1..])

let private x3 = [| 0.4; -0.7; 1.1 |]
let private wideX = Array.init 20 (fun i -> 0.1 * float i - 0.9)

let private nearArr tol what (expected: float[]) (actual: float[]) =
    Expect.equal actual.Length expected.Length (what + ": length")
    for i in 0 .. expected.Length - 1 do close tol (sprintf "%s[%d]" what i) expected[i] actual[i]

let private nearMat tol what (expected: float[,]) (actual: float[,]) =
    Expect.equal (Array2D.length1 actual, Array2D.length2 actual) (Array2D.length1 expected, Array2D.length2 expected) (what + ": shape")
    for i in 0 .. Array2D.length1 expected - 1 do
        for j in 0 .. Array2D.length2 expected - 1 do close tol (sprintf "%s[%d,%d]" what i j) expected[i, j] actual[i, j]

/// Central difference of a matrix-valued function of x along coordinate k.
let private fdMat (f: float[] -> float[,]) (x: float[]) (k: int) =
    let h = 1e-5
    let xp = Array.copy x
    let xm = Array.copy x
    xp[k] <- xp[k] + h
    xm[k] <- xm[k] - h
    let p = f xp
    let m = f xm
    Array2D.init (Array2D.length1 p) (Array2D.length2 p) (fun i j -> (p[i, j] - m[i, j]) / (2.0 * h))

/// The top-level Hessian of scalarF, in doubles.
let private hessianTop (x: float[]) = (Compose.Hessian("test", sfn scalarF, Vec x)).ToArray()

/// The gradient of g(x) = Σᵢⱼ W[i,j]·M(x)[i,j] for a matrix-valued M computed by a nested transform.
let private gradOfContraction (w: float[,]) (m: Vec -> Mat) (x: float[]) =
    let wm = Mat w
    let struct (_, g) = Ad.Grad("outer", sfn (fun v -> Mat.Dot(wm, m v)), Vec x)
    g.ToArray()

/// The same contraction's gradient by central differences of a top-level matrix function.
let private fdContraction (w: float[,]) (m: float[] -> float[,]) (x: float[]) =
    Array.init x.Length (fun k ->
        let d = fdMat m x k
        let mutable s = 0.0
        for i in 0 .. Array2D.length1 d - 1 do
            for j in 0 .. Array2D.length2 d - 1 do s <- s + w[i, j] * d[i, j]
        s)

let private weights r c = Array2D.init r c (fun i j -> 0.3 + 0.1 * float i - 0.2 * float j)

let private ways = [ JacobianWay.Forward; JacobianWay.Reverse; JacobianWay.ByShape ]

[<Tests>]
let tests =
    testList "Compose" [
        test "Hessian at the top level equals the Rosenbrock closed form and is symmetric" {
            let x = [| -1.2; 1.0; 0.5; 2.0; -0.3 |]
            let h = (Compose.Hessian("test", sfn AdTests.rosenbrockSliced, Vec x)).ToArray()
            nearMat 1e-12 "H" (AdTests.rosenbrockHessian x) h
            for i in 0 .. 4 do
                for j in 0 .. 4 do Expect.equal h[i, j] h[j, i] (sprintf "H[%d,%d] = H[%d,%d] exactly" i j j i)
        }
        test "Hessian of a traced x (inside a transform) equals the top-level Hessian" {
            let top = hessianTop x3
            let mutable nested = null
            let struct (_, _) =
                Ad.Grad("outer", sfn (fun v ->
                    let h = Compose.Hessian("test", sfn scalarF, v)
                    Expect.isFalse h.IsConstant "the nested Hessian belongs to the outer trace"
                    nested <- Array2D.init 3 3 (fun i j -> h[i, j].Value)
                    Mat.Sum h), Vec x3)
            nearMat 1e-12 "nested H" top nested
        }
        test "Hessian inside Grad: ∇ Σ W∘H(x) equals central differences of the top-level Hessian (third derivatives)" {
            let w = weights 3 3
            let g = gradOfContraction w (fun v -> Compose.Hessian("test", sfn scalarF, v)) x3
            nearArr 1e-6 "∇⟨W, H⟩" (fdContraction w hessianTop x3) g
            Expect.isTrue (g |> Array.exists (fun d -> abs d > 0.1)) "third derivatives are not all zero"
        }
        test "Hessian inside a Jvp: the tangent is the directional derivative of H" {
            let v = [| 0.3; -0.5; 0.8 |]
            let struct (_, t) = Ad.Jvp("outer", vfn (fun u -> (Compose.Hessian("test", sfn scalarF, u)).Data), Vec x3, Vec v)
            let h = 1e-5
            let p = hessianTop (Array.map2 (fun a b -> a + h * b) x3 v)
            let m = hessianTop (Array.map2 (fun a b -> a - h * b) x3 v)
            let expected = Array.init 9 (fun k -> (p[k % 3, k / 3] - m[k % 3, k / 3]) / (2.0 * h))
            nearArr 1e-6 "dH·v" expected (t.ToArray())
        }
        test "Hessian at a constant x inside an unrelated transform composes (JacFwd∘Grad) to the same numbers" {
            let top = hessianTop x3
            let mutable inner = null
            let struct (_, _) =
                Ad.Grad("unrelated", sfn (fun y ->
                    inner <- (Compose.Hessian("test", sfn scalarF, Vec x3)).ToArray()
                    y[0]), Vec [| 1.0 |])
            nearMat 1e-12 "H at depth 1" top inner
        }
        test "Hvp at the top level is H·v; with a traced v its gradient in v is H·u" {
            let v = [| 0.3; -0.5; 0.8 |]
            let u = [| 1.0; 2.0; -1.0 |]
            let h = hessianTop x3
            let hv = Array.init 3 (fun i -> Array.init 3 (fun j -> h[i, j] * v[j]) |> Array.sum)
            nearArr 1e-12 "Hv" hv ((Compose.Hvp("test", sfn scalarF, Vec x3, Vec v)).ToArray())
            let struct (_, g) = Ad.Grad("outer", sfn (fun vt -> Vec.Dot(Vec u, Compose.Hvp("test", sfn scalarF, Vec x3, vt))), Vec v)
            let hu = Array.init 3 (fun i -> Array.init 3 (fun j -> h[i, j] * u[j]) |> Array.sum)
            nearArr 1e-12 "∇ᵥ uᵀHv = Hu" hu (g.ToArray())
        }
        test "Hvp inside Grad in x: ∇ uᵀH(x)v equals central differences of the top-level Hessian" {
            let v = [| 0.3; -0.5; 0.8 |]
            let u = [| 1.0; 2.0; -1.0 |]
            let struct (_, g) = Ad.Grad("outer", sfn (fun xt -> Vec.Dot(Vec u, Compose.Hvp("test", sfn scalarF, xt, Vec v))), Vec x3)
            let w = Array2D.init 3 3 (fun i j -> u[i] * v[j])
            nearArr 1e-6 "∇ uᵀHv" (fdContraction w hessianTop x3) (g.ToArray())
        }
        test "the mode decision: one evaluation of f at the top level, a pass per direction when nested" {
            let mutable calls = 0
            let countedV = vfn (fun v -> calls <- calls + 1; wideF v)
            let countedS = sfn (fun v -> calls <- calls + 1; scalarF v)
            let count (run: unit -> unit) =
                calls <- 0
                run ()
                calls
            let nested (run: Vec -> unit) (x: float[]) =
                count (fun () -> Ad.Grad("outer", sfn (fun v -> run v; v[0]), Vec x) |> ignore)
            Expect.equal (count (fun () -> Compose.Jacobian("t", countedV, Vec wideX, JacobianWay.Forward) |> ignore)) 1 "top-level JacFwd: one recording"
            Expect.equal (nested (fun v -> Compose.Jacobian("t", countedV, v, JacobianWay.Forward) |> ignore) wideX) 20 "nested JacFwd: n Jvp passes"
            Expect.equal (nested (fun v -> Compose.Jacobian("t", countedV, v, JacobianWay.Reverse) |> ignore) wideX) 1 "nested JacRev: one recording"
            Expect.equal (count (fun () -> Compose.Hessian("t", countedS, Vec x3) |> ignore)) 1 "top-level Hessian: one second-order tape"
            Expect.equal (nested (fun v -> Compose.Hessian("t", countedS, v) |> ignore) x3) 3 "nested Hessian: JacFwd∘Grad, n passes"
            Expect.equal (count (fun () -> Compose.Hvp("t", countedS, Vec x3, Vec x3) |> ignore)) 1 "top-level Hvp"
            Expect.equal (count (fun () -> (Compose.Linearize("t", countedV, Vec wideX)).Apply(Vec wideX) |> ignore)) 1 "top-level Linearize: replays"
            Expect.equal (nested (fun v -> (Compose.Linearize("t", countedV, v)).Apply(v) |> ignore) wideX) 2 "nested Linearize: f, then a Jvp pass"
        }
        test "Jacobian: forward = reverse = by shape = closed form at the top level" {
            let x = x3
            let expected =
                array2D [ [ x[1]; x[0]; 0.0 ]
                          [ 2.0 * x[0]; 0.0; cos x[2] ]
                          [ 0.0; x[2] * exp (x[1] * x[2]); x[1] * exp (x[1] * x[2]) ]
                          [ x[1] * x[2]; x[0] * x[2]; x[0] * x[1] ] ]
            for way in ways do
                nearMat 1e-12 (sprintf "J %A" way) expected ((Compose.Jacobian("test", vfn vectorF, Vec x, way)).ToArray())
        }
        test "Jacobian of n = 20 > one forward chunk: forward replays = reverse sweeps = Jvp passes" {
            let rev = (Compose.Jacobian("test", vfn wideF, Vec wideX, JacobianWay.Reverse)).ToArray()
            Expect.equal (Array2D.length1 rev, Array2D.length2 rev) (19, 20) "shape"
            nearMat 1e-13 "forward (chunked replay)" rev ((Compose.Jacobian("test", vfn wideF, Vec wideX, JacobianWay.Forward)).ToArray())
            nearMat 1e-13 "by shape (m < n: reverse)" rev ((Compose.Jacobian("test", vfn wideF, Vec wideX, JacobianWay.ByShape)).ToArray())
            let columns = Array.init 20 (fun j ->
                let e = Array.init 20 (fun i -> if i = j then 1.0 else 0.0)
                let struct (_, t) = Ad.Jvp("test", vfn wideF, Vec wideX, Vec e)
                t.ToArray())
            nearMat 1e-13 "Jvp columns" (Array2D.init 19 20 (fun i j -> columns[j][i])) rev
        }
        test "Jacobian nested: every way gives the same ∇ Σ W∘J(x), equal to central differences" {
            let w = weights 4 3
            let top (x: float[]) = (Compose.Jacobian("test", vfn vectorF, Vec x, JacobianWay.Reverse)).ToArray()
            let expected = fdContraction w top x3
            for way in ways do
                let g = gradOfContraction w (fun v -> Compose.Jacobian("test", vfn vectorF, v, way)) x3
                nearArr 1e-7 (sprintf "∇⟨W, J⟩ %A" way) expected g
        }
        test "Jacobian of a function with no outputs is 0×n" {
            for way in ways do
                let j = Compose.Jacobian("test", vfn (fun _ -> Vec(Array.empty<float>)), Vec x3, way)
                Expect.equal (j.Rows, j.Cols) (0, 3) (sprintf "shape %A" way)
        }
        test "Linearize at the top level replays one recording (J·v), and throws once disposed" {
            let lin = Compose.Linearize("Lin", vfn vectorF, Vec x3)
            nearArr 0.0 "output" ((vectorF (Vec x3)).ToArray()) (lin.Output.ToArray())
            let j = (Compose.Jacobian("test", vfn vectorF, Vec x3, JacobianWay.Reverse)).ToArray()
            for v in [ [| 1.0; 0.0; 0.0 |]; [| 0.3; -0.5; 0.8 |] ] do
                let jv = Array.init 4 (fun i -> Array.init 3 (fun k -> j[i, k] * v[k]) |> Array.sum)
                nearArr 1e-12 "J·v" jv ((lin.Apply(Vec v)).ToArray())
            (lin :> IDisposable).Dispose()
            Expect.throwsT<ObjectDisposedException> (fun () -> lin.Apply(Vec [| 1.0; 0.0; 0.0 |]) |> ignore) "a disposed recording throws"
        }
        test "Linearize nested: ∇ₓ uᵀJ(x)v equals central differences of the top-level Jacobian" {
            let v = [| 0.3; -0.5; 0.8 |]
            let u = [| 1.0; 2.0; -1.0; 0.5 |]
            let struct (_, g) =
                Ad.Grad("outer", sfn (fun xt ->
                    use lin = Compose.Linearize("Lin", vfn vectorF, xt)
                    Vec.Dot(Vec u, lin.Apply(Vec v))), Vec x3)
            let top (x: float[]) = (Compose.Jacobian("test", vfn vectorF, Vec x, JacobianWay.Reverse)).ToArray()
            let w = Array2D.init 4 3 (fun i k -> u[i] * v[k])
            nearArr 1e-7 "∇ uᵀJv" (fdContraction w top x3) (g.ToArray())
        }
        test "SecondOrderAt: the top-level tape and the nested composition give the same value, gradient, Hessian and Hvp" {
            let v = [| 0.3; -0.5; 0.8 |]
            let check (p: SecondOrder) (what: string) =
                close 1e-14 (what + " value") (scalarF (Vec x3)).Value p.Value
                let struct (_, g) = Ad.Grad("test", sfn scalarF, Vec x3)
                nearArr 1e-13 (what + " gradient") (g.ToArray()) p.Gradient
                let h = hessianTop x3
                nearMat 1e-12 (what + " Hessian") h (p.Hessian())
                nearArr 1e-12 (what + " Hvp") (Array.init 3 (fun i -> Array.init 3 (fun j -> h[i, j] * v[j]) |> Array.sum)) (p.Hvp v)
            let top = Compose.SecondOrderAt("test", sfn scalarF, Vec x3)
            check top "top level"
            top.Release()
            let struct (_, _) =
                Ad.Grad("unrelated", sfn (fun y ->
                    let p = Compose.SecondOrderAt("test", sfn scalarF, Vec x3)
                    check p "nested"
                    p.Release()
                    y[0]), Vec [| 1.0 |])
            ()
        }
        test "SecondOrderAt: a released top-level tape refuses further Hvps" {
            let p = Compose.SecondOrderAt("test", sfn scalarF, Vec x3)
            p.Release()
            Expect.throwsT<InvalidOperationException> (fun () -> p.Hvp [| 1.0; 0.0; 0.0 |] |> ignore) "released"
        }
    ]

// ------------------------------------------------------ second-order replays: passes per block

/// The dgemm calls and traces opened on this thread while `run` runs.
let private passes (run: unit -> 'a) : 'a * int * int =
    let g0, t0 = GemmCount.Calls, Traces.Opened
    let r = run ()
    r, GemmCount.Calls - g0, Traces.Opened - t0

/// The n×k unit directions e_first .. e_(first+k−1), column-major.
let private units (n: int) (first: int) (k: int) =
    let e = Array.zeroCreate (n * k)
    for j in 0 .. k - 1 do e[first + j + j * n] <- 1.0
    e

/// Logistic regression's negative log-likelihood with a ridge term: X·w one product, two dots.
let private logisticN, logisticD, lambda = 40, 6, 0.3
let private logisticX =
    let r = Random 7
    Array.init (logisticN * logisticD) (fun _ -> r.NextDouble() - 0.5)
let private labels = Array.init logisticN (fun i -> if i % 3 = 0 then 1.0 else 0.0)
let private logistic (w: Vec) : Real =
    let z = Mat(Vec logisticX, logisticN, logisticD) * w
    Vec.Sum(Vec.LogP1(Vec.Exp z)) - Vec.Dot(Vec labels, z) + 0.5 * lambda * Vec.Dot(w, w)

/// A function whose replay meets Solve, LogDet, Cholesky and a product of two traced factors.
let private b4 = Mat(array2D [ [ 3.0; 0.2; 0.1; 0.0 ]; [ 0.2; 2.5; -0.3; 0.1 ]; [ 0.1; -0.3; 2.0; 0.2 ]; [ 0.0; 0.1; 0.2; 1.7 ] ])
let private linalgF (x: Vec) : Real =
    let a = b4 + Mat.Outer(x, Vec.Sin x)
    Vec.Dot(x, Mat.Solve(a, Vec.Exp x)) + Mat.LogDet(a) + Mat.Sum(Mat.Cholesky(b4 + Mat.Outer(x, x)) * a)

[<Tests>]
let passTests =
    testList "Compose.second-order replays derived batched" [
        test "a Hessian block of the logistic NLL takes as many dgemm calls for 6 directions as for 1, and equals XᵀDX + λI" {
            let n, d = logisticN, logisticD
            let w = [| 0.3; -0.2; 0.5; 0.1; -0.4; 0.2 |]
            let tape = Ad.RecordSecondOrder("Hessian", sfn logistic, Vec w)
            try
                let _, gemm1, traces1 = passes (fun () -> tape.HvpBlock(units d 0 1, 1))
                let h, gemm6, traces6 = passes (fun () -> tape.HvpBlock(units d 0 d, d))
                // forward: X·Ẇ (one dgemm); second order: the vjp rule Xᵀ·ȳ recorded once (its value)
                // and replayed with the k tangents of ȳ (one dgemm)
                Expect.equal gemm1 3 "dgemm calls for one direction"
                Expect.equal gemm6 gemm1 "dgemm calls for six directions (one per direction would be 13)"
                Expect.equal traces6 traces1 "traces opened for six directions (the rules' tapes: one per node)"
                // XᵀDX + λI with D = σ(1 − σ) at z = Xw
                let at (i: int) (j: int) = logisticX[i + j * n]
                let dd = Array.init n (fun i ->
                    let z = Seq.sum (seq { for j in 0 .. d - 1 -> at i j * w[j] })
                    let s = 1.0 / (1.0 + exp -z)
                    s * (1.0 - s))
                for p in 0 .. d - 1 do
                    for q in 0 .. d - 1 do
                        let expected = Seq.sum (seq { for i in 0 .. n - 1 -> at i p * dd[i] * at i q }) + (if p = q then lambda else 0.0)
                        close 1e-12 (sprintf "H[%d,%d]" p q) expected h[p + q * d]
            finally
                tape.Release()
        }
        test "a Hessian block through Solve, LogDet and Cholesky opens the same traces for 4 directions as for 2 and matches central differences" {
            let x = [| 0.3; -0.5; 0.2; 0.4 |]
            let n = x.Length
            let tape = Ad.RecordSecondOrder("Hessian", sfn linalgF, Vec x)
            try
                let _, gemm1, _ = passes (fun () -> tape.HvpBlock(units n 0 1, 1))
                let _, _, traces2 = passes (fun () -> tape.HvpBlock(units n 0 2, 2))
                let h, gemm4, traces4 = passes (fun () -> tape.HvpBlock(units n 0 n, n))
                // each of Solve, LogDet, Cholesky and the products derives its tangent and its
                // second-order rule from one tape of its jvp and of its vjp rule per block (one
                // direction is one evaluation on doubles, no tape); one direction at a time would
                // open k× the traces
                Expect.isGreaterThan traces2 0 "the derived rules record their tapes"
                Expect.equal traces4 traces2 "traces opened for four directions"
                // the products inside the rules push the directions of the block together where
                // GemmOp's layout allows (a tangent on a non-transposed left factor or on a vector
                // right factor), else one dgemm per direction
                Expect.isLessThan gemm4 (3 * gemm1) "dgemm calls for four directions (less than three times one direction's)"
                let grad (v: float[]) = let struct (_, g) = Ad.Grad("Grad", sfn linalgF, Vec v) in g.ToArray()
                let hh = 1e-5
                for j in 0 .. n - 1 do
                    let xp = Array.copy x
                    let xm = Array.copy x
                    xp[j] <- xp[j] + hh
                    xm[j] <- xm[j] - hh
                    let gp, gm = grad xp, grad xm
                    for i in 0 .. n - 1 do close 1e-6 (sprintf "H[%d,%d]" i j) ((gp[i] - gm[i]) / (2.0 * hh)) h[i + j * n]
                    // and each column equals a one-direction replay
                    let col = tape.Hvp(units n j 1)
                    for i in 0 .. n - 1 do close 1e-12 (sprintf "H[%d,%d] one direction" i j) col[i] h[i + j * n]
            finally
                tape.Release()
        }
        test "a Hessian block evaluates each Solve, Inverse, Cholesky and LogDet node's jvp rule once, for any number of directions, and equals one-direction replays" {
            let x = [| 0.3; -0.5; 0.2; 0.4 |]
            let n = x.Length
            let a (x: Vec) = b4 + Mat.Outer(x, Vec.Sin x)
            let cases : (string * (Vec -> Real)) list =
                [ "Solve", (fun x -> Vec.Dot(x, Mat.Solve(a x, Vec.Exp x)))
                  "Inverse", (fun x -> Mat.Sum(Mat.Inverse(a x) * a x * a x))
                  "Cholesky", (fun x -> Mat.Sum(Mat.Cholesky(b4 + Mat.Outer(x, x)) * a x))
                  "LogDet", (fun x -> Mat.LogDet(a x) * Vec.Sum x) ]
            for name, f in cases do
                let tape = Ad.RecordSecondOrder("Hessian", sfn f, Vec x)
                try
                    let runs (k: int) =
                        let r0 = PrimNode.JvpRuns
                        let h = tape.HvpBlock(units n 0 k, k)
                        h, PrimNode.JvpRuns - r0
                    let _, r1 = runs 1
                    let _, r2 = runs 2
                    let h, r4 = runs n
                    // one direction at a time would evaluate each rule k times (r4 = 4·r1)
                    Expect.isGreaterThan r1 0 (name + ": the block evaluates jvp rules")
                    Expect.equal r2 r1 (name + ": jvp rules evaluated for two directions")
                    Expect.equal r4 r1 (name + ": jvp rules evaluated for four directions")
                    for j in 0 .. n - 1 do
                        let col = tape.Hvp(units n j 1)
                        for i in 0 .. n - 1 do close 1e-12 (sprintf "%s: H[%d,%d] vs one direction" name i j) col[i] h[i + j * n]
                finally
                    tape.Release()
        }
    ]

