using Hybrid.Kernel;
using Xunit;
using static Hybrid.Tests.TestFunctions;

namespace Hybrid.Tests;

public class VjpTests
{
    static readonly double[] X = { 0.4, -0.7, 1.3 };

    static double[] TransposeTimes(double[,] j, double[] u)
    {
        var r = new double[j.GetLength(1)];
        for (var c = 0; c < r.Length; c++)
            for (var i = 0; i < u.Length; i++) r[c] += j[i, c] * u[i];
        return r;
    }

    [Fact]
    public void PullbackIsJTransposeTimesUAndReusable()
    {
        var (y, pullback) = Fn.Vjp(F, X);
        Approx.Equal(F(X).ToArray(), y, 0);
        var j = JacobianF(X);
        double[] u1 = { 1.0, 0.0, -2.0, 0.5 }, u2 = { 0.0, 3.0, 1.0, -1.0 };
        Approx.Equal(TransposeTimes(j, u1), pullback(u1), 1e-15);
        Approx.Equal(TransposeTimes(j, u2), pullback(u2), 1e-15);
        Approx.Equal(TransposeTimes(j, u1), pullback(u1), 1e-15);
    }

    [Fact]
    public void InnerProductIdentityHoldsForRandomDirections()
    {
        var rng = new Random(1234);
        for (var trial = 0; trial < 20; trial++)
        {
            var x = Enumerable.Range(0, 3).Select(_ => rng.NextDouble() * 2 - 1).ToArray();
            var u = Enumerable.Range(0, 4).Select(_ => rng.NextDouble() * 2 - 1).ToArray();
            var v = Enumerable.Range(0, 3).Select(_ => rng.NextDouble() * 2 - 1).ToArray();
            var jv = Fn.Jvp(F, x, v).Tangent.ToArray();
            var jtu = Fn.Vjp(F, x).Pullback(u).ToArray();
            Approx.Equal(Dot(u, jv), Dot(jtu, v), 1e-14, $"trial {trial}");
        }
    }

    [Fact]
    public void ScalarOutputPullbackScalesTheGradient()
    {
        double[] x = { -1.2, 1.0, 0.5 };
        var (y, pullback) = Fn.Vjp(RosenbrockLoop, x);
        Assert.Equal(RosenbrockLoop(x).Value, y.Value);
        Approx.Equal(RosenbrockGrad(x).Select(g => 2.5 * g).ToArray(), pullback(2.5), 1e-13);
        Approx.Equal(RosenbrockGrad(x), pullback(1.0), 1e-13);
    }

    [Fact]
    public void ScalarAndCurvePullbacks()
    {
        var (y, pb) = Fn.Vjp((Real t) => Real.Log(t), 4.0);
        Assert.Equal(Math.Log(4.0), y.Value);
        Assert.Equal(0.75, pb(3.0).Value);

        var (c, pc) = Fn.Vjp((Real t) => Vec.OfReals(new[] { t * t, Real.Exp(t) }), 0.5);
        Approx.Equal(new[] { 0.25, Math.Exp(0.5) }, c, 1e-16);
        Approx.Equal(2.0 * 1.0 - 1.0 * Math.Exp(0.5), pc(new[] { 2.0, -1.0 }).Value, 1e-15);
    }
}
