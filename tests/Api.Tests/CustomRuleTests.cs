using Hybrid.Kernel;
using Xunit;

namespace Hybrid.Tests;

/// <summary>
/// User rules (Fn.CustomJvp, Fn.CustomVjp): each under reverse, forward, Hessian (second-order tape),
/// nested Grad∘Grad and JacFwd∘Grad, Jacobians, Vmap and Scan, against closed forms and differences.
/// </summary>
public class CustomRuleTests
{
    private static double Sigmoid(double x) => 1.0 / (1.0 + Math.Exp(-x));

    /// <summary>softplus(x) = log(1 + eˣ), computed stably on the primal; derivative σ(x).</summary>
    private static readonly Func<Real, Real> Softplus = Fn.CustomJvp(
        x => x.Value > 30 ? x.Value : Math.Log(1 + Math.Exp(x.Value)),
        (x, xd) => xd / (1.0 + Real.Exp(-x)));

    /// <summary>y with y³ + y = a, by Newton's method on doubles (opaque); dy/da = 1/(3y² + 1).</summary>
    private static readonly Func<Real, Real> CubicRoot = Fn.CustomVjp(
        a =>
        {
            var y = 0.0;
            for (var k = 0; k < 60; k++) y -= (y * y * y + y - a.Value) / (3 * y * y + 1);
            return y;
        },
        (a, y, yb) => yb / (3.0 * y * y + 1.0));

    private static double Fd(Func<double, double> f, double x, double h = 1e-5) => (f(x + h) - f(x - h)) / (2 * h);

    [Fact]
    public void SoftplusIsStableAndEveryModeGivesSigmoid()
    {
        foreach (var x in new[] { -3.0, 0.5, 40.0, 1000.0 })
        {
            var s = Sigmoid(x);
            Assert.Equal(x > 30 ? x : Math.Log(1 + Math.Exp(x)), Softplus(x).Value);
            Approx.Equal(s, Fn.Grad(Softplus)(x).Value, 1e-15, $"reverse at {x}");
            Approx.Equal(s, Fn.Jvp(Softplus, x, 1.0).Tangent.Value, 1e-15, $"forward at {x}");
            Approx.Equal(s, Fn.Vjp(Softplus, x).Pullback(1.0).Value, 1e-15, $"vjp at {x}");
            Approx.Equal(s * (1 - s), Fn.Hessian(Softplus)(x).Value, 1e-14, $"Hessian (tape) at {x}");
            Approx.Equal(s * (1 - s), Fn.Grad(Fn.Grad(Softplus))(x).Value, 1e-14, $"Grad∘Grad at {x}");
        }
        Approx.Equal(Fd(x => Math.Log(1 + Math.Exp(x)), 0.5), Fn.Grad(Softplus)(0.5).Value, 1e-9, "fd");
    }

    [Fact]
    public void AnImplicitlyDifferentiatedSolverGivesExactFirstAndSecondDerivatives()
    {
        const double a = 2.0; // y³ + y = 2 at y = 1
        Assert.Equal(1.0, CubicRoot(a).Value, 14);
        const double dy = 0.25, d2y = -6.0 * dy * dy * dy; // y″ = −6y·y′³
        Approx.Equal(dy, Fn.Grad(CubicRoot)(a).Value, 1e-15, "reverse");
        Approx.Equal(dy, Fn.Jvp(CubicRoot, a, 1.0).Tangent.Value, 1e-15, "forward (transposed vjp rule)");
        Approx.Equal(d2y, Fn.Hessian(CubicRoot)(a).Value, 1e-14, "Hessian (tape)");
        Approx.Equal(d2y, Fn.Grad(Fn.Grad(CubicRoot))(a).Value, 1e-14, "Grad∘Grad");
        Approx.Equal(d2y, Fn.Jvp(Fn.Grad(CubicRoot), a, 1.0).Tangent.Value, 1e-14, "Jvp∘Grad");
        Approx.Equal(Fd(v => CubicRoot(v).Value, 3.7), Fn.Grad(CubicRoot)(3.7).Value, 1e-9, "fd");
        // inside arithmetic, with x appearing elsewhere too: d/da [a · y(a)] = y + a·y′
        Approx.Equal(1.0 + a * dy, Fn.Grad((Real t) => t * CubicRoot(t))(a).Value, 1e-15, "product");
    }

    /// <summary>logsumexp, stable on doubles; gradient softmax(x) written with Vec operations.</summary>
    private static readonly Func<Vec, Real> LogSumExp = Fn.CustomVjp(
        (Vec x) =>
        {
            var v = x.ToArray();
            var m = v.Max();
            return m + Math.Log(v.Sum(e => Math.Exp(e - m)));
        },
        (x, y, yb) => Vec.Exp(x - y) * yb);

    [Fact]
    public void LogSumExpHasSoftmaxGradientAndItsHessianInEveryMode()
    {
        double[] x = { 0.3, -1.2, 2.0, 700.0 - 699.5 };
        var ex = x.Select(Math.Exp).ToArray();
        var s = ex.Select(e => e / ex.Sum()).ToArray();
        var h = new double[4, 4];
        for (var i = 0; i < 4; i++)
            for (var j = 0; j < 4; j++)
                h[i, j] = (i == j ? s[i] : 0) - s[i] * s[j];
        Approx.Equal(s, Fn.Grad(LogSumExp)(x), 1e-15, "gradient");
        Approx.Equal(h, Fn.Hessian(LogSumExp)(x), 1e-14, "Hessian (tape)");
        Approx.Equal(h, Fn.JacFwd(Fn.Grad(LogSumExp))(x), 1e-14, "JacFwd∘Grad");
        Approx.Equal(h, Fn.JacRev(Fn.Grad(LogSumExp))(x), 1e-14, "JacRev∘Grad");
        var v = new[] { 1.0, 0.0, -1.0, 0.5 };
        Approx.Equal(Enumerable.Range(0, 4).Select(i => Enumerable.Range(0, 4).Sum(j => h[i, j] * v[j])).ToArray(),
            Fn.Hvp(LogSumExp)(x, v), 1e-14, "Hvp");
        Approx.Equal(s.Zip(v, (a, b) => a * b).Sum(), Fn.Jvp(LogSumExp, x, v).Tangent.Value, 1e-15, "Jvp (transposed)");
        Assert.Equal(1000.0 + Math.Log(1 + Math.Exp(-1)), LogSumExp(new[] { 1000.0, 999.0 }).Value, 12); // stable
    }

    /// <summary>F(x) = (x₀x₁, sin x₀, x₁²) with its jvp rule.</summary>
    private static readonly Func<Vec, Vec> F = Fn.CustomJvp(
        (Vec x) => new[] { x[0].Value * x[1].Value, Math.Sin(x[0].Value), x[1].Value * x[1].Value },
        (x, xd) => Vec.OfReals(new[] { x[1] * xd[0] + x[0] * xd[1], Real.Cos(x[0]) * xd[0], 2.0 * x[1] * xd[1] }));

    [Fact]
    public void AVectorJvpRuleGivesTheJacobianInBothModesAndNests()
    {
        double[] x = { 0.7, -1.3 };
        var j = new[,] { { x[1], x[0] }, { Math.Cos(x[0]), 0 }, { 0, 2 * x[1] } };
        Approx.Equal(j, Fn.JacFwd(F)(x), 1e-15, "JacFwd");
        Approx.Equal(j, Fn.JacRev(F)(x), 1e-15, "JacRev (transposed rule)");
        var w = new[] { 1.0, 2.0, -0.5 };
        Real G(Vec v) => Vec.Dot(F(v), w); // Hessian: w₀[[0,1],[1,0]] + w₁[[−sin x₀, 0],[0, 0]] + w₂[[0,0],[0,2]]
        var hg = new[,] { { -w[1] * Math.Sin(x[0]), w[0] }, { w[0], 2 * w[2] } };
        Approx.Equal(hg, Fn.Hessian(G)(x), 1e-14, "Hessian (tape)");
        Approx.Equal(hg, Fn.JacFwd(Fn.Grad(G))(x), 1e-14, "JacFwd∘Grad");
        Approx.Equal(hg, Fn.JacRev(Fn.Grad(G))(x), 1e-14, "JacRev∘Grad");
        // under Vmap (rows) and Scan (a carried state)
        var rows = Fn.Vmap(F)(new Mat(new[,] { { 0.7, -1.3 }, { 0.0, 2.0 } }));
        Assert.Equal(0.0 * 2.0, rows[1, 0].Value);
        var (c, _) = Fn.Scan((Vec carry, Real t) => (F(carry)[..2] * t, t), (Vec)x, new[] { 1.0, 0.5 });
        Approx.Equal(Fn.JacFwd((Vec v) => F(F(v)[..2] * 1.0)[..2] * 0.5)(x), Fn.JacFwd((Vec v) => Fn.Scan((Vec carry, Real t) => (F(carry)[..2] * t, t), v, new[] { 1.0, 0.5 }).Carry)(x), 1e-14, "Scan");
        Assert.Equal(2, c.Length);
    }

    [Fact]
    public void AVectorVjpRuleWorksForwardToo()
    {
        // y = ∛x elementwise by Newton on doubles; x̄ = ȳ / (3y²)
        var cbrt = Fn.CustomVjp(
            (Vec x) => x.ToArray().Select(v => { var y = 1.0; for (var k = 0; k < 80; k++) y -= (y * y * y - v) / (3 * y * y); return y; }).ToArray(),
            (x, y, yb) => yb / (3.0 * Vec.Square(y)));
        double[] x = { 8.0, 27.0 };
        var d = new[,] { { 1.0 / 12, 0 }, { 0, 1.0 / 27 } };
        Approx.Equal(d, Fn.JacRev(cbrt)(x), 1e-15, "JacRev");
        Approx.Equal(d, Fn.JacFwd(cbrt)(x), 1e-15, "JacFwd (transposed rule)");
        Approx.Equal(new[] { -2.0 / (9 * 32), 0.0 }, Fn.Grad((Vec v) => Fn.Grad((Vec u) => Vec.Sum(cbrt(u)))(v)[0])(x), 1e-14, "Grad∘Grad");
    }

    [Fact]
    public void GradientClippingInReverseMode()
    {
        var clip = Fn.CustomVjp((Real x) => x, (x, y, yb) => Real.Max(Real.Min(yb, 1.0), -1.0));
        Assert.Equal(1.0, Fn.Grad((Real t) => 10.0 * clip(t))(3.0).Value);   // 10 clipped to 1
        Assert.Equal(-1.0, Fn.Grad((Real t) => -4.0 * clip(t))(3.0).Value);
        Assert.Equal(0.5, Fn.Grad((Real t) => 0.5 * clip(t))(3.0).Value);
    }

    [Fact]
    public void FIsCalledOnPrimalValuesOnly()
    {
        var seen = new List<bool>();
        var g = Fn.CustomJvp((Vec x) => { seen.Add(x.IsConstant); return x * 2.0; }, (x, xd) => xd * 2.0);
        Fn.Grad((Vec v) => Fn.Grad((Vec u) => Vec.Sum(g(u) * u))(v)[0])(new[] { 1.0, 2.0 });
        Fn.Hessian((Vec u) => Vec.Sum(g(u) * u))(new[] { 1.0, 2.0 });
        Assert.NotEmpty(seen);
        Assert.All(seen, Assert.True);
    }

    [Fact]
    public void BadRulesAndArgumentsGetClearErrors()
    {
        Assert.Throws<ArgumentNullException>(() => Fn.CustomJvp((Func<Real, Real>)null!, (x, xd) => xd));
        Assert.Throws<ArgumentNullException>(() => Fn.CustomVjp((Real x) => x, (Func<Real, Real, Real, Real>)null!));
        var bad = Fn.CustomJvp((Vec x) => x, (x, xd) => xd[..1]);
        var e = Assert.Throws<InvalidOperationException>(() => Fn.JacFwd(bad)(new[] { 1.0, 2.0 }));
        Assert.Contains("jvp rule returned 1 values but 2 were expected", e.Message);
        var nul = Fn.CustomVjp((Vec x) => x, (x, y, yb) => null!);
        Assert.Throws<InvalidOperationException>(() => Fn.Grad((Vec v) => Vec.Sum(nul(v)))(new[] { 1.0 }));
        Assert.Throws<ArgumentException>(() => Fn.CustomVjp((Vec x) => Vec.Sum(x), (x, y, yb) => x)(Array.Empty<double>()));
    }

    [Fact]
    public void ACustomRuleOnAHessianRecordingInsideAnInnerTransformHasTheExactHessian()
    {
        // the custom rule is one node at every level, so the top-level second-order tape replays it
        // too (this threw NotSupportedException before the rule became a primitive)
        Real G(Vec x) => Fn.Grad((Real y) => Softplus(x[0] * x[1]) * y)(1.0);
        // ∂²/∂x² softplus(x₀x₁) at (0.5, 2)
        var s = Sigmoid(1.0);
        var expected = new[,] { { 4 * s * (1 - s), s + 1.0 * s * (1 - s) }, { s + 1.0 * s * (1 - s), 0.25 * s * (1 - s) } };
        Approx.Equal(expected, Fn.Hessian(G)(new[] { 0.5, 2.0 }), 1e-13, "Hessian (tape)");
        Approx.Equal(expected, Fn.JacFwd(Fn.Grad(G))(new[] { 0.5, 2.0 }), 1e-13, "JacFwd∘Grad");
        Approx.Equal(new[] { expected[0, 0] + expected[0, 1], expected[1, 0] + expected[1, 1] },
            Fn.Hvp(G)(new[] { 0.5, 2.0 }, new[] { 1.0, 1.0 }), 1e-13, "Hvp");
    }

    [Fact]
    public void AuxBelongsToTheEnclosingLevel()
    {
        // the example: d/dy of the aux x·y at x = 2 is 2
        Assert.Equal(2.0, Fn.Grad((Real y) => Fn.GradAndValue((Real x) => (x * y, x * y))(2.0).Aux)(3.0).Value);
        // Reals inside tuples and arrays: differentiable by the enclosing transform, constants at the top
        var g = Fn.Grad((Real y) =>
        {
            var (_, _, aux) = Fn.GradAndValue((Real x) => (x * y, (Label: "p", P: x * y * y, Parts: new[] { y, x })))(2.0);
            Assert.Equal("p", aux.Label);
            return aux.P + aux.Parts[0] * aux.Parts[1];
        })(3.0);
        Assert.Equal(2 * 2 * 3 + 2, g.Value); // d/dy (2y² + 2y) at 3
        var (_, _, top) = Fn.GradAndValue((Vec x) => (Vec.Sum(x), (x * 2.0, Tuple.Create(x[0], "a"))))(new[] { 1.0, 2.0 });
        Assert.Equal(new[] { 2.0, 4.0 }, (double[])top.Item1);     // constant at the top level: no escape
        Assert.Equal(1.0, (double)top.Item2.Item1);
    }
}
