namespace Hybrid.Kernel

open System
open MathNet.Numerics.LinearAlgebra

/// The lower Cholesky factor L of a symmetric positive definite A: S = LLᵀ with S = (A + Aᵀ)/2.
/// A is taken as symmetric: its value and its derivatives are those of A ↦ chol((A + Aᵀ)/2), so
/// any perturbation Ȧ acts through its symmetric part Ṡ = (Ȧ + Ȧᵀ)/2 (JAX's convention) and the
/// adjoint Ā it returns is symmetric. The value is LAPACK dpotrf through MathNet's provider.
/// Defined once, every mode from it; with Φ(X) = the lower triangle of X with its diagonal halved
/// (self-adjoint under ⟨·,·⟩):
///
/// Forward:  L̇ = L·Φ(L⁻¹ṠL⁻ᵀ).
/// Reverse (Murray 2016, "Differentiation of the Cholesky decomposition"):
///           P = Φ(LᵀL̄);  S̄ = L⁻ᵀPL⁻¹;  Ā = (S̄ + S̄ᵀ)/2.
[<Sealed>]
type internal CholeskyPrim(n: int) =
    inherit Prim("Cholesky", false)
    let gemm (x: Vec) tx (y: Vec) ty = GemmOp.Record("Cholesky", x, tx, n, n, y, ty, n, n)
    /// (X + Xᵀ)/2.
    static member Sym(x: Vec, n: int) = (x + Linear.Transpose(x, n, n)) * 0.5
    /// Φ(X): the lower triangle with the diagonal halved (linear: two gathers).
    static member Phi(x: Vec, n: int) =
        let lower = [| for j in 0 .. n - 1 do for i in j .. n - 1 -> i + j * n |]
        let tri = GatherSumOp.Record(x, n * n, lower.Length, (fun p -> lower[p]), (fun p -> lower[p]))
        tri - 0.5 * Linear.DiagMatrix(Linear.Diag(x, n, n))
    /// L⁻¹: from the residual when L is the constant it was made for, else a differentiable solve.
    member private _.Inverse(l: Vec, res: obj) =
        match res with
        | :? (float[]) as linv when l.IsConstant -> Vec linv
        | _ -> SolvePrim.Inverse(l, n)

    /// The factor (LAPACK dpotrf) of S = (A + Aᵀ)/2, or a `NotPositiveDefiniteException`.
    static member Factor(name: string, s: Matrix<float>) =
        let fail (inner: exn) =
            raise (NotPositiveDefiniteException(sprintf "%s: A (%s) is not symmetric positive definite (its Cholesky factorisation failed); for a general square matrix use the LU-based form." name (Dense.shape s.RowCount s.ColumnCount), inner))
        Linalg.EnsureInitialized()
        let c =
            try s.Cholesky()
            with
            | :? ArgumentException as e -> fail e
            | :? InvalidOperationException as e -> fail e
        let f = c.Factor
        for j in 0 .. f.RowCount - 1 do
            if not (f[j, j] > 0.0) && not (Double.IsNaN f[j, j]) then fail null
        c

    override _.Eval xs =
        let chol = CholeskyPrim.Factor("Cholesky", Dense.sym (Dense.mat n n (Dense.exact xs[0])))
        let lm = chol.Factor
        // L⁻¹ = Lᵀ·S⁻¹ from the factorisation's own triangular solves; its upper triangle is 0.
        let linv = lm.TransposeThisAndMultiply(chol.Solve(Matrix<float>.Build.DenseIdentity n))
        for j in 0 .. n - 1 do
            for i in 0 .. j - 1 do linv[i, j] <- 0.0
        struct (Dense.values lm, box (Dense.values linv))
    override p.Jvp(_, l, res, dxs) =
        let li = p.Inverse(l, res)
        let sdot = CholeskyPrim.Sym(dxs[0], n)
        gemm l false (CholeskyPrim.Phi(gemm li false (gemm sdot false li true) false, n)) false
    override p.Vjp(_, l, res, lbar, _) =
        let li = p.Inverse(l, res)
        let phi = CholeskyPrim.Phi(gemm l true lbar false, n)
        [| CholeskyPrim.Sym(gemm li true (gemm phi false li false) false, n) |]

    static member Check(name: string, a: Vec, r: int, c: int) =
        if isNull a then nullArg "A"
        Shapes.storage "A" (name + ": A") r c a.Length
        if r <> c then invalidArg "A" (sprintf "%s: A is %s; it must be square (symmetric positive definite)." name (Dense.shape r c))

    /// L with LLᵀ = (A + Aᵀ)/2: one tape node (one per level when nested).
    static member Record(a: Vec, r: int, c: int) : Vec =
        CholeskyPrim.Check("Cholesky", a, r, c)
        Prim.Apply(CholeskyPrim r, [| a |])
