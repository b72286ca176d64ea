/// Inline generic F# functions at float, Dual, HyperDual and Real (F#'s exp, sin, sqrt, **, … use
/// the types' static members), and `num` for constants.
module Hybrid.FSharp.Tests.GenericTests

open System
open Expecto
open Hybrid.FSharp
open Hybrid.FSharp.Tests.Check

let inline f x = exp x * sin x
let f' x = Math.Exp x * (Math.Sin x + Math.Cos x)
let f'' x = 2.0 * Math.Exp x * Math.Cos x

/// Every F# maths function and operator the number types support, with constants through `num`
/// (a float exponent works as it is: `x ** 1.5`).
let inline g x =
    sqrt x + log x + log10 x + tanh x + abs (num -3.0 * x) + x ** 1.5 + pown x 3 + cos x + atan x
    + sinh x + atan2 x (num 2.0) + max x (num 0.5) + num 2.0 / x - x % num 1.0

[<Tests>]
let tests =
    testList "Hybrid.FSharp generic inline functions" [
        test "exp x * sin x at float, Dual, HyperDual and Real" {
            let at = 1.0
            let plain: float = f at
            let d: Dual = f (Dual(at, 1.0))
            let h: HyperDual = f (HyperDual(at, 1.0, 1.0, 0.0))
            let r: float = Scalar.grad f at
            Expect.equal d.Value plain "Dual value"
            Expect.equal h.Value plain "HyperDual value"
            close 1e-15 "Dual tangent = f′" (f' at) d.Tangent
            close 1e-15 "HyperDual ε₁ = f′" (f' at) h.Eps1
            close 1e-14 "HyperDual ε₁ε₂ = f″" (f'' at) h.Eps12
            close 1e-15 "Scalar.grad at Real = f′" (f' at) r
            close 1e-14 "Scalar.hessian at Real = f″" (f'' at) (Scalar.hessian f at)
        }
        test "sqrt, log, log10, tanh, abs, **, pown, cos, atan, sinh, atan2, max, /, % and num agree across the four types" {
            for at in [ 0.8; 1.7; 2.3 ] do
                let plain: float = g at
                let d: Dual = g (Dual(at, 1.0))
                let h: HyperDual = g (HyperDual(at, 1.0, 1.0, 0.0))
                let r: Real = g (real at)
                close 1e-15 (sprintf "Dual value at %g" at) plain d.Value
                close 1e-15 (sprintf "HyperDual value at %g" at) plain h.Value
                close 1e-15 (sprintf "Real value at %g" at) plain r.Value
                let rev = Scalar.grad g at
                close 1e-13 (sprintf "Dual tangent = reverse at %g" at) rev d.Tangent
                close 1e-13 (sprintf "HyperDual ε₁ = reverse at %g" at) rev h.Eps1
                close 1e-11 (sprintf "HyperDual ε₁ε₂ = Scalar.hessian at %g" at) (Scalar.hessian g at) h.Eps12
                let fdStep = 1e-6
                close 1e-7 (sprintf "against central differences at %g" at) ((g (at + fdStep) - g (at - fdStep)) / (2.0 * fdStep)) rev
        }
        test "num gives the constant in the type the code runs at" {
            let inline twice x = num 2.0 * x
            Expect.equal (twice 3.0) 6.0 "float"
            Expect.equal (twice (Dual(3.0, 1.0))).Tangent 2.0 "Dual"
            Expect.equal (Scalar.grad twice 3.0) 2.0 "Real"
        }
        test "a generic function of a vector runs under grad through Vec indexing" {
            let inline rosen2 (x0: ^T) (x1: ^T) = num 100.0 * pown (x1 - x0 * x0) 2 + pown (num 1.0 - x0) 2
            let g = grad (fun x -> rosen2 x[0] x[1]) [| -1.2; 1.0 |]
            closeAll 1e-13 "∇" [| -215.6; -88.0 |] g
            let d: Dual = rosen2 (Dual(-1.2, 1.0)) (Dual(1.0, 0.0))
            close 1e-13 "∂/∂x₀ by Dual" -215.6 d.Tangent
        }
    ]
