using Hybrid.Kernel;
using MathNet.Numerics.LinearAlgebra;
using Xunit;
using Xunit.Sdk;

namespace Hybrid.Tests;

/// <summary>
/// Compiled against eager results: equal to 1e-15 relative (<c>Same</c>) or to the last bit
/// (<c>Bitwise</c>), with a message naming the entry that differs; dense Hessians by edge pushing
/// to <see cref="HessianTol"/> of the largest entry and exactly symmetric (<c>SameHessian</c>).
/// </summary>
static class CompiledAssert
{
    public const double Tol = 1e-15;

    public static void Same(double expected, double actual, string what)
    {
        if (expected.Equals(actual)) return;
        var err = Math.Abs(expected - actual);
        if (!(err <= Tol * Math.Max(Math.Abs(expected), Math.Abs(actual))))
            throw new XunitException($"{what}: eager {expected:R}, compiled {actual:R} (error {err:E2}).");
    }

    public static void Same(IReadOnlyList<double> expected, ReadOnlySpan<double> actual, string what)
    {
        Assert.Equal(expected.Count, actual.Length);
        for (var i = 0; i < expected.Count; i++) Same(expected[i], actual[i], $"{what}[{i}]");
    }

    public static void Same(Matrix<double> expected, Matrix<double> actual, string what)
    {
        Assert.Equal(expected.RowCount, actual.RowCount);
        Assert.Equal(expected.ColumnCount, actual.ColumnCount);
        for (var i = 0; i < expected.RowCount; i++)
            for (var j = 0; j < expected.ColumnCount; j++) Same(expected[i, j], actual[i, j], $"{what}[{i},{j}]");
    }

    public static void Bitwise(double expected, double actual, string what)
    {
        if (BitConverter.DoubleToInt64Bits(expected) != BitConverter.DoubleToInt64Bits(actual))
            throw new XunitException($"{what}: eager {expected:R}, compiled {actual:R}.");
    }

    public static void Bitwise(IReadOnlyList<double> expected, IReadOnlyList<double> actual, string what)
    {
        Assert.Equal(expected.Count, actual.Count);
        for (var i = 0; i < expected.Count; i++) Bitwise(expected[i], actual[i], $"{what}[{i}]");
    }

    public static void Bitwise(Matrix<double> expected, Matrix<double> actual, string what)
    {
        Assert.Equal(expected.RowCount, actual.RowCount);
        Assert.Equal(expected.ColumnCount, actual.ColumnCount);
        for (var i = 0; i < expected.RowCount; i++)
            for (var j = 0; j < expected.ColumnCount; j++) Bitwise(expected[i, j], actual[i, j], $"{what}[{i},{j}]");
    }

    /// <summary>
    /// Edge pushing's dense Hessian against eager's: |Δ| ≤ HessianTol·max|H| per entry. Edge pushing
    /// adds the same products in another order (the pairs eliminated node by node, not H·eⱼ column by
    /// column), so entries that cancel (Rosenbrock's diagonal 1200xᵢ² − 400xᵢ₊₁ + 2 + 200) differ by
    /// more ulps of their own than of the matrix's scale. Measured over these suites: up to 1.03e-15·max|H| (the logistic NLL).
    /// </summary>
    public const double HessianTol = 4e-15;

    /// <summary>The largest |Δ| / max|H| seen by <see cref="SameHessian"/> in this run (for the tolerance's note).</summary>
    public static double WorstHessianRatio;

    /// <summary>The kernel's compiled function behind c (its Hessian method: block passes only, or which one the path took).</summary>
    public static CompiledCore Core(CompiledFunction c) =>
        (CompiledCore)typeof(CompiledFunction).GetField("_core", System.Reflection.BindingFlags.NonPublic | System.Reflection.BindingFlags.Instance)!.GetValue(c)!;

    /// <summary>run() with the compiled dense Hessian forced on this thread: 1 edge pushing wherever it applies, 2 the block passes only.</summary>
    public static T Forced<T>(int method, Func<T> run)
    {
        HessianMethod.Forced = method;
        try { return run(); }
        finally { HessianMethod.Forced = 0; }
    }

    public static void SameHessian(Matrix<double> expected, Matrix<double> actual, string what, double tol = HessianTol)
    {
        Assert.Equal(expected.RowCount, actual.RowCount);
        Assert.Equal(expected.ColumnCount, actual.ColumnCount);
        var scale = 0.0;
        foreach (var e in expected.Enumerate()) if (double.IsFinite(e)) scale = Math.Max(scale, Math.Abs(e));
        for (var i = 0; i < expected.RowCount; i++)
            for (var j = 0; j < expected.ColumnCount; j++)
            {
                var (e, a) = (expected[i, j], actual[i, j]);
                if (BitConverter.DoubleToInt64Bits(a) != BitConverter.DoubleToInt64Bits(actual[j, i]))
                    throw new XunitException($"{what}: not symmetric, [{i},{j}] = {a:R} but [{j},{i}] = {actual[j, i]:R}.");
                if (e.Equals(a)) continue;
                var err = Math.Abs(e - a);
                if (!(err <= tol * scale))
                    throw new XunitException($"{what}[{i},{j}]: eager {e:R}, compiled {a:R} (error {err:E2} = {err / scale:E2}·max|H|, max|H| {scale:E3}).");
                var ratio = err / scale;
                double seen;
                while (ratio > (seen = Volatile.Read(ref WorstHessianRatio)) && Interlocked.CompareExchange(ref WorstHessianRatio, ratio, seen) != seen) { }
            }
    }

    /// <summary>
    /// c's dense Hessian at x every way: the block passes alone (bitwise eager's with
    /// <paramref name="blocksExact"/>, else to 1e-15 relative), then the default (the method the
    /// path chose) and edge pushing forced, each to <see cref="HessianTol"/> and exactly symmetric.
    /// </summary>
    public static void HessianBothWays(Matrix<double> expected, CompiledFunction c, double[] x, string what, bool blocksExact = true)
    {
        var blocks = Forced(2, () => c.Hessian(x));
        if (blocksExact) Bitwise(expected, blocks, $"{what} Hessian (block passes)");
        else Same(expected, blocks, $"{what} Hessian (block passes)");
        SameHessian(expected, c.Hessian(x), $"{what} Hessian");
        SameHessian(expected, Forced(1, () => c.Hessian(x)), $"{what} Hessian (edge pushing)");
    }

    /// <summary>How closely a compiled function's second order (Hvp, Hessian) must equal eager's.</summary>
    public enum EagerMatch
    {
        /// <summary>Hvp and the block-pass Hessian bitwise; edge pushing to <see cref="HessianTol"/>.</summary>
        Bitwise,
        /// <summary>Hvp and the block-pass Hessian to 1e-15 relative; edge pushing to <see cref="HessianTol"/>.</summary>
        Relative,
        /// <summary>Hvp and Hessian to 1e-14 of their largest entry (the same terms summed in another order).</summary>
        Near,
    }

    /// <summary>
    /// Value, GradAndValue and Jvp of the compiled f bitwise those of the eager transforms at x (along v);
    /// Hvp and Hessian as <paramref name="second"/> says.
    /// </summary>
    public static void AllEqualEager(Func<Vec, Real> f, CompiledFunction c, double[] x, double[] v, string what, EagerMatch second = EagerMatch.Bitwise)
    {
        Bitwise(f(x).Value, c.Value(x), $"{what} Value");
        var (g, value) = Fn.GradAndValue(f)(x);
        var grad = new double[x.Length];
        Bitwise(value.Value, c.GradAndValue(x, grad), $"{what} GradAndValue value");
        Bitwise(g.ToArray(), grad, $"{what} gradient");
        var (y, t) = Fn.Jvp(f, x, v);
        Bitwise(y.Value, c.Jvp(x, v, out var tangent), $"{what} Jvp value");
        Bitwise(t.Value, tangent, $"{what} Jvp tangent");
        var hv = new double[x.Length];
        c.Hvp(x, v, hv);
        var hvEager = Fn.Hvp(f)(x, v).ToArray();
        var hEager = Fn.Hessian(f)(x).ToMatrix();
        switch (second)
        {
            case EagerMatch.Bitwise:
                Bitwise(hvEager, hv, $"{what} Hvp");
                HessianBothWays(hEager, c, x, what, blocksExact: true);
                break;
            case EagerMatch.Relative:
                Same(hvEager, hv, $"{what} Hvp");
                HessianBothWays(hEager, c, x, what, blocksExact: false);
                break;
            default:
                Near(hvEager, hv, $"{what} Hvp");
                Near(hEager.ToColumnMajorArray(), c.Hessian(x).ToColumnMajorArray(), $"{what} Hessian");
                break;
        }
    }

    /// <summary>Equal to 1e-14 of the largest entry (sums of the same terms in another order).</summary>
    public static void Near(double[] expected, double[] actual, string what)
    {
        Assert.Equal(expected.Length, actual.Length);
        var scale = expected.Max(Math.Abs);
        for (var i = 0; i < expected.Length; i++)
            Assert.True(Math.Abs(expected[i] - actual[i]) <= 1e-14 * scale, $"{what}[{i}]: eager {expected[i]:R}, compiled {actual[i]:R}");
    }
}
