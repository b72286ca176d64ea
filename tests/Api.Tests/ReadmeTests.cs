using System.Numerics;
using Hybrid.Kernel;
using Xunit;

namespace Hybrid.Tests;

/// <summary>The README's C# snippets, as written there, with the numbers they promise.</summary>
public class ReadmeTests
{
    static Real Square(Real x) => x * x;
    static T F<T>(T x) where T : INumberBase<T>, IExponentialFunctions<T>, ITrigonometricFunctions<T> => T.Exp(x) * T.Sin(x);
    static Real Rosenbrock(Vec x) =>
        Vec.Sum(100.0 * Vec.Square(x[1..] - Vec.Square(x[..^1])) + Vec.Square(1.0 - x[..^1]));

    [Fact]
    public void GradientIntoABufferSnippet()
    {
        double[] x = { -1.2, 1.0, 0.5 }, grad = new double[3];
        double fx = Fn.GradAndValue(Rosenbrock, x, grad);
        var (g, v) = Fn.GradAndValue(Rosenbrock)(x);
        Assert.Equal(v.Value, fx);
        Assert.Equal((double[])g, grad); // the same numbers to the last bit
    }

    [Fact]
    public void TransformsSnippet()
    {
        Assert.Equal(4.0, Fn.Grad((Real x) => Square(x))(2.0).Value);
        var (grad, value) = Fn.GradAndValue((Real x) => Square(x))(2.0);
        Assert.Equal((4.0, 4.0), (grad.Value, value.Value));
        var (g, v, aux) = Fn.GradAndValue((Real x) => (Square(x), "any aux"))(2.0);
        Assert.Equal((4.0, 4.0, "any aux"), (g.Value, v.Value, aux));
        var (y, dy) = Fn.Jvp((Real x) => Square(x), 2.0, 1.0);
        Assert.Equal((4.0, 4.0), (y.Value, dy.Value));
        var (out1, pullback) = Fn.Vjp((Vec x) => x * x, new[] { 1.0, 2.0 });
        Assert.Equal(new[] { 1.0, 4.0 }, (double[])out1);
        Assert.Equal(new[] { 0.0, 4.0 }, (double[])pullback(new[] { 0.0, 1.0 }));
        Mat J = Fn.Jacobian((Vec x) => Vec.Exp(x) * x[0])(new[] { 1.0, 2.0 });
        Assert.Equal(2 * Math.E, J[0, 0].Value, 14);              // ∂(e^x₀·x₀)/∂x₀ = e(1 + 1)
        Assert.Equal(Math.Exp(2), J[1, 0].Value, 14);
        Assert.Equal(Math.Exp(2), J[1, 1].Value, 14);
        Mat H = Fn.Hessian((Vec x) => Vec.Sum(Vec.Square(x[1..] - Vec.Square(x[..^1]))))(new[] { 1.0, 2.0, 3.0 });
        Assert.Equal(12.0 * 1 - 4 * 2 + 0, H[0, 0].Value, 12);    // 12x₀² − 4x₁
        Vec Hv = Fn.Hvp((Vec x) => Vec.Dot(x, x))(new[] { 1.0, 2.0 }, new[] { 0.0, 1.0 });
        Assert.Equal(new[] { 0.0, 2.0 }, (double[])Hv);
        Vec squares = Fn.Vmap((Real x) => x % 2 == 0 ? x * x : x)(new[] { 1.0, 2.0, 3.0, 4.0 });
        Assert.Equal(new[] { 1.0, 4.0, 3.0, 16.0 }, (double[])squares);
        var (carry, ys) = Fn.Scan((Real c, Real x) => (c + x, c * x), 0.0, new[] { 1.0, 2.0, 3.0 });
        Assert.Equal(6.0, carry.Value);
        Assert.Equal(new[] { 0.0, 2.0, 9.0 }, (double[])ys);
        Assert.Equal(new[] { -215.6, 112.0, -100.0 }, ((double[])Fn.Grad(Rosenbrock)(new[] { -1.2, 1.0, 0.5 })).Select(d => Math.Round(d, 10)));
    }

    [Fact]
    public void GenericMathSnippet()
    {
        double plain = F(1.0);
        Dual d = F(new Dual(1.0, 1.0));
        HyperDual h = F(new HyperDual(1.0, 1.0, 1.0, 0.0));
        Real g = Fn.Grad((Real x) => F(x))(1.0);
        Assert.Equal(Math.Exp(1) * Math.Sin(1), plain, 15);
        Assert.Equal(Math.E * (Math.Sin(1) + Math.Cos(1)), d.Tangent, 14);
        Assert.Equal(2 * Math.E * Math.Cos(1), h.Eps12, 14);
        Assert.Equal(d.Tangent, g.Value, 14);
    }

    [Fact]
    public void NestingSnippet() =>
        Assert.Equal(1.0, Fn.Grad((Real x) => x * Fn.Grad((Real y) => x + y)(5.0))(3.0).Value);

    [Fact]
    public void NewtonSnippet()
    {
        var result = Newton.Minimize(Rosenbrock, new[] { -1.2, 1.0 });
        Assert.Equal(Termination.GradientTolerance, result.Termination);
        Assert.Equal(1.0, result.Solution[0], 8);
        Assert.Equal(1.0, result.Solution[1], 8);
    }
}
