namespace Hybrid.Kernel

open System
open MathNet.Numerics.LinearAlgebra
open MathNet.Numerics.Providers.LinearAlgebra

/// Per-thread count of the dgemm calls the matrix primitives made (tests assert how many passes a
/// replay takes: one dgemm for k directions, not one per direction).
[<AbstractClass; Sealed>]
type internal GemmCount =
    [<ThreadStatic; DefaultValue>] static val mutable private calls: int
    /// dgemm calls on this thread so far.
    static member Calls = GemmCount.calls
    static member internal Add() = GemmCount.calls <- GemmCount.calls + 1
    [<ThreadStatic; DefaultValue>] static val mutable private syrks: int
    /// Of those, the symmetric rank-k updates (`Dense.syrkLower`: dsyrk on a native backend).
    static member Syrks = GemmCount.syrks
    static member internal AddSyrk() =
        GemmCount.calls <- GemmCount.calls + 1
        GemmCount.syrks <- GemmCount.syrks + 1

/// What the matrix primitives share: exact-size column-major arrays (MathNet and BLAS take an
/// array as a matrix only when its length is exactly rows·cols), reading and accumulating
/// derivative spans of a sweep, dgemm through MathNet's active provider (so MKL / OpenBLAS when
/// registered), and recording an op whose output is a fresh exact-size array.
module internal Dense =

    /// "3×4", for messages.
    let shape (r: int) (c: int) = sprintf "%d×%d" r c

    /// x's values as an exact-size array: x's own storage when it already is one, else a copy.
    /// (A primitive's own read of its operand: not a read of values by f, so no Fn.Compile guard.)
    let exact (x: Vec) : float[] =
        if x.Off = 0 && x.Arr.Length = x.Length then x.Arr else Array.sub x.Arr x.Off x.Length

    /// x's derivative ref on its trace; constants have none (their adjoints are skipped).
    let refOf (x: Vec) = if x.Tid = 0 then VecRef.None else x.Ref

    /// A copy of the derivatives of r in s (r not None).
    let read (s: Store) (r: VecRef) : float[] = s.Read r

    /// s[r] += z (skipped for constants).
    let addInto (s: Store) (r: VecRef) (z: float[]) = s.AddInto(r, z)

    /// s[r] ← z.
    let write (s: Store) (r: VecRef) (z: float[]) = s.Write(r, z)

    let private op (t: bool) = if t then Transpose.Transpose else Transpose.DontTranspose

    /// z += α·op(x)·op(y) (BLAS dgemm through `LinearAlgebraControl.Provider`); x is stored rx×cx,
    /// y is stored ry×cy, all arrays exact-size column-major. Every size is checked (in 64 bits)
    /// against its array first: an ArgumentException naming the shapes, never a mismatched dgemm.
    let gemm (tx: bool) (x: float[]) (rx: int) (cx: int) (ty: bool) (y: float[]) (ry: int) (cy: int) (alpha: float) (z: float[]) =
        if isNull x then nullArg "x"
        if isNull y then nullArg "y"
        if isNull z then nullArg "z"
        Shapes.storage "x" "gemm: X" rx cx x.Length
        Shapes.storage "y" "gemm: Y" ry cy y.Length
        let m = if tx then cx else rx
        let k = if tx then rx else cx
        let kb = if ty then cy else ry
        let n = if ty then ry else cy
        if k <> kb then
            invalidArg "y" (sprintf "gemm: op(X) is %s but op(Y) is %s; inner dimensions must match." (shape m k) (shape kb n))
        Shapes.storage "z" "gemm: Z = op(X)·op(Y)" m n z.Length
        if m > 0 && n > 0 && k > 0 then
            Linalg.EnsureInitialized()
            GemmCount.Add()
            LinearAlgebraControl.Provider.MatrixMultiplyWithUpdate(op tx, op ty, alpha, x, rx, cx, y, ry, cy, 1.0, z)

    /// syrkLower's managed form: each entry (q, c), q ≥ c, of the lower triangle gains α times the
    /// dot product of columns c and q of A (contiguous: column-major), in Vector256 lanes — every
    /// pair computed once, so the triangle read back as a symmetric matrix is exactly symmetric.
    let syrkLowerManaged (alpha: float) (a: float[]) (lda: int) (rows: int) (cols: int) (c: float[]) =
        for j in 0 .. cols - 1 do
            let x = ReadOnlySpan<float>(a, j * lda, rows)
            for q in j .. cols - 1 do
                let y = ReadOnlySpan<float>(a, q * lda, rows)
                let mutable s = 0.0
                let mutable o = 0
                if Runtime.Intrinsics.Vector256.IsHardwareAccelerated then
                    let xv = Runtime.InteropServices.MemoryMarshal.Cast<float, Runtime.Intrinsics.Vector256<float>> x
                    let yv = Runtime.InteropServices.MemoryMarshal.Cast<float, Runtime.Intrinsics.Vector256<float>> y
                    let mutable acc = Runtime.Intrinsics.Vector256<float>.Zero
                    for v in 0 .. xv.Length - 1 do acc <- acc + xv[v] * yv[v]
                    s <- Runtime.Intrinsics.Vector256.Sum acc
                    o <- xv.Length * 4
                while o < rows do
                    s <- s + x[o] * y[o]
                    o <- o + 1
                c[q + j * cols] <- c[q + j * cols] + alpha * s

    /// The lower triangle of c (cols×cols, column-major) ← α·AᵀA + c, A the first `rows` rows of a
    /// (leading dimension lda ≥ rows, at least lda·cols elements): BLAS dsyrk on a native backend
    /// (half the flops of the dgemm AᵀA), else `syrkLowerManaged`. The strict upper triangle is
    /// left as it was; read c's lower triangle as the symmetric result. Shapes are checked first.
    let syrkLower (alpha: float) (a: float[]) (lda: int) (rows: int) (cols: int) (c: float[]) =
        if isNull a then nullArg "a"
        if isNull c then nullArg "c"
        if rows < 0 || cols < 0 || lda < max 1 rows || int64 a.Length < int64 lda * int64 cols then
            invalidArg "a" (sprintf "syrk: A is %d×%d with leading dimension %d in %d elements; lda must be ≥ the rows and the array hold lda·cols." rows cols lda a.Length)
        Shapes.storage "c" "syrk: C = AᵀA" cols cols c.Length
        if rows > 0 && cols > 0 then
            Linalg.EnsureInitialized()
            GemmCount.AddSyrk()
            match LinearAlgebraControl.Provider with
            | :? NativeLinearAlgebraProvider as p -> p.SyrkLower(alpha, a, lda, rows, cols, c)
            | _ -> syrkLowerManaged alpha a lda rows cols c

    /// An r×c MathNet matrix over an exact-size array (no copy). The size is checked in 64 bits
    /// (MathNet's own check multiplies in Int32); the first one registers the best backend.
    let mat (r: int) (c: int) (a: float[]) =
        if isNull a then nullArg "a"
        Shapes.storage "a" "The matrix" r c a.Length
        Linalg.EnsureInitialized()
        Matrix<float>.Build.Dense(r, c, a)

    /// A MathNet matrix's column-major values (its own storage when dense, else a copy).
    let values (m: Matrix<float>) : float[] =
        match m.AsColumnMajorArray() with
        | null -> m.ToColumnMajorArray()
        | a -> a

    /// The LU factorisation (LAPACK dgetrf through the provider) of a square matrix, or a
    /// `SingularMatrixException` naming the op, the shape and the zero pivot's column (a provider
    /// that reports dgetrf's info > 0 as an exception is caught and rethrown the same way).
    let lu (name: string) (a: Matrix<float>) =
        let singular (j: int) (inner: exn) =
            let where = if j >= 0 then sprintf " (zero pivot in column %d of its LU factorisation)" j else ""
            raise (SingularMatrixException(sprintf "%s: A (%s) is singular%s." name (shape a.RowCount a.ColumnCount) where, inner))
        Linalg.EnsureInitialized()
        let f =
            try a.LU()
            with
            | :? ArgumentException as e -> singular -1 e
            | :? InvalidOperationException as e -> singular -1 e
        let u = f.U
        for j in 0 .. a.RowCount - 1 do
            if u[j, j] = 0.0 then singular j null
        f

    /// (M + Mᵀ)/2 of a square matrix, as a new matrix.
    let sym (m: Matrix<float>) : Matrix<float> = (m + m.Transpose()) * 0.5

    /// Records `op` (made from its output ref) on bottom-level trace t with output `values`
    /// (exact-size, n doubles); forward traces get the output tangent right away.
    let record (t: Trace) (values: float[]) (n: int) (mk: VecRef -> VecOp) : Vec =
        Vec.Record(t, mk (Vec.NextRef(t, n)), values, n)

    /// Column-major element (i, j) of an r-row matrix of Reals.
    let inline at (a: Real[]) (r: int) (i: int) (j: int) = a[i + j * r]
