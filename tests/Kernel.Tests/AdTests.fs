module Hybrid.Kernel.Tests.AdTests

open System
open Expecto
open Hybrid.Kernel
open Hybrid.Kernel.Tests.Check

let grad (f: Vec -> Real) (x: float[]) =
    let struct (v, g) = Ad.Grad("test", Func<Vec, Real>(f), Vec x)
    v.V, g.ToArray()

let rosenbrockLoop (x: Vec) =
    let mutable s = Real 0.0
    for i in 0 .. x.Length - 2 do
        let a = x[i + 1] - x[i] * x[i]
        let b = 1.0 - x[i]
        s <- s + 100.0 * a * a + b * b
    s

let rosenbrockSliced (x: Vec) =
    let head = x[.. x.Length - 2]
    let tail = x[1..]
    Vec.Sum(100.0 * Vec.Square(tail - Vec.Square head) + Vec.Square(1.0 - head))

let rosenbrockGrad (x: float[]) =
    let n = x.Length
    let g = Array.zeroCreate n
    for i in 0 .. n - 2 do
        let a = x[i + 1] - x[i] * x[i]
        g[i] <- g[i] - 400.0 * a * x[i] - 2.0 * (1.0 - x[i])
        g[i + 1] <- g[i + 1] + 200.0 * a
    g

let rosenbrockHessian (x: float[]) =
    let n = x.Length
    let h = Array2D.zeroCreate n n
    for i in 0 .. n - 2 do
        h[i, i] <- h[i, i] + 1200.0 * x[i] * x[i] - 400.0 * x[i + 1] + 2.0
        h[i, i + 1] <- h[i, i + 1] - 400.0 * x[i]
        h[i + 1, i] <- h[i + 1, i] - 400.0 * x[i]
        h[i + 1, i + 1] <- h[i + 1, i + 1] + 200.0
    h

[<Tests>]
let tests =
    testList "Ad" [
        test "grad of x² at 2 is 4" {
            let v, g = grad (fun x -> x[0] * x[0]) [| 2.0 |]
            close 0.0 "value" 4.0 v
            close 0.0 "grad" 4.0 g[0]
        }
        test "Rosenbrock: scalar loop and sliced give the closed-form gradient" {
            let x = [| -1.2; 1.0; 0.5; 2.0; -0.3 |]
            let expected = rosenbrockGrad x
            for name, f in [ "loop", rosenbrockLoop; "sliced", rosenbrockSliced ] do
                let _, g = grad f x
                for i in 0 .. x.Length - 1 do close 1e-12 (sprintf "%s g[%d]" name i) expected[i] g[i]
        }
        test "Rosenbrock Hessian from the second-order tape equals the closed form" {
            let x = [| -1.2; 1.0; 0.5; 2.0; -0.3 |]
            let expected = rosenbrockHessian x
            for name, f in [ "loop", rosenbrockLoop; "sliced", rosenbrockSliced ] do
                let tape = Ad.RecordSecondOrder("test", Func<Vec, Real>(f), Vec x)
                let h = tape.Hessian()
                tape.Release()
                for i in 0 .. x.Length - 1 do
                    for j in 0 .. x.Length - 1 do
                        close 1e-12 (sprintf "%s H[%d,%d]" name i j) expected[i, j] h[i, j]
        }
        test "perturbation confusion: d/dx [x · d/dy (x + y)] = 1" {
            let _, g =
                grad (fun x ->
                    let struct (_, inner) = Ad.Grad("inner", Func<Vec, Real>(fun y -> x[0] + y[0]), Vec [| 5.0 |])
                    x[0] * inner[0]) [| 3.0 |]
            close 0.0 "d/dx" 1.0 g[0]
        }
        test "nested grad: d/dx [x · d/dy (x · y)] at x = 1 is 2" {
            let _, g =
                grad (fun x ->
                    let struct (_, inner) = Ad.Grad("inner", Func<Vec, Real>(fun y -> x[0] * y[0]), Vec [| 2.0 |])
                    x[0] * inner[0]) [| 1.0 |]
            close 0.0 "d/dx" 2.0 g[0]
        }
        test "grad of grad: d²/dx² x³ at 2 is 12" {
            let _, g =
                grad (fun x ->
                    let struct (_, inner) = Ad.Grad("inner", Func<Vec, Real>(fun y -> y[0] * y[0] * y[0]), x)
                    inner[0]) [| 2.0 |]
            close 1e-14 "f''" 12.0 g[0]
        }
        test "third derivative of x⁴ at −2 through nested reverse is −48 (unused NaN partials do not poison adjoints)" {
            // the inner levels compute ∂/∂y x^y = x^y·log x on the tape below even for a constant
            // exponent; log(−2) is NaN, and a zero adjoint times that partial must contribute nothing
            let d (f: Vec -> Real) (x: Vec) =
                let struct (_, g) = Ad.Grad("inner", Func<Vec, Real>(f), x)
                g[0]
            let _, g = grad (d (d (fun x -> Real.Pow(x[0], 4.0)))) [| -2.0 |]
            close 1e-12 "third derivative" -48.0 g[0]
        }
        test "Jvp of sin(x)·y" {
            let struct (y, t) =
                Ad.Jvp("jvp", Func<Vec, Vec>(fun x -> Vec.OfReals [| Real.Sin(x[0]) * x[1] |]), Vec [| 0.5; 3.0 |], Vec [| 1.0; 2.0 |])
            close 1e-15 "value" (sin 0.5 * 3.0) (y.ToArray()[0])
            close 1e-15 "tangent" (cos 0.5 * 3.0 + sin 0.5 * 2.0) (t.ToArray()[0])
        }
        test "forward over reverse: Jvp of the gradient is the Hessian column" {
            let x = [| -1.2; 1.0; 0.5 |]
            let gradF = Func<Vec, Vec>(fun x ->
                let struct (_, g) = Ad.Grad("inner", Func<Vec, Real>(rosenbrockLoop), x)
                g)
            let struct (_, col) = Ad.Jvp("jvp", gradF, Vec x, Vec [| 0.0; 1.0; 0.0 |])
            let h = rosenbrockHessian x
            for i in 0 .. 2 do close 1e-12 (sprintf "H[%d,1]" i) h[i, 1] (col.ToArray()[i])
        }
        test "a value escaping its transform is an error" {
            let mutable kept = Real 0.0
            grad (fun x -> kept <- x[0] * 2.0; kept) [| 1.0 |] |> ignore
            Expect.throwsT<EscapedValueException> (fun () -> grad (fun x -> x[0] + kept) [| 1.0 |] |> ignore) "escaped value"
        }
        test "Vjp pullback is reusable" {
            let struct (y, pb) = Ad.Vjp("vjp", Func<Vec, Vec>(fun x -> Vec.OfReals [| x[0] * x[1]; x[0] + x[1] |]), Vec [| 2.0; 3.0 |])
            Expect.equal (y.ToArray()) [| 6.0; 5.0 |] "outputs"
            Expect.equal ((pb.Apply(Vec [| 1.0; 0.0 |])).ToArray()) [| 3.0; 2.0 |] "row 1"
            Expect.equal ((pb.Apply(Vec [| 0.0; 1.0 |])).ToArray()) [| 1.0; 1.0 |] "row 2"
        }
    ]

[<Tests>]
let replay =
    testList "Ad.replay" [
        test "PushForward replays the recording forward: J·v equals Ad.Jvp, and ⟨u, Jv⟩ = ⟨Jᵀu, v⟩" {
            let f = Func<Vec, Vec>(fun x -> Vec.OfReals [| x[0] * Real.Sin x[1]; Vec.Sum(Vec.Exp x * x[2]) |] )
            let x = [| 0.3; -1.2; 0.7 |]
            let struct (_, pb) = Ad.Vjp("vjp", f, Vec x)
            let rnd = Random 7
            for _ in 1..5 do
                let v = Array.init 3 (fun _ -> rnd.NextDouble() - 0.5)
                let u = Array.init 2 (fun _ -> rnd.NextDouble() - 0.5)
                let jv = pb.PushForward v
                let struct (_, jvFwd) = Ad.Jvp("jvp", f, Vec x, Vec v)
                for i in 0..1 do close 1e-14 (sprintf "Jv[%d]" i) (jvFwd.ToArray()[i]) jv[i]
                let jtu = (pb.Apply(Vec u)).ToArray()
                close 1e-14 "inner product" (Array.fold2 (fun s a b -> s + a * b) 0.0 u jv) (Array.fold2 (fun s a b -> s + a * b) 0.0 jtu v)
        }
    ]

[<Tests>]
let blocks =
    testList "Ad.blocks" [
        test "a Hessian replayed k directions at a time equals one direction at a time (scalar, vector and matrix ops)" {
            let a = MathNet.Numerics.LinearAlgebra.Matrix<float>.Build.DenseOfArray(array2D [ [ 2.0; 0.3; 0.1 ]; [ 0.3; 1.5; -0.2 ]; [ 0.1; -0.2; 1.2 ] ])
            let f (x: Vec) =
                let m = Mat(x[0..8], 3, 3)
                let s = Mat.LogDet(Mat.op_Implicit a + m * Mat.Transpose m)
                let v = Mat.MatVec(Mat.op_Implicit a, x[6..8])
                s + Vec.Sum(Vec.Sin(x[0..4]) * x[5..9]) + Vec.Dot(v, Vec.Exp(x[1..3])) + x[9] * x[0] / (1.0 + x[3] * x[3])
            let x = Array.init 10 (fun i -> 0.1 * float i - 0.35)
            let tape = Ad.RecordSecondOrder("test", Func<Vec, Real>(f), Vec x)
            let h1 = tape.Hessian(1)
            for k in [ 2; 3; 7; 10 ] do
                let hk = tape.Hessian(k)
                for i in 0 .. 9 do
                    for j in 0 .. 9 do close 1e-12 (sprintf "k=%d H[%d,%d]" k i j) h1[i, j] hk[i, j]
            tape.Release()
        }
    ]

[<Tests>]
let allocation =
    // alone: a test elsewhere that trims the pools (Memory.Trim, a forced full GC) while this one
    // measures would make it count the buffers rented again
    testSequenced <| testList "Ad.allocation" [
        test "a gradient allocates the same few objects whatever the number of scalar operations (none per operation)" {
            let chain (ops: int) =
                Func<Vec, Real>(fun x ->
                    let mutable s = x[0]
                    for _ in 1 .. ops do s <- s * x[1] + Real.Sin s
                    s)
            let x = Vec [| 0.3; 0.9 |]
            let measure ops =
                let f = chain ops
                for _ in 1..3 do Ad.Grad("alloc", f, x) |> ignore // warm up: pooled tape and buffers grow once
                // the least of three batches: a one-off event (a pool refilled after a collection
                // elsewhere in the process) is not a per-gradient cost, and per-operation
                // allocation would show in every batch (30 000 ops: ≥ 100 KB)
                let batch () =
                    let before = GC.GetAllocatedBytesForCurrentThread()
                    for _ in 1..10 do Ad.Grad("alloc", f, x) |> ignore
                    (GC.GetAllocatedBytesForCurrentThread() - before) / 10L
                List.min [ batch (); batch (); batch () ]
            let small = measure 100
            let large = measure 10_000
            Expect.isLessThanOrEqual large (small + 64L) (sprintf "bytes per gradient: %d for 300 ops, %d for 30 000 ops" small large)
            Expect.isLessThan small 2048L "a gradient's fixed cost stays small"
        }
    ]

[<Tests>]
let escapes =
    testList "Ad.escape" [
        test "reading the values of a vector kept from a finished transform throws instead of returning recycled storage" {
            let mutable kept: Vec = null
            Ad.Grad("escape", Func<Vec, Real>(fun x -> kept <- Vec.Exp x; Vec.Sum kept), Vec [| 1.0; 2.0 |]) |> ignore
            Expect.throwsT<EscapedValueException> (fun () -> kept.ToArray() |> ignore) "ToArray of an escaped op output"
            Expect.throwsT<EscapedValueException> (fun () -> kept[0] |> ignore) "indexing an escaped op output"
        }
    ]

[<Tests>]
let replays =
    testList "Ad.replay" [
        test "a forward replay with no direction says so (it named a tangent length mismatch)" {
            let struct (_, pb) = Ad.Vjp("Ad.Vjp", Func<Vec, Vec>(fun x -> x * 2.0), Vec [| 1.0; 2.0 |])
            let e = Expect.throwsC (fun () -> pb.PushForwardBlock([||], 0) |> ignore) id
            Expect.stringContains e.Message "at least one" "the message says a direction is needed"
            Expect.equal (pb.PushForwardBlock([| 1.0; 0.0; 0.0; 1.0 |], 2)) [| 2.0; 0.0; 0.0; 2.0 |] "two directions"
            pb.Release()
        }
    ]

/// The gradient sweep runs over an adjoint buffer the trace keeps all zeros between calls: every
/// slot it reads it clears. A slot left non-zero would be added into the next gradient's adjoints.
[<Tests>]
let gradientSweep =
    // every node kind: inputs, scalar ops, constants lifted onto the trace (Vec.OfReals of a mix),
    // element reads of a vector op's output, vector ops with vector outputs and scalar outputs (Sum, Dot)
    let mixed (x: Vec) =
        let e = Vec.Exp(x * 0.5)
        let lifted = Vec.OfReals [| e[1]; Real 2.0; x[0] * x[2] |]
        Vec.Sum(Vec.Square lifted) + Vec.Dot(e, x) * e[0] + Real.Sin(x[1]) * x[2]
    let xs = [| 0.3; -1.2; 0.7 |]
    let expected (x: float[]) =
        // ∂/∂x of Σ [e₁², 4, (x₀x₂)²] + (e·x)·e₀ + sin(x₁)·x₂ with e = exp(x/2), by hand
        let e = x |> Array.map (fun v -> Math.Exp(0.5 * v))
        let dot = Array.fold2 (fun s a b -> s + a * b) 0.0 e x
        let g = Array.zeroCreate 3
        g[1] <- g[1] + 2.0 * e[1] * 0.5 * e[1]
        g[0] <- g[0] + 2.0 * x[0] * x[2] * x[2]
        g[2] <- g[2] + 2.0 * x[0] * x[2] * x[0]
        for k in 0 .. 2 do g[k] <- g[k] + (0.5 * e[k] * x[k] + e[k]) * e[0]
        g[0] <- g[0] + dot * 0.5 * e[0]
        g[1] <- g[1] + Math.Cos(x[1]) * x[2]
        g[2] <- g[2] + Math.Sin(x[1])
        g
    testSequenced <| testList "Ad.gradient sweep" [
        test "leaves the trace's adjoint buffer all zeros, for every node kind" {
            let _, g = grad mixed xs
            Array.iteri2 (fun k e a -> close 1e-13 (sprintf "∂/∂x%d against the hand-written gradient" k) e a) (expected xs) g
            // the next trace opened at the bottom of this thread's stack is the same trace object
            let t = Traces.Open(TraceKind.Reverse, "test")
            try
                let z = t.ZeroAdjoints
                Expect.isNotNull z "the trace kept its adjoint buffer"
                Expect.isTrue (z.Length >= 20) "it covers the recording"
                Expect.equal (z |> Array.filter (fun v -> v <> 0.0) |> Array.length) 0 "every slot was cleared"
            finally
                Traces.Close(t, false)
        }
        test "gradients one after another on the same trace equal gradients each on a fresh one" {
            let ys = [| 1.1; 0.4; -0.2 |]
            let _, g1 = grad mixed xs
            let _, g2 = grad (fun x -> 3.0 * mixed x + x[1]) ys
            let _, g3 = grad mixed xs
            Expect.equal g3 g1 "bitwise the same as the first call"
            Array.iteri2 (fun k e a -> close 1e-13 (sprintf "the second function's ∂/∂x%d" k) e a) (Array.map2 (fun a b -> 3.0 * a + b) (expected ys) [| 0.0; 1.0; 0.0 |]) g2
        }
    ]

/// A Plain trace (first-order reverse at the bottom of its thread's stack) records `Real`'s operators
/// as compact nodes (Nodes.fs): their operands and only the partials the node's shape does not fix,
/// in the trace's Tape. The sweeps must give what the general nodes of every other trace give.
[<Tests>]
let compactTape =
    /// A random straight-line program over two inputs, constant Reals and literals, every op kind of
    /// the compact tape among them (x·y, x ± y, x ± c, c − x, c·x, x / c, c / x, −x, unary rules).
    let program (seed: int) =
        let rnd = Random seed
        [ for _ in 1 .. 60 -> rnd.Next 14, rnd.Next 1000, rnd.Next 1000, 0.25 + rnd.NextDouble() ]
    let run (ops: (int * int * int * float) list) (x: Vec) =
        let pool = ResizeArray<Real>([ x[0]; x[1]; Real 0.7 ])
        for (op, i, j, c) in ops do
            let a = pool[i % pool.Count]
            let b = pool[j % pool.Count]
            pool.Add(
                match op with
                | 0 -> a * b
                | 1 -> a + b
                | 2 -> a - b
                | 3 -> a / (1.5 + b * b)
                | 4 -> a + c
                | 5 -> a - c
                | 6 -> c - a
                | 7 -> c * a
                | 8 -> a / c
                | 9 -> c / (1.5 + a * a)
                | 10 -> -a
                | 11 -> Real.Sin a
                | 12 -> Real.Tanh a
                | _ -> a * c + b)
        let mutable s = Real 0.0
        for k in pool.Count - 20 .. pool.Count - 1 do s <- s + pool[k]
        s
    testList "Ad.compact tape" [
        test "Real's operators on a Plain trace store each node's operands and only the partials its shape does not fix" {
            let t = Traces.Open(TraceKind.Reverse, "test")
            try
                Expect.isTrue t.Plain "a first-order reverse trace at the bottom is Plain"
                let x = Vec.Input(t, Vec [| 0.3; 1.7 |], null)
                let a = x[0]
                let b = x[1]
                let first = t.Count
                let ys = [ a * b; a - b; a + b; 1.0 - a; a - 2.0; 3.0 * a; -a; Real.Sin a; 2.0 + b; a / 4.0 ]
                let kinds = Array.sub t.Kinds first ys.Length
                Expect.equal kinds
                    [| NodeKind.Binary; NodeKind.Sub; NodeKind.Add; NodeKind.Minus; NodeKind.Plus
                       NodeKind.Unary; NodeKind.Minus; NodeKind.Unary; NodeKind.Plus; NodeKind.Unary |] "the node kinds"
                // units of 4 bytes: x·y 6, x − y 2, x + y 2, 1 − x 1, x − 2 1, 3x 3, −x 1, sin x 3, 2 + y 1, x / 4 3
                Expect.equal t.TapeLength 23 "the tape holds 92 bytes for the ten nodes (the general form: 240)"
                Expect.equal (t.Tape[0], t.Tape[1]) (a.I, b.I) "x·y's operands"
                Expect.equal (BitConverter.Int64BitsToDouble(int64 (uint32 t.Tape[2]) ||| (int64 t.Tape[3] <<< 32))) 1.7 "x·y's ∂/∂x = y"
            finally
                Traces.Close(t, false)
        }
        test "compact nodes give bitwise the gradient of the general nodes; their pullback and forward replay agree" {
            for seed in 1 .. 20 do
                let ops = program seed
                let f = Func<Vec, Real>(run ops)
                let x = Vec [| 0.3 + 0.01 * float seed; -0.8 |]
                let struct (value, g) = Ad.Grad("test", f, x)
                // a second-order tape records the general nodes (Arg0/Arg1/D0/D1), swept by Sweep.reverse
                let tape = Ad.RecordSecondOrder("test", f, x)
                Expect.equal (g.ToArray()) tape.Gradient (sprintf "seed %d: the gradient of the compact tape" seed)
                Expect.equal value.V tape.Value "the value"
                tape.Release()
                let struct (_, pb) = Ad.Vjp("test", Func<Vec, Vec>(fun v -> Vec.OfReals [| run ops v |]), x)
                Expect.equal ((pb.Apply(Vec [| 1.0 |])).ToArray()) (g.ToArray()) "the pullback (Sweep.reverse of the compact tape)"
                for v in [ [| 1.0; 0.0 |]; [| 0.0; 1.0 |]; [| 0.6; -1.3 |] ] do
                    let struct (_, jv) = Ad.Jvp("test", Func<Vec, Vec>(fun v -> Vec.OfReals [| run ops v |]), x, Vec v)
                    Expect.equal (pb.PushForward v) (jv.ToArray()) "J·v by the forward replay of the compact tape and by a forward trace"
                pb.Release()
        }
        test "a Plain trace's inputs are their kind byte only (the node arrays untouched), so the trace must stay Plain" {
            let t = Traces.Open(TraceKind.Reverse, "test")
            try
                let first = t.Count
                for i in first .. first + 2 do
                    t.Arg0[i] <- 777
                    t.D0[i] <- 7.5
                let x = Vec.Input(t, Vec [| 0.3; 1.7; -2.0 |], null)
                Expect.equal (Array.sub t.Kinds first 3) [| NodeKind.Input; NodeKind.Input; NodeKind.Input |] "three input kinds"
                Expect.equal (Array.sub t.Arg0 first 3) [| 777; 777; 777 |] "no operand written for an input"
                Expect.equal (Array.sub t.D0 first 3) [| 7.5; 7.5; 7.5 |] "no partial written for an input"
                Expect.throws (fun () -> t.EnableSecondOrder()) "second partials cannot start after bare inputs"
                let y = x[0] * x[1] + x[2]
                let g = Array.zeroCreate 3
                Sweep.gradient t y.I x.Ref.Slot (Span g)
                Expect.equal g [| 1.7; 0.3; 1.0 |] "the gradient over bare inputs"
            finally
                Traces.Close(t, false)
        }
        test "Trace.PlainId is the id exactly while the trace is open and Plain; a value of a closed trace whose object is reused still throws" {
            let t = Traces.Open(TraceKind.Reverse, "test")
            let id = t.Id
            Expect.equal t.PlainId id "open and Plain"
            let x = Vec.Input(t, Vec [| 2.0 |], null)
            let stale = x[0]
            Traces.Close(t, false)
            Expect.equal t.PlainId 0 "closed"
            let second = Traces.Open(TraceKind.Reverse, "test")
            try
                Expect.isTrue (obj.ReferenceEquals(second, t)) "the thread's trace object is reused"
                Expect.equal second.PlainId second.Id "the new opening"
                Expect.throws (fun () -> stale * stale |> ignore) "the stale value's id is not the reused trace's"
                Expect.throwsT<EscapedValueException> (fun () -> stale + 1.0 |> ignore) "x + c with a stale x"
                Expect.throwsT<EscapedValueException> (fun () -> Real.Sin stale |> ignore) "f(x) with a stale x"
            finally
                Traces.Close(second, false)
            let s = Traces.Open(TraceKind.Reverse, "test")
            try
                s.EnableSecondOrder()
                Expect.equal s.PlainId 0 "a second-order trace is not Plain"
            finally
                Traces.Close(s, false)
            let f = Traces.Open(TraceKind.Forward, "test")
            try Expect.equal f.PlainId 0 "a forward trace is not Plain"
            finally Traces.Close(f, false)
        }
        test "compact pushes across many growths of the node arrays and the tape: Limit stays safe, the gradient bitwise the general nodes'" {
            // 4 000 steps of x·y (6 units), sin (3), x + y (2) and −x (1) from 256 slots / 1 024 units:
            // both the node arrays and the tape double several times, in different steps
            let body (v: Vec) (check: Trace -> unit) =
                let mutable a = v[0]
                let mutable b = v[1]
                for k in 1 .. 4000 do
                    let c =
                        match k % 4 with
                        | 0 -> a * b
                        | 1 -> Real.Sin a
                        | 2 -> a + b
                        | _ -> -b
                    b <- a
                    a <- c * 0.999
                    let t = Traces.Top
                    if not (isNull t) then check t
                a + b
            let mutable bad = 0
            let check (t: Trace) =
                if t.Plain && (t.Limit > t.Capacity || t.TapeLength + 6 * (t.Limit - t.Count) > t.Tape.Length) then bad <- bad + 1
            let x = Vec [| 0.4; 0.9 |]
            let struct (value, g) = Ad.Grad("test", Func<Vec, Real>(fun v -> body v check), x)
            Expect.equal bad 0 "Count < Limit always leaves a node slot and 6 tape units per slot up to Limit"
            let tape = Ad.RecordSecondOrder("test", Func<Vec, Real>(fun v -> body v ignore), x)
            Expect.equal (g.ToArray()) tape.Gradient "the gradient of the compact tape after its growths"
            Expect.equal value.V tape.Value "the value"
            tape.Release()
        }
    ]
