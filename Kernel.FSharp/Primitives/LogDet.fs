namespace Hybrid.Kernel

open System
open MathNet.Numerics.LinearAlgebra

/// d = log|det A| as one scalar node: `LogDet` (general square A, LU: d = Σ log|Uᵢᵢ|, G = A⁻ᵀ)
/// and `LogDetSpd` (A symmetric positive definite, Cholesky: d = 2 Σ log Lᵢᵢ, G = S⁻¹ with
/// S = (A + Aᵀ)/2, A taken as symmetric as in `CholeskyPrim`). Defined once, every mode from it:
///
/// Forward:  ḋ = ⟨G, Ȧ⟩.
/// Reverse:  Ā = d̄·G.
///
/// G is the value's own by-product (the inverse) for a constant A, else a differentiable inverse.
[<Sealed>]
type internal LogDetPrim(n: int, spd: bool) =
    inherit Prim((if spd then "LogDetSpd" else "LogDet"), true)
    /// G = ∂d/∂A.
    member private _.G(a: Vec, res: obj) =
        match res with
        | :? (float[]) as g when a.IsConstant -> Vec g
        | _ ->
            if spd then SolvePrim.Inverse(CholeskyPrim.Sym(a, n), n)
            else Linear.Transpose(SolvePrim.Inverse(a, n), n, n)
    override _.Eval xs =
        let am = Dense.mat n n (Dense.exact xs[0])
        if spd then
            let chol = CholeskyPrim.Factor("LogDetSpd", Dense.sym am)
            let f = chol.Factor
            let mutable s = 0.0
            for j in 0 .. n - 1 do s <- s + log f[j, j]
            struct ([| 2.0 * s |], box (Dense.values (Dense.sym (chol.Solve(Matrix<float>.Build.DenseIdentity n)))))
        else
            let lu = Dense.lu "LogDet" am
            let u = lu.U
            let mutable s = 0.0
            for j in 0 .. n - 1 do s <- s + log (abs u[j, j])
            struct ([| s |], box (Dense.values (lu.Inverse().Transpose())))
    override p.Jvp(xs, _, res, dxs) = Vec.OfReal(Vec.Dot(p.G(xs[0], res), dxs[0]))
    override p.Vjp(xs, _, res, g, _) = [| g * p.G(xs[0], res) |]

    static member private Square(name: string, a: Vec, r: int, c: int) =
        if isNull a then nullArg "A"
        Shapes.storage "A" (name + ": A") r c a.Length
        if r <> c then invalidArg "A" (sprintf "%s: A is %s; the determinant needs a square matrix." name (Dense.shape r c))

    /// log|det A| by LU (LAPACK dgetrf); a singular A throws.
    static member Record(a: Vec, r: int, c: int) : Real =
        LogDetPrim.Square("LogDet", a, r, c)
        (Prim.Apply(LogDetPrim(r, false), [| a |]))[0]

    /// log det A = 2 Σ log Lᵢᵢ by Cholesky (LAPACK dpotrf) of S = (A + Aᵀ)/2; not positive definite throws.
    static member RecordSpd(a: Vec, r: int, c: int) : Real =
        CholeskyPrim.Check("LogDetSpd", a, r, c)
        (Prim.Apply(LogDetPrim(r, true), [| a |]))[0]
