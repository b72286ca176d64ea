using Hybrid.Kernel;
using Xunit;
using Xunit.Sdk;

namespace Hybrid.Tests;

/// <summary>Assertions on numbers with a tolerance relative to max(1, |expected|).</summary>
internal static class Approx
{
    public static void Equal(double expected, double actual, double tol, string what = "")
    {
        var err = Math.Abs(expected - actual);
        if (!(err <= tol * Math.Max(1.0, Math.Abs(expected))))
            throw new XunitException($"{what}: expected {expected:R}, got {actual:R} (error {err:E2}, tolerance {tol:E1}).");
    }

    public static void Equal(IReadOnlyList<double> expected, Vec actual, double tol, string what = "")
    {
        Assert.Equal(expected.Count, actual.Length);
        for (var i = 0; i < expected.Count; i++) Equal(expected[i], actual[i].Value, tol, $"{what}[{i}]");
    }

    public static void Equal(double[,] expected, Mat actual, double tol, string what = "")
    {
        Assert.Equal(expected.GetLength(0), actual.Rows);
        Assert.Equal(expected.GetLength(1), actual.Cols);
        for (var i = 0; i < actual.Rows; i++)
            for (var j = 0; j < actual.Cols; j++)
                Equal(expected[i, j], actual[i, j].Value, tol, $"{what}[{i},{j}]");
    }

    public static void Equal(Mat expected, Mat actual, double tol, string what = "") => Equal(expected.ToArray(), actual, tol, what);
}
