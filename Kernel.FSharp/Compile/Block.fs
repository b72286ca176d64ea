namespace Hybrid.Kernel

open System
open System.Runtime.CompilerServices
open System.Runtime.InteropServices
open System.Runtime.Intrinsics

/// The block passes of the dense Hessian and the forward Jacobian: w directions per slot at once
/// (layout s[slot·w + q], direction q fastest), over the tape of first and second partials, the w
/// lanes of a slot as `Vector256<double>`s (w a multiple of `Lanes`; the lanes past the directions
/// are zero and stay zero). Lane by lane these are `Interpreter.tangentBlock` and
/// `reverseTangentBlock` — the same products and sums in the same order (no fused multiply-add), so
/// the numbers are the same to the last bit; the node-by-node work is paid once per w directions.
/// (A matrix-primitive node would add its own arm here, on the same layout.)
module internal Block =

    /// Doubles per vector.
    let Lanes = Vector256<float>.Count

    /// w rounded up to a multiple of Lanes.
    let padded (w: int) = (w + Lanes - 1) / Lanes * Lanes

    let inline private at (r: byref<Vector256<float>>) (i: int) : byref<Vector256<float>> = &Unsafe.Add(&r, i)

    /// `Interpreter.tangentBlock` on vectors: s holds w (a multiple of Lanes) tangents per slot,
    /// the inputs' seeded.
    let tangent (g: Graph) (s: float[]) (w: int) (d0: float[]) (d1: float[]) =
        let a0 = g.A0
        let a1 = g.A1
        let kv = w / Lanes
        let sv = &MemoryMarshal.GetReference(MemoryMarshal.Cast<float, Vector256<float>>(Span<float>(s, 0, g.Count * w)))
        for i in g.N .. g.Count - 1 do
            let j = a0[i]
            let k = a1[i]
            let o = i * kv
            if j >= 0 && k >= 0 then
                let dj = Vector256.Create d0[i]
                let dk = Vector256.Create d1[i]
                let oj = j * kv
                let ok = k * kv
                for q in 0 .. kv - 1 do
                    at &sv (o + q) <- Vector256.Add(Vector256.Multiply(dj, at &sv (oj + q)), Vector256.Multiply(dk, at &sv (ok + q)))
            elif j >= 0 then
                let dj = Vector256.Create d0[i]
                let oj = j * kv
                for q in 0 .. kv - 1 do at &sv (o + q) <- Vector256.Add(Vector256.Multiply(dj, at &sv (oj + q)), Vector256<float>.Zero)
            elif k >= 0 then
                let dk = Vector256.Create d1[i]
                let ok = k * kv
                for q in 0 .. kv - 1 do at &sv (o + q) <- Vector256.Add(Vector256<float>.Zero, Vector256.Multiply(dk, at &sv (ok + q)))
            else
                for q in 0 .. kv - 1 do at &sv (o + q) <- Vector256<float>.Zero

    /// `Interpreter.reverseTangentBlock` on vectors: a the adjoints, s the tangents and at (zero)
    /// the adjoint tangents, w per slot. Where a node's adjoint is a symbolic zero, a lane adds only
    /// where its adjoint tangent is not zero (as the scalar pass tests lane by lane).
    let reverseTangent (g: Graph) (a: float[]) (s: float[]) (atb: float[]) (w: int)
                       (d0: float[]) (d1: float[]) (h00: float[]) (h01: float[]) (h11: float[]) =
        let a0 = g.A0
        let a1 = g.A1
        let kv = w / Lanes
        let sv = &MemoryMarshal.GetReference(MemoryMarshal.Cast<float, Vector256<float>>(Span<float>(s, 0, g.Count * w)))
        let tv = &MemoryMarshal.GetReference(MemoryMarshal.Cast<float, Vector256<float>>(Span<float>(atb, 0, g.Count * w)))
        let zero = Vector256<float>.Zero
        for i = g.Count - 1 downto g.N do
            let j = a0[i]
            let k = a1[i]
            if j >= 0 || k >= 0 then
                let wi = a[i]
                let vh00 = Vector256.Create(h00[i] * wi)
                let vh01 = Vector256.Create(h01[i] * wi)
                let vh11 = Vector256.Create(h11[i] * wi)
                let dj = Vector256.Create d0[i]
                let dk = Vector256.Create d1[i]
                let o = i * kv
                let oj = j * kv
                let ok = k * kv
                for q in 0 .. kv - 1 do
                    let gt = at &tv (o + q)
                    // the lanes that add: every lane where wi ≠ 0, else those whose gt ≠ 0
                    let live = if wi <> 0.0 then Vector256<float>.AllBitsSet else Vector256.OnesComplement(Vector256.Equals(gt, zero))
                    if Vector256.ExtractMostSignificantBits live <> 0u then
                        if j >= 0 then
                            let cross = if k >= 0 then Vector256.Multiply(vh01, at &sv (ok + q)) else zero
                            let old = at &tv (oj + q)
                            let sum = Vector256.Add(Vector256.Add(Vector256.Add(old, Vector256.Multiply(dj, gt)), Vector256.Multiply(vh00, at &sv (oj + q))), cross)
                            at &tv (oj + q) <- Vector256.ConditionalSelect(live, sum, old)
                        if k >= 0 then
                            let cross = if j >= 0 then Vector256.Multiply(vh01, at &sv (oj + q)) else zero
                            let old = at &tv (ok + q)
                            let sum = Vector256.Add(Vector256.Add(Vector256.Add(old, Vector256.Multiply(dk, gt)), cross), Vector256.Multiply(vh11, at &sv (ok + q)))
                            at &tv (ok + q) <- Vector256.ConditionalSelect(live, sum, old)
