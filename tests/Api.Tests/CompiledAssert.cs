using MathNet.Numerics.LinearAlgebra;
using Xunit;
using Xunit.Sdk;

namespace Hybrid.Tests;

/// <summary>
/// Compiled against eager results: equal to 1e-15 relative (<c>Same</c>) or to the last bit
/// (<c>Bitwise</c>), with a message naming the entry that differs.
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
}
