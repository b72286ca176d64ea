module Hybrid.Kernel.Tests.VecOpsTests

open System
open Expecto
open Hybrid.Kernel

/// Bitwise equality of doubles (NaN equal to NaN).
let same (what: string) (expected: float) (actual: float) =
    if not (BitConverter.DoubleToInt64Bits expected = BitConverter.DoubleToInt64Bits actual || Double.IsNaN expected && Double.IsNaN actual) then
        failtestf "%s: expected %.17g, got %.17g" what expected actual

/// Values at which lanes and tails must agree with one element at a time: signed zeros, ±∞, NaN,
/// subnormals, large and small magnitudes.
let specials = [| 0.0; -0.0; 1.5; -2.25; infinity; -infinity; nan; 5e-324; -1e300; 3e-160; 0.1; 7.0; -0.3 |]

[<Tests>]
let simd =
    testList "VecOps.simd" [
        test "x², x − y, c·x, c − x and x + y record each element's scalar result, at every length (tails) and broadcast" {
            for n in 1 .. specials.Length do
                let a = Array.init n (fun k -> specials[k])
                let b = Array.init n (fun k -> specials[(k + 5) % specials.Length])
                let t = Traces.Open(TraceKind.Reverse, "test")
                try
                    let x = Vec.Input(t, Vec a, null)
                    let y = Vec.Input(t, Vec b, null)
                    let sq = (Vec.Square x).ToArray()
                    let d = (x - y).ToArray()
                    let m = (x * y).ToArray()
                    let s = (x + y).ToArray()
                    let c = (100.0 * x).ToArray()
                    let r = (1.0 - x).ToArray()
                    let q = (x - 3.0).ToArray()
                    for k in 0 .. n - 1 do
                        same (sprintf "n=%d x²[%d]" n k) (a[k] * a[k]) sq[k]
                        same (sprintf "n=%d x−y[%d]" n k) (a[k] - b[k]) d[k]
                        same (sprintf "n=%d x·y[%d]" n k) (a[k] * b[k]) m[k]
                        same (sprintf "n=%d x+y[%d]" n k) (a[k] + b[k]) s[k]
                        same (sprintf "n=%d 100x[%d]" n k) (100.0 * a[k]) c[k]
                        same (sprintf "n=%d 1−x[%d]" n k) (1.0 - a[k]) r[k]
                        same (sprintf "n=%d x−3[%d]" n k) (a[k] - 3.0) q[k]
                finally
                    Traces.Close(t, false)
        }

        test "the sliced Rosenbrock gradient is the scalar sweep's, element by element, at every length" {
            // the sweep's order per slot: (1 − x[..^1])² first, then x[1..] − ·, then x[..^1]² (reverse tape order)
            let rng = Random 7
            for n in 2 .. 19 do
                let a = Array.init n (fun _ -> rng.NextDouble() * 3.0 - 1.0)
                let f (x: Vec) =
                    let head = x[.. x.Length - 2]
                    Vec.Sum(100.0 * Vec.Square(x[1..] - Vec.Square head) + Vec.Square(1.0 - head))
                let struct (_, g) = Ad.Grad("test", Func<Vec, Real>(f), Vec a)
                let g = g.ToArray()
                let m = n - 1
                let sub1 = Array.init m (fun k -> a[k + 1] - a[k] * a[k])
                let sub2 = Array.init m (fun k -> 1.0 - a[k])
                let expected = Array.zeroCreate n
                let touched = Array.zeroCreate n
                let add i v =
                    expected[i] <- (if touched[i] then expected[i] + v else 0.0 + v)
                    touched[i] <- true
                for k in 0 .. m - 1 do add k (-1.0 * ((2.0 * sub2[k]) * 1.0))
                let sub1Adj = Array.init m (fun k -> (2.0 * sub1[k]) * (100.0 * 1.0))
                for k in 0 .. m - 1 do add (k + 1) (1.0 * sub1Adj[k])
                for k in 0 .. m - 1 do add k ((2.0 * a[k]) * (-1.0 * sub1Adj[k]))
                for i in 0 .. n - 1 do same (sprintf "n=%d ∂f/∂x%d" n i) expected[i] g[i]
        }
    ]

[<Tests>]
let uniform =
    testList "VecOps.uniform adjoints" [
        test "a sum's cotangent passes through constant partials as one number, written out only when read" {
            let a = [| 0.5; -1.25; 2.0; 3.0; -0.75 |]
            let t = Traces.Open(TraceKind.Reverse, "test")
            try
                let x = Vec.Input(t, Vec a, null)
                let y = Vec.Square x // op 0
                let s = Vec.Sum(2.0 * (y + 1.0)) // ops 1 (+), 2 (×), 3 (Σ)
                Expect.equal t.Ops.Count 4 "four vector ops"
                let adj = Sweep.store t
                adj.Scalars[s.I] <- 1.0
                for k in 3 .. -1 .. 1 do t.Ops[k].Vjp adj
                let mutable u = 0.0
                Expect.isTrue (adj.Uniform(t.Ops[0].Out, &u)) "x²'s adjoint is one number, not an array"
                same "ȳ" 2.0 u
                Expect.isFalse (adj.Untouched t.Ops[0].Out) "a uniform adjoint is not untouched"
                Expect.isTrue (adj.Uniform(t.Ops[2].Out, &u)) "2·(·)'s adjoint, from the sum, is one number"
                same "ū of 2·(·)" 1.0 u
                Expect.isTrue (adj.Uniform(t.Ops[1].Out, &u)) "(·) + 1's adjoint is one number"
                same "ū of (·) + 1" 2.0 u
                t.Ops[0].Vjp adj
                for k in 0 .. a.Length - 1 do same (sprintf "∂f/∂x%d" k) ((2.0 * a[k]) * 2.0) adj.Scalars[x.Ref.Slot + k]
                // read as an array, it is written out
                let span = (adj.Span t.Ops[0].Out).ToArray()
                for k in 0 .. a.Length - 1 do same (sprintf "ȳ[%d]" k) 2.0 span[k]
                Expect.isFalse (adj.Uniform(t.Ops[0].Out, &u)) "written out once read"
                adj.Release()
            finally
                Traces.Close(t, false)
        }

        test "a store writes a uniform buffer out for any reader, and adds into it as an array" {
            let lengths = ResizeArray [ 6 ]
            let s = Store(Array.zeroCreate 4, lengths, false)
            let r = VecRef.OfOp(0, 0, 6)
            Expect.isTrue (s.TrySetUniform(r, -3.5)) "an untouched whole buffer can be uniform"
            Expect.isFalse (s.TrySetUniform(r, 1.0)) "only once"
            let mutable assign = true
            let a = (s.Target(r, &assign)).ToArray()
            Expect.isFalse assign "a uniform buffer is added into, not assigned"
            for k in 0 .. 5 do same (sprintf "element %d" k) -3.5 a[k]
            s.Release()
            let s2 = Store(Array.zeroCreate 4, lengths, false)
            Expect.isFalse (s2.TrySetUniform(VecRef.OfOp(0, 1, 4), 1.0)) "a part of a buffer is never made uniform"
            Expect.isFalse (s2.TrySetUniform(VecRef.Slots(0, 4), 1.0)) "nor scalar slots"
            s2.Release()
        }
    ]

/// Ad.Grad's gradient of a function of whole-vector operations, written where the sweep leaves it
/// (`Sweep.gradientOf`): bitwise the copied-out form's, and the trace keeps no adjoint buffer of n.
let private rosen (x: Vec) =
    let n = x.Length
    Vec.Sum(100.0 * Vec.Square(x[1..] - Vec.Square(x[.. n - 2])) + Vec.Square(1.0 - x[.. n - 2]))

/// Ad.Grad's (value, gradient) with the in-place form on or off (`GradientForm.InPlace` is the calling
/// thread's: tests running beside these keep their own form).
let private gradWith (inPlace: bool) (f: Vec -> Real) (a: float[]) =
    let before = GradientForm.InPlace
    GradientForm.InPlace <- inPlace
    try
        let struct (v, g) = Ad.Grad("test", Func<Vec, Real> f, Vec a)
        v.V, g.ToArray()
    finally
        GradientForm.InPlace <- before

/// Runs `body` on a thread of its own, whose trace stack (and so its pooled trace) is fresh.
let private onFreshThread (body: unit -> unit) =
    let mutable error = null
    let th = Threading.Thread(fun () -> try body () with e -> error <- e)
    th.Start()
    th.Join()
    if not (isNull error) then raise (Exception("on a fresh thread", error))

[<Tests>]
let inPlace =
    testSequenced <| testList "Sweep.gradient in place" [
        test "in place and copied out give bitwise the same gradients, at special values and for every node kind" {
            let fs : (string * (Vec -> Real)) list =
                [ "Rosenbrock over slices", rosen
                  "Σx² + x₀·x₁ (scalar nodes into the input slots)", (fun x -> Vec.Sum(Vec.Square x) + x[0] * x[1])
                  "x·x and a broadcast Σx", (fun x -> Vec.Dot(x, x) + Vec.Sum(x * Vec.Sum x))
                  "maps and a quotient", (fun x -> Vec.Sum(Vec.Exp(0.01 * x) / (2.0 + Vec.Sin x)))
                  "−x and a slice read twice", (fun x -> let n = x.Length in Vec.Sum(-x[1..] * x[.. n - 2]) + Vec.Sum(x[1..]))
                  "x₀ (the output is an input slot)", (fun x -> x[0])
                  "a constant (no derivative)", (fun _ -> Real 3.0) ]
            for n in [ 2; 3; 7; 16; 100; 1000 ] do
                let a = Array.init n (fun k -> if n <= specials.Length then specials[k] else 0.5 + 0.25 * float (k % 7) - 0.1 * float (k % 3))
                for name, f in fs do
                    let v0, g0 = gradWith false f a
                    let v1, g1 = gradWith true f a
                    same (sprintf "%s, n=%d: value" name n) v0 v1
                    Expect.equal g1.Length n (sprintf "%s, n=%d: the gradient's length" name n)
                    for k in 0 .. n - 1 do same (sprintf "%s, n=%d: ∂f/∂x%d" name n k) g0[k] g1[k]
        }

        test "the in-place gradient of a sliced function is the sweep's adjoint array (the trace's length); the copied-out one is n long" {
            let a = Array.init 4096 (fun k -> 0.3 + 0.001 * float k)
            let arrayLength inPlace =
                let before = GradientForm.InPlace
                GradientForm.InPlace <- inPlace
                try
                    let struct (_, g) = Ad.Grad("test", Func<Vec, Real> rosen, Vec a)
                    Expect.equal g.Length 4096 "the gradient has n elements"
                    Expect.equal g.Off 0 "from the array's start"
                    g.Arr.Length
                finally
                    GradientForm.InPlace <- before
            Expect.equal (arrayLength true) (4096 + 8) "in place: the adjoints of the n inputs, the 7 vector ops and the sum (no copy)"
            Expect.equal (arrayLength false) 4096 "copied out: a fresh array of n"
        }

        test "a function with many scalar nodes per element takes the copied-out form, and its gradient is exact" {
            let a = [| 0.5; -1.5; 2.0; 0.25 |]
            let f (x: Vec) = Vec.Sum x * x[0] * x[1] * x[2] * x[3] // 4 inputs, 1 vector op and 4 scalar nodes: > n/8 others
            let struct (_, g) = Ad.Grad("test", Func<Vec, Real> f, Vec a)
            Expect.equal g.Arr.Length 4 "a fresh array of n: the copied-out form"
            let s = Array.sum a
            let p = a[0] * a[1] * a[2] * a[3]
            for i in 0 .. 3 do Check.close 1e-15 (sprintf "∂f/∂x%d" i) (p + s * p / a[i]) g[i].V
        }

        test "each call's gradient is the caller's: a later call does not change it" {
            let a = Array.init 1000 (fun k -> 0.5 + 0.001 * float k)
            let b = Array.init 1000 (fun k -> -0.5 + 0.002 * float k)
            let struct (_, g1) = Ad.Grad("test", Func<Vec, Real> rosen, Vec a)
            let kept = g1.ToArray()
            let struct (_, g2) = Ad.Grad("test", Func<Vec, Real> rosen, Vec b)
            let again = g1.ToArray()
            Expect.equal g1.Length 1000 "length n"
            Expect.isTrue g1.IsConstant "a constant vector"
            for k in 0 .. 999 do same (sprintf "g1[%d] after another call" k) kept[k] again[k]
            Expect.notEqual (g2.ToArray()) kept "the second call's gradient is another"
            same "the last element through a slice" kept[999] (g1.Slice(999, 1)[0]).V
        }

        test "a Plain trace's inputs are written as their kinds only" {
            onFreshThread (fun () ->
                let t = Traces.Open(TraceKind.Reverse, "test")
                try
                    Expect.isTrue t.Plain "a first-order trace at the bottom of the stack is Plain"
                    let x = Vec.Input(t, Vec(Array.init 1000 (fun k -> float k)), null)
                    let first = x.Ref.Slot
                    for i in first .. first + 999 do
                        Expect.equal t.Kinds[i] NodeKind.Input "an input's kind"
                        Expect.equal t.Arg0[i] 0 "its argument slot is not written (a fresh trace's arrays are zeros)"
                finally
                    Traces.Close(t, false))
        }
    ]
