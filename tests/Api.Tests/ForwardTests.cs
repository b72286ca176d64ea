using Hybrid.Kernel;
using Xunit;
using static Hybrid.Tests.TestFunctions;

namespace Hybrid.Tests;

public class ForwardTests
{
    static readonly double[] X = { 0.4, -0.7, 1.3 };
    static readonly double[] V = { 0.5, 2.0, -1.0 };

    [Fact]
    public void JvpOfVectorFunctionIsJTimesV()
    {
        var (y, t) = Fn.Jvp(F, X, V);
        Approx.Equal(F(X).ToArray(), y, 0);
        Approx.Equal(MatVec(JacobianF(X), V), t, 1e-15);
    }

    [Fact]
    public void JvpOfScalarFunctionIsDirectionalDerivative()
    {
        double[] x = { -1.2, 1.0, 0.5, 2.0, -0.3 }, v = { 1.0, -0.5, 0.25, 2.0, 3.0 };
        var (y, t) = Fn.Jvp(RosenbrockSliced, x, v);
        Assert.Equal(RosenbrockLoop(x).Value, y.Value, 12);
        Approx.Equal(Dot(RosenbrockGrad(x), v), t.Value, 1e-13);
    }

    [Fact]
    public void JvpOfLogisticLossIsGradientDotV()
    {
        double[] w = { 0.3, -0.8, 0.5 };
        Approx.Equal(Dot(LogisticGrad(w), V), Fn.Jvp(LogisticLoss, w, V).Tangent.Value, 1e-14);
    }

    [Fact]
    public void JvpOfCurve()
    {
        var (y, t) = Fn.Jvp((Real s) => Vec.OfReals(new[] { Real.Cos(s), Real.Sin(s), s * s }), 0.8, 2.0);
        Approx.Equal(new[] { Math.Cos(0.8), Math.Sin(0.8), 0.8 * 0.8 }, y, 0);
        Approx.Equal(new[] { -2 * Math.Sin(0.8), 2 * Math.Cos(0.8), 3.2 }, t, 1e-15);
    }

    [Fact]
    public void JvpOfScalarFunction()
    {
        var (y, t) = Fn.Jvp((Real s) => Real.Tanh(s), 0.3, -2.0);
        Approx.Equal(Math.Tanh(0.3), y.Value, 1e-16);
        Approx.Equal(-2.0 * (1 - Math.Tanh(0.3) * Math.Tanh(0.3)), t.Value, 1e-15);
    }

    [Fact]
    public void LinearizeGivesOutputAndReusableJvp()
    {
        var (y, jvp) = Fn.Linearize(F, X);
        Approx.Equal(F(X).ToArray(), y, 0);
        Approx.Equal(MatVec(JacobianF(X), V), jvp(V), 1e-15);
        double[] w = { 0.0, 1.0, 0.0 };
        Approx.Equal(MatVec(JacobianF(X), w), jvp(w), 1e-15);

        var (s, ds) = Fn.Linearize((Real t) => t * t * t, 2.0);
        Assert.Equal(8.0, s.Value);
        Assert.Equal(12.0, ds(1.0).Value);
        Assert.Equal(-6.0, ds(-0.5).Value);
    }

    [Fact]
    public void JvpOfAVjpIsTheSecondOrderTerm()
    {
        // G(x) = J(x)ᵀu for F(x) = [x0² x1, sin x0] and u = [1, 2]: G = [2x0x1 + 2cos x0, x0²]
        Vec F2(Vec x) => Vec.OfReals(new[] { x[0] * x[0] * x[1], Real.Sin(x[0]) });
        double[] u = { 1.0, 2.0 }, x = { 0.6, -1.4 }, v = { 0.3, 0.9 };
        var (g, t) = Fn.Jvp((Vec p) => Fn.Vjp(F2, p).Pullback(u), x, v);
        Approx.Equal(new[] { 2 * x[0] * x[1] + 2 * Math.Cos(x[0]), x[0] * x[0] }, g, 1e-15);
        Approx.Equal(new[]
        {
            2 * x[1] * v[0] + 2 * x[0] * v[1] - 2 * Math.Sin(x[0]) * v[0],
            2 * x[0] * v[0],
        }, t, 1e-15);
    }

    [Fact]
    public void TopLevelLinearizeRecordsOnceAndNestedLinearizeIsDifferentiable()
    {
        var calls = 0;
        Vec Counted(Vec x) { calls++; return F(x); }
        var (_, jvp) = Fn.Linearize(Counted, X);
        jvp(V);
        jvp(new[] { 1.0, 0.0, 0.0 });
        Assert.Equal(1, calls);

        // inside Grad over a: Σ J(a·x)·v, against finite differences
        Real G(Real a) => Vec.Sum(Fn.Linearize(F, new Vec(X) * a).Jvp(V));
        var fd = Diff(p => G(p[0]).Value, new[] { 0.9 }, 0);
        Approx.Equal(fd, Fn.Grad(G)(0.9).Value, 1e-9);
    }
}
