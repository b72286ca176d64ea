/// Compile/Loops.fs and the loop code of Emit.fs: the recognizer's loops describe the flat graph
/// (every trip), and the passes with loops rolled give the interpreter's numbers to the last bit —
/// every slot's value, adjoint, tangent and adjoint tangent — for loops of several shapes and for
/// random periodic programs.
module Hybrid.Kernel.Tests.LoopsTests

open System
open System.Runtime.InteropServices
open Expecto
open FsCheck
open FsCheck.FSharp
open Hybrid.Kernel

let private record (f: Vec -> Real) (x: float[]) : Graph =
    match GraphRecorder.record "LoopsTests" (Func<Vec, Real[]>(fun v -> [| f v |])) x with
    | Choice1Of2 g -> g
    | Choice2Of2 u -> failwithf "not compilable: %s" u.Reason

/// Every slot of a path's four passes, and whether its guards hold.
type private Run = { V: float[]; A: float[]; S: float[]; AT: float[]; Ok: bool; Grad: float[]; LeanOk: bool; LeanOut: float; LeanGrad: float[] }

/// The passes by the interpreter (the reference).
let private interpret (g: Graph) (x: float[]) (dir: float[]) =
    let z () = Array.zeroCreate<float> g.Count
    let v, a, s, at = z (), z (), z (), z ()
    let d0, d1, h00, h01, h11 = z (), z (), z (), z (), z ()
    Array.blit x 0 v 0 g.N
    let ok = Interpreter.forward g v
    Interpreter.partialsAll g v d0 d1
    if g.Outputs[0] >= 0 then a[g.Outputs[0]] <- 1.0
    Interpreter.reverse g v a d0 d1
    Array.blit dir 0 s 0 g.N
    Interpreter.tangent g v s d0 d1
    Interpreter.hessiansAll g v d0 d1 h00 h01 h11
    Interpreter.reverseTangent g v a s at d0 d1 h00 h01 h11
    let out = if g.Outputs[0] >= 0 then v[g.Outputs[0]] else g.OutConst[0]
    { V = v; A = a; S = s; AT = at; Ok = ok; Grad = Array.sub a 0 g.N; LeanOk = ok; LeanOut = out; LeanGrad = Array.sub a 0 g.N }

/// The passes by the emitted IL, with the given loops rolled (none: straight-line), lanes of width w
/// (0: none) in the lean passes.
let private compiledWith (w: int) (g: Graph) (loops: Loop[]) (guardLoops: Loop[]) (x: float[]) (dir: float[]) =
    let pin () = GC.AllocateArray<float>(g.Count, true)
    let v, a, s, at = pin (), pin (), pin (), pin ()
    let p (arr: float[]) = Marshal.UnsafeAddrOfPinnedArrayElement(arr, 0)
    Array.blit x 0 v 0 g.N
    for f in Emit.forward g loops do f.Invoke(p v, 0n, 0n, 0n)
    let ok = Emit.guards g guardLoops |> Array.forall (fun f -> f.Invoke(p v))
    if g.Outputs[0] >= 0 then a[g.Outputs[0]] <- 1.0
    let r = Emit.reverse g loops true
    for k = r.Length - 1 downto 0 do r[k].Invoke(p v, p a, 0n, 0n)
    Array.blit dir 0 s 0 g.N
    for f in Emit.tangent g loops do f.Invoke(p v, 0n, p s, 0n)
    let rt = Emit.reverseTangent g loops
    for k = rt.Length - 1 downto 0 do rt[k].Invoke(p v, p a, p s, p at)
    // the sweep that keeps only the gradient
    let lean = pin ()
    if g.Outputs[0] >= 0 then lean[g.Outputs[0]] <- 1.0
    let r = Emit.reverseAt w g loops false
    for k = r.Length - 1 downto 0 do r[k].Invoke(p v, p lean, 0n, 0n)
    // the lean passes (Value, GradAndValue): values of loops in lanes only where later code reads them,
    // and the sweep reading those, over memory holding NaN except the inputs and the ranges it clears
    let vl = pin ()
    Array.fill vl g.N (g.Count - g.N) nan
    Array.blit x 0 vl 0 g.N
    for f in Emit.forwardLeanAt w g loops do f.Invoke(p vl, 0n, 0n, 0n)
    let leanOk = Emit.guards g guardLoops |> Array.forall (fun f -> f.Invoke(p vl))
    let al = pin ()
    Array.fill al 0 g.Count nan
    for struct (start, length) in Emit.leanClearAt w g loops do Array.fill al start length 0.0
    if g.Outputs[0] >= 0 then al[g.Outputs[0]] <- 1.0
    for k = r.Length - 1 downto 0 do r[k].Invoke(p vl, p al, 0n, 0n)
    let out = if g.Outputs[0] >= 0 then vl[g.Outputs[0]] else g.OutConst[0]
    { V = v; A = a; S = s; AT = at; Ok = ok; Grad = Array.sub lean 0 g.N; LeanOk = leanOk; LeanOut = out; LeanGrad = Array.sub al 0 g.N }

/// The lean passes in place (`Emit.forwardLeanInPlace`, `guardsInPlace`, `reverseInPlace`, as
/// `GradAndValue` runs them where `Emit.inPlaceOk`; else over the workspace, x copied in): x and the
/// gradient in arrays of their own, the workspace NaN everywhere — its input slots included — and
/// the gradient NaN but where the sweep clears. (in place, guards, the output's value, the gradient.)
let private inPlace (g: Graph) (loops: Loop[]) (guardLoops: Loop[]) (x: float[]) =
    let on = Emit.inPlaceOk g loops guardLoops
    let pin (length: int) = GC.AllocateArray<float>(max 1 length, true)
    let p (arr: float[]) = Marshal.UnsafeAddrOfPinnedArrayElement(arr, 0)
    let v, a, xs, gs = pin g.Count, pin g.Count, pin g.N, pin g.N
    for arr in [ v; a; gs ] do Array.fill arr 0 arr.Length nan
    Array.blit x 0 xs 0 g.N
    if not on then Array.blit x 0 v 0 g.N
    let px, pg = if on then p xs, p gs else p v, p a
    for f in Emit.forwardLeanInPlace g loops on do f.Invoke(p v, 0n, px, 0n)
    let ok = Emit.guardsInPlace g guardLoops on |> Array.forall (fun f -> f.Invoke(p v, px))
    let gradSlot (s: int) = if on && s < g.N then gs, s else a, s
    for struct (start, length) in Emit.leanClear g loops do
        for s in start .. start + length - 1 do
            let arr, i = gradSlot s
            arr[i] <- 0.0
    let o = g.Outputs[0]
    if o >= 0 then
        let arr, i = gradSlot o
        arr[i] <- 1.0
    let r = Emit.reverseInPlace g loops on
    for k = r.Length - 1 downto 0 do r[k].Invoke(p v, p a, px, pg)
    let out = if o < 0 then g.OutConst[0] elif o < g.N then x[o] else v[o]
    on, ok, out, Array.sub (if on then gs else a) 0 g.N

/// The machine's lane width (0: lanes off).
let private width () = if Emit.Lanes then Emit.laneWidth () else 0
let private compiled g loops guardLoops x dir = compiledWith (width ()) g loops guardLoops x dir

/// Jvp's joint pass (values with tangents, only what is read afterwards stored, lanes of width w; 0:
/// none), over memory holding NaN but the inputs: the output's value and tangent, the guards, and
/// the values and tangents left.
let private jvpPassWith (w: int) (g: Graph) (loops: Loop[]) (guardLoops: Loop[]) (x: float[]) (dir: float[]) =
    let pin () = GC.AllocateArray<float>(g.Count, true)
    let v, s = pin (), pin ()
    let p (arr: float[]) = Marshal.UnsafeAddrOfPinnedArrayElement(arr, 0)
    Array.fill v 0 g.Count nan
    Array.fill s 0 g.Count nan
    Array.blit x 0 v 0 g.N
    Array.blit dir 0 s 0 g.N
    for f in Emit.forwardTangentAt w false g loops do f.Invoke(p v, 0n, p s, 0n)
    let ok = Emit.guards g guardLoops |> Array.forall (fun f -> f.Invoke(p v))
    let o = g.Outputs[0]
    ok, (if o >= 0 then [| v[o]; s[o] |] else [||]), v, s

/// Jvp's pass reading the inputs where the caller holds them (`Emit.jvpAt`, as the compiled Jvp
/// runs it): x and dir in arrays of their own, the workspace NaN everywhere, its input slots too —
/// copied there only where `Emit.inputsDirect` says the pass or the guards read them there. The
/// guards and the output's value and tangent (an input's from x and dir).
let private jvpInPlace (w: int) (g: Graph) (loops: Loop[]) (guardLoops: Loop[]) (x: float[]) (dir: float[]) =
    let pin (n: int) = GC.AllocateArray<float>(max 1 n, true)
    let v, s, xs, ds = pin g.Count, pin g.Count, pin g.N, pin g.N
    let p (arr: float[]) = Marshal.UnsafeAddrOfPinnedArrayElement(arr, 0)
    Array.fill v 0 g.Count nan
    Array.fill s 0 g.Count nan
    Array.blit x 0 xs 0 g.N
    Array.blit dir 0 ds 0 g.N
    if not (Emit.inputsDirect g loops) then
        Array.blit x 0 v 0 g.N
        Array.blit dir 0 s 0 g.N
    for f in Emit.jvpAt w g loops do f.Invoke(p v, p xs, p s, p ds)
    let ok = Emit.guards g guardLoops |> Array.forall (fun f -> f.Invoke(p v))
    let o = g.Outputs[0]
    ok, (if o < 0 then [||] elif o < g.N then [| x[o]; dir[o] |] else [| v[o]; s[o] |])

let private jvpPass (w: int) g loops guardLoops x dir =
    let ok, out, _, _ = jvpPassWith w g loops guardLoops x dir
    ok, out

/// Hvp's joint passes (values with tangents, then adjoints with adjoint tangents; lanes of width w),
/// over memory holding NaN but the inputs and the ranges the sweep clears: the inputs' adjoints and
/// adjoint tangents.
let private hvpJoint (w: int) (g: Graph) (loops: Loop[]) (x: float[]) (dir: float[]) =
    let pin () = GC.AllocateArray<float>(g.Count, true)
    let v, a, s, at = pin (), pin (), pin (), pin ()
    let p (arr: float[]) = Marshal.UnsafeAddrOfPinnedArrayElement(arr, 0)
    for arr in [ v; a; s; at ] do Array.fill arr 0 g.Count nan
    Array.blit x 0 v 0 g.N
    Array.blit dir 0 s 0 g.N
    for f in Emit.forwardTangentAt w true g loops do f.Invoke(p v, 0n, p s, 0n)
    for struct (start, length) in Emit.leanClearAt w g loops do
        Array.fill a start length 0.0
        Array.fill at start length 0.0
    if g.Outputs[0] >= 0 then a[g.Outputs[0]] <- 1.0
    let r = Emit.reverseJointAt w g loops
    for k = r.Length - 1 downto 0 do r[k].Invoke(p v, p a, p s, p at)
    Array.sub a 0 g.N, Array.sub at 0 g.N

/// Loops.runsOf over items 0 … items − 1 with these keys, no operands; the runs found and how many
/// item comparisons it made.
let private runsCounting (items: int) (key: int -> int) =
    let mutable compared = 0
    let same (i: int) (j: int) =
        compared <- compared + 1
        key i = key j
    let none = Array.create items -1
    let found = Loops.runsOf 0 items key same none none
    found, compared

let private sameBits (what: string) (expected: float[]) (actual: float[]) =
    for i in 0 .. expected.Length - 1 do
        if BitConverter.DoubleToInt64Bits expected[i] <> BitConverter.DoubleToInt64Bits actual[i] then
            failtestf "%s: slot %d is %.17g, the interpreter's %.17g" what i actual[i] expected[i]

let private sameRun (what: string) (expected: Run) (actual: Run) =
    Expect.equal actual.Ok expected.Ok (what + ": guards")
    sameBits (what + " values") expected.V actual.V
    sameBits (what + " adjoints") expected.A actual.A
    sameBits (what + " gradient (the sweep keeping the inputs' adjoints only)") expected.Grad actual.Grad
    sameBits (what + " tangents") expected.S actual.S
    sameBits (what + " adjoint tangents") expected.AT actual.AT
    Expect.equal actual.LeanOk expected.Ok (what + ": guards after the lean forward pass")
    sameBits (what + " value by the lean forward pass") [| expected.LeanOut |] [| actual.LeanOut |]
    sameBits (what + " gradient by the lean passes") expected.Grad actual.LeanGrad

/// g's loops describe it, and its passes rolled, straight-line and interpreted agree bitwise at
/// every point given; returns the loops.
let private check (what: string) (g: Graph) (points: (float[] * float[]) list) =
    let loops = Loops.find g
    let guardLoops = Loops.findGuards g
    for l in loops do Expect.isTrue (Loops.describes g l) (sprintf "%s: %A describes the graph" what l)
    for l in guardLoops do Expect.isTrue (Loops.describesGuards g l) (sprintf "%s: guard loop %A describes the guards" what l)
    for (x, dir) in points do
        let reference = interpret g x dir
        sameRun (sprintf "%s, rolled as %A" what loops) reference (compiled g loops guardLoops x dir)
        // the scalar loops (where Vector256 is not accelerated), and both lane widths whatever the
        // machine's (Vector512 runs in software where it is not accelerated)
        for w in [ 0; 4; 8 ] do
            if w <> width () then sameRun (sprintf "%s, rolled, lanes of width %d" what w) reference (compiledWith w g loops guardLoops x dir)
        sameRun (what + ", straight-line") reference (compiled g [||] [||] x dir)
        for ls, lg in [ loops, guardLoops; [||], [||] ] do
            let on, ok, out, grad = inPlace g ls lg x
            let what = sprintf "%s, the lean passes in place (%b, %d loops)" what on ls.Length
            Expect.equal ok reference.Ok (what + ": guards")
            sameBits (what + ": value") [| reference.LeanOut |] [| out |]
            sameBits (what + ": gradient") reference.Grad grad
        let o = g.Outputs[0]
        // Jvp's and Hvp's joint passes at both lane widths and none, and straight-line
        for w, ls, lg in [ 4, loops, guardLoops; 8, loops, guardLoops; 0, loops, guardLoops; 0, [||], [||] ] do
            let ok, out = jvpPass w g ls lg x dir
            Expect.equal ok reference.Ok (sprintf "%s, Jvp's joint pass (lanes of %d, %d loops): guards" what w ls.Length)
            sameBits (sprintf "%s, Jvp's joint pass (lanes of %d, %d loops): the output's value and tangent" what w ls.Length) (if o >= 0 then [| reference.V[o]; reference.S[o] |] else [||]) out
            let ok, out = jvpInPlace w g ls lg x dir
            Expect.equal ok reference.Ok (sprintf "%s, Jvp's pass over the caller's x and v (lanes of %d, %d loops): guards" what w ls.Length)
            sameBits (sprintf "%s, Jvp's pass over the caller's x and v (lanes of %d, %d loops): the output's value and tangent" what w ls.Length) (if o >= 0 then [| reference.V[o]; reference.S[o] |] else [||]) out
            let grad, hv = hvpJoint w g ls x dir
            sameBits (sprintf "%s, Hvp's joint passes (lanes of %d, %d loops): the gradient" what w ls.Length) (Array.sub reference.A 0 g.N) grad
            sameBits (sprintf "%s, Hvp's joint passes (lanes of %d, %d loops): H·v" what w ls.Length) (Array.sub reference.AT 0 g.N) hv
    loops

let private point (seed: int) (n: int) (lo: float) (hi: float) =
    let r = Random(seed)
    Array.init n (fun _ -> lo + (hi - lo) * r.NextDouble())

let private points (n: int) (lo: float) (hi: float) = [ for k in 1 .. 3 -> point k n lo hi, point (100 + k) n -1.0 1.0 ]

let rosenbrock (x: Vec) : Real =
    let mutable s = Real 0.0
    for i in 0 .. x.Length - 2 do
        let a = x[i + 1] - x[i] * x[i]
        let b = 1.0 - x[i]
        s <- s + 100.0 * a * a + b * b
    s

/// p ← p·(1 + x[i]/10) + sin x[i]: a carried product.
let private carried (x: Vec) : Real =
    let mutable p = Real 1.0
    for i in 0 .. x.Length - 1 do p <- p * (1.0 + 0.1 * x[i]) + Real.Sin x[i]
    p

/// Σ x[2i]·x[2i+1]: operands at stride 2.
let private strided (x: Vec) : Real =
    let mutable s = Real 0.0
    for i in 0 .. x.Length / 2 - 1 do s <- s + x[2 * i] * Real.Exp(x[2 * i + 1] * 0.5)
    s

/// |x[i] − x[i+1]| + max(x[i], 0.5), and a comparison per element (a guard in the body).
let private guarded (x: Vec) : Real =
    let mutable s = Real 0.0
    for i in 0 .. x.Length - 2 do
        let d = Real.Abs(x[i] - x[i + 1]) + Real.Max(x[i], 0.5)
        s <- if x[i] > Real -5.0 then s + d * d else s - d
    s

/// Two loops in a row, the second reading the first's result.
let private twoLoops (x: Vec) : Real =
    let mutable s = Real 0.0
    for i in 0 .. x.Length - 1 do s <- s + x[i] * x[i]
    let mutable p = Real 0.0
    for i in 0 .. x.Length - 1 do p <- p + Real.Tanh(x[i] * s)
    p

/// A descending loop (operands at stride −1).
let private descending (x: Vec) : Real =
    let mutable s = Real 0.0
    for i = x.Length - 1 downto 1 do s <- Real.Sin(s) + x[i] * x[i - 1]
    s

/// Sliced Rosenbrock: one fused loop reading x[i] and x[i + 1] (overlapping slices).
let private sliced (x: Vec) : Real =
    Vec.Sum(100.0 * Vec.Square(x[1 ..] - Vec.Square x[.. x.Length - 2]) + Vec.Square(1.0 - x[.. x.Length - 2]))

/// Two running sums in one loop, one reading x directly (a chain node with a memory operand).
let private sumAndDot (x: Vec) : Real = Vec.Sum x + Vec.Dot(x, x)

/// ÷ and −x in lanes, and a product of overlapping slices.
let private quotient (x: Vec) : Real =
    let y = x[.. x.Length - 2]
    Vec.Sum(-(y / (1.0 + y * y))) + Vec.Dot(y, x[1 ..])

/// Three overlapping slices, x[i], x[i+1] and x[i+2]: x's adjoint slots get terms from three trips.
let private threeSlices (x: Vec) : Real =
    let n = x.Length
    let a = x[.. n - 3]
    let b = x[1 .. n - 2]
    let c = x[2 ..]
    Vec.Sum(a * b + Vec.Square(c - a) * 0.5)

/// Overlapping operands at stride 2: x[2i]·x[2i+2].
let private strided2Overlap (x: Vec) : Real =
    let mutable s = Real 0.0
    for i in 0 .. x.Length / 2 - 2 do s <- s + x[2 * i] * x[2 * i + 2] - x[2 * i + 1]
    s

/// Operands at stride 2, without other rows.
let private strided2 (x: Vec) : Real =
    let mutable s = Real 0.0
    for i in 0 .. x.Length / 2 - 1 do s <- s + x[2 * i] * x[2 * i + 1] * 0.5
    s

/// A value computed before the loop read by every trip (stride 0: its adjoint gets one term per trip).
let private broadcast (x: Vec) : Real =
    let a = Real.Sin x[0]
    let mutable s = Real 0.0
    for i in 1 .. x.Length - 1 do s <- s + a * x[i] - x[i] * x[i]
    s

/// A loss with a data vector y: Σ (x − y)² + y·x.
let private dataY = Array.init 200 (fun i -> sin (float i) + 0.25)
let private dataLoss (x: Vec) : Real = Vec.Sum(Vec.Square(x - Vec dataY)) + Vec.Dot(Vec dataY, x)

// --------------------------------------------------------------------- random periodic programs

/// Where an operand of a random body op comes from.
type private Src =
    | Prev of int   // the k-th earlier op of this trip (clamped; the trip's input when none)
    | Carried of int // op k of the previous trip (the value before the loop in trip 0)
    | Elem of int * int // x[stride·t + offset]
    | Const of float
    | Before // a value computed before the loop
    | Fixed of int // op k of trip 1, read by every later trip (stride 0 into the loop)

type private Op = { F: int; A: Src; B: Src }

let private srcGen =
    Gen.frequency [
        3, Gen.choose (1, 3) |> Gen.map Prev
        2, Gen.choose (0, 5) |> Gen.map Carried
        3, Gen.zip (Gen.choose (1, 2)) (Gen.choose (0, 1)) |> Gen.map Elem
        1, Gen.elements [ 0.5; -1.25; 2.0 ] |> Gen.map Const
        1, Gen.constant Before
        1, Gen.choose (0, 5) |> Gen.map Fixed ]

let private opGen = Gen.map3 (fun f a b -> { F = f; A = a; B = b }) (Gen.choose (0, 7)) srcGen srcGen

/// Bodies of the rows lanes cover (+ − × ÷, −x, x²), and more trips.
let private laneProgramGen =
    let op = Gen.map3 (fun f a b -> { F = f; A = a; B = b }) (Gen.elements [ 0; 1; 7; 8; 9; 10; 11 ]) srcGen srcGen
    Gen.zip (Gen.choose (1, 6) |> Gen.bind (fun k -> Gen.arrayOfLength k op)) (Gen.choose (9, 40))

let private programGen = Gen.zip (Gen.choose (1, 6) |> Gen.bind (fun k -> Gen.arrayOfLength k opGen)) (Gen.choose (1, 20))

/// The program: `trips` trips of the body, each adding its last op to an accumulator.
let private program (body: Op[]) (trips: int) (x: Vec) : Real =
    let before = Real.Sin(x[0]) * 0.5
    let mutable prev = Array.create body.Length before
    let mutable s = Real 0.0
    let mutable trip1 = Array.create body.Length before
    for t in 0 .. trips - 1 do
        let now = Array.zeroCreate<Real> body.Length
        let src (j: int) (q: Src) =
            match q with
            | Prev k -> if j - k >= 0 then now[j - k] else x[t]
            | Carried k -> prev[k % body.Length]
            | Elem(stride, off) -> x[stride * t + off]
            | Const c -> Real c
            | Before -> before
            | Fixed k -> trip1[k % body.Length]
        for j in 0 .. body.Length - 1 do
            let a = src j body[j].A
            let b = src j body[j].B
            now[j] <-
                match body[j].F with
                | 0 -> a + b
                | 1 -> a - b
                | 2 -> Real.Tanh(a * b)
                | 3 -> Real.Sin a
                | 4 -> Real.Max(a, b)
                | 5 -> Real.Abs a * 0.5
                | 6 -> Real.Tanh(a) * Real.Tanh(a)
                | 7 -> a * 0.25 + b
                // (the rows lanes cover: ×, −x, ÷, x²)
                | 8 -> a * b
                | 9 -> -a
                | 10 -> a / (2.0 + b * b)
                | _ -> a * a
        prev <- now
        if t = 1 then trip1 <- now
        s <- s + now[body.Length - 1]
    s

[<Tests>]
let tests =
    testList "Loops" [
        test "Rosenbrock rolls into one loop of 8 nodes; rolled = straight-line = interpreter, bitwise" {
            let n = 50
            let g = record rosenbrock (point 7 n -2.0 2.0)
            let loops = check "Rosenbrock" g (points n -2.0 2.0)
            Expect.equal loops.Length 1 "one loop"
            Expect.equal loops[0].Period 8 "8 nodes per term"
            Expect.isGreaterThanOrEqual loops[0].Trips (n - 3) "every term but the first (its s is a constant)"
            Expect.isLessThan (Loops.straightNodes g loops) 30 "straight-line nodes"
            Expect.sequenceEqual (Array.sort (Array.distinct loops[0].Stride0)) [| 0; 1; 8 |] "strides of operand 0: constants, x[i], the body's and the carried nodes"
            Expect.isTrue (Emit.inputsDirect g loops) "Jvp's pass reads x and v where the caller holds them (no copies)"
        }
        test "a carried product" {
            let g = record carried (point 1 40 -1.0 1.0)
            let loops = check "carried" g (points 40 -1.0 1.0)
            Expect.equal loops.Length 1 "one loop"
            Expect.isTrue (loops[0].Stride0 |> Array.contains loops[0].Period) "the product is carried (stride = period)"
        }
        test "operands at stride 2" {
            let g = record strided (point 2 60 -1.0 1.0)
            let loops = check "strided" g (points 60 -1.0 1.0)
            Expect.equal loops.Length 1 "one loop"
            Expect.isTrue (Array.append loops[0].Stride0 loops[0].Stride1 |> Array.contains 2) "stride 2"
        }
        test "a body with abs, max and a comparison: nodes and guards both roll" {
            let g = record guarded (point 3 40 -2.0 2.0)
            Expect.equal g.Guards.Length 39 "one guard per element"
            Expect.isFalse (Emit.inputsDirect g (Loops.find g)) "the guards compare inputs: Jvp copies x (they read the workspace)"
            let loops = check "guarded" g (points 40 -2.0 2.0)
            Expect.equal loops.Length 1 "one node loop"
            let guardLoops = Loops.findGuards g
            Expect.equal guardLoops.Length 1 "one guard loop"
            Expect.isGreaterThanOrEqual guardLoops[0].Trips 37 "nearly every guard in it"
            // a point where one guard fails: the rolled guard loop says so, as the interpreter does
            let x = point 4 40 -2.0 2.0
            x[20] <- -6.0
            let dir = point 5 40 -1.0 1.0
            Expect.isFalse (interpret g x dir).Ok "the interpreter sees the failed guard"
            Expect.isFalse (compiled g loops guardLoops x dir).Ok "the rolled guards see it too"
        }
        test "two loops in a row" {
            let g = record twoLoops (point 6 30 -1.0 1.0)
            let loops = check "two loops" g (points 30 -1.0 1.0)
            Expect.equal loops.Length 2 "two loops"
        }
        test "a descending loop (stride −1)" {
            let g = record descending (point 8 30 -1.0 1.0)
            let loops = check "descending" g (points 30 -1.0 1.0)
            Expect.equal loops.Length 1 "one loop"
            Expect.isTrue (Array.append loops[0].Stride0 loops[0].Stride1 |> Array.contains -1) "stride −1"
        }
        test "a loop of one trip and one of two stay straight-line" {
            for n in [ 2; 3 ] do
                let g = record rosenbrock (point n n -2.0 2.0)
                let loops = check (sprintf "Rosenbrock n = %d" n) g (points n -2.0 2.0)
                Expect.isEmpty loops "no loop"
        }
        test "8·10⁶ nodes (Rosenbrock at n = 10⁶): found in linear time (seconds at most, not hours)" {
            let n = 1_000_000
            let g = record rosenbrock (point 9 n -2.0 2.0)
            // the least of three (the machine is shared)
            let timed () =
                let sw = Diagnostics.Stopwatch.StartNew()
                let loops = Loops.find g
                loops, sw.Elapsed.TotalMilliseconds
            let loops, ms = [ for _ in 1 .. 3 -> timed () ] |> List.minBy snd
            printfn "Loops.find at %d nodes: %.0f ms" g.Count ms
            Expect.equal loops.Length 1 "one loop"
            Expect.isGreaterThanOrEqual loops[0].Trips (n - 3) "every term but the first"
            // 95–270 ms on a quiet 2-core machine, 3 s at load 30; a search quadratic in the nodes
            // would take hours here, so the bound tells linear from quadratic whatever the load
            Expect.isLessThan ms 10_000.0 (sprintf "%.0f ms" ms)
        }
        test "a graph with nothing to roll costs almost no comparisons (candidates come from windows of node keys)" {
            // items a, bᵢ, c, a, bᵢ₊₁, c, …: every b has its own constant (Σ sin(xᵢ)·cᵢ), so nothing
            // rolls. Candidates from keys of two items (c, a) were 24 failing periods at every c, three
            // comparisons each: 24 per item
            let items = 30_000
            let key (i: int) = if i % 3 = 1 then 1000 + i else i % 3
            let found, compared = runsCounting items key
            Expect.isEmpty found "no loop"
            Expect.isLessThan compared (items / 10) (sprintf "%d comparisons for %d items" compared items)
            let none = Array.create items -1
            // the same items with one b alike in a run of 40 trips: that run still rolls, whole
            let key2 (i: int) = if i % 3 = 1 && not (i >= 3000 && i < 3120) then 1000 + i else i % 3
            let found = Loops.runsOf 0 items key2 (fun i j -> key2 i = key2 j) none none
            Expect.equal found.Length 1 "one loop"
            Expect.equal (found[0].Period, found[0].Trips) (3, 40) "period 3, every trip"
            Expect.isLessThanOrEqual found[0].First 3000 "from the run's start"
        }
        test "keys differing only in high bits (a 0/1 data vector's constants) still give few candidates" {
            // the logistic loss's labels y ∈ {0, 1} lifted into constant nodes: their keys 0 and
            // 0x3FF00000 (1.0's bits folded) differ only above bit 20, and the windows' rolling hash
            // of them took 2¹¹ values — one or two failing candidates per item, and one bucket for all
            let items = 20_000
            let rng = Random 20_000
            let bit = Array.init items (fun _ -> rng.NextDouble() < 0.5)
            let key (i: int) = if bit[i] then 0x3FF00000 else 0
            let found, compared = runsCounting items key
            Expect.isEmpty found "no loop in random labels"
            // a window of 16 labels recurs within MaxPeriod = 2048 items with probability 2048 / 2¹⁶ and
            // then costs at least 17 comparisons: about 0.5 per item (10 429); it was 2.6 per item (51 186)
            Expect.isLessThan compared items (sprintf "%d comparisons for %d items" compared items)
        }
        test "a body reading a fixed node of an early trip still rolls (after that trip), for every other operand" {
            // found by the property below (about 1 run in 15): a period repeated twice covering more
            // items than the loop's displaced it, and nothing was rolled
            let sources =
                [ for k in 1 .. 3 -> Prev k ] @ [ for k in 0 .. 5 -> Carried k ] @ [ for s in 1 .. 2 do for o in 0 .. 1 -> Elem(s, o) ]
                @ [ Const 0.5; Const -1.25; Before ] @ [ for k in 0 .. 5 -> Fixed k ]
            let found =
                [| { F = 0; A = Elem(2, 0); B = Elem(1, 0) }; { F = 0; A = Elem(1, 0); B = Const 2.0 }
                   { F = 3; A = Elem(2, 1); B = Carried 4 }; { F = 0; A = Elem(2, 1); B = Prev 1 }
                   { F = 0; A = Fixed 0; B = Carried 0 } |]
            let bodies = [ yield found, 16; for a in sources do for f in 0 .. 7 -> [| { F = f; A = a; B = Fixed 5 } |], 13 ]
            for body, trips in bodies do
                do
                    let n = 2 * trips + 2
                    let g = record (program body trips) (point trips n -1.0 1.0)
                    let loops = check (sprintf "%A × %d" body trips) g [ point 1 n -1.0 1.0, point 2 n -1.0 1.0 ]
                    let perTrip = (g.Count - g.N) / trips
                    Expect.isLessThanOrEqual (Loops.straightNodes g loops) (4 * perTrip + Loops.MinItems)
                        (sprintf "%A × %d: straight-line nodes (%d nodes, loops %A)" body trips g.Count loops)
        }
        test "lanes: shapes whose loops run 4 (Vector256) or 8 (Vector512) trips at once, with 1 – W scalar trips after them; lanes = scalar = interpreter, bitwise" {
            // (shifts: the offsets of the overlapping slices whose adjoints pass through registers)
            for name, f, shifts in [ "Rosenbrock (scalar loop)", rosenbrock, [| 1 |]; "sliced Rosenbrock (overlapping slices)", sliced, [| 1 |]
                                     "Sum and Dot (two chains)", sumAndDot, [||]; "÷, −x, overlapping product", quotient, [| 1 |]
                                     "three overlapping slices", threeSlices, [| 2 |]; "overlapping at stride 2", strided2Overlap, [| 1 |]
                                     "stride 2", strided2, [||]; "stride 0 (a value before the loop; the loop rotated: x[i] and x[i+1] in a trip)", broadcast, [| 1 |] ] do
                let tails = Collections.Generic.Dictionary<int, Collections.Generic.HashSet<int>>()
                for w in [ 4; 8 ] do tails[w] <- Collections.Generic.HashSet<int>()
                for n in 38 .. 45 do
                    // (the stride-2 loops have half the trips: more points so that every tail comes up)
                    let n = if name.Contains "stride 2" then 2 * n else n
                    let g = record f (point n n -1.5 1.5)
                    let loops = check (sprintf "%s, n = %d" name n) g (points n -1.5 1.5)
                    Expect.equal loops.Length 1 (sprintf "%s, n = %d: one loop" name n)
                    Expect.isTrue (Emit.inPlaceOk g loops (Loops.findGuards g)) (sprintf "%s, n = %d: the lean passes run in place" name n)
                    for w in [ 4; 8 ] do
                        Expect.equal (Emit.laneLoopsAt w g loops) 1 (sprintf "%s, n = %d: the loop runs in lanes of %d" name n w)
                        // overlapping slices at stride 1: x's adjoints but the scalar trips' are first
                        // written by the lane groups (started at zero, stored complete), so not cleared
                        if name.StartsWith "sliced" || name.StartsWith "three" then
                            let cleared = Emit.leanClearAt w g loops |> Array.sumBy (fun (struct (start, length)) -> max 0 (min (start + length) g.N - start))
                            Expect.isLessThanOrEqual cleared (w + 2) (sprintf "%s, n = %d, width %d: input adjoints cleared" name n w)
                        // Jvp's pass runs the lane trips in lanes too: it stores none of their values or
                        // tangents but the last lane trip's carried ones (the scalar loop stores a carried
                        // node's every trip)
                        let lp = loops[0]
                        let laneEnd = lp.First + ((lp.Trips - 1) / w * w - 1) * lp.Period
                        let (x, dir) = (points n -1.5 1.5).Head
                        let stores (w: int) =
                            let _, _, v, s = jvpPassWith w g loops [||] x dir
                            [ lp.First .. laneEnd - 1 ] |> List.filter (fun i -> not (Double.IsNaN v[i] && Double.IsNaN s[i])) |> List.length
                        Expect.equal (stores w) 0 (sprintf "%s, n = %d: Jvp's lane trips (width %d) store nothing" name n w)
                        Expect.isGreaterThan (stores 0) 0 (sprintf "%s, n = %d: Jvp's scalar loop stores its carried nodes" name n)
                        Expect.sequenceEqual (Emit.laneShiftsAt w g loops).[0] shifts (sprintf "%s, n = %d, width %d: the shifts" name n w)
                        tails[w].Add(loops[0].Trips - w * ((loops[0].Trips - 1) / w)) |> ignore
                    if Emit.Lanes then Expect.equal (Emit.laneLoops g loops) 1 (sprintf "%s, n = %d: the loop runs in lanes (%A)" name n (Emit.laneReasons g loops))
                for w in [ 4; 8 ] do
                    Expect.sequenceEqual (Seq.sort tails[w]) [ 1 .. w ] (sprintf "%s: every count of scalar trips after lanes of %d" name w)
        }
        test "lanes: NaN, ±∞, −0 and 0 among the inputs give the scalar loop's bits (a NaN's payload aside), at both widths" {
            let specials = [| nan; infinity; -infinity; -0.0; 0.0; 1e308; -1e-310 |]
            for name, f in [ "sliced Rosenbrock", sliced; "÷, −x, overlapping product", quotient; "three overlapping slices", threeSlices
                             "overlapping at stride 2", strided2Overlap; "stride 0", broadcast; "Sum and Dot", sumAndDot ] do
                let n = 61
                let g = record f (point 5 n -1.5 1.5)
                let at (seed: int) (every: int) =
                    let x = point seed n -1.5 1.5
                    for i in 0 .. n - 1 do if (i * 7 + seed) % every = 0 then x[i] <- specials[(i + seed) % specials.Length]
                    x, point (seed + 50) n -1.0 1.0
                // a few specials (most slots finite), then many (NaN everywhere)
                let loops = Loops.find g
                let guardLoops = Loops.findGuards g
                for x, dir in [ at 1 11; at 2 13; at 3 3; at 4 2 ] do
                    let reference = interpret g x dir
                    let scalar = compiledWith 0 g loops guardLoops x dir
                    // every bit but a NaN's sign and payload, which IEEE leaves open and the JIT's
                    // operand order decides (an add of two NaNs gives its first operand's): the scalar
                    // IL and the interpreter differ there too
                    let sameBitsOrNaN (what: string) (expected: float[]) (actual: float[]) =
                        for i in 0 .. expected.Length - 1 do
                            let e, a = expected[i], actual[i]
                            if not (Double.IsNaN e && Double.IsNaN a) && BitConverter.DoubleToInt64Bits e <> BitConverter.DoubleToInt64Bits a then
                                failtestf "%s: slot %d is %.17g, expected %.17g" what i a e
                    sameBitsOrNaN (name + ": the scalar loop's gradient against the interpreter's") reference.Grad scalar.LeanGrad
                    Expect.isTrue (Array.exists Double.IsNaN scalar.LeanGrad || Array.exists Double.IsInfinity scalar.LeanGrad
                                   || Array.exists (fun v -> BitConverter.DoubleToInt64Bits v = BitConverter.DoubleToInt64Bits -0.0) x)
                        (name + ": special values reach the gradient")
                    // Hvp's joint passes: NaN and ±∞ in the tangents and adjoints take the joint lane
                    // sweep's every-term path for the chain (its products (0·w)·s are NaN there)
                    let scalarGrad, scalarHv = hvpJoint 0 g loops x dir
                    Expect.isTrue (Array.exists (fun v -> Double.IsNaN v || Double.IsInfinity v) scalarHv) (name + ": special values reach H·v")
                    for w in [ 4; 8 ] do
                        Expect.equal (Emit.laneLoopsAt w g loops) 1 (sprintf "%s: the loop runs in lanes of %d" name w)
                        let lanes = compiledWith w g loops guardLoops x dir
                        sameBitsOrNaN (sprintf "%s, lanes of %d: the value" name w) [| scalar.LeanOut |] [| lanes.LeanOut |]
                        sameBitsOrNaN (sprintf "%s, lanes of %d: the gradient" name w) scalar.LeanGrad lanes.LeanGrad
                        let grad, hv = hvpJoint w g loops x dir
                        sameBitsOrNaN (sprintf "%s, lanes of %d: the gradient by Hvp's joint passes" name w) scalarGrad grad
                        sameBitsOrNaN (sprintf "%s, lanes of %d: H·v by Hvp's joint passes" name w) scalarHv hv
        }
        test "lanes: Hvp's joint sweep passes overlapping slices' adjoint tangents through registers (the register shift), as the lean sweep does its adjoints" {
            for name, f, n in [ "Rosenbrock (scalar loop)", rosenbrock, 41; "sliced Rosenbrock", sliced, 41; "three overlapping slices", threeSlices, 42 ] do
                let g = record f (point n n -1.5 1.5)
                let loops = Loops.find g
                for w in [ 4; 8 ] do
                    let shifts = (Emit.laneShiftsAt w g loops).[0].Length
                    Expect.isGreaterThan shifts 0 (sprintf "%s, width %d: the plan has shifts" name w)
                    let before = Emit.adjointTangentShifts ()
                    Emit.reverseJointAt w g loops |> ignore
                    // (other tests may emit joint sweeps meanwhile: at least this one's)
                    Expect.isGreaterThanOrEqual (Emit.adjointTangentShifts () - before) (int64 shifts) (sprintf "%s, width %d: the joint sweep's shifts of adjoint tangents" name w)
        }
        test "lanes: a loop whose rows lanes do not cover, or whose trips read other trips' nodes, stays scalar" {
            for name, f, n in [ "carried product (a × chain)", carried, 40; "strided with exp", strided, 60; "descending with sin", descending, 30 ] do
                let g = record f (point 1 n -1.0 1.0)
                let loops = check name g (points n -1.0 1.0)
                Expect.equal (Emit.laneLoops g loops) 0 (name + ": scalar")
        }
        testSequenced <| test "a data vector in a loss is a data block the loop reads at stride 1: the loop rolls (in lanes), rolled = interpreter bitwise" {
            let n = dataY.Length
            let g = record dataLoss (point 3 n -1.0 1.0)
            let loops = check "data loss" g (points n -1.0 1.0)
            let data = loops |> Array.filter (fun l -> l.Data)
            // y in x − y and in y·x (two blocks side by side, with the sums' seeds: one run of constants)
            Expect.isGreaterThanOrEqual (data |> Array.sumBy (fun l -> l.Trips)) (2 * n) "data blocks hold y twice"
            Expect.equal (loops |> Array.filter (fun l -> not l.Data) |> Array.length) 1 "one loop over the elements"
            Expect.isLessThan (Loops.straightNodes g loops) 40 "straight-line nodes"
            if Emit.Lanes then Expect.equal (Emit.laneLoops g loops) 1 (sprintf "the loop runs in lanes (%A)" (Emit.laneReasons g loops))
            // before: y's values were the nodes' constants, different every trip, and nothing rolled
            let keep = Lower.DataMin
            try
                Lower.DataMin <- Int32.MaxValue
                let g0 = record dataLoss (point 3 n -1.0 1.0)
                Expect.isGreaterThan (Loops.straightNodes g0 (Loops.find g0)) (4 * n) "without data blocks: straight-line"
            finally
                Lower.DataMin <- keep
        }
        test "programs the properties found" {
            for body, trips in [ [| { F = 7; A = Elem(2, 0); B = Const -1.25 } |], 19; [| { F = 11; A = Fixed 3; B = Fixed 0 } |], 38
                                 [| { F = 10; A = Elem(1, 1); B = Prev 3 }; { F = 9; A = Const 2.0; B = Fixed 4 }; { F = 7; A = Prev 2; B = Carried 3 }
                                    { F = 0; A = Elem(2, 1); B = Elem(2, 0) }; { F = 10; A = Const -1.25; B = Elem(2, 1) }; { F = 8; A = Prev 3; B = Elem(2, 0) } |], 20 ] do
                let n = 2 * trips + 2
                let g = record (program body trips) (point trips n -1.0 1.0)
                check (sprintf "%A × %d" body trips) g [ point 1 n -1.0 1.0, point 2 n -1.0 1.0 ] |> ignore
        }
        testPropertyWithConfig { FsCheckConfig.defaultConfig with maxTest = 100 } "random periodic programs of the rows lanes cover: lanes = interpreter bitwise"
            (Prop.forAll (Arb.fromGen laneProgramGen) (fun (body, trips) ->
                let n = 2 * trips + 2
                let g = record (program body trips) (point trips n -1.0 1.0)
                check (sprintf "%A × %d" body trips) g [ point 1 n -1.0 1.0, point 2 n -1.0 1.0 ] |> ignore))
        testPropertyWithConfig { FsCheckConfig.defaultConfig with maxTest = 150 } "random periodic programs: the loops describe the graph, rolled = interpreter bitwise"
            (Prop.forAll (Arb.fromGen programGen) (fun (body, trips) ->
                let n = 2 * trips + 2
                let f = program body trips
                let g = record f (point trips n -1.0 1.0)
                let loops = check (sprintf "%A × %d" body trips) g [ point 1 n -1.0 1.0, point 2 n -1.0 1.0 ]
                // past the first trips (whose carried operands are the value before the loop) every
                // trip records the same nodes: at most a few trips' worth stays straight-line — four,
                // and one more since a loop is rotated to start at a trip's natural phase (found: 71
                // straight-line nodes against 68 for a 16-trip program whose loop began a trip later)
                let perTrip = (g.Count - g.N) / trips
                Expect.isLessThanOrEqual (Loops.straightNodes g loops) (5 * perTrip + Loops.MinItems)
                    (sprintf "%A × %d: straight-line nodes (%d nodes, loops %A)" body trips g.Count loops)))
    ]
