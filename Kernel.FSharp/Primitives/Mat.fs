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
        // in 64 bits: rows·cols can overflow Int32 (65536·65536 wraps to 0)
        Shapes.storage "data" "The matrix" rows cols data.Length

    /// A constant matrix copied from a MathNet matrix.
    new(m: Matrix<float>) =
        if isNull m then nullArg "m"
        Mat(Vec(m.ToColumnMajorArray()), m.RowCount, m.ColumnCount)

    /// A constant matrix from a 2-D array (copied).
    new(a: float[,]) =
        if isNull a then nullArg "a"
        Mat(Matrix<float>.Build.DenseOfArray a)

    /// The column-major element storage. A matrix of a transform that has returned throws
    /// EscapedValueException here and on every other read.
    member _.Data =
        data.CheckLive()
        data
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
        Shapes.elements "columns" "OfColumns: the matrix" r columns.Length |> ignore
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
        Shapes.elements "rows" "OfRows: the matrix" m c |> ignore
        Mat(Vec.OfReals(Array.init (m * c) (fun k -> rowsIn[k % m][k / m])), m, c)

    // ------------------------------------------------- matrix primitives (each defined once in Primitives/*.fs)

    /// A constant matrix over a dense MathNet matrix's own storage (no copy: later changes to `m`
    /// show through); other storage kinds are copied.
    static member Wrap(m: Matrix<float>) =
        if isNull m then nullArg "m"
        match m.AsColumnMajorArray() with
        | null -> Mat m
        | a -> Mat(Vec a, m.RowCount, m.ColumnCount)

    static member private SameShape(name: string, a: Mat, b: Mat) =
        if isNull a then nullArg "a"
        if isNull b then nullArg "b"
        if a.Rows <> b.Rows || a.Cols <> b.Cols then
            invalidArg "b" (sprintf "%s: A is %d×%d but B is %d×%d; elementwise operations need equal shapes." name a.Rows a.Cols b.Rows b.Cols)
    static member private Like(a: Mat, data: Vec) = Mat(data, a.Rows, a.Cols)

    /// A·B (dgemm; one tape node). Ċ = ȦB + AḂ; Ā += C̄Bᵀ, B̄ += AᵀC̄.
    static member MatMul(a: Mat, b: Mat) =
        Mat(GemmOp.Record("MatMul", a.Data, false, a.Rows, a.Cols, b.Data, false, b.Rows, b.Cols), a.Rows, b.Cols)
    /// Aᵀ·B without forming Aᵀ (dgemm with transa = T).
    static member TransposeTimes(a: Mat, b: Mat) =
        Mat(GemmOp.Record("TransposeTimes", a.Data, true, a.Rows, a.Cols, b.Data, false, b.Rows, b.Cols), a.Cols, b.Cols)
    /// A·Bᵀ without forming Bᵀ (dgemm with transb = T).
    static member TimesTranspose(a: Mat, b: Mat) =
        Mat(GemmOp.Record("TimesTranspose", a.Data, false, a.Rows, a.Cols, b.Data, true, b.Rows, b.Cols), a.Rows, b.Rows)
    /// A·x (one tape node).
    static member MatVec(a: Mat, x: Vec) : Vec =
        if x.Length <> a.Cols then
            invalidArg "x" (sprintf "MatVec: A is %d×%d but x has length %d; x needs %d elements (A's columns)." a.Rows a.Cols x.Length a.Cols)
        GemmOp.Record("MatVec", a.Data, false, a.Rows, a.Cols, x, false, x.Length, 1)
    /// xᵀ·A = Aᵀx (one tape node).
    static member VecMat(x: Vec, a: Mat) : Vec =
        if x.Length <> a.Rows then
            invalidArg "x" (sprintf "VecMat: A is %d×%d but x has length %d; xᵀA needs %d elements (A's rows)." a.Rows a.Cols x.Length a.Rows)
        GemmOp.Record("VecMat", a.Data, true, a.Rows, a.Cols, x, false, x.Length, 1)
    /// The outer product x·yᵀ (one tape node).
    static member Outer(x: Vec, y: Vec) =
        Mat(GemmOp.Record("Outer", x, false, x.Length, 1, y, true, y.Length, 1), x.Length, y.Length)
    /// A·B.
    static member (*)(a: Mat, b: Mat) = Mat.MatMul(a, b)
    /// A·x.
    static member (*)(a: Mat, x: Vec) = Mat.MatVec(a, x)
    /// xᵀ·A.
    static member (*)(x: Vec, a: Mat) = Mat.VecMat(x, a)

    /// Aᵀ (one tape node).
    static member Transpose(a: Mat) = Mat(Linear.Transpose(a.Data, a.Rows, a.Cols), a.Cols, a.Rows)
    /// Aᵀ.
    member m.T = Mat.Transpose m
    /// Σᵢⱼ Aᵢⱼ.
    static member Sum(a: Mat) : Real = Vec.Sum a.Data
    /// Row sums Σⱼ Aᵢⱼ (length Rows).
    static member SumRows(a: Mat) : Vec = Linear.SumRows(a.Data, a.Rows, a.Cols)
    /// Column sums Σᵢ Aᵢⱼ (length Cols).
    static member SumCols(a: Mat) : Vec = Linear.SumCols(a.Data, a.Rows, a.Cols)
    /// ⟨A, B⟩ = Σᵢⱼ AᵢⱼBᵢⱼ (Frobenius inner product).
    static member Dot(a: Mat, b: Mat) : Real =
        Mat.SameShape("Dot", a, b)
        Vec.Dot(a.Data, b.Data)
    /// tr A (A square).
    static member Trace(a: Mat) : Real = Linear.Trace(a.Data, a.Rows, a.Cols)
    /// The main diagonal (length min(Rows, Cols)).
    static member Diag(a: Mat) : Vec = Linear.Diag(a.Data, a.Rows, a.Cols)
    /// The square matrix with v on its diagonal.
    static member Diag(v: Vec) : Mat = Mat(Linear.DiagMatrix v, v.Length, v.Length)

    /// A⁻¹b for square nonsingular A (LU; one tape node). Throws SingularMatrixException.
    static member Solve(a: Mat, b: Vec) : Vec = SolvePrim.Record("Solve", a.Data, a.Rows, a.Cols, b, b.Length, 1)
    /// A⁻¹B for square nonsingular A (LU; one tape node). Throws SingularMatrixException.
    static member Solve(a: Mat, b: Mat) : Mat = Mat(SolvePrim.Record("Solve", a.Data, a.Rows, a.Cols, b.Data, b.Rows, b.Cols), a.Rows, b.Cols)
    /// A⁻¹ (LU; one tape node). Throws SingularMatrixException.
    static member Inverse(a: Mat) : Mat = Mat(SolvePrim.Record("Inverse", a.Data, a.Rows, a.Cols, null, a.Rows, a.Rows), a.Rows, a.Rows)
    /// The lower Cholesky factor L, LLᵀ = (A + Aᵀ)/2 (one tape node). Throws NotPositiveDefiniteException.
    static member Cholesky(a: Mat) : Mat = Mat(CholeskyPrim.Record(a.Data, a.Rows, a.Cols), a.Rows, a.Rows)
    /// log|det A| by LU (one tape node). Throws SingularMatrixException.
    static member LogDet(a: Mat) : Real = LogDetPrim.Record(a.Data, a.Rows, a.Cols)
    /// log det A for symmetric positive definite A, by Cholesky (one tape node). Throws NotPositiveDefiniteException.
    static member LogDetSpd(a: Mat) : Real = LogDetPrim.RecordSpd(a.Data, a.Rows, a.Cols)

    // Elementwise arithmetic and rule-table functions: the vector primitives over Data.

    /// f applied to the element storage (f must keep the length), e.g. a rule-table map.
    static member Map(f: Func<Vec, Vec>, a: Mat) = Mat.Like(a, f.Invoke a.Data)
    static member (~-)(a: Mat) = Mat.Like(a, -a.Data)
    static member (+)(a: Mat, b: Mat) =
        Mat.SameShape("+", a, b)
        Mat.Like(a, a.Data + b.Data)
    static member (-)(a: Mat, b: Mat) =
        Mat.SameShape("-", a, b)
        Mat.Like(a, a.Data - b.Data)
    /// Elementwise A ∘ B.
    static member PointwiseMultiply(a: Mat, b: Mat) =
        Mat.SameShape("PointwiseMultiply", a, b)
        Mat.Like(a, a.Data * b.Data)
    /// Elementwise A ⊘ B.
    static member PointwiseDivide(a: Mat, b: Mat) =
        Mat.SameShape("PointwiseDivide", a, b)
        Mat.Like(a, a.Data / b.Data)
    static member (+)(a: Mat, s: Real) = Mat.Like(a, a.Data + s)
    static member (+)(s: Real, a: Mat) = Mat.Like(a, s + a.Data)
    static member (+)(a: Mat, c: float) = Mat.Like(a, a.Data + c)
    static member (+)(c: float, a: Mat) = Mat.Like(a, c + a.Data)
    static member (-)(a: Mat, s: Real) = Mat.Like(a, a.Data - s)
    static member (-)(s: Real, a: Mat) = Mat.Like(a, s - a.Data)
    static member (-)(a: Mat, c: float) = Mat.Like(a, a.Data - c)
    static member (-)(c: float, a: Mat) = Mat.Like(a, c - a.Data)
    static member (*)(a: Mat, s: Real) = Mat.Like(a, a.Data * s)
    static member (*)(s: Real, a: Mat) = Mat.Like(a, s * a.Data)
    static member (*)(a: Mat, c: float) = Mat.Like(a, a.Data * c)
    static member (*)(c: float, a: Mat) = Mat.Like(a, c * a.Data)
    static member (/)(a: Mat, s: Real) = Mat.Like(a, a.Data / s)
    static member (/)(a: Mat, c: float) = Mat.Like(a, a.Data / c)
    static member Abs(a: Mat) = Mat.Like(a, Vec.Abs a.Data)
    static member Square(a: Mat) = Mat.Like(a, Vec.Square a.Data)
    static member Sqrt(a: Mat) = Mat.Like(a, Vec.Sqrt a.Data)
    static member Exp(a: Mat) = Mat.Like(a, Vec.Exp a.Data)
    static member Log(a: Mat) = Mat.Like(a, Vec.Log a.Data)
    static member LogP1(a: Mat) = Mat.Like(a, Vec.LogP1 a.Data)
    static member ExpM1(a: Mat) = Mat.Like(a, Vec.ExpM1 a.Data)
    static member Sin(a: Mat) = Mat.Like(a, Vec.Sin a.Data)
    static member Cos(a: Mat) = Mat.Like(a, Vec.Cos a.Data)
    static member Tanh(a: Mat) = Mat.Like(a, Vec.Tanh a.Data)
    static member Erf(a: Mat) = Mat.Like(a, Vec.Erf a.Data)
    static member Pow(a: Mat, c: float) = Mat.Like(a, Vec.Pow(a.Data, c))

    override m.ToString() = sprintf "Mat %d×%d %s" rows cols (m.ToMatrix().ToMatrixString())

    /// A constant over a dense matrix's own storage, as `Wrap` (no copy, so constants mix into
    /// matrix primitives at no cost; other storage kinds are copied).
    static member op_Implicit(m: Matrix<float>) : Mat = Mat.Wrap m
    static member op_Implicit(a: float[,]) : Mat = Mat a
    /// The values as a MathNet matrix, for results at the top level. A matrix that still carries
    /// derivatives (inside a transform) throws rather than silently dropping them; use ToMatrix().
    static member op_Implicit(m: Mat) : Matrix<float> =
        if isNull m then null
        elif not m.IsConstant then
            m.Data.CheckLive()
            invalidOp "Hybrid: converting a Mat that carries derivatives to Matrix<double> would drop them; call ToMatrix() to take the values on purpose."
        else m.ToMatrix()
