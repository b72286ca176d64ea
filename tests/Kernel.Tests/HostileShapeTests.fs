/// Hostile shapes — negative, zero, overflowing (65536·65536 wraps to 0 in Int32), mismatched and
/// huge — thrown at every Mat/Vec constructor, every matrix primitive and every double member of
/// the native provider. Each call must throw an ArgumentException or give the right result
/// (the managed provider's, for valid shapes); a native call with sizes that do not match the
/// buffers would crash the process. So the calls run in a child process per backend (managed,
/// OpenBLAS, MKL) and a crash fails the parent's test instead of ending the test run.
module Hybrid.Kernel.Tests.HostileShapeTests

open System
open System.Numerics
open Expecto
open FsCheck
open FsCheck.FSharp
open MathNet.Numerics.LinearAlgebra
open MathNet.Numerics.Providers.LinearAlgebra
open MathNet.Numerics.LinearAlgebra.Factorization
open Hybrid.Kernel

type private P = ILinearAlgebraProvider<float>

let private managed = ManagedLinearAlgebraProvider.Instance :> P

// ---- generators ----------------------------------------------------------------------

/// A dimension: mostly small, sometimes negative, sometimes so large that products overflow Int32.
let private dim =
    Gen.frequency [ 6, Gen.choose (0, 5)
                    1, Gen.elements [ -1; -7; Int32.MinValue ]
                    2, Gen.elements [ 46341; 65536; 1 <<< 20; Int32.MaxValue ] ]
let private flag = Gen.elements [ 0; 1 ]

/// The longest array the generator makes.
let private cap = 1 <<< 17

/// A length for an array that needs `required` elements, `wrapped` being that size computed in
/// unchecked Int32 (what a size check in Int32 accepts): mostly exact, sometimes one off or
/// random; for a size beyond `cap`, the wrapped size (65536·65536 → 0) or a small random one.
let private lengthFor (required: int64) (wrapped: int) =
    let small = Gen.choose (0, 12)
    if required >= 0L && required <= 64L then
        Gen.frequency [ 6, Gen.constant (int required); 1, Gen.constant (int required + 1)
                        1, Gen.constant (max 0 (int required - 1)); 1, small ]
    elif required >= 0L && required <= int64 cap then
        Gen.frequency [ 4, Gen.constant (int required); 1, Gen.constant (int required + 1); 1, small ]
    else
        Gen.frequency [ 3, Gen.constant (if wrapped >= 0 && wrapped <= cap then wrapped else 0); 1, small ]

/// An array's required size from the dimensions, in 64 bits and as unchecked Int32 arithmetic.
type private Size = int[] -> int64 * int

let private one i : Size = fun d -> int64 d.[i], d.[i]
let private mul i j : Size = fun d -> int64 d.[i] * int64 d.[j], d.[i] * d.[j]
let private minOf i j : Size = fun d -> let v = min d.[i] d.[j] in int64 v, v

/// One member or primitive: its dimension arguments, its arrays, when a call is valid, how to make
/// valid data well conditioned, and the call itself (returning the outputs to compare).
[<NoEquality; NoComparison>]
type private Spec =
    { Name: string
      Dims: Gen<int> list
      Arrays: Size list
      /// Whether a valid call needs every dimension ≥ 0 and every array exactly its size.
      Exact: bool
      /// Further conditions of a valid call (all of them, when Exact is false).
      Valid: int[] -> int[] -> bool
      Prepare: int[] -> float[][] -> unit
      Call: P -> int[] -> float[][] -> float[] list
      /// Whether valid results are compared with the managed provider's.
      Compare: int[] -> bool }

/// Every dimension ≥ 0 and each array exactly its size.
let private sizesMatch (sizes: Size list) (d: int[]) (lengths: int list) =
    Array.forall (fun x -> x >= 0) d && List.forall2 (fun (size: Size) l -> fst (size d) = int64 l) sizes lengths

let private exact (s: Spec) (d: int[]) (lengths: int[]) =
    not s.Exact || sizesMatch s.Arrays d (List.ofArray lengths)

let private spec name dims arrays call =
    { Name = name; Dims = dims; Arrays = arrays; Call = call
      Exact = true; Valid = (fun _ _ -> true); Prepare = (fun _ _ -> ())
      Compare = fun d -> Array.forall (fun x -> x >= 1 && x <= 64) d }

/// A case: the dimensions, the arrays' lengths and the seed of their values.
type Case = { Dims: int[]; Lengths: int[]; Seed: int }

let private caseOf (s: Spec) =
    let rec all (gs: Gen<int> list) =
        match gs with
        | [] -> Gen.constant []
        | g :: rest -> Gen.map2 (fun x xs -> x :: xs) g (all rest)
    gen {
        let! dims = all s.Dims
        let d = Array.ofList dims
        let! lengths = all [ for size in s.Arrays -> let r, w = size d in lengthFor r w ]
        let! seed = Gen.choose (0, Int32.MaxValue - 1)
        return { Dims = d; Lengths = Array.ofList lengths; Seed = seed }
    }

// ---- data conditioning ---------------------------------------------------------------

/// Array i as an n×n matrix: diagonally dominant (nonsingular, well conditioned).
let private dominant i = fun (d: int[]) (a: float[][]) ->
    let n = int (sqrt (float a.[i].Length))
    for j in 0 .. n - 1 do a.[i].[j * n + j] <- a.[i].[j * n + j] + float n + 2.0

/// Array i as an n×n matrix: symmetric and diagonally dominant (positive definite).
let private spdAt i = fun (d: int[]) (a: float[][]) ->
    let n = int (sqrt (float a.[i].Length))
    let m = a.[i]
    for c in 0 .. n - 1 do
        for r in c + 1 .. n - 1 do m.[c * n + r] <- m.[r * n + c]
    dominant i d a

let private trans (f: int) = if f = 1 then Transpose.Transpose else Transpose.DontTranspose
let private pivots (a: float[]) = Array.zeroCreate<int> a.Length
let private ofInts (a: int[]) = Array.map float a

/// LU factors and 0-based pivots of a well-conditioned order-n matrix, by the managed provider.
let private factored (a: float[]) (n: int) =
    let lu = Array.copy a
    let piv = Array.zeroCreate<int> n
    managed.LUFactor(lu, n, piv)
    lu, piv

// ---- the provider's double members ----------------------------------------------------

let private providerSpecs : Spec list =
    let zip name (f: P -> float[] -> float[] -> float[] -> unit) =
        { spec name [ dim ] [ one 0; one 0; one 0 ] (fun p _ a -> f p a.[0] a.[1] a.[2]; [ a.[2] ])
            with Exact = false; Valid = fun _ l -> l.[0] = l.[1] && l.[1] = l.[2] }
    [ { spec "AddVectorToScaledVector" [ dim ] [ one 0; one 0; one 0 ] (fun p _ a -> p.AddVectorToScaledVector(a.[0], 0.5, a.[1], a.[2]); [ a.[2] ])
          with Exact = false; Valid = fun _ l -> l.[0] = l.[1] && l.[1] = l.[2] }
      { spec "ScaleArray" [ dim ] [ one 0; one 0 ] (fun p _ a -> p.ScaleArray(-1.5, a.[0], a.[1]); [ a.[1] ])
          with Exact = false; Valid = fun _ l -> l.[0] = l.[1] }
      { spec "ConjugateArray" [ dim ] [ one 0; one 0 ] (fun p _ a -> p.ConjugateArray(a.[0], a.[1]); [ Array.sub a.[1] 0 a.[0].Length ])
          with Exact = false; Valid = fun _ l -> l.[1] >= l.[0] }
      { spec "DotProduct" [ dim ] [ one 0; one 0 ] (fun p _ a -> [ [| p.DotProduct(a.[0], a.[1]) |] ])
          with Exact = false; Valid = fun _ l -> l.[0] = l.[1] }
      zip "AddArrays" (fun p x y r -> p.AddArrays(x, y, r))
      zip "SubtractArrays" (fun p x y r -> p.SubtractArrays(x, y, r))
      zip "PointWiseMultiplyArrays" (fun p x y r -> p.PointWiseMultiplyArrays(x, y, r))
      zip "PointWiseDivideArrays" (fun p x y r -> p.PointWiseDivideArrays(x, y, r))
      zip "PointWisePowerArrays" (fun p x y r -> p.PointWisePowerArrays(Array.map abs x, y, r))
      spec "MatrixNorm" [ Gen.choose (0, 3); dim; dim ] [ mul 1 2 ] (fun p d a ->
          let norm = [| Norm.OneNorm; Norm.InfinityNorm; Norm.LargestAbsoluteValue; Norm.FrobeniusNorm |].[d.[0]]
          [ [| p.MatrixNorm(norm, d.[1], d.[2], a.[0]) |] ])
      { spec "MatrixMultiply" [ dim; dim; dim; dim ] [ mul 0 1; mul 2 3; mul 0 3 ] (fun p d a ->
            p.MatrixMultiply(a.[0], d.[0], d.[1], a.[1], d.[2], d.[3], a.[2]); [ a.[2] ])
          with Valid = fun d _ -> d.[1] = d.[2] }
      { spec "MatrixMultiplyWithUpdate" [ flag; flag; dim; dim; dim; dim ]
            [ mul 2 3; mul 4 5; (fun d -> let m = (if d.[0] = 1 then d.[3] else d.[2]) in let n = (if d.[1] = 1 then d.[4] else d.[5]) in int64 m * int64 n, m * n) ]
            (fun p d a -> p.MatrixMultiplyWithUpdate(trans d.[0], trans d.[1], 0.5, a.[0], d.[2], d.[3], a.[1], d.[4], d.[5], 2.0, a.[2]); [ a.[2] ])
          with Valid = fun d _ -> (if d.[0] = 1 then d.[2] else d.[3]) = (if d.[1] = 1 then d.[5] else d.[4]) }
      { spec "LUFactor" [ dim ] [ mul 0 0; one 0 ] (fun p d a ->
            let piv = pivots a.[1]
            p.LUFactor(a.[0], d.[0], piv)
            [ a.[0]; ofInts piv ])
          with Prepare = dominant 0 }
      { spec "LUInverse" [ dim ] [ mul 0 0 ] (fun p d a -> p.LUInverse(a.[0], d.[0]); [ a.[0] ]) with Prepare = dominant 0 }
      { spec "LUInverseFactored" [ dim ] [ mul 0 0; one 0 ] (fun p d a ->
            let lu, piv = if d.[0] >= 0 && int64 a.[0].Length = int64 d.[0] * int64 d.[0] && a.[1].Length = d.[0] then factored a.[0] d.[0] else a.[0], pivots a.[1]
            p.LUInverseFactored(lu, d.[0], piv)
            [ lu ])
          with Prepare = dominant 0 }
      { spec "LUSolve" [ dim; dim ] [ mul 0 0; mul 0 1 ] (fun p d a -> p.LUSolve(d.[1], a.[0], d.[0], a.[1]); [ a.[1] ]) with Prepare = dominant 0 }
      { spec "LUSolveFactored" [ dim; dim ] [ mul 0 0; one 0; mul 0 1 ] (fun p d a ->
            let lu, piv = if d.[0] >= 0 && int64 a.[0].Length = int64 d.[0] * int64 d.[0] && a.[1].Length = d.[0] then factored a.[0] d.[0] else a.[0], pivots a.[1]
            p.LUSolveFactored(d.[1], lu, d.[0], piv, a.[2])
            [ a.[2] ])
          with Prepare = dominant 0 }
      { spec "CholeskyFactor" [ dim ] [ mul 0 0 ] (fun p d a -> p.CholeskyFactor(a.[0], d.[0]); [ a.[0] ]) with Prepare = spdAt 0 }
      { spec "CholeskySolve" [ dim; dim ] [ mul 0 0; mul 0 1 ] (fun p d a -> p.CholeskySolve(a.[0], d.[0], a.[1], d.[1]); [ a.[1] ]) with Prepare = spdAt 0 }
      { spec "CholeskySolveFactored" [ dim; dim ] [ mul 0 0; mul 0 1 ] (fun p d a ->
            let l = Array.copy a.[0]
            if d.[0] >= 0 && int64 l.Length = int64 d.[0] * int64 d.[0] then managed.CholeskyFactor(l, d.[0])
            p.CholeskySolveFactored(l, d.[0], a.[1], d.[1])
            [ a.[1] ])
          with Prepare = spdAt 0 }
      { spec "QRFactor" [ dim; dim ] [ mul 0 1; mul 0 0; minOf 0 1 ] (fun p d a -> p.QRFactor(a.[0], d.[0], d.[1], a.[1], a.[2]); [])
          with Exact = false; Valid = fun d l -> sizesMatch [ mul 0 1; mul 0 0 ] d [ l.[0]; l.[1] ] && l.[2] >= min d.[0] d.[1] }
      { spec "ThinQRFactor" [ dim; dim ] [ mul 0 1; mul 1 1; one 1 ] (fun p d a -> p.ThinQRFactor(a.[0], d.[0], d.[1], a.[1], a.[2]); [])
          with Exact = false; Valid = fun d l -> d.[0] >= d.[1] && sizesMatch [ mul 0 1; mul 1 1 ] d [ l.[0]; l.[1] ] && l.[2] >= d.[1] }
      { spec "QRSolve" [ dim; dim; dim; flag ] [ mul 0 1; mul 0 2; mul 1 2 ] (fun p d a ->
            p.QRSolve(a.[0], d.[0], d.[1], a.[1], d.[2], a.[2], (if d.[3] = 1 then QRMethod.Thin else QRMethod.Full)); [ a.[2] ])
          with Valid = fun d _ -> d.[0] >= d.[1] }
      { spec "QRSolveFactored" [ dim; dim; dim; flag ]
            [ (fun d -> if d.[3] = 1 then mul 0 1 d else mul 0 0 d); (fun d -> if d.[3] = 1 then mul 1 1 d else mul 0 1 d); one 1; mul 0 2; mul 1 2 ]
            (fun p d a ->
                let r = a.[1]
                let rows = if d.[3] = 1 then d.[1] else d.[0]
                if rows > 0 && d.[1] >= 0 && int64 r.Length = int64 rows * int64 d.[1] then
                    for j in 0 .. min rows d.[1] - 1 do r.[j * rows + j] <- r.[j * rows + j] + 4.0
                p.QRSolveFactored(a.[0], r, d.[0], d.[1], a.[2], a.[3], d.[2], a.[4], (if d.[3] = 1 then QRMethod.Thin else QRMethod.Full)); [])
          with Exact = false
               Valid = fun d l -> d.[0] >= d.[1] && sizesMatch [ (if d.[3] = 1 then mul 0 1 else mul 0 0); (if d.[3] = 1 then mul 1 1 else mul 0 1); mul 0 2; mul 1 2 ] d [ l.[0]; l.[1]; l.[3]; l.[4] ] }
      spec "SingularValueDecomposition" [ flag; dim; dim ] [ mul 1 2; minOf 1 2; mul 1 1; mul 2 2 ] (fun p d a ->
          p.SingularValueDecomposition((d.[0] = 1), a.[0], d.[1], d.[2], a.[1], a.[2], a.[3]); [ a.[1] ])
      { spec "SvdSolve" [ dim; dim; dim ] [ mul 0 1; mul 0 2; mul 1 2 ] (fun p d a -> p.SvdSolve(a.[0], d.[0], d.[1], a.[1], d.[2], a.[2]); [])
          with Valid = fun d _ -> fst (mul 0 0 d) <= int64 Array.MaxLength && fst (mul 1 1 d) <= int64 Array.MaxLength }
      spec "SvdSolveFactored" [ dim; dim; dim ] [ minOf 0 1; mul 0 0; mul 1 1; mul 0 2; mul 1 2 ] (fun p d a ->
          for i in 0 .. a.[0].Length - 1 do a.[0].[i] <- 2.0 + abs a.[0].[i]
          p.SvdSolveFactored(d.[0], d.[1], a.[0], a.[1], a.[2], a.[3], d.[2], a.[4]); [ a.[4] ])
      { spec "EigenDecomp" [ flag; dim ] [ mul 1 1; mul 1 1; one 1; mul 1 1 ] (fun p d a ->
            let ev = Array.zeroCreate<Complex> a.[2].Length
            p.EigenDecomp((d.[0] = 1), d.[1], a.[0], a.[1], ev, a.[3])
            if d.[0] = 1 then [ ev |> Array.map (fun z -> z.Real) ] else [])
          with Prepare = fun d a -> if d.[0] = 1 then spdAt 0 d a }
    ]

// ---- constructors and matrix primitives ------------------------------------------------

let private vec (a: float[]) = Vec a

let private primitiveSpecs : Spec list =
    let mn (ta: int) (ra: int) (ca: int) = if ta = 1 then ca else ra
    let gemmOut : Size = fun d -> let m, n = mn d.[0] d.[2] d.[3], (if d.[1] = 1 then d.[4] else d.[5]) in int64 m * int64 n, m * n
    let inner (d: int[]) = (if d.[0] = 1 then d.[2] else d.[3]) = (if d.[1] = 1 then d.[5] else d.[4])
    let fits (size: Size) d = fst (size d) <= int64 Array.MaxLength
    let linear name (f: Vec * int * int -> Vec) (outLength: int[] -> int) =
        { spec ("Linear." + name) [ dim; dim ] [ mul 0 1 ] (fun _ d a -> [ (f (vec a.[0], d.[0], d.[1])).ToArray() ])
            with Valid = fun d _ -> outLength d <= Array.MaxLength }
    [ { spec "Vec(arr, off, len)" [ dim; dim ] [ (fun d -> int64 d.[0] + int64 d.[1], d.[0] + d.[1]) ] (fun _ d a ->
            let v = Vec(a.[0], d.[0], d.[1], null, VecRef.None)
            if v.ToArray() <> Array.sub a.[0] d.[0] d.[1] then failtest "Vec(arr, off, len) shows other elements"
            [ v.ToArray() ])
          with Exact = false; Valid = fun d l -> d.[0] >= 0 && d.[1] >= 0 && int64 d.[0] + int64 d.[1] <= int64 l.[0] }
      spec "Mat(data, rows, cols)" [ dim; dim ] [ mul 0 1 ] (fun _ d a ->
          let m = Mat(vec a.[0], d.[0], d.[1])
          if m.Rows <> d.[0] || m.Cols <> d.[1] then failtest "Mat shape"
          [ m.ToMatrix().ToColumnMajorArray() ])
      { spec "Mat.OfColumns" [ Gen.elements [ 0; 1; 3; 46341; 65536 ] ] [ (fun _ -> 7L, 7) ] (fun _ d a ->
            [ (Mat.OfColumns(Array.create d.[0] (vec a.[0]))).Data.ToArray() ])
          with Exact = false; Valid = (fun d l -> d.[0] >= 1 && int64 l.[0] * int64 d.[0] <= int64 Array.MaxLength); Compare = fun d -> d.[0] <= 3 }
      { spec "Mat.OfRows" [ Gen.elements [ 0; 1; 3; 46341; 65536 ] ] [ (fun _ -> 7L, 7) ] (fun _ d a ->
            [ (Mat.OfRows(Array.create d.[0] (vec a.[0]))).Data.ToArray() ])
          with Exact = false; Valid = (fun d l -> d.[0] >= 1 && int64 l.[0] * int64 d.[0] <= int64 Array.MaxLength); Compare = fun d -> d.[0] <= 3 }
      { spec "GemmOp.Record" [ flag; flag; dim; dim; dim; dim ] [ mul 2 3; mul 4 5 ] (fun _ d a ->
            [ (GemmOp.Record("Gemm", vec a.[0], (d.[0] = 1), d.[2], d.[3], vec a.[1], (d.[1] = 1), d.[4], d.[5])).ToArray() ])
          with Valid = fun d _ -> inner d && fits gemmOut d }
      { spec "Dense.gemm" [ flag; flag; dim; dim; dim; dim ] [ mul 2 3; mul 4 5; gemmOut ] (fun _ d a ->
            Dense.gemm (d.[0] = 1) a.[0] d.[2] d.[3] (d.[1] = 1) a.[1] d.[4] d.[5] 1.5 a.[2]; [ a.[2] ])
          with Valid = fun d _ -> inner d }
      spec "Dense.mat" [ dim; dim ] [ mul 0 1 ] (fun _ d a -> [ (Dense.mat d.[0] d.[1] a.[0]).ToColumnMajorArray() ])
      { spec "SolvePrim.Record (Solve)" [ dim; dim; dim; dim ] [ mul 0 1; mul 2 3 ] (fun _ d a ->
            [ (SolvePrim.Record("Solve", vec a.[0], d.[0], d.[1], vec a.[1], d.[2], d.[3])).ToArray() ])
          with Valid = (fun d _ -> d.[0] = d.[1] && d.[2] = d.[0]); Prepare = dominant 0 }
      { spec "SolvePrim.Record (Inverse)" [ dim; dim ] [ mul 0 1 ] (fun _ d a ->
            [ (SolvePrim.Record("Inverse", vec a.[0], d.[0], d.[1], null, d.[0], d.[0])).ToArray() ])
          with Valid = (fun d _ -> d.[0] = d.[1]); Prepare = dominant 0 }
      { spec "CholeskyPrim.Record" [ dim; dim ] [ mul 0 1 ] (fun _ d a -> [ (CholeskyPrim.Record(vec a.[0], d.[0], d.[1])).ToArray() ])
          with Valid = (fun d _ -> d.[0] = d.[1]); Prepare = spdAt 0 }
      { spec "LogDetPrim.Record" [ dim; dim ] [ mul 0 1 ] (fun _ d a -> [ [| (LogDetPrim.Record(vec a.[0], d.[0], d.[1])).V |] ])
          with Valid = (fun d _ -> d.[0] = d.[1]); Prepare = dominant 0 }
      { spec "LogDetPrim.RecordSpd" [ dim; dim ] [ mul 0 1 ] (fun _ d a -> [ [| (LogDetPrim.RecordSpd(vec a.[0], d.[0], d.[1])).V |] ])
          with Valid = (fun d _ -> d.[0] = d.[1]); Prepare = spdAt 0 }
      linear "Transpose" Linear.Transpose (fun _ -> 0)
      linear "SumRows" Linear.SumRows (fun d -> d.[0])
      linear "SumCols" Linear.SumCols (fun d -> d.[1])
      linear "Diag" Linear.Diag (fun _ -> 0)
      { spec "Linear.Trace" [ dim; dim ] [ mul 0 1 ] (fun _ d a -> [ [| (Linear.Trace(vec a.[0], d.[0], d.[1])).V |] ])
          with Valid = fun d _ -> d.[0] = d.[1] }
      { spec "Linear.DiagMatrix" [ Gen.elements [ 0; 1; 3; 5; 46341; 65536 ] ] [ one 0 ] (fun _ _ a -> [ (Linear.DiagMatrix(vec a.[0])).ToArray() ])
          with Exact = false; Valid = fun _ l -> int64 l.[0] * int64 l.[0] <= int64 Array.MaxLength }
    ]

// ---- the property ------------------------------------------------------------------------

let private near (what: string) (expected: float[]) (actual: float[]) =
    if expected.Length <> actual.Length then failtestf "%s: %d outputs, expected %d" what actual.Length expected.Length
    let scale = expected |> Array.fold (fun m x -> max m (abs x)) 1.0
    for i in 0 .. expected.Length - 1 do
        if not (abs (expected.[i] - actual.[i]) <= 1e-9 * scale) && not (Double.IsNaN expected.[i] && Double.IsNaN actual.[i]) then
            failtestf "%s: output %d is %.17g, the managed provider's %.17g" what i actual.[i] expected.[i]

/// An ArgumentException thrown for the matrix's values rather than its shape.
let private numerical (e: exn) = e :? SingularMatrixException || e :? NotPositiveDefiniteException

/// Runs a call on the registered provider's copy of the data: Ok outputs or Error exception.
let private attempt (f: unit -> float[] list) = try Ok(f ()) with e -> Error e

/// `primitive`: the call goes through LinearAlgebraControl.Provider (reference: the same call with
/// the managed provider registered); otherwise it calls `p` (reference: the managed provider).
let private check (p: P) (primitive: bool) (s: Spec) (c: Case) =
    let valid = exact s c.Dims c.Lengths && s.Valid c.Dims c.Lengths
    let r = Random(c.Seed)
    let data = c.Lengths |> Array.map (fun n -> Array.init n (fun _ -> 2.0 * r.NextDouble() - 1.0))
    if valid then s.Prepare c.Dims data
    let copy () = Array.map Array.copy data
    // the last line on stderr names the call that crashed, if one does
    eprintfn "%s dims %A lengths %A" s.Name c.Dims c.Lengths
    let what = sprintf "%s with dimensions %A and array lengths %A" s.Name c.Dims c.Lengths
    match attempt (fun () -> s.Call p c.Dims (copy ())) with
    | Error(:? ArgumentException as e) when not valid || numerical e -> ()
    | Error e when valid -> failtestf "%s (valid) threw %s: %s" what (e.GetType().Name) e.Message
    | Error e -> failtestf "%s threw %s, not an ArgumentException: %s" what (e.GetType().Name) e.Message
    | Ok _ when not valid -> failtestf "%s was accepted, but the shapes do not match the arrays" what
    | Ok outputs ->
        if s.Compare c.Dims then
            let expected =
                if primitive then
                    let saved = LinearAlgebraControl.Provider
                    LinearAlgebraControl.Provider <- ManagedLinearAlgebraProvider.Instance
                    try s.Call managed c.Dims (copy ()) finally LinearAlgebraControl.Provider <- saved
                else s.Call managed c.Dims (copy ())
            List.iteri2 (fun i e a -> near (sprintf "%s, output %d" what i) e a) expected outputs

let private property (p: P) (primitive: bool) (s: Spec) =
    testPropertyWithConfig { FsCheckConfig.defaultConfig with maxTest = 150 } s.Name
        (Prop.forAll (Arb.fromGen (caseOf s)) (fun c -> check p primitive s c))

/// The backends, by the child role that tests each.
let private roles = [ "hostile-shapes-managed", BackendKind.Managed; "hostile-shapes-openblas", BackendKind.OpenBlas; "hostile-shapes-mkl", BackendKind.Mkl ]

[<Tests>]
let childTests =
    testList "HostileShapes.child" [
        for role, kind in roles ->
            ChildProcess.childTests role (fun () ->
                Linalg.Use kind |> ignore
                let p = Linalg.CreateProvider kind :> P
                [ testList "primitives" [ for s in primitiveSpecs -> property p true s ]
                  test "a 65536×65536 product over empty arrays names the shape" {
                      let e = Expect.throwsC (fun () -> GemmOp.Record("MatMul", Vec [||], false, 65536, 65536, Vec [||], false, 65536, 65536) |> ignore) id
                      Expect.isTrue (e :? ArgumentException) (sprintf "ArgumentException, got %s" (e.GetType().Name))
                      Expect.stringContains e.Message "MatMul: A is 65536×65536 = 4294967296 elements, more than one array can hold" "message"
                  }
                  if kind <> BackendKind.Managed then
                      test "the provider's message names the shape" {
                          let e = Expect.throwsC (fun () -> p.MatrixMultiply([||], 65536, 65536, [||], 65536, 65536, [||])) id
                          Expect.isTrue (e :? ArgumentException) (sprintf "ArgumentException, got %s" (e.GetType().Name))
                          Expect.stringContains e.Message "A (65536x65536)" "names the shape"
                          Expect.stringContains e.Message "4294967296" "the element count in 64 bits"
                      }
                      testList "provider" [ for s in providerSpecs -> property p false s ] ])
    ]

[<Tests>]
let tests =
    testList "HostileShapes" [
        yield test "Mat and Vec constructors reject storage that does not hold the shape, naming it" {
            let e = Expect.throwsC (fun () -> Mat(Vec [||], 65536, 65536) |> ignore) id
            Expect.isTrue (e :? ArgumentException) "ArgumentException"
            Expect.stringContains e.Message "The matrix is 65536×65536 = 4294967296 elements, more than one array can hold" "Mat message"
            let e = Expect.throwsC (fun () -> Mat(Vec [| 1.0; 2.0 |], 40000, 40000) |> ignore) id
            Expect.stringContains e.Message "The matrix is 40000×40000 and needs 1600000000 elements, but its storage has 2" "Mat message below the array limit"
            let e = Expect.throwsC (fun () -> Mat(Vec [| 1.0 |], -1, -1) |> ignore) id
            Expect.stringContains e.Message "-1×-1: a matrix dimension cannot be negative" "negative"
            let e = Expect.throwsC (fun () -> Vec([| 1.0; 2.0 |], 1, Int32.MaxValue, null, VecRef.None) |> ignore) id
            Expect.isTrue (e :? ArgumentException) "Vec: ArgumentException"
            Expect.stringContains e.Message "2147483647 elements from offset 1 does not fit in an array of 2" "Vec message"
            Expect.throwsT<ArgumentException> (fun () -> Mat.Diag(Vec(Array.zeroCreate 65536)) |> ignore) "Diag of a long vector"
        }
        for role, kind in roles ->
            test (sprintf "%A: every constructor, primitive and provider member throws ArgumentException or is right, in a child process" kind) {
                if not (Linalg.IsAvailable kind) then skiptestf "%A is not available: %s" kind (Linalg.WhyUnavailable kind)
                let output = ChildProcess.expectPasses role [] None
                Expect.stringContains output "passed" "the child's summary"
            }
    ]
