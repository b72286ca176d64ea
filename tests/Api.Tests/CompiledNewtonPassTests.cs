using Hybrid.Kernel;
using MathNet.Numerics.LinearAlgebra;
using Xunit;
using static Hybrid.Tests.CompiledAssert;

namespace Hybrid.Tests;

/// <summary>
/// What the compiled dense Newton iteration runs (issue 8, the logistic fit): value, gradient and Hessian
/// from one forward pass and one kept sweep per point, an accepted line-search trial's forward pass reused as
/// the next point's, the Hessian's linear matrix node Xᵀ·(DX) by blocks of rows, no allocation per Hessian
/// once warm, and a recording whose cost is linear in a matrix node's output length.
/// </summary>
public class CompiledNewtonPassTests
{
    /// <summary>Issue 3's model on small data: Σ log(1 + eᶻ) − yᵀz + ½‖w‖², z = Xw, X rows × d.</summary>
    static Func<Vec, Real> Logistic(int rows, int d, int seed)
    {
        var r = new Random(seed);
        var xm = Mat.Wrap(Matrix<double>.Build.Dense(rows, d, (_, _) => r.NextDouble() * 2 - 1));
        var y = new Vec(Enumerable.Range(0, rows).Select(_ => r.NextDouble() < 0.5 ? 1.0 : 0.0).ToArray());
        return w =>
        {
            var z = xm * w;
            return Vec.Sum(Vec.LogP1(Vec.Exp(z))) - Vec.Dot(y, z) + 0.5 * Vec.Dot(w, w);
        };
    }

    [Fact]
    public void EachIterationRunsOneForwardPassPerTrialOneSweepAndOneHessianProduct()
    {
        // X·w is the only product: every forward pass makes one dgemm (X·w), every sweep one (Xᵀ·z̄), every
        // Hessian one per block of rows (one block here). Before, each iteration ran the forward pass again for
        // the Hessian and for the accepted point, and swept twice: 5 + trials dgemm calls, not 2 + trials.
        var f = Logistic(200, 6, 41);
        var w0 = new double[6];
        var before = GemmCount.Calls;
        var recorded = GraphRecorder.record("test", v => new[] { f(v) }, w0);
        var recording = GemmCount.Calls - before;
        Assert.True(recorded.IsChoice1Of2);

        before = GemmCount.Calls;
        var result = Newton.Minimize(f, w0);
        var calls = GemmCount.Calls - before;

        Assert.True(result.Converged, result.Message);
        Assert.True(result.Compiled, result.NotCompiledReason);
        Assert.Equal(1, result.Recordings);
        Assert.True(result.Iterations >= 3, $"{result.Iterations} iterations");
        var trials = result.History.Skip(1).Sum(h => h.LineSearchTrials);
        // x0: the recording, one forward pass and one sweep; then per iteration the Hessian's product, one
        // forward pass per trial and the accepted point's sweep
        Assert.Equal(recording + 2 + result.Iterations * 2 + trials, calls);
    }

    [Fact]
    public void TheHeldPointGivesTheSameGradientAndHessianAsTheSeparateCallsAndAllocatesNothing()
    {
        var f = Logistic(300, 5, 43);
        var x = new[] { 0.1, -0.2, 0.3, 0.05, -0.4 };
        var c = CompiledCore.Create("test", v => new[] { f(v) }, (double[])x.Clone());
        var n = x.Length;
        var (g1, h1, g2, h2, y) = (new double[n], new double[n * n], new double[n], new double[n * n], new double[1]);
        var v1 = 0.0;
        var v2 = 0.0;
        Assert.True(c.TryGradAndValue(x, g1, ref v1));
        Assert.True(c.TryHessian(x, h1));

        var w = new Workspace();
        var p = c.TryHold(w, x, g2, ref v2, true);
        Assert.NotNull(p);
        c.HeldHessian(w, p, h2);
        Bitwise(v1, v2, "value");
        Bitwise(g1, g2, "gradient");
        Bitwise(h1, h2, "Hessian");

        // a line-search trial's forward pass taken as the point: the same numbers
        Array.Clear(g2);
        Array.Clear(h2);
        var q = c.TryValueHeld(w, x, y);
        Assert.Same(p, q);
        Bitwise(v1, y[0], "trial value");
        c.HoldSwept(w, q, g2, ref v2, true);
        c.HeldHessian(w, q, h2);
        Bitwise(g1, g2, "gradient after the trial");
        Bitwise(h1, h2, "Hessian after the trial");

        // warm: the held point's passes and Hessian allocate nothing
        var bytes = GC.GetAllocatedBytesForCurrentThread();
        c.TryValueHeld(w, x, y);
        c.HoldSwept(w, q, g2, ref v2, true);
        c.HeldHessian(w, q, h2);
        c.TryHold(w, x, g2, ref v2, true);
        c.HeldHessian(w, p, h2);
        c.TryHessian(x, h1);
        Assert.Equal(0, GC.GetAllocatedBytesForCurrentThread() - bytes);
    }

    [Fact]
    public void HeldHessianRefusesAPointSweptWithoutItsAdjoints()
    {
        var f = Logistic(50, 3, 47);
        var x = new[] { 0.1, 0.2, 0.3 };
        var c = CompiledCore.Create("test", v => new[] { f(v) }, (double[])x.Clone());
        var w = new Workspace();
        var value = 0.0;
        var p = c.TryHold(w, x, new double[3], ref value, false);
        Assert.NotNull(p);
        // a compiled path's lean sweep leaves only the gradient: its Hessian would read stale adjoints
        if (p.IsCompiled)
            Assert.Throws<InvalidOperationException>(() => c.HeldHessian(w, p, new double[9]));
    }

    [Theory]
    [InlineData(48)]   // blocks of 8 rows: 26 blocks of 203 rows, the last one padded with zero rows
    [InlineData(1 << 20)] // one block
    public void TheLinearNodeByBlocksOfRowsGivesTheEagerHessian(int blockDoubles)
    {
        var f = Logistic(203, 6, 53);
        var x = new[] { 0.3, -0.1, 0.2, 0.4, -0.5, 0.1 };
        var eager = Fn.Hessian(f)(x).ToMatrix();
        var saved = MatScratch.BlockDoubles;
        MatScratch.BlockDoubles = blockDoubles;
        try
        {
            var compiled = Fn.Compile(f, x);
            var core = Core(compiled);
            var h = Forced(1, () => Fn.Hessian(compiled)(x).ToMatrix());
            Assert.Equal(1, core.HessianBy);
            SameHessian(eager, h, $"blocks of {blockDoubles} doubles");
        }
        finally
        {
            MatScratch.BlockDoubles = saved;
        }
    }

    [Fact]
    public void RecordingAMatrixNodeWithManyOutputsTakesTimeLinearInThem()
    {
        // z = X·w with 200 000 outputs: marking the node live once per output slot was 4·10¹⁰ steps (minutes);
        // once per node it is a fraction of a second
        var r = new Random(59);
        var xm = Mat.Wrap(Matrix<double>.Build.Dense(200_000, 2, (_, _) => r.NextDouble()));
        Real F(Vec w) => Vec.Sum(xm * w);
        var clock = System.Diagnostics.Stopwatch.StartNew();
        var recorded = GraphRecorder.record("test", v => new[] { F(v) }, new[] { 1.0, 2.0 });
        clock.Stop();
        Assert.True(recorded.IsChoice1Of2);
        Assert.True(clock.Elapsed.TotalSeconds < 15, $"recording took {clock.Elapsed.TotalSeconds:F1} s");
    }
}
