using Hybrid.Kernel;
using MathNet.Numerics.LinearAlgebra;
using Xunit;
using static Hybrid.Tests.CompiledAssert;

namespace Hybrid.Tests;

/// <summary>
/// Fn.Compile of user rules (Fn.CustomJvp, Fn.CustomVjp) and linear maps (a recorded pullback or
/// linearisation applied to a traced vector): each call is one node of the compiled graph that calls the
/// rule's own code at each call's values (f on the primal values, the user's jvp / vjp for the passes,
/// second order derived from the vjp rule as on the eager tape), so every entry point equals the eager
/// transform to the last bit and the path is compiled, not replayed eagerly.
/// </summary>
public class CompileCustomTests
{
    static double[] Random(Random r, int n, double lo = -1, double hi = 1) => Enumerable.Range(0, n).Select(_ => lo + (hi - lo) * r.NextDouble()).ToArray();

    /// <summary>f compiled at one random point, compiled (not eager), and checked against eager at five more.</summary>
    static CompiledFunction Check(Func<Vec, Real> f, int n, int seed, bool secondExact = true)
    {
        var r = new Random(seed);
        var c = Fn.Compile(f, Random(r, n));
        Assert.True(c.IsCompiled, c.NotCompiledReason);
        Assert.Null(c.NotCompiledReason);
        for (var k = 0; k < 5; k++) AllEqualEager(f, c, Random(r, n), Random(r, n), $"point {k}", secondExact ? EagerMatch.Bitwise : EagerMatch.Near);
        Assert.Equal(1, c.Recordings);
        return c;
    }

    /// <summary>softplus(x) = log(1 + eˣ) on doubles; derivative σ(x) as a jvp rule.</summary>
    static readonly Func<Real, Real> Softplus = Fn.CustomJvp(
        x => Math.Log(1 + Math.Exp(x.Value)),
        (x, xd) => xd / (1.0 + Real.Exp(-x)));

    /// <summary>y with y³ + y = a by Newton's method on doubles; dy/da = 1/(3y² + 1) as a vjp rule.</summary>
    static readonly Func<Real, Real> CubicRoot = Fn.CustomVjp(
        a =>
        {
            var y = 0.0;
            for (var k = 0; k < 60; k++) y -= (y * y * y + y - a.Value) / (3 * y * y + 1);
            return y;
        },
        (a, y, yb) => yb / (3.0 * y * y + 1.0));

    /// <summary>logsumexp on doubles; gradient softmax(x) as a vjp rule.</summary>
    static readonly Func<Vec, Real> LogSumExp = Fn.CustomVjp(
        (Vec x) =>
        {
            var v = x.ToArray();
            var m = v.Max();
            return m + Math.Log(v.Sum(e => Math.Exp(e - m)));
        },
        (x, y, yb) => Vec.Exp(x - y) * yb);

    /// <summary>F(x) = (x₀x₁, sin x₀, x₁²) with its jvp rule.</summary>
    static readonly Func<Vec, Vec> F = Fn.CustomJvp(
        (Vec x) => new[] { x[0].Value * x[1].Value, Math.Sin(x[0].Value), x[1].Value * x[1].Value },
        (x, xd) => Vec.OfReals(new[] { x[1] * xd[0] + x[0] * xd[1], Real.Cos(x[0]) * xd[0], 2.0 * x[1] * xd[1] }));

    /// <summary>G(x) = (sin x₀ · x₁, x₀ + x₁) with its vjp rule.</summary>
    static readonly Func<Vec, Vec> G = Fn.CustomVjp(
        (Vec x) => new[] { Math.Sin(x[0].Value) * x[1].Value, x[0].Value + x[1].Value },
        (x, y, yb) => Vec.OfReals(new[] { Real.Cos(x[0]) * x[1] * yb[0] + yb[1], Real.Sin(x[0]) * yb[0] + yb[1] }));

    [Fact]
    public void ScalarJvpAndVjpRulesAreCompiledNodes()
    {
        Check(x => Softplus(x[0] * x[1]) + Vec.Dot(x, x), 2, 1);
        Check(x => CubicRoot(x[0] + 2.0 * x[1]) * x[0], 2, 2);
    }

    [Fact]
    public void VectorJvpAndVjpRulesAreCompiledNodes()
    {
        Check(x => LogSumExp(Vec.Exp(x) * 0.5) + x[0], 4, 3);
        Check(x => Vec.Sum(Vec.Square(F(Vec.Sin(x)))) + Vec.Dot(F(x), Vec.Exp(F(x))), 2, 4);
        Check(x => Vec.Sum(Vec.Square(G(x))) * Vec.Dot(G(x), F(x)[..2]), 2, 5);
    }

    [Fact]
    public void AVectorFunctionThroughARuleHasTheEagerJacobianAndJvp()
    {
        Func<Vec, Vec> f = x => Vec.Exp(F(x)) + Vec.Square(F(x));
        var r = new Random(6);
        var c = Fn.Compile(f, Random(r, 2));
        Assert.True(c.IsCompiled, c.NotCompiledReason);
        for (var k = 0; k < 4; k++)
        {
            var x = Random(r, 2);
            var v = Random(r, 2);
            var y = new double[3];
            c.Value(x, y);
            Bitwise(f(x).ToArray(), y, "Value");
            var jv = new double[3];
            c.Jvp(x, v, y, jv);
            Bitwise(Fn.Jvp(f, x, v).Tangent.ToArray(), jv, "Jvp");
            Bitwise(Fn.Jacobian(f)(x).ToMatrix(), c.Jacobian(x), "Jacobian");
        }
        Assert.Equal(1, c.Recordings);
    }

    [Fact]
    public void EachCallRunsTheRulesOwnCodeWithoutRecordingAgain()
    {
        var values = 0;
        var rules = 0;
        var square = Fn.CustomVjp((Vec v) => { Interlocked.Increment(ref values); return new[] { v[0].Value * v[0].Value, v[1].Value }; },
            (v, y, yb) => { Interlocked.Increment(ref rules); return Vec.OfReals(new[] { 2.0 * v[0] * yb[0], yb[1] }); });
        Func<Vec, Real> f = x => Vec.Sum(Vec.Exp(square(x)));
        var c = Fn.Compile(f, new[] { 0.5, 0.25 });
        Assert.True(c.IsCompiled, c.NotCompiledReason);
        var grad = new double[2];
        c.GradAndValue(new[] { 0.3, 0.1 }, grad);
        values = 0;
        rules = 0;
        for (var k = 0; k < 3; k++) c.GradAndValue(new[] { 0.1 * k, -0.2 }, grad);
        Assert.Equal(3, values); // f on the primal values once per call
        Assert.Equal(3, rules); // the vjp rule once per reverse pass
        Bitwise(new[] { 2.0 * 0.2 * Math.Exp(0.04), Math.Exp(-0.2) }, grad, "gradient at (0.2, −0.2)");
        values = 0;
        c.Value(new[] { 0.7, 0.1 });
        Assert.Equal(1, values);
        Assert.Equal(1, c.Recordings);
    }

    [Fact]
    public void ARulesValueFeedsAGuard()
    {
        Func<Vec, Real> f = x =>
        {
            var s = Softplus(x[0]) - 1.0; // softplus(x₀) > 1 ⟺ x₀ > log(e − 1) ≈ 0.541
            return s > 0 ? s * s * x[1] : Real.Sin(s) + x[1];
        };
        var c = Fn.Compile(f, new[] { 2.0, 1.0 });
        Assert.True(c.IsCompiled, c.NotCompiledReason);
        foreach (var x in new[] { new[] { 2.0, 1.0 }, new[] { -1.0, 0.5 }, new[] { 1.5, -0.3 }, new[] { 0.2, 2.0 } })
            AllEqualEager(f, c, x, new[] { 1.0, -0.5 }, $"x = ({x[0]}, {x[1]})");
        Assert.Equal(2, c.Recordings);
    }

    [Fact]
    public void OneCompiledFunctionWithRulesServesEightThreadsAtOnce()
    {
        Func<Vec, Real> f = x => LogSumExp(Vec.Sin(x)) + CubicRoot(x[0] * x[1]) + Vec.Sum(Vec.Square(G(x[..2])));
        var c = Fn.Compile(f, new double[3]);
        Assert.True(c.IsCompiled, c.NotCompiledReason);
        var points = Enumerable.Range(0, 8).Select(k => Random(new Random(200 + k), 3)).ToArray();
        var expected = points.Select(x => Fn.GradAndValue(f)(x)).Select(r => (r.Grad.ToArray(), r.Value.Value)).ToArray();
        var hessians = points.Select(x => Fn.Hessian(f)(x).ToMatrix()).ToArray();
        Parallel.For(0, 8, new ParallelOptions { MaxDegreeOfParallelism = 8 }, k =>
        {
            for (var rep = 0; rep < 20; rep++)
            {
                var grad = new double[3];
                Bitwise(expected[k].Item2, c.GradAndValue(points[k], grad), $"thread {k} value");
                Bitwise(expected[k].Item1, grad, $"thread {k} gradient");
                if (rep % 5 == 0) SameHessian(hessians[k], c.Hessian(points[k]), $"thread {k} Hessian");
            }
        });
        Assert.Equal(1, c.Recordings);
    }

    /// <summary>h: ℝ³ → ℝ⁴, recorded once at a constant point for its pullback and linearisation.</summary>
    static Vec H(Vec u) => Vec.OfReals(new[] { u[0] * u[1], Real.Sin(u[2]), u[0] + u[2] * u[2], Real.Exp(u[1]) });

    [Fact]
    public void ARecordedPullbackAppliedToATracedVectorIsACompiledNode()
    {
        using var vjp = Fn.Vjp(H, new Vec(new[] { 0.3, -0.7, 1.1 }));
        var pull = vjp.Pullback; // u ↦ Jᵀu, a linear map of u (4 → 3)
        Check(x => Vec.Sum(Vec.Sin(pull(Vec.Exp(x)))) + Vec.Dot(pull(x * x), pull(x)), 4, 7);
    }

    [Fact]
    public void ALinearisationAppliedToATracedVectorIsACompiledNode()
    {
        using var lin = Fn.Linearize(H, new Vec(new[] { -0.2, 0.4, 0.9 }));
        var jvp = lin.Jvp; // v ↦ J·v, a linear map of v (3 → 4)
        Check(x => Vec.Sum(Vec.Square(jvp(Vec.Tanh(x)))) * x[1], 3, 8);
    }

    [Fact]
    public void ARuleWhoseOutputLengthChangesWithXThrowsAndSaysSo()
    {
        var g = Fn.CustomJvp((Vec v) => v[0].Value > 0 ? new[] { 1.0, v[1].Value } : new[] { v[1].Value },
            (v, vd) => v[0].Value > 0 ? Vec.OfReals(new[] { 0.0 * vd[0], vd[1] }) : vd[1..]);
        Func<Vec, Real> f = x => Vec.Sum(g(x * 1.0));
        var c = Fn.Compile(f, new[] { 1.0, 2.0 });
        Assert.True(c.IsCompiled, c.NotCompiledReason);
        Assert.Equal(3.0, c.Value(new[] { 0.5, 2.0 }));
        var e = Assert.Throws<InvalidOperationException>(() => c.Value(new[] { -1.0, 2.0 }));
        Assert.Contains("f returned 1 values at this x but 2 where the function was compiled", e.Message);
    }

    /// <summary>g with the maps and zips whose partials are derivative primitives (Pow, Atan2, Tanh, …).</summary>
    static Real Inner(Vec u) =>
        Vec.Sum(Vec.Pow(Vec.Exp(u), 1.5) + Vec.Pow(Vec.Exp(u), u * 0.1 + 1.0) + Vec.Atan2(u, Vec.Exp(u) + 1.0) + Vec.Tanh(u * u) + Vec.Hypot(u, u * 0.5 + 2.0));

    [Fact]
    public void AnInnerGradientOverDerivativeMapsAndZipsIsCompiled()
    {
        // Σ ∇g(x)ᵢ: the inner reverse sweep's partials are MapPrim / ZipPrim of order 1 on the recording
        // trace, each one node of the compiled graph (before, the path fell back: "it uses ZipOp").
        // Values, gradients and Jvp bitwise; Hvp and Hessian (third derivatives of g) to 1e-14: eager's
        // Hvp is Jvp∘Grad over nested traces, which adds the same terms in another order
        Check(x => Vec.Sum(Fn.Grad(Inner)(x)) + Vec.Dot(x, x), 3, 9, secondExact: false);
        Check(x => Vec.Dot(Fn.Grad(Inner)(Vec.Sin(x)), x), 4, 10, secondExact: false);
    }
}
