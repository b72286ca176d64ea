namespace Hybrid.Kernel

open System
open MathNet.Numerics.LinearAlgebra
open MathNet.Numerics.Providers.LinearAlgebra

/// What the matrix primitives share: exact-size column-major arrays (MathNet and BLAS take an
/// array as a matrix only when its length is exactly rows·cols), reading and accumulating
/// derivative spans of a sweep, dgemm through MathNet's active provider (so MKL / OpenBLAS when
/// registered), and recording an op whose output is a fresh exact-size array.
module Dense =

    /// "3×4", for messages.
    let shape (r: int) (c: int) = sprintf "%d×%d" r c

    /// x's values as an exact-size array: x's own storage when it already is one, else a copy.
    let exact (x: Vec) : float[] =
        if x.Off = 0 && x.Arr.Length = x.Length then x.Arr else x.ToArray()

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
    /// y is stored ry×cy, all arrays exact-size column-major.
    let gemm (tx: bool) (x: float[]) (rx: int) (cx: int) (ty: bool) (y: float[]) (ry: int) (cy: int) (alpha: float) (z: float[]) =
        let m = if tx then cx else rx
        let k = if tx then rx else cx
        let n = if ty then ry else cy
        if m > 0 && n > 0 && k > 0 then
            LinearAlgebraControl.Provider.MatrixMultiplyWithUpdate(op tx, op ty, alpha, x, rx, cx, y, ry, cy, 1.0, z)

    /// An r×c MathNet matrix over an exact-size array (no copy).
    let mat (r: int) (c: int) (a: float[]) = Matrix<float>.Build.Dense(r, c, a)

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
        let y = Vec.OpOutput(t, values, n)
        let o = mk y.Ref
        t.PushOp(o, n) |> ignore
        if t.Kind = TraceKind.Forward then o.Jvp t.Tangents
        y

    /// Column-major element (i, j) of an r-row matrix of Reals.
    let inline at (a: Real[]) (r: int) (i: int) (j: int) = a[i + j * r]
