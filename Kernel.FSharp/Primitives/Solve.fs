namespace Hybrid.Kernel

open System
open MathNet.Numerics.LinearAlgebra
open MathNet.Numerics.LinearAlgebra.Factorization

/// What Solve's value leaves for its rules: A's values and LU factorisation, and the factorisation
/// of Aᵀ for the transposed solves of the reverse rule, made on first use.
[<Sealed>]
type internal LuResidual(av: float[], n: int, lu: LU<float>) =
    let luT = lazy ((Dense.mat n n av).Transpose().LU())
    member _.Values = av
    member _.LU = lu
    member _.LUT = luT.Force()

/// X = A⁻¹B for a square nonsingular A and an n×k right-hand side B (a vector is k = 1); Inverse is
/// the same primitive with the constant B = I. The value is an LU factorisation (LAPACK
/// dgetrf/dgetrs through MathNet's provider). Defined once, every mode from it:
///
/// Forward:  Ẋ = A⁻¹(Ḃ − ȦX).
/// Reverse:  G = A⁻ᵀX̄;  B̄ = G;  Ā = −G·Xᵀ.
///
/// Both rules are themselves solves and products, so they are differentiable again.
[<Sealed>]
type internal SolvePrim(name: string, n: int, k: int, hasB: bool) =
    inherit Prim(name, false)

    /// A⁻¹R (or A⁻ᵀR) for an n×kr right-hand side R, differentiable in A and R; the residual's
    /// factorisation is used when A is the constant it was made from.
    static member Solve(name: string, a: Vec, n: int, r: Vec, kr: int, transpose: bool, res: obj) : Vec =
        match res with
        | :? LuResidual as f when a.IsConstant ->
            let solve (t: bool) (v: float[]) = Dense.values ((if t then f.LUT else f.LU).Solve(Dense.mat n kr v))
            if r.IsConstant then Vec(solve transpose (Dense.exact r))
            // a traced R with the factorisation known (a rule replayed for k directions at once):
            // R ↦ A⁻¹R is a constant linear map, its transpose the other solve — no new factorisation
            else LinearMap.Apply(r, n * kr, solve transpose, solve (not transpose))
        | _ ->
            let a = if transpose then Linear.Transpose(a, n, n) else a
            Prim.Apply(SolvePrim(name, n, kr, true), [| a; r |])

    override _.Eval xs =
        let av = Dense.exact xs[0]
        let lu = Dense.lu name (Dense.mat n n av)
        let rhs = if hasB then Dense.mat n k (Dense.exact xs[1]) else Matrix<float>.Build.DenseIdentity n
        struct (Dense.values (lu.Solve rhs), box (LuResidual(av, n, lu)))
    override _.Jvp(xs, x, res, dxs) =
        let da = dxs[0]
        let db = if hasB then dxs[1] else null
        let ax () = GemmOp.Record(name, da, false, n, n, x, false, n, k)
        let r = if isNull da then db elif isNull db then -(ax ()) else db - ax ()
        SolvePrim.Solve(name, xs[0], n, r, k, false, res)
    override _.Vjp(xs, x, res, xbar, need) =
        let g = SolvePrim.Solve(name, xs[0], n, xbar, k, true, res)
        let abar = if need[0] then -(GemmOp.Record(name, g, false, n, k, x, true, n, k)) else null
        if hasB then [| abar; (if need[1] then g else null) |] else [| abar |]

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
        Prim.Apply(SolvePrim(name, n, k, not (isNull bm)), (if isNull bm then [| a |] else [| a; bm |]))

    /// A⁻¹ for a square n×n A's storage.
    static member Inverse(a: Vec, n: int) = SolvePrim.Record("Inverse", a, n, n, null, n, n)
