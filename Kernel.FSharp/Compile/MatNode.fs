namespace Hybrid.Kernel

#nowarn "9" // Spans over the workspace's pinned arrays, from the addresses compiled passes get

open System
open System.Runtime.InteropServices
open System.Threading
open Microsoft.FSharp.NativeInterop

/// What a matrix node of a compiled graph computes: a kernel primitive re-instantiated at each
/// call's values. `Eval` fills the output's values (an exact-size array) from the operands' and
/// returns the residual the rules use (a factorisation, or null); `Op` is the bottom-level op the
/// eager tape records for the same values, whose own rules (Jvp, Vjp, VjpTangent) the compiled
/// passes call — so a compiled matrix node makes the BLAS / LAPACK calls the eager tape makes,
/// and no derivative rule is written here.
[<AbstractClass>]
type internal MatRule(name: string) =
    member _.Name = name
    /// True when the rules read a residual worth keeping between the passes of one point.
    abstract Residual: bool
    abstract Eval: xs: float[][] * y: float[] -> obj
    abstract Op: xs: float[][] * y: float[] * res: obj * refs: VecRef[] * out: VecRef -> VecOp
    /// True when `VjpInto` is the reverse rule (else the passes run `Op(…).Vjp`).
    abstract Direct: bool
    default _.Direct = false
    /// The reverse rule without building the op, allocation-free: adds the vjp of the output's
    /// cotangent g (exact size) into zs[i] (exact size, zeroed; null for a constant operand).
    abstract VjpInto: xs: float[][] * g: float[] * zs: float[][] -> unit
    default _.VjpInto(_, _, _) = invalidOp "Hybrid internal error: this matrix rule has no direct reverse."
    /// For edge pushing: when the node is y = op(M)·x, linear in operand `traced` (a vector, the
    /// only operand that carries derivatives) with M constant, M as (values, transposed, rows,
    /// columns stored) — its Jacobian, with no second-order term; ValueNone (the default) otherwise.
    abstract LinearMap: xs: float[][] * traced: int -> struct (float[] * bool * int * int) voption
    default _.LinearMap(_, _) = ValueNone

/// C = op(A)·op(B) (`GemmOp`): the value is GemmOp.Record's dgemm into zeros.
[<Sealed>]
type internal GemmRule(ta: bool, ra: int, ca: int, tb: bool, rb: int, cb: int) =
    inherit MatRule("MatMul")
    override _.Residual = false
    override _.Eval(xs, y) =
        Array.Clear y
        Dense.gemm ta xs[0] ra ca tb xs[1] rb cb 1.0 y
        null
    override _.Op(xs, y, _, refs, out) = GemmOp(refs[0], xs[0], ta, ra, ca, refs[1], xs[1], tb, rb, cb, y, out) :> VecOp
    override _.Direct = true
    /// GemmOp.Vjp's two products, into the scratch's arrays.
    override _.VjpInto(xs, g, zs) =
        if not (isNull zs[0]) then GemmOp.PullA(ta, ra, ca, tb, rb, cb, g, xs[1], zs[0])
        if not (isNull zs[1]) then GemmOp.PullB(ta, ra, ca, tb, rb, cb, xs[0], g, zs[1])
    /// y = op(A)·b for a traced vector b and a constant A: J = op(A).
    override _.LinearMap(xs, traced) = if traced = 1 && not tb && cb = 1 then ValueSome(struct (xs[0], ta, ra, ca)) else ValueNone

/// A primitive recorded as a bottom-level `PrimNode` (Solve, Inverse, Cholesky, LogDet, a custom
/// rule, a linear map): its value is `Prim.Eval`, its rules the node's. A custom rule's f, jvp and
/// vjp are the user's delegates, called at each call's values — from several threads at once when
/// the compiled function is (as the eager transforms would).
[<Sealed>]
type internal PrimRule(p: Prim) =
    inherit MatRule(p.Name)
    override _.Residual = true
    override _.Eval(xs, y) =
        let struct (v, res) = p.Eval(Array.map (fun (x: float[]) -> Vec x) xs)
        if v.Length <> y.Length then
            match p with
            | :? CustomPrim ->
                invalidOp (sprintf "%s: f returned %d values at this x but %d where the function was compiled; a custom rule's output length must not depend on x." p.Name v.Length y.Length)
            | _ -> invalidOp (sprintf "Hybrid internal error: %s gave %d values at this point but %d when recorded." p.Name v.Length y.Length)
        Array.blit v 0 y 0 y.Length
        res
    override _.Op(xs, y, res, refs, out) = PrimNode(p, Array.map (fun (x: float[]) -> Vec x) xs, Vec y, res, refs, out) :> VecOp

/// Elementwise f⁽ᵐ⁾(x), m ≥ 1 (`Vec.MapDerivative`: a partial of an inner transform, recorded on the
/// compiled trace): the value from `Derivatives`, the rules `MapOp`'s with the partials f⁽ᵐ⁺¹⁾ and
/// f⁽ᵐ⁺²⁾ at the call's values — the numbers the eager trace records.
[<Sealed>]
type internal MapDerivativeRule(f: Fun1, c: float, m: int, n: int) =
    inherit MatRule(sprintf "%O^(%d)" f m)
    static let view (x: float[]) = { Arr = x; Off = 0; Len = x.Length }
    override _.Residual = false
    override _.Eval(xs, y) =
        Derivatives.unary f c m (view xs[0]) n y
        null
    override _.Op(xs, _, _, refs, out) =
        let d = Array.zeroCreate n
        let d2 = Array.zeroCreate n
        Derivatives.unary f c (m + 1) (view xs[0]) n d
        Derivatives.unary f c (m + 2) (view xs[0]) n d2
        MapOp(refs[0], d, d2, n, out) :> VecOp

/// Elementwise ∂ⁱ⁺ʲf/∂xⁱ∂yʲ(x, y), i + j ≥ 1 (`Vec.ZipDerivative`; a length-1 operand broadcasts):
/// the value from `Derivatives`, the rules `ZipOp`'s with the next orders' partials at the call's values.
[<Sealed>]
type internal ZipDerivativeRule(f: Fun2, i: int, j: int, n: int) =
    inherit MatRule(sprintf "%O^(%d,%d)" f i j)
    static let view (x: float[]) = { Arr = x; Off = 0; Len = x.Length }
    override _.Residual = false
    override _.Eval(xs, y) =
        Derivatives.binary f i j (view xs[0]) (view xs[1]) n y
        null
    override _.Op(xs, _, _, refs, out) =
        let part a b =
            let p = Array.zeroCreate n
            Derivatives.binary f a b (view xs[0]) (view xs[1]) n p
            Partial.Of(view p)
        ZipOp(refs[0], refs[1], part (i + 1) j, part i (j + 1), part (i + 2) j, part (i + 1) (j + 1), part i (j + 2), n, out) :> VecOp

/// An operand of a matrix node: a contiguous range of the graph's slots (First ≥ 0), or constant
/// data copied when recorded (First = −1, its values in Data).
[<Struct>]
type internal MatOperand = { First: int; Length: int; Data: float[] }

/// One thread's scratch for a matrix node: exact-size arrays for the operands' and the output's
/// values (BLAS takes whole arrays), the residual of the last point with the operand values it
/// belongs to, and compact derivative arrays (each traced operand, then the output; Width values
/// per element) that the op's rules read and write through a `Store`.
[<Sealed>]
type internal MatScratch(operands: MatOperand[], outLen: int, total: int, direct: bool) =
    member val Xs: float[][] = operands |> Array.map (fun o -> if o.First < 0 then o.Data else Array.zeroCreate o.Length)
    member val Y: float[] = Array.zeroCreate outLen
    member val Kept: float[][] = operands |> Array.map (fun o -> if o.First < 0 then null else Array.zeroCreate o.Length)
    member val HasRes = false with get, set
    member val Res: obj = null with get, set
    member val Adj: float[] = Array.zeroCreate total
    /// The output's cotangent and each traced operand's adjoint as exact-size arrays (`MatRule.VjpInto`).
    member val G: float[] = if direct then Array.zeroCreate outLen else null
    member val Z: float[][] = operands |> Array.map (fun o -> if o.First < 0 || not direct then null else Array.zeroCreate o.Length)
    member val Tan: float[] = Array.empty with get, set
    member val AdjT: float[] = Array.empty with get, set
    /// The op `MatNode.EdgeJacobian` built, for the `EdgeSecond` that follows it.
    member val EdgeOp: VecOp = Unchecked.defaultof<VecOp> with get, set
    /// Edge pushing's exact-size arrays (BLAS takes whole arrays), made on first use: k×k (EdgeR),
    /// and for a linear node two blocks of `EdgeRows` rows × k (EdgeA, EdgeB: a block of op(M)'s rows
    /// scaled by √D, and by √−D where D < 0), small enough to stay in cache.
    member val EdgeR: float[] = null with get, set
    member val EdgeA: float[] = null with get, set
    member val EdgeB: float[] = null with get, set
    /// A block's row scales (√D), EdgeRows long.
    member val EdgeS: float[] = null with get, set
    member val EdgeRows = 0 with get, set
    member s.EnsureEdge(k: int) =
        if isNull s.EdgeR then s.EdgeR <- Array.zeroCreate (k * k)
    /// The size of EdgeA and EdgeB (doubles) aimed at (settable for benchmarks).
    static member val BlockDoubles = 65536 with get, set
    member s.EnsureEdgeBlocks(rows: int, k: int) =
        if isNull s.EdgeA then
            // about BlockDoubles doubles per block, split evenly over the rows
            let most = max 8 (MatScratch.BlockDoubles / max 1 k)
            let blocks = (rows + most - 1) / most
            let r = (rows + blocks - 1) / blocks
            s.EdgeRows <- r
            s.EdgeA <- Array.zeroCreate (r * k)
            s.EdgeB <- Array.zeroCreate (r * k)
            s.EdgeS <- Array.zeroCreate r
    /// Room for width k in Tan and AdjT.
    member s.Ensure(k: int) =
        if s.Tan.Length < total * k then
            s.Tan <- Array.zeroCreate (total * k)
            s.AdjT <- Array.zeroCreate (total * k)

/// A matrix primitive as one node of a compiled graph: it reads contiguous slot ranges (or constant
/// data, e.g. a design matrix X) and writes the contiguous range [Out, Out + OutLen), and every pass
/// runs it as a piece of its own: the value (one dgemm, or the primitive's LAPACK call), the
/// reverse (its vjp: Xᵀ·ȳ), the tangent (X·ẇ, for w directions at once: a product of X with a
/// d×w block is one dgemm) and the reverse tangent (derived from the vjp rule, `PrimNode.
/// DerivedVjpTangent`). Each pass copies the slots it reads into compact arrays, instantiates the
/// eager op at the point's values (`MatRule.Op`) and calls that op's rule, then adds what the rule
/// gives back into the graph's slots — the same sums as the eager sweep (into zeros first, then
/// added: 0 + z is z). A zero output adjoint is a symbolic zero, as on the eager tape.
/// Thread-safe: the scratch is per thread.
[<Sealed; AllowNullLiteral>]
type internal MatNode(rule: MatRule, operands: MatOperand[], out: int, outLen: int) =
    let offsets =
        let o = Array.zeroCreate operands.Length
        let mutable at = 0
        for i in 0 .. operands.Length - 1 do
            o[i] <- at
            if operands[i].First >= 0 then at <- at + operands[i].Length
        o
    let offOut = operands |> Array.sumBy (fun o -> if o.First >= 0 then o.Length else 0)
    let total = offOut + outLen
    let refs = operands |> Array.mapi (fun i o -> if o.First < 0 then VecRef.None else VecRef.Slots(offsets[i], o.Length))
    let outRef = VecRef.Slots(offOut, outLen)
    let stop = operands |> Array.fold (fun e o -> if o.First >= 0 then max e (o.First + o.Length) else e) (out + outLen)
    let scratch = new ThreadLocal<MatScratch>(fun () -> MatScratch(operands, outLen, total, rule.Direct))
    // edge pushing: the distinct traced slots the node reads (ascending) and, per element of the
    // compact operand arrays, its index among them
    let inputs =
        operands |> Array.collect (fun o -> if o.First < 0 then [||] else [| o.First .. o.First + o.Length - 1 |])
        |> Array.distinct |> Array.sort
    // the operand that carries derivatives when only one does (−1: none or several)
    let traced =
        let t = operands |> Array.indexed |> Array.filter (fun (_, o) -> o.First >= 0)
        if t.Length = 1 then fst t[0] else -1
    let columns =
        let c = Array.zeroCreate offOut
        for i in 0 .. operands.Length - 1 do
            let o = operands[i]
            if o.First >= 0 then
                for e in 0 .. o.Length - 1 do c[offsets[i] + e] <- Array.BinarySearch(inputs, o.First + e)
        c
    static let noOps = Collections.Generic.List<int>()

    static let allZero (s: Span<float>) =
        let mutable z = true
        let mutable e = 0
        while z && e < s.Length do
            if s[e] <> 0.0 then z <- false
            e <- e + 1
        z

    /// Node code of a matrix node's output slots (no scalar operands; `Graph.Mats` says which node).
    static member Code = 4s
    member _.Rule = rule
    member _.Operands = operands
    member _.Out = out
    member _.OutLen = outLen
    /// One past the highest slot the node reads or writes.
    member _.End = stop
    /// The node with its slots renumbered (`f` maps each slot; ranges must stay contiguous).
    member _.Remap(f: int -> int) =
        let ops =
            operands |> Array.map (fun o ->
                if o.First < 0 then o
                else
                    let first = f o.First
                    if f (o.First + o.Length - 1) <> first + o.Length - 1 then
                        invalidOp "Hybrid internal error: a matrix node's operand range is no longer contiguous."
                    { o with First = first })
        let o = f out
        if f (out + outLen - 1) <> o + outLen - 1 then invalidOp "Hybrid internal error: a matrix node's output range is no longer contiguous."
        MatNode(rule, ops, o, outLen)

    member private _.Fill(v: Span<float>, sc: MatScratch) =
        for i in 0 .. operands.Length - 1 do
            let o = operands[i]
            if o.First >= 0 then v.Slice(o.First, o.Length).CopyTo(Span<float> sc.Xs[i])

    member private _.Keep(sc: MatScratch, res: obj) =
        if rule.Residual then
            for i in 0 .. operands.Length - 1 do
                if operands[i].First >= 0 then Array.blit sc.Xs[i] 0 sc.Kept[i] 0 operands[i].Length
            sc.Res <- res
            sc.HasRes <- true

    /// The eager op at the values in v (operands and output); the residual is recomputed only when
    /// the operands differ (bitwise) from those of the one kept.
    member private m.Build(v: Span<float>, sc: MatScratch) : VecOp =
        m.Fill(v, sc)
        let res =
            if not rule.Residual then null
            else
                let mutable same = sc.HasRes
                for i in 0 .. operands.Length - 1 do
                    if same && operands[i].First >= 0 then
                        same <- MemoryMarshal.Cast<float, int64>(ReadOnlySpan<float> sc.Xs[i]).SequenceEqual(MemoryMarshal.Cast<float, int64>(ReadOnlySpan<float> sc.Kept[i]))
                if same then sc.Res
                else
                    let r = rule.Eval(sc.Xs, sc.Y)
                    m.Keep(sc, r)
                    r
        v.Slice(out, outLen).CopyTo(Span<float> sc.Y)
        rule.Op(sc.Xs, sc.Y, res, refs, outRef)

    /// Values: v[Out ..] from the operands' values in v.
    member m.Forward(v: Span<float>) =
        let sc = scratch.Value
        m.Fill(v, sc)
        let res = rule.Eval(sc.Xs, sc.Y)
        m.Keep(sc, res)
        ReadOnlySpan<float>(sc.Y).CopyTo(v.Slice(out, outLen))

    /// Adds the vjp of the output's adjoints a[Out ..] into the operands' adjoints: each operand's
    /// adjoint into zeros first (0 + z), then added into the graph's slots. A rule with `VjpInto`
    /// (a product) runs on the scratch's exact-size arrays and allocates nothing.
    member m.Reverse(v: Span<float>, a: Span<float>) =
        if not (allZero (a.Slice(out, outLen))) then
            let sc = scratch.Value
            if rule.Direct then
                m.Fill(v, sc)
                for z in sc.Z do if not (isNull z) then Array.Clear z
                a.Slice(out, outLen).CopyTo(Span<float> sc.G)
                rule.VjpInto(sc.Xs, sc.G, sc.Z)
                for i in 0 .. operands.Length - 1 do
                    let o = operands[i]
                    if o.First >= 0 then
                        let z = sc.Z[i]
                        for e in 0 .. o.Length - 1 do a[o.First + e] <- a[o.First + e] + (0.0 + z[e])
            else
                let op = m.Build(v, sc)
                let adj = sc.Adj
                Array.Clear(adj, 0, offOut)
                a.Slice(out, outLen).CopyTo(Span<float>(adj, offOut, outLen))
                op.Vjp(Store(adj, noOps, false, 1))
                for i in 0 .. operands.Length - 1 do
                    let o = operands[i]
                    if o.First >= 0 then
                        let off = offsets[i]
                        for e in 0 .. o.Length - 1 do a[o.First + e] <- a[o.First + e] + adj[off + e]

    /// Tangents of the output (k directions per slot, s[slot·k + q]) from the operands'.
    member m.Tangent(v: Span<float>, s: Span<float>, k: int) =
        let sc = scratch.Value
        let op = m.Build(v, sc)
        sc.Ensure k
        let tan = sc.Tan
        for i in 0 .. operands.Length - 1 do
            let o = operands[i]
            if o.First >= 0 then s.Slice(o.First * k, o.Length * k).CopyTo(Span<float>(tan, offsets[i] * k, o.Length * k))
        op.Jvp(Store(tan, noOps, false, k))
        ReadOnlySpan<float>(tan, offOut * k, outLen * k).CopyTo(s.Slice(out * k, outLen * k))

    /// Adds the tangent of the vjp (k directions) into the operands' adjoint tangents at, from the
    /// output's adjoints a (one per slot), tangents s and adjoint tangents at (k per slot).
    member m.ReverseTangent(v: Span<float>, a: Span<float>, s: Span<float>, at: Span<float>, k: int) =
        if not (allZero (a.Slice(out, outLen)) && allZero (at.Slice(out * k, outLen * k))) then
            let sc = scratch.Value
            let op = m.Build(v, sc)
            sc.Ensure k
            let adj = sc.Adj
            let tan = sc.Tan
            let adjT = sc.AdjT
            a.Slice(out, outLen).CopyTo(Span<float>(adj, offOut, outLen))
            for i in 0 .. operands.Length - 1 do
                let o = operands[i]
                if o.First >= 0 then s.Slice(o.First * k, o.Length * k).CopyTo(Span<float>(tan, offsets[i] * k, o.Length * k))
            s.Slice(out * k, outLen * k).CopyTo(Span<float>(tan, offOut * k, outLen * k))
            Array.Clear(adjT, 0, offOut * k)
            at.Slice(out * k, outLen * k).CopyTo(Span<float>(adjT, offOut * k, outLen * k))
            op.VjpTangent(Store(adj, noOps, false, 1), Store(tan, noOps, false, k), Store(adjT, noOps, false, k))
            for i in 0 .. operands.Length - 1 do
                let o = operands[i]
                if o.First >= 0 then
                    let off = offsets[i] * k
                    let f = o.First * k
                    for e in 0 .. o.Length * k - 1 do at[f + e] <- at[f + e] + adjT[off + e]

    /// The distinct traced slots the node reads, ascending (the columns of `EdgeJacobian`).
    member _.Inputs = inputs
    /// Doubles of scratch `EdgeJacobian` takes per direction (operand and output elements).
    member _.Elements = total

    /// For edge pushing (EdgePush.fs): the node's Jacobian J = ∂out/∂inputs at the values in v, by
    /// the op's own tangent rule with the identity over `Inputs` (k = Inputs.Length directions: one
    /// dgemm for a product). Returns (tan, adjT, off, k): J's row o (output element o) at
    /// tan[(off + o)·k ..] (k values), and adjT, whose rows off + o the caller fills with the
    /// matrix B = W_out,out·J before calling `EdgeSecond`.
    member m.EdgeJacobian(v: Span<float>) : struct (float[] * float[] * int * int) =
        let sc = scratch.Value
        let op = m.Build(v, sc)
        let k = inputs.Length
        sc.Ensure k
        let tan = sc.Tan
        Array.Clear(tan, 0, offOut * k)
        for e in 0 .. offOut - 1 do tan[e * k + columns[e]] <- 1.0
        match (if traced >= 0 then rule.LinearMap(sc.Xs, traced) else ValueNone) with
        | ValueSome(struct (mv, tm, rm, cm)) ->
            // J = op(M) copied into the layout (rows of op(M)), not the product op(M)·I
            let rows = if tm then cm else rm
            if tm then Array.Copy(mv, 0, tan, offOut * k, rows * k)
            else
                for c in 0 .. k - 1 do
                    for o in 0 .. rows - 1 do tan[(offOut + o) * k + c] <- mv[c * rm + o]
        | ValueNone -> op.Jvp(Store(tan, noOps, false, k))
        sc.EdgeOp <- op
        struct (tan, sc.AdjT, offOut, k)

    /// For edge pushing, at the values in v: y = op(M)·x when the node is linear in its one traced
    /// operand, a vector whose slots are `Inputs` in order (`MatRule.LinearMap`), with the scratch
    /// holding a k×k array and two blocks of rows (`MatScratch.EnsureEdgeBlocks`): (M, transposed,
    /// rows, columns stored, scratch); ValueNone otherwise.
    member m.EdgeLinear(v: Span<float>) : struct (float[] * bool * int * int * MatScratch) voption =
        if traced < 0 then ValueNone
        else
            let sc = scratch.Value
            m.Fill(v, sc)
            match rule.LinearMap(sc.Xs, traced) with
            | ValueSome(struct (mv, tm, rm, cm)) ->
                sc.EnsureEdge inputs.Length
                sc.EnsureEdgeBlocks(outLen, inputs.Length)
                ValueSome(struct (mv, tm, rm, cm, sc))
            | ValueNone -> ValueNone

    /// After `EdgeJacobian` and the caller's B: r (k×k, r[c·k + q], returned) ← Jᵀ·B + Σₒ āₒ ∇²φₒ, the node's
    /// contribution to W over its inputs, by the op's own reverse-tangent rule (the tangent of its
    /// vjp along the identity, with the output adjoints ā = a[Out ..] and adjoint tangents B): the
    /// second-order rule the block passes use, for k directions at once. Symmetric up to rounding.
    member _.EdgeSecond(a: Span<float>) : float[] =
        let sc = scratch.Value
        sc.EnsureEdge inputs.Length
        let r = sc.EdgeR
        let op = sc.EdgeOp
        sc.EdgeOp <- Unchecked.defaultof<VecOp>
        let k = inputs.Length
        let adj = sc.Adj
        let adjT = sc.AdjT
        a.Slice(out, outLen).CopyTo(Span<float>(adj, offOut, outLen))
        Array.Clear(adjT, 0, offOut * k)
        op.VjpTangent(Store(adj, noOps, false, 1), Store(sc.Tan, noOps, false, k), Store(adjT, noOps, false, k))
        Array.Clear(r, 0, k * k)
        for e in 0 .. offOut - 1 do
            let c = columns[e] * k
            let o = e * k
            for q in 0 .. k - 1 do r[c + q] <- r[c + q] + adjT[o + q]
        r

    // the passes over the workspace's pinned arrays, from the addresses a compiled pass gets
    static member private At(p: nativeint, length: int) = Span<float>(NativePtr.toVoidPtr (NativePtr.ofNativeInt<float> p), length)
    member m.ForwardAt(pv: nativeint) = m.Forward(MatNode.At(pv, stop))
    member m.ReverseAt(pv: nativeint, pa: nativeint) = m.Reverse(MatNode.At(pv, stop), MatNode.At(pa, stop))
    member m.TangentAt(pv: nativeint, ps: nativeint) = m.Tangent(MatNode.At(pv, stop), MatNode.At(ps, stop), 1)
    member m.ReverseTangentAt(pv: nativeint, pa: nativeint, ps: nativeint, pat: nativeint) =
        m.ReverseTangent(MatNode.At(pv, stop), MatNode.At(pa, stop), MatNode.At(ps, stop), MatNode.At(pat, stop), 1)

/// The matrix nodes of a graph as pieces of its passes.
module internal MatNodes =

    /// The eager op's rule to compile op with, its operand refs on the recording trace and the
    /// constant operands' values (copied: the compiled function must not read memory the caller
    /// may change later), or None when the compiler cannot keep op as a node.
    let ofOp (op: VecOp) : struct (MatRule * VecRef[] * float[][]) voption =
        match op with
        | :? GemmOp as g ->
            let struct (a, av, ta, ra, ca, b, bv, tb, rb, cb) = g.Factors
            ValueSome(struct (GemmRule(ta, ra, ca, tb, rb, cb) :> MatRule, [| a; b |],
                              [| (if a.IsNone then Array.copy av else null); (if b.IsNone then Array.copy bv else null) |]))
        | :? PrimNode as p ->
            match p.Prim with
            // the matrix primitives, and the opaque ones: a user rule (f called on the primal values,
            // the user's jvp / vjp for the passes) and a linear map (a recorded pullback or
            // linearisation applied to a traced vector) — each calls its own code at every point
            | :? SolvePrim | :? CholeskyPrim | :? LogDetPrim | :? CustomPrim | :? LinearPrim ->
                ValueSome(struct (PrimRule p.Prim :> MatRule, p.Refs,
                                  p.Refs |> Array.mapi (fun i r -> if r.IsNone then p.Inputs[i].ToArray() else null)))
            | _ -> ValueNone
        | _ -> ValueNone

    /// The rule of a logged derivative map or zip (`IrLog.MapDerivative`, `ZipDerivative`), its
    /// operand refs and constant operands' values.
    let ofDerivative (v: IrVec) : struct (MatRule * VecRef[] * float[][]) =
        if v.Kind = IrVecKind.MapDerivative then
            struct (MapDerivativeRule(enum<Fun1>(int v.Rule), v.C, v.Nnz, v.N) :> MatRule, [| v.X |], [| null |])
        else
            struct (ZipDerivativeRule(enum<Fun2>(int v.Rule), v.Nnz, int v.C, v.N) :> MatRule, [| v.X; v.Y |], [| v.XK; v.YK |])

    /// [first, last] cut at the output ranges of the nodes (sorted by Out) inside it: the scalar
    /// ranges and the nodes, in order.
    let split (mats: MatNode[]) (first: int) (last: int) : Choice<struct (int * int), MatNode>[] =
        if mats.Length = 0 then [| Choice1Of2(struct (first, last)) |]
        else
            let r = ResizeArray()
            let mutable s = first
            for m in mats do
                if m.Out >= first && m.Out <= last then
                    if m.Out > s then r.Add(Choice1Of2(struct (s, m.Out - 1)))
                    r.Add(Choice2Of2 m)
                    s <- m.Out + m.OutLen
            if s <= last then r.Add(Choice1Of2(struct (s, last)))
            r.ToArray()

    /// Output slots of all the nodes.
    let slots (mats: MatNode[]) = mats |> Array.sumBy (fun m -> m.OutLen)
