/// Custom rules and Fn.Compile from F# (customJvp, customVjp, customVjpReal, compile, compileVec and
/// their Scalar forms) against closed forms and the eager transforms.
module Hybrid.FSharp.Tests.CustomAndCompileTests

open System
open Expecto
open Hybrid
open Hybrid.FSharp
open Hybrid.FSharp.Tests.Check

/// softplus log(1 + eˣ), computed stably in doubles; its derivative is σ(x).
let softplusValue (x: float) = if x > 0.0 then x + Math.Log(1.0 + Math.Exp(-x)) else Math.Log(1.0 + Math.Exp x)
let sigmoid (x: float) = 1.0 / (1.0 + Math.Exp(-x))
let softplus =
    Scalar.customJvp (fun x -> real (softplusValue x.Value)) (fun x xd -> xd / (1.0 + exp (-x)))

/// Rosenbrock as a scalar loop (compiled as IL) and with slices.
let rosenLoop (x: Vec) =
    let mutable s = real 0.0
    for i in 0 .. x.Length - 2 do
        s <- s + 100.0 * (x[i + 1] - x[i] * x[i]) * (x[i + 1] - x[i] * x[i]) + (1.0 - x[i]) * (1.0 - x[i])
    s

[<Tests>]
let tests =
    testList "Hybrid.FSharp custom rules and compile" [
        test "Scalar.customJvp: softplus' = σ in both modes, f'' = σ(1 − σ), and at x = 800 (where log(1 + eˣ) overflows)" {
            for x in [ -3.0; 0.0; 0.7; 800.0 ] do
                close 1e-15 (sprintf "softplus(%g)" x) (softplusValue x) (Scalar.jvp softplus x 1.0 |> fst)
                close 1e-15 (sprintf "jvp at %g" x) (sigmoid x) (Scalar.jvp softplus x 1.0 |> snd)
                close 1e-15 (sprintf "grad at %g" x) (sigmoid x) (Scalar.grad softplus x)
                close 1e-14 (sprintf "f'' at %g" x) (sigmoid x * (1.0 - sigmoid x)) (Scalar.hessian softplus x)
        }
        test "Scalar.customVjp: a clipped gradient (reverse uses the rule as written)" {
            let clipped = Scalar.customVjp (fun x -> x * x) (fun x _ yb -> yb * max (real -1.0) (min (real 1.0) (2.0 * x)))
            Expect.equal (Scalar.grad clipped 0.25) 0.5 "inside the clip: 2x"
            Expect.equal (Scalar.grad clipped 3.0) 1.0 "clipped to 1"
            Expect.equal (Scalar.grad clipped -3.0) -1.0 "clipped to −1"
        }
        test "customJvp (Vec): an elementwise rule; jacobian by both modes equals the closed form" {
            let f = customJvp (fun x -> Vec.Exp x * 2.0) (fun x xd -> 2.0 * Vec.Exp x * xd)
            let x = [| 0.1; -0.4; 1.3 |]
            let expected = Array2D.init 3 3 (fun i j -> if i = j then 2.0 * Math.Exp x[i] else 0.0)
            closeMat 1e-15 "jacFwd" expected (jacFwd f x)
            closeMat 1e-15 "jacRev" expected (jacRev f x)
        }
        test "customVjp (Vec) and customVjpReal: an 'external' gradient, through grad, hessian and jacFwd" {
            // f(x) = ½‖x‖², its value and gradient computed in doubles as an external code would
            let half (x: Vec) = real (0.5 * Array.sumBy (fun v -> v * v) (x.ToArray()))
            let f = customVjpReal half (fun x _ yb -> yb * x)
            let x = [| 1.0; -2.0; 0.5 |]
            closeAll 0.0 "grad = x" x (grad f x)
            closeMat 0.0 "hessian = I" (Array2D.init 3 3 (fun i j -> if i = j then 1.0 else 0.0)) (hessian f x)
            let g = customVjp (fun x -> 3.0 * x) (fun _ _ yb -> 3.0 * yb)
            closeMat 0.0 "jacFwd of 3x (forward mode transposes the rule)" (Array2D.init 3 3 (fun i j -> if i = j then 3.0 else 0.0)) (jacFwd g x)
        }
        test "null rules are refused by name" {
            throwsWith<ArgumentNullException> [ "jvp" ] "Scalar.customJvp" (fun () -> Scalar.customJvp (fun x -> x) Unchecked.defaultof<_> |> ignore)
            throwsWith<ArgumentNullException> [ "vjp" ] "customVjp" (fun () -> customVjp (fun x -> x) Unchecked.defaultof<_> |> ignore)
        }
        test "compile: Rosenbrock's GradAndValue and Hvp equal the eager transforms bitwise at new points, the Hessian to rounding" {
            let c = compile rosenLoop [| 0.5; 0.5; 0.5; 0.5 |]
            Expect.isTrue c.IsCompiled "compiled"
            let rnd = Random 7
            for _ in 1 .. 5 do
                let x = Array.init 4 (fun _ -> rnd.NextDouble() * 4.0 - 2.0)
                let g = Array.zeroCreate 4
                let v = c.GradAndValue(ReadOnlySpan x, Span g)
                let ge, ve = gradAndValue rosenLoop x
                Expect.equal v ve "value"
                Expect.equal g ge "gradient"
                let hv = Array.zeroCreate 4
                let u = [| 1.0; -1.0; 0.5; 2.0 |]
                c.Hvp(ReadOnlySpan x, ReadOnlySpan u, Span hv)
                Expect.equal hv (hvp rosenLoop x u) "Hvp"
                // the compiled dense Hessian is edge pushing's: eager's to 4e-15 of its largest entry, exactly symmetric
                let h = c.Hessian(ReadOnlySpan x).ToArray()
                let he = hessian rosenLoop x
                let scale = he |> Seq.cast<float> |> Seq.map abs |> Seq.max
                for i in 0 .. 3 do
                    for j in 0 .. 3 do
                        Expect.isTrue (abs (h[i, j] - he[i, j]) <= 4e-15 * scale) (sprintf "Hessian[%d,%d]: %g vs %g" i j h[i, j] he[i, j])
                        Expect.equal h[i, j] h[j, i] "symmetric"
            Expect.equal c.Recordings 1 "no branch: one recording"
        }
        test "Scalar.compile: a branch on the value records the other path (Recordings = 2), results equal eager" {
            let f (x: Real) = if x > real 0.0 then sin x * x else x * x * x
            let c = Scalar.compile f 1.0
            for x in [ 1.0; 2.5; -1.5; -0.5; 0.3 ] do
                let g = Array.zeroCreate 1
                let v = c.GradAndValue(ReadOnlySpan [| x |], Span g)
                let ge, ve = Scalar.gradAndValue f x
                Expect.equal (v, g[0]) (ve, ge) (sprintf "at %g" x)
            Expect.equal c.Recordings 2 "two paths"
        }
        test "compileVec: the Jacobian of a vector function equals jacobian" {
            let f (z: Vec) = vecOfReals [ z[0] * z[1]; sin z[2] + z[0] ]
            let c = compileVec f [| 0.5; -2.0; 0.3 |]
            let z = [| 1.5; 0.25; -0.7 |]
            Expect.equal (c.Jacobian(ReadOnlySpan z).ToArray()) (jacobian f z) "Jacobian"
        }
    ]
