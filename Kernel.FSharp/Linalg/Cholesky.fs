namespace Hybrid.Kernel

open System
open MathNet.Numerics.LinearAlgebra

/// The lower Cholesky factor L of a symmetric positive definite A: S = LLᵀ with S = (A + Aᵀ)/2.
/// A is taken as symmetric: its value and its derivatives are those of A ↦ chol((A + Aᵀ)/2), so
/// any perturbation Ȧ acts through its symmetric part Ṡ = (Ȧ + Ȧᵀ)/2 (JAX's convention) and the
/// adjoint Ā it returns is symmetric. The value is LAPACK dpotrf through MathNet's provider.
///
/// With Φ(X) = the lower triangle of X with its diagonal halved (self-adjoint under ⟨·,·⟩):
/// Forward:  L̇ = L·Φ(L⁻¹ṠL⁻ᵀ).
/// Reverse (Murray 2016, "Differentiation of the Cholesky decomposition"):
///           P = Φ(LᵀL̄);  S̄ = L⁻ᵀPL⁻¹;  Ā += (S̄ + S̄ᵀ)/2.
/// Second order (product rule, d(L⁻¹) = −L⁻¹L̇L⁻¹, L̇ being L's tangent):
///           Ṗ = Φ(L̇ᵀL̄ + LᵀL̄̇);  S̄̇ = L⁻ᵀṖL⁻¹ − L⁻ᵀL̇ᵀS̄ − S̄L̇L⁻¹;  Ā̇ += (S̄̇ + S̄̇ᵀ)/2.
[<Sealed>]
type internal CholeskyOp(a: VecRef, n: int, lv: float[], linv: Matrix<float>, out: VecRef) =
    inherit VecOp(out)
    let l = Dense.mat n n lv
    let m (v: float[]) = Dense.mat n n v
    /// Φ(X) in place.
    static member Phi(x: Matrix<float>) =
        let n = x.RowCount
        for j in 0 .. n - 1 do
            x[j, j] <- 0.5 * x[j, j]
            for i in 0 .. j - 1 do x[i, j] <- 0.0
        x
    override _.Jvp(tan) =
        let sdot = Dense.sym (m (Dense.read tan a))
        let ldot = l * CholeskyOp.Phi(linv * sdot.TransposeAndMultiply linv)
        Dense.write tan out (Dense.values ldot)
    override _.Vjp(adj) =
        let p = CholeskyOp.Phi(l.TransposeThisAndMultiply(m (Dense.read adj out)))
        let sbar = linv.TransposeThisAndMultiply(p * linv)
        Dense.addInto adj a (Dense.values (Dense.sym sbar))
    override _.VjpTangent(adj, tan, adjT) =
        let lbar = m (Dense.read adj out)
        let ldot = m (Dense.read tan out)
        let p = CholeskyOp.Phi(l.TransposeThisAndMultiply lbar)
        let sbar = linv.TransposeThisAndMultiply(p * linv)
        let pdot = CholeskyOp.Phi(ldot.TransposeThisAndMultiply lbar + l.TransposeThisAndMultiply(m (Dense.read adjT out)))
        let sbardot =
            linv.TransposeThisAndMultiply(pdot * linv)
            - linv.TransposeThisAndMultiply(ldot.TransposeThisAndMultiply sbar)
            - sbar * ldot * linv
        Dense.addInto adjT a (Dense.values (Dense.sym sbardot))

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

    /// The Cholesky factor by the textbook recurrence in `Real` arithmetic (nested traces).
    static member FactorReals(name: string, a: Real[], n: int) : Real[] =
        let s i j = if i = j then a[i + i * n] else (a[i + j * n] + a[j + i * n]) * 0.5
        let l = Array.create (n * n) (Real 0.0)
        for j in 0 .. n - 1 do
            let mutable d = s j j
            for q in 0 .. j - 1 do d <- d - l[j + q * n] * l[j + q * n]
            if not (d.V > 0.0) then
                raise (NotPositiveDefiniteException(sprintf "%s: A (%s) is not symmetric positive definite (pivot %d is %g)." name (Dense.shape n n) j d.V))
            let ljj = Real.Sqrt d
            l[j + j * n] <- ljj
            for i in j + 1 .. n - 1 do
                let mutable v = s i j
                for q in 0 .. j - 1 do v <- v - l[i + q * n] * l[j + q * n]
                l[i + j * n] <- v / ljj
        l

    static member Check(name: string, a: Vec, r: int, c: int) =
        if isNull a then nullArg "A"
        Shapes.storage "A" (name + ": A") r c a.Length
        if r <> c then invalidArg "A" (sprintf "%s: A is %s; it must be square (symmetric positive definite)." name (Dense.shape r c))

    /// L with LLᵀ = (A + Aᵀ)/2: one tape node on a bottom-level trace.
    static member Record(a: Vec, r: int, c: int) : Vec =
        CholeskyOp.Check("Cholesky", a, r, c)
        let n = r
        let t = if a.Tid = 0 then null else Vec.FastTrace(a.Tid, 0)
        if a.Tid <> 0 && isNull t then Vec.OfReals(CholeskyOp.FactorReals("Cholesky", a.ToReals(), n))
        else
            let chol = CholeskyOp.Factor("Cholesky", Dense.sym (Dense.mat n n (Dense.exact a)))
            let lm = chol.Factor
            let lv = Dense.values lm
            if isNull t then Vec lv
            else
                // L⁻¹ = Lᵀ·S⁻¹ from the factorisation's own triangular solves; its upper triangle is 0.
                let linv = lm.TransposeThisAndMultiply(chol.Solve(Matrix<float>.Build.DenseIdentity n))
                for j in 0 .. n - 1 do
                    for i in 0 .. j - 1 do linv[i, j] <- 0.0
                Dense.record t lv (n * n) (fun o -> CholeskyOp(a.Ref, n, lv, linv, o) :> VecOp)
