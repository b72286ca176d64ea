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
}
