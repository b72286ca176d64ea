using Hybrid.Kernel;
using Xunit;

namespace Hybrid.Tests;

public class ScanTests
{
    [Fact]
    public void ScanEqualsItsPlainLoop()
    {
        // cumulative product with the running carry as output
        double[] xs = { 1.5, -2.0, 0.5, 3.0 };
        var (carry, ys) = Fn.Scan((Real c, Real x) => (c * x, c + x), 1.0, xs);
        double c = 1.0;
        var expected = new double[xs.Length];
        for (var k = 0; k < xs.Length; k++) { expected[k] = c + xs[k]; c *= xs[k]; }
        Assert.Equal(c, carry.Value);
        Assert.Equal(expected, (double[])ys);
    }

    [Fact]
    public void ScanIsDifferentiableThroughCarryAndXs()
    {
        // final carry of c ← c·x from c₀: c₀·Πx; ∂/∂xₖ = c₀·Π_{j≠k} xⱼ, ∂/∂c₀ = Πx
        double[] xs = { 1.5, -2.0, 0.5, 3.0 };
        var g = Fn.Grad((Vec v) => Fn.Scan((Real c, Real x) => (c * x, x), 2.0, v).Carry)(xs);
        var p = xs.Aggregate(1.0, (a, b) => a * b);
        Approx.Equal(xs.Select(x => 2.0 * p / x).ToArray(), g, 1e-15);
        var dc0 = Fn.Grad((Real c0) => Fn.Scan((Real c, Real x) => (c * x, x), c0, xs).Carry)(2.0);
        Approx.Equal(p, dc0.Value, 1e-15);
    }

    [Fact]
    public void GenericScanCarriesAnyTypes()
    {
        var (count, labels) = Fn.Scan((int n, string s) => (n + s.Length, s.ToUpperInvariant()), 0, new[] { "a", "bc", "def" });
        Assert.Equal(6, count);
        Assert.Equal(new[] { "A", "BC", "DEF" }, labels);
    }

    [Fact]
    public void VectorCarryOverElements()
    {
        // a 2-state linear recurrence s ← (s₁, s₀ + x): Fibonacci-like; outputs s₀
        var (carry, ys) = Fn.Scan((Vec s, Real x) => (Vec.OfReals(new[] { s[1], s[0] + x }), s[0]), new Vec(new[] { 0.0, 1.0 }), new Vec(new[] { 1.0, 1.0, 1.0, 1.0 }));
        Assert.Equal(new[] { 0.0, 1.0, 1.0, 2.0 }, (double[])ys);
        Assert.Equal(new[] { 2.0, 3.0 }, (double[])carry);
    }

    [Fact]
    public void VectorCarryOverRowsIsDifferentiable()
    {
        // h ← tanh(h + row), outputs h·2: gradient of the final Σh w.r.t. the rows via the loop
        var xs = new Mat(new[,] { { 0.1, -0.2 }, { 0.3, 0.4 }, { -0.5, 0.6 } });
        Real Loss(Vec data)
        {
            var (h, ys) = Fn.Scan((Vec c, Vec row) => (Vec.Tanh(c + row), c * 2.0), new Vec(new[] { 0.0, 0.0 }), new Mat(data, 3, 2));
            Assert.Equal((3, 2), (ys.Rows, ys.Cols));
            return Vec.Sum(h);
        }
        Real Plain(Vec data)
        {
            var m = new Mat(data, 3, 2);
            Vec c = new[] { 0.0, 0.0 };
            for (var k = 0; k < 3; k++) c = Vec.Tanh(c + m.Row(k));
            return Vec.Sum(c);
        }
        var d = xs.Data.ToArray();
        Assert.Equal(Plain(d).Value, Loss(d).Value);
        Approx.Equal(Fn.Grad(Plain)(d).ToArray(), Fn.Grad(Loss)(d), 0);
        Approx.Equal(TestFunctions.FdGrad(Plain, d), Fn.Grad(Loss)(d), 1e-9);
    }

    [Fact]
    public void NullCarryIsAnError()
    {
        var e = Assert.Throws<InvalidOperationException>(() =>
            Fn.Scan((Vec c, Real x) => (x.Value > 1 ? null! : c, x), new Vec(new[] { 0.0 }), new Vec(new[] { 1.0, 2.0 })));
        Assert.Contains("Fn.Scan", e.Message);
        Assert.Contains("step 1", e.Message);
    }
}
