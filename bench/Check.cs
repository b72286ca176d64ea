namespace Hybrid.Bench;

/// Setup-time correctness guards: a benchmark of a wrong answer is worthless.
public static class Check
{
    public static void Close(string what, double expected, double actual, double rtol = 1e-9)
    {
        if (!(Math.Abs(expected - actual) <= rtol * (1 + Math.Abs(expected))))
            throw new InvalidOperationException($"{what}: expected {expected:R}, got {actual:R}");
    }

    public static void Close(string what, double[] expected, double[] actual, double rtol = 1e-9)
    {
        if (expected.Length != actual.Length)
            throw new InvalidOperationException($"{what}: length {actual.Length}, expected {expected.Length}");
        double scale = 1;
        foreach (var e in expected) scale = Math.Max(scale, Math.Abs(e));
        for (int i = 0; i < expected.Length; i++)
            if (!(Math.Abs(expected[i] - actual[i]) <= rtol * scale))
                throw new InvalidOperationException($"{what}[{i}]: expected {expected[i]:R}, got {actual[i]:R}");
    }
}
