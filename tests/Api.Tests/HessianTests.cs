using Hybrid.Kernel;
using Xunit;
using static Hybrid.Tests.TestFunctions;

namespace Hybrid.Tests;

public class HessianTests
{
    static readonly double[] X5 = { -1.2, 1.0, 0.5, 2.0, -0.3 };

    /// <summary>JacFwd∘Grad, the composition Hessian uses inside other transforms.</summary>
    static Mat Composed(Func<Vec, Real> f, double[] x) => Fn.JacFwd(Fn.Grad(f))(x);

    [Theory]
    [InlineData("loop")]
    [InlineData("sliced")]
    public void RosenbrockHessianTapeAndCompositionAreTheClosedForm(string form)
    {
        Func<Vec, Real> f = form == "loop" ? RosenbrockLoop : RosenbrockSliced;
        Approx.Equal(RosenbrockHessian(X5), Fn.Hessian(f)(X5), 1e-13, "tape");
        Approx.Equal(RosenbrockHessian(X5), Composed(f, X5), 1e-13, "JacFwd∘Grad");
    }

    [Fact]
    public void QuadraticHessianIsASym()
    {
        double[] x = { 0.7, -1.3, 2.1, 0.4 };
        Approx.Equal(ASym(), Fn.Hessian(Quadratic)(x), 0, "tape");
        Approx.Equal(ASym(), Composed(Quadratic, x), 0, "JacFwd∘Grad");
    }

    [Fact]
    public void LogisticLossHessianIsTheClosedForm()
    {
        double[] w = { 0.3, -0.8, 0.5 };
        Approx.Equal(LogisticHessian(w), Fn.Hessian(LogisticLoss)(w), 1e-14, "tape");
        Approx.Equal(LogisticHessian(w), Composed(LogisticLoss, w), 1e-14, "JacFwd∘Grad");
    }

    [Fact]
    public void EveryRuleHessianTapeEqualsCompositionEqualsFiniteDifferences()
    {
        double[] x = { 0.3, 0.6, 1.7 };
        var tape = Fn.Hessian(EveryRule)(x);
        Approx.Equal(Composed(EveryRule, x), tape, 1e-13, "tape vs JacFwd∘Grad");
        Approx.Equal(FdHessian(EveryRule, x), tape, 1e-6, "tape vs finite differences");
    }

    [Fact]
    public void HessianIsSymmetric()
    {
        double[] x = { 0.3, 0.6, 1.7 };
        var h = Fn.Hessian(EveryRule)(x);
        for (var i = 0; i < 3; i++)
            for (var j = 0; j < 3; j++)
                Assert.Equal(h[i, j].Value, h[j, i].Value);
    }

    [Fact]
    public void ScalarHessianIsTheSecondDerivative()
    {
        var h = Fn.Hessian((Real x) => Real.Sin(x) * x);
        foreach (var x in new[] { -1.0, 0.0, 0.7, 2.5 })
            Approx.Equal(2 * Math.Cos(x) - x * Math.Sin(x), h(x).Value, 1e-15, $"x = {x}");
    }

    [Fact]
    public void HessianInsideGradStaysDifferentiable()
    {
        // H₀₀ of x₀³x₁ is 6x₀x₁; its gradient is (6x₁, 6x₀)
        var h00 = (Vec x) => Fn.Hessian((Vec y) => y[0] * y[0] * y[0] * y[1])(x)[0, 0];
        Approx.Equal(new[] { 6 * -0.5, 6 * 1.5 }, Fn.Grad(h00)(new[] { 1.5, -0.5 }), 1e-15);
        // the scalar form too: d/dx f''(x) for f = x⁴ is 24x
        Approx.Equal(48.0, Fn.Grad(Fn.Hessian((Real t) => t * t * t * t))(2.0).Value, 1e-15);
    }

    [Fact]
    public void HvpIsHessianTimesV()
    {
        double[] v = { 1.0, -0.5, 0.25, 2.0, 3.0 };
        var expected = MatVec(RosenbrockHessian(X5), v);
        Approx.Equal(expected, Fn.Hvp(RosenbrockSliced)(X5, v), 1e-13, "tape");
        // nested (inside another transform): Jvp of Grad
        var (_, nested) = Fn.Jvp((Vec x) => Fn.Hvp(RosenbrockLoop)(x, v), X5, new double[5]);
        Approx.Equal(expected, Fn.Vjp((Vec x) => Fn.Hvp(RosenbrockLoop)(x, v), X5).Output, 1e-13, "nested");
        Assert.Equal(new double[5], nested.ToArray());
    }

    [Fact]
    public void GradOfVHv()
    {
        // f = Σ xᵢ⁴/12: H = diag(xᵢ²), vᵀHv = Σ xᵢ²vᵢ², whose gradient is 2xᵢvᵢ²
        Real F(Vec x) => Vec.Sum(Vec.Pow(x, 4.0)) / 12.0;
        double[] v = { 1.0, -2.0, 0.5 }, x = { 0.3, 1.1, -2.0 };
        var g = Fn.Grad((Vec p) => Vec.Dot(new Vec(v), Fn.Hvp(F)(p, v)))(x);
        Approx.Equal(x.Select((xi, i) => 2 * xi * v[i] * v[i]).ToArray(), g, 1e-14);
    }

    [Fact]
    public void UnusedNaNValuesDoNotPoisonGradientOrHessian()
    {
        // log(−1)·x₀ is NaN with a NaN partial, but it does not reach the output
        Real F(Vec x)
        {
            var unused = Real.Log(x[0]) * x[0];
            Assert.True(Real.IsNaN(unused));
            return x[0] * x[0] * x[1];
        }
        double[] x = { -1.0, 3.0 };
        Assert.Equal(new[] { -6.0, 1.0 }, (double[])Fn.Grad(F)(x));
        Approx.Equal(new[,] { { 6.0, -2.0 }, { -2.0, 0.0 } }, Fn.Hessian(F)(x), 0, "tape");
        Approx.Equal(new[,] { { 6.0, -2.0 }, { -2.0, 0.0 } }, Fn.JacFwd(Fn.Grad(F))(x), 0, "JacFwd∘Grad");
        Assert.Equal(new[] { 4.0, -2.0 }, (double[])Fn.Hvp(F)(x, new[] { 1.0, 1.0 }));
    }
}
