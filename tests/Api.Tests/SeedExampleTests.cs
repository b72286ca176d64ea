using Hybrid.Kernel;
using Xunit;
using static Hybrid.Tests.TestFunctions;

namespace Hybrid.Tests;

/// <summary>Every row of the seed examples (samples/README.md), with its exact numbers.</summary>
public class SeedExampleTests
{
    [Fact]
    public void Row1_GradAndValueWithAux_PassesAuxThroughUnchanged()
    {
        var aux = "any object";
        var (grad, value, got) = Fn.GradAndValue((Real x) => (Square(x), aux))(2.0);
        Assert.Equal(4.0, grad.Value);
        Assert.Equal(4.0, value.Value);
        Assert.Same(aux, got);

        var (g2, v2, none) = Fn.GradAndValue((Real x) => (Square(x), (object?)null))(2.0);
        Assert.Equal(4.0, (double)g2);
        Assert.Equal(4.0, (double)v2);
        Assert.Null(none);
    }

    [Fact]
    public void Row2_VmapSquareOver100Points_GradientOfSumIs2x()
    {
        var xs = Enumerable.Range(0, 100).Select(i => 10.0 * i / 99).ToArray();
        double[] ys = Fn.Vmap((Real x) => Square(x))(xs);
        for (var i = 0; i < xs.Length; i++) Assert.Equal(xs[i] * xs[i], ys[i]);

        double[] grad = Fn.Grad((Vec x) => Vec.Sum(Fn.Vmap((Real t) => Square(t))(x)))(xs);
        for (var i = 0; i < xs.Length; i++) Assert.Equal(2 * xs[i], grad[i]);
    }

    [Fact]
    public void Row3_ScanSquareIfEvenWithAux_OutputsGradientAndAux()
    {
        double[] xs = { 1, 2, 3, 4 };
        var (grad, _, aux) = Fn.GradAndValue((Vec x) =>
        {
            var (_, steps) = Fn.Scan((Real carry, Real xi) => (carry, (Y: SquareIfEven(xi), Parity: xi.Value % 2 == 0 ? "even" : "odd")), 0.0, x);
            var ys = Vec.OfReals(steps.Select(s => s.Y).ToArray());
            return (Vec.Sum(ys), (Outputs: ys.ToArray(), Parity: steps.Select(s => s.Parity).ToArray()));
        })(xs);
        Assert.Equal(new[] { 1.0, 4.0, 3.0, 16.0 }, aux.Outputs);
        Assert.Equal(new[] { 1.0, 4.0, 1.0, 8.0 }, (double[])grad);
        Assert.Equal(new[] { "odd", "even", "odd", "even" }, aux.Parity);

        var (_, outputs) = Fn.Scan((Real carry, Real xi) => (carry, SquareIfEven(xi)), 0.0, xs);
        Assert.Equal(new[] { 1.0, 4.0, 3.0, 16.0 }, (double[])outputs);
    }

    [Fact]
    public void Row4_HessianOfSquareAt2Is2()
    {
        Assert.Equal(2.0, Fn.Hessian((Real x) => Square(x))(2.0).Value);
        var h = Fn.Hessian((Vec x) => Square(x[0]))(new[] { 2.0 });
        Assert.Equal(1, h.Rows);
        Assert.Equal(1, h.Cols);
        Assert.Equal(2.0, h[0, 0].Value);
    }

    [Fact]
    public void Row5_JvpOfSquareAt2Along1Is4And4()
    {
        var (output, tangent) = Fn.Jvp((Real x) => Square(x), 2.0, 1.0);
        Assert.Equal(4.0, output.Value);
        Assert.Equal(4.0, tangent.Value);
    }

    [Fact]
    public void Row6_PlainReverseModeGradientOfSquareAt2Is4()
    {
        var (output, pullback) = Fn.Vjp((Real x) => Square(x), 2.0);
        Assert.Equal(4.0, output.Value);
        Assert.Equal(4.0, pullback(1.0).Value);
    }

    [Fact]
    public void Row7_VmapSquareIfEven_DataDependentControlFlow()
    {
        double[] xs = { 1, 2, 3, 4 };
        double[] ys = Fn.Vmap((Func<Real, Real>)SquareIfEven)(xs);
        Assert.Equal(new[] { 1.0, 4.0, 3.0, 16.0 }, ys);
        double[] grad = Fn.Grad((Vec x) => Vec.Sum(Fn.Vmap((Func<Real, Real>)SquareIfEven)(x)))(xs);
        Assert.Equal(new[] { 1.0, 4.0, 1.0, 8.0 }, grad);
    }

    [Fact]
    public void Row8_ManualDerivativeBesideAutomatic()
    {
        static double Manual(double x) => 2 * x;
        Assert.Equal(4.0, Manual(2.0));
        Assert.Equal(4.0, (double)Fn.Grad((Real x) => Square(x))(2.0));
    }

    [Fact]
    public void Row9_GradOfSquareAt2Is4()
    {
        Assert.Equal(4.0, (double)Fn.Grad(Square<Real>)(2.0));
    }
}
