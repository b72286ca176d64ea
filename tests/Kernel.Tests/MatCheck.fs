/// The checking helper for array primitives (JAX's check_grads, Stan's test_ad): a function
/// Vec → Vec is checked at a point in every mode against central differences and against itself.
module Hybrid.Kernel.Tests.MatCheck

open System
open Expecto
open Hybrid.Kernel
open Hybrid.Kernel.Tests.Check

let rng (seed: int) = Random(seed)
let randn (r: Random) (n: int) = Array.init n (fun _ -> 2.0 * r.NextDouble() - 1.0)
let dot (a: float[]) (b: float[]) = Array.fold2 (fun s x y -> s + x * y) 0.0 a b

/// f on constants (no trace): the plain double path.
let eval (f: Vec -> Vec) (x: float[]) = (f (Vec x)).ToArray()

/// J·v by central differences.
let fdJvp (f: Vec -> Vec) (x: float[]) (v: float[]) =
    let h = 1e-6
    let p = eval f (Array.map2 (fun a b -> a + h * b) x v)
    let m = eval f (Array.map2 (fun a b -> a - h * b) x v)
    Array.map2 (fun a b -> (a - b) / (2.0 * h)) p m

let jvp (f: Vec -> Vec) (x: float[]) (v: float[]) =
    let struct (y, t) = Ad.Jvp("jvp", Func<Vec, Vec>(f), Vec x, Vec v)
    y.ToArray(), t.ToArray()

let vjp (f: Vec -> Vec) (x: float[]) (u: float[]) =
    let struct (y, pb) = Ad.Vjp("vjp", Func<Vec, Vec>(f), Vec x)
    y.ToArray(), (pb.Apply(Vec u)).ToArray()

let grad (g: Vec -> Real) (x: float[]) =
    let struct (v, gr) = Ad.Grad("grad", Func<Vec, Real>(g), Vec x)
    v.V, gr.ToArray()

let closeAll (tol: float) (what: string) (expected: float[]) (actual: float[]) =
    Expect.equal actual.Length expected.Length (what + ": length")
    for i in 0 .. expected.Length - 1 do close tol (sprintf "%s[%d]" what i) expected[i] actual[i]

/// First order: value, Jvp against central differences, Vjp by the inner-product identity
/// ⟨u, J·v⟩ = ⟨Jᵀu, v⟩, and Grad of ⟨u, f⟩ (adjoints flowing through vector-op buffers) = Jᵀu.
let checkFirst (name: string) (f: Vec -> Vec) (x: float[]) (seed: int) =
    let r = rng seed
    let y0 = eval f x
    let v = randn r x.Length
    let u = randn r y0.Length
    let y1, jv = jvp f x v
    closeAll 1e-12 (name + " jvp value") y0 y1
    closeAll 1e-6 (name + " jvp vs central differences") (fdJvp f x v) jv
    let y2, jtu = vjp f x u
    closeAll 1e-12 (name + " vjp value") y0 y2
    close 1e-10 (name + " ⟨u, Jv⟩ = ⟨Jᵀu, v⟩") (dot u jv) (dot jtu v)
    let _, g = grad (fun x -> Vec.Dot(Vec u, f x)) x
    closeAll 1e-10 (name + " grad ⟨u, f⟩ = Jᵀu") jtu g

/// The Hessian of g by finite differences of its (reverse-mode) gradient.
let fdHessian (g: Vec -> Real) (x: float[]) =
    let n = x.Length
    let h = 1e-5
    let hs = Array2D.zeroCreate n n
    for j in 0 .. n - 1 do
        let xp = Array.copy x
        let xm = Array.copy x
        xp[j] <- xp[j] + h
        xm[j] <- xm[j] - h
        let _, gp = grad g xp
        let _, gm = grad g xm
        for i in 0 .. n - 1 do hs[i, j] <- (gp[i] - gm[i]) / (2.0 * h)
    hs

/// The Hessian from the second-order tape (Hvp replays: Jvp then VjpTangent of every op).
let tapeHessian (g: Vec -> Real) (x: float[]) =
    let tape = Ad.RecordSecondOrder("hessian", Func<Vec, Real>(g), Vec x)
    let h = tape.Hessian()
    tape.Release()
    h

/// The Hessian by forward-over-reverse nesting: Jvp of Grad, one column per basis vector (the inner
/// trace is nested, so each primitive's rules run on the outer trace's vectors).
let nestedHessian (g: Vec -> Real) (x: float[]) =
    let n = x.Length
    let gradF = Func<Vec, Vec>(fun x ->
        let struct (_, gr) = Ad.Grad("inner", Func<Vec, Real>(g), x)
        gr)
    let hs = Array2D.zeroCreate n n
    for j in 0 .. n - 1 do
        let e = Array.init n (fun i -> if i = j then 1.0 else 0.0)
        let struct (_, col) = Ad.Jvp("outer", gradF, Vec x, Vec e)
        let c = col.ToArray()
        for i in 0 .. n - 1 do hs[i, j] <- c[i]
    hs

let closeMatrix (tol: float) (what: string) (expected: float[,]) (actual: float[,]) =
    for i in 0 .. Array2D.length1 expected - 1 do
        for j in 0 .. Array2D.length2 expected - 1 do
            close tol (sprintf "%s H[%d,%d]" what i j) expected[i, j] actual[i, j]

/// Second order three ways: the second-order tape and the nested Hessian against the finite-
/// difference Hessian, and the tape's gradient against Grad.
let checkHessian (name: string) (g: Vec -> Real) (x: float[]) (tol: float) =
    let expected = fdHessian g x
    closeMatrix tol (name + " tape") expected (tapeHessian g x)
    closeMatrix tol (name + " nested") expected (nestedHessian g x)

/// Second order of a vector primitive: the Hessian of ⟨u, f(x)⟩ for a random u.
let checkSecond (name: string) (f: Vec -> Vec) (x: float[]) (seed: int) =
    let r = rng (seed + 7)
    let u = randn r (eval f x).Length
    checkHessian name (fun x -> Vec.Dot(Vec u, f x)) x 1e-6

/// Both orders.
let checkAll (name: string) (f: Vec -> Vec) (x: float[]) (seed: int) =
    checkFirst name f x seed
    checkSecond name f x seed

/// An r×c matrix view of x from `start`.
let mat (x: Vec) (start: int) (r: int) (c: int) = Mat(x.Slice(start, r * c), r, c)

/// A random SPD matrix's storage (n×n): MᵀM + n·I.
let spd (r: Random) (n: int) =
    let m = Array.init (n * n) (fun _ -> r.NextDouble() - 0.5)
    Array.init (n * n) (fun p ->
        let i, j = p % n, p / n
        let mutable s = if i = j then float n else 0.0
        for k in 0 .. n - 1 do s <- s + m[k + i * n] * m[k + j * n]
        s)

/// A random well-conditioned general matrix's storage: noise + n·I (possibly negative determinant).
let general (r: Random) (n: int) =
    Array.init (n * n) (fun p -> (r.NextDouble() - 0.5) + (if p % n = p / n then (if p = 0 then -1.0 else 1.0) * float n else 0.0))

/// Expects f to throw an exception of type 'E whose message contains every fragment.
let throwsWith<'E when 'E :> exn> (fragments: string list) (f: unit -> unit) =
    let e = Expect.throwsC f id
    match box e with
    | :? 'E -> ()
    | _ -> failtestf "expected %s, got %s: %s" typeof<'E>.Name (e.GetType().Name) e.Message
    for s in fragments do
        if not (e.Message.Contains s) then failtestf "message %A does not contain %A" e.Message s
