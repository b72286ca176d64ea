namespace Hybrid.Kernel

open System
open System.Runtime.InteropServices
open System.Runtime.Intrinsics

/// A sparse symmetric matrix W over the slots of a graph, for edge pushing: the diagonal dense (one
/// double per slot), each off-diagonal entry {r, c} (r > c) stored once, in the list of its larger
/// slot r — the row that the reverse sweep eliminates first — and found by an open-addressing hash
/// of (r, c). Flat arrays, grown on demand and reused across calls: no allocation per call once
/// warm. Entries are never deleted: a row is dead once its slot is eliminated (every later key has
/// a smaller larger slot), and `Reset` clears only the hash cells the entries used.
[<Sealed; AllowNullLiteral>]
type internal EdgeStore() =
    let mutable diag: float[] = Array.empty
    let mutable head: int[] = Array.empty
    let mutable row: int[] = Array.zeroCreate 256
    let mutable col: int[] = Array.zeroCreate 256
    let mutable value: float[] = Array.zeroCreate 256
    let mutable next: int[] = Array.zeroCreate 256
    let mutable cell: int[] = Array.zeroCreate 256
    let mutable count = 0
    // entry index + 1 per cell (0: empty); length a power of two, at most half full
    let mutable table: int[] = Array.zeroCreate 1024
    let mutable shift = 64 - 10
    let mutable ops = 0L

    static member inline private Hash(r: int, c: int, shift: int) =
        int ((uint64 ((int64 r <<< 32) ||| int64 (uint32 c)) * 0x9E3779B97F4A7C15UL) >>> shift)

    member private _.Grow() =
        let n = 2 * row.Length
        let grow (a: 'a[]) = (let b = Array.zeroCreate n in Array.Copy(a, b, count); b)
        row <- grow row
        col <- grow col
        value <- grow value
        next <- grow next
        cell <- grow cell
        if 2 * n > table.Length then
            table <- Array.zeroCreate (2 * n)
            shift <- 64 - Numerics.BitOperations.Log2(uint32 table.Length)
            let mask = table.Length - 1
            for e in 0 .. count - 1 do
                let mutable h = EdgeStore.Hash(row[e], col[e], shift)
                while table[h] <> 0 do h <- (h + 1) &&& mask
                table[h] <- e + 1
                cell[e] <- h

    /// Empty, with room for `slots` slots.
    member _.Reset(slots: int) =
        if diag.Length < slots then
            diag <- Array.zeroCreate slots
            head <- Array.zeroCreate slots
        Array.Clear(diag, 0, slots)
        Array.Fill(head, -1, 0, slots)
        for e in 0 .. count - 1 do table[cell[e]] <- 0
        count <- 0
        ops <- 0L

    /// Entry updates so far (the work measure `EdgePush.hessian` caps).
    member _.Ops = ops
    /// Takes u updates off the count (work that is not W's fill: a matrix node's result).
    member _.Uncount(u: int64) = ops <- ops - u
    /// W(s, s).
    member _.Diag(s: int) = diag[s]
    /// The diagonal itself (at least as long as the slots), for reading a range at once.
    member _.Diagonal = diag
    /// W(s, s) += x.
    member _.AddDiag(s: int, x: float) = diag[s] <- diag[s] + x
    /// The first off-diagonal entry of row s (entries {s, c}, c < s), −1: none.
    member _.Head(s: int) = head[s]
    member _.Next(e: int) = next[e]
    member _.Col(e: int) = col[e]
    member _.Value(e: int) = value[e]

    /// W{p, q} += x for p ≠ q (the entry is both (p, q) and (q, p)).
    member s.Add(p: int, q: int, x: float) =
        ops <- ops + 1L
        let r = max p q
        let c = min p q
        let mask = table.Length - 1
        let mutable h = EdgeStore.Hash(r, c, shift)
        let mutable t = table[h]
        while t <> 0 && (row[t - 1] <> r || col[t - 1] <> c) do
            h <- (h + 1) &&& mask
            t <- table[h]
        if t <> 0 then value[t - 1] <- value[t - 1] + x
        else
            if count = row.Length then
                s.Grow()
                // the table may have been rebuilt: find the empty cell again
                let mask = table.Length - 1
                h <- EdgeStore.Hash(r, c, shift)
                while table[h] <> 0 do h <- (h + 1) &&& mask
            let e = count
            row[e] <- r
            col[e] <- c
            value[e] <- x
            next[e] <- head[r]
            head[r] <- e
            cell[e] <- h
            table[h] <- e + 1
            count <- e + 1

    /// The pair term x·(e_p e_qᵀ + e_q e_pᵀ): W{p, q} += x, or W(p, p) += 2x when p = q.
    member s.AddPair(p: int, q: int, x: float) =
        if p = q then diag[p] <- diag[p] + 2.0 * x else s.Add(p, q, x)

/// The dense Hessian by edge pushing (Gower & Mello, "A new framework for the computation of
/// Hessians", 2012; ADOL-C's `edge_hess`): one reverse sweep over the graph carrying a sparse
/// symmetric W over the live slots (`EdgeStore`), beside the adjoints ā of the kept sweep. Node
/// i = φ(j, k), last to first:
///  1. push: each off-diagonal W{i, p} adds ∂φ/∂j·W{i, p} into the pair {j, p} (twice on the
///     diagonal when p = j), likewise for k; W(i, i) adds (∂φ/∂j)²W(i, i) to W(j, j),
///     ∂φ/∂j·∂φ/∂k·W(i, i) to W{j, k} and (∂φ/∂k)²W(i, i) to W(k, k) ((∂φ/∂j + ∂φ/∂k)² when j = k);
///  2. create: āᵢ·∇²φ — āᵢH00 to W(j, j), āᵢH01 to W{j, k}, āᵢH11 to W(k, k) (j = k: their sum, H01 twice);
///  3. row i is dead.
/// At the end W over the input slots is the Hessian — the same products as the block passes' H·eⱼ,
/// summed in another order (so entries agree with them to rounding), and exactly symmetric: each
/// pair is one stored number. The work is the number of W's entry updates, not n passes over the
/// graph: a tridiagonal Hessian costs O(nodes).
///
/// A matrix node (inputs the slots `MatNode.Inputs`, k of them; outputs `out`) is eliminated at
/// once: with J its k-column Jacobian (`MatNode.EdgeJacobian`), W over its inputs gains
/// Jᵀ·W_out,out·J + Σₒ āₒ∇²φₒ (`EdgeSecond`: the op's reverse-tangent rule along the identity with
/// adjoint tangents B = W_out,out·J, sparse times dense) and each pair {input c, p} with p outside
/// gains Σₒ J[o, c]·W{o, p}. A linear node y = op(M)·x with M data (`MatRule.LinearMap`) whose W
/// over y is diagonal skips J and the rule: op(M)ᵀ·D·op(M) by blocks of scaled rows, one dgemm each —
/// for the logistic loss Xᵀ·(DX), the hand-written Newton's. Symbolic zeros as on the tape: a zero adjoint
/// creates nothing, a zero entry pushes nothing; a constant operand slot (a data block) takes nothing.
module internal EdgePush =

    /// True when every matrix node of g is small enough to eliminate at once: at most `maxInputs`
    /// inputs (else the block passes, which push only the n input directions through it, do less)
    /// and its Jacobian within 8·10⁶ doubles.
    let fits (g: Graph) (maxInputs: int) =
        g.Mats |> Array.forall (fun m -> m.Inputs.Length <= maxInputs && int64 m.Elements * int64 m.Inputs.Length <= 8_000_000L)

    /// A k×k block r added into W over the inputs: its diagonal, and one number per pair c > q
    /// (`pair c q`), so W stays exactly symmetric.
    let inline private addBlock (st: EdgeStore) (inputs: int[]) (r: float[]) (k: int) ([<InlineIfLambda>] pair: int -> int -> float) =
        let before = st.Ops
        for c in 0 .. k - 1 do
            let sc = inputs[c]
            let x = r[c * k + c]
            if x <> 0.0 then st.AddDiag(sc, x)
            for q in 0 .. c - 1 do
                let x = pair c q
                if x <> 0.0 then st.Add(sc, inputs[q], x)
        st.Uncount(st.Ops - before)

    /// r (k×k) added into W over the inputs: the diagonal, and the mean of r[c, q] and r[q, c]
    /// (equal but for rounding) for each pair.
    let private addInputs (st: EdgeStore) (inputs: int[]) (r: float[]) (k: int) =
        addBlock st inputs r k (fun c q -> 0.5 * (r[c * k + q] + r[q * k + c]))

    /// y[o] ← d[o]·x[o] (equal lengths), in Vector256 lanes.
    let private scale (d: ReadOnlySpan<float>) (x: ReadOnlySpan<float>) (y: Span<float>) =
        let n = y.Length
        let mutable o = 0
        if Vector256.IsHardwareAccelerated then
            let dv = MemoryMarshal.Cast<float, Vector256<float>> d
            let xv = MemoryMarshal.Cast<float, Vector256<float>> x
            let yv = MemoryMarshal.Cast<float, Vector256<float>> y
            for q in 0 .. yv.Length - 1 do yv[q] <- dv[q] * xv[q]
            o <- yv.Length * Vector256<float>.Count
        while o < n do
            y[o] <- d[o] * x[o]
            o <- o + 1

    /// r's lower triangle (k×k, r[c·k + q] for q ≥ c: a symmetric rank-k update's) added into W
    /// over the inputs: each pair is one number, so W stays exactly symmetric.
    let private addLower (st: EdgeStore) (inputs: int[]) (r: float[]) (k: int) =
        addBlock st inputs r k (fun c q -> r[q * k + c])

    /// dst[c·block + o] ← s[sOff + o]·op(M)[first + o, c] for o < count and every column c of op(M)
    /// (stored rm rows, transposed when tm).
    let private fillBlock (mv: float[]) (tm: bool) (rm: int) (k: int) (block: int) (dst: float[]) (s: float[]) (sOff: int) (first: int) (count: int) =
        for c in 0 .. k - 1 do
            let o0 = c * block
            if tm then
                for o in 0 .. count - 1 do dst[o0 + o] <- s[sOff + o] * mv[(first + o) * rm + c]
            else scale (ReadOnlySpan<float>(s, sOff, count)) (ReadOnlySpan<float>(mv, c * rm + first, count)) (Span<float>(dst, o0, count))

    /// A linear node y = op(M)·x (no second-order term) whose W over the output is diagonal (D):
    /// the cross pairs from op(M)'s rows, and op(M)ᵀ·D·op(M) — the hand-written Newton's XᵀDX — by
    /// blocks of rows, each block of op(M) copied once into the scratch's cache-sized array scaled
    /// by √D (B = √D·A), and r += BᵀB by a symmetric rank-k update (`Dense.syrkLower`: dsyrk, half
    /// the flops of the dgemm AᵀB, one copy of the block instead of two). Rows with D < 0 go into a
    /// second array scaled by √−D and are subtracted (r −= B₋ᵀB₋); rows with D = 0 add nothing. A
    /// block with a non-finite D takes the general product AᵀB (A the rows, B the rows scaled by D:
    /// one dgemm, NaN and ±∞ spread as the block passes spread them). M is read once, no rows×k array
    /// is made. Only r's lower triangle is read.
    let private pushLinear (m: MatNode) (mv: float[]) (tm: bool) (rm: int) (sc: MatScratch) (st: EdgeStore) =
        let out = m.Out
        let rows = m.OutLen
        let inputs = m.Inputs
        let k = inputs.Length
        let inline at (o: int) (c: int) = if tm then mv[o * rm + c] else mv[c * rm + o]
        let mutable any = false
        for o in 0 .. rows - 1 do
            if st.Diag(out + o) <> 0.0 then any <- true
            let mutable e = st.Head(out + o)
            while e >= 0 do
                let w = st.Value e
                if w <> 0.0 then
                    let p = st.Col e
                    for c in 0 .. k - 1 do
                        let j = at o c
                        if j <> 0.0 then st.AddPair(inputs[c], p, j * w)
                e <- st.Next e
        if any then
            let r = sc.EdgeR
            let a = sc.EdgeA
            let b = sc.EdgeB
            let sq = sc.EdgeS
            let block = sc.EdgeRows
            Array.Clear(r, 0, k * k)
            let fill (dst: float[]) (s: float[]) (sOff: int) (first: int) (count: int) = fillBlock mv tm rm k block dst s sOff first count
            let mutable first = 0
            while first < rows do
                let count = min block (rows - first)
                let d = ReadOnlySpan<float>(st.Diagonal, out + first, count)
                let mutable negative = false
                let mutable finite = true
                for o in 0 .. count - 1 do
                    let x = d[o]
                    if not (Double.IsFinite x) then finite <- false
                    elif x < 0.0 then negative <- true
                if finite then
                    for o in 0 .. count - 1 do sq[o] <- Math.Sqrt(max d[o] 0.0)
                    fill a sq 0 first count
                    Dense.syrkLower 1.0 a block count k r
                    if negative then
                        for o in 0 .. count - 1 do sq[o] <- Math.Sqrt(max -d[o] 0.0)
                        fill b sq 0 first count
                        Dense.syrkLower -1.0 b block count k r
                else
                    // the general product: A the rows, B the rows scaled by D (zero rows padding the last block)
                    if count < block then
                        Array.Clear(a)
                        Array.Clear(b)
                    for o in 0 .. count - 1 do sq[o] <- 1.0
                    fill a sq 0 first count
                    fill b st.Diagonal (out + first) first count
                    Dense.gemm true a block k false b block k 1.0 r
                first <- first + count
            addLower st inputs r k

    let private pushMat (m: MatNode) (v: float[]) (a: float[]) (st: EdgeStore) =
        let out = m.Out
        let last = out + m.OutLen - 1
        let mutable live = false
        // W over the output diagonal (no pair of two output slots)
        let mutable diagonal = true
        for o in out .. last do
            if a[o] <> 0.0 || st.Diag o <> 0.0 || st.Head o >= 0 then live <- true
            let mutable e = st.Head o
            while e >= 0 do
                if st.Col e >= out then diagonal <- false
                e <- st.Next e
        if live && m.Inputs.Length > 0 then
            match (if diagonal then m.EdgeLinear(Span v) else ValueNone) with
            | ValueSome(struct (mv, tm, rm, _, sc)) -> pushLinear m mv tm rm sc st
            | ValueNone ->
            let struct (tan, b, off, k) = m.EdgeJacobian(Span v)
            let inputs = m.Inputs
            // B = W_out,out·J into b's output rows; the cross pairs {input c, p}, p < Out, directly
            for o in out .. last do
                let bo = (off + o - out) * k
                let d = st.Diag o
                for c in 0 .. k - 1 do b[bo + c] <- d * tan[bo + c]
            for o in out .. last do
                let jo = (off + o - out) * k
                let mutable e = st.Head o
                while e >= 0 do
                    let p = st.Col e
                    let w = st.Value e
                    if w <> 0.0 then
                        if p >= out then
                            // W{o, p} inside the output: both (o, p) and (p, o)
                            let bp = (off + p - out) * k
                            for c in 0 .. k - 1 do
                                b[jo + c] <- b[jo + c] + w * tan[bp + c]
                                b[bp + c] <- b[bp + c] + w * tan[jo + c]
                        else
                            for c in 0 .. k - 1 do
                                let jc = tan[jo + c]
                                if jc <> 0.0 then st.AddPair(inputs[c], p, jc * w)
                    e <- st.Next e
            addInputs st inputs (m.EdgeSecond(Span a)) k

    /// Eliminates nodes last … first (no matrix node among them); false when the entry updates
    /// pass `cap` (the caller then takes the block passes).
    let private pushRange (g: Graph) (a: float[]) (d0: float[]) (d1: float[]) (h00: float[]) (h01: float[]) (h11: float[])
                          (st: EdgeStore) (cap: int64) (first: int) (last: int) =
        let a0 = g.A0
        let a1 = g.A1
        let code = g.Code
        let mutable i = last
        while i >= first && st.Ops <= cap do
            // a constant operand (a data block's slot) takes no derivative: as a constant in the node
            let j = let j = a0[i] in if j >= 0 && code[j] = IrLog.ConstantCode then -1 else j
            let k = let k = a1[i] in if k >= 0 && code[k] = IrLog.ConstantCode then -1 else k
            if j >= 0 || k >= 0 then
                let dj = d0[i]
                let dk = d1[i]
                // 1. push row i
                let mutable e = st.Head i
                while e >= 0 do
                    let w = st.Value e
                    if w <> 0.0 then
                        let p = st.Col e
                        if j >= 0 then st.AddPair(j, p, dj * w)
                        if k >= 0 then st.AddPair(k, p, dk * w)
                    e <- st.Next e
                let w = st.Diag i
                if w <> 0.0 then
                    if j >= 0 && k >= 0 then
                        if j = k then
                            let d = dj + dk
                            st.AddDiag(j, d * d * w)
                        else
                            st.AddDiag(j, dj * dj * w)
                            st.Add(j, k, dj * dk * w)
                            st.AddDiag(k, dk * dk * w)
                    elif j >= 0 then st.AddDiag(j, dj * dj * w)
                    else st.AddDiag(k, dk * dk * w)
                // 2. create āᵢ∇²φ
                let ai = a[i]
                if ai <> 0.0 then
                    if j >= 0 && k >= 0 then
                        if j = k then
                            let x = ai * (h00[i] + 2.0 * h01[i] + h11[i])
                            if x <> 0.0 then st.AddDiag(j, x)
                        else
                            if h00[i] <> 0.0 then st.AddDiag(j, ai * h00[i])
                            if h01[i] <> 0.0 then st.Add(j, k, ai * h01[i])
                            if h11[i] <> 0.0 then st.AddDiag(k, ai * h11[i])
                    elif j >= 0 then (if h00[i] <> 0.0 then st.AddDiag(j, ai * h00[i]))
                    elif h11[i] <> 0.0 then st.AddDiag(k, ai * h11[i])
            i <- i - 1
        i < first

    /// True when every node's first and second partials are finite. (Where one is not, the eager
    /// tape's tangents carry NaN into every entry they reach — 0·NaN is NaN — while edge pushing
    /// would confine it to the pairs it touches: the caller takes the block passes, eager's result.)
    let finite (g: Graph) (d0: float[]) (d1: float[]) (h00: float[]) (h01: float[]) (h11: float[]) =
        let a0 = g.A0
        let a1 = g.A1
        let mutable ok = true
        let mutable i = g.N
        while ok && i < g.Count do
            if a0[i] >= 0 || a1[i] >= 0 then
                // x − x is 0 for a finite x, NaN for ±∞ and NaN
                let s = (d0[i] - d0[i]) + (d1[i] - d1[i]) + (h00[i] - h00[i]) + (h01[i] - h01[i]) + (h11[i] - h11[i])
                ok <- s = 0.0
            i <- i + 1
        ok

    /// The n×n Hessian (column-major) of g's output at the point whose values v, adjoints a (every
    /// node's, `sweep … true`) and first and second partials (all finite: `finite`) are given, into
    /// h; false (h unspecified) when W's entry updates pass `cap`.
    let hessian (g: Graph) (v: float[]) (a: float[]) (d0: float[]) (d1: float[]) (h00: float[]) (h01: float[]) (h11: float[])
                (st: EdgeStore) (cap: int64) (h: Span<float>) : bool =
        let n = g.N
        st.Reset g.Count
        let ps = g.Pieces
        let mutable ok = true
        let mutable q = ps.Length - 1
        while ok && q >= 0 do
            match ps[q] with
            | Choice1Of2(struct (first, last)) -> ok <- pushRange g a d0 d1 h00 h01 h11 st cap first last
            | Choice2Of2 m ->
                pushMat m v a st
                ok <- st.Ops <= cap
            q <- q - 1
        if ok then
            h.Slice(0, n * n).Clear()
            for i in 0 .. n - 1 do
                h[i + i * n] <- st.Diag i
                let mutable e = st.Head i
                while e >= 0 do
                    let c = st.Col e
                    let x = st.Value e
                    h[i + c * n] <- x
                    h[c + i * n] <- x
                    e <- st.Next e
        ok
