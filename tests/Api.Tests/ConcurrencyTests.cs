using Hybrid.Kernel;
using Xunit;
using static Hybrid.Tests.TestFunctions;

namespace Hybrid.Tests;

public class ConcurrencyTests
{
    /// <summary>A different function per thread: Rosenbrock scaled by (k + 1) plus xᵀAx-style coupling.</summary>
    static Func<Vec, Real> FunctionFor(int k) => x =>
    {
        Real s = (k + 1) * RosenbrockSliced(x);
        for (var i = 0; i < x.Length - 1; i++) s += Real.Sin(k * x[i] * x[i + 1]);
        return s;
    };

    static double[] PointFor(int k) => Enumerable.Range(0, 6).Select(i => Math.Sin(k + 0.3 * i)).ToArray();

    [Fact]
    public void EightThreadsComputingDifferentHessiansMatchSingleThreadedResults()
    {
        const int threads = 8, rounds = 25;
        var expectedTape = new double[threads][,];
        var expectedNested = new double[threads][,];
        for (var k = 0; k < threads; k++)
        {
            expectedTape[k] = Fn.Hessian(FunctionFor(k))(PointFor(k)).ToArray();
            expectedNested[k] = Fn.JacFwd(Fn.Grad(FunctionFor(k)))(PointFor(k)).ToArray();
        }
        var mismatches = 0;
        var start = new Barrier(threads);
        var workers = Enumerable.Range(0, threads).Select(k => new Thread(() =>
        {
            start.SignalAndWait();
            for (var r = 0; r < rounds; r++)
            {
                var tape = Fn.Hessian(FunctionFor(k))(PointFor(k)).ToArray();
                var nested = Fn.JacFwd(Fn.Grad(FunctionFor(k)))(PointFor(k)).ToArray();
                if (!Same(expectedTape[k], tape) || !Same(expectedNested[k], nested)) Interlocked.Increment(ref mismatches);
            }
        })).ToArray();
        foreach (var w in workers) w.Start();
        foreach (var w in workers) w.Join();
        Assert.Equal(0, mismatches);
        // and the functions really differ, so a mix-up between threads would show
        Assert.False(Same(expectedTape[0], expectedTape[1]));
    }

    [Fact]
    public void ParallelForGradientsAndHvps()
    {
        var expected = Enumerable.Range(0, 16).Select(k => Fn.Hvp(FunctionFor(k))(PointFor(k), PointFor(k + 1)).ToArray()).ToArray();
        var got = new double[16][];
        Parallel.For(0, 16, new ParallelOptions { MaxDegreeOfParallelism = 8 },
            k => got[k] = Fn.Hvp(FunctionFor(k))(PointFor(k), PointFor(k + 1)).ToArray());
        for (var k = 0; k < 16; k++) Assert.Equal(expected[k], got[k]);
    }

    static bool Same(double[,] a, double[,] b)
    {
        if (a.GetLength(0) != b.GetLength(0) || a.GetLength(1) != b.GetLength(1)) return false;
        for (var i = 0; i < a.GetLength(0); i++)
            for (var j = 0; j < a.GetLength(1); j++)
                if (a[i, j] != b[i, j]) return false;
        return true;
    }
}
