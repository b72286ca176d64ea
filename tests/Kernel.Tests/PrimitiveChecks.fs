/// Every primitive checked in every mode by one helper, driven by one list (issue 7). An entry
/// names a primitive, builds a function Vec → Vec (flattened inputs, flattened output) from exactly
/// that primitive, gives the shapes to try, a domain generator and a plain-double reference; the
/// checker then tests it at seeded random points in every mode:
///   value      — equals the reference at the top level and inside every transform;
///   forward    — Jvp along random directions = central differences, = the tape's forward replay;
///   transpose  — ⟨u, J v⟩ = ⟨Jᵀu, v⟩ between reverse and forward, Grad ⟨u, f⟩ = Jᵀu;
///   jacobians  — JacFwd = JacRev = the chunked forward replay;
///   second     — the Hessian of s = ⟨u, f⟩ three ways (second-order tape, Jvp∘Grad, Vjp∘Grad,
///                and Grad∘Grad) agree and match central differences of the gradient;
///   nested     — Grad∘Grad, Jvp∘Grad, Grad∘Jvp, Jvp∘Jvp, Jvp∘Vjp give the tape's Hvp numbers,
///                first-order results inside an unrelated outer transform equal the top level's,
///                and depth-3 nesting matches central differences of the tape's Hvp;
///   throws     — bad input throws the same exception type at every level, with a message naming
///                the primitive; where double gives NaN instead, every level gives the same NaNs.
/// Adding an entry to `primitives` tests it in all modes. A check that fails today because of a
/// kernel bug is listed in the entry's `Known` with the reason: it runs as a pending test.
/// `nodeCounts` is the probe for the cost of nesting: how many nodes each level's trace records
/// while evaluating Grad∘Grad of a function.
module Hybrid.Kernel.Tests.PrimitiveChecks

open System
open Expecto
open Hybrid.Kernel

// ----------------------------------------------------------------------------- comparisons

let private infNorm (a: float[]) = a |> Array.fold (fun m v -> if abs v > m then abs v else m) 0.0
let private dot (a: float[]) (b: float[]) = Array.fold2 (fun s x y -> s + x * y) 0.0 a b

/// |eᵢ − aᵢ| ≤ tol · max(1, ‖e‖∞, ‖a‖∞) for every i (a NaN matches nothing).
let near (tol: float) (what: string) (expected: float[]) (actual: float[]) =
    if isNull actual then failtestf "%s: no values were produced" what
    if expected.Length <> actual.Length then failtestf "%s: expected %d values, got %d" what expected.Length actual.Length
    let scale = max 1.0 (max (infNorm expected) (infNorm actual))
    for i in 0 .. expected.Length - 1 do
        let d = abs (expected[i] - actual[i])
        if not (d <= tol * scale) then
            failtestf "%s [%d]: expected %.17g, got %.17g (|diff| %.3g > %.0e · %.3g)\n  expected %A\n  actual   %A"
                what i expected[i] actual[i] d tol scale expected actual

/// Same values, NaN where the other has NaN (for results of bad input).
let private sameOrNaN (what: string) (expected: float[]) (actual: float[]) =
    if expected.Length <> actual.Length then failtestf "%s: expected %d values, got %d" what expected.Length actual.Length
    for i in 0 .. expected.Length - 1 do
        let e, a = expected[i], actual[i]
        let ok = (Double.IsNaN e && Double.IsNaN a) || e = a || abs (e - a) <= 1e-12 * max 1.0 (abs e)
        if not ok then failtestf "%s [%d]: the top level gives %g, this level %g\n  top level %A\n  here      %A" what i e a expected actual

// --------------------------------------------------------------------------- random points

/// A seed from a name (stable across runs and processes, unlike String.GetHashCode).
let private seedOf (name: string) = name |> Seq.fold (fun h c -> (h * 31 + int c) &&& 0x3fffffff) 17
let private uniform (r: Random) (lo: float) (hi: float) (n: int) = Array.init n (fun _ -> lo + (hi - lo) * r.NextDouble())
/// Magnitudes in [lo, hi] with random signs (away from 0).
let private signed (r: Random) (lo: float) (hi: float) (n: int) =
    uniform r lo hi n |> Array.map (fun v -> if r.NextDouble() < 0.5 then -v else v)
let private randn (r: Random) (n: int) = uniform r -1.0 1.0 n
let private basis (n: int) (j: int) = Array.init n (fun i -> if i = j then 1.0 else 0.0)

/// A random SPD matrix's storage (n×n): MᵀM/n + I.
let private spdOf (r: Random) (n: int) =
    let m = randn r (n * n)
    Array.init (n * n) (fun p ->
        let i, j = p % n, p / n
        let mutable s = if i = j then 1.0 else 0.0
        for k in 0 .. n - 1 do s <- s + m[k + i * n] * m[k + j * n] / float n
        s)

/// A random well-conditioned general n×n matrix's storage: noise + ±2·I (the determinant's sign varies).
let private generalOf (r: Random) (n: int) =
    let signs = Array.init n (fun _ -> if r.NextDouble() < 0.3 then -1.0 else 1.0)
    Array.init (n * n) (fun p -> 0.6 * (r.NextDouble() - 0.5) + (if p % n = p / n then 2.0 * signs[p % n] else 0.0))

// ---------------------------------------------------------------- plain-double references

/// Hand loops on column-major arrays: the references the primitives are checked against.
module private Ref =
    let at (a: float[]) (rows: int) (i: int) (j: int) = a[i + j * rows]
    /// op(A)·op(B), A stored ra×ca, B stored rb×cb.
    let gemm (ta: bool) (a: float[]) (ra: int) (ca: int) (tb: bool) (b: float[]) (rb: int) (cb: int) =
        let m, k = (if ta then ca else ra), (if ta then ra else ca)
        let n = if tb then rb else cb
        let opA i l = if ta then at a ra l i else at a ra i l
        let opB l j = if tb then at b rb j l else at b rb l j
        Array.init (m * n) (fun p ->
            let i, j = p % m, p / m
            let mutable s = 0.0
            for l in 0 .. k - 1 do s <- s + opA i l * opB l j
            s)
    let transpose (a: float[]) (r: int) (c: int) = Array.init (r * c) (fun p -> at a r (p / c) (p % c))
    /// Gaussian elimination with partial pivoting: (U, B after the same row operations, sign of the permutation).
    let eliminate (a: float[]) (n: int) (b: float[]) (k: int) =
        let u = Array.copy a
        let y = Array.copy b
        let mutable sign = 1.0
        for j in 0 .. n - 1 do
            let mutable p = j
            for i in j + 1 .. n - 1 do if abs u[i + j * n] > abs u[p + j * n] then p <- i
            if u[p + j * n] = 0.0 then failwith "reference: singular"
            if p <> j then
                sign <- -sign
                for c in 0 .. n - 1 do
                    let s = u[j + c * n] in u[j + c * n] <- u[p + c * n]; u[p + c * n] <- s
                for c in 0 .. k - 1 do
                    let s = y[j + c * n] in y[j + c * n] <- y[p + c * n]; y[p + c * n] <- s
            for i in j + 1 .. n - 1 do
                let f = u[i + j * n] / u[j + j * n]
                for c in j .. n - 1 do u[i + c * n] <- u[i + c * n] - f * u[j + c * n]
                for c in 0 .. k - 1 do y[i + c * n] <- y[i + c * n] - f * y[j + c * n]
        u, y, sign
    let solve (a: float[]) (n: int) (b: float[]) (k: int) =
        let u, y, _ = eliminate a n b k
        for c in 0 .. k - 1 do
            for i in n - 1 .. -1 .. 0 do
                let mutable s = y[i + c * n]
                for l in i + 1 .. n - 1 do s <- s - u[i + l * n] * y[l + c * n]
                y[i + c * n] <- s / u[i + i * n]
        y
    let identity (n: int) = Array.init (n * n) (fun p -> if p % n = p / n then 1.0 else 0.0)
    let logAbsDet (a: float[]) (n: int) =
        let u, _, _ = eliminate a n [||] 0
        Seq.sum (seq { for j in 0 .. n - 1 -> log (abs u[j + j * n]) })
    /// L with LLᵀ = (A + Aᵀ)/2 (the textbook recurrence).
    let cholesky (a: float[]) (n: int) =
        let s i j = 0.5 * (a[i + j * n] + a[j + i * n])
        let l = Array.zeroCreate (n * n)
        for j in 0 .. n - 1 do
            let mutable d = s j j
            for q in 0 .. j - 1 do d <- d - l[j + q * n] * l[j + q * n]
            let ljj = sqrt d
            l[j + j * n] <- ljj
            for i in j + 1 .. n - 1 do
                let mutable v = s i j
                for q in 0 .. j - 1 do v <- v - l[i + q * n] * l[j + q * n]
                l[i + j * n] <- v / ljj
        l

// -------------------------------------------------------------------------------- entries

/// The checks, one test each per primitive.
type Check =
    | Value = 0
    | Forward = 1
    | Transpose = 2
    | Jacobians = 3
    | Second = 4
    | Nested = 5
    | Throws = 6
    | Mixed = 7

/// Bad input for a primitive: a function built from it and an input on which `double` throws
/// (every level must throw the same exception type, its message containing `Names`) or gives NaN
/// (every level must give the same values, without throwing).
[<NoEquality; NoComparison>]
type Bad = { What: string; Input: float[]; F: Vec -> Vec; Names: string }

/// One primitive: its name, the shapes to try, a generator of inputs in its domain for a shape,
/// the function of the flattened input built from exactly that primitive, the plain-double
/// reference, bad inputs, and the checks known to fail today (each with the kernel bug's description).
[<NoEquality; NoComparison>]
type Prim =
    { Name: string
      Shapes: int[] list
      Domain: Random -> int[] -> float[]
      F: int[] -> Vec -> Vec
      Reference: int[] -> float[] -> float[]
      Bad: Bad list
      Known: (Check * string) list
      /// For a primitive of two operands: where the second operand starts in the flattened input,
      /// and the primitive as a function of the two (F is it applied to the two slices).
      Two: ((int[] -> int) * (int[] -> Vec -> Vec -> Vec)) option }

let private prim name shapes domain f reference =
    { Name = name; Shapes = shapes; Domain = domain; F = f; Reference = reference; Bad = []; Known = []; Two = None }
/// A primitive of two operands: x[0 .. k−1] and x[k ..] for k = split shape.
let private prim2 name shapes domain (split: int[] -> int) (f2: int[] -> Vec -> Vec -> Vec) reference =
    let f (s: int[]) (x: Vec) = let k = split s in f2 s (x.Slice(0, k)) (x.Slice(k, x.Length - k))
    { prim name shapes domain f reference with Two = Some (split, f2) }
let private withBad (bad: Bad list) (p: Prim) = { p with Bad = p.Bad @ bad }
/// Marks a check of this entry as failing today because of a kernel bug (runs as a pending test).
let private known (check: Check) (reason: string) (p: Prim) = { p with Known = p.Known @ [ check, reason ] }
let private bad what input names f = { What = what; Input = input; F = f; Names = names }

let private one (r: Real) = Vec.OfReals [| r |]
let private size (s: int[]) = Array.fold (*) 1 s
let private matOf (x: Vec) (start: int) (r: int) (c: int) = Mat(x.Slice(start, r * c), r, c)

// ---- elementwise: one row gives the Vec map, the scalar Real rule and (where it exists) the Mat map

[<NoEquality; NoComparison>]
type private Unary =
    { U: string; V: Vec -> Vec; R: Real -> Real; M: (Mat -> Mat) option; D: float -> float
      Dom: Random -> int -> float[]; Outside: float option }

let private unary u v r m d dom outside = { U = u; V = v; R = r; M = m; D = d; Dom = dom; Outside = outside }
let private within lo hi = fun r n -> uniform r lo hi n
let private apart lo hi = fun r n -> signed r lo hi n

let private unaries =
    [ unary "Neg" (fun x -> -x) (fun x -> -x) (Some (fun a -> -a)) (fun x -> -x) (within -2.0 2.0) None
      unary "Reciprocal" Vec.Reciprocal Real.Reciprocal None (fun x -> 1.0 / x) (apart 0.5 2.0) None
      unary "Square" Vec.Square Real.Square (Some Mat.Square) (fun x -> x * x) (within -2.0 2.0) None
      unary "Sqrt" Vec.Sqrt Real.Sqrt (Some Mat.Sqrt) Math.Sqrt (within 0.5 3.0) (Some -1.0)
      unary "Cbrt" Vec.Cbrt Real.Cbrt None Math.Cbrt (apart 0.5 3.0) None
      unary "Exp" Vec.Exp Real.Exp (Some Mat.Exp) Math.Exp (within -2.0 2.0) None
      unary "Exp2" Vec.Exp2 Real.Exp2 None (fun x -> Math.Pow(2.0, x)) (within -2.0 2.0) None
      unary "Log" Vec.Log Real.Log (Some Mat.Log) Math.Log (within 0.5 3.0) (Some -1.0)
      unary "Log2" Vec.Log2 Real.Log2 None Math.Log2 (within 0.5 3.0) (Some -1.0)
      unary "Log10" Vec.Log10 Real.Log10 None Math.Log10 (within 0.5 3.0) (Some -1.0)
      unary "LogP1" Vec.LogP1 Real.LogP1 (Some Mat.LogP1) (fun x -> Math.Log(1.0 + x)) (within -0.5 2.0) (Some -2.0)
      unary "ExpM1" Vec.ExpM1 Real.ExpM1 (Some Mat.ExpM1) (fun x -> Math.Exp x - 1.0) (within -2.0 2.0) None
      unary "Sin" Vec.Sin Real.Sin (Some Mat.Sin) Math.Sin (within -3.0 3.0) None
      unary "Cos" Vec.Cos Real.Cos (Some Mat.Cos) Math.Cos (within -3.0 3.0) None
      unary "Tan" Vec.Tan Real.Tan None Math.Tan (within -1.2 1.2) None
      unary "Asin" Vec.Asin Real.Asin None Math.Asin (within -0.8 0.8) (Some 2.0)
      unary "Acos" Vec.Acos Real.Acos None Math.Acos (within -0.8 0.8) (Some 2.0)
      unary "Atan" Vec.Atan Real.Atan None Math.Atan (within -3.0 3.0) None
      unary "Sinh" Vec.Sinh Real.Sinh None Math.Sinh (within -2.0 2.0) None
      unary "Cosh" Vec.Cosh Real.Cosh None Math.Cosh (within -2.0 2.0) None
      unary "Tanh" Vec.Tanh Real.Tanh (Some Mat.Tanh) Math.Tanh (within -2.0 2.0) None
      unary "Asinh" Vec.Asinh Real.Asinh None Math.Asinh (within -3.0 3.0) None
      unary "Acosh" Vec.Acosh Real.Acosh None Math.Acosh (within 1.3 3.0) (Some 0.5)
      unary "Atanh" Vec.Atanh Real.Atanh None Math.Atanh (within -0.8 0.8) (Some 2.0)
      unary "Abs" Vec.Abs Real.Abs (Some Mat.Abs) Math.Abs (apart 0.2 2.0) None
      unary "Erf" Vec.Erf Real.Erf (Some Mat.Erf) MathNet.Numerics.SpecialFunctions.Erf (within -2.0 2.0) None
      unary "Pow(x, 2.5)" (fun x -> Vec.Pow(x, 2.5)) (fun x -> Real.Pow(x, 2.5)) (Some (fun a -> Mat.Pow(a, 2.5))) (fun x -> Math.Pow(x, 2.5)) (within 0.5 2.0) (Some -1.0)
      unary "Pow(x, 3)" (fun x -> Vec.Pow(x, 3.0)) (fun x -> Real.Pow(x, 3.0)) None (fun x -> Math.Pow(x, 3.0)) (apart 0.3 2.0) None ]

let private unaryEntries (u: Unary) =
    let whole (s: int[]) = Array.fold (*) 1 s
    let outside (f: Vec -> Vec) =
        match u.Outside with
        | Some o -> [ bad (sprintf "%s outside its domain (x = %g)" u.U o) [| o; 1.0 |] u.U f ]
        | None -> []
    [ yield prim ("Vec." + u.U) [ [| 0 |]; [| 1 |]; [| 4 |] ] (fun r s -> u.Dom r s[0]) (fun _ x -> u.V x) (fun _ x -> Array.map u.D x)
            |> withBad (outside u.V)
      yield prim ("Real." + u.U) [ [| 1 |] ] (fun r _ -> u.Dom r 1) (fun _ x -> one (u.R x[0])) (fun _ x -> [| u.D x[0] |])
            |> withBad (outside (fun x -> one (u.R x[0])))
      match u.M with
      | Some m ->
          let mf (s: int[]) (x: Vec) = (m (Mat(x, s[0], s[1]))).Data
          yield prim ("Mat." + u.U) [ [| 2; 3 |] ] (fun r s -> u.Dom r (whole s)) mf (fun _ x -> Array.map u.D x)
                |> withBad (outside (fun x -> (m (Mat(x, 1, 2))).Data))
      | None -> () ]

// ---- binary rules: Vec ⊕ Vec (with the length-1 broadcasts) and Real ⊕ Real

[<NoEquality; NoComparison>]
type private Binary =
    { B: string; VV: Vec -> Vec -> Vec; RR: Real -> Real -> Real; D2: float -> float -> float
      /// n (x, y) pairs in the domain, as [x₁…xₙ, y₁…yₙ].
      Pairs: Random -> int -> float[] }

let private pairsOf (gx: Random -> int -> float[]) (gy: Random -> int -> float[]) = fun r n -> Array.append (gx r n) (gy r n)
let private binaries =
    [ { B = "Pow(x, y)"; VV = (fun x y -> Vec.Pow(x, y)); RR = (fun x y -> Real.Pow(x, y)); D2 = (fun x y -> Math.Pow(x, y))
        Pairs = pairsOf (within 0.5 2.0) (within -2.0 2.0) }
      { B = "Atan2"; VV = (fun y x -> Vec.Atan2(y, x)); RR = (fun y x -> Real.Atan2(y, x)); D2 = (fun y x -> Math.Atan2(y, x))
        Pairs = pairsOf (apart 0.3 2.0) (apart 0.3 2.0) }
      { B = "Hypot"; VV = (fun x y -> Vec.Hypot(x, y)); RR = (fun x y -> Real.Hypot(x, y)); D2 = (fun x y -> Math.Sqrt(x * x + y * y))
        Pairs = pairsOf (apart 0.3 2.0) (apart 0.3 2.0) }
      // min/max away from ties: y = x ± [0.2, 1]
      { B = "Min"; VV = (fun x y -> Vec.Min(x, y)); RR = (fun x y -> Real.Min(x, y)); D2 = (fun x y -> Math.Min(x, y))
        Pairs = fun r n -> let x = uniform r -2.0 2.0 n in Array.append x (Array.map2 (+) x (signed r 0.2 1.0 n)) }
      { B = "Max"; VV = (fun x y -> Vec.Max(x, y)); RR = (fun x y -> Real.Max(x, y)); D2 = (fun x y -> Math.Max(x, y))
        Pairs = fun r n -> let x = uniform r -2.0 2.0 n in Array.append x (Array.map2 (+) x (signed r 0.2 1.0 n)) }
      // x % y away from the jumps: x = y·(q + f), q an integer in [−2, 2], f ∈ [0.2, 0.8]
      { B = "Mod"; VV = (fun x y -> Vec.ZipRule(Fun2.Mod, x, y)); RR = (fun x y -> x % y); D2 = (fun x y -> x % y)
        Pairs = fun r n ->
                    let y = signed r 1.0 2.0 n
                    let x = y |> Array.map (fun v -> v * (float (r.Next(-2, 3)) + 0.2 + 0.6 * r.NextDouble()))
                    Array.append x y } ]

let private binaryEntries (b: Binary) =
    let refZip (x: float[]) = let n = x.Length / 2 in Array.init n (fun i -> b.D2 x[i] x[n + i])
    let mismatch = bad "lengths 2 and 3" (Array.create 5 1.5) "Elementwise" (fun x -> b.VV (x.Slice(0, 2)) (x.Slice(2, 3)))
    [ prim2 ("Vec." + b.B) [ [| 1 |]; [| 4 |] ] (fun r s -> b.Pairs r s[0]) (fun s -> s[0]) (fun _ p q -> b.VV p q) (fun _ x -> refZip x)
      |> withBad [ mismatch ]
      prim2 ("Vec." + b.B + " broadcast y") [ [| 3 |] ] (fun r s -> let p = b.Pairs r s[0] in Array.append p[.. s[0] - 1] [| p[s[0]] |])
          (fun s -> s[0]) (fun _ p q -> b.VV p q) (fun s x -> Array.init s[0] (fun i -> b.D2 x[i] x[s[0]]))
      prim2 ("Real." + b.B) [ [| 1 |] ] (fun r _ -> b.Pairs r 1) (fun _ -> 1) (fun _ p q -> one (b.RR p[0] q[0])) (fun _ x -> [| b.D2 x[0] x[1] |]) ]

// ---- arithmetic: + − × ÷ in every overload (Vec, Real, float constant, Mat)

[<NoEquality; NoComparison>]
type private Arith =
    { Sym: string; Op: float -> float -> float
      VV: Vec -> Vec -> Vec; VR: Vec -> Real -> Vec; RV: Real -> Vec -> Vec; VC: Vec -> float -> Vec; CV: float -> Vec -> Vec
      RR: Real -> Real -> Real; RC: Real -> float -> Real; CR: float -> Real -> Real
      MM: Mat -> Mat -> Mat; MR: Mat -> Real -> Mat; RM: (Real -> Mat -> Mat) option; MC: Mat -> float -> Mat; CM: (float -> Mat -> Mat) option }

let private ariths =
    [ { Sym = "+"; Op = (+)
        VV = (fun x y -> x + y); VR = (fun x y -> x + y); RV = (fun x y -> x + y); VC = (fun x c -> x + c); CV = (fun c y -> c + y)
        RR = (fun x y -> x + y); RC = (fun x c -> x + c); CR = (fun c y -> c + y)
        MM = (fun a b -> a + b); MR = (fun a s -> a + s); RM = Some (fun s a -> s + a); MC = (fun a c -> a + c); CM = Some (fun c a -> c + a) }
      { Sym = "-"; Op = (-)
        VV = (fun x y -> x - y); VR = (fun x y -> x - y); RV = (fun x y -> x - y); VC = (fun x c -> x - c); CV = (fun c y -> c - y)
        RR = (fun x y -> x - y); RC = (fun x c -> x - c); CR = (fun c y -> c - y)
        MM = (fun a b -> a - b); MR = (fun a s -> a - s); RM = Some (fun s a -> s - a); MC = (fun a c -> a - c); CM = Some (fun c a -> c - a) }
      { Sym = "*"; Op = (*)
        VV = (fun x y -> x * y); VR = (fun x y -> x * y); RV = (fun x y -> x * y); VC = (fun x c -> x * c); CV = (fun c y -> c * y)
        RR = (fun x y -> x * y); RC = (fun x c -> x * c); CR = (fun c y -> c * y)
        MM = (fun a b -> Mat.PointwiseMultiply(a, b)); MR = (fun a s -> a * s); RM = Some (fun s a -> s * a); MC = (fun a c -> a * c); CM = Some (fun c a -> c * a) }
      { Sym = "/"; Op = (/)
        VV = (fun x y -> x / y); VR = (fun x y -> x / y); RV = (fun x y -> x / y); VC = (fun x c -> x / c); CV = (fun c y -> c / y)
        RR = (fun x y -> x / y); RC = (fun x c -> x / c); CR = (fun c y -> c / y)
        MM = (fun a b -> Mat.PointwiseDivide(a, b)); MR = (fun a s -> a / s); RM = None; MC = (fun a c -> a / c); CM = None } ]

let private arithEntries (a: Arith) =
    let c = 1.7
    let op = a.Op
    let dom r (n: int) = signed r 0.5 2.0 n
    let vs = [ [| 1 |]; [| 3 |] ]
    let s1 (s: int[]) = s[0]
    [ yield prim2 (sprintf "Vec %s Vec" a.Sym) vs (fun r s -> dom r (2 * s[0])) s1
                 (fun _ p q -> a.VV p q) (fun s x -> Array.init s[0] (fun i -> op x[i] x[s[0] + i]))
            |> withBad [ bad "lengths 2 and 3" (Array.create 5 1.5) "Elementwise" (fun x -> a.VV (x.Slice(0, 2)) (x.Slice(2, 3))) ]
      yield prim2 (sprintf "Vec %s Real" a.Sym) vs (fun r s -> dom r (s[0] + 1)) s1
                 (fun _ p q -> a.VR p q[0]) (fun s x -> Array.init s[0] (fun i -> op x[i] x[s[0]]))
      yield prim2 (sprintf "Real %s Vec" a.Sym) vs (fun r s -> dom r (s[0] + 1)) s1
                 (fun _ p q -> a.RV q[0] p) (fun s x -> Array.init s[0] (fun i -> op x[s[0]] x[i]))
      yield prim (sprintf "Vec %s c" a.Sym) vs (fun r s -> dom r s[0]) (fun _ x -> a.VC x c) (fun _ x -> Array.map (fun v -> op v c) x)
      yield prim (sprintf "c %s Vec" a.Sym) vs (fun r s -> dom r s[0]) (fun _ x -> a.CV c x) (fun _ x -> Array.map (fun v -> op c v) x)
      yield prim2 (sprintf "Real %s Real" a.Sym) [ [| 1 |] ] (fun r _ -> dom r 2) (fun _ -> 1) (fun _ p q -> one (a.RR p[0] q[0])) (fun _ x -> [| op x[0] x[1] |])
      yield prim (sprintf "Real %s c" a.Sym) [ [| 1 |] ] (fun r _ -> dom r 1) (fun _ x -> one (a.RC x[0] c)) (fun _ x -> [| op x[0] c |])
      yield prim (sprintf "c %s Real" a.Sym) [ [| 1 |] ] (fun r _ -> dom r 1) (fun _ x -> one (a.CR c x[0])) (fun _ x -> [| op c x[0] |])
      let ms = [ [| 2; 3 |] ]
      let mm = if a.Sym = "*" then "PointwiseMultiply" elif a.Sym = "/" then "PointwiseDivide" else a.Sym
      yield prim2 (sprintf "Mat %s Mat" mm) ms (fun r s -> dom r (2 * s[0] * s[1])) size
                 (fun s p q -> (a.MM (Mat(p, s[0], s[1])) (Mat(q, s[0], s[1]))).Data)
                 (fun s x -> let n = s[0] * s[1] in Array.init n (fun i -> op x[i] x[n + i]))
            |> withBad [ bad "2×3 and 3×2" (Array.create 12 1.5) (mm + ": A is 2×3 but B is 3×2") (fun x -> (a.MM (matOf x 0 2 3) (matOf x 6 3 2)).Data) ]
      yield prim2 (sprintf "Mat %s Real" a.Sym) ms (fun r s -> dom r (s[0] * s[1] + 1)) size
                 (fun s p q -> (a.MR (Mat(p, s[0], s[1])) q[0]).Data)
                 (fun s x -> let n = s[0] * s[1] in Array.init n (fun i -> op x[i] x[n]))
      match a.RM with
      | Some rm ->
          yield prim2 (sprintf "Real %s Mat" a.Sym) ms (fun r s -> dom r (s[0] * s[1] + 1)) size
                     (fun s p q -> (rm q[0] (Mat(p, s[0], s[1]))).Data)
                     (fun s x -> let n = s[0] * s[1] in Array.init n (fun i -> op x[n] x[i]))
      | None -> ()
      yield prim (sprintf "Mat %s c" a.Sym) ms (fun r s -> dom r (s[0] * s[1])) (fun s x -> (a.MC (Mat(x, s[0], s[1])) c).Data)
                 (fun _ x -> Array.map (fun v -> op v c) x)
      match a.CM with
      | Some cm ->
          yield prim (sprintf "c %s Mat" a.Sym) ms (fun r s -> dom r (s[0] * s[1])) (fun s x -> (cm c (Mat(x, s[0], s[1]))).Data)
                     (fun _ x -> Array.map (fun v -> op c v) x)
      | None -> () ]

// ---- reductions, slices, gathers, the linear matrix primitives and the decompositions

let private any (r: Random) (n: int) = randn r n

let private structural =
    [ prim "Vec.Sum" [ [| 0 |]; [| 1 |]; [| 5 |] ] (fun r s -> any r s[0]) (fun _ x -> one (Vec.Sum x)) (fun _ x -> [| Array.sum x |])
      prim2 "Vec.Dot" [ [| 0 |]; [| 1 |]; [| 4 |] ] (fun r s -> any r (2 * s[0])) (fun s -> s[0])
          (fun _ p q -> one (Vec.Dot(p, q))) (fun s x -> [| dot x[.. s[0] - 1] x[s[0] ..] |])
      |> withBad [ bad "lengths 2 and 3" (Array.create 5 1.5) "Dot of vectors of lengths 2 and 3" (fun x -> one (Vec.Dot(x.Slice(0, 2), x.Slice(2, 3)))) ]
      prim "Vec.Dot(x, x)" [ [| 3 |] ] (fun r s -> any r s[0]) (fun _ x -> one (Vec.Dot(x, x))) (fun _ x -> [| dot x x |])
      prim "Vec.Slice" [ [| 3 |]; [| 6 |] ] (fun r s -> any r s[0]) (fun s x -> x.Slice(1, s[0] - 2)) (fun s x -> x[1 .. s[0] - 2])
      |> withBad [ bad "past the end" [| 1.0; 2.0 |] "Slice [1, 4)" (fun x -> x.Slice(1, 3)) ]
      prim "Vec.Item" [ [| 3 |] ] (fun r s -> any r s[0]) (fun _ x -> one (x[2] * 1.0 + x[0])) (fun _ x -> [| x[2] + x[0] |])
      |> withBad [ bad "index 5 of 3" [| 1.0; 2.0; 3.0 |] "Vec index 5" (fun x -> one x[5]) ]
      prim "Vec.OfReals (gather)" [ [| 3 |] ] (fun r s -> any r s[0]) (fun _ x -> Vec.OfReals [| x[2]; x[0]; x[0]; x[1] |])
          (fun _ x -> [| x[2]; x[0]; x[0]; x[1] |])
      prim "Mat.Item" [ [| 2; 3 |] ] (fun r s -> any r (size s)) (fun s x -> let a = Mat(x, s[0], s[1]) in Vec.OfReals [| a[1, 2]; a[0, 1] |])
          (fun _ x -> [| x[1 + 2 * 2]; x[0 + 1 * 2] |])
      |> withBad [ bad "(2, 0) of 2×3" (Array.create 6 1.0) "Mat index (2, 0)" (fun x -> one (Mat(x, 2, 3)[2, 0])) ]
      prim "Mat.Column" [ [| 2; 3 |] ] (fun r s -> any r (size s)) (fun s x -> (Mat(x, s[0], s[1])).Column 1) (fun _ x -> x[2 .. 3])
      prim "Mat.Row" [ [| 2; 3 |] ] (fun r s -> any r (size s)) (fun s x -> (Mat(x, s[0], s[1])).Row 1) (fun _ x -> [| x[1]; x[3]; x[5] |])
      |> withBad [ bad "row 2 of 2×3" (Array.create 6 1.0) "Row 2 of a 2×3 matrix" (fun x -> (Mat(x, 2, 3)).Row 2) ]
      prim "Mat.OfColumns" [ [| 2; 3 |] ] (fun r s -> any r (size s))
          (fun s x -> (Mat.OfColumns(Array.init s[1] (fun j -> x.Slice((s[1] - 1 - j) * s[0], s[0])))).Data)
          (fun s x -> Array.init (size s) (fun p -> x[(s[1] - 1 - p / s[0]) * s[0] + p % s[0]]))
      |> withBad [ bad "lengths 2 and 3" (Array.create 5 1.0) "OfColumns: columns have lengths 2 and 3" (fun x -> (Mat.OfColumns [| x.Slice(0, 2); x.Slice(2, 3) |]).Data) ]
      prim "Mat.OfRows" [ [| 2; 3 |] ] (fun r s -> any r (size s))
          (fun s x -> (Mat.OfRows(Array.init s[0] (fun i -> x.Slice(i * s[1], s[1])))).Data)
          (fun s x -> Array.init (size s) (fun p -> x[(p % s[0]) * s[1] + p / s[0]]))
      |> withBad [ bad "lengths 2 and 3" (Array.create 5 1.0) "OfRows: rows have lengths 2 and 3" (fun x -> (Mat.OfRows [| x.Slice(0, 2); x.Slice(2, 3) |]).Data) ]
      prim "Mat.Transpose" [ [| 0; 2 |]; [| 1; 1 |]; [| 2; 3 |] ] (fun r s -> any r (size s)) (fun s x -> (Mat.Transpose(Mat(x, s[0], s[1]))).Data)
          (fun s x -> Ref.transpose x s[0] s[1])
      prim "Mat.Sum" [ [| 2; 3 |] ] (fun r s -> any r (size s)) (fun s x -> one (Mat.Sum(Mat(x, s[0], s[1])))) (fun _ x -> [| Array.sum x |])
      prim "Mat.SumRows" [ [| 2; 0 |]; [| 1; 1 |]; [| 2; 3 |] ] (fun r s -> any r (size s)) (fun s x -> Mat.SumRows(Mat(x, s[0], s[1])))
          (fun s x -> Array.init s[0] (fun i -> Seq.sum (seq { for j in 0 .. s[1] - 1 -> x[i + j * s[0]] })))
      prim "Mat.SumCols" [ [| 1; 1 |]; [| 2; 3 |] ] (fun r s -> any r (size s)) (fun s x -> Mat.SumCols(Mat(x, s[0], s[1])))
          (fun s x -> Array.init s[1] (fun j -> Seq.sum (seq { for i in 0 .. s[0] - 1 -> x[i + j * s[0]] })))
      prim2 "Mat.Dot" [ [| 2; 3 |] ] (fun r s -> any r (2 * size s)) size
          (fun s p q -> one (Mat.Dot(Mat(p, s[0], s[1]), Mat(q, s[0], s[1])))) (fun s x -> [| dot x[.. size s - 1] x[size s ..] |])
      |> withBad [ bad "2×3 and 3×2" (Array.create 12 1.0) "Dot: A is 2×3 but B is 3×2" (fun x -> one (Mat.Dot(matOf x 0 2 3, matOf x 6 3 2))) ]
      prim "Mat.Trace" [ [| 1 |]; [| 3 |] ] (fun r s -> any r (s[0] * s[0])) (fun s x -> one (Mat.Trace(Mat(x, s[0], s[0]))))
          (fun s x -> [| Seq.sum (seq { for i in 0 .. s[0] - 1 -> x[i * (s[0] + 1)] }) |])
      |> withBad [ bad "2×3" (Array.create 6 1.0) "Trace: A is 2×3" (fun x -> one (Mat.Trace(Mat(x, 2, 3)))) ]
      prim "Mat.Diag(A)" [ [| 2; 2 |]; [| 2; 3 |]; [| 3; 2 |] ] (fun r s -> any r (size s)) (fun s x -> Mat.Diag(Mat(x, s[0], s[1])))
          (fun s x -> Array.init (min s[0] s[1]) (fun i -> x[i * (s[0] + 1)]))
      prim "Mat.Diag(v)" [ [| 1 |]; [| 3 |] ] (fun r s -> any r s[0]) (fun _ x -> (Mat.Diag x).Data)
          (fun s x -> Array.init (s[0] * s[0]) (fun p -> if p % s[0] = p / s[0] then x[p % s[0]] else 0.0))
      prim "Mat.Map" [ [| 2; 2 |] ] (fun r s -> any r (size s)) (fun s x -> (Mat.Map(Func<Vec, Vec>(Vec.Exp), Mat(x, s[0], s[1]))).Data)
          (fun _ x -> Array.map Math.Exp x)
      // matrix products: shapes [r; k; c] for op(A) r×k, op(B) k×c
      prim2 "Mat.MatMul" [ [| 2; 0; 3 |]; [| 0; 2; 2 |]; [| 2; 2; 0 |]; [| 1; 1; 1 |]; [| 2; 3; 2 |]; [| 3; 2; 4 |] ] (fun r s -> any r (s[0] * s[1] + s[1] * s[2])) (fun s -> s[0] * s[1])
          (fun s p q -> (Mat.MatMul(Mat(p, s[0], s[1]), Mat(q, s[1], s[2]))).Data)
          (fun s x -> Ref.gemm false x[.. s[0] * s[1] - 1] s[0] s[1] false x[s[0] * s[1] ..] s[1] s[2])
      |> withBad [ bad "2×3 · 2×3" (Array.create 12 1.0) "MatMul: A is 2×3 but B is 2×3" (fun x -> (Mat.MatMul(matOf x 0 2 3, matOf x 6 2 3)).Data) ]
      prim "Mat.MatMul(A, A)" [ [| 3 |] ] (fun r s -> any r (s[0] * s[0]))
          (fun s x -> let a = Mat(x, s[0], s[0]) in (Mat.MatMul(a, a)).Data) (fun s x -> Ref.gemm false x s[0] s[0] false x s[0] s[0])
      prim2 "Mat.TransposeTimes" [ [| 1; 1; 1 |]; [| 2; 3; 2 |] ] (fun r s -> any r (s[1] * s[0] + s[1] * s[2])) (fun s -> s[0] * s[1])
          (fun s p q -> (Mat.TransposeTimes(Mat(p, s[1], s[0]), Mat(q, s[1], s[2]))).Data)
          (fun s x -> Ref.gemm true x[.. s[0] * s[1] - 1] s[1] s[0] false x[s[0] * s[1] ..] s[1] s[2])
      |> withBad [ bad "(2×3)ᵀ · 3×2" (Array.create 12 1.0) "TransposeTimes: Aᵀ is 3×2 but B is 3×2" (fun x -> (Mat.TransposeTimes(matOf x 0 2 3, matOf x 6 3 2)).Data) ]
      prim2 "Mat.TimesTranspose" [ [| 1; 1; 1 |]; [| 2; 3; 2 |] ] (fun r s -> any r (s[0] * s[1] + s[2] * s[1])) (fun s -> s[0] * s[1])
          (fun s p q -> (Mat.TimesTranspose(Mat(p, s[0], s[1]), Mat(q, s[2], s[1]))).Data)
          (fun s x -> Ref.gemm false x[.. s[0] * s[1] - 1] s[0] s[1] true x[s[0] * s[1] ..] s[2] s[1])
      |> withBad [ bad "2×3 · (2×2)ᵀ" (Array.create 10 1.0) "TimesTranspose: A is 2×3 but Bᵀ is 2×2" (fun x -> (Mat.TimesTranspose(matOf x 0 2 3, matOf x 6 2 2)).Data) ]
      prim2 "Mat.MatVec" [ [| 1; 1 |]; [| 2; 3 |] ] (fun r s -> any r (size s + s[1])) size
          (fun s p q -> Mat.MatVec(Mat(p, s[0], s[1]), q))
          (fun s x -> Ref.gemm false x[.. size s - 1] s[0] s[1] false x[size s ..] s[1] 1)
      |> withBad [ bad "2×3 · 2" (Array.create 8 1.0) "MatVec: A is 2×3 but x has length 2" (fun x -> Mat.MatVec(matOf x 0 2 3, x.Slice(6, 2))) ]
      prim2 "Mat.VecMat" [ [| 1; 1 |]; [| 2; 3 |] ] (fun r s -> any r (size s + s[0])) size
          (fun s p q -> Mat.VecMat(q, Mat(p, s[0], s[1])))
          (fun s x -> Ref.gemm true x[.. size s - 1] s[0] s[1] false x[size s ..] s[0] 1)
      |> withBad [ bad "3 · 2×3" (Array.create 9 1.0) "VecMat: A is 2×3 but x has length 3" (fun x -> Mat.VecMat(x.Slice(6, 3), matOf x 0 2 3)) ]
      prim2 "Mat.Outer" [ [| 0; 2 |]; [| 1; 1 |]; [| 3; 2 |] ] (fun r s -> any r (s[0] + s[1])) (fun s -> s[0])
          (fun _ p q -> (Mat.Outer(p, q)).Data)
          (fun s x -> Array.init (s[0] * s[1]) (fun p -> x[p % s[0]] * x[s[0] + p / s[0]]))
      // decompositions: shapes [n] (and [n; k] for a matrix right-hand side)
      prim2 "Mat.Solve(A, b)" [ [| 0 |]; [| 1 |]; [| 2 |]; [| 4 |] ] (fun r s -> Array.append (generalOf r s[0]) (randn r s[0])) (fun s -> s[0] * s[0])
          (fun s p q -> Mat.Solve(Mat(p, s[0], s[0]), q))
          (fun s x -> Ref.solve x[.. s[0] * s[0] - 1] s[0] x[s[0] * s[0] ..] 1)
      |> withBad [ bad "2×3 A" (Array.create 9 1.0) "Solve: A is 2×3" (fun x -> Mat.Solve(matOf x 0 2 3, x.Slice(6, 2)))
                   bad "b of length 3 for 2×2 A" (Array.create 7 1.0) "Solve: A is 2×2 but the right-hand side has 3 rows" (fun x -> Mat.Solve(matOf x 0 2 2, x.Slice(4, 3)))
                   bad "singular A" [| 1.0; 2.0; 2.0; 4.0; 1.0; 1.0 |] "Solve: A (2×2) is singular" (fun x -> Mat.Solve(matOf x 0 2 2, x.Slice(4, 2))) ]
      prim2 "Mat.Solve(A, B)" [ [| 2; 3 |]; [| 3; 1 |] ] (fun r s -> Array.append (generalOf r s[0]) (randn r (s[0] * s[1]))) (fun s -> s[0] * s[0])
          (fun s p q -> (Mat.Solve(Mat(p, s[0], s[0]), Mat(q, s[0], s[1]))).Data)
          (fun s x -> Ref.solve x[.. s[0] * s[0] - 1] s[0] x[s[0] * s[0] ..] s[1])
      |> withBad [ bad "B with 3 rows for 2×2 A" (Array.create 10 1.0) "Solve: A is 2×2 but the right-hand side has 3 rows" (fun x -> (Mat.Solve(matOf x 0 2 2, matOf x 4 3 2)).Data) ]
      prim "Mat.Inverse" [ [| 0 |]; [| 1 |]; [| 3 |] ] (fun r s -> generalOf r s[0]) (fun s x -> (Mat.Inverse(Mat(x, s[0], s[0]))).Data)
          (fun s x -> Ref.solve x s[0] (Ref.identity s[0]) s[0])
      |> withBad [ bad "2×3" (Array.create 6 1.0) "Inverse: A is 2×3" (fun x -> (Mat.Inverse(Mat(x, 2, 3))).Data)
                   bad "singular" [| 1.0; 2.0; 2.0; 4.0 |] "Inverse: A (2×2) is singular" (fun x -> (Mat.Inverse(Mat(x, 2, 2))).Data) ]
      prim "Mat.Cholesky" [ [| 0 |]; [| 1 |]; [| 2 |]; [| 4 |] ] (fun r s -> spdOf r s[0]) (fun s x -> (Mat.Cholesky(Mat(x, s[0], s[0]))).Data)
          (fun s x -> Ref.cholesky x s[0])
      |> withBad [ bad "2×3" (Array.create 6 1.0) "Cholesky: A is 2×3" (fun x -> (Mat.Cholesky(Mat(x, 2, 3))).Data)
                   bad "indefinite" [| 1.0; 2.0; 2.0; 1.0 |] "Cholesky: A (2×2) is not symmetric positive definite" (fun x -> (Mat.Cholesky(Mat(x, 2, 2))).Data) ]
      prim "Mat.LogDet" [ [| 0 |]; [| 1 |]; [| 3 |]; [| 4 |] ] (fun r s -> generalOf r s[0]) (fun s x -> one (Mat.LogDet(Mat(x, s[0], s[0]))))
          (fun s x -> [| Ref.logAbsDet x s[0] |])
      |> withBad [ bad "2×3" (Array.create 6 1.0) "LogDet: A is 2×3" (fun x -> one (Mat.LogDet(Mat(x, 2, 3))))
                   bad "singular" [| 1.0; 2.0; 2.0; 4.0 |] "LogDet: A (2×2) is singular" (fun x -> one (Mat.LogDet(Mat(x, 2, 2)))) ]
      prim "Mat.LogDetSpd" [ [| 1 |]; [| 3 |] ] (fun r s -> spdOf r s[0]) (fun s x -> one (Mat.LogDetSpd(Mat(x, s[0], s[0]))))
          (fun s x -> [| 2.0 * Seq.sum (seq { let l = Ref.cholesky x s[0] in for j in 0 .. s[0] - 1 -> log l[j * (s[0] + 1)] }) |])
      |> withBad [ bad "2×3" (Array.create 6 1.0) "LogDetSpd: A is 2×3" (fun x -> one (Mat.LogDetSpd(Mat(x, 2, 3))))
                   bad "indefinite" [| 1.0; 2.0; 2.0; 1.0 |] "LogDetSpd: A (2×2) is not symmetric positive definite" (fun x -> one (Mat.LogDetSpd(Mat(x, 2, 2)))) ] ]

// ---- the operator and member spellings of the matrix primitives, and Real's composite functions

let private aliases =
    [ prim2 "Mat * Mat" [ [| 2; 3; 2 |] ] (fun r s -> any r (s[0] * s[1] + s[1] * s[2])) (fun s -> s[0] * s[1])
          (fun s p q -> (Mat(p, s[0], s[1]) * Mat(q, s[1], s[2])).Data)
          (fun s x -> Ref.gemm false x[.. s[0] * s[1] - 1] s[0] s[1] false x[s[0] * s[1] ..] s[1] s[2])
      prim2 "Mat * Vec" [ [| 2; 3 |] ] (fun r s -> any r (size s + s[1])) size (fun s p q -> Mat(p, s[0], s[1]) * q)
          (fun s x -> Ref.gemm false x[.. size s - 1] s[0] s[1] false x[size s ..] s[1] 1)
      prim2 "Vec * Mat" [ [| 2; 3 |] ] (fun r s -> any r (size s + s[0])) size (fun s p q -> q * Mat(p, s[0], s[1]))
          (fun s x -> Ref.gemm true x[.. size s - 1] s[0] s[1] false x[size s ..] s[0] 1)
      prim "Mat.T" [ [| 2; 3 |] ] (fun r s -> any r (size s)) (fun s x -> (Mat(x, s[0], s[1])).T.Data) (fun s x -> Ref.transpose x s[0] s[1])
      prim "x.Sum()" [ [| 3 |] ] (fun r s -> any r s[0]) (fun _ x -> one (x.Sum())) (fun _ x -> [| Array.sum x |])
      prim2 "x.Dot(y)" [ [| 3 |] ] (fun r s -> any r (2 * s[0])) (fun s -> s[0]) (fun _ p q -> one (p.Dot q)) (fun s x -> [| dot x[.. s[0] - 1] x[s[0] ..] |])
      prim "Real.Pow(x, n: int)" [ [| 1 |] ] (fun r _ -> signed r 0.3 2.0 1) (fun _ x -> one (Real.Pow(x[0], 3))) (fun _ x -> [| Math.Pow(x[0], 3.0) |])
      prim "Real.Pow(c, y)" [ [| 1 |] ] (fun r _ -> uniform r -2.0 2.0 1) (fun _ x -> one (Real.Pow(1.7, x[0]))) (fun _ x -> [| Math.Pow(1.7, x[0]) |])
      prim "Real.RootN(x, 3)" [ [| 1 |] ] (fun r _ -> signed r 0.3 2.0 1) (fun _ x -> one (Real.RootN(x[0], 3))) (fun _ x -> [| Math.Cbrt x[0] |])
      prim2 "Real.Log(x, b)" [ [| 1 |] ] (fun r _ -> Array.append (uniform r 0.5 3.0 1) (uniform r 1.5 4.0 1)) (fun _ -> 1)
          (fun _ p q -> one (Real.Log(p[0], q[0]))) (fun _ x -> [| Math.Log(x[0], x[1]) |])
      prim "Real.Exp10" [ [| 1 |] ] (fun r _ -> uniform r -1.0 1.0 1) (fun _ x -> one (Real.Exp10 x[0])) (fun _ x -> [| Math.Pow(10.0, x[0]) |])
      prim "Real.SinPi" [ [| 1 |] ] (fun r _ -> uniform r -1.0 1.0 1) (fun _ x -> one (Real.SinPi x[0])) (fun _ x -> [| Math.Sin(Math.PI * x[0]) |])
      prim2 "Real.MaxMagnitude" [ [| 1 |] ] (fun r _ -> let a = signed r 0.3 1.0 1 in Array.append a (Array.map (fun v -> -2.0 * v) a)) (fun _ -> 1)
          (fun _ p q -> one (Real.MaxMagnitude(p[0], q[0]))) (fun _ x -> [| Math.MaxMagnitude(x[0], x[1]) |]) ]

/// Every primitive, in every overload the public surface has. Add an entry here to test it in all modes.
let primitives : Prim list =
    List.concat [ unaries |> List.collect unaryEntries
                  binaries |> List.collect binaryEntries
                  ariths |> List.collect arithEntries
                  structural
                  aliases ]

// --------------------------------------------------------------------------------- modes

let private fn (f: Vec -> Vec) = Func<Vec, Vec>(f)
let private sfn (f: Vec -> Real) = Func<Vec, Real>(f)

/// Jvp at a differentiable or constant x: (f(x), J·v).
let private jvpV (f: Vec -> Vec) (x: Vec) (v: Vec) =
    let struct (y, t) = Ad.Jvp("Jvp", fn f, x, v)
    y, t
let private gradV (s: Vec -> Real) (x: Vec) =
    let struct (_, g) = Ad.Grad("Grad", sfn s, x)
    g
let private jvp f (x: float[]) (v: float[]) = let y, t = jvpV f (Vec x) (Vec v) in y.ToArray(), t.ToArray()
let private grad s (x: float[]) = (gradV s (Vec x)).ToArray()
/// The pullback of f at x (released after `use`).
let private withPullback (f: Vec -> Vec) (x: float[]) (use': float[] -> Pullback -> 'a) =
    let struct (y, pb) = Ad.Vjp("Vjp", fn f, Vec x)
    try use' (y.ToArray()) pb finally pb.Release()
let private withTape (s: Vec -> Real) (x: float[]) (use': SecondOrderTape -> 'a) =
    let tape = Ad.RecordSecondOrder("Hessian", sfn s, Vec x)
    try use' tape finally tape.Release()

/// Central differences of f along v (step 1e-6: truncation ~1e-12, rounding ~1e-10).
let private fdJvp (f: Vec -> Vec) (x: float[]) (v: float[]) =
    let h = 1e-6
    let at k = (f (Vec(Array.map2 (fun a b -> a + k * h * b) x v))).ToArray()
    Array.map2 (fun p m -> (p - m) / (2.0 * h)) (at 1.0) (at -1.0)

/// s = ⟨u, f⟩.
let private sOf (u: float[]) (f: Vec -> Vec) = fun (x: Vec) -> Vec.Dot(Vec u, f x)
let private flatten (cols: float[][]) = Array.concat cols
/// The m×n matrix with these rows, flattened column-major (as JacFwd's columns are).
let private ofRows (rows: float[][]) =
    let m, n = rows.Length, (if rows.Length = 0 then 0 else rows[0].Length)
    Array.init (m * n) (fun p -> rows[p % m][p / m])

/// The levels a function is evaluated at, for the value and throws checks: each runs f under
/// its transform(s) at x (f's input at the innermost level is what the inner transform made).
let private levels : (string * ((Vec -> Vec) -> float[] -> unit)) list =
    let sum (f: Vec -> Vec) = fun (x: Vec) -> Vec.Sum(f x)
    let ones (n: int) = Vec(Array.create n 1.0)
    [ "top level", (fun f x -> f (Vec x) |> ignore)
      "Jvp", (fun f x -> jvpV f (Vec x) (ones x.Length) |> ignore)
      "Vjp", (fun f x -> withPullback f x (fun y pb -> pb.Apply(ones y.Length) |> ignore))
      "Grad", (fun f x -> grad (sum f) x |> ignore)
      "second-order tape", (fun f x -> withTape (sum f) x (fun t -> t.Hessian() |> ignore))
      "Jvp∘Grad", (fun f x -> jvpV (gradV (sum f)) (Vec x) (ones x.Length) |> ignore)
      "Grad∘Grad", (fun f x -> grad (fun x -> Vec.Sum(gradV (sum f) x)) x |> ignore)
      "Grad∘Jvp", (fun f x -> grad (fun x -> let _, t = jvpV f x (ones x.Length) in Vec.Sum t) x |> ignore)
      "Jvp∘Jvp", (fun f x -> jvpV (fun x -> snd (jvpV f x (ones x.Length))) (Vec x) (ones x.Length) |> ignore)
      "Grad∘Grad∘Grad", (fun f x -> grad (fun x -> Vec.Sum(gradV (fun y -> Vec.Sum(gradV (sum f) y)) x)) x |> ignore) ]

// ----------------------------------------------------------------------------- the checker

/// (1) the value equals the plain-double reference at the top level and at every level.
let private checkValue (p: Prim) (s: int[]) (x: float[]) (_: Random) =
    let f = p.F s
    let expected = p.Reference s x
    for level, run in levels do
        let mutable got = null
        run (fun x -> let y = f x in (if isNull got then got <- y.ToArray()); y) x
        near 1e-12 (sprintf "value %s vs the double reference" level) expected got

/// (2) Jvp along random directions = central differences = the reverse tape replayed forward.
let private checkForward (p: Prim) (s: int[]) (x: float[]) (r: Random) =
    let f = p.F s
    let n = x.Length
    let vs = [ randn r n; randn r n ]
    let ts = vs |> List.map (fun v -> snd (jvp f x v))
    for v, t in List.zip vs ts do
        near 1e-6 "Jvp vs central differences" (fdJvp f x v) t
    withPullback f x (fun _ pb ->
        for v, t in List.zip vs ts do
            near 1e-12 "PushForward (forward replay of the tape) vs Jvp" t (pb.PushForward v)
            near 1e-12 "Push (differentiable forward replay) vs Jvp" t ((pb.Push(Vec v)).ToArray())
        let block = pb.PushForwardBlock(Array.append vs[0] vs[1], 2)
        near 1e-12 "PushForwardBlock (2 directions) vs Jvp" (Array.append ts[0] ts[1]) block)

/// (3) ⟨u, J v⟩ = ⟨Jᵀu, v⟩ between reverse and forward; Grad ⟨u, f⟩ = Jᵀu.
let private checkTranspose (p: Prim) (s: int[]) (x: float[]) (r: Random) =
    let f = p.F s
    let n = x.Length
    for _ in 1 .. 2 do
        let v = randn r n
        let y, jv = jvp f x v
        let u = randn r y.Length
        withPullback f x (fun _ pb ->
            let jtu = (pb.Apply(Vec u)).ToArray()
            let lhs, rhs = dot u jv, dot jtu v
            let scale = Array.fold2 (fun a b c -> a + abs (b * c)) 0.0 u jv + Array.fold2 (fun a b c -> a + abs (b * c)) 0.0 jtu v
            if not (abs (lhs - rhs) <= 1e-12 * max scale 1e-300) then
                failtestf "⟨u, Jv⟩ = %.17g but ⟨Jᵀu, v⟩ = %.17g (|diff| %.3g > 1e-12 · %.3g)" lhs rhs (abs (lhs - rhs)) scale
            near 1e-12 "the pullback applied twice" jtu ((pb.Apply(Vec u)).ToArray())
            near 1e-12 "Grad ⟨u, f⟩ vs Vjp pullback(u)" jtu (grad (sOf u f) x)
            // the pullback is linear in u and differentiable in it: ∇ᵤ⟨pullback(u), v⟩ = J·v
            near 1e-12 "Grad over u of ⟨pullback(u), v⟩ vs Jvp" jv (grad (fun u -> Vec.Dot(pb.Apply u, Vec v)) u)
            near 1e-12 "Grad over v of ⟨u, Push(v)⟩ vs pullback(u)" jtu (grad (fun v -> Vec.Dot(Vec u, pb.Push v)) v))

/// (4) JacFwd (Jvp per basis vector) = JacRev (pullback per basis vector) = the chunked forward replay.
let private checkJacobians (p: Prim) (s: int[]) (x: float[]) (_: Random) =
    let f = p.F s
    let n = x.Length
    let fwd = flatten (Array.init n (fun j -> snd (jvp f x (basis n j))))
    withPullback f x (fun y pb ->
        let m = y.Length
        let rev = ofRows (Array.init m (fun i -> (pb.Apply(Vec(basis m i))).ToArray()))
        near 1e-12 "JacFwd vs JacRev" fwd rev
        let eye = Array.init (n * n) (fun q -> if q % n = q / n then 1.0 else 0.0)
        if n > 0 then near 1e-12 "JacFwd vs PushForwardBlock(I)" fwd (pb.PushForwardBlock(eye, n)))

/// The Hessian of s at x by forward-over-reverse (Jvp of Grad), column by column.
let private hessFwdRev (s: Vec -> Real) (x: float[]) =
    let n = x.Length
    flatten (Array.init n (fun j -> snd (jvp (gradV s) x (basis n j))))
/// By reverse-over-reverse (the pullback of Grad), row by row.
let private hessRevRev (s: Vec -> Real) (x: float[]) =
    let n = x.Length
    withPullback (gradV s) x (fun _ pb -> ofRows (Array.init n (fun i -> (pb.Apply(Vec(basis n i))).ToArray())))
/// By Grad∘Grad, row by row.
let private hessGradGrad (s: Vec -> Real) (x: float[]) =
    let n = x.Length
    ofRows (Array.init n (fun i -> grad (fun x -> (gradV s x)[i]) x))
/// By central differences of the gradient.
let private hessFd (s: Vec -> Real) (x: float[]) =
    let n = x.Length
    let h = 1e-6
    flatten (Array.init n (fun j ->
        let at k = grad s (Array.mapi (fun i v -> if i = j then v + k * h else v) x)
        Array.map2 (fun a b -> (a - b) / (2.0 * h)) (at 1.0) (at -1.0)))

/// (5) second order three ways for s = ⟨u, f⟩: the second-order tape, Jvp∘Grad, Vjp∘Grad and
/// Grad∘Grad agree to 1e-10 and match central differences of the gradient.
let private checkSecond (p: Prim) (sh: int[]) (x: float[]) (r: Random) =
    let f = p.F sh
    let n = x.Length
    let u = randn r (p.Reference sh x).Length
    let s = sOf u f
    withTape s x (fun tape ->
        near 1e-12 "tape value vs ⟨u, reference⟩" [| dot u (p.Reference sh x) |] [| tape.Value |]
        near 1e-12 "tape gradient vs Grad" (grad s x) tape.Gradient
        let ht = let h = tape.Hessian() in Array.init (n * n) (fun q -> h[q % n, q / n])
        near 1e-10 "Jvp∘Grad Hessian vs tape Hessian" ht (hessFwdRev s x)
        near 1e-10 "Vjp∘Grad Hessian vs tape Hessian" ht (hessRevRev s x)
        near 1e-10 "Grad∘Grad Hessian vs tape Hessian" ht (hessGradGrad s x)
        near 1e-6 "tape Hessian vs central differences of the gradient" (hessFd s x) ht
        let v = randn r n
        let hv = Array.init n (fun i -> Seq.sum (seq { for j in 0 .. n - 1 -> ht[i + j * n] * v[j] }))
        near 1e-12 "tape Hessian one direction per replay vs chunked" ht (let h = tape.Hessian 1 in Array.init (n * n) (fun q -> h[q % n, q / n]))
        near 1e-10 "tape Hvp vs tape Hessian · v" hv (tape.Hvp v)
        near 1e-10 "tape HvpBlock vs Hvp" (Array.append hv (tape.Hvp(basis n 0)))
            (tape.HvpBlock(Array.append v (basis n 0), 2)))

/// (6) nested = top level: every composition of two (and three) transforms over the primitive
/// gives the tape's numbers, and first-order results inside an unrelated outer transform equal
/// the top level's.
let private checkNested (p: Prim) (sh: int[]) (x: float[]) (r: Random) =
    let f = p.F sh
    let n = x.Length
    let m = (p.Reference sh x).Length
    let u, v, w, z = randn r m, randn r n, randn r n, randn r n
    let s = sOf u f
    let hvp x d = withTape s x (fun t -> t.Hvp d)
    let hw, hv = hvp x w, hvp x v
    near 1e-10 "Grad∘Grad: ∇⟨w, ∇s⟩ vs tape H·w" hw (grad (fun x -> Vec.Dot(Vec w, gradV s x)) x)
    let g0, hw' = jvp (gradV s) x w
    near 1e-12 "Jvp∘Grad primal vs Grad" (grad s x) g0
    near 1e-10 "Jvp∘Grad: tangent vs tape H·w" hw hw'
    near 1e-10 "Grad∘Jvp: ∇⟨u, J v⟩ vs tape H·v" hv (grad (fun x -> Vec.Dot(Vec u, snd (jvpV f x (Vec v)))) x)
    near 1e-10 "Jvp∘Jvp: wᵀ(∂²⟨u, f⟩) v vs ⟨w, H·v⟩" [| dot w hv |]
        (snd (jvp (fun x -> one (Vec.Dot(Vec u, snd (jvpV f x (Vec v))))) x w))
    let jvpPull (x: Vec) =
        let struct (_, pb) = Ad.Vjp("inner Vjp", fn f, x)
        pb.Apply(Vec u)
    near 1e-10 "Jvp∘Vjp: tangent of pullback(u) vs tape H·w" hw (snd (jvp jvpPull x w))
    // first order on a nested trace (inside an outer transform that x does not depend on)
    let topJv = snd (jvp f x v)
    let topJtu = withPullback f x (fun _ pb -> (pb.Apply(Vec u)).ToArray())
    let mutable inner = [||], [||], [||]
    grad (fun q ->
        let _, jv = jvpV f (Vec x) (Vec v)
        let struct (_, pb) = Ad.Vjp("inner Vjp", fn f, Vec x)
        inner <- (jv.ToArray(), (pb.Apply(Vec u)).ToArray(), (gradV s (Vec x)).ToArray())
        q[0] * 1.0) [| 0.5 |] |> ignore
    let ijv, ijtu, ig = inner
    near 1e-12 "Jvp inside an outer Grad vs top level" topJv ijv
    near 1e-12 "Vjp inside an outer Grad vs top level" topJtu ijtu
    near 1e-12 "Grad inside an outer Grad vs top level" topJtu ig
    // depth 3: the third derivative T[·, w, z] two ways against central differences of the tape's H·w
    let h = 1e-5
    let fd3 = Array.map2 (fun a b -> (a - b) / (2.0 * h)) (hvp (Array.map2 (fun a b -> a + h * b) x z) w) (hvp (Array.map2 (fun a b -> a - h * b) x z) w)
    let hwOf (x: Vec) = gradV (fun x -> Vec.Dot(Vec w, gradV s x)) x
    near 1e-6 "Jvp∘Grad∘Grad vs central differences of tape H·w" fd3 (snd (jvp hwOf x z))
    near 1e-6 "Grad∘Grad∘Grad vs central differences of tape H·w" fd3 (grad (fun x -> Vec.Dot(Vec z, hwOf x)) x)

/// (8) operands of different levels and constant operands, for primitives of two operands:
/// with one operand a constant the derivatives are the full ones' blocks; with the operands on
/// two levels (the inner transform differentiating one, the outer the other) Grad∘Grad and
/// Jvp∘Grad give the tape's H·[w; 0] and H·[0; w] (no perturbation confusion).
let private checkMixed (p: Prim) (sh: int[]) (x: float[]) (r: Random) =
    match p.Two with
    | None -> ()
    | Some (split, f2) ->
        let f = p.F sh
        let n = x.Length
        let k = split sh
        let m = (p.Reference sh x).Length
        let u = randn r m
        let s = sOf u f
        let f2 = f2 sh
        let x1, x2 = x[.. k - 1], x[k ..]
        let full = grad s x
        let hvp d = withTape s x (fun t -> t.Hvp d)
        let pad1 (a: float[]) = Array.append a (Array.zeroCreate (n - k))
        let pad2 (a: float[]) = Array.append (Array.zeroCreate k) a
        let head (a: float[]) = a[.. k - 1]
        let tail (a: float[]) = a[k ..]
        // a constant operand
        let s1 (y: Vec) = Vec.Dot(Vec u, f2 y (Vec x2))
        let s2 (y: Vec) = Vec.Dot(Vec u, f2 (Vec x1) y)
        near 1e-12 "Grad with the second operand constant" full[.. k - 1] (grad s1 x1)
        near 1e-12 "Grad with the first operand constant" full[k ..] (grad s2 x2)
        let v = randn r n
        let v1, v2 = v[.. k - 1], v[k ..]
        near 1e-12 "Jvp with the second operand constant" (snd (jvp f x (pad1 v1))) (snd (jvp (fun y -> f2 y (Vec x2)) x1 v1))
        near 1e-12 "Jvp with the first operand constant" (snd (jvp f x (pad2 v2))) (snd (jvp (fun y -> f2 (Vec x1) y) x2 v2))
        near 1e-10 "tape Hvp with the second operand constant" (head (hvp (pad1 v1))) (withTape s1 x1 (fun t -> t.Hvp v1))
        near 1e-10 "tape Hvp with the first operand constant" (tail (hvp (pad2 v2))) (withTape s2 x2 (fun t -> t.Hvp v2))
        near 1e-10 "Grad∘Grad with the second operand constant" (head (hvp (pad1 v1))) (grad (fun y -> Vec.Dot(Vec v1, gradV s1 y)) x1)
        // operands on two levels: the inner transform differentiates one, the outer both
        let w = randn r n
        let w1, w2 = w[.. k - 1], w[k ..]
        let innerOver1 (z: Vec) = gradV (fun y -> Vec.Dot(Vec u, f2 y (z.Slice(k, n - k)))) (z.Slice(0, k))
        let innerOver2 (z: Vec) = gradV (fun y -> Vec.Dot(Vec u, f2 (z.Slice(0, k)) y)) (z.Slice(k, n - k))
        near 1e-10 "Grad∘Grad, inner over the first operand, the second from the outer level" (hvp (pad1 w1))
            (grad (fun z -> Vec.Dot(Vec w1, innerOver1 z)) x)
        near 1e-10 "Grad∘Grad, inner over the second operand, the first from the outer level" (hvp (pad2 w2))
            (grad (fun z -> Vec.Dot(Vec w2, innerOver2 z)) x)
        near 1e-10 "Jvp∘Grad, inner over the first operand" (head (hvp w)) (snd (jvp innerOver1 x w))
        near 1e-10 "Jvp∘Grad, inner over the second operand" (tail (hvp w)) (snd (jvp innerOver2 x w))
        let jvpOver1 (z: Vec) = snd (jvpV (fun y -> f2 y (z.Slice(k, n - k))) (z.Slice(0, k)) (Vec v1))
        near 1e-10 "Grad∘Jvp, inner Jvp over the first operand" (hvp (pad1 v1)) (grad (fun z -> Vec.Dot(Vec u, jvpOver1 z)) x)

/// What happened when a function ran at a level.
type private Outcome =
    | Returned of float[]
    | Threw of exn

/// (7) throws where double throws: the top level's exception type at every level, with a message
/// naming the primitive; where the top level returns (NaN), every level returns the same values.
let private checkThrows (p: Prim) =
    for b in p.Bad do
        let outcome (run: (Vec -> Vec) -> float[] -> unit) =
            let mutable got = null
            try
                run (fun x -> let y = b.F x in (if isNull got then got <- y.ToArray()); y) b.Input
                Returned got
            with e -> Threw e
        let top = outcome (snd levels.Head)
        match top with
        | Threw e when not (e.Message.Contains b.Names) ->
            failtestf "%s at the top level: the message %A does not contain %A" b.What e.Message b.Names
        | _ -> ()
        for level, run in levels.Tail do
            match top, outcome run with
            | Threw e, Threw e' ->
                if e'.GetType() <> e.GetType() then
                    failtestf "%s %s: threw %s (%s) but the top level throws %s (%s)" b.What level (e'.GetType().Name) e'.Message (e.GetType().Name) e.Message
                if not (e'.Message.Contains b.Names) then
                    failtestf "%s %s: the message %A does not contain %A" b.What level e'.Message b.Names
            | Threw e, Returned y -> failtestf "%s %s: returned %A but the top level throws %s (%s)" b.What level y (e.GetType().Name) e.Message
            | Returned y, Threw e' -> failtestf "%s %s: threw %s (%s) but the top level returns %A" b.What level (e'.GetType().Name) e'.Message y
            | Returned y, Returned y' -> sameOrNaN (sprintf "%s %s" b.What level) y y'

let private pointChecks : (Check * string * (Prim -> int[] -> float[] -> Random -> unit)) list =
    [ Check.Value, "value = double reference at every level", checkValue
      Check.Forward, "Jvp = central differences", checkForward
      Check.Transpose, "⟨u, Jv⟩ = ⟨Jᵀu, v⟩", checkTranspose
      Check.Jacobians, "JacFwd = JacRev", checkJacobians
      Check.Second, "Hessian three ways = central differences", checkSecond
      Check.Nested, "nested = top level", checkNested ]

/// Runs a check at two seeded random points per shape, naming the shape and point on failure.
let private atPoints (p: Prim) (run: Prim -> int[] -> float[] -> Random -> unit) () =
    for shape in p.Shapes do
        for k in 0 .. 1 do
            let seed = seedOf p.Name + 7919 * k + 104729 * Array.sum shape
            let r = Random(seed)
            let x = p.Domain r shape
            try run p shape x r
            with e -> failtestf "%s, shape %A, point %d (seed %d, x = %A):\n%s" p.Name shape k seed x e.Message

/// The tests of one entry: one per check, pending where the entry lists the check as failing today.
let testsOf (p: Prim) =
    let case (check: Check) (label: string) (body: unit -> unit) =
        match p.Known |> List.tryFind (fun (c, _) -> c = check) with
        | Some (_, reason) -> ptestCase (sprintf "%s — PENDING (kernel bug): %s" label reason) body
        | None -> testCase label body
    testList p.Name [
        for check, label, run in pointChecks -> case check label (atPoints p run)
        if p.Two.IsSome then
            yield case Check.Mixed "operands of two levels, constant operands" (atPoints p checkMixed)
        if not p.Bad.IsEmpty then
            yield case Check.Throws "throws where double throws" (fun () -> checkThrows p) ]

// --------------------------------------------------------------------------- node counts

/// The node-count probe for nested cost: how many nodes each level's trace recorded while
/// evaluating Grad∘Grad of f at x (the outer Grad of ⟨1, ∇f⟩): [| outer; inner |], the input
/// slots each trace opens with left out. On the inner level that is f's recording; on the outer,
/// the inner sweep's (the adjoints as values of the outer level) and the final dot.
let nodeCounts (f: Vec -> Real) (x: float[]) : int[] =
    let counts = Array.zeroCreate 2
    let ones = Vec(Array.create x.Length 1.0)
    grad (fun x ->
        let outer = Traces.Top
        let before = outer.Count
        let g =
            gradV (fun y ->
                let inner = Traces.Top
                let start = inner.Count
                let r = f y
                counts[1] <- inner.Count - start
                r) x
        let r = Vec.Dot(ones, g)
        counts[0] <- outer.Count - before
        r) x |> ignore
    counts

/// The probe at depth 3: the nodes each level's trace recorded while evaluating Grad∘Grad∘Grad of f
/// at x (each outer level differentiates ⟨1, ∇⟩ of the level inside it): [| outer; middle; inner |],
/// the input nodes each trace opens with left out.
let nodeCounts3 (f: Vec -> Real) (x: float[]) : int[] =
    let counts = Array.zeroCreate 3
    let ones = Vec(Array.create x.Length 1.0)
    let level (k: int) (body: unit -> Real) =
        let t = Traces.Top
        let before = t.Count
        let r = body ()
        counts[k] <- t.Count - before
        r
    grad (fun x ->
        level 0 (fun () ->
            Vec.Dot(ones, gradV (fun y ->
                level 1 (fun () ->
                    Vec.Dot(ones, gradV (fun z -> level 2 (fun () -> f z)) y))) x))) x |> ignore
    counts

/// The elementwise primitives whose partials a nested level takes from the rule table: maps and
/// the six zips that are not written with vector operations, each over the halves of x.
let private elementwiseCases : (string * (Vec -> Real) * (int -> float[])) list =
    let halves (x: Vec) = x.Slice(0, x.Length / 2), x.Slice(x.Length / 2, x.Length / 2)
    let zip (f: Fun2) (x: Vec) = let a, b = halves x in Vec.Sum(Vec.ZipRule(f, a, b))
    // a in [0.6, 1.4), b in [1.7, 2.5): positive and apart (no ties; x % y has no jump: a < b)
    let points (n: int) = Array.init n (fun i -> if i < n / 2 then 0.6 + 1.6 * float i / float n else 1.7 + 1.6 * float (i - n / 2) / float n)
    [ "Map (Tanh)", (fun x -> Vec.Sum(Vec.Tanh x)), points
      "Map (PowC)", (fun x -> Vec.Sum(Vec.Pow(x, 2.5))), points
      "Pow", zip Fun2.Pow, points
      "Atan2", zip Fun2.Atan2, points
      "Hypot", zip Fun2.Hypot, points
      "Min", zip Fun2.Min, points
      "Max", zip Fun2.Max, points
      "Mod", zip Fun2.Mod, points ]

let private probeCases : (string * (int -> Vec -> Real) * (Random -> int -> float[])) list =
    [ "MatMul: Σ (A·A)", (fun n x -> let a = Mat(x, n, n) in Mat.Sum(Mat.MatMul(a, a))), (fun r n -> randn r (n * n))
      "Solve: Σ A⁻¹1", (fun n x -> Vec.Sum(Mat.Solve(Mat(x, n, n), Vec(Array.create n 1.0)))), (fun r n -> generalOf r n)
      "LogDet: log|det A|", (fun n x -> Mat.LogDet(Mat(x, n, n))), (fun r n -> generalOf r n) ]

[<Tests>]
let tests =
    testList "PrimitiveChecks" [
        for p in primitives do yield testsOf p
        yield testList "the checker" [
            test "a primitive whose derivative or value is wrong fails the checks" {
                // x ∘ x with one factor taken as a constant: the value is right, the derivative half
                let broken = prim "broken" [ [| 3 |] ] (fun r s -> randn r s[0]) (fun _ x -> Vec(x.ToArray()) * x) (fun _ x -> Array.map (fun v -> v * v) x)
                checkValue broken [| 3 |] [| 0.5; 1.0; 2.0 |] (Random 1)
                Expect.throws (fun () -> atPoints broken checkForward ()) "Jvp vs central differences must fail"
                Expect.throws (fun () -> atPoints broken checkSecond ()) "the Hessian vs central differences must fail"
                let wrongValue = { broken with F = (fun _ x -> x * x); Reference = (fun _ x -> Array.map (fun v -> v * v + 1e-9) x) }
                Expect.throws (fun () -> atPoints wrongValue checkValue ()) "a value off by 1e-9 must fail"
            }
            test "a check listed in Known runs as a pending test naming the reason" {
                let p = primitives.Head |> known Check.Forward "the reason"
                let rec labels (t: Test) : (string * FocusState) list =
                    match t with
                    | Test.TestLabel (name, inner, state) ->
                        match inner with
                        | Test.TestCase _ -> [ name, state ]
                        | _ -> labels inner |> List.map (fun (n, s) -> name + "/" + n, (if state = FocusState.Pending then state else s))
                    | Test.TestList (ts, _) -> ts |> List.collect labels
                    | Test.Sequenced (_, t) -> labels t
                    | _ -> []
                let pending = labels (testsOf p) |> List.filter (fun (_, s) -> s = FocusState.Pending) |> List.map fst
                Expect.equal pending.Length 1 "one pending test"
                Expect.stringContains pending.Head "the reason" "the pending test names the reason"
            }
        ]
        yield testList "node counts" [
            test "the probe sees both levels: x₀·x₁ is three nodes on the inner trace" {
                // the nested input is one vector node (counted before f runs); f reads two
                // elements (an element node each) and multiplies them (one scalar node)
                let c = nodeCounts (fun x -> x[0] * x[1]) [| 2.0; 3.0 |]
                Expect.equal c[1] 3 "inner nodes of x₀·x₁"
                Expect.isGreaterThan c[0] 0 "outer nodes (the inner sweep's adjoints)"
            }
            test "the probe counts the matrix primitives of Grad∘Grad at every level (n = 2)" {
                for name, f, dom in probeCases do
                    let c = nodeCounts (f 2) (dom (Random 5) 2)
                    Expect.isGreaterThan c[1] 0 (name + ": inner nodes")
                    Expect.isGreaterThan c[0] 0 (name + ": outer nodes")
            }
            test "Grad∘Grad∘Grad of a map and of Pow, Atan2, Hypot, Min, Max, Mod records the same nodes per level at n = 8 and n = 64 (one node per primitive, its partials vectors of the level below)" {
                let failures = ResizeArray()
                for name, f, points in elementwiseCases do
                    let c8 = nodeCounts3 f (points 8)
                    let c64 = nodeCounts3 f (points 64)
                    for level, label in [ 0, "outer"; 1, "middle"; 2, "inner" ] do
                        if c64[level] <> c8[level] then
                            failures.Add(sprintf "%s, %s level: %d nodes at n = 64 but %d at n = 8" name label c64[level] c8[level])
                if failures.Count > 0 then failtest (String.Join("\n", failures))
            }
            test "Grad∘Grad∘Grad of a map and of each zip equals central differences of Grad∘Grad" {
                for name, f, points in elementwiseCases do
                    let x = points 6
                    let n = x.Length
                    let ones = Vec(Array.create n 1.0)
                    // ∇⟨1, ∇⟨1, ∇f⟩⟩ on three nested levels, and by central differences of the two-level value
                    let g2 (x: Vec) = Vec.Dot(ones, gradV (fun y -> Vec.Dot(ones, gradV f y)) x)
                    let g3 = grad g2 x
                    let h = 1e-5
                    let fd = Array.init n (fun i ->
                        let xp = Array.copy x
                        let xm = Array.copy x
                        xp[i] <- xp[i] + h
                        xm[i] <- xm[i] - h
                        ((g2 (Vec xp)).Value - (g2 (Vec xm)).Value) / (2.0 * h))
                    near 1e-6 (name + ": Grad∘Grad∘Grad vs central differences") fd g3
            }
            test "Grad∘Grad of MatMul / Solve / LogDet records O(#primitives) nodes per level: at n = 16 at most 2× the count at n = 8" {
                let failures = ResizeArray()
                for name, f, dom in probeCases do
                    let c8 = nodeCounts (f 8) (dom (Random 8) 8)
                    let c16 = nodeCounts (f 16) (dom (Random 16) 16)
                    for level, label in [ 0, "outer"; 1, "inner" ] do
                        if c16[level] > 2 * c8[level] then
                            failures.Add(sprintf "%s, %s level: %d nodes at n = 16 but %d at n = 8 (more than 2×)" name label c16[level] c8[level])
                if failures.Count > 0 then failtest (String.Join("\n", failures))
            }
        ]
    ]
