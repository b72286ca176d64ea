/// f: Vec → Real differentiated in each mode the kernel has, for the table-driven tests of the rules
/// (RulesTests) and of Real (RealTests): reverse, forward, forward-over-reverse and
/// reverse-over-reverse through nested traces, and the second-order tape.
module Hybrid.Kernel.Tests.Modes

open System
open Hybrid.Kernel

/// ∇f at x by reverse mode (Ad.Grad).
let grad (f: Vec -> Real) (x: float[]) =
    let struct (_, g) = Ad.Grad("test", Func<Vec, Real>(f), Vec x)
    g.ToArray()

/// The derivative of f at x along v by forward mode (Ad.Jvp).
let jvp (f: Vec -> Real) (x: float[]) (v: float[]) =
    let struct (_, t) = Ad.Jvp("test", Func<Vec, Vec>(fun x -> Vec.OfReals [| f x |]), Vec x, Vec v)
    t.ToArray()[0]

/// H·v by forward-over-reverse through nested traces.
let hvpNested (f: Vec -> Real) (x: float[]) (v: float[]) =
    let g = Func<Vec, Vec>(fun x -> let struct (_, g) = Ad.Grad("inner", Func<Vec, Real>(f), x) in g)
    let struct (_, t) = Ad.Jvp("outer", g, Vec x, Vec v)
    t.ToArray()

/// The Hessian by reverse-over-reverse through nested traces (row i = ∇ of ∂f/∂xᵢ).
let hessianRevRev (f: Vec -> Real) (x: float[]) =
    Array.init x.Length (fun i -> grad (fun x -> let struct (_, g) = Ad.Grad("inner", Func<Vec, Real>(f), x) in g[i]) x)

/// The dense Hessian from the second-order tape (recorded once, replayed).
let hessianTape (f: Vec -> Real) (x: float[]) =
    let tape = Ad.RecordSecondOrder("test", Func<Vec, Real>(f), Vec x)
    let h = tape.Hessian()
    tape.Release()
    h
