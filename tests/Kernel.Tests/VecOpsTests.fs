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
