namespace Hybrid.Kernel

open System
open MathNet.Numerics.LinearAlgebra
open MathNet.Numerics.LinearAlgebra.Factorization

/// Gaussian elimination with partial pivoting in `Real` arithmetic: the nested-trace path of
/// Solve, Inverse and LogDet (pivots chosen on primal values, so it follows the same branch as
/// LAPACK's dgetrf would).
module internal RealLU =
    /// Factors a copy of the n×n matrix a (column-major), applying the same row swaps and
    /// eliminations to the n×k right-hand side b (may have k = 0). Returns the eliminated
    /// (upper-triangular) matrix and b; throws when a pivot is exactly zero.
    let eliminate (name: string) (a: Real[]) (n: int) (b: Real[]) (k: int) =
        let u = Array.copy a
        let y = Array.copy b
        for j in 0 .. n - 1 do
            let mutable p = j
            for i in j + 1 .. n - 1 do
                if abs u[i + j * n].V > abs u[p + j * n].V then p <- i
            if u[p + j * n].V = 0.0 then
                raise (SingularMatrixException(sprintf "%s: A (%s) is singular (zero pivot in column %d of its LU factorisation)." name (Dense.shape n n) j))
            if p <> j then
                for c in 0 .. n - 1 do
                    let s = u[j + c * n]
                    u[j + c * n] <- u[p + c * n]
                    u[p + c * n] <- s
                for c in 0 .. k - 1 do
                    let s = y[j + c * n]
                    y[j + c * n] <- y[p + c * n]
                    y[p + c * n] <- s
            let piv = u[j + j * n]
            for i in j + 1 .. n - 1 do
                let f = u[i + j * n] / piv
                u[i + j * n] <- Real 0.0
                for c in j + 1 .. n - 1 do u[i + c * n] <- u[i + c * n] - f * u[j + c * n]
                for c in 0 .. k - 1 do y[i + c * n] <- y[i + c * n] - f * y[j + c * n]
        u, y

    /// X = A⁻¹B by elimination and back substitution.
    let solve (name: string) (a: Real[]) (n: int) (b: Real[]) (k: int) =
        let u, y = eliminate name a n b k
        for c in 0 .. k - 1 do
            for i in n - 1 .. -1 .. 0 do
                let mutable s = y[i + c * n]
                for l in i + 1 .. n - 1 do s <- s - u[i + l * n] * y[l + c * n]
                y[i + c * n] <- s / u[i + i * n]
        y

/// X = A⁻¹B for a square nonsingular A and an n×k right-hand side B (a vector is k = 1); Inverse is
/// the same primitive with the constant B = I. The value comes from an LU factorisation (LAPACK
/// dgetrf/dgetrs through MathNet's provider); the transposed solves of the reverse rule use the LU
/// factorisation of Aᵀ, made on first use.
///
/// Forward:  Ẋ = A⁻¹(Ḃ − ȦX).
/// Reverse:  G = A⁻ᵀX̄;  B̄ += G;  Ā −= G·Xᵀ.
/// Second order (product rule on the reverse rule, Ẋ being X's tangent):
///           Ġ = A⁻ᵀ(X̄̇ − ȦᵀG);  B̄̇ += Ġ;  Ā̇ −= Ġ·Xᵀ + G·Ẋᵀ.
[<Sealed>]
type internal SolveOp(a: VecRef, av: float[], lu: LU<float>, b: VecRef, n: int, k: int, xv: float[], out: VecRef) =
    inherit VecOp(out)
    let luT = lazy ((Dense.mat n n av).Transpose().LU())
    let x = Dense.mat n k xv
    let m (v: float[]) = Dense.mat n k v
    /// G = A⁻ᵀ·g.
    let pull (g: Matrix<float>) = luT.Force().Solve g
    override _.Jvp(tan) =
        let r = if b.IsNone then Matrix<float>.Build.Dense(n, k) else m (Dense.read tan b)
        if not a.IsNone then r.Subtract(Dense.mat n n (Dense.read tan a) * x, r)
        Dense.write tan out (Dense.values (lu.Solve r))
    override _.Vjp(adj) =
        let g = pull (m (Dense.read adj out))
        Dense.addInto adj b (Dense.values g)
        if not a.IsNone then Dense.addInto adj a (Dense.values (-(g.TransposeAndMultiply x)))
    override _.VjpTangent(adj, tan, adjT) =
        let g = pull (m (Dense.read adj out))
        let r = m (Dense.read adjT out)
        if not a.IsNone then r.Subtract((Dense.mat n n (Dense.read tan a)).TransposeThisAndMultiply g, r)
        let gdot = pull r
        Dense.addInto adjT b (Dense.values gdot)
        if not a.IsNone then
            let xdot = m (Dense.read tan out)
            Dense.addInto adjT a (Dense.values (-(gdot.TransposeAndMultiply x + g.TransposeAndMultiply xdot)))

    /// A⁻¹B; `bm` is B as an n×k matrix's storage (constant or differentiable), or null for B = I.
    static member Record(name: string, a: Vec, ra: int, ca: int, bm: Vec, rb: int, cb: int) : Vec =
        if isNull a then nullArg "A"
        Shapes.storage "A" (name + ": A") ra ca a.Length
        if not (isNull bm) then Shapes.storage "b" (name + ": the right-hand side") rb cb bm.Length
        if ra <> ca then invalidArg "A" (sprintf "%s: A is %s; it must be square." name (Dense.shape ra ca))
        let n = ra
        if not (isNull bm) && rb <> n then
            invalidArg "b" (sprintf "%s: A is %s but the right-hand side has %d rows; they must match." name (Dense.shape ra ca) rb)
        let k = if isNull bm then n else cb
        Shapes.elements "b" (name + ": the solution") n k |> ignore
        let bTid = if isNull bm then 0 else bm.Tid
        let t = if a.Tid = 0 && bTid = 0 then null else Vec.FastTrace(a.Tid, bTid)
        if (a.Tid <> 0 || bTid <> 0) && isNull t then
            let br =
                if isNull bm then Array.init (n * n) (fun p -> Real(if p % n = p / n then 1.0 else 0.0))
                else bm.ToReals()
            Vec.OfReals(RealLU.solve name (a.ToReals()) n br k)
        else
            let av = Dense.exact a
            let lu = Dense.lu name (Dense.mat n n av)
            let rhs = if isNull bm then Matrix<float>.Build.DenseIdentity n else Dense.mat n k (Dense.exact bm)
            let xv = Dense.values (lu.Solve rhs)
            if isNull t then Vec xv
            else
                let br = if isNull bm then VecRef.None else Dense.refOf bm
                Dense.record t xv (n * k) (fun o -> SolveOp(Dense.refOf a, av, lu, br, n, k, xv, o) :> VecOp)
