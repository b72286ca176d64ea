module Hybrid.Kernel.Tests.DualNTests

open System
open System.Numerics
open Expecto
open FsCheck
open FsCheck.FSharp
open Hybrid.Kernel
open Hybrid.Kernel.Tests.Check
open Hybrid.Kernel.Tests.DualTests
open Hybrid.Kernel.Tests.HyperDualTests

let private c = 2.5

/// Seeds (x, [t₀ … t₃]) as a DualN<Partials4>.
let d4 x (t: float[]) = DualN<Partials4>(x, Partials4(t[0], t[1], t[2], t[3]))
let slots (y: DualN<'P>) = Array.init DualN<'P>.Width (fun j -> y.[j])
let seeds = [| 1.0; -0.5; 0.0; 2.25 |]

/// Rosenbrock, generic, for chunked gradients over n inputs.
let inline rosen<'T when 'T :> INumberBase<'T>> (x: 'T[]) : 'T =
    let mutable s = 'T.Zero
    for i in 0 .. x.Length - 2 do
        let a = x[i + 1] - x[i] * x[i]
        let b = 'T.One - x[i]
        s <- s + 'T.CreateTruncating 100.0 * a * a + b * b
    s

/// ∇g by n separate Dual passes (the reference).
let dualGradient (g: Dual[] -> Dual) (x: float[]) =
    Array.init x.Length (fun i -> (g (Array.init x.Length (fun k -> Dual(x[k], (if k = i then 1.0 else 0.0))))).T)

[<Tests>]
let tests =
    testList "DualN" [
        testList "rule table: slot j = a Dual run with tangent tⱼ" [
            for (f, name, lo, hi) in Rules.unary do
                test name {
                    for x in points lo hi 7 do
                        let y = DualN<Partials4>.Apply1(f, c, d4 x seeds)
                        Expect.equal y.V (Rules.value1 f c x) "value"
                        for j in 0..3 do
                            Expect.equal y.[j] (Dual.Apply1(f, c, Dual(x, seeds[j]))).T (sprintf "%s(%g) slot %d" name x j)
                        close 1e-7 (sprintf "%s'(%g)" name x) (fd (Rules.value1 f c) x) y.[0]
                }
            for (f, name, lo, hi) in Rules.binary do
                test name {
                    for (x, y) in grid lo hi do
                        let ty = [| 0.0; 1.0; 3.0; -1.0 |]
                        let z = DualN<Partials4>.Apply2(f, d4 x seeds, d4 y ty)
                        for j in 0..3 do
                            Expect.equal z.[j] (Dual.Apply2(f, Dual(x, seeds[j]), Dual(y, ty[j]))).T (sprintf "%s(%g, %g) slot %d" name x y j)
                        let gx, gy = fdx (Rules.value2 f) x y, fdy (Rules.value2 f) x y
                        for j in 0..3 do
                            close 1e-7 (sprintf "%s(%g, %g) slot %d" name x y j) (seeds[j] * gx + ty[j] * gy) z.[j]
                        let l = DualN<Partials4>.Apply2L(f, d4 x seeds, y)
                        let r = DualN<Partials4>.Apply2R(f, x, d4 y ty)
                        Expect.equal (slots l) (Array.init 4 (fun j -> (Dual.Apply2L(f, Dual(x, seeds[j]), y)).T)) "Apply2L"
                        Expect.equal (slots r) (Array.init 4 (fun j -> (Dual.Apply2R(f, x, Dual(y, ty[j]))).T)) "Apply2R"
                }
        ]

        testList "chunks" [
            test "Partials Unit, Zero and Count" {
                Expect.equal (slots (DualN<Partials8>.Seed(1.0, 5))) [| 0.; 0.; 0.; 0.; 0.; 1.; 0.; 0. |] "e₅"
                Expect.equal (slots (DualN<Partials2>.Seed(1.0, 2))) [| 0.; 0. |] "out of range → constant"
                Expect.equal (DualN<Partials8>.Width, DualN<Partials4>.Width, DualN<Partials2>.Width) (8, 4, 2) "widths"
                Expect.equal (Chunk.Passes<Partials4> 9) 3 "⌈9/4⌉"
            }
            test "Seed rejects mismatched lengths" {
                Expect.throwsT<ArgumentException> (fun () -> Chunk.Seed<Partials2>(ReadOnlySpan [| 1.0; 2.0 |], 0, Span(Array.zeroCreate 3))) ""
            }
            testPropertyWithConfig { FsCheckConfig.defaultConfig with maxTest = 100 } "chunked gradient (k = 2, 4, 8) = n Dual passes"
                (Prop.forAll (ArbMap.defaults |> ArbMap.arbitrary<float list> |> Arb.filter (fun l -> l.Length >= 2 && l.Length <= 19 && List.forall Double.IsFinite l))
                    (fun l ->
                        let x = l |> List.map (fun v -> Math.IEEERemainder(v, 3.0)) |> Array.ofList
                        let reference = dualGradient rosen x
                        Expect.equal (Chunk.Gradient<Partials2>(Func<_, _> rosen, x)) reference "k = 2"
                        Expect.equal (Chunk.Gradient<Partials4>(Func<_, _> rosen, x)) reference "k = 4"
                        Expect.equal (Chunk.Gradient<Partials8>(Func<_, _> rosen, x)) reference "k = 8"))
            test "chunked gradient of a function using many rules" {
                let x = [| 0.7; 1.3; 0.9 |]
                Expect.equal (Chunk.Gradient<Partials4>(Func<_, _> g3, x)) (dualGradient g3 x) "k = 4 > n"
                Expect.equal (Chunk.Gradient<Partials2>(Func<_, _> g3, x)) (dualGradient g3 x) "k = 2, partial last chunk"
            }
        ]

        test "IEEE: NaN and ∞ flow" {
            let y = DualN<Partials4>.Sqrt(d4 nan seeds)
            Expect.isTrue (Double.IsNaN y.V && Double.IsNaN y.[0]) "sqrt NaN"
            let z = d4 Double.PositiveInfinity seeds * 3.0
            Expect.equal (z.V, slots z) (Double.PositiveInfinity, seeds |> Array.map ((*) 3.0)) "∞·3"
        }

        test "no GC allocation per scalar operation" {
            let run () =
                let mutable x = DualN<Partials8>.Seed(0.3, 2)
                for _ in 1..1000 do
                    x <- DualN.Sin(x * x + 1.0) / DualN.Exp(x) - DualN.Pow(DualN.Abs x, 1.5) + DualN.Max(x, DualN.Tanh x)
                x
            run () |> ignore
            let before = GC.GetAllocatedBytesForCurrentThread()
            run () |> ignore
            Expect.equal (GC.GetAllocatedBytesForCurrentThread() - before) 0L "bytes allocated"
        }
    ]
