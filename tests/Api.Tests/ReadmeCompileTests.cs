using Hybrid.Kernel;
using Xunit;

namespace Hybrid.Tests;

/// <summary>The README's "Compiled derivatives" snippet, as written there, with the numbers it promises.</summary>
public class ReadmeCompileTests
{
    static Real Rosenbrock(Vec x)
    {
        Real s = 0.0;
        for (var i = 0; i < x.Length - 1; i++)
        {
            var a = x[i + 1] - x[i] * x[i];
            var b = 1.0 - x[i];
            s += 100.0 * a * a + b * b;
        }
        return s;
    }

    [Fact]
    public void CompiledDerivativesSnippet()
    {
        var f = Fn.Compile(Rosenbrock, new[] { -1.2, 1.0 });
        var grad = new double[2];
        double value = f.GradAndValue(new[] { -1.2, 1.0 }, grad);
        Assert.Equal(24.2, value, 12);
        Assert.Equal(-215.6, grad[0], 12);
        Assert.Equal(-88.0, grad[1], 12);
        var hv = new double[2];
        f.Hvp(new[] { -1.2, 1.0 }, new[] { 1.0, 0.0 }, hv);
        Assert.Equal(1330.0, hv[0], 10);
        Assert.Equal(480.0, hv[1], 10);
        var H = f.Hessian(new[] { 1.0, 1.0 });
        Assert.Equal(new[,] { { 802.0, -400.0 }, { -400.0, 200.0 } }, H.ToArray());
        Assert.True(f.IsCompiled);

        var g = Fn.Compile((Real x) => x < 0 ? -x * x : Real.Sin(x), 1.0);
        Assert.Equal(-4.0, g.Value(new[] { -2.0 }));
        int paths = g.Recordings;
        Assert.Equal(2, paths);
    }
}
