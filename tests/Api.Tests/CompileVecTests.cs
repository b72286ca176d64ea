using Hybrid.Kernel;
using MathNet.Numerics.LinearAlgebra;
using Microsoft.FSharp.Core;
using Xunit;
using Xunit.Sdk;
using static Hybrid.Tests.TestFunctions;

namespace Hybrid.Tests;

/// <summary>
/// Fn.Compile of whole-vector code (Lower.fs): elementwise maps and zips, broadcasts, slices,
/// element reads, Vec.Sum and Vec.Dot are lowered into the scalar graph, fused iteration-major, and
/// every entry point equals the eager transform. Values, Jvp and the derivatives whose sums run in
/// the same order as eager agree bitwise; where the lowered graph accumulates in another order —
/// the adjoint of an input read by overlapping slices (eager: op by op; lowered: element by element),
/// of a broadcast scalar (eager sums the op's terms first), and the second partials of a zip other
/// than × (eager multiplies (h_xx·ẋ + h_xy·ẏ) by the adjoint, the scalar node each term) — the
/// tolerance is 1e-15 relative to the largest magnitude of the vector or matrix compared.
/// </summary>
public class CompileVecTests
{
    const double Tol = 1e-15;

    static double[] Random(Random r, int n, double lo, double hi) => Enumerable.Range(0, n).Select(_ => lo + (hi - lo) * r.NextDouble()).ToArray();

    static void Bitwise(double expected, double actual, string what)
    {
        if (!expected.Equals(actual)) throw new XunitException($"{what}: eager {expected:R}, compiled {actual:R} (not bitwise equal).");
    }

    /// <summary>actual equals expected bitwise (exact) or within Tol·max|expected| (exact = false).</summary>
    static void Same(IReadOnlyList<double> expected, ReadOnlySpan<double> actual, bool exact, string what)
    {
        Assert.Equal(expected.Count, actual.Length);
        var scale = expected.Select(Math.Abs).DefaultIfEmpty(0).Max();
        for (var i = 0; i < expected.Count; i++)
        {
            if (exact) Bitwise(expected[i], actual[i], $"{what}[{i}]");
            else if (!(Math.Abs(expected[i] - actual[i]) <= Tol * scale))
                throw new XunitException($"{what}[{i}]: eager {expected[i]:R}, compiled {actual[i]:R} (error {Math.Abs(expected[i] - actual[i]):E2}, scale {scale:E2}).");
        }
    }

    static void Same(Matrix<double> expected, Matrix<double> actual, bool exact, string what)
    {
        Assert.Equal(expected.RowCount, actual.RowCount);
        Assert.Equal(expected.ColumnCount, actual.ColumnCount);
        Same(expected.ToColumnMajorArray(), actual.ToColumnMajorArray(), exact, what);
    }

    /// <summary>
    /// Every scalar entry point of c against the eager transforms of f at x along v: Value and Jvp
    /// bitwise; the gradient bitwise when <paramref name="gradExact"/>, Hvp and Hessian when
    /// <paramref name="secondExact"/>, else within the tolerance.
    /// </summary>
    static void AllEqualEager(Func<Vec, Real> f, CompiledFunction c, double[] x, double[] v, bool gradExact, bool secondExact, string what)
    {
        Bitwise(f(x).Value, c.Value(x), $"{what} Value");
        var (g, value) = Fn.GradAndValue(f)(x);
        var grad = new double[x.Length];
        Bitwise(value.Value, c.GradAndValue(x, grad), $"{what} GradAndValue value");
        Same(g.ToArray(), grad, gradExact, $"{what} gradient");
        var (y, t) = Fn.Jvp(f, x, v);
        Bitwise(y.Value, c.Jvp(x, v, out var tangent), $"{what} Jvp value");
        Bitwise(t.Value, tangent, $"{what} Jvp tangent");
        var hv = new double[x.Length];
        c.Hvp(x, v, hv);
        Same(Fn.Hvp(f)(x, v).ToArray(), hv, secondExact, $"{what} Hvp");
        var h = Fn.Hessian(f)(x).ToMatrix();
        Same(h, CompiledAssert.Forced(2, () => c.Hessian(x)), secondExact, $"{what} Hessian (block passes)");
        CompiledAssert.SameHessian(h, c.Hessian(x), $"{what} Hessian");
        CompiledAssert.SameHessian(h, CompiledAssert.Forced(1, () => c.Hessian(x)), $"{what} Hessian (edge pushing)");
    }

    /// <summary>f compiled at a random point, checked against eager at ten more (one recording).</summary>
    static CompiledFunction CheckAtRandomPoints(Func<Vec, Real> f, int n, int seed, double lo, double hi, bool gradExact, bool secondExact)
    {
        var r = new Random(seed);
        var c = Fn.Compile(f, Random(r, n, lo, hi));
        Assert.True(c.IsCompiled, c.NotCompiledReason);
        Assert.Null(c.NotCompiledReason);
        for (var k = 0; k < 10; k++) AllEqualEager(f, c, Random(r, n, lo, hi), Random(r, n, -1, 1), gradExact, secondExact, $"n = {n}, point {k}");
        Assert.Equal(1, c.Recordings);
        return c;
    }

    /// <summary>The graph f records at x (the path Fn.Compile would compile there).</summary>
    static Graph GraphOf(Func<Vec, Real> f, double[] x)
    {
        var rec = GraphRecorder.record("test", v => new[] { f(v) }, x);
        Assert.True(rec.IsChoice1Of2, rec.IsChoice2Of2 ? ((FSharpChoice<Graph, Unsupported>.Choice2Of2)rec).Item.Reason : "");
        return ((FSharpChoice<Graph, Unsupported>.Choice1Of2)rec).Item;
    }

    /// <summary>
    /// The loop body of a fused region: from node <paramref name="first"/> on, `iterations` runs of
    /// `period` nodes with the same codes and constants, each operand slot in the graph one period
    /// further on than the run before (an input's one further on, or the same for a broadcast one).
    /// </summary>
    static void AssertPeriodic(Graph g, int first, int period, int iterations)
    {
        for (var it = 2; it < iterations; it++) // run 0 reads the seeds; runs 1, 2, … the sums before them
            for (var q = 0; q < period; q++)
            {
                int i = first + (it - 1) * period + q, j = i + period;
                Assert.True(g.Code[i] == g.Code[j], $"node {j}: code {g.Code[j]}, one period earlier {g.Code[i]}");
                foreach (var (a, b) in new[] { (g.A0[i], g.A0[j]), (g.A1[i], g.A1[j]) })
                {
                    if (a < 0) { Assert.Equal(-1, b); continue; }
                    var step = b - a;
                    Assert.True(a >= first ? step == period : step == 0 || step == 1,
                        $"node {j}: operand {b}, one period earlier {a} (period {period})");
                }
            }
    }

    // ------------------------------------------------------------------------------ functions

    static Real SumOfMaps(Vec x) => Vec.Sum(Vec.Exp(x)) + Vec.Sum(Vec.Log(x)) * Vec.Sum(Vec.Tanh(x));

    static Real DotTraced(Vec x) => Vec.Dot(Vec.Sin(x), Vec.Exp(x) * x);

    static readonly double[] C7 = { 0.5, -1.25, 2.0, 0.75, -0.3, 1.1, 3.0 };
    static Real DotConstant(Vec x) => Vec.Dot(new Vec(C7), Vec.Square(x)) + Vec.Dot(x, new Vec(C7));

    static Real BroadcastReal(Vec x)
    {
        var s = x[0] * x[1];                                   // a traced scalar, broadcast twice
        return Vec.Sum(Vec.Square(x * s - 1.0)) + Vec.Dot(x, s / x);
    }

    static Real BroadcastDouble(Vec x) => Vec.Sum(2.0 * Vec.Exp(x + 0.5) - 3.0 / x + x / 4.0);

    /// <summary>Sums of products of slices at offsets 0, 1, 2 (one length: one region), and a sum of another length.</summary>
    static Real SliceOffsets(Vec x) => Vec.Sum(x[..^2] * x[1..^1] * x[2..]) + Vec.Sum(Vec.Square(x[..^2] - x[2..])) + Vec.Sum(Vec.Cos(x[1..]));

    /// <summary>A Vec.Sum guarded by a comparison of a Real: one path per side.</summary>
    static Real Branchy(Vec x)
    {
        var s = Vec.Sum(Vec.Square(x));
        return s > 2.0 ? Vec.Sum(Vec.Exp(x)) * s : Vec.Dot(x, x[0] + x);
    }

    /// <summary>Scalar code over a map's elements beside vector ops.</summary>
    static Real Mixed(Vec x)
    {
        var e = Vec.Exp(x);
        Real s = 0.0;
        for (var i = 0; i < x.Length; i++) s += e[i] * x[i] - Real.Sin(x[i]);
        var t = s * 0.5 + Vec.Sum(e);                          // scalar code from the region's sum ...
        return Vec.Dot(x, x * t) + Real.Log(1.0 + s * s);      // ... broadcast into a second region
    }

    // ---------------------------------------------------------------------------------- tests

    [Theory]
    [InlineData(2)]
    [InlineData(7)]
    [InlineData(40)]
    public void SlicedRosenbrockEqualsEagerAndIsOneFusedLoop(int n)
    {
        // the gradient and the second order accumulate x's adjoint from x[1..] and x[..^1] in another order
        var c = CheckAtRandomPoints(RosenbrockSliced, n, n, -2, 2, gradExact: n == 2, secondExact: false);
        var grad = new double[n];
        var x = Random(new Random(5), n, -2, 2);
        c.GradAndValue(x, grad);
        for (var i = 0; i < n; i++) Assert.Equal(RosenbrockGrad(x)[i], grad[i], 1e-9 * Math.Max(1, Math.Abs(grad[i])));
        // n inputs, the sum's seed, and per element 8 nodes: head², tail − ·, ·², 100·, 1 − head, ·², +, the running sum
        Assert.Equal(n + 1 + 8 * (n - 1), c.Nodes);
        AssertPeriodic(GraphOf(RosenbrockSliced, x), n + 1, 8, n - 1);
    }

    static Real DotAndSquares(Vec x) => Vec.Dot(x, x) + Vec.Sum(Vec.Square(x - 0.5) * 3.0 - x / (2.0 + x * x));

    /// <summary>
    /// Loops of + − × ÷ and x² run four trips at once in SIMD lanes (Emit.fs; where Vector256 is
    /// accelerated) with 1 – 4 scalar trips after them: every entry point still equals eager (values
    /// and Jvp bitwise; the gradient bitwise where eager adds in the same order), the second-order
    /// passes (which read every value) included.
    /// </summary>
    [Theory]
    [InlineData(37)]
    [InlineData(38)]
    [InlineData(39)]
    [InlineData(40)]
    [InlineData(1000)]
    public void LoopsInSimdLanesEqualEager(int n)
    {
        foreach (var (f, gradExact) in new (Func<Vec, Real>, bool)[] { (RosenbrockSliced, false), (DotAndSquares, true), (RosenbrockLoop, false) })
        {
            var x = Random(new Random(n), n, -1.5, 1.5);
            var g = GraphOf(f, x);
            var loops = Loops.find(g);
            Assert.Single(loops);
            if (Emit.Lanes) Assert.True(Emit.laneLoops(g, loops) == 1, string.Join("; ", Emit.laneReasons(g, loops)));
            if (n <= 40) CheckAtRandomPoints(f, n, n, -1.5, 1.5, gradExact, secondExact: false);
            else
            {
                var c = Fn.Compile(f, x);
                var v = Random(new Random(2), n, -1, 1);
                for (var k = 0; k < 3; k++) AllEqualEager(f, c, Random(new Random(k), n, -1.5, 1.5), v, gradExact, secondExact: false, $"n = {n}, point {k}");
            }
        }
    }

    static readonly double[] Y3000 = Enumerable.Range(0, 3000).Select(i => Math.Cos(0.01 * i)).ToArray();
    static Real DataLoss(Vec x) => Vec.Sum(Vec.Square(x - new Vec(Y3000))) + Vec.Dot(new Vec(Y3000), Vec.Tanh(x));

    /// <summary>
    /// A loss with a data vector (Lower.DataMin): y's values are a block of constant nodes the loop
    /// reads at stride 1, so the loop rolls and the path runs as IL (its values as the nodes' own
    /// constants, different every trip, kept 6·3000 nodes straight-line: interpreted).
    /// </summary>
    [Fact]
    public void ALossWithADataVectorRollsAndEqualsEager()
    {
        var r = new Random(11);
        var c = Fn.Compile(DataLoss, Random(r, 3000, -1, 1));
        Assert.True(c.IsCompiled, c.NotCompiledReason);
        var x = Random(r, 3000, -1, 1);
        var loops = Loops.find(GraphOf(DataLoss, x));
        Assert.True(loops.Where(l => l.Data).Sum(l => l.Trips) >= 6000, "y twice in data blocks");
        for (var k = 0; k < 3; k++) AllEqualEager(DataLoss, c, Random(r, 3000, -1, 1), Random(r, 3000, -1, 1), gradExact: true, secondExact: false, $"point {k}");
        Assert.Equal(1, c.Recordings);
    }

    [Fact]
    public void SumsOfExpLogTanhMapsEqualEagerBitwise()
    {
        var c = CheckAtRandomPoints(SumOfMaps, 9, 31, 0.1, 3, gradExact: true, secondExact: true);
        // 3 seeds; per element exp, log, tanh and three running sums (one region); then ×, +
        Assert.Equal(9 + 3 + 6 * 9 + 2, c.Nodes);
        AssertPeriodic(GraphOf(SumOfMaps, Random(new Random(1), 9, 0.1, 3)), 9 + 3, 6, 9);
    }

    [Fact]
    public void DotOfTwoTracedVectorsEqualsEagerBitwise()
    {
        var c = CheckAtRandomPoints(DotTraced, 8, 37, -2, 2, gradExact: true, secondExact: true);
        // seed; per element sin, exp, exp·x, the product, the running sum
        Assert.Equal(8 + 1 + 5 * 8, c.Nodes);
        AssertPeriodic(GraphOf(DotTraced, Random(new Random(2), 8, -2, 2)), 8 + 1, 5, 8);
    }

    [Fact]
    public void DotWithAConstantVectorEqualsEagerBitwise()
    {
        var c = CheckAtRandomPoints(DotConstant, 7, 41, -2, 2, gradExact: true, secondExact: true);
        // 2 seeds; per element x², c·x², c·x and two running sums; then +
        Assert.Equal(7 + 2 + 5 * 7 + 1, c.Nodes);
    }

    [Fact]
    public void BroadcastsOfATracedScalarAndOfADoubleEqualEager()
    {
        // a broadcast scalar's adjoint is summed element by element here, op by op eagerly
        CheckAtRandomPoints(BroadcastReal, 6, 43, 0.5, 2, gradExact: false, secondExact: false);
        // a double broadcasts as a constant operand; ÷ has second partials, so the second order is within the tolerance
        var c = CheckAtRandomPoints(BroadcastDouble, 6, 47, 0.5, 2, gradExact: true, secondExact: false);
        // seed; per element x + ½, exp, 2·, 3 ÷ x, −, x ÷ 4, +, the running sum
        Assert.Equal(6 + 1 + 8 * 6, c.Nodes);
    }

    [Fact]
    public void SumsOfSlicesAtSeveralOffsetsEqualEager()
    {
        // x is read at three offsets by the first two sums: its adjoint within the tolerance
        var c = CheckAtRandomPoints(SliceOffsets, 10, 53, -1.5, 1.5, gradExact: false, secondExact: false);
        // region of length 8: 2 seeds, per element ×, ×, −, ², two sums; region of length 9: seed, cos, sum; then +, +
        Assert.Equal(10 + (2 + 6 * 8) + (1 + 2 * 9) + 2, c.Nodes);
        AssertPeriodic(GraphOf(SliceOffsets, Random(new Random(3), 10, -1, 1)), 10 + 2, 6, 8);
    }

    [Fact]
    public void AVecSumGuardedByAComparisonRecordsOnePathPerSide()
    {
        var c = Fn.Compile(Branchy, new[] { 0.1, 0.2, 0.3 });
        Assert.True(c.IsCompiled, c.NotCompiledReason);
        var small = new[] { 0.3, -0.4, 0.5 };   // Σx² = 0.5: the Dot side, as at x0
        var large = new[] { 1.0, -1.2, 0.9 };   // Σx² = 3.25: the Exp side
        // x[0] + x broadcasts a scalar: its adjoint within the tolerance
        AllEqualEager(Branchy, c, small, new[] { 1.0, 0.5, -1.0 }, gradExact: false, secondExact: false, "small side");
        Assert.Equal(1, c.Recordings);
        AllEqualEager(Branchy, c, large, new[] { 1.0, 0.5, -1.0 }, gradExact: true, secondExact: true, "large side");
        Assert.Equal(2, c.Recordings);
        Assert.Equal(Math.Exp(1.0) + Math.Exp(-1.2) + Math.Exp(0.9), c.Value(large) / 3.25, 12);
        AllEqualEager(Branchy, c, small, new[] { -1.0, 0.0, 2.0 }, gradExact: false, secondExact: false, "small side again");
        Assert.Equal(2, c.Recordings);
    }

    [Fact]
    public void ScalarCodeMixedWithVectorOpsEqualsEager()
    {
        var c = CheckAtRandomPoints(Mixed, 5, 59, -1, 1, gradExact: false, secondExact: false);
        var x = new[] { 0.2, -0.1, 0.4, 0.3, -0.5 };
        var s = x.Sum(xi => Math.Exp(xi) * xi - Math.Sin(xi));
        var t = s * 0.5 + x.Sum(Math.Exp);
        Assert.Equal(x.Sum(xi => xi * xi * t) + Math.Log(1 + s * s), c.Value(x), 13);
    }

    [Fact]
    public void VectorValuedFunctionsGiveValueJvpAndJacobianAsEager()
    {
        Func<Vec, Vec> f = x => Vec.Exp(x) * x[0];                                  // m = n: forward
        Func<Vec, Vec> g = x => Vec.OfReals(new[] { Vec.Sum(Vec.Square(x[1..] - Vec.Square(x[..^1]))), Vec.Dot(x, x) }); // m < n: reverse
        Func<Vec, Vec> h = x => x[1..] * x[..^1] + Vec.Sin(x[1..]);                 // m = n − 1 < n: reverse, overlapping slices
        var r = new Random(61);
        foreach (var (fn, m, name) in new[] { (f, 6, "exp(x)·x₀"), (g, 2, "two sums"), (h, 5, "slices") })
        {
            var c = Fn.Compile(fn, Random(r, 6, -1, 1));
            Assert.True(c.IsCompiled, c.NotCompiledReason);
            Assert.Equal(m, c.OutputLength);
            for (var k = 0; k < 8; k++)
            {
                var x = Random(r, 6, -1, 1);
                var v = Random(r, 6, -1, 1);
                var y = new double[m];
                c.Value(x, y);
                Same(fn(x).ToArray(), y, true, $"{name} value");
                var jv = new double[m];
                c.Jvp(x, v, y, jv);
                var (ey, ejv) = Fn.Jvp(fn, x, v);
                Same(ey.ToArray(), y, true, $"{name} Jvp value");
                Same(ejv.ToArray(), jv, true, $"{name} Jvp tangent");
                Same(Fn.Jacobian(fn)(x).ToMatrix(), c.Jacobian(x), true, $"{name} Jacobian"); // each entry one sum, in eager's order
            }
            Assert.Equal(1, c.Recordings);
        }
    }

    [Fact]
    public void MatrixProductsSolvesAndCustomRulesAreCompiledAndAReadOfValuesFallsBackToEagerAndSaysWhy()
    {
        var r = new Random(67);
        Func<Vec, Real> product = x => Vec.Sum(Vec.Square(new Mat(new double[,] { { 1, 2, 0 }, { 0, 1, -1 } }) * Vec.Exp(x)));
        var c = Fn.Compile(product, new[] { 0.1, 0.2, 0.3 });
        Assert.True(c.IsCompiled, c.NotCompiledReason); // matrix nodes (CompileMatTests)
        for (var k = 0; k < 3; k++)
        {
            var x = Random(r, 3, -1, 1);
            AllEqualEager(product, c, x, Random(r, 3, -1, 1), gradExact: true, secondExact: true, $"MatMul, point {k}");
        }

        Func<Vec, Real> solve = x => Vec.Sum(Mat.Solve(new Mat(new double[,] { { 2, 1 }, { 1, 3 } }), x));
        var cs = Fn.Compile(solve, new[] { 0.1, 0.2 });
        Assert.True(cs.IsCompiled, cs.NotCompiledReason);
        AllEqualEager(solve, cs, new[] { 0.5, -1.0 }, new[] { 1.0, 1.0 }, true, true, "Solve");

        var softplus = Fn.CustomJvp((Vec x) => new Vec(x.ToArray().Select(v => Math.Log(1 + Math.Exp(v))).ToArray()),
                                    (x, dx) => dx / (1.0 + Vec.Exp(-x)));
        Func<Vec, Real> custom = x => Vec.Sum(softplus(x * 2.0));
        var cc = Fn.Compile(custom, new[] { 0.1, 0.2 });
        Assert.True(cc.IsCompiled, cc.NotCompiledReason); // one node calling the rule (CompileCustomTests)
        AllEqualEager(custom, cc, new[] { 0.5, -1.0 }, new[] { 1.0, 1.0 }, true, true, "custom rule");

        Func<Vec, Real> reads = x => Vec.Sum(x) * x.ToArray()[0]; // a traced Vec's values read: no guard can express it
        var cr = Fn.Compile(reads, new[] { 0.1, 0.2 });
        Assert.False(cr.IsCompiled);
        Assert.True(cr.NotCompiledReason!.Contains("ToArray"), cr.NotCompiledReason);
        AllEqualEager(reads, cr, new[] { 0.5, -1.0 }, new[] { 1.0, 1.0 }, true, true, "ToArray");
    }

    [Fact]
    public void MatElementwiseMapsAndSumsAreCompiled()
    {
        Func<Vec, Real> f = x =>
        {
            var a = Mat.OfColumns(new[] { x[..3], x[3..] });
            return Mat.Sum(Mat.Exp(a) * 0.5 + Mat.PointwiseMultiply(a, a)) + Mat.Dot(a, a);
        };
        CheckAtRandomPoints(f, 6, 71, -1, 1, gradExact: true, secondExact: true);
    }

    [Fact]
    public void GathersTransposeRowAndColumnSumsTraceAndDiagAreCompiled()
    {
        Func<Vec, Real> f = x =>
        {
            var a = Mat.OfColumns(new[] { x[..3], x[3..6], x[6..] });   // 3×3
            var b = Mat.PointwiseMultiply(Mat.Transpose(a), Mat.Exp(a));
            return Vec.Sum(Vec.Square(Mat.SumRows(b))) + Vec.Dot(Mat.SumCols(b), Mat.Diag(a))
                 + Mat.Trace(b) * Mat.Trace(a) + Mat.Sum(Mat.Diag(x[..3]) * 2.0);
        };
        // x's adjoint may arrive through the gathers and the maps in another order than eager
        var c = CheckAtRandomPoints(f, 9, 73, -1, 1, gradExact: false, secondExact: false);
        var x = Random(new Random(4), 9, -1, 1);
        double A(int i, int j) => x[i + 3 * j];
        double B(int i, int j) => A(j, i) * Math.Exp(A(i, j));
        var expected = 0.0;
        for (var i = 0; i < 3; i++)
        {
            double row = 0, col = 0;
            for (var j = 0; j < 3; j++) { row += B(i, j); col += B(j, i); }
            expected += row * row + col * A(i, i);
        }
        expected += (B(0, 0) + B(1, 1) + B(2, 2)) * (A(0, 0) + A(1, 1) + A(2, 2)) + 2 * (x[0] + x[1] + x[2]);
        Assert.Equal(expected, c.Value(x), 12);
    }
}
