using Hybrid.Kernel;

namespace Hybrid;

/// <summary>
/// What <see cref="Fn.Vjp(Func{Vec, Vec}, Vec)"/> returns: the function's value and its pullback
/// <c>u ↦ uᵀJ</c>. Deconstructs as <c>var (output, pullback) = Fn.Vjp(f, x)</c>. The pullback keeps
/// f's recording alive and may be called any number of times, from any thread; dispose the result
/// (<c>using var vjp = Fn.Vjp(f, x);</c>) to give the recording's memory back as soon as the pullback
/// is no longer needed — afterwards it throws <see cref="ObjectDisposedException"/>. Without
/// <c>Dispose</c> the garbage collector reclaims the recording with the pullback.
/// </summary>
/// <typeparam name="TOutput">The function's output type.</typeparam>
/// <typeparam name="TCotangent">The cotangent's type (that of the output).</typeparam>
/// <typeparam name="TGradient">The pullback's result type (that of the input).</typeparam>
public sealed class VjpResult<TOutput, TCotangent, TGradient> : IDisposable
{
    private readonly IDisposable? recording;

    internal VjpResult(TOutput output, Func<TCotangent, TGradient> pullback, IDisposable? recording)
    {
        Output = output;
        Pullback = pullback;
        this.recording = recording;
    }

    /// <summary>f(x).</summary>
    public TOutput Output { get; }

    /// <summary>The pullback u ↦ uᵀJ(x); differentiable in u and, inside another transform, in x.</summary>
    public Func<TCotangent, TGradient> Pullback { get; }

    /// <summary>(Output, Pullback), for <c>var (y, pullback) = Fn.Vjp(f, x)</c>.</summary>
    /// <param name="output">f(x).</param>
    /// <param name="pullback">u ↦ uᵀJ(x).</param>
    public void Deconstruct(out TOutput output, out Func<TCotangent, TGradient> pullback)
    {
        output = Output;
        pullback = Pullback;
    }

    /// <summary>Gives the recording back; the pullback throws <see cref="ObjectDisposedException"/> afterwards.</summary>
    public void Dispose() => recording?.Dispose();
}

/// <summary>
/// What <see cref="Fn.Linearize(Func{Vec, Vec}, Vec)"/> returns: the function's value and its
/// linearisation <c>v ↦ J·v</c>. Deconstructs as <c>var (output, jvp) = Fn.Linearize(f, x)</c>. At the
/// top level the jvp function replays one recording of f; dispose the result to give that recording
/// back early — afterwards the jvp function throws <see cref="ObjectDisposedException"/>. Without
/// <c>Dispose</c> the garbage collector reclaims it with the function.
/// </summary>
/// <typeparam name="TOutput">The function's output type (that of J·v).</typeparam>
/// <typeparam name="TTangent">The tangent's type (that of the input).</typeparam>
public sealed class LinearizeResult<TOutput, TTangent> : IDisposable
{
    private readonly IDisposable? recording;

    internal LinearizeResult(TOutput output, Func<TTangent, TOutput> jvp, IDisposable? recording)
    {
        Output = output;
        Jvp = jvp;
        this.recording = recording;
    }

    /// <summary>f(x).</summary>
    public TOutput Output { get; }

    /// <summary>The linearisation v ↦ J(x)·v; differentiable in v and, inside another transform, in x.</summary>
    public Func<TTangent, TOutput> Jvp { get; }

    /// <summary>(Output, Jvp), for <c>var (y, jvp) = Fn.Linearize(f, x)</c>.</summary>
    /// <param name="output">f(x).</param>
    /// <param name="jvp">v ↦ J(x)·v.</param>
    public void Deconstruct(out TOutput output, out Func<TTangent, TOutput> jvp)
    {
        output = Output;
        jvp = Jvp;
    }

    /// <summary>Gives the recording back; the jvp function throws <see cref="ObjectDisposedException"/> afterwards.</summary>
    public void Dispose() => recording?.Dispose();
}
