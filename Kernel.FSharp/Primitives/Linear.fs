namespace Hybrid.Kernel

open System

/// The structural linear primitives (JAX's `deflinear`): y = L·x where L is a 0/1 matrix given by
/// pairs p ↦ (outIx p, inIx p), meaning yₒᵤₜ += xᵢₙ. Transpose, the sums (all, by row, by column),
/// Trace, Diag (extract) and Diag (build) are each one line of index arithmetic here.
///
/// A linear map is its own derivative: ẏ = L·ẋ; the reverse rule is the transpose, x̄ += Lᵀ·ȳ
/// (a scatter-add: x̄ᵢₙ += ȳₒᵤₜ); the second-order rule is the same transpose applied to the
/// adjoint tangent, since J' = 0: x̄̇ += Lᵀ·ȳ̇.
[<Sealed>]
type internal GatherSumOp(x: VecRef, nnz: int, outIx: int -> int, inIx: int -> int, out: VecRef) =
    inherit VecOp(out)
    /// y += L·x, for w directions stored direction-fastest.
    static member Apply(nnz: int, outIx: int -> int, inIx: int -> int, xs: Span<float>, ys: Span<float>, w: int) =
        for p in 0 .. nnz - 1 do
            let o = outIx p * w
            let i = inIx p * w
            for j in 0 .. w - 1 do ys[o + j] <- ys[o + j] + xs[i + j]
    /// x̄ += Lᵀ·ȳ, for w directions stored direction-fastest.
    static member ApplyT(nnz: int, outIx: int -> int, inIx: int -> int, ybar: Span<float>, xbar: Span<float>, w: int) =
        for p in 0 .. nnz - 1 do
            let i = inIx p * w
            let o = outIx p * w
            for j in 0 .. w - 1 do xbar[i + j] <- xbar[i + j] + ybar[o + j]
    override _.Batched = true
    override _.Jvp(tan) =
        let ty = tan.Span out
        ty.Clear()
        GatherSumOp.Apply(nnz, outIx, inIx, tan.Span x, ty, tan.Width)
    override _.Vjp(adj) = GatherSumOp.ApplyT(nnz, outIx, inIx, adj.Span out, adj.Span x, 1)
    override _.VjpTangent(_, _, adjT) = GatherSumOp.ApplyT(nnz, outIx, inIx, adjT.Span out, adjT.Span x, adjT.Width)

    /// y = L·x with `outLen` outputs: one tape node (one per level when nested).
    static member Record(x: Vec, outLen: int, nnz: int, outIx: int -> int, inIx: int -> int) : Vec =
        Shapes.elements "A" "The result" outLen 1 |> ignore
        let values = Array.zeroCreate outLen
        GatherSumOp.Apply(nnz, outIx, inIx, Span<float>(x.Arr, x.Off, x.Length), Span<float>(values), 1)
        if x.Tid = 0 then Vec values
        else
            let t = Vec.TraceOf(x.Tid, 0)
            if t.Nested then Prim.Nested(GatherPrim(x.Length, outLen, nnz, outIx, inIx, false), t, [| x |])
            else
                if not (isNull t.Ir) then t.Ir.Gather(t.NextOp, x.Ref, outLen, nnz, outIx, inIx)
                Dense.record t values outLen (fun o -> GatherSumOp(x.Ref, nnz, outIx, inIx, o) :> VecOp)

    /// A scalar y = Σₚ x_{inIx p} (one tape node; the op's own slot holds the output).
    static member RecordScalar(x: Vec, nnz: int, inIx: int -> int) : Real =
        let mutable s = 0.0
        for p in 0 .. nnz - 1 do s <- s + x.Arr[x.Off + inIx p]
        if x.Tid = 0 then Real s
        else
            let t = Vec.TraceOf(x.Tid, 0)
            if t.Nested then (Prim.Nested(GatherPrim(x.Length, 1, nnz, (fun _ -> 0), inIx, true), t, [| x |]))[0]
            else
                if not (isNull t.Ir) then t.Ir.Gather(t.NextOp, x.Ref, 1, nnz, (fun _ -> 0), inIx)
                Vec.ScalarOp(t, s, fun slot -> GatherSumOp(x.Ref, nnz, (fun _ -> 0), inIx, VecRef.Slots(slot, 1)) :> VecOp)

/// y = L·x as a primitive on nested traces: linear, so ẏ = L·ẋ (the same gather) and x̄ = Lᵀ·ȳ
/// (the gather with its index maps swapped).
and [<Sealed>] internal GatherPrim(inLen: int, outLen: int, nnz: int, outIx: int -> int, inIx: int -> int, scalar: bool) =
    inherit Prim("Gather", scalar)
    member private _.Gather(x: Vec) =
        if scalar then Vec.OfReal(GatherSumOp.RecordScalar(x, nnz, inIx)) else GatherSumOp.Record(x, outLen, nnz, outIx, inIx)
    override g.Call xs = g.Gather xs[0]
    override g.Jvp(_, _, _, dxs) = g.Gather dxs[0]
    override _.Vjp(_, _, _, ybar, _) = [| GatherSumOp.Record(ybar, inLen, nnz, inIx, outIx) |]

/// The structural primitives on column-major r×c storage, each one `GatherSumOp`.
[<AbstractClass; Sealed>]
type internal Linear =
    /// Aᵀ (c×r): (Aᵀ)ⱼᵢ = Aᵢⱼ.
    static member Transpose(a: Vec, r: int, c: int) =
        Linear.Check(a, r, c)
        GatherSumOp.Record(a, r * c, r * c, (fun p -> p / r + (p % r) * c), id)
    /// Row sums (length r): yᵢ = Σⱼ Aᵢⱼ.
    static member SumRows(a: Vec, r: int, c: int) =
        Linear.Check(a, r, c)
        GatherSumOp.Record(a, r, r * c, (fun p -> p % r), id)
    /// Column sums (length c): yⱼ = Σᵢ Aᵢⱼ.
    static member SumCols(a: Vec, r: int, c: int) =
        Linear.Check(a, r, c)
        GatherSumOp.Record(a, c, r * c, (fun p -> p / r), id)
    /// tr A = Σᵢ Aᵢᵢ (A square).
    static member Trace(a: Vec, r: int, c: int) =
        Linear.Check(a, r, c)
        if r <> c then invalidArg "A" (sprintf "Trace: A is %s; the trace needs a square matrix." (Dense.shape r c))
        GatherSumOp.RecordScalar(a, r, fun p -> p * (r + 1))
    /// The main diagonal (length min(r, c)): yᵢ = Aᵢᵢ.
    static member Diag(a: Vec, r: int, c: int) =
        Linear.Check(a, r, c)
        GatherSumOp.Record(a, min r c, min r c, id, fun p -> p * (r + 1))
    /// The n×n matrix with v on its diagonal and zeros elsewhere.
    static member DiagMatrix(v: Vec) =
        if isNull v then nullArg "v"
        let n = v.Length
        Shapes.elements "v" "Diag: the matrix" n n |> ignore
        GatherSumOp.Record(v, n * n, n, (fun p -> p * (n + 1)), id)
    static member private Check(a: Vec, r: int, c: int) =
        if isNull a then nullArg "A"
        Shapes.storage "A" "A" r c a.Length
