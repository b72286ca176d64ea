using Hybrid.Kernel;

namespace Hybrid;

/// <summary>
/// Argument checks shared by every transform: each throws before any work is done, with a message
/// that names the transform, the expected and the actual shape, and the likely fix.
/// </summary>
internal static class Check
{
    /// <summary>A delegate or object argument must not be null.</summary>
    public static void NotNull(object? value, string parameter, string owner)
    {
        if (value is null)
            throw new ArgumentNullException(parameter, $"{owner}: {parameter} is null; pass the function or value to transform.");
    }

    /// <summary>A vector input must be present and have at least one element.</summary>
    public static void Input(Vec? x, string parameter, string owner)
    {
        if (x is null)
            throw new ArgumentNullException(parameter, $"{owner}: {parameter} is null; pass the point as a Vec (double[] and Vector<double> convert implicitly).");
        if (x.Length == 0)
            throw new ArgumentException($"{owner}: {parameter} is empty (length 0); the function needs at least one input to differentiate.", parameter);
    }

    /// <summary>A matrix (batch) input must be present.</summary>
    public static void Batch(Mat? x, string parameter, string owner)
    {
        if (x is null)
            throw new ArgumentNullException(parameter, $"{owner}: {parameter} is null; pass the batch as a Mat whose rows are the items.");
    }

    /// <summary>A tangent (or direction) must have the length of the point it belongs to.</summary>
    public static void Tangent(Vec? x, Vec? v, string parameter, string owner)
    {
        if (v is null)
            throw new ArgumentNullException(parameter, $"{owner}: {parameter} is null; pass a tangent of length {x?.Length ?? 0}, one entry per input.");
        if (x is not null && v.Length != x.Length)
            throw new ArgumentException(
                $"{owner}: x has length {x.Length} but {parameter} has length {v.Length}; {parameter} must be a tangent of the same length as x.", parameter);
    }

    /// <summary>A cotangent must have one entry per output of the function.</summary>
    public static void Cotangent(Vec? u, int outputs, string owner)
    {
        if (u is null)
            throw new ArgumentNullException("u", $"{owner} pullback: the cotangent is null; pass one entry per output ({outputs}).");
        if (u.Length != outputs)
            throw new ArgumentException(
                $"{owner} pullback: the function has {outputs} outputs but the cotangent has length {u.Length}; pass a cotangent of length {outputs}, one entry per output.", "u");
    }

    /// <summary>A function's vector result must not be null.</summary>
    public static Vec Result(Vec? y, string owner, string what = "the function")
    {
        if (y is null)
            throw new InvalidOperationException($"{owner}: {what} returned null; return its result as a Vec (Vec.OfReals builds one from Reals).");
        return y;
    }
}
