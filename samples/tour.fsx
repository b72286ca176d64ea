// The Hybrid tour in F#: the seed examples with their expected numbers, every transform, inline
// generic maths at four number types, and a Newton solve — through the F# surface (module
// Hybrid.FSharp), with no .Invoke, no op_Implicit, no struct tuples and no type annotations in lambdas.
//
//     dotnet fsi samples/tour.fsx
//
// An F# script must #r the library before it compiles, so this file starts as a launcher: it builds
// FSharp/Hybrid.FSharp.fsproj (Release; a no-op when up to date) and runs itself again with
// HYBRID_BUILT defined, which references the DLLs in FSharp/bin/Release/net10.0. To run the tour
// part alone:
//
//     dotnet build FSharp/Hybrid.FSharp.fsproj -c Release && dotnet fsi --define:HYBRID_BUILT samples/tour.fsx
//
// The seed examples are the nine of the C# tour (samples/Tour/Program.cs), each printed beside its
// expected result; the script exits with 1 if any result differs.

#if !HYBRID_BUILT

open System.Diagnostics
open System.IO

/// Runs dotnet with the arguments; with quiet = true its output is shown only if it fails.
let dotnet (quiet: bool) (args: string list) =
    let info = ProcessStartInfo("dotnet", UseShellExecute = false, RedirectStandardOutput = quiet)
    for a in args do info.ArgumentList.Add a
    use p = Process.Start info
    let output = if quiet then p.StandardOutput.ReadToEnd() else ""
    p.WaitForExit()
    if p.ExitCode <> 0 then printf "%s" output
    p.ExitCode

let project = Path.GetFullPath(Path.Combine(__SOURCE_DIRECTORY__, "..", "FSharp", "Hybrid.FSharp.fsproj"))
printfn "building %s (Release) …" (Path.GetRelativePath(Directory.GetCurrentDirectory(), project))
match dotnet true [ "build"; project; "-c"; "Release"; "-v"; "q"; "-nologo" ] with
| 0 -> exit (dotnet false [ "fsi"; "--define:HYBRID_BUILT"; Path.Combine(__SOURCE_DIRECTORY__, "tour.fsx") ])
| failed -> eprintfn "the build failed (exit code %d); see the errors above." failed; exit failed

#else

#r "../FSharp/bin/Release/net10.0/MathNet.Numerics.dll"
#r "../FSharp/bin/Release/net10.0/Hybrid.Kernel.dll"
#r "../FSharp/bin/Release/net10.0/Hybrid.dll"
#r "../FSharp/bin/Release/net10.0/Hybrid.FSharp.dll"

open System
open System.Globalization
open Hybrid                 // Newton (the solvers) and Fn (the C# API the F# surface wraps)
open Hybrid.Kernel          // Linalg (the linear-algebra backend)
open Hybrid.FSharp          // the F# transforms; Real, Vec, Mat, Dual, HyperDual

CultureInfo.CurrentCulture <- CultureInfo.InvariantCulture
let mutable failures = 0

let g6 (x: float) = x.ToString("G6", CultureInfo.InvariantCulture)
let join (xs: seq<float>) = xs |> Seq.map g6 |> String.concat ", "
let head (xs: float[]) = join (Seq.truncate 3 xs) + (if xs.Length > 3 then sprintf ", … (%d)" xs.Length else "")
let rows (m: float[,]) = "[" + String.Join("; ", [ for i in 0 .. Array2D.length1 m - 1 -> join m[i, *] ]) + "]"

let section (title: string) =
    printfn ""
    printfn "%s" title
    printfn "%s" (String('─', title.Length))

let show (row: int) (call: string) (result: string) (expected: string) (ok: bool) =
    if not ok then failures <- failures + 1
    printfn "  %d. %s" row call
    printfn "     → %s    expected %s  %s" result expected (if ok then "✓" else "✗")

let backend =
    try Linalg.UseBest()
    with :? InvalidOperationException | :? ArgumentException as e ->
        printfn "HYBRID_BLAS could not be honoured (%s); using MathNet's managed code." e.Message
        Linalg.Use BackendKind.Managed

// The functions: plain F# functions of Real and Vec (the types tell the transforms what they take).
let square (x: Real) = x * x
let squareIfEven (x: Real) = if x.Value % 2.0 = 0.0 then x * x else x   // branching on the value
let rosenbrock (x: Vec) =
    let head, tail = x[.. x.Length - 2], x[1 ..]
    Vec.Sum(100.0 * Vec.Square(tail - Vec.Square head) + Vec.Square(1.0 - head))

section "The seed examples"

// 1. grad_and_value with has_aux: the aux is an F# value of any type, returned in an F# tuple
do
    let grad, value, aux = Scalar.gradAndValueAux (fun x -> square x, "any object") 2.0
    show 1 "Scalar.gradAndValueAux (fun x -> square x, \"any object\") 2.0"
        (sprintf "grad %s, value %s, aux \"%s\"" (g6 grad) (g6 value) aux) "grad 4, value 4, aux passed through"
        (grad = 4.0 && value = 4.0 && aux = "any object")

// 2. vmap over 100 points in [0, 10], then the gradient of the sum of the outputs
do
    let xs = Array.init 100 (fun i -> 10.0 * float i / 99.0)
    let grads = xs |> grad (fun x -> Vec.Sum(Scalar.vmap square x))
    show 2 "linspace 0 10 100 |> grad (fun x -> Vec.Sum(Scalar.vmap square x))"
        (sprintf "[%s]" (head grads)) "2·xᵢ = [0, 0.20202, 0.40404, …]" (Array.forall2 (fun g x -> g = 2.0 * x) grads xs)

// 3. scan applying squareIfEven with an even/odd aux, then the gradient of the outputs' sum
do
    let grads, _, (outputs, parity) =
        [| 1.0; 2.0; 3.0; 4.0 |] |> gradAndValueAux (fun x ->
            let parityOf (t: Real) = if t.Value % 2.0 = 0.0 then "even" else "odd"
            let _, steps = scan (fun carry xi -> carry, (squareIfEven xi, parityOf xi)) (real 0.0) (x.ToReals())
            let ys = steps |> Array.map fst |> vecOfReals
            Vec.Sum ys, (ys.ToArray(), Array.map snd steps))
    show 3 "scan (fun carry x -> carry, (squareIfEven x, parity)) 0 [1; 2; 3; 4] under gradAndValueAux"
        (sprintf "outputs [%s], gradient [%s], aux [%s]" (join outputs) (join grads) (String.Join(", ", parity)))
        "outputs [1, 4, 3, 16], gradient [1, 4, 1, 8], aux [odd, even, odd, even]"
        (outputs = [| 1.0; 4.0; 3.0; 16.0 |] && grads = [| 1.0; 4.0; 1.0; 8.0 |] && parity = [| "odd"; "even"; "odd"; "even" |])

// 4. hessian
do
    let h = Scalar.hessian square 2.0
    let h1 = hessian (fun x -> square x[0]) [| 2.0 |]
    show 4 "Scalar.hessian square 2.0; vector form hessian (fun x -> square x[0]) [| 2.0 |]"
        (sprintf "%s; %d×%d %s" (g6 h) (Array2D.length1 h1) (Array2D.length2 h1) (rows h1)) "2 (a 1×1 matrix for the vector form)"
        (h = 2.0 && h1 = array2D [ [ 2.0 ] ])

// 5. jvp
do
    let y, t = Scalar.jvp square 2.0 1.0
    show 5 "Scalar.jvp square 2.0 1.0" (sprintf "(%s, %s)" (g6 y) (g6 t)) "(4, 4)" (y = 4.0 && t = 4.0)

// 6. plain reverse mode (torch.autograd.grad): a pullback
do
    let _, pullback = Scalar.vjp square 2.0
    let g = pullback 1.0
    show 6 "let _, pullback = Scalar.vjp square 2.0 in pullback 1.0" (g6 g) "4" (g = 4.0)

// 7. vmap with data-dependent control flow, then its gradient
do
    let xs = [| 1.0; 2.0; 3.0; 4.0 |]
    let ys = xs |> Scalar.vmap squareIfEven
    let grads = xs |> grad (fun x -> Vec.Sum(Scalar.vmap squareIfEven x))
    show 7 "[| 1.0; 2.0; 3.0; 4.0 |] |> Scalar.vmap squareIfEven, and the gradient of its sum"
        (sprintf "outputs [%s], gradient [%s]" (join ys) (join grads)) "outputs [1, 4, 3, 16], gradient [1, 4, 1, 8]"
        (ys = [| 1.0; 4.0; 3.0; 16.0 |] && grads = [| 1.0; 4.0; 1.0; 8.0 |])

// 8. the manual derivative beside the automatic one
do
    let manual = 2.0 * 2.0
    let automatic = Scalar.grad square 2.0
    show 8 "2·x at 2 beside Scalar.grad square 2.0" (sprintf "%s and %s" (g6 manual) (g6 automatic)) "4 and 4"
        (manual = 4.0 && automatic = 4.0)

// 9. JAX's grad(square)(2.0)
do
    let g = 2.0 |> Scalar.grad square
    show 9 "2.0 |> Scalar.grad square" (g6 g) "4" (g = 4.0)

section "Every transform"
do
    let x = [| -1.2; 1.0; 0.5 |]
    printfn "  x = [%s], f = rosenbrock written with slices; F(z) = (z₀·z₁, sin z₂ + z₀)" (join x)
    printfn "  grad f x                 = [%s]" (join (grad rosenbrock x))
    let g, v = gradAndValue rosenbrock x
    printfn "  gradAndValue f x         = ([%s], %s)" (join g) (g6 v)
    let F (z: Vec) = vecOfReals [ z[0] * z[1]; sin z[2] + z[0] ]
    let y, t = jvp F x [| 0.0; 0.0; 1.0 |]
    printfn "  jvp F x e₂               = ([%s], [%s])   (F(x), J·e₂)" (join y) (join t)
    let y, pullback = vjp F x
    printfn "  vjp F x                  = ([%s], pullback): pullback [|1; 0|] = [%s], pullback [|0; 1|] = [%s]" (join y) (join (pullback [| 1.0; 0.0 |])) (join (pullback [| 0.0; 1.0 |]))
    let _, push = linearize F x
    printfn "  linearize F x            → push [|0; 0; 1|] = [%s]" (join (push [| 0.0; 0.0; 1.0 |]))
    printfn "  jacFwd F x               = %s" (rows (jacFwd F x))
    printfn "  jacRev F x               = %s" (rows (jacRev F x))
    printfn "  jacobian F x             = %s   (reverse: 2 outputs < 3 inputs)" (rows (jacobian F x))
    printfn "  hessian f x              = %s" (rows (hessian rosenbrock x))
    printfn "  hvp f x e₁               = [%s]   (column 1 of H, without forming H)" (join (hvp rosenbrock x [| 0.0; 1.0; 0.0 |]))
    printfn "  Scalar.vmap sin [0; π/2; π] = [%s]" (join (Scalar.vmap sin [ 0.0; Math.PI / 2.0; Math.PI ]))
    printfn "  vmap (fun r -> Vec.Dot(r, r)) [| [|1; 2|]; [|3; 4|] |] = [%s]   (over rows)" (join (vmap (fun r -> Vec.Dot(r, r)) [| [| 1.0; 2.0 |]; [| 3.0; 4.0 |] |]))
    let carry, ys = Scalar.scan (fun c x -> c + x, c * x) 0.0 [| 1.0; 2.0; 3.0 |]
    printfn "  Scalar.scan (fun c x -> c + x, c * x) 0 [1; 2; 3] = carry %s, ys [%s]" (g6 carry) (join ys)
    let confusion = Scalar.grad (fun a -> a * Scalar.grad (fun b -> a + b) (real 5.0)) 3.0
    printfn "  nesting: d/dx [x · d/dy (x + y)] = %s   (1: no perturbation confusion; inner points are Reals)" (g6 confusion)
    let third = Scalar.grad (Scalar.grad (Scalar.grad (fun t -> t * t * t * t))) 2.0
    printfn "  Scalar.grad (Scalar.grad (Scalar.grad x⁴)) 2 = %s   (24·2 = 48)" (g6 third)
    let nested = jacobian (grad rosenbrock) (vec x)
    printfn "  jacobian (grad f) (vec x) = hessian f x: %b" (nested.ToArray() = hessian rosenbrock x)
    if not (confusion = 1.0 && third = 48.0) then failures <- failures + 1

section "Generic maths: one inline function, every number type"
do
    // F#'s exp, sin, sqrt, log, tanh, abs, **, pown, atan2, max … call the types' static members, so an
    // inline function runs at float, Dual, HyperDual and Real; `num 2.0` is a constant of whichever.
    let inline f x = exp x * sin x
    let inline g x = num 2.0 * x * x + sqrt x
    let d: Dual = f (Dual(1.0, 1.0))
    let h: HyperDual = f (HyperDual(1.0, 1.0, 1.0, 0.0))
    printfn "  f x = exp x * sin x at 1:  float %s" (g6 (f 1.0))
    printfn "    Dual(1, 1)              → value %s, tangent %s   (f′(1) = e(sin 1 + cos 1))" (g6 d.Value) (g6 d.Tangent)
    printfn "    HyperDual(1, 1, 1, 0)   → ε₁ε₂ part %s   (f″(1) = 2e·cos 1 = %s)" (g6 h.Eps12) (g6 (2.0 * Math.E * cos 1.0))
    printfn "    Scalar.grad f 1.0       = %s   (reverse mode at Real)" (g6 (Scalar.grad f 1.0))
    printfn "    Scalar.hessian f 1.0    = %s" (g6 (Scalar.hessian f 1.0))
    printfn "  g x = num 2.0 * x * x + sqrt x:  g 4 = %s, Scalar.grad g 4 = %s (16 + 1/4)" (g6 (g 4.0)) (g6 (Scalar.grad g 4.0))
    let exact = Math.E * (sin 1.0 + cos 1.0)
    if abs (d.Tangent - exact) > 1e-14 || abs (Scalar.grad f 1.0 - exact) > 1e-14 || abs (h.Eps12 - 2.0 * Math.E * cos 1.0) > 1e-13 then
        failures <- failures + 1

section "By hand, by finite differences, by Hybrid"
do
    // f has a branch and a loop; its derivative by hand is long. Written once, generically.
    let inline f (x: ^T) =
        if x < num 0.0 then x * x
        else
            let mutable cube = num 1.0
            for _ in 1 .. 3 do cube <- cube * x
            exp (-x) * sin x + cube
    let hand x = if x < 0.0 then 2.0 * x else exp (-x) * (cos x - sin x) + 3.0 * x * x
    let at = 0.7
    let exact = hand at
    let fd = MathNet.Numerics.Differentiation.NumericalDerivative(5, 2).EvaluateDerivative((fun (x: float) -> f x), at, 1)
    let rev, value = Scalar.gradAndValue f at
    let fwd = (f (Dual(at, 1.0))).Tangent
    printfn "  f x = x² for x < 0, else e^(−x)·sin x + x³ (a loop); f′(%s) exact = %s" (g6 at) (exact.ToString "R")
    printfn "  %-40s %-22s %s" "method" "f′(0.7)" "|error|"
    for name, d in [ "by hand", exact; "finite differences (MathNet, 5 points)", fd; "Scalar.gradAndValue (reverse)", rev; "Dual (forward, the same inline f)", fwd ] do
        printfn "  %-40s %-22s %s" name (d.ToString "R") ((abs (d - exact)).ToString("G3", CultureInfo.InvariantCulture))
    printfn "  (Scalar.gradAndValue returned the value too: %s)" (g6 value)
    if abs (rev - exact) > 1e-14 || abs (fwd - exact) > 1e-14 then failures <- failures + 1

section "A Newton solve from F#"
do
    // The solvers are the C# API: an F# lambda converts to its Func at the method call.
    let result = Newton.Minimize((fun x -> rosenbrock x), vec [ -1.2; 1.0 ])
    printfn "  Newton.Minimize((fun x -> rosenbrock x), vec [ -1.2; 1.0 ]) → %O after %d iterations, x = [%s]" result.Termination result.Iterations (join result.Solution)
    if not (result.Converged && abs (result.Solution[0] - 1.0) < 1e-8) then failures <- failures + 1
    printfn "  linear algebra backend used: %O" backend

printfn ""
printfn "%s" (if failures = 0 then "All results match their expected values." else sprintf "%d result(s) did not match: see ✗ above." failures)
exit (if failures = 0 then 0 else 1)

#endif
