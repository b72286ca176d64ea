using Hybrid.Kernel;
using Xunit;

namespace Hybrid.Tests;

/// <summary>Perturbation confusion and nested transforms through the API.</summary>
public class NestingTests
{
    [Theory]
    [InlineData(-3.0)]
    [InlineData(0.0)]
    [InlineData(1.0)]
    [InlineData(7.5)]
    public void DxOfXTimesDyOfXPlusYIsOne(double x0)
    {
        // d/dx [x · d/dy (x + y)] = d/dx [x · 1] = 1 (confusing the perturbations gives 2)
        var d = Fn.Grad((Real x) => x * Fn.Grad((Real y) => x + y)(5.0))(x0);
        Assert.Equal(1.0, d.Value);
    }

    [Fact]
    public void DxOfXTimesDyOfXTimesYAtY2IsTwoAtX1()
    {
        // d/dy (x·y) = x, so d/dx [x · x] = 2x = 2 at x = 1
        var d = Fn.Grad((Real x) => x * Fn.Grad((Real y) => x * y)(2.0))(1.0);
        Assert.Equal(2.0, d.Value);
        // the same through forward over reverse and reverse over forward
        Assert.Equal(2.0, Fn.Jvp((Real x) => x * Fn.Grad((Real y) => x * y)(2.0), 1.0, 1.0).Tangent.Value);
        Assert.Equal(2.0, Fn.Grad((Real x) => x * Fn.Jvp((Real y) => x * y, 2.0, 1.0).Tangent)(1.0).Value);
    }

    [Fact]
    public void GradInsideVmapInsideGrad()
    {
        // g(x) = Σᵢ d/dy [xᵢ·y²] at y = xᵢ = Σᵢ 2xᵢ², so ∇g = 4x
        double[] x = { -1.5, 0.25, 2.0 };
        var g = Fn.Grad((Vec v) => Vec.Sum(Fn.Vmap((Real xi) => Fn.Grad((Real y) => xi * y * y)(xi))(v)))(x);
        Assert.Equal(x.Select(t => 4 * t).ToArray(), (double[])g);
    }

    [Fact]
    public void ThreeLevelsDeep()
    {
        // d³/dx³ x⁴ = 24x, three nested Grads and the Hessian of the gradient
        Assert.Equal(48.0, Fn.Grad(Fn.Grad(Fn.Grad((Real x) => x * x * x * x)))(2.0).Value, 12);
        Assert.Equal(-48.0, Fn.Grad(Fn.Hessian((Real x) => Real.Pow(x, 4.0)))(-2.0).Value, 12);
    }

    [Fact]
    public void JacobianOfAClosureOverAnOuterValue()
    {
        // inside Grad over a, J of x ↦ a·x is a·I; Σ J = n·a, so the derivative is n
        var d = Fn.Grad((Real a) =>
        {
            var j = Fn.JacFwd((Vec x) => x * a)(new[] { 1.0, 2.0, 3.0 });
            Real s = 0.0;
            for (var r = 0; r < 3; r++) for (var c = 0; c < 3; c++) s += j[r, c];
            return s;
        })(0.7);
        Assert.Equal(3.0, d.Value);
    }
}
