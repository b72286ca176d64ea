namespace Hybrid.Kernel

#nowarn "9"
#nowarn "51"

open System
open System.Numerics
open MathNet.Numerics.Providers.LinearAlgebra
open MathNet.Numerics.LinearAlgebra.Factorization
open Microsoft.FSharp.NativeInterop

/// The double-precision members of MathNet's ILinearAlgebraProvider on a native BLAS/LAPACK.
/// Arrays are column-major; every argument is checked here, in managed code, before the
/// native call; LAPACK's info becomes an exception (see LapackInfo). Semantics (what is
/// overwritten, output layouts, pivot base) follow MathNet's ManagedLinearAlgebraProvider.
module internal NativeDouble =

    // ---- argument checks -------------------------------------------------------------

    let private notNull (name: string) (a: 'T[]) = if isNull a then nullArg name

    let private nonNegative (name: string) (value: int) =
        if value < 0 then invalidArg name (sprintf "%s is %d; a matrix dimension cannot be negative." name value)

    /// a holds exactly `expected` elements. Sizes are products of two Int32 dimensions, so they are
    /// formed and compared in 64 bits: 65536·65536 must not wrap to 0 and match an empty array.
    let private needLength (name: string) (a: 'T[]) (expected: int64) (what: string) =
        if int64 a.Length <> expected then
            invalidArg name (sprintf "%s has %d elements, but %s needs exactly %d." name a.Length what expected)

    /// rows·columns in 64 bits.
    let private size (rows: int) (columns: int) = int64 rows * int64 columns

    /// needLength for the rows×columns matrix `label`, its message formatted only on failure (the
    /// product of a compiled gradient runs allocation-free).
    let private needMatrix (name: string) (a: float[]) (rows: int) (columns: int) (label: string) =
        if int64 a.Length <> size rows columns then needLength name a (size rows columns) (sprintf "%s (%dx%d)" label rows columns)

    /// A work array of `count` elements for `what`, or an ArgumentException when no array can hold it.
    let private alloc<'T> (param: string) (what: string) (count: int64) : 'T[] =
        if count < 0L || count > int64 Array.MaxLength then
            invalidArg param (sprintf "%s needs %d elements, more than one array can hold (%d)." what count Array.MaxLength)
        Array.zeroCreate<'T> (int count)

    let private distinct (nameA: string) (a: obj) (nameB: string) (b: obj) =
        if obj.ReferenceEquals(a, b) then
            invalidArg nameB (sprintf "%s and %s must be different arrays (%s is overwritten with the solution)." nameA nameB nameB)

    let private same (a: obj) (b: obj) = obj.ReferenceEquals(a, b)

    let private ld (rows: int) = max 1 rows

    /// CBLAS codes: 101 row-major, 102 column-major; 111 no transpose, 112 transpose.
    let private colMajor = 102
    let private trans (t: Transpose) = if t = Transpose.DontTranspose then 111 else 112

    /// The first exactly-zero diagonal entry (1-based) of an n×n factor, or 0.
    let private firstZeroPivot (lu: float[]) (order: int) =
        let mutable i = 0
        while i < order && lu.[i * order + i] <> 0.0 do
            i <- i + 1
        if i < order then i + 1 else 0

    /// LAPACK's 1-based pivots from MathNet's 0-based ones, checked so no pivot can address
    /// memory outside the matrix.
    let private oneBasedPivots (ipiv: int[]) (order: int) =
        Array.init order (fun i ->
            let p = ipiv.[i]
            if p < 0 || p >= order then
                invalidArg "ipiv" (sprintf "ipiv[%d] = %d is not a row index of the %dx%d matrix (MathNet's pivots are 0-based)." i p order order)
            p + 1)

    // ---- level 1: vectors -------------------------------------------------------------

    /// result = y + alpha·x. Mirrors BLAS daxpy (cblas_daxpy); result may be y, x or a third array.
    let addVectorToScaledVector (lib: NativeBlas) (y: float[]) (alpha: float) (x: float[]) (result: float[]) =
        notNull "y" y
        notNull "x" x
        notNull "result" result
        if y.Length <> x.Length then
            invalidArg "x" (sprintf "y has %d elements but x has %d; y + alpha*x needs equal lengths." y.Length x.Length)
        needLength "result" result (int64 y.Length) "y + alpha*x"
        let n = y.Length
        if alpha = 0.0 then
            if not (same y result) then Array.Copy(y, result, n)
        elif same result x && not (same result y) then
            // result aliases x: scale it in place, then add y
            use pr = fixed result
            use py = fixed y
            lib.Dscal.Invoke(n, alpha, pr, 1)
            lib.Daxpy.Invoke(n, 1.0, py, 1, pr, 1)
        else
            if not (same y result) then Array.Copy(y, result, n)
            use pr = fixed result
            use px = fixed x
            lib.Daxpy.Invoke(n, alpha, px, 1, pr, 1)

    /// result = alpha·x. Mirrors BLAS dscal (cblas_dscal); alpha = 0 clears result (NaNs in x
    /// included), as the managed provider does.
    let scaleArray (lib: NativeBlas) (alpha: float) (x: float[]) (result: float[]) =
        notNull "x" x
        notNull "result" result
        needLength "result" result (int64 x.Length) "alpha*x"
        if alpha = 0.0 then Array.Clear(result, 0, result.Length)
        else
            if not (same x result) then Array.Copy(x, result, x.Length)
            if alpha <> 1.0 then
                use pr = fixed result
                lib.Dscal.Invoke(result.Length, alpha, pr, 1)

    /// xᵀy. Mirrors BLAS ddot (cblas_ddot).
    let dotProduct (lib: NativeBlas) (x: float[]) (y: float[]) =
        notNull "x" x
        notNull "y" y
        if x.Length <> y.Length then
            invalidArg "y" (sprintf "x has %d elements but y has %d; a dot product needs equal lengths." x.Length y.Length)
        use px = fixed x
        use py = fixed y
        lib.Ddot.Invoke(x.Length, px, 1, py, 1)

    /// Elementwise result = x op y with System.Numerics.Vector (SIMD); result may alias x or y.
    let inline private zip (name: string) ([<InlineIfLambda>] vop: Vector<float> -> Vector<float> -> Vector<float>)
                           ([<InlineIfLambda>] sop: float -> float -> float) (x: float[]) (y: float[]) (result: float[]) =
        notNull "x" x
        notNull "y" y
        notNull "result" result
        if x.Length <> y.Length || x.Length <> result.Length then
            invalidArg "result" (sprintf "%s needs arrays of equal length; x has %d, y has %d, result has %d elements." name x.Length y.Length result.Length)
        let n = result.Length
        let w = Vector<float>.Count
        let mutable i = 0
        if Vector.IsHardwareAccelerated then
            while i <= n - w do
                (vop (Vector<float>(x, i)) (Vector<float>(y, i))).CopyTo(result, i)
                i <- i + w
        while i < n do
            result.[i] <- sop x.[i] y.[i]
            i <- i + 1

    /// result = x + y. No BLAS routine; a SIMD loop (one pass, memory bound).
    let addArrays x y result = zip "x + y" (fun a b -> a + b) (fun a b -> a + b) x y result
    /// result = x − y. No BLAS routine; a SIMD loop.
    let subtractArrays x y result = zip "x - y" (fun a b -> a - b) (fun a b -> a - b) x y result
    /// result = x ⊙ y. No BLAS routine; a SIMD loop.
    let pointWiseMultiplyArrays x y result = zip "x .* y" (fun a b -> a * b) (fun a b -> a * b) x y result
    /// result = x ⊘ y. No BLAS routine; a SIMD loop (IEEE division, as in managed code).
    let pointWiseDivideArrays x y result = zip "x ./ y" (fun a b -> a / b) (fun a b -> a / b) x y result

    /// result = x .^ y. No BLAS routine; Math.Pow per element, exactly as the managed provider.
    let pointWisePowerArrays (x: float[]) (y: float[]) (result: float[]) =
        notNull "x" x
        notNull "y" y
        notNull "result" result
        if x.Length <> y.Length || x.Length <> result.Length then
            invalidArg "result" (sprintf "x .^ y needs arrays of equal length; x has %d, y has %d, result has %d elements." x.Length y.Length result.Length)
        for i in 0 .. result.Length - 1 do
            result.[i] <- Math.Pow(x.[i], y.[i])

    // ---- norms and products ------------------------------------------------------------

    /// One, infinity, max-abs or Frobenius norm of a rows×columns matrix. Mirrors LAPACK dlange.
    let matrixNorm (lib: NativeBlas) (norm: Norm) (rows: int) (columns: int) (matrix: float[]) =
        notNull "matrix" matrix
        nonNegative "rows" rows
        nonNegative "columns" columns
        needLength "matrix" matrix (size rows columns) (sprintf "a %dx%d matrix" rows columns)
        let code =
            match norm with
            | Norm.OneNorm -> '1'
            | Norm.InfinityNorm -> 'I'
            | Norm.LargestAbsoluteValue -> 'M'
            | Norm.FrobeniusNorm -> 'F'
            | other -> invalidArg "norm" (sprintf "Norm %A is not one of OneNorm, InfinityNorm, LargestAbsoluteValue, FrobeniusNorm." other)
        if rows = 0 || columns = 0 then 0.0
        else
            let work = Array.zeroCreate<float> rows
            let mutable c = byte code
            let mutable m = rows
            let mutable n = columns
            let mutable lda = ld rows
            use pa = fixed matrix
            use pw = fixed work
            lib.Dlange.Invoke(&&c, &&m, &&n, pa, &&lda, pw, 1un)

    /// C = alpha·op(A)·op(B) + beta·C. Mirrors BLAS dgemm (cblas_dgemm); when op(B) is a single
    /// column, BLAS dgemv (cblas_dgemv).
    let matrixMultiplyWithUpdate (lib: NativeBlas) (transposeA: Transpose) (transposeB: Transpose) (alpha: float)
                                 (a: float[]) (rowsA: int) (columnsA: int) (b: float[]) (rowsB: int) (columnsB: int)
                                 (beta: float) (c: float[]) =
        notNull "a" a
        notNull "b" b
        notNull "c" c
        nonNegative "rowsA" rowsA
        nonNegative "columnsA" columnsA
        nonNegative "rowsB" rowsB
        nonNegative "columnsB" columnsB
        needMatrix "a" a rowsA columnsA "A"
        needMatrix "b" b rowsB columnsB "B"
        let m, k = if transposeA = Transpose.DontTranspose then rowsA, columnsA else columnsA, rowsA
        let kb, n = if transposeB = Transpose.DontTranspose then rowsB, columnsB else columnsB, rowsB
        if k <> kb then
            invalidArg "b" (sprintf "op(A) is %dx%d but op(B) is %dx%d: the inner dimensions %d and %d of op(A)*op(B) must agree." m k kb n k kb)
        needMatrix "c" c m n "C = op(A)*op(B)"
        if m > 0 && n > 0 then
            use pa = fixed a
            use pb = fixed b
            use pc = fixed c
            if n = 1 then
                lib.Dgemv.Invoke(colMajor, trans transposeA, rowsA, columnsA, alpha, pa, ld rowsA, pb, 1, beta, pc, 1)
            else
                lib.Dgemm.Invoke(colMajor, trans transposeA, trans transposeB, m, n, k, alpha, pa, ld rowsA, pb, ld rowsB, beta, pc, ld m)

    /// result = x·y. Mirrors BLAS dgemm with alpha = 1, beta = 0 (dgemv when y is one column).
    let matrixMultiply (lib: NativeBlas) (x: float[]) (rowsX: int) (columnsX: int) (y: float[]) (rowsY: int) (columnsY: int) (result: float[]) =
        matrixMultiplyWithUpdate lib Transpose.DontTranspose Transpose.DontTranspose 1.0 x rowsX columnsX y rowsY columnsY 0.0 result

    /// The lower triangle of c (order cols, column-major) ← α·AᵀA + c, A the first `rows` rows of a
    /// column-major array with leading dimension lda (lda ≥ rows, at least lda·cols elements): BLAS
    /// dsyrk (lower, transposed), half the flops of the dgemm AᵀA. The strict upper triangle of c is
    /// not touched.
    let syrkLower (lib: NativeBlas) (alpha: float) (a: float[]) (lda: int) (rows: int) (cols: int) (c: float[]) =
        notNull "a" a
        notNull "c" c
        nonNegative "rows" rows
        nonNegative "cols" cols
        if lda < max 1 rows then invalidArg "lda" (sprintf "lda is %d but A has %d rows; the leading dimension must be at least the rows." lda rows)
        if int64 a.Length < size lda cols then
            invalidArg "a" (sprintf "a has %d elements, but A (%d rows of leading dimension %d, %d columns) needs at least %d." a.Length rows lda cols (size lda cols))
        needMatrix "c" c cols cols "C = AᵀA"
        if rows > 0 && cols > 0 then
            use pa = fixed a
            use pc = fixed c
            // 122 lower, 112 transposed: C = α·AᵀA + 1·C with A (k = rows) × (n = cols)
            lib.Dsyrk.Invoke(colMajor, 122, 112, cols, rows, alpha, pa, lda, 1.0, pc, cols)

    // ---- LU ----------------------------------------------------------------------------

    let private getrf (lib: NativeBlas) (data: float[]) (order: int) (ipiv: int[]) =
        let mutable n = order
        let mutable lda = ld order
        let mutable info = 0
        use pa = fixed data
        use pp = fixed ipiv
        lib.Dgetrf.Invoke(&&n, &&n, pa, &&lda, pp, &&info)
        LapackInfo.illegal "dgetrf_" info
        info

    let private getrs (lib: NativeBlas) (lu: float[]) (order: int) (pivots1: int[]) (b: float[]) (columnsB: int) =
        let mutable t = byte 'N'
        let mutable n = order
        let mutable nrhs = columnsB
        let mutable lda = ld order
        let mutable info = 0
        use pa = fixed lu
        use pp = fixed pivots1
        use pb = fixed b
        lib.Dgetrs.Invoke(&&t, &&n, &&nrhs, pa, &&lda, pp, pb, &&lda, &&info, 1un)
        LapackInfo.illegal "dgetrs_" info

    let private getri (lib: NativeBlas) (lu: float[]) (order: int) (pivots1: int[]) =
        let mutable n = order
        let mutable lda = ld order
        let mutable info = 0
        let mutable lwork = -1
        let mutable query = 0.0
        use pa = fixed lu
        use pp = fixed pivots1
        lib.Dgetri.Invoke(&&n, pa, &&lda, pp, &&query, &&lwork, &&info)
        LapackInfo.illegal "dgetri_" info
        lwork <- max 1 (int query)
        let work = Array.zeroCreate<float> lwork
        use pw = fixed work
        lib.Dgetri.Invoke(&&n, pa, &&lda, pp, pw, &&lwork, &&info)
        LapackInfo.illegal "dgetri_" info
        if info > 0 then raise (LapackInfo.singular "dgetri_" order info)

    /// P·A = L·U in place, with partial pivoting. Mirrors LAPACK dgetrf. ipiv is 0-based on exit
    /// (MathNet's convention; LAPACK's is 1-based). An exactly singular A is not an error here —
    /// the factorization exists and its determinant is 0 — but solving or inverting with it is.
    let luFactor (lib: NativeBlas) (data: float[]) (order: int) (ipiv: int[]) =
        notNull "data" data
        notNull "ipiv" ipiv
        nonNegative "order" order
        needLength "data" data (size order order) (sprintf "a %dx%d matrix" order order)
        needLength "ipiv" ipiv (int64 order) (sprintf "the pivots of a %dx%d matrix" order order)
        if order > 0 then
            getrf lib data order ipiv |> ignore
            for i in 0 .. order - 1 do
                ipiv.[i] <- ipiv.[i] - 1

    /// Solves A·X = B given A's LU factors and 0-based pivots; B is overwritten with X.
    /// Mirrors LAPACK dgetrs. Throws SingularMatrixException when a pivot is exactly zero
    /// (the managed provider would return infinities/NaN instead).
    let luSolveFactored (lib: NativeBlas) (columnsOfB: int) (a: float[]) (order: int) (ipiv: int[]) (b: float[]) =
        notNull "a" a
        notNull "ipiv" ipiv
        notNull "b" b
        nonNegative "order" order
        nonNegative "columnsOfB" columnsOfB
        needLength "a" a (size order order) (sprintf "the LU factors of a %dx%d matrix" order order)
        needLength "ipiv" ipiv (int64 order) (sprintf "the pivots of a %dx%d matrix" order order)
        needLength "b" b (size order columnsOfB) (sprintf "B (%dx%d)" order columnsOfB)
        distinct "a" a "b" b
        let piv = oneBasedPivots ipiv order
        match firstZeroPivot a order with
        | 0 -> if order > 0 && columnsOfB > 0 then getrs lib a order piv b columnsOfB
        | p -> raise (LapackInfo.singular "dgetrs_" order p)

    /// Solves A·X = B by LU; A is left unchanged, B is overwritten with X. Mirrors LAPACK
    /// dgetrf + dgetrs. Throws SingularMatrixException when A is exactly singular.
    let luSolve (lib: NativeBlas) (columnsOfB: int) (a: float[]) (order: int) (b: float[]) =
        notNull "a" a
        notNull "b" b
        nonNegative "order" order
        nonNegative "columnsOfB" columnsOfB
        needLength "a" a (size order order) (sprintf "A (%dx%d)" order order)
        needLength "b" b (size order columnsOfB) (sprintf "B (%dx%d)" order columnsOfB)
        distinct "a" a "b" b
        if order > 0 then
            let lu = Array.copy a
            let piv = Array.zeroCreate<int> order
            match getrf lib lu order piv with
            | 0 -> if columnsOfB > 0 then getrs lib lu order piv b columnsOfB
            | p -> raise (LapackInfo.singular "dgetrf_" order p)

    /// A⁻¹ in place from A's LU factors and 0-based pivots. Mirrors LAPACK dgetri.
    /// Throws SingularMatrixException when a pivot is exactly zero.
    let luInverseFactored (lib: NativeBlas) (a: float[]) (order: int) (ipiv: int[]) =
        notNull "a" a
        notNull "ipiv" ipiv
        nonNegative "order" order
        needLength "a" a (size order order) (sprintf "the LU factors of a %dx%d matrix" order order)
        needLength "ipiv" ipiv (int64 order) (sprintf "the pivots of a %dx%d matrix" order order)
        let piv = oneBasedPivots ipiv order
        match firstZeroPivot a order with
        | 0 -> if order > 0 then getri lib a order piv
        | p -> raise (LapackInfo.singular "dgetri_" order p)

    /// A⁻¹ in place. Mirrors LAPACK dgetrf + dgetri. Throws SingularMatrixException when A is
    /// exactly singular (a then holds A's LU factors).
    let luInverse (lib: NativeBlas) (a: float[]) (order: int) =
        notNull "a" a
        nonNegative "order" order
        needLength "a" a (size order order) (sprintf "A (%dx%d)" order order)
        if order > 0 then
            let piv = Array.zeroCreate<int> order
            match getrf lib a order piv with
            | 0 -> getri lib a order piv
            | p -> raise (LapackInfo.singular "dgetrf_" order p)

    // ---- Cholesky ----------------------------------------------------------------------

    let private potrf (lib: NativeBlas) (a: float[]) (order: int) =
        let mutable uplo = byte 'L'
        let mutable n = order
        let mutable lda = ld order
        let mutable info = 0
        use pa = fixed a
        lib.Dpotrf.Invoke(&&uplo, &&n, pa, &&lda, &&info, 1un)
        LapackInfo.illegal "dpotrf_" info
        if info > 0 then raise (LapackInfo.notPositiveDefinite "dpotrf_" order info)

    let private potrs (lib: NativeBlas) (l: float[]) (order: int) (b: float[]) (columnsB: int) =
        let mutable uplo = byte 'L'
        let mutable n = order
        let mutable nrhs = columnsB
        let mutable lda = ld order
        let mutable info = 0
        use pa = fixed l
        use pb = fixed b
        lib.Dpotrs.Invoke(&&uplo, &&n, &&nrhs, pa, &&lda, pb, &&lda, &&info, 1un)
        LapackInfo.illegal "dpotrs_" info

    /// A = L·Lᵀ in place: the lower triangle becomes L, the strict upper triangle is zeroed
    /// (as in the managed provider). Reads only A's lower triangle. Mirrors LAPACK dpotrf.
    /// Throws NotPositiveDefiniteException naming the order of the failing leading minor.
    let choleskyFactor (lib: NativeBlas) (a: float[]) (order: int) =
        notNull "a" a
        nonNegative "order" order
        needLength "a" a (size order order) (sprintf "a %dx%d matrix" order order)
        if order > 0 then
            potrf lib a order
            for j in 1 .. order - 1 do
                Array.Clear(a, j * order, j)

    /// Solves A·X = B by Cholesky; A is left unchanged, B is overwritten with X. Mirrors
    /// LAPACK dpotrf + dpotrs.
    let choleskySolve (lib: NativeBlas) (a: float[]) (orderA: int) (b: float[]) (columnsB: int) =
        notNull "a" a
        notNull "b" b
        nonNegative "orderA" orderA
        nonNegative "columnsB" columnsB
        needLength "a" a (size orderA orderA) (sprintf "A (%dx%d)" orderA orderA)
        needLength "b" b (size orderA columnsB) (sprintf "B (%dx%d)" orderA columnsB)
        distinct "a" a "b" b
        if orderA > 0 then
            let l = Array.copy a
            potrf lib l orderA
            if columnsB > 0 then potrs lib l orderA b columnsB

    /// Solves A·X = B given A's Cholesky factor L (lower triangle); B is overwritten with X.
    /// Mirrors LAPACK dpotrs.
    let choleskySolveFactored (lib: NativeBlas) (a: float[]) (orderA: int) (b: float[]) (columnsB: int) =
        notNull "a" a
        notNull "b" b
        nonNegative "orderA" orderA
        nonNegative "columnsB" columnsB
        needLength "a" a (size orderA orderA) (sprintf "the Cholesky factor of a %dx%d matrix" orderA orderA)
        needLength "b" b (size orderA columnsB) (sprintf "B (%dx%d)" orderA columnsB)
        distinct "a" a "b" b
        if orderA > 0 && columnsB > 0 then potrs lib a orderA b columnsB

    // ---- QR ----------------------------------------------------------------------------

    let private geqrf (lib: NativeBlas) (a: float[]) (rows: int) (columns: int) (tau: float[]) =
        let mutable m = rows
        let mutable n = columns
        let mutable lda = ld rows
        let mutable info = 0
        let mutable lwork = -1
        let mutable query = 0.0
        use pa = fixed a
        use pt = fixed tau
        lib.Dgeqrf.Invoke(&&m, &&n, pa, &&lda, pt, &&query, &&lwork, &&info)
        LapackInfo.illegal "dgeqrf_" info
        lwork <- max 1 (int query)
        let work = Array.zeroCreate<float> lwork
        use pw = fixed work
        lib.Dgeqrf.Invoke(&&m, &&n, pa, &&lda, pt, pw, &&lwork, &&info)
        LapackInfo.illegal "dgeqrf_" info

    /// Forms the rows×columns matrix Q (leading columns of the product of k reflectors) in place.
    let private orgqr (lib: NativeBlas) (q: float[]) (rows: int) (columns: int) (k: int) (tau: float[]) =
        let mutable m = rows
        let mutable n = columns
        let mutable kk = k
        let mutable lda = ld rows
        let mutable info = 0
        let mutable lwork = -1
        let mutable query = 0.0
        use pq = fixed q
        use pt = fixed tau
        lib.Dorgqr.Invoke(&&m, &&n, &&kk, pq, &&lda, pt, &&query, &&lwork, &&info)
        LapackInfo.illegal "dorgqr_" info
        lwork <- max 1 (int query)
        let work = Array.zeroCreate<float> lwork
        use pw = fixed work
        lib.Dorgqr.Invoke(&&m, &&n, &&kk, pq, &&lda, pt, pw, &&lwork, &&info)
        LapackInfo.illegal "dorgqr_" info

    /// Solves R·X = Y in place for the leading n×n upper triangle of R (leading dimension ldr).
    let private trtrsUpper (lib: NativeBlas) (r: float[]) (ldr: int) (order: int) (y: float[]) (ldy: int) (columnsY: int) rows columns =
        let mutable uplo = byte 'U'
        let mutable t = byte 'N'
        let mutable diag = byte 'N'
        let mutable n = order
        let mutable nrhs = columnsY
        let mutable lda = ld ldr
        let mutable ldb = ld ldy
        let mutable info = 0
        use pr = fixed r
        use py = fixed y
        lib.Dtrtrs.Invoke(&&uplo, &&t, &&diag, &&n, &&nrhs, pr, &&lda, py, &&ldb, &&info, 1un, 1un, 1un)
        LapackInfo.illegal "dtrtrs_" info
        if info > 0 then raise (LapackInfo.rankDeficient "dtrtrs_" rows columns info)

    /// A = Q·R (full): r (A on entry) becomes the rows×columns R with zeros below the diagonal,
    /// q the rows×rows orthogonal Q, tau the min(rows, columns) Householder scalars.
    /// Mirrors LAPACK dgeqrf + dorgqr. Signs: R's diagonal follows LAPACK's reflectors (dlarfg);
    /// the managed provider negates the last reflector when rows ≤ columns, so the last row of R
    /// and column of Q may differ from it in sign (Q·R is the same); likewise after an exactly zero
    /// column, where LAPACK's reflector is the identity and the managed one a sign flip.
    let qrFactor (lib: NativeBlas) (r: float[]) (rowsR: int) (columnsR: int) (q: float[]) (tau: float[]) =
        notNull "r" r
        notNull "q" q
        notNull "tau" tau
        nonNegative "rowsR" rowsR
        nonNegative "columnsR" columnsR
        needLength "r" r (size rowsR columnsR) (sprintf "A (%dx%d)" rowsR columnsR)
        needLength "q" q (size rowsR rowsR) (sprintf "Q (%dx%d)" rowsR rowsR)
        let k = min rowsR columnsR
        if tau.Length < k then
            invalidArg "tau" (sprintf "tau has %d elements, but the QR factorization of a %dx%d matrix needs at least %d." tau.Length rowsR columnsR k)
        if rowsR > 0 then
            geqrf lib r rowsR columnsR tau
            Array.Clear(q, 0, q.Length)
            Array.Copy(r, q, rowsR * k)
            for j in 0 .. columnsR - 1 do
                if j + 1 < rowsR then Array.Clear(r, j * rowsR + j + 1, rowsR - j - 1)
            orgqr lib q rowsR rowsR k tau

    /// A = Q·R (thin, rows ≥ columns): a becomes the rows×columns Q, r the columns×columns R.
    /// Mirrors LAPACK dgeqrf + dorgqr.
    let thinQRFactor (lib: NativeBlas) (a: float[]) (rowsA: int) (columnsA: int) (r: float[]) (tau: float[]) =
        notNull "a" a
        notNull "r" r
        notNull "tau" tau
        nonNegative "rowsA" rowsA
        nonNegative "columnsA" columnsA
        if rowsA < columnsA then
            invalidArg "rowsA" (sprintf "A is %dx%d: a thin QR factorization needs rows >= columns (use the full QR for wide matrices)." rowsA columnsA)
        needLength "a" a (size rowsA columnsA) (sprintf "A (%dx%d)" rowsA columnsA)
        needLength "r" r (size columnsA columnsA) (sprintf "R (%dx%d)" columnsA columnsA)
        if tau.Length < columnsA then
            invalidArg "tau" (sprintf "tau has %d elements, but the QR factorization of a %dx%d matrix needs at least %d." tau.Length rowsA columnsA columnsA)
        if columnsA > 0 then
            geqrf lib a rowsA columnsA tau
            Array.Clear(r, 0, r.Length)
            for j in 0 .. columnsA - 1 do
                Array.Copy(a, j * rowsA, r, j * columnsA, j + 1)
            orgqr lib a rowsA columnsA columnsA tau

    /// Least-squares solution X (columns×columnsB) of A·X ≈ B for rows ≥ columns; A and B are
    /// left unchanged. Mirrors LAPACK dgeqrf + dormqr (Qᵀ·B) + dtrtrs (R·X = Qᵀ·B); the thin and
    /// full methods give the same X. Throws SingularMatrixException when R has a zero diagonal.
    let qrSolve (lib: NativeBlas) (a: float[]) (rows: int) (columns: int) (b: float[]) (columnsB: int) (x: float[]) (_method: QRMethod) =
        notNull "a" a
        notNull "b" b
        notNull "x" x
        nonNegative "rows" rows
        nonNegative "columns" columns
        nonNegative "columnsB" columnsB
        needLength "a" a (size rows columns) (sprintf "A (%dx%d)" rows columns)
        needLength "b" b (size rows columnsB) (sprintf "B (%dx%d)" rows columnsB)
        needLength "x" x (size columns columnsB) (sprintf "X (%dx%d)" columns columnsB)
        if rows < columns then
            invalidArg "rows" (sprintf "A is %dx%d: a QR solve needs rows >= columns (the system is underdetermined; use an SVD solve)." rows columns)
        if columns > 0 && columnsB > 0 then
            let qr = Array.copy a
            let tau = Array.zeroCreate<float> columns
            geqrf lib qr rows columns tau
            let qtb = Array.copy b
            do
                let mutable side = byte 'L'
                let mutable t = byte 'T'
                let mutable m = rows
                let mutable n = columnsB
                let mutable k = columns
                let mutable lda = ld rows
                let mutable info = 0
                let mutable lwork = -1
                let mutable query = 0.0
                use pa = fixed qr
                use pt = fixed tau
                use pc = fixed qtb
                lib.Dormqr.Invoke(&&side, &&t, &&m, &&n, &&k, pa, &&lda, pt, pc, &&lda, &&query, &&lwork, &&info, 1un, 1un)
                LapackInfo.illegal "dormqr_" info
                lwork <- max 1 (int query)
                let work = Array.zeroCreate<float> lwork
                use pw = fixed work
                lib.Dormqr.Invoke(&&side, &&t, &&m, &&n, &&k, pa, &&lda, pt, pc, &&lda, pw, &&lwork, &&info, 1un, 1un)
                LapackInfo.illegal "dormqr_" info
            trtrsUpper lib qr rows columns qtb rows columnsB rows columns
            for j in 0 .. columnsB - 1 do
                Array.Copy(qtb, j * rows, x, j * columns, columns)
        elif columnsB > 0 then
            Array.Clear(x, 0, x.Length)

    /// X = R⁻¹·(Qᵀ·B) from explicit Q and R (as returned by qrFactor / thinQRFactor); B is left
    /// unchanged. Mirrors BLAS dgemm (Qᵀ·B) + LAPACK dtrtrs. tau is not needed and may be null.
    let qrSolveFactored (lib: NativeBlas) (q: float[]) (r: float[]) (rowsA: int) (columnsA: int) (_tau: float[])
                        (b: float[]) (columnsB: int) (x: float[]) (method: QRMethod) =
        notNull "q" q
        notNull "r" r
        notNull "b" b
        notNull "x" x
        nonNegative "rowsA" rowsA
        nonNegative "columnsA" columnsA
        nonNegative "columnsB" columnsB
        if rowsA < columnsA then
            invalidArg "rowsA" (sprintf "A is %dx%d: a QR solve needs rows >= columns (the system is underdetermined; use an SVD solve)." rowsA columnsA)
        let rowsQ, columnsQ, rowsR, columnsR =
            if method = QRMethod.Full then rowsA, rowsA, rowsA, columnsA
            else rowsA, columnsA, columnsA, columnsA
        needLength "q" q (size rowsQ columnsQ) (sprintf "Q of the %A QR of a %dx%d matrix (%dx%d)" method rowsA columnsA rowsQ columnsQ)
        needLength "r" r (size rowsR columnsR) (sprintf "R of the %A QR of a %dx%d matrix (%dx%d)" method rowsA columnsA rowsR columnsR)
        needLength "b" b (size rowsA columnsB) (sprintf "B (%dx%d)" rowsA columnsB)
        needLength "x" x (size columnsA columnsB) (sprintf "X (%dx%d)" columnsA columnsB)
        if columnsA > 0 && columnsB > 0 then
            do
                use pq = fixed q
                use pb = fixed b
                use px = fixed x
                lib.Dgemm.Invoke(colMajor, 112, 111, columnsA, columnsB, rowsA, 1.0, pq, ld rowsA, pb, ld rowsA, 0.0, px, ld columnsA)
            trtrsUpper lib r rowsR columnsA x columnsA columnsB rowsA columnsA
        elif columnsB > 0 then
            Array.Clear(x, 0, x.Length)

    // ---- SVD ---------------------------------------------------------------------------

    /// A = U·diag(s)·Vᵀ: s gets the min(rows, columns) singular values in descending order; with
    /// computeVectors, u the rows×rows U and vt the columns×columns Vᵀ (otherwise both are left
    /// untouched). a is overwritten. Mirrors LAPACK dgesdd (divide and conquer).
    let singularValueDecomposition (lib: NativeBlas) (computeVectors: bool) (a: float[]) (rowsA: int) (columnsA: int)
                                   (s: float[]) (u: float[]) (vt: float[]) =
        notNull "a" a
        notNull "s" s
        notNull "u" u
        notNull "vt" vt
        nonNegative "rowsA" rowsA
        nonNegative "columnsA" columnsA
        needLength "a" a (size rowsA columnsA) (sprintf "A (%dx%d)" rowsA columnsA)
        needLength "u" u (size rowsA rowsA) (sprintf "U (%dx%d)" rowsA rowsA)
        needLength "vt" vt (size columnsA columnsA) (sprintf "VT (%dx%d)" columnsA columnsA)
        let k = min rowsA columnsA
        needLength "s" s (int64 k) (sprintf "the singular values of a %dx%d matrix" rowsA columnsA)
        if k = 0 then
            if computeVectors then
                Array.Clear(u, 0, u.Length)
                Array.Clear(vt, 0, vt.Length)
                for i in 0 .. rowsA - 1 do u.[i * rowsA + i] <- 1.0
                for i in 0 .. columnsA - 1 do vt.[i * columnsA + i] <- 1.0
        else
            let mutable jobz = byte (if computeVectors then 'A' else 'N')
            let mutable m = rowsA
            let mutable n = columnsA
            let mutable lda = ld rowsA
            let mutable ldu = if computeVectors then ld rowsA else 1
            let mutable ldvt = if computeVectors then ld columnsA else 1
            let mutable info = 0
            let mutable lwork = -1
            let mutable query = 0.0
            let iwork = Array.zeroCreate<int> (8 * k)
            let dummy = [| 0.0 |]
            use pa = fixed a
            use ps = fixed s
            let uOut = if computeVectors then u else dummy
            let vtOut = if computeVectors then vt else dummy
            use pu = fixed uOut
            use pv = fixed vtOut
            use pi = fixed iwork
            lib.Dgesdd.Invoke(&&jobz, &&m, &&n, pa, &&lda, ps, pu, &&ldu, pv, &&ldvt, &&query, &&lwork, pi, &&info, 1un)
            LapackInfo.illegal "dgesdd_" info
            lwork <- max 1 (int query)
            let work = Array.zeroCreate<float> lwork
            use pw = fixed work
            lib.Dgesdd.Invoke(&&jobz, &&m, &&n, pa, &&lda, ps, pu, &&ldu, pv, &&ldvt, pw, &&lwork, pi, &&info, 1un)
            LapackInfo.illegal "dgesdd_" info
            if info > 0 then raise (LapackInfo.nonConvergence "dgesdd_" info)

    /// X = V·diag(1/s)·Uᵀ·B from a previous SVD (no truncation of small singular values, as in the
    /// managed provider: a zero singular value gives infinities). Mirrors two BLAS dgemm calls.
    let svdSolveFactored (lib: NativeBlas) (rowsA: int) (columnsA: int) (s: float[]) (u: float[]) (vt: float[])
                         (b: float[]) (columnsB: int) (x: float[]) =
        notNull "s" s
        notNull "u" u
        notNull "vt" vt
        notNull "b" b
        notNull "x" x
        nonNegative "rowsA" rowsA
        nonNegative "columnsA" columnsA
        nonNegative "columnsB" columnsB
        let k = min rowsA columnsA
        needLength "u" u (size rowsA rowsA) (sprintf "U (%dx%d)" rowsA rowsA)
        needLength "vt" vt (size columnsA columnsA) (sprintf "VT (%dx%d)" columnsA columnsA)
        needLength "s" s (int64 k) (sprintf "the singular values of a %dx%d matrix" rowsA columnsA)
        needLength "b" b (size rowsA columnsB) (sprintf "B (%dx%d)" rowsA columnsB)
        needLength "x" x (size columnsA columnsB) (sprintf "X (%dx%d)" columnsA columnsB)
        if k = 0 || columnsB = 0 then Array.Clear(x, 0, x.Length)
        else
            let tmp = Array.zeroCreate<float> (k * columnsB)
            use pu = fixed u
            use pv = fixed vt
            use pb = fixed b
            use pt = fixed tmp
            use px = fixed x
            // tmp = U(:, 1:k)ᵀ·B, then row j divided by s(j)
            lib.Dgemm.Invoke(colMajor, 112, 111, k, columnsB, rowsA, 1.0, pu, ld rowsA, pb, ld rowsA, 0.0, pt, k)
            for c in 0 .. columnsB - 1 do
                for j in 0 .. k - 1 do
                    tmp.[c * k + j] <- tmp.[c * k + j] / s.[j]
            // X = VT(1:k, :)ᵀ·tmp
            lib.Dgemm.Invoke(colMajor, 112, 111, columnsA, columnsB, k, 1.0, pv, ld columnsA, pt, k, 0.0, px, ld columnsA)

    /// Solves A·X = B through the SVD of A; A and B are left unchanged. Mirrors LAPACK dgesdd and
    /// two BLAS dgemm calls.
    let svdSolve (lib: NativeBlas) (a: float[]) (rowsA: int) (columnsA: int) (b: float[]) (columnsB: int) (x: float[]) =
        notNull "a" a
        notNull "b" b
        notNull "x" x
        nonNegative "rowsA" rowsA
        nonNegative "columnsA" columnsA
        nonNegative "columnsB" columnsB
        needLength "a" a (size rowsA columnsA) (sprintf "A (%dx%d)" rowsA columnsA)
        needLength "b" b (size rowsA columnsB) (sprintf "B (%dx%d)" rowsA columnsB)
        needLength "x" x (size columnsA columnsB) (sprintf "X (%dx%d)" columnsA columnsB)
        let s = Array.zeroCreate<float> (min rowsA columnsA)
        let u = alloc<float> "a" (sprintf "U of the SVD of a %dx%d matrix (%dx%d)" rowsA columnsA rowsA rowsA) (size rowsA rowsA)
        let vt = alloc<float> "a" (sprintf "VT of the SVD of a %dx%d matrix (%dx%d)" rowsA columnsA columnsA columnsA) (size columnsA columnsA)
        singularValueDecomposition lib true (Array.copy a) rowsA columnsA s u vt
        svdSolveFactored lib rowsA columnsA s u vt b columnsB x

    // ---- eigenvalues -------------------------------------------------------------------

    /// Eigen-decomposition A·V = V·D; matrix is left unchanged. Symmetric: LAPACK dsyevd on the
    /// lower triangle, eigenvalues ascending, V orthonormal. Otherwise LAPACK dgeev: a complex pair
    /// a ± bi (b > 0 first) gives columns Re v, Im v of V and the 2×2 block [a b; −b a] of D, as in
    /// the managed provider; eigenvectors have unit 2-norm (the managed ones are not normalised),
    /// and eigenvalues come in LAPACK's order.
    let eigenDecomp (lib: NativeBlas) (isSymmetric: bool) (order: int) (matrix: float[]) (matrixEv: float[])
                    (vectorEv: Complex[]) (matrixD: float[]) =
        notNull "matrix" matrix
        notNull "matrixEv" matrixEv
        notNull "vectorEv" vectorEv
        notNull "matrixD" matrixD
        nonNegative "order" order
        needLength "matrix" matrix (size order order) (sprintf "A (%dx%d)" order order)
        needLength "matrixEv" matrixEv (size order order) (sprintf "the eigenvectors of a %dx%d matrix" order order)
        needLength "vectorEv" vectorEv (int64 order) (sprintf "the eigenvalues of a %dx%d matrix" order order)
        needLength "matrixD" matrixD (size order order) (sprintf "the block diagonal D of a %dx%d matrix" order order)
        if order > 0 then
            Array.Clear(matrixD, 0, matrixD.Length)
            let mutable n = order
            let mutable lda = order
            let mutable info = 0
            let mutable lwork = -1
            let mutable query = 0.0
            if isSymmetric then
                Array.Copy(matrix, matrixEv, matrix.Length)
                let w = Array.zeroCreate<float> order
                let mutable jobz = byte 'V'
                let mutable uplo = byte 'L'
                let mutable liwork = -1
                let mutable iquery = 0
                use pa = fixed matrixEv
                use pw = fixed w
                lib.Dsyevd.Invoke(&&jobz, &&uplo, &&n, pa, &&lda, pw, &&query, &&lwork, &&iquery, &&liwork, &&info, 1un, 1un)
                LapackInfo.illegal "dsyevd_" info
                lwork <- max 1 (int query)
                liwork <- max 1 iquery
                let work = Array.zeroCreate<float> lwork
                let iwork = Array.zeroCreate<int> liwork
                use pwork = fixed work
                use piwork = fixed iwork
                lib.Dsyevd.Invoke(&&jobz, &&uplo, &&n, pa, &&lda, pw, pwork, &&lwork, piwork, &&liwork, &&info, 1un, 1un)
                LapackInfo.illegal "dsyevd_" info
                if info > 0 then raise (LapackInfo.nonConvergence "dsyevd_" info)
                for i in 0 .. order - 1 do
                    vectorEv.[i] <- Complex(w.[i], 0.0)
                    matrixD.[i * order + i] <- w.[i]
            else
                let h = Array.copy matrix
                let wr = Array.zeroCreate<float> order
                let wi = Array.zeroCreate<float> order
                let mutable jobvl = byte 'N'
                let mutable jobvr = byte 'V'
                let mutable ldvl = 1
                let mutable ldvr = order
                let mutable vl = 0.0
                use pa = fixed h
                use pr = fixed wr
                use pi = fixed wi
                use pv = fixed matrixEv
                lib.Dgeev.Invoke(&&jobvl, &&jobvr, &&n, pa, &&lda, pr, pi, &&vl, &&ldvl, pv, &&ldvr, &&query, &&lwork, &&info, 1un, 1un)
                LapackInfo.illegal "dgeev_" info
                lwork <- max 1 (int query)
                let work = Array.zeroCreate<float> lwork
                use pw = fixed work
                lib.Dgeev.Invoke(&&jobvl, &&jobvr, &&n, pa, &&lda, pr, pi, &&vl, &&ldvl, pv, &&ldvr, pw, &&lwork, &&info, 1un, 1un)
                LapackInfo.illegal "dgeev_" info
                if info > 0 then raise (LapackInfo.nonConvergence "dgeev_" info)
                for i in 0 .. order - 1 do
                    vectorEv.[i] <- Complex(wr.[i], wi.[i])
                    matrixD.[i * order + i] <- wr.[i]
                    if wi.[i] > 0.0 then matrixD.[(i + 1) * order + i] <- wi.[i]
                    elif wi.[i] < 0.0 then matrixD.[(i - 1) * order + i] <- wi.[i]
