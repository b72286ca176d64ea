/// The same provider suite against every backend (managed, MKL, OpenBLAS); MathNet's managed
/// provider is the reference. A backend whose library is absent is skipped with a message.
module Hybrid.Kernel.Tests.ProviderTests

open System
open System.Numerics
open Expecto
open MathNet.Numerics.LinearAlgebra
open MathNet.Numerics.LinearAlgebra.Double
open MathNet.Numerics.LinearAlgebra.Factorization
open MathNet.Numerics.Providers.LinearAlgebra
open Hybrid.Kernel

type private P = ILinearAlgebraProvider<float>

let private reference = ManagedLinearAlgebraProvider.Instance :> P
let private tol = 1e-10

// ---- data ----------------------------------------------------------------------------

let private random (seed: int) (rows: int) (columns: int) =
    let r = Random(seed)
    Array.init (rows * columns) (fun _ -> 2.0 * r.NextDouble() - 1.0)

/// A·Aᵀ + n·I: symmetric positive definite.
let private spd (seed: int) (n: int) =
    let a = random seed n n
    let c = Array.zeroCreate (n * n)
    reference.MatrixMultiplyWithUpdate(Transpose.DontTranspose, Transpose.Transpose, 1.0, a, n, n, a, n, n, 0.0, c)
    for i in 0 .. n - 1 do c.[i * n + i] <- c.[i * n + i] + float n
    c

/// Symmetric, indefinite: its leading 2×2 minor is 4·(−3) − 1 < 0 (column-major).
let private indefinite = [| 4.0; 1.0; 0.0;  1.0; -3.0; 0.0;  0.0; 0.0; 2.0 |]
/// Exactly singular: the second column is twice the first; U(2,2) = 0 exactly in LU.
let private singular2 = [| 2.0; 1.0;  4.0; 2.0 |]
/// Exactly singular 3×3 with a zero second column.
let private singular3 = [| 1.0; 3.0; 5.0;  0.0; 0.0; 0.0;  2.0; 4.0; 7.0 |]
/// Non-symmetric with a complex pair of eigenvalues (a rotation block) and a real one.
let private rotation = [| 0.0; 1.0; 0.0;  -2.0; 0.0; 0.0;  1.0; 3.0; 5.0 |]

/// Small shapes, plus sizes past LAPACK's block size (its blocked code paths).
let private shapes = [ "square", 5, 5; "tall", 7, 4; "wide", 4, 7; "1x1", 1, 1; "square 70", 70, 70; "tall 90x60", 90, 60; "wide 40x75", 40, 75 ]
let private squares = [ "square", 5; "1x1", 1; "order 12", 12; "order 80", 80 ]

// ---- comparisons ---------------------------------------------------------------------

let private maxAbs (a: float[]) = Array.fold (fun m x -> max m (abs x)) 0.0 a

/// max |e − a| ≤ tol · max(1, max |e|), element by element, with the place of the worst entry.
let private near (tolerance: float) (what: string) (expected: float[]) (actual: float[]) =
    if expected.Length <> actual.Length then failtestf "%s: expected %d elements, got %d" what expected.Length actual.Length
    let scale = max 1.0 (maxAbs expected)
    let mutable worst, at = 0.0, -1
    for i in 0 .. expected.Length - 1 do
        let d = abs (expected.[i] - actual.[i])
        if Double.IsNaN d || d > worst then worst <- (if Double.IsNaN d then infinity else d); at <- i
    if not (worst <= tolerance * scale) then
        failtestf "%s: |diff| %.3g at index %d (expected %.15g, got %.15g) > tol %.1g" what worst at expected.[at] actual.[at] (tolerance * scale)

let private mul (a: float[]) m k (b: float[]) n =
    let c = Array.zeroCreate (m * n)
    reference.MatrixMultiply(a, m, k, b, k, n, c)
    c

let private transpose (a: float[]) rows columns =
    Array.init (rows * columns) (fun idx -> let i, j = idx % columns, idx / columns in a.[i * rows + j])

let private identity n = Array.init (n * n) (fun idx -> if idx % n = idx / n then 1.0 else 0.0)

/// QᵀQ = I for a rows×columns Q.
let private orthonormalColumns what (q: float[]) rows columns =
    near 1e-12 (what + ": QᵀQ = I") (identity columns) (mul (transpose q rows columns) columns rows q columns)

/// Flips the signs of row i of R and column i of Q so that R(i,i) ≥ 0 (QR is unique up to them).
let private normaliseQR (q: float[]) rowsQ (r: float[]) rowsR columnsR k =
    let q, r = Array.copy q, Array.copy r
    for i in 0 .. k - 1 do
        if r.[i * rowsR + i] < 0.0 then
            for j in 0 .. columnsR - 1 do r.[j * rowsR + i] <- -r.[j * rowsR + i]
            for j in 0 .. rowsQ - 1 do q.[i * rowsQ + j] <- -q.[i * rowsQ + j]
    q, r

/// f throws 'E or an exception derived from it (Expect.throwsT wants the exact type).
let private throwsA<'E when 'E :> exn> (f: unit -> unit) (what: string) =
    let ex = Expect.throwsC f id
    if not (ex :? 'E) then failtestf "%s: expected %s, got %s: %s" what typeof<'E>.Name (ex.GetType().Name) ex.Message

let private sortedEigenvalues (v: Complex[]) =
    v |> Array.sortBy (fun z -> Math.Round(z.Real, 8), z.Imaginary) |> Array.collect (fun z -> [| z.Real; z.Imaginary |])

// ---- the suite, per backend ----------------------------------------------------------

let private suite (kind: BackendKind) =
    let t (title: string) (body: P -> unit) =
        test title {
            if not (Linalg.IsAvailable kind) then
                skiptestf "%A is not available in this process (%s); install it with %s" kind (Linalg.WhyUnavailable kind)
                    (if kind = BackendKind.Mkl then "`sudo apt-get install libmkl-rt` (Debian non-free)" else "`sudo apt-get install libopenblas0`")
            body (Linalg.CreateProvider kind :> P)
        }
    let native = kind <> BackendKind.Managed
    testList (sprintf "%A" kind) [
        t "AddVectorToScaledVector: y + alpha·x, with result aliasing y or x" <| fun p ->
            for n in [ 1; 5; 17 ] do
                let x, y = random 1 n 1, random 2 n 1
                for alpha in [ 0.0; 1.0; -2.5 ] do
                    let e = Array.zeroCreate n
                    reference.AddVectorToScaledVector(y, alpha, x, e)
                    let r = Array.zeroCreate n
                    p.AddVectorToScaledVector(y, alpha, x, r)
                    near tol "separate result" e r
                    let yy = Array.copy y
                    p.AddVectorToScaledVector(yy, alpha, x, yy)
                    near tol "result = y" e yy
                    let xx = Array.copy x
                    p.AddVectorToScaledVector(y, alpha, xx, xx)
                    near tol "result = x" e xx

        t "SyrkLower (dsyrk; managed: Dense.syrkLowerManaged): the lower triangle of α·AᵀA + C as the reference gemm, with lda > rows; the upper left alone" <| fun p ->
            for rows, lda, cols in [ 1, 1, 1; 7, 7, 3; 37, 41, 11; 300, 327, 20 ] do
                let a = random 5 lda cols
                for alpha in [ 1.0; -1.0; 0.5 ] do
                    let c0 = random 6 cols cols
                    // the reference: the first `rows` rows of a as an exact-size matrix, then AᵀA by gemm
                    let a0 = Array.init (rows * cols) (fun e -> a[(e / rows) * lda + e % rows])
                    let e = Array.copy c0
                    reference.MatrixMultiplyWithUpdate(Transpose.Transpose, Transpose.DontTranspose, alpha, a0, rows, cols, a0, rows, cols, 1.0, e)
                    let r = Array.copy c0
                    match p with
                    | :? NativeLinearAlgebraProvider as np -> np.SyrkLower(alpha, a, lda, rows, cols, r)
                    | _ -> Dense.syrkLowerManaged alpha a lda rows cols r
                    for j in 0 .. cols - 1 do
                        for q in 0 .. cols - 1 do
                            let what = sprintf "%d×%d (lda %d), α = %g: C(%d, %d)" rows cols lda alpha q j
                            if q >= j then Check.close 1e-12 what e[q + j * cols] r[q + j * cols]
                            else Check.close 0.0 (what + " (upper, untouched)") c0[q + j * cols] r[q + j * cols]
            throwsA<ArgumentException> (fun () -> Dense.syrkLower 1.0 (random 1 4 2) 3 4 2 (Array.zeroCreate 4)) "lda below the rows"
            throwsA<ArgumentException> (fun () -> Dense.syrkLower 1.0 (random 1 4 2) 4 4 2 (Array.zeroCreate 5)) "C not cols×cols"

        t "ScaleArray, ConjugateArray, DotProduct" <| fun p ->
            for n in [ 1; 5; 17 ] do
                let x, y = random 3 n 1, random 4 n 1
                for alpha in [ 0.0; 1.0; -3.0 ] do
                    let e, r = Array.zeroCreate n, Array.zeroCreate n
                    reference.ScaleArray(alpha, x, e)
                    p.ScaleArray(alpha, x, r)
                    near tol "scale" e r
                    let xx = Array.copy x
                    p.ScaleArray(alpha, xx, xx)
                    near tol "scale in place" e xx
                let c = Array.zeroCreate n
                p.ConjugateArray(x, c)
                near 0.0 "conjugate" x c
                Check.close tol "dot" (reference.DotProduct(x, y)) (p.DotProduct(x, y))

        t "Add, Subtract, PointWiseMultiply, PointWiseDivide, PointWisePower arrays" <| fun p ->
            for n in [ 1; 3; 17; 64 ] do
                let x, y = random 5 n 1, random 6 n 1
                let ax = Array.map abs x
                let ops : (string * (P -> float[] -> float[] -> float[] -> unit)) list =
                    [ "add", (fun q a b r -> q.AddArrays(a, b, r))
                      "subtract", (fun q a b r -> q.SubtractArrays(a, b, r))
                      "multiply", (fun q a b r -> q.PointWiseMultiplyArrays(a, b, r))
                      "divide", (fun q a b r -> q.PointWiseDivideArrays(a, b, r))
                      "power", (fun q a b r -> q.PointWisePowerArrays(a, b, r)) ]
                for name, op in ops do
                    let a = if name = "power" then ax else x
                    let e, r = Array.zeroCreate n, Array.zeroCreate n
                    op reference a y e
                    op p a y r
                    near tol (sprintf "%s, n = %d" name n) e r

        t "MatrixNorm: one, infinity, max-abs, Frobenius" <| fun p ->
            for name, m, n in shapes do
                let a = random 7 m n
                for norm in [ Norm.OneNorm; Norm.InfinityNorm; Norm.LargestAbsoluteValue; Norm.FrobeniusNorm ] do
                    Check.close tol (sprintf "%A of %s" norm name) (reference.MatrixNorm(norm, m, n, a)) (p.MatrixNorm(norm, m, n, a))

        t "MatrixMultiply: square, tall, wide, 1x1, matrix-vector, inner and outer products" <| fun p ->
            for m, k, n in [ 5, 5, 5; 7, 4, 3; 3, 4, 7; 1, 1, 1; 6, 5, 1; 1, 5, 6; 1, 6, 1; 6, 1, 6 ] do
                let a, b = random 8 m k, random 9 k n
                let e, r = Array.zeroCreate (m * n), Array.zeroCreate (m * n)
                reference.MatrixMultiply(a, m, k, b, k, n, e)
                p.MatrixMultiply(a, m, k, b, k, n, r)
                near tol (sprintf "%dx%d · %dx%d" m k k n) e r

        t "MatrixMultiplyWithUpdate: every transpose combination, alpha and beta" <| fun p ->
            for m, k, n in [ 5, 5, 5; 7, 4, 3; 3, 4, 7; 1, 1, 1; 6, 5, 1; 1, 5, 6 ] do
                for ta in [ Transpose.DontTranspose; Transpose.Transpose ] do
                    for tb in [ Transpose.DontTranspose; Transpose.Transpose ] do
                        for alpha, beta in [ 1.0, 0.0; -0.5, 2.0; 0.0, 3.0 ] do
                            let ra, ca = if ta = Transpose.DontTranspose then m, k else k, m
                            let rb, cb = if tb = Transpose.DontTranspose then k, n else n, k
                            let a, b, c = random 10 ra ca, random 11 rb cb, random 12 m n
                            let e, r = Array.copy c, Array.copy c
                            reference.MatrixMultiplyWithUpdate(ta, tb, alpha, a, ra, ca, b, rb, cb, beta, e)
                            p.MatrixMultiplyWithUpdate(ta, tb, alpha, a, ra, ca, b, rb, cb, beta, r)
                            near tol (sprintf "%A(A %dx%d)·%A(B %dx%d), alpha %g beta %g" ta ra ca tb rb cb alpha beta) e r

        t "LUFactor: the same factors and 0-based pivots; singular matrices factor without error" <| fun p ->
            for name, a, n in [ "square", random 13 5 5, 5; "1x1", [| -3.0 |], 1; "order 12", random 14 12 12, 12
                                "singular 2x2", singular2, 2; "singular 3x3", singular3, 3 ] do
                let e, r = Array.copy a, Array.copy a
                let ep, rp = Array.zeroCreate n, Array.zeroCreate n
                reference.LUFactor(e, n, ep)
                p.LUFactor(r, n, rp)
                near tol (name + ": LU") e r
                Expect.equal rp ep (name + ": pivots")

        t "LUSolve, LUSolveFactored, LUInverse, LUInverseFactored" <| fun p ->
            for name, n in squares do
                let a, b = random 15 n n, random 16 n 3
                let eb, rb = Array.copy b, Array.copy b
                reference.LUSolve(3, a, n, eb)
                let a0 = Array.copy a
                p.LUSolve(3, a, n, rb)
                near tol (name + ": LUSolve") eb rb
                near 0.0 (name + ": LUSolve leaves A unchanged") a0 a
                let lu, piv = Array.copy a, Array.zeroCreate n
                reference.LUFactor(lu, n, piv)
                let rb2 = Array.copy b
                p.LUSolveFactored(3, lu, n, piv, rb2)
                near tol (name + ": LUSolveFactored") eb rb2
                let ei, ri = Array.copy a, Array.copy a
                reference.LUInverse(ei, n)
                p.LUInverse(ri, n)
                near tol (name + ": LUInverse") ei ri
                let rif = Array.copy lu
                p.LUInverseFactored(rif, n, piv)
                near tol (name + ": LUInverseFactored") ei rif

        t "CholeskyFactor: L with zeroed upper triangle; CholeskySolve, CholeskySolveFactored" <| fun p ->
            for name, n in squares do
                let a, b = spd 17 n, random 18 n 2
                let e, r = Array.copy a, Array.copy a
                reference.CholeskyFactor(e, n)
                p.CholeskyFactor(r, n)
                near tol (name + ": L") e r
                let eb, rb = Array.copy b, Array.copy b
                reference.CholeskySolve(a, n, eb, 2)
                let a0 = Array.copy a
                p.CholeskySolve(a, n, rb, 2)
                near tol (name + ": CholeskySolve") eb rb
                near 0.0 (name + ": CholeskySolve leaves A unchanged") a0 a
                let rb2 = Array.copy b
                p.CholeskySolveFactored(e, n, rb2, 2)
                near tol (name + ": CholeskySolveFactored") eb rb2

        t "Cholesky of an indefinite matrix throws ArgumentException" <| fun p ->
            throwsA<ArgumentException> (fun () -> p.CholeskyFactor(Array.copy indefinite, 3)) "indefinite factor"
            throwsA<ArgumentException> (fun () -> p.CholeskySolve(indefinite, 3, Array.zeroCreate 3, 1)) "indefinite solve"

        t "QRFactor (full): R and Q equal the managed ones up to signs; Q orthogonal; Q·R = A" <| fun p ->
            for name, m, n in shapes do
                let a = random 19 m n
                let k = min m n
                let er, eq, et = Array.copy a, Array.zeroCreate (m * m), Array.zeroCreate k
                reference.QRFactor(er, m, n, eq, et)
                let rr, rq, rt = Array.copy a, Array.zeroCreate (m * m), Array.zeroCreate k
                p.QRFactor(rr, m, n, rq, rt)
                orthonormalColumns name rq m m
                near tol (name + ": Q·R = A") a (mul rq m m rr n)
                let eqn, ern = normaliseQR eq m er m n k
                let rqn, rrn = normaliseQR rq m rr m n k
                near tol (name + ": R") ern rrn
                near tol (name + ": Q, first min(m,n) columns") (Array.sub eqn 0 (m * k)) (Array.sub rqn 0 (m * k))
            // rank deficient: a zero column makes a reflector the identity in LAPACK and a sign flip in
            // managed code, so only the invariants are compared
            let r, q, tau = Array.copy singular3, Array.zeroCreate 9, Array.zeroCreate 3
            p.QRFactor(r, 3, 3, q, tau)
            orthonormalColumns "singular 3x3" q 3 3
            near tol "singular 3x3: Q·R = A" singular3 (mul q 3 3 r 3)
            Check.close tol "singular 3x3: R(2,2) = 0" 0.0 r.[4]

        t "ThinQRFactor: Q (m×n) and R (n×n) equal the managed ones up to signs" <| fun p ->
            for name, m, n in shapes |> List.filter (fun (_, m, n) -> m >= n) do
                let a = random 20 m n
                let eq, er, et = Array.copy a, Array.zeroCreate (n * n), Array.zeroCreate n
                reference.ThinQRFactor(eq, m, n, er, et)
                let rq, rr, rt = Array.copy a, Array.zeroCreate (n * n), Array.zeroCreate n
                p.ThinQRFactor(rq, m, n, rr, rt)
                orthonormalColumns name rq m n
                near tol (name + ": Q·R = A") a (mul rq m n rr n)
                let eqn, ern = normaliseQR eq m er n n n
                let rqn, rrn = normaliseQR rq m rr n n n
                near tol (name + ": R") ern rrn
                near tol (name + ": Q") eqn rqn

        t "QRSolve and QRSolveFactored (full and thin): least squares on square, tall, 1x1" <| fun p ->
            for name, m, n in shapes |> List.filter (fun (_, m, n) -> m >= n) do
                let a, b = random 21 m n, random 22 m 2
                for method in [ QRMethod.Full; QRMethod.Thin ] do
                    let ex, rx = Array.zeroCreate (n * 2), Array.zeroCreate (n * 2)
                    reference.QRSolve(a, m, n, b, 2, ex, method)
                    p.QRSolve(a, m, n, b, 2, rx, method)
                    near tol (sprintf "%s: QRSolve %A" name method) ex rx
                    let rf = Array.zeroCreate (n * 2)
                    if method = QRMethod.Full then
                        let r, q, tau = Array.copy a, Array.zeroCreate (m * m), Array.zeroCreate n
                        p.QRFactor(r, m, n, q, tau)
                        p.QRSolveFactored(q, r, m, n, tau, b, 2, rf, method)
                    else
                        let q, r, tau = Array.copy a, Array.zeroCreate (n * n), Array.zeroCreate n
                        p.ThinQRFactor(q, m, n, r, tau)
                        p.QRSolveFactored(q, r, m, n, tau, b, 2, rf, method)
                    near tol (sprintf "%s: QRSolveFactored %A" name method) ex rf

        t "SingularValueDecomposition: descending singular values as managed; U·S·Vᵀ = A; U, V orthogonal" <| fun p ->
            for name, m, n, a in [ for name, m, n in shapes -> name, m, n, random 23 m n
                                   yield "singular 3x3", 3, 3, singular3 ] do
                let k = min m n
                let es, eu, evt = Array.zeroCreate k, Array.zeroCreate (m * m), Array.zeroCreate (n * n)
                reference.SingularValueDecomposition(true, Array.copy a, m, n, es, eu, evt)
                let rs, ru, rvt = Array.zeroCreate k, Array.zeroCreate (m * m), Array.zeroCreate (n * n)
                p.SingularValueDecomposition(true, Array.copy a, m, n, rs, ru, rvt)
                near tol (name + ": s") es rs
                orthonormalColumns (name + ": U") ru m m
                orthonormalColumns (name + ": V") (transpose rvt n n) n n
                let us = Array.init (m * k) (fun idx -> ru.[idx] * rs.[idx / m])
                let vtk = Array.init (k * n) (fun idx -> rvt.[(idx / k) * n + idx % k])
                near tol (name + ": U·S·Vᵀ = A") a (mul us m k vtk n)
                let s2 = Array.zeroCreate k
                let u0, vt0 = Array.create (m * m) 7.0, Array.create (n * n) 7.0
                p.SingularValueDecomposition(false, Array.copy a, m, n, s2, u0, vt0)
                near tol (name + ": s without vectors") es s2
                near 0.0 (name + ": U untouched without vectors") (Array.create (m * m) 7.0) u0

        t "SvdSolve and SvdSolveFactored: square, tall (least squares), 1x1" <| fun p ->
            for name, m, n in shapes |> List.filter (fun (_, m, n) -> m >= n) do
                let a, b = random 24 m n, random 25 m 2
                let ex, rx = Array.zeroCreate (n * 2), Array.zeroCreate (n * 2)
                reference.SvdSolve(a, m, n, b, 2, ex)
                p.SvdSolve(a, m, n, b, 2, rx)
                near tol (name + ": SvdSolve") ex rx
                let s, u, vt = Array.zeroCreate n, Array.zeroCreate (m * m), Array.zeroCreate (n * n)
                p.SingularValueDecomposition(true, Array.copy a, m, n, s, u, vt)
                let rf = Array.zeroCreate (n * 2)
                p.SvdSolveFactored(m, n, s, u, vt, b, 2, rf)
                near tol (name + ": SvdSolveFactored") ex rf

        t "EigenDecomp symmetric: ascending eigenvalues as managed, orthonormal V, A·V = V·D" <| fun p ->
            for name, n, a in [ "spd", 6, spd 26 6; "indefinite", 3, indefinite; "1x1", 1, [| -2.0 |]
                                "symmetric 8", 8, (let r = random 27 8 8 in Array.init 64 (fun i -> r.[i] + r.[(i % 8) * 8 + i / 8])) ] do
                let ev, evals, ed = Array.zeroCreate (n * n), Array.zeroCreate n, Array.zeroCreate (n * n)
                reference.EigenDecomp(true, n, a, ev, evals, ed)
                let rv, rvals, rd = Array.zeroCreate (n * n), Array.zeroCreate n, Array.zeroCreate (n * n)
                let a0 = Array.copy a
                p.EigenDecomp(true, n, a, rv, rvals, rd)
                near 0.0 (name + ": A unchanged") a0 a
                near tol (name + ": eigenvalues") (sortedEigenvalues evals) (sortedEigenvalues rvals)
                near tol (name + ": eigenvalues ascending, in order") (evals |> Array.map (fun z -> z.Real)) (rvals |> Array.map (fun z -> z.Real))
                near tol (name + ": D") ed rd
                orthonormalColumns name rv n n
                near tol (name + ": A·V = V·D") (mul a n n rv n) (mul rv n n rd n)

        t "EigenDecomp non-symmetric: eigenvalues as managed (sorted), A·V = V·D with 2x2 blocks" <| fun p ->
            for name, n, a in [ "random 6", 6, random 28 6 6; "rotation", 3, rotation; "1x1", 1, [| 4.0 |]; "random 9", 9, random 29 9 9; "random 70", 70, random 34 70 70 ] do
                let ev, evals, ed = Array.zeroCreate (n * n), Array.zeroCreate n, Array.zeroCreate (n * n)
                reference.EigenDecomp(false, n, a, ev, evals, ed)
                let rv, rvals, rd = Array.zeroCreate (n * n), Array.zeroCreate n, Array.zeroCreate (n * n)
                p.EigenDecomp(false, n, a, rv, rvals, rd)
                near 1e-9 (name + ": eigenvalues") (sortedEigenvalues evals) (sortedEigenvalues rvals)
                near 1e-9 (name + ": A·V = V·D") (mul a n n rv n) (mul rv n n rd n)
                for i in 0 .. n - 1 do
                    Check.close 0.0 (sprintf "%s: D(%d,%d) is the eigenvalue's real part" name i i) rvals.[i].Real rd.[i * n + i]

        t "Shape and null checks throw ArgumentException before any work" <| fun p ->
            throwsA<ArgumentException> (fun () -> p.MatrixMultiply(random 1 2 3, 2, 3, random 2 4 2, 4, 2, Array.zeroCreate 4)) "gemm inner dimensions"
            throwsA<ArgumentException> (fun () -> p.MatrixMultiply(random 1 2 3, 2, 3, random 2 3 2, 3, 2, Array.zeroCreate 5)) "gemm result length"
            throwsA<ArgumentException> (fun () -> p.DotProduct(random 1 3 1, random 1 4 1) |> ignore) "dot lengths"
            throwsA<ArgumentException> (fun () -> p.LUFactor(random 1 3 3, 3, Array.zeroCreate 2)) "pivot length"
            throwsA<ArgumentNullException> (fun () -> p.CholeskyFactor(null, 3)) "null matrix"
            throwsA<ArgumentException> (fun () -> p.QRSolve(random 1 3 5, 3, 5, random 1 3 1, 1, Array.zeroCreate 5, QRMethod.Full)) "QR of a wide matrix"

        if native then
            t "Singular LU solve / inverse throws SingularMatrixException naming the zero pivot" <| fun p ->
                let ex = Expect.throwsC (fun () -> p.LUSolve(1, singular2, 2, [| 1.0; 1.0 |])) id
                match ex with
                | :? SingularMatrixException as s ->
                    Expect.equal s.Pivot 2 "pivot"
                    Expect.stringContains s.Message "2x2 matrix is singular" "message names the shape"
                    Expect.stringContains s.Message "column 2" "message names the column"
                | other -> failtestf "expected SingularMatrixException, got %O" other
                Expect.throwsT<SingularMatrixException> (fun () -> p.LUInverse(Array.copy singular3, 3)) "LUInverse"
                let lu, piv = Array.copy singular3, Array.zeroCreate 3
                p.LUFactor(lu, 3, piv)
                Expect.throwsT<SingularMatrixException> (fun () -> p.LUSolveFactored(1, lu, 3, piv, Array.zeroCreate 3)) "LUSolveFactored"
                Expect.throwsT<SingularMatrixException> (fun () -> p.LUInverseFactored(lu, 3, piv)) "LUInverseFactored"
                Expect.throwsT<SingularMatrixException> (fun () -> p.QRSolve(singular3, 3, 3, Array.zeroCreate 3, 1, Array.zeroCreate 3, QRMethod.Full)) "QRSolve"

            t "Indefinite Cholesky throws NotPositiveDefiniteException naming the leading minor" <| fun p ->
                let ex = Expect.throwsC (fun () -> p.CholeskyFactor(Array.copy indefinite, 3)) id
                match ex with
                | :? NotPositiveDefiniteException as e ->
                    Expect.equal e.MinorOrder 2 "minor order"
                    Expect.stringContains e.Message "leading minor of order 2" "message"
                    Expect.stringContains e.Message "3x3" "message names the shape"
                | other -> failtestf "expected NotPositiveDefiniteException, got %O" other

            t "Shape errors name the shapes" <| fun p ->
                let ex = Expect.throwsC (fun () -> p.MatrixMultiply(random 1 2 3, 2, 3, random 2 4 2, 4, 2, Array.zeroCreate 4)) id
                Expect.stringContains ex.Message "op(A) is 2x3 but op(B) is 4x2" "gemm message"

            t "Backend describes the library" <| fun p ->
                let b = Linalg.Describe(p :?> ILinearAlgebraProvider)
                Expect.equal b.Kind kind "kind"
                Expect.isGreaterThanOrEqual b.Threads 1 "threads"
                let expected = if kind = BackendKind.Mkl then @"^MKL \d+\.\d+(\.\d+)? \(/\S+/libmkl_rt\.so[.\d]*, \d+ threads?\)$" else @"^OpenBLAS \d+\.\d+(\.\d+)? \(/\S+/libopenblas\.so[.\d]*, \d+ threads?\)$"
                Expect.isTrue (IO.Path.IsPathRooted b.Library && IO.File.Exists b.Library) (sprintf "Library is the absolute path of the file loaded: %s" b.Library)
                Expect.isMatch (b.ToString()) expected "ToString"
    ]

// ---- choice and registration ---------------------------------------------------------

let private availability (mkl: bool) (openBlas: bool) =
    Func<BackendKind, bool>(fun k ->
        match k with
        | BackendKind.Mkl -> mkl
        | BackendKind.OpenBlas -> openBlas
        | _ -> true)

[<Tests>]
let choiceTests =
    testList "Provider.Choice" [
        test "Unset, empty or auto picks MKL, then OpenBLAS, then managed" {
            for value in [ null; ""; "  "; "auto" ] do
                Expect.equal (Linalg.Choose(value, availability true true)) BackendKind.Mkl "both present"
                Expect.equal (Linalg.Choose(value, availability false true)) BackendKind.OpenBlas "no MKL"
                Expect.equal (Linalg.Choose(value, availability false false)) BackendKind.Managed "neither"
        }
        test "HYBRID_BLAS forces a backend, case-insensitively" {
            Expect.equal (Linalg.Choose("openblas", availability true true)) BackendKind.OpenBlas "openblas"
            Expect.equal (Linalg.Choose(" MKL ", availability true true)) BackendKind.Mkl "MKL"
            Expect.equal (Linalg.Choose("Managed", availability true true)) BackendKind.Managed "managed"
        }
        test "Forcing a missing library says how to install it" {
            let mkl = Expect.throwsC (fun () -> Linalg.Choose("mkl", availability false true) |> ignore) id
            Expect.isTrue (mkl :? InvalidOperationException) "InvalidOperationException"
            Expect.stringContains mkl.Message "sudo apt-get install libmkl-rt" "MKL hint: the apt-get command"
            Expect.stringContains mkl.Message "non-free" "MKL hint: the non-free component"
            let ob = Expect.throwsC (fun () -> Linalg.Choose("openblas", availability true false) |> ignore) id
            Expect.stringContains ob.Message "apt-get install libopenblas0" "OpenBLAS hint"
        }
        test "An unknown HYBRID_BLAS value is an ArgumentException listing the valid ones" {
            let ex = Expect.throwsC (fun () -> Linalg.Choose("cuda", availability true true) |> ignore) id
            Expect.isTrue (ex :? ArgumentException) "ArgumentException"
            Expect.stringContains ex.Message "mkl, openblas or managed" "message"
        }
        test "IsAvailable agrees with CreateProvider" {
            for kind in [ BackendKind.Mkl; BackendKind.OpenBlas; BackendKind.Managed ] do
                if Linalg.IsAvailable kind then Linalg.CreateProvider kind |> ignore
                else Expect.throwsT<InvalidOperationException> (fun () -> Linalg.CreateProvider kind |> ignore) (string kind)
        }
    ]

[<Tests>]
let registrationTests =
    testSequenced <| testList "Provider.UseBest" [
        test "UseBest registers the chosen backend; plain MathNet products and Cholesky solves are right" {
            let expected = Linalg.Choose(Environment.GetEnvironmentVariable Linalg.EnvironmentVariable, Func<_, _>(Linalg.IsAvailable))
            let backend = Linalg.UseBest()
            Expect.equal backend.Kind expected "kind"
            Expect.equal (Linalg.Backend.Kind) expected "Linalg.Backend"
            Expect.isTrue (obj.ReferenceEquals(LinearAlgebraControl.Provider, Linalg.CreateProvider expected)) "registered"
            Expect.equal (Linalg.UseBest().Kind) expected "idempotent"
            let n = 40
            let a = DenseMatrix.OfColumnMajor(n, n, random 30 n n)
            let b = DenseMatrix.OfColumnMajor(n, n, random 31 n n)
            let expectedProduct = Array.zeroCreate (n * n)
            reference.MatrixMultiply(a.Values, n, n, b.Values, n, n, expectedProduct)
            near tol "A*B" expectedProduct (a * b).Values
            let s = DenseMatrix.OfColumnMajor(n, n, spd 32 n)
            let rhs = DenseMatrix.OfColumnMajor(n, 2, random 33 n 2)
            let x = s.Cholesky().Solve(rhs)
            near 1e-10 "S * Cholesky(S).Solve(B) = B" rhs.Values ((s * x) :?> DenseMatrix).Values
            printfn "Provider.UseBest: %O" Linalg.Backend
        }
        test "UseBest is thread-safe: concurrent calls agree" {
            let kinds = Array.Parallel.init 8 (fun _ -> Linalg.UseBest().Kind)
            Expect.allEqual kinds kinds.[0] "same backend from every thread"
        }
    ]

[<Tests>]
let backendTests =
    testList "Provider" [ for kind in [ BackendKind.Managed; BackendKind.Mkl; BackendKind.OpenBlas ] -> suite kind ]
