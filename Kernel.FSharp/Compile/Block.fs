namespace Hybrid.Kernel

open System
open System.Runtime.CompilerServices
open System.Runtime.InteropServices
open System.Runtime.Intrinsics

/// The block passes of the dense Hessian and the forward Jacobian: w directions per slot at once
/// (layout s[slot·w + q], direction q fastest), over the tape of first and second partials, the w
/// lanes of a slot as `Vector256<double>`s (w a multiple of `Lanes`; the lanes past the directions
/// are zero and stay zero). Lane by lane these are `Interpreter.tangent` and `reverseTangent` — the
/// same products and sums in the same order (no fused multiply-add), so the numbers are the same to
/// the last bit; the node-by-node work is paid once per w directions.
/// A matrix node is a piece of its own: its rules take the same layout, w directions per slot.
module internal Block =

    /// Doubles per vector.
    let Lanes = Vector256<float>.Count

    /// w rounded up to a multiple of Lanes.
    let padded (w: int) = (w + Lanes - 1) / Lanes * Lanes

    /// The lane vector at element offset i of a (unchecked: the callers stay inside the block).
    let inline private ld (a: float[]) (i: int) = Vector256.LoadUnsafe(&MemoryMarshal.GetArrayDataReference a, unativeint i)
    let inline private st (a: float[]) (i: int) (v: Vector256<float>) = Vector256.StoreUnsafe(v, &MemoryMarshal.GetArrayDataReference a, unativeint i)

    let private tangentRange (g: Graph) (s: float[]) (w: int) (d0: float[]) (d1: float[]) (first: int) (last: int) =
        let a0 = g.A0
        let a1 = g.A1
        for i in first .. last do
            let j = a0[i]
            let k = a1[i]
            let o = i * w
            if j >= 0 && k >= 0 then
                let dj = Vector256.Create d0[i]
                let dk = Vector256.Create d1[i]
                let oj = j * w
                let ok = k * w
                for q in 0 .. Lanes .. w - 1 do
                    st s (o + q) (Vector256.Add(Vector256.Multiply(dj, ld s (oj + q)), Vector256.Multiply(dk, ld s (ok + q))))
            elif j >= 0 then
                let dj = Vector256.Create d0[i]
                let oj = j * w
                for q in 0 .. Lanes .. w - 1 do st s (o + q) (Vector256.Add(Vector256.Multiply(dj, ld s (oj + q)), Vector256<float>.Zero))
            elif k >= 0 then
                let dk = Vector256.Create d1[i]
                let ok = k * w
                for q in 0 .. Lanes .. w - 1 do st s (o + q) (Vector256.Add(Vector256<float>.Zero, Vector256.Multiply(dk, ld s (ok + q))))
            else
                for q in 0 .. Lanes .. w - 1 do st s (o + q) Vector256<float>.Zero

    /// `Interpreter.tangent` for w directions on vectors: s holds w (a multiple of Lanes) tangents per slot,
    /// the inputs' seeded; v the values (a matrix node's rules read them).
    let tangent (g: Graph) (v: float[]) (s: float[]) (w: int) (d0: float[]) (d1: float[]) =
        if s.Length < g.Count * w then invalidArg (nameof s) "Hybrid internal error: a block shorter than the graph"
        for p in g.Pieces do
            match p with
            | Choice1Of2(struct (first, last)) -> tangentRange g s w d0 d1 first last
            | Choice2Of2 m -> m.Tangent(Span v, Span s, w)

    let private reverseTangentRange (g: Graph) (a: float[]) (s: float[]) (at: float[]) (w: int)
                                    (d0: float[]) (d1: float[]) (h00: float[]) (h01: float[]) (h11: float[]) (first: int) (last: int) =
        let a0 = g.A0
        let a1 = g.A1
        let zero = Vector256<float>.Zero
        for i = last downto first do
            let j = a0[i]
            let k = a1[i]
            if j >= 0 || k >= 0 then
                let wi = a[i]
                let vh00 = Vector256.Create(h00[i] * wi)
                let vh01 = Vector256.Create(h01[i] * wi)
                let vh11 = Vector256.Create(h11[i] * wi)
                let dj = Vector256.Create d0[i]
                let dk = Vector256.Create d1[i]
                let o = i * w
                let oj = j * w
                let ok = k * w
                // lanes q.. of operand j's (k's) adjoint tangent: + d·gt + h·s + cross, in the scalar order
                let toJ (q: int) (gt: Vector256<float>) =
                    let cross = if k >= 0 then Vector256.Multiply(vh01, ld s (ok + q)) else zero
                    Vector256.Add(Vector256.Add(Vector256.Add(ld at (oj + q), Vector256.Multiply(dj, gt)), Vector256.Multiply(vh00, ld s (oj + q))), cross)
                let toK (q: int) (gt: Vector256<float>) =
                    let cross = if j >= 0 then Vector256.Multiply(vh01, ld s (oj + q)) else zero
                    Vector256.Add(Vector256.Add(Vector256.Add(ld at (ok + q), Vector256.Multiply(dk, gt)), cross), Vector256.Multiply(vh11, ld s (ok + q)))
                if wi <> 0.0 then
                    for q in 0 .. Lanes .. w - 1 do
                        let gt = ld at (o + q)
                        if j >= 0 then st at (oj + q) (toJ q gt)
                        if k >= 0 then st at (ok + q) (toK q gt)
                else
                    // a symbolic-zero adjoint: only the lanes whose gt ≠ 0 add
                    for q in 0 .. Lanes .. w - 1 do
                        let gt = ld at (o + q)
                        let live = Vector256.OnesComplement(Vector256.Equals(gt, zero))
                        if Vector256.ExtractMostSignificantBits live <> 0u then
                            if j >= 0 then st at (oj + q) (Vector256.ConditionalSelect(live, toJ q gt, ld at (oj + q)))
                            if k >= 0 then st at (ok + q) (Vector256.ConditionalSelect(live, toK q gt, ld at (ok + q)))

    /// `Interpreter.reverseTangent` for w directions on vectors: a the adjoints, s the tangents and at (zero)
    /// the adjoint tangents, w per slot. Where a node's adjoint is a symbolic zero, a lane adds only
    /// where its adjoint tangent is not zero (as the scalar pass tests lane by lane).
    let reverseTangent (g: Graph) (v: float[]) (a: float[]) (s: float[]) (at: float[]) (w: int)
                       (d0: float[]) (d1: float[]) (h00: float[]) (h01: float[]) (h11: float[]) =
        if s.Length < g.Count * w || at.Length < g.Count * w then invalidArg (nameof s) "Hybrid internal error: a block shorter than the graph"
        let ps = g.Pieces
        for q = ps.Length - 1 downto 0 do
            match ps[q] with
            | Choice1Of2(struct (first, last)) -> reverseTangentRange g a s at w d0 d1 h00 h01 h11 first last
            | Choice2Of2 m -> m.ReverseTangent(Span v, Span a, Span s, Span at, w)
