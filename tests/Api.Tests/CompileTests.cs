using Hybrid.Kernel;
using MathNet.Numerics.LinearAlgebra;
using MathNet.Numerics.LinearAlgebra.Double;
using Xunit;
using Xunit.Sdk;
using static Hybrid.Tests.TestFunctions;
using static Hybrid.Tests.CompiledAssert;

namespace Hybrid.Tests;

/// <summary>
/// Fn.Compile: every entry point equals the eager transform at random points (to 1e-15 relative),
/// guards re-record where the path changes, the compiled object is thread-safe and allocation-free.
/// </summary>
public class CompileTests
{
    /// <summary>Every scalar entry point of c against the eager transforms of f at x (direction v).</summary>
    static void AllEqualEager(Func<Vec, Real> f, CompiledFunction c, double[] x, double[] v, string what)
    {
        var (g, value) = Fn.GradAndValue(f)(x);
        var grad = new double[x.Length];
        Same(value.Value, c.GradAndValue(x, grad), $"{what} value (GradAndValue)");
        Same(g.ToArray(), grad, $"{what} gradient");
        Same(f(x).Value, c.Value(x), $"{what} Value");
        var (y, t) = Fn.Jvp(f, x, v);
        Same(y.Value, c.Jvp(x, v, out var tangent), $"{what} Jvp value");
        Same(t.Value, tangent, $"{what} Jvp tangent");
        var hv = new double[x.Length];
        c.Hvp(x, v, hv);
        Same(Fn.Hvp(f)(x, v).ToArray(), hv, $"{what} Hvp");
        HessianBothWays(Fn.Hessian(f)(x).ToMatrix(), c, x, what, blocksExact: false);
    }

    static double[] Random(Random r, int n, double lo, double hi) => Enumerable.Range(0, n).Select(_ => lo + (hi - lo) * r.NextDouble()).ToArray();

    [Theory]
    [InlineData(2)]
    [InlineData(7)]
    [InlineData(40)]
    public void RosenbrockLoopEqualsEagerAtRandomPoints(int n)
    {
        var r = new Random(n);
        var c = Fn.Compile(RosenbrockLoop, Random(r, n, -2, 2));
        Assert.True(c.IsCompiled);
        for (var k = 0; k < 10; k++) AllEqualEager(RosenbrockLoop, c, Random(r, n, -2, 2), Random(r, n, -1, 1), $"n = {n}, point {k}");
        Assert.Equal(1, c.Recordings);
        // and the closed forms
        var x = Random(r, n, -2, 2);
        var grad = new double[n];
        c.GradAndValue(x, grad);
        Same(RosenbrockGrad(x), grad, "closed-form gradient");
    }

    [Fact]
    public void EveryRuleEqualsEagerAtRandomPoints()
    {
        var r = new Random(3);
        double[] Point() => new[] { 0.05 + 0.9 * r.NextDouble(), 0.05 + 0.9 * r.NextDouble(), 1.1 + 2 * r.NextDouble() };
        var c = Fn.Compile(EveryRule, Point());
        Assert.True(c.IsCompiled, c.NotCompiledReason);
        for (var k = 0; k < 20; k++) AllEqualEager(EveryRule, c, Point(), Random(r, 3, -1, 1), $"point {k}");
    }

    [Fact]
    public void QuadraticAndGenericFunctionsEqualEager()
    {
        var r = new Random(5);
        var c = Fn.Compile(Quadratic, Random(r, 4, -1, 1));
        for (var k = 0; k < 5; k++) AllEqualEager(Quadratic, c, Random(r, 4, -3, 3), Random(r, 4, -1, 1), $"quadratic {k}");
        static T G<T>(T a, T b) where T : System.Numerics.INumberBase<T>, System.Numerics.ITrigonometricFunctions<T>, System.Numerics.IExponentialFunctions<T>
            => T.Exp(a) * T.Sin(b) / (a * a + b * b + T.One);
        Func<Vec, Real> g = x => G(x[0], x[1]);
        var cg = Fn.Compile(g, new[] { 0.3, 0.4 });
        for (var k = 0; k < 5; k++) AllEqualEager(g, cg, Random(r, 2, -2, 2), Random(r, 2, -1, 1), $"generic {k}");
    }

    [Fact]
    public void ModuloThenComparisonIsAGuardWithOnePathPerParity()
    {
        Func<Real, Real> f = x => x % 2 == 0 ? x * x : x;
        var c = Fn.Compile(f, 2.0);
        Span<double> g = stackalloc double[1];
        Assert.Equal(4.0, c.GradAndValue(new[] { 2.0 }, g));
        Assert.Equal(4.0, g[0]);
        Assert.Equal(16.0, c.GradAndValue(new[] { 4.0 }, g));
        Assert.Equal(8.0, g[0]);
        Assert.Equal(1, c.Recordings); // 4 takes 2's path: x % 2 == 0 holds again
        Assert.Equal(3.0, c.GradAndValue(new[] { 3.0 }, g));
        Assert.Equal(1.0, g[0]);
        Assert.Equal(2, c.Recordings); // the guard failed: the odd path was recorded
        Assert.Equal(5.0, c.Value(new[] { 5.0 }));
        Assert.Equal(36.0, c.Value(new[] { 6.0 }));
        Assert.Equal(2, c.Recordings); // both paths cached
    }

    [Fact]
    public void AValueReadPinsThePathToThatValue()
    {
        var c = Fn.Compile(SquareIfEven, 2.0);
        Span<double> g = stackalloc double[1];
        foreach (var x in new[] { 2.0, 3.0, 4.0, 3.0, 2.0 })
        {
            var (eg, ev) = Fn.GradAndValue(SquareIfEven)(x);
            Assert.Equal(ev.Value, c.GradAndValue(new[] { x }, g));
            Assert.Equal(eg.Value, g[0]);
        }
        Assert.Equal(3, c.Recordings); // 2, 3, 4: each distinct value read is its own path; repeats are cached
    }

    [Fact]
    public void KinksOfAbsMinMaxNeedNoGuard()
    {
        Func<Vec, Real> f = x => Real.Abs(x[0]) * x[1] + Real.Max(x[0], x[1]) - Real.Min(x[0] * x[1], 0.5);
        var c = Fn.Compile(f, new[] { 1.0, 2.0 });
        var r = new Random(11);
        for (var k = 0; k < 20; k++) AllEqualEager(f, c, Random(r, 2, -2, 2), Random(r, 2, -1, 1), $"point {k}");
        AllEqualEager(f, c, new[] { 0.0, 0.0 }, new[] { 1.0, -1.0 }, "at the kinks");
        Assert.Equal(1, c.Recordings);
    }

    static Real Piecewise(Vec x)
    {
        var a = x[0];
        if (a < -1) return -a * x[1];
        if (a <= 1) return Real.Sin(a) * x[1] * x[1];
        return Real.Exp(-a) + x[1];
    }

    [Fact]
    public void PiecewiseDefinitionsRecordOnePathPerPiece()
    {
        var c = Fn.Compile(Piecewise, new[] { 0.0, 1.0 });
        var r = new Random(13);
        var pieces = new HashSet<int>();
        for (var k = 0; k < 30; k++)
        {
            var x = Random(r, 2, -3, 3);
            pieces.Add(x[0] < -1 ? 0 : x[0] <= 1 ? 1 : 2);
            AllEqualEager(Piecewise, c, x, Random(r, 2, -1, 1), $"point {k}");
        }
        Assert.Equal(3, pieces.Count);
        Assert.Equal(3, c.Recordings);
    }

    /// <summary>Newton's iteration for √a with a trip count that depends on a.</summary>
    static Real SqrtByNewton(Vec x)
    {
        var a = x[0];
        Real y = 1.0;
        while (Real.Abs(y * y - a) > 1e-3 * a) y = 0.5 * (y + a / y);
        return y * x[1];
    }

    [Fact]
    public void LoopsWhoseTripCountDependsOnXRecordOnePathPerTripCount()
    {
        var c = Fn.Compile(SqrtByNewton, new[] { 2.0, 1.0 });
        foreach (var a in new[] { 2.0, 2.1, 9.0, 100.0, 2.05, 9.5 })
            AllEqualEager(SqrtByNewton, c, new[] { a, 1.5 }, new[] { 1.0, 0.5 }, $"a = {a}");
        // 2, 2.1, 2.05 share a trip count; 9 and 9.5 another; 100 a third
        Assert.Equal(3, c.Recordings);
    }

    [Fact]
    public void PredicatesAndMagnitudesAreGuards()
    {
        Func<Vec, Real> f = x =>
        {
            var m = Real.MaxMagnitude(x[0], x[1]);
            Real s = Real.IsNegative(m) ? m * m : Real.Sqrt(m);
            for (var i = 0; i < x.Length; i++) s += x[i].CompareTo(0.5) > 0 ? x[i] : -x[i];
            return s;
        };
        var c = Fn.Compile(f, new[] { 1.0, 2.0 });
        var r = new Random(17);
        for (var k = 0; k < 30; k++) AllEqualEager(f, c, Random(r, 2, -2, 2), Random(r, 2, -1, 1), $"point {k}");
        Assert.True(c.Recordings > 1);
    }

    /// <summary>Every decision of the surface, as a bit of the result: a guard evaluated differently from the surface would give another bit pattern (or a path that fails its own guards).</summary>
    static Real EveryDecision(Vec v)
    {
        Real x = v[0], y = v[1];
        var bits = new[]
        {
            x < y, x <= y, x > y, x >= y, x == y, x != y, x.Equals(y), x.CompareTo(y) < 0, x.CompareTo(y) == 0,
            Real.IsNaN(x), Real.IsFinite(x), Real.IsInfinity(x), Real.IsPositiveInfinity(x), Real.IsNegativeInfinity(x),
            Real.IsNegative(x), Real.IsPositive(x), Real.IsZero(x), Real.IsNormal(x), Real.IsSubnormal(x),
            Real.IsInteger(x), Real.IsEvenInteger(x), Real.IsOddInteger(x),
            Real.MaxMagnitude(x, y) == y, Real.MinMagnitude(x, y) == y, Real.RootN(x, 3) < 1.0,
        };
        Real s = 0.0 * y;
        for (var k = 0; k < bits.Length; k++) if (bits[k]) s += Math.Pow(2, k);
        return s;
    }

    [Fact]
    public void EveryDecisionOfTheSurfaceIsAGuardThatAgreesWithIt()
    {
        var values = new[] { double.NaN, double.NegativeInfinity, -2.0, -1.0, -0.0, 0.0, 5e-324, 0.5, 1.0, 2.0, 3.0, double.PositiveInfinity };
        var c = Fn.Compile(EveryDecision, new[] { 1.0, 2.0 });
        var paths = new HashSet<double>();
        foreach (var a in values)
            foreach (var b in values)
            {
                var x = new[] { a, b };
                var eager = EveryDecision(x).Value;
                paths.Add(eager);
                Assert.Equal(eager, c.Value(x));
                Assert.Equal(eager, c.Value(x)); // the path cached for this point (or its twin)
            }
        Assert.True(c.Recordings >= paths.Count, $"{c.Recordings} recordings for {paths.Count} outcomes");
    }

    [Fact]
    public void ReadingAVectorsValuesFallsBackToEager()
    {
        Func<Vec, Real> f = x => x.ToArray()[0] > 0 ? x[0] * x[1] : -x[1];
        var c = Fn.Compile(f, new[] { 1.0, 2.0 });
        Assert.False(c.IsCompiled);
        Assert.Contains("ToArray", c.NotCompiledReason);
        AllEqualEager(f, c, new[] { -1.0, 3.0 }, new[] { 1.0, 1.0 }, "the other branch");
    }

    [Fact]
    public void VectorFunctionsGiveValueJvpAndJacobianAsEager()
    {
        var r = new Random(19);
        var c = Fn.Compile(F, new[] { 0.1, 0.2, 0.3 });
        Assert.Equal(4, c.OutputLength);
        Assert.True(c.IsCompiled, c.NotCompiledReason);
        for (var k = 0; k < 10; k++)
        {
            var x = Random(r, 3, -1, 1);
            var v = Random(r, 3, -1, 1);
            var y = new double[4];
            c.Value(x, y);
            Same(F(x).ToArray(), y, "value");
            var jv = new double[4];
            c.Jvp(x, v, y, jv);
            var (ey, ejv) = Fn.Jvp(F, x, v);
            Same(ey.ToArray(), y, "Jvp value");
            Same(ejv.ToArray(), jv, "Jvp tangent");
            Same(Fn.Jacobian(F)(x).ToMatrix(), c.Jacobian(x), "Jacobian (forward: n ≤ m)");
        }
        // m < n: reverse mode, row by row
        Func<Vec, Vec> wide = x => Vec.OfReals(new[] { x[0] * x[1] - Real.Sin(x[2]), x[3] / x[0] });
        var cw = Fn.Compile(wide, new[] { 1.0, 2.0, 3.0, 4.0 });
        for (var k = 0; k < 5; k++)
        {
            var x = Random(r, 4, 0.5, 2);
            Same(Fn.Jacobian(wide)(x).ToMatrix(), cw.Jacobian(x), "Jacobian (reverse: m < n)");
        }
    }

    [Fact]
    public void VectorPrimitivesAreLoweredAndMatrixProductsAreCompiledNodes()
    {
        // Vec maps, zips, Sum and Dot are lowered to scalar nodes (CompileVecTests checks them in every mode)
        var r = new Random(23);
        var sliced = Fn.Compile(RosenbrockSliced, Random(r, 5, -1, 1));
        Assert.True(sliced.IsCompiled, sliced.NotCompiledReason);
        var logistic = Fn.Compile(LogisticLoss, new[] { 0.1, 0.2, 0.3 });
        Assert.True(logistic.IsCompiled, logistic.NotCompiledReason);
        AllEqualEager(LogisticLoss, logistic, new[] { 0.3, -0.2, 0.5 }, new[] { 1.0, 0.0, -1.0 }, "logistic");
        Func<Vec, Real> product = x => Vec.Sum(new Mat(new double[,] { { 1, 2 }, { -1, 0.5 } }) * x);
        var c = Fn.Compile(product, new[] { 0.1, 0.2 });
        Assert.True(c.IsCompiled, c.NotCompiledReason); // one node calling BLAS (CompileMatTests)
        for (var k = 0; k < 3; k++) AllEqualEager(product, c, Random(r, 2, -1, 1), Random(r, 2, -1, 1), $"point {k}");
    }

    [Fact]
    public void ALargeRecordedLoopRunsAsILAndEqualsEager()
    {
        // ~8 nodes per term, past the straight-line limit: the loop is rolled (CompileLoopTests checks that it runs as IL)
        const int n = 3000;
        var r = new Random(29);
        var c = Fn.Compile(RosenbrockLoop, Random(r, n, -1, 1));
        Assert.True(c.Nodes > Compiler.MaxCompiledNodes, $"{c.Nodes} nodes");
        Assert.True(c.IsCompiled);
        var x = Random(r, n, -1, 1);
        var v = Random(r, n, -1, 1);
        var grad = new double[n];
        var (g, value) = Fn.GradAndValue(RosenbrockLoop)(x);
        Same(value.Value, c.GradAndValue(x, grad), "value");
        Same(g.ToArray(), grad, "gradient");
        var hv = new double[n];
        c.Hvp(x, v, hv);
        Same(Fn.Hvp(RosenbrockLoop)(x, v).ToArray(), hv, "Hvp");
        Same(Fn.Jvp(RosenbrockLoop, x, v).Tangent.Value, (c.Jvp(x, v, out var t), t).t, "Jvp");
    }

    [Fact]
    public void EightThreadsShareOneCompiledFunction()
    {
        const int threads = 8, rounds = 200;
        var c = Fn.Compile(Piecewise, new[] { 0.0, 1.0 });
        var points = Enumerable.Range(0, threads * rounds).Select(k => new[] { Math.Sin(k) * 3, Math.Cos(0.7 * k) }).ToArray();
        var expected = points.Select(p => Fn.GradAndValue(Piecewise)(p)).Select(e => (G: e.Grad.ToArray(), V: e.Value.Value)).ToArray();
        var expectedHv = points.Select(p => Fn.Hvp(Piecewise)(p, new[] { 1.0, -1.0 }).ToArray()).ToArray();
        var mismatches = 0;
        var start = new Barrier(threads);
        var workers = Enumerable.Range(0, threads).Select(t => new Thread(() =>
        {
            var g = new double[2];
            var hv = new double[2];
            start.SignalAndWait();
            for (var k = t; k < points.Length; k += threads)
            {
                var v = c.GradAndValue(points[k], g);
                c.Hvp(points[k], new[] { 1.0, -1.0 }, hv);
                if (!v.Equals(expected[k].V) || !g.SequenceEqual(expected[k].G) || !hv.SequenceEqual(expectedHv[k])) Interlocked.Increment(ref mismatches);
            }
        })).ToList();
        workers.ForEach(w => w.Start());
        workers.ForEach(w => w.Join());
        Assert.Equal(0, mismatches);
        Assert.Equal(3, c.Recordings);
    }

    [Fact]
    public void NoAllocationPerCallAfterWarmUp()
    {
        const int n = 30;
        var r = new Random(31);
        var x = Random(r, n, -1, 1);
        var v = Random(r, n, -1, 1);
        var grad = new double[n];
        var hv = new double[n];
        var h = DenseMatrix.Create(n, n, 0.0);
        foreach (var c in new[] { Fn.Compile(RosenbrockLoop, x), Fn.Compile(EveryRuleTimes(n), x) })
        {
            void Calls()
            {
                c.GradAndValue(x, grad);
                c.Value(x);
                c.Jvp(x, v, out _);
                c.Hvp(x, v, hv);
                c.Hessian(x, h);
            }
            Calls();
            Calls(); // the second use of a path compiles its IL
            var before = GC.GetAllocatedBytesForCurrentThread();
            for (var k = 0; k < 10; k++) Calls();
            Assert.Equal(0, GC.GetAllocatedBytesForCurrentThread() - before);
        }
    }

    static Func<Vec, Real> EveryRuleTimes(int n) => x =>
    {
        Real s = 0.0;
        for (var i = 0; i + 2 < n; i += 3) s += EveryRule(Vec.OfReals(new[] { 0.5 + 0.1 * Real.Sin(x[i]), 0.5 + 0.1 * Real.Cos(x[i + 1]), 2.0 + x[i + 2] * x[i + 2] }));
        return s;
    };

    [Fact]
    public void BadInputsThrowClearErrors()
    {
        var c = Fn.Compile(RosenbrockLoop, new[] { 1.0, 2.0 });
        var e = Assert.Throws<ArgumentException>(() => c.Value(new[] { 1.0, 2.0, 3.0 }));
        Assert.Contains("length 3", e.Message);
        Assert.Contains("length 2", e.Message);
        Assert.Throws<ArgumentException>(() => c.GradAndValue(new[] { 1.0, 2.0 }, new double[3]));
        Assert.Throws<ArgumentException>(() => c.Hvp(new[] { 1.0, 2.0 }, new[] { 1.0 }, new double[2]));
        Assert.Throws<ArgumentException>(() => c.Hessian(new[] { 1.0, 2.0 }, DenseMatrix.Create(2, 3, 0.0)));
        Assert.Throws<ArgumentNullException>(() => Fn.Compile((Func<Vec, Real>)null!, new[] { 1.0 }));
        Assert.Throws<ArgumentException>(() => Fn.Compile(RosenbrockLoop, Array.Empty<double>()));
        var vector = Fn.Compile(F, new[] { 1.0, 2.0, 3.0 });
        var scalarOnly = Assert.Throws<InvalidOperationException>(() => vector.GradAndValue(new[] { 1.0, 2.0, 3.0 }, new double[3]));
        Assert.Contains("Jacobian", scalarOnly.Message);
        var nested = Assert.Throws<InvalidOperationException>(() =>
            Fn.Grad((Real y) => { Fn.Compile((Real x) => x * y, 1.0); return y; })(2.0));
        Assert.Contains("outside every other transform", nested.Message);
        Assert.Throws<InvalidOperationException>(() => Fn.Compile((Vec x) => (Vec)null!, new[] { 1.0 }));
        // (double) of a traced Real still throws while recording, as in every transform
        Assert.Throws<InvalidOperationException>(() => Fn.Compile((Real x) => Math.Sin((double)x), 1.0));
    }

    [Fact]
    public void AValueKeptFromAnEarlierTransformThrowsWhileRecording()
    {
        Real kept = 0.0;
        Fn.Grad((Real x) => { kept = x * x; return kept; })(3.0);
        Assert.Throws<EscapedValueException>(() => Fn.Compile((Real x) => x + kept, 1.0));
    }
}
