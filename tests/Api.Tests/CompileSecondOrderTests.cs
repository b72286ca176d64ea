using Hybrid.Kernel;
using MathNet.Numerics.LinearAlgebra;
using Xunit;
using static Hybrid.Tests.TestFunctions;
using static Hybrid.Tests.CompiledAssert;

namespace Hybrid.Tests;

/// <summary>
/// Fn.Compile's second order and Jvp as IL (values with tangents in one pass; adjoints with adjoint
/// tangents in one pass; the Hessian's and Jacobian's block passes with the directions as SIMD
/// lanes), every row of the rule table by its own specialised code: each equals the eager
/// transforms — values, gradients, Jvp and Hvp to the last bit, the Hessian to the last bit too
/// (the same sums in the same order) — for every row at its test points, loops with tails,
/// branchy functions, and block sizes that need padding lanes or several blocks.
/// </summary>
public class CompileSecondOrderTests
{
    static double[] Random(Random r, int n, double lo, double hi) => Enumerable.Range(0, n).Select(_ => lo + (hi - lo) * r.NextDouble()).ToArray();

    /// <summary>c's entry points at x (direction v) against eager, bitwise; c's path compiled to IL first.</summary>
    static void BitwiseEager(Func<Vec, Real> f, CompiledFunction c, double[] x, double[] v, string what)
    {
        var n = x.Length;
        var grad = new double[n];
        var hv = new double[n];
        for (var k = 0; k < 2; k++) c.Hvp(x, v, hv); // the second use of a path compiles its IL
        var (g, value) = Fn.GradAndValue(f)(x);
        Bitwise(value.Value, c.GradAndValue(x, grad), $"{what} value");
        Bitwise(g.ToArray(), grad, $"{what} gradient");
        var (y, t) = Fn.Jvp(f, x, v);
        Bitwise(y.Value, c.Jvp(x, v, out var tangent), $"{what} Jvp value");
        Bitwise(t.Value, tangent, $"{what} Jvp tangent");
        c.Hvp(x, v, hv);
        Bitwise(Fn.Hvp(f)(x, v).ToArray(), hv, $"{what} Hvp");
        HessianBothWays(Fn.Hessian(f)(x).ToMatrix(), c, x, what);
    }

    public static TheoryData<Fun1> Unary => new(Rules.rows1.Select(r => r.Fun));
    public static TheoryData<Fun2> Binary => new(Rules.rows2.Select(r => r.Fun));

    /// <summary>
    /// Every unary row, at points spread over its smooth interval (and each of its constants): f(x) =
    /// x₁·u(x₀) + u(x₁)·u(x₀) — first and second partials of the row reach every entry point.
    /// </summary>
    [Theory]
    [MemberData(nameof(Unary))]
    public void EveryUnaryRowEqualsEagerBitwise(Fun1 fun)
    {
        var row = Rules.info1(fun);
        var (lo, hi) = row.Smooth;
        var r = new Random((int)fun + 1);
        foreach (var c0 in row.Constants)
        {
            Real U(Real x) => Real.Rule1(fun, c0, x);
            Func<Vec, Real> f = x => x[1] * U(x[0]) + U(x[1]) * U(x[0]);
            double[] Point() => Random(r, 2, lo, hi);
            var c = Fn.Compile(f, Point());
            for (var k = 0; k < 6; k++) BitwiseEager(f, c, Point(), Random(r, 2, -1, 1), $"{row.Name} (c = {c0}), point {k}");
            Assert.True(c.IsCompiled, c.NotCompiledReason);
        }
    }

    /// <summary>Every binary row over its smooth box: f(x) = x₂·b(x₀, x₁) + b(x₁, x₀)·b(x₀, x₂).</summary>
    [Theory]
    [MemberData(nameof(Binary))]
    public void EveryBinaryRowEqualsEagerBitwise(Fun2 fun)
    {
        var row = Rules.info2(fun);
        var (lo, hi) = row.Smooth;
        var r = new Random(100 + (int)fun);
        Real B(Real x, Real y) => Real.Rule2(fun, x, y);
        Func<Vec, Real> f = x => x[2] * B(x[0], x[1]) + B(x[1], x[0]) * B(x[0], x[2]);
        double[] Point() => Random(r, 3, lo, hi);
        var c = Fn.Compile(f, Point());
        for (var k = 0; k < 6; k++) BitwiseEager(f, c, Point(), Random(r, 3, -1, 1), $"{row.Name}, point {k}");
    }

    /// <summary>
    /// Loops with tails (n not a multiple of anything) and branchy bodies (abs, max, sin, exp, a
    /// comparison per trip): compiled = eager bitwise at random points on x0's path, and the
    /// Hessian's block sizes: 2 lanes used of 4, padding lanes, several blocks (n = 150: 3 × 50).
    /// (Sliced functions: CompileVecTests; an input read by overlapping slices sums its adjoint in
    /// another order.)
    /// </summary>
    [Theory]
    [InlineData(2)]
    [InlineData(5)]
    [InlineData(37)]
    [InlineData(150)]
    public void LoopsWithTailsAndSeveralBlocksEqualEagerBitwise(int n)
    {
        var r = new Random(n);
        Real Branchy(Vec x)
        {
            Real s = 0.0;
            for (var i = 0; i + 1 < x.Length; i++)
            {
                var d = Real.Abs(x[i] - x[i + 1]) + Real.Max(x[i], 0.25) * Real.Sin(x[i + 1]);
                s = x[i] > 0.0 ? s + d * d : s - Real.Exp(0.5 * d);
            }
            return s + Real.Log(1.0 + x[x.Length - 1] * x[x.Length - 1]);
        }
        foreach (var (name, f) in new (string, Func<Vec, Real>)[] { ("Rosenbrock loop", RosenbrockLoop), ("branchy", Branchy) })
        {
            var x0 = Random(r, n, -1.5, 1.5);
            var c = Fn.Compile(f, x0);
            // points on x0's path (the branchy one's guards would re-record at other signs)
            for (var k = 0; k < 3; k++)
            {
                var x = x0.Select(e => e + 0.01 * (r.NextDouble() - 0.5)).ToArray();
                if (name == "branchy") x = x.Select((e, i) => Math.Sign(e) == Math.Sign(x0[i]) ? e : x0[i]).ToArray();
                BitwiseEager(f, c, x, Random(r, n, -1, 1), $"{name}, n = {n}, point {k}");
            }
            Assert.True(c.IsCompiled, c.NotCompiledReason);
        }
    }

    /// <summary>The Jacobian of a vector function with more outputs than inputs (the forward block
    /// pass, one or several blocks, padding lanes) equals eager's bitwise.</summary>
    [Theory]
    [InlineData(3)]
    [InlineData(70)]
    public void ForwardJacobianBlocksEqualEagerBitwise(int n)
    {
        var r = new Random(7 * n);
        Func<Vec, Vec> f = x => Vec.OfReals(Enumerable.Range(0, n + 2).Select(i =>
            Real.Sin(x[i % n]) * x[(i + 1) % n] + Real.Exp(0.1 * x[(i + 2) % n]) - x[i % n] * x[i % n]).ToArray());
        var c = Fn.Compile(f, Random(r, n, -1, 1));
        for (var k = 0; k < 3; k++)
        {
            var x = Random(r, n, -1, 1);
            var v = Random(r, n, -1, 1);
            var y = new double[n + 2];
            var jv = new double[n + 2];
            c.Jvp(x, v, y, jv);
            var (ey, ejv) = Fn.Jvp(f, x, v);
            Bitwise(ey.ToArray(), y, $"n = {n} Jvp value");
            Bitwise(ejv.ToArray(), jv, $"n = {n} Jvp tangent");
            Bitwise(Fn.Jacobian(f)(x).ToMatrix(), c.Jacobian(x), $"n = {n} Jacobian");
        }
        Assert.True(c.IsCompiled, c.NotCompiledReason);
    }

    /// <summary>A Jvp or Hvp at a point off the kept paths records the new path and still equals eager
    /// (the joint pass selects the path by its guards, as the values-only pass does).</summary>
    [Fact]
    public void JvpAndHvpAtANewPathRecordItAndEqualEager()
    {
        Func<Vec, Real> f = x => x[0] > 0.0 ? x[0] * x[0] * x[1] : Real.Sin(x[0]) * x[1];
        var c = Fn.Compile(f, new[] { 1.0, 2.0 });
        var v = new[] { 0.3, -0.7 };
        foreach (var x in new[] { new[] { -1.0, 2.0 }, new[] { 0.5, 1.0 }, new[] { -0.25, 3.0 } })
        {
            Bitwise(Fn.Jvp(f, x, v).Tangent.Value, (c.Jvp(x, v, out var t), t).t, $"Jvp at {x[0]}");
            var hv = new double[2];
            c.Hvp(x, v, hv);
            Bitwise(Fn.Hvp(f)(x, v).ToArray(), hv, $"Hvp at {x[0]}");
        }
        Assert.Equal(2, c.Recordings);
    }

    /// <summary>
    /// Compiled Jvp reads x and v where the caller holds them (no copies into the workspace) when the last
    /// path's pass and guards read the inputs only through the pass's own loads — here the guards compare
    /// products, not inputs. Where that path's guards fail, Jvp copies x and v, selects or records the path,
    /// and still equals eager bitwise; an output that is an input itself comes from x and v.
    /// </summary>
    [Fact]
    public void JvpInPlaceFallsBackToSelectionWhereTheLastPathsGuardsFail()
    {
        Func<Vec, Real> f = x =>
        {
            Real s = 0.0;
            for (var i = 0; i + 1 < x.Length; i++)
            {
                var p = x[i] * x[i + 1];
                s += p > 0.0 ? p * p : Real.Sin(p);
            }
            return s;
        };
        const int n = 40;
        var r = new Random(3);
        var x0 = Random(r, n, 0.5, 1.5);
        var x1 = (double[])x0.Clone();
        x1[17] = -x1[17]; // two products change sign: another path
        var v = Random(r, n, -1.0, 1.0);
        var c = Fn.Compile(f, x0);
        foreach (var x in new[] { x0, x0, x1, x1, x0, x1, x0 })
        {
            var (y, t) = Fn.Jvp(f, x, v);
            Bitwise(y.Value, c.Jvp(x, v, out var tangent), $"Jvp value at x{(x == x0 ? 0 : 1)}");
            Bitwise(t.Value, tangent, $"Jvp tangent at x{(x == x0 ? 0 : 1)}");
        }
        Assert.Equal(2, c.Recordings);
        Assert.True(c.IsCompiled, c.NotCompiledReason);

        // outputs that are inputs: their values and tangents are x's and v's own
        Func<Vec, Vec> g = x => Vec.OfReals(new[] { x[1], x[0] * x[1], x[2] });
        var cg = Fn.Compile(g, new[] { 1.0, 2.0, 3.0 });
        var xg = new[] { 0.5, -1.5, 2.5 };
        var vg = new[] { 0.25, 0.75, -2.0 };
        var yg = new double[3];
        var jv = new double[3];
        for (var k = 0; k < 3; k++)
        {
            cg.Jvp(xg, vg, yg, jv);
            var (ey, ejv) = Fn.Jvp(g, xg, vg);
            Bitwise(ey.ToArray(), yg, "vector Jvp values");
            Bitwise(ejv.ToArray(), jv, "vector Jvp tangents");
        }
        Func<Vec, Real> h = x => x[1];
        var ch = Fn.Compile(h, new[] { 1.0, 2.0 });
        for (var k = 0; k < 3; k++)
        {
            Bitwise(-1.5, ch.Jvp(new[] { 0.5, -1.5 }, new[] { 0.25, 0.75 }, out var th), "x ↦ x₁: value");
            Bitwise(0.75, th, "x ↦ x₁: tangent");
        }
    }
}
