namespace Hybrid.Kernel

open System
open MathNet.Numerics.LinearAlgebra

/// A differentiable dense matrix: `Rows × Cols` elements stored column-major (BLAS / MathNet
/// layout) in a differentiable vector, so every vector primitive applies to its elements and a
/// matrix primitive is one tape node over that storage.
[<Sealed; AllowNullLiteral>]
type Mat(data: Vec, rows: int, cols: int) =
    do
        if isNull data then nullArg "data"
        if rows < 0 || cols < 0 || rows * cols <> data.Length then
            invalidArg "data" (sprintf "A %d×%d matrix needs %d elements, got %d." rows cols (rows * cols) data.Length)

    /// A constant matrix copied from a MathNet matrix.
    new(m: Matrix<float>) =
        if isNull m then nullArg "m"
        Mat(Vec(m.ToColumnMajorArray()), m.RowCount, m.ColumnCount)

    /// A constant matrix from a 2-D array (copied).
    new(a: float[,]) =
        if isNull a then nullArg "a"
        Mat(Matrix<float>.Build.DenseOfArray a)

    /// The column-major element storage.
    member _.Data = data
    member _.Rows = rows
    member _.Cols = cols
    /// True when no element carries derivative information.
    member _.IsConstant = data.IsConstant

    /// Element (i, j).
    member _.Item
        with get (i: int, j: int) : Real =
            if uint i >= uint rows || uint j >= uint cols then
                raise (IndexOutOfRangeException(sprintf "Mat index (%d, %d) is outside %d×%d." i j rows cols))
            data[i + j * rows]

    /// Column j as a vector (a view).
    member _.Column(j: int) =
        if uint j >= uint cols then raise (ArgumentOutOfRangeException("j", sprintf "Column %d of a %d×%d matrix." j rows cols))
        data.Slice(j * rows, rows)

    /// Row i as a vector (gathered: one copy node per element on a trace).
    member m.Row(i: int) =
        if uint i >= uint rows then raise (ArgumentOutOfRangeException("i", sprintf "Row %d of a %d×%d matrix." i rows cols))
        Vec.OfReals(Array.init cols (fun j -> m[i, j]))

    /// The values as a MathNet dense matrix (a copy).
    member _.ToMatrix() = Matrix<float>.Build.Dense(rows, cols, data.ToArray())
    /// The values as a 2-D array (a copy).
    member m.ToArray() = m.ToMatrix().ToArray()

    /// A matrix whose columns are the given vectors (all of one length).
    static member OfColumns(columns: Vec[]) =
        if isNull columns then nullArg "columns"
        if columns.Length = 0 then invalidArg "columns" "OfColumns needs at least one column."
        let r = columns[0].Length
        for c in columns do
            if c.Length <> r then invalidArg "columns" (sprintf "OfColumns: columns have lengths %d and %d; all must match." r c.Length)
        if columns |> Array.forall (fun c -> c.IsConstant) then
            let a = Array.zeroCreate (r * columns.Length)
            columns |> Array.iteri (fun j c -> Array.blit (c.ToArray()) 0 a (j * r) r)
            Mat(Vec a, r, columns.Length)
        else Mat(Vec.OfReals(columns |> Array.collect (fun c -> c.ToReals())), r, columns.Length)

    /// A matrix whose rows are the given vectors (all of one length).
    static member OfRows(rowsIn: Vec[]) =
        if isNull rowsIn then nullArg "rows"
        if rowsIn.Length = 0 then invalidArg "rows" "OfRows needs at least one row."
        let c = rowsIn[0].Length
        for r in rowsIn do
            if r.Length <> c then invalidArg "rows" (sprintf "OfRows: rows have lengths %d and %d; all must match." c r.Length)
        let m = rowsIn.Length
        Mat(Vec.OfReals(Array.init (m * c) (fun k -> rowsIn[k % m][k / m])), m, c)

    override m.ToString() = sprintf "Mat %d×%d %s" rows cols (m.ToMatrix().ToMatrixString())

    static member op_Implicit(m: Matrix<float>) : Mat = Mat m
    static member op_Implicit(a: float[,]) : Mat = Mat a
    /// The values as a MathNet matrix, for results at the top level. A matrix that still carries
    /// derivatives (inside a transform) throws rather than silently dropping them; use ToMatrix().
    static member op_Implicit(m: Mat) : Matrix<float> =
        if isNull m then null
        elif not m.IsConstant then invalidOp "Hybrid: converting a Mat that carries derivatives to Matrix<double> would drop them; call ToMatrix() to take the values on purpose."
        else m.ToMatrix()
