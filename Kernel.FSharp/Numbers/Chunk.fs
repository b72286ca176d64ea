namespace Hybrid.Kernel

open System

/// Seeding and reading chunked duals (`DualN<'P>`, k = 'P.Count tangents): forward mode over n inputs
/// in ⌈n/k⌉ passes. Pass p seeds inputs pk … pk+k−1 with the unit tangents e₀ … e_{k−1} and the
/// other inputs as constants; slot j of an output is then ∂out/∂x_{pk+j}.
[<AbstractClass; Sealed>]
type Chunk =

    /// ⌈n/k⌉, the number of passes over n inputs.
    static member Passes<'P when 'P: struct and 'P :> IPartials<'P>>(n: int) = (n + 'P.Count - 1) / 'P.Count

    /// dest[i] = x[i] + e_{i−start}·ε for start ≤ i &lt; start + k, and the constant x[i] otherwise.
    static member Seed<'P when 'P: struct and 'P :> IPartials<'P>>(x: ReadOnlySpan<float>, start: int, dest: Span<DualN<'P>>) =
        if dest.Length <> x.Length then
            raise (ArgumentException(sprintf "Chunk.Seed: dest has length %d but x has length %d; they must match." dest.Length x.Length, "dest"))
        for i in 0 .. x.Length - 1 do
            dest[i] <- DualN<'P>.Seed(x[i], i - start)

    /// dest[start + j] ← y's tangent j, for the slots that fall inside dest (the last chunk may be partial).
    static member Read<'P when 'P: struct and 'P :> IPartials<'P>>(y: DualN<'P>, start: int, dest: Span<float>) =
        let m = min 'P.Count (dest.Length - start)
        for j in 0 .. m - 1 do
            dest[start + j] <- y.[j]

    /// ∇f(x) of a scalar function in ⌈n/k⌉ forward passes (one input buffer, reused).
    static member Gradient<'P when 'P: struct and 'P :> IPartials<'P>>(f: Func<DualN<'P>[], DualN<'P>>, x: float[]) : float[] =
        if isNull f then raise (ArgumentNullException(nameof f))
        if isNull x then raise (ArgumentNullException(nameof x))
        let buffer = Array.zeroCreate<DualN<'P>> x.Length
        let grad = Array.zeroCreate<float> x.Length
        for p in 0 .. Chunk.Passes<'P> x.Length - 1 do
            let start = p * 'P.Count
            Chunk.Seed<'P>(ReadOnlySpan x, start, Span buffer)
            Chunk.Read<'P>(f.Invoke buffer, start, Span grad)
        grad
