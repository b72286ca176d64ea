namespace Hybrid.Kernel

open System

/// C = op(A)·op(B), op = identity or transpose (BLAS dgemm): matrix×matrix, matrix×vector,
/// vectorᵀ×matrix, AᵀB, ABᵀ and the outer product x·yᵀ are all this one bilinear primitive
/// (JAX's `defbilinear`). A is stored ra×ca, B rb×cb; C is m×n.
///
/// Forward:  Ċ = op(Ȧ)·op(B) + op(A)·op(Ḃ).
/// Reverse:  Ā += C̄·op(B)ᵀ (stored transposed when A is: op(B)·C̄ᵀ),
///           B̄ += op(A)ᵀ·C̄ (stored transposed when B is: C̄ᵀ·op(A)).
/// Second order: derived from the reverse rule (`GemmPrim`), which is written with this primitive.
/// A constant side (no derivative ref) gets no adjoint work and contributes no tangent.
[<Sealed>]
type internal GemmOp(a: VecRef, av: float[], ta: bool, ra: int, ca: int, b: VecRef, bv: float[], tb: bool, rb: int, cb: int, cv: float[], out: VecRef) =
    inherit VecOp(out)
    let m = if ta then ca else ra
    let n = if tb then rb else cb
    /// z += op(A)·op(B) for the given A and B values.
    let push (aa: float[]) (bb: float[]) (z: float[]) = Dense.gemm ta aa ra ca tb bb rb cb 1.0 z
    let pullA (g: float[]) (bb: float[]) (z: float[]) = GemmOp.PullA(ta, ra, ca, tb, rb, cb, g, bb, z)
    let pullB (aa: float[]) (g: float[]) (z: float[]) = GemmOp.PullB(ta, ra, ca, tb, rb, cb, aa, g, z)

    /// z (shaped like stored A, exact size) += the A-adjoint of the m×n cotangent g against B values bb.
    static member PullA(ta: bool, ra: int, ca: int, tb: bool, rb: int, cb: int, g: float[], bb: float[], z: float[]) =
        let m = if ta then ca else ra
        let n = if tb then rb else cb
        if ta then Dense.gemm tb bb rb cb true g m n 1.0 z
        else Dense.gemm false g m n (not tb) bb rb cb 1.0 z
    /// z (shaped like stored B, exact size) += the B-adjoint of the m×n cotangent g against A values aa.
    static member PullB(ta: bool, ra: int, ca: int, tb: bool, rb: int, cb: int, aa: float[], g: float[], z: float[]) =
        let m = if ta then ca else ra
        let n = if tb then rb else cb
        if tb then Dense.gemm true g m n ta aa ra ca 1.0 z
        else Dense.gemm (not ta) aa ra ca false g m n 1.0 z

    override _.Batched = true
    /// The operands as recorded (refs, values, stored shapes and transposes), for `Fn.Compile`,
    /// which keeps the product as one node of its graph and re-instantiates this op at each call's
    /// values (`MatNode`).
    member _.Factors = struct (a, av, ta, ra, ca, b, bv, tb, rb, cb)
    /// A pooled exact-size copy of a derivative span (BLAS needs exact-size arrays).
    static member private Copy(s: Span<float>) =
        let a = ExactBuffers.Rent s.Length
        s.CopyTo(a.AsSpan())
        a

    override _.Jvp(tan) =
        let w = tan.Width
        if w = 1 then
            let z = Array.zeroCreate (m * n)
            if not a.IsNone then push (Dense.read tan a) bv z
            if not b.IsNone then push av (Dense.read tan b) z
            Dense.write tan out z
        else
            // k tangents at once, one dgemm per side for all w directions: tangents are interleaved
            // (element e, direction j at e·w + j), so Ȧ's stack as a (w·ra)×ca matrix whose row i·w + j
            // is row i of direction j, and Ċ's as (w·m)×n likewise.
            let z = ExactBuffers.RentZeroed(m * n * w)
            if not a.IsNone then
                let ta' = GemmOp.Copy(tan.Span a)
                if not ta then Dense.gemm false ta' (w * ra) ca tb bv rb cb 1.0 z
                else
                    // Ȧⱼᵀ·op(B): Ȧ's tangents regrouped as the (w·ca)×ra matrix P, P[j + w·c, i] = Ȧⱼ[i, c],
                    // whose product with op(B) is Ċ interleaved
                    let p = ExactBuffers.Rent(ra * ca * w)
                    for c in 0 .. ca - 1 do
                        for i in 0 .. ra - 1 do
                            let src = (i + ra * c) * w
                            let dst = w * c + w * ca * i
                            for j in 0 .. w - 1 do p[dst + j] <- ta'[src + j]
                    Dense.gemm false p (w * ca) ra tb bv rb cb 1.0 z
                    ExactBuffers.Return p
                ExactBuffers.Return ta'
            if not b.IsNone then
                let tb' = GemmOp.Copy(tan.Span b)
                if not tb && cb = 1 then Dense.gemm false tb' w rb (not ta) av ra ca 1.0 z
                else
                    // op(A)·[Ḃ₀ … Ḃ_w−1] in one product R (m × n·w, direction-major), added into Ċ interleaved:
                    // Ḃ direction-major (rb × cb·w) when B is not transposed; for Bᵀ the interleaved Ḃ is the
                    // (w·rb)×cb matrix M and R = op(A)·Mᵀ has column j + w·i
                    let r = ExactBuffers.RentZeroed(m * n * w)
                    if not tb then
                        let d = ExactBuffers.Rent(rb * cb * w)
                        for e in 0 .. rb * cb - 1 do
                            for j in 0 .. w - 1 do d[e + rb * cb * j] <- tb'[e * w + j]
                        Dense.gemm ta av ra ca false d rb (cb * w) 1.0 r
                        ExactBuffers.Return d
                        for j in 0 .. w - 1 do
                            for e in 0 .. m * n - 1 do z[e * w + j] <- z[e * w + j] + r[e + m * n * j]
                    else
                        Dense.gemm ta av ra ca true tb' (w * rb) cb 1.0 r
                        for i in 0 .. n - 1 do
                            for j in 0 .. w - 1 do
                                for c in 0 .. m - 1 do
                                    let e = c + m * i
                                    z[e * w + j] <- z[e * w + j] + r[c + m * j + m * w * i]
                    ExactBuffers.Return r
                ExactBuffers.Return tb'
            z.AsSpan().CopyTo(tan.Span out)
            ExactBuffers.Return z

    override _.Vjp(adj) =
        let g = Dense.read adj out
        if not a.IsNone then
            let z = Array.zeroCreate (ra * ca)
            pullA g bv z
            Dense.addInto adj a z
        if not b.IsNone then
            let z = Array.zeroCreate (rb * cb)
            pullB av g z
            Dense.addInto adj b z

    /// Derived from `GemmPrim`'s vjp rule for every direction at once (`PrimNode.DerivedVjpTangent`):
    /// the rule's products, replayed forward with k tangents, are each one dgemm, as in `Jvp`.
    override _.VjpTangent(adj, tan, adjT) =
        PrimNode.DerivedVjpTangent(GemmPrim(ta, ra, ca, tb, rb, cb), [| Vec av; Vec bv |], Vec cv, null, [| a; b |], out, adj, tan, adjT)

    /// op(A)·op(B) as m×n column-major storage: one tape node on a bottom-level trace, plain dgemm
    /// for constants, one node per level when nested (`GemmPrim`). `name` is for messages.
    static member Record(name: string, a: Vec, ta: bool, ra: int, ca: int, b: Vec, tb: bool, rb: int, cb: int) : Vec =
        if isNull a then nullArg "A"
        if isNull b then nullArg "B"
        Shapes.storage "A" (name + ": A") ra ca a.Length
        Shapes.storage "B" (name + ": B") rb cb b.Length
        let m = if ta then ca else ra
        let k = if ta then ra else ca
        let kb = if tb then cb else rb
        let n = if tb then rb else cb
        if k <> kb then
            let sa = if ta then sprintf "Aᵀ is %s" (Dense.shape m k) else sprintf "A is %s" (Dense.shape m k)
            let sb = if tb then sprintf "Bᵀ is %s" (Dense.shape kb n) else sprintf "B is %s" (Dense.shape kb n)
            invalidArg "B" (sprintf "%s: %s but %s; inner dimensions must match." name sa sb)
        Shapes.elements "B" (name + ": the product") m n |> ignore
        let t = if a.Tid = 0 && b.Tid = 0 then null else Vec.TraceOf(a.Tid, b.Tid)
        if not (isNull t) && t.Nested then Prim.Nested(GemmPrim(ta, ra, ca, tb, rb, cb), t, [| a; b |])
        else
            let av = Dense.exact a
            let bv = Dense.exact b
            let z = Array.zeroCreate (m * n)
            Dense.gemm ta av ra ca tb bv rb cb 1.0 z
            if isNull t then Vec z
            else Dense.record t z (m * n) (fun o -> GemmOp(Dense.refOf a, av, ta, ra, ca, Dense.refOf b, bv, tb, rb, cb, z, o) :> VecOp)

/// C = op(A)·op(B) as a primitive on nested traces: bilinear, so Ċ = op(Ȧ)·op(B) + op(A)·op(Ḃ)
/// and the pullbacks are products with the cotangent, each again this primitive.
and [<Sealed>] internal GemmPrim(ta: bool, ra: int, ca: int, tb: bool, rb: int, cb: int) =
    inherit Prim("MatMul", false)
    let m = if ta then ca else ra
    let n = if tb then rb else cb
    static let gemm (x: Vec) tx rx cx (y: Vec) ty ry cy = GemmOp.Record("MatMul", x, tx, rx, cx, y, ty, ry, cy)
    override _.Call xs = gemm xs[0] ta ra ca xs[1] tb rb cb
    override _.Jvp(xs, _, _, dxs) =
        let da = dxs[0]
        let db = dxs[1]
        let viaA () = gemm da ta ra ca xs[1] tb rb cb
        let viaB () = gemm xs[0] ta ra ca db tb rb cb
        if isNull db then viaA () elif isNull da then viaB () else viaA () + viaB ()
    override _.Vjp(xs, _, _, g, need) =
        let a = xs[0]
        let b = xs[1]
        // Ā (shaped like stored A) and B̄ (like stored B), as in GemmOp
        let pa () = if ta then gemm b tb rb cb g true m n else gemm g false m n b (not tb) rb cb
        let pb () = if tb then gemm g true m n a ta ra ca else gemm a (not ta) ra ca g false m n
        [| (if need[0] then pa () else null); (if need[1] then pb () else null) |]
