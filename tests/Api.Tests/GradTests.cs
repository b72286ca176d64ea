using Hybrid.Kernel;
using Xunit;
using static Hybrid.Tests.TestFunctions;

namespace Hybrid.Tests;

public class GradTests
{
    static readonly double[] X5 = { -1.2, 1.0, 0.5, 2.0, -0.3 };

    [Theory]
    [InlineData("loop")]
    [InlineData("sliced")]
    public void RosenbrockGradientIsTheClosedForm(string form)
    {
        Func<Vec, Real> f = form == "loop" ? RosenbrockLoop : RosenbrockSliced;
        Approx.Equal(RosenbrockGrad(X5), Fn.Grad(f)(X5), 1e-13, form);
    }

    [Fact]
    public void QuadraticGradientIsASymTimesX()
    {
        double[] x = { 0.7, -1.3, 2.1, 0.4 };
        Approx.Equal(MatVec(ASym(), x), Fn.Grad(Quadratic)(x), 1e-14);
    }

    [Fact]
    public void LogisticLossGradientIsTheClosedForm()
    {
        double[] w = { 0.3, -0.8, 0.5 };
        Approx.Equal(LogisticGrad(w), Fn.Grad(LogisticLoss)(w), 1e-14);
    }

    [Fact]
    public void EveryRuleGradientMatchesFiniteDifferences()
    {
        double[] x = { 0.3, 0.6, 1.7 };
        Approx.Equal(FdGrad(EveryRule, x), Fn.Grad(EveryRule)(x), 1e-9);
    }

    [Fact]
    public void ScalarGradOfSinIsCos()
    {
        foreach (var x in new[] { -2.0, 0.0, 0.5, 3.0 })
            Assert.Equal(Math.Cos(x), Fn.Grad((Real t) => Real.Sin(t))(x).Value);
    }

    [Fact]
    public void GradOfGradOfCubeIs6x()
    {
        var second = Fn.Grad(Fn.Grad((Real x) => x * x * x));
        Approx.Equal(12.0, second(2.0).Value, 1e-15);
        Approx.Equal(-7.2, second(-1.2).Value, 1e-15);
    }

    [Fact]
    public void GradAndValueGivesBoth()
    {
        var (g, v) = Fn.GradAndValue(RosenbrockLoop)(X5);
        Approx.Equal(RosenbrockGrad(X5), g, 1e-13);
        Assert.Equal(RosenbrockLoop(X5).Value, v.Value);

        var (gs, vs) = Fn.GradAndValue((Real x) => Real.Exp(2.0 * x))(0.5);
        Approx.Equal(2 * Math.E, gs.Value, 1e-15);
        Approx.Equal(Math.E, vs.Value, 1e-15);
    }

    [Fact]
    public void AuxOfAnyTypeIsPassedThroughAndRealAuxBecomesConstant()
    {
        var list = new List<int> { 1, 2 };
        var (_, _, same) = Fn.GradAndValue((Vec x) => (Vec.Sum(x), list))(new[] { 1.0, 2.0 });
        Assert.Same(list, same);

        var (g, v, aux) = Fn.GradAndValue((Vec x) => (Vec.Dot(x, x), x * 3.0))(new[] { 1.0, 2.0 });
        Assert.Equal(new[] { 2.0, 4.0 }, (double[])g);
        Assert.Equal(5.0, v.Value);
        Assert.True(aux.IsConstant);
        Assert.Equal(new[] { 3.0, 6.0 }, (double[])aux);

        var (_, _, r) = Fn.GradAndValue((Real x) => (x * x, Real.Sin(x)))(1.0);
        Assert.True(Real.IsConstant(r));
        Assert.Equal(Math.Sin(1.0), r.Value);
        Assert.Equal(Math.Sin(1.0) + 1.0, (r + 1.0).Value); // usable after the transform returned
    }

    [Fact]
    public void GradOfAConstantFunctionIsZero()
    {
        Assert.Equal(new[] { 0.0, 0.0 }, (double[])Fn.Grad((Vec _) => 3.0)(new[] { 1.0, 2.0 }));
    }

    [Fact]
    public void ResultsConvertToMathNetAtTheTopLevel()
    {
        MathNet.Numerics.LinearAlgebra.Vector<double> g = Fn.Grad(RosenbrockSliced)(X5);
        Approx.Equal(RosenbrockGrad(X5), new Vec(g.ToArray()), 1e-13);
    }

    [Theory]
    [InlineData("loop", 7)]
    [InlineData("sliced", 7)]
    [InlineData("sliced", 5000)]
    public void GradAndValueIntoABufferIsTheAllocatingFormBitwise(string form, int n)
    {
        Func<Vec, Real> f = form == "loop" ? RosenbrockLoop : RosenbrockSliced;
        // twice, at two points: the second call's sweep starts from the adjoints the first left zero
        foreach (var shift in new[] { 0.0, 0.37 })
        {
            var x = Enumerable.Range(0, n).Select(k => 0.3 + shift + 0.01 * (k % 17) - 0.2 * (k % 3)).ToArray();
            var (g, v) = Fn.GradAndValue(f)(x);
            var into = Enumerable.Repeat(double.NaN, n).ToArray(); // every element written
            var value = Fn.GradAndValue(f, x, into);
            Assert.Equal(BitConverter.DoubleToInt64Bits(v.Value), BitConverter.DoubleToInt64Bits(value));
            var expected = (double[])g;
            for (var k = 0; k < n; k++)
                Assert.True(BitConverter.DoubleToInt64Bits(expected[k]) == BitConverter.DoubleToInt64Bits(into[k]), $"{form}, n={n}, shift {shift}: ∂f/∂x{k} {expected[k]:R} against {into[k]:R}");
        }
    }

    [Fact]
    public void GradAndValueIntoABufferMakesNoGradientArray()
    {
        const int n = 100_000;
        var x = Enumerable.Range(0, n).Select(k => 0.5 + 0.001 * (k % 100)).ToArray();
        var g = new double[n];
        Fn.GradAndValue(RosenbrockSliced, x, g); // warm (pools, JIT)
        var before = GC.GetAllocatedBytesForCurrentThread();
        Fn.GradAndValue(RosenbrockSliced, x, g);
        var into = GC.GetAllocatedBytesForCurrentThread() - before;
        before = GC.GetAllocatedBytesForCurrentThread();
        Fn.GradAndValue(RosenbrockSliced)(x);
        var allocating = GC.GetAllocatedBytesForCurrentThread() - before;
        Assert.True(allocating >= 8L * n, $"the allocating form makes its gradient array ({allocating} B)");
        Assert.True(into < 8L * n / 10, $"into a buffer: {into} B allocated per call at n = {n} (the op objects only, no gradient array)");
        Approx.Equal(RosenbrockGrad(x), new Vec(g), 1e-12);
    }

    [Fact]
    public void GradAndValueIntoABufferChecksItsArguments()
    {
        var x = new[] { 1.0, 2.0 };
        var wrong = Assert.Throws<ArgumentException>(() => Fn.GradAndValue(RosenbrockSliced, x, new double[3]));
        Assert.Contains("length 3", wrong.Message);
        Assert.Contains("length 2", wrong.Message);
        var inside = Assert.Throws<InvalidOperationException>(() =>
            Fn.Grad((Vec y) => Fn.GradAndValue((Vec z) => Vec.Dot(z, y), y, new double[2]))(x));
        Assert.Contains("GradAndValue(f)(x)", inside.Message);
        Assert.Throws<ArgumentException>(() => Fn.GradAndValue(RosenbrockSliced, Array.Empty<double>(), Span<double>.Empty));
        // a function that does not depend on x: zeros over whatever the buffer held
        var g = new[] { 5.0, -7.0 };
        Assert.Equal(3.0, Fn.GradAndValue((Vec _) => 3.0, x, g));
        Assert.Equal(new[] { 0.0, 0.0 }, g);
        // the buffer may be x's own array: x is read before f runs
        var xs = new[] { -1.2, 1.0, 0.5 };
        var expected = (double[])Fn.Grad(RosenbrockSliced)(xs);
        Fn.GradAndValue(RosenbrockSliced, xs, xs);
        Assert.Equal(expected, xs);
    }
}
