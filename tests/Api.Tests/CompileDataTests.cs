using Hybrid.Kernel;
using Xunit;
using static Hybrid.Tests.CompiledAssert;

namespace Hybrid.Tests;

/// <summary>
/// Losses with data (a constant vector y of at least <c>Lower.DataMin</c> entries, a block of constant nodes
/// in the compiled graph) at points where a partial is ±0 or infinite at the data: the compiled Jvp, Hvp and
/// Hessian should equal eager's to the last bit. Signed zeros do (a data slot's d·0 terms are ±0, which
/// leave the sums as eager has them); infinite partials do not yet (the two skipped tests say where).
/// </summary>
public class CompileDataTests
{
    const int N = 20;

    static readonly double[] Y = Enumerable.Range(0, N).Select(i => 0.25 * (i % 7) - 0.6).ToArray(); // no zero entry
    static readonly Vec YVec = new(Y);

    /// <summary>f compiled at x0, then every entry point bitwise eager at x, along v (NaN equal to NaN, −0 different from +0).</summary>
    static void CompiledEqualsEager(Func<Vec, Real> f, double[] x0, double[] x, double[] v, string what)
    {
        var c = Fn.Compile(f, x0);
        Assert.True(c.IsCompiled, c.NotCompiledReason);
        AllEqualEager(f, c, x, v, what);
    }

    static double[] Ones(double s = 1.0) => Enumerable.Repeat(s, N).ToArray();

    [Fact]
    public void ASquaredResidualAtTheDataHasEagersSignedZeros()
    {
        Func<Vec, Real> f = z => Vec.Sum(Vec.Square(z - YVec));
        var v = Enumerable.Range(0, N).Select(i => i % 2 == 0 ? -0.0 : -1.0).ToArray();
        CompiledEqualsEager(f, Ones(), (double[])Y.Clone(), v, "(z − y)² at z = y");
        Func<Vec, Real> g = z => Vec.Sum(Vec.Square(YVec - z)) * -1.0;
        CompiledEqualsEager(g, Ones(), (double[])Y.Clone(), v, "−(y − z)² at z = y");
    }
}
