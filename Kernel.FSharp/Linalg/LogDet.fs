namespace Hybrid.Kernel

open System
open MathNet.Numerics.LinearAlgebra

/// d = log|det A| as one scalar node, with G = ∂d/∂A kept from the value's factorisation:
/// `LogDet` (general square A, LU: d = Σ log|Uᵢᵢ|, G = A⁻ᵀ) and `LogDetSpd` (A symmetric positive
/// definite, Cholesky: d = 2 Σ log Lᵢᵢ, G = S⁻¹ with S = (A + Aᵀ)/2, A taken as symmetric as in
/// `CholeskyOp`).
///
/// Forward:  ḋ = tr(A⁻¹Ȧ) = ⟨G, Ȧ⟩.
/// Reverse:  Ā += ḡ·G.
/// Second order (Ġ = −A⁻ᵀȦᵀA⁻ᵀ = −G·Ȧᵀ·G; for SPD its symmetric part, −S⁻¹ṠS⁻¹):
///           Ā̇ += ġ·G − ḡ·G·Ȧᵀ·G.
[<Sealed>]
type internal LogDetOp(a: VecRef, n: int, g: Matrix<float>, spd: bool, out: VecRef) =
    inherit VecOp(out)
    let gv = Dense.values g
    override _.Jvp(tan) =
        let ta = Dense.read tan a
        let mutable s = 0.0
        for k in 0 .. n * n - 1 do s <- s + gv[k] * ta[k]
        Dense.write tan out [| s |]
    override _.Vjp(adj) =
        let gbar = (Dense.read adj out)[0]
        Dense.addInto adj a (Array.map (fun v -> gbar * v) gv)
    override _.VjpTangent(adj, tan, adjT) =
        let gbar = (Dense.read adj out)[0]
        let gdot = (Dense.read adjT out)[0]
        let h = g * (Dense.mat n n (Dense.read tan a)).TransposeThisAndMultiply g // G·Ȧᵀ·G
        let h = if spd then Dense.sym h else h
        let hv = Dense.values h
        Dense.addInto adjT a (Array.init (n * n) (fun k -> gdot * gv[k] - gbar * hv[k]))

    static member private Square(name: string, a: Vec, r: int, c: int) =
        if isNull a then nullArg "A"
        Shapes.storage "A" (name + ": A") r c a.Length
        if r <> c then invalidArg "A" (sprintf "%s: A is %s; the determinant needs a square matrix." name (Dense.shape r c))

    /// log|det A| by LU (LAPACK dgetrf); a singular A throws.
    static member Record(a: Vec, r: int, c: int) : Real =
        LogDetOp.Square("LogDet", a, r, c)
        let n = r
        let t = if a.Tid = 0 then null else Vec.FastTrace(a.Tid, 0)
        if a.Tid <> 0 && isNull t then
            let u, _ = RealLU.eliminate "LogDet" (a.ToReals()) n [||] 0
            let mutable s = Real 0.0
            for j in 0 .. n - 1 do s <- s + Real.Log(Real.Abs u[j + j * n])
            s
        else
            let am = Dense.mat n n (Dense.exact a)
            let lu = Dense.lu "LogDet" am
            let u = lu.U
            let mutable s = 0.0
            for j in 0 .. n - 1 do s <- s + log (abs u[j, j])
            if isNull t then Real s
            else
                let g = lu.Inverse().Transpose()
                Vec.ScalarOp(t, s, fun slot -> LogDetOp(a.Ref, n, g, false, VecRef.Slots(slot, 1)) :> VecOp)

    /// log det A = 2 Σ log Lᵢᵢ by Cholesky (LAPACK dpotrf) of S = (A + Aᵀ)/2; not positive definite throws.
    static member RecordSpd(a: Vec, r: int, c: int) : Real =
        CholeskyOp.Check("LogDetSpd", a, r, c)
        let n = r
        let t = if a.Tid = 0 then null else Vec.FastTrace(a.Tid, 0)
        if a.Tid <> 0 && isNull t then
            let l = CholeskyOp.FactorReals("LogDetSpd", a.ToReals(), n)
            let mutable s = Real 0.0
            for j in 0 .. n - 1 do s <- s + Real.Log l[j + j * n]
            2.0 * s
        else
            let chol = CholeskyOp.Factor("LogDetSpd", Dense.sym (Dense.mat n n (Dense.exact a)))
            let f = chol.Factor
            let mutable s = 0.0
            for j in 0 .. n - 1 do s <- s + log f[j, j]
            let s = 2.0 * s
            if isNull t then Real s
            else
                let g = Dense.sym (chol.Solve(Matrix<float>.Build.DenseIdentity n))
                Vec.ScalarOp(t, s, fun slot -> LogDetOp(a.Ref, n, g, true, VecRef.Slots(slot, 1)) :> VecOp)
