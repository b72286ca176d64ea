using Hybrid.Kernel;
using MathNet.Numerics.LinearAlgebra;
using MathNet.Numerics.LinearAlgebra.Double;
using Xunit;
using Xunit.Sdk;
using static Hybrid.Tests.TestFunctions;
using static Hybrid.Tests.CompiledAssert;

namespace Hybrid.Tests;

/// <summary>
/// The compiled dense Hessian by edge pushing (Compile/EdgePush.fs): one reverse sweep carrying a sparse
/// symmetric W, matrix nodes eliminated at once through their Jacobian. Against the eager Fn.Hessian to
/// <see cref="CompiledAssert.HessianTol"/> of its largest entry, against central differences of the
/// compiled gradient, exactly symmetric, taken where it does less work than the block passes (which
/// stay the fallback: too many inputs of a matrix node, or W's updates past the block passes' work), and
/// allocation-free after warm-up.
/// </summary>
public class CompileHessianTests
{
    static double[] Random(Random r, int n, double lo = -1, double hi = 1) => Enumerable.Range(0, n).Select(_ => lo + (hi - lo) * r.NextDouble()).ToArray();

    /// <summary>H by central differences of the compiled gradient (error O(h²)), against c.Hessian(x).</summary>
    static void CloseToDifferences(CompiledFunction c, double[] x, Matrix<double> h, string what)
    {
        var n = x.Length;
        var gp = new double[n];
        var gm = new double[n];
        var scale = Math.Max(1.0, h.Enumerate().Max(Math.Abs));
        for (var j = 0; j < n; j++)
        {
            var step = 1e-5 * Math.Max(1.0, Math.Abs(x[j]));
            var xp = (double[])x.Clone();
            var xm = (double[])x.Clone();
            xp[j] += step;
            xm[j] -= step;
            c.GradAndValue(xp, gp);
            c.GradAndValue(xm, gm);
            for (var i = 0; i < n; i++)
            {
                var fd = (gp[i] - gm[i]) / (2 * step);
                if (!(Math.Abs(fd - h[i, j]) <= 1e-6 * scale))
                    throw new XunitException($"{what}[{i},{j}]: edge pushing {h[i, j]:R}, differences of the gradient {fd:R}.");
            }
        }
    }

    /// <summary>
    /// c's Hessian at k random points: edge pushing taken (chosen by cost, or with <paramref name="force"/>
    /// wherever it applies: small graphs where either method is a few µs), eager's to the tolerance,
    /// exactly symmetric, the differences'.
    /// </summary>
    static void Check(Func<Vec, Real> f, int n, int seed, double lo = -1, double hi = 1, int points = 4, bool force = false)
    {
        var r = new Random(seed);
        var c = Fn.Compile(f, Random(r, n, lo, hi));
        Assert.True(c.IsCompiled, c.NotCompiledReason);
        for (var k = 0; k < points; k++)
        {
            var x = Random(r, n, lo, hi);
            var h = force ? Forced(1, () => c.Hessian(x)) : c.Hessian(x);
            SameHessian(Fn.Hessian(f)(x).ToMatrix(), h, $"point {k}");
            CloseToDifferences(c, x, h, $"point {k}");
            var by = CompiledAssert.Core(c).HessianBy;
            if (by != 1) throw new XunitException($"point {k}: Hessian by {(by == 2 ? "the block passes" : "nothing yet")}, not edge pushing ({c.Nodes} nodes).");
        }
    }

    [Theory]
    [InlineData(2)]
    [InlineData(7)]
    [InlineData(40)]
    [InlineData(100)]
    public void RosenbrockLoopAndSlicesByEdgePushing(int n)
    {
        Check(RosenbrockLoop, n, n, -2, 2);
        Check(RosenbrockSliced, n, n + 1, -2, 2);
    }

    [Fact]
    public void EveryRuleByEdgePushing()
    {
        // a, b ∈ (0.2, 0.8), c ∈ (1.2, 3): inside every row's domain
        Func<Vec, Real> f = x => EveryRule(Vec.OfReals(new[] { x[0], x[1], 1.2 + 3 * x[2] * x[2] }));
        Check(f, 3, 5, 0.2, 0.8, force: true);
    }

    /// <summary>
    /// A non-finite partial (√x at 0, acosh outside its domain): the eager tape's tangents carry NaN
    /// into every entry it reaches (0·NaN), edge pushing would confine it, so such a point takes the
    /// block passes — the eager result, bitwise — and the path keeps edge pushing elsewhere.
    /// </summary>
    [Fact]
    public void ANonFinitePartialTakesTheBlockPassesAtThatPoint()
    {
        Func<Vec, Real> f = x => Real.Sqrt(x[0] * x[0]) * x[1] + Real.Acosh(x[2]) + x[1] * x[2] * x[2];
        var c = Fn.Compile(f, new[] { 1.0, 2.0, 3.0 });
        SameHessian(Fn.Hessian(f)(new[] { 1.0, 2.0, 3.0 }).ToMatrix(), c.Hessian(new[] { 1.0, 2.0, 3.0 }), "finite");
        Assert.Equal(1, CompiledAssert.Core(c).HessianBy);
        foreach (var x in new[] { new[] { 0.0, 2.0, 3.0 }, new[] { 1.0, 2.0, 0.5 } })
        {
            var eager = Fn.Hessian(f)(x).ToMatrix();
            Assert.Contains(eager.Enumerate(), double.IsNaN);
            var h = c.Hessian(x);
            for (var i = 0; i < 3; i++)
                for (var j = 0; j < 3; j++)
                    if (!eager[i, j].Equals(h[i, j])) // NaN equals NaN here
                        throw new XunitException($"at ({string.Join(", ", x)}) [{i},{j}]: eager {eager[i, j]:R}, compiled {h[i, j]:R}.");
        }
        Assert.Equal(1, CompiledAssert.Core(c).HessianBy);
    }

    /// <summary>Products of inputs far apart, repeated operands (x·x: j = k), nested sums, a unary chain.</summary>
    [Fact]
    public void FarProductsRepeatedOperandsAndNestedSums()
    {
        const int n = 30;
        Check(x =>
        {
            Real s = 0.0;
            for (var i = 0; i < n; i++) s += x[i] * x[n - 1 - i] + x[i] * x[i] * x[(i + 7) % n];
            Real t = 0.0;
            for (var i = 0; i < n; i += 3) t += Real.Sin(x[i] * (x[i] + x[(i + 11) % n]));
            return s + t * x[0] + Real.Exp(Real.Cos(x[0] * x[n - 1]));
        }, n, 31, force: true);
    }

    /// <summary>Branchy pieces (guards): each path decides edge pushing on its own.</summary>
    [Fact]
    public void ABranchyFunctionOnEveryPath()
    {
        Func<Vec, Real> f = x =>
        {
            Real s = 0.0;
            for (var i = 0; i < x.Length; i++)
            {
                var r = x[i] - 0.3;
                s += r * r < 0.25 ? 0.5 * r * r * x[(i + 1) % x.Length] : Real.Abs(r) * Real.Exp(x[i]);
            }
            return s + Real.Max(x[0], x[1]) * x[2];
        };
        var r = new Random(41);
        var c = Fn.Compile(f, Random(r, 6));
        for (var k = 0; k < 8; k++)
        {
            var x = Random(r, 6);
            SameHessian(Fn.Hessian(f)(x).ToMatrix(), c.Hessian(x), $"point {k}");
        }
        Assert.True(c.Recordings > 1, $"{c.Recordings} recordings");
    }

    static Func<Vec, Real> Logistic(int rows, int d, int seed, double lambda)
    {
        var r = new Random(seed);
        var xm = new Mat(Matrix<double>.Build.Dense(rows, d, (_, _) => r.NextDouble() * 2 - 1));
        var y = new Vec(Enumerable.Range(0, rows).Select(_ => r.NextDouble() < 0.5 ? 1.0 : 0.0).ToArray());
        if (lambda == 0) return w => { var z = xm * w; return Vec.Sum(Vec.LogP1(Vec.Exp(z))) - Vec.Dot(y, z); };
        return w => { var z = xm * w; return Vec.Sum(Vec.LogP1(Vec.Exp(z))) - Vec.Dot(y, z) + 0.5 * lambda * Vec.Dot(w, w); };
    }

    /// <summary>The logistic NLL, z = X·w one linear matrix node (op(X)ᵀ·D·op(X) by one dgemm), with and without the ridge term.</summary>
    [Theory]
    [InlineData(0.0)]
    [InlineData(1.0)]
    public void TheLogisticNllByEdgePushing(double lambda)
    {
        Check(Logistic(400, 7, 51, lambda), 7, 52, -0.5, 0.5);
        // z = Xᵀ·w (the transposed product), and a loss whose W over z is not diagonal (the general
        // path: J copied from the matrix, then the reverse-tangent rule), directly and through Exp
        var r = new Random(53);
        var a = new Mat(Matrix<double>.Build.Dense(6, 40, (_, _) => r.NextDouble() * 2 - 1));
        Check(w => { var z = Mat.Transpose(a) * w; return Vec.Sum(Vec.LogP1(Vec.Exp(z))) + lambda * Vec.Dot(w, w); }, 6, 54, -0.5, 0.5);
        Check(w => { var z = a * w; return Vec.Dot(z, z) * z[0] + Vec.Sum(Vec.Sin(z)) + lambda * Vec.Dot(w, w); }, 40, 55);
        Check(w => { var z = a * Vec.Exp(w); return Vec.Dot(z, z) * z[0] + Vec.Sum(Vec.Sin(z)); }, 40, 56, force: true);
    }

    /// <summary>
    /// A linear node's Xᵀ·D·X by symmetric rank-k updates (<c>Dense.syrkLower</c>: dsyrk on MKL / OpenBLAS, half a
    /// dgemm's flops), block by block (a short last block): one update of the rows scaled by √D where D ≥ 0 (the
    /// logistic loss), and a second one subtracted, of the rows scaled by √−D, where a block has D &lt; 0 (Σ sin z).
    /// Eager's Hessian to the tolerance, exactly symmetric.
    /// </summary>
    [Fact]
    public void ALinearNodesXtDXBySymmetricRankKUpdatesForEitherSignOfD()
    {
        var r = new Random(57);
        const int rows = 203, d = 9;
        var x = new Mat(Matrix<double>.Build.Dense(rows, d, (_, _) => r.NextDouble() * 2 - 1));
        var y = new Vec(Enumerable.Range(0, rows).Select(_ => r.NextDouble() < 0.5 ? 1.0 : 0.0).ToArray());
        var saved = MatScratch.BlockDoubles;
        try
        {
            // blocks of 41 rows (5 blocks, the last 39), set before the first Hessian makes the scratch
            MatScratch.BlockDoubles = 50 * d;
            foreach (var (name, f, negative) in new (string, Func<Vec, Real>, bool)[]
                     {
                         ("logistic (D > 0)", w => { var z = x * w; return Vec.Sum(Vec.LogP1(Vec.Exp(z))) - Vec.Dot(y, z) + 0.5 * Vec.Dot(w, w); }, false),
                         ("Σ sin z (D = −sin z, both signs)", w => Vec.Sum(Vec.Sin(x * w)) + 0.5 * Vec.Dot(w, w), true),
                     })
            {
                var c = Fn.Compile(f, Random(r, d));
                for (var k = 0; k < 3; k++)
                {
                    var w = Random(r, d, -2, 2);
                    var before = GemmCount.Syrks;
                    var h = c.Hessian(w);
                    var syrks = GemmCount.Syrks - before;
                    Assert.Equal(1, CompiledAssert.Core(c).HessianBy);
                    SameHessian(Fn.Hessian(f)(w).ToMatrix(), h, $"{name}, point {k}");
                    if (negative) Assert.InRange(syrks, 6, 10); // 5 blocks, a second update where D < 0
                    else Assert.Equal(5, syrks);
                }
            }
        }
        finally { MatScratch.BlockDoubles = saved; }
    }

    [Fact]
    public void EveryMatrixNodeKindByEdgePushing()
    {
        var r = new Random(61);
        var b = new Mat(Matrix<double>.Build.Dense(3, 4, (_, _) => r.NextDouble() * 2 - 1));
        // both sides of a product traced
        Check(x => Mat.Sum(Mat.Sin(Mat.OfColumns(new[] { x[..3], x[3..] }) * Mat.Transpose(Mat.OfColumns(new[] { Vec.Exp(x[..3]), x[3..] * x[..3] })))), 6, 62, force: true);
        Check(x => Mat.Sum(Mat.Exp(Mat.Transpose(Mat.OfColumns(new[] { x[..3], x[3..] * 2.0 })) * b)), 6, 63, force: true);
        var spd = new Mat(new double[,] { { 4, 1, 0.5 }, { 1, 3, 0.2 }, { 0.5, 0.2, 2 } });
        Check(x => Vec.Sum(Vec.Square(Mat.Solve(spd, Vec.Exp(x)))), 3, 64, force: true);
        Check(x =>
        {
            var m = spd + Mat.Diag(Vec.Square(x));
            return Vec.Dot(x, Mat.Solve(m, x)) + Mat.LogDet(m) + Mat.Sum(Mat.Inverse(m)) + Mat.Sum(Mat.Cholesky(m));
        }, 3, 65, force: true);
        Check(x => Mat.LogDetSpd(spd + Mat.Outer(x, x)), 3, 66, force: true);
    }

    /// <summary>
    /// A matrix node with more inputs than edge pushing takes at once (a traced 17×17 matrix: 289 &gt;
    /// max(n, 256)): the path keeps the block passes, bitwise eager's.
    /// </summary>
    [Fact]
    public void AMatrixNodeWithTooManyInputsKeepsTheBlockPasses()
    {
        const int m = 17;
        Func<Vec, Real> f = x =>
        {
            var e = Vec.Exp(x);
            var entries = Enumerable.Range(0, m * m).Select(k => e[k % 3] * (0.1 * (k % 5) + 1) + (k % (m + 1) == 0 ? 20.0 : 0.0)).ToArray();
            var a = Mat.OfColumns(Enumerable.Range(0, m).Select(j => Vec.OfReals(entries[(j * m)..((j + 1) * m)])).ToArray());
            return Mat.LogDet(a * a);
        };
        var r = new Random(71);
        var c = Fn.Compile(f, Random(r, 3));
        var x = Random(r, 3);
        Bitwise(Fn.Hessian(f)(x).ToMatrix(), c.Hessian(x), "Hessian");
        Assert.Equal(2, CompiledAssert.Core(c).HessianBy);
    }

    /// <summary>
    /// A dense Hessian ((Σxᵢ)², n = 100): W fills in and its updates pass the block passes' work, so the
    /// first Hessian stops edge pushing and the path keeps the block passes (bitwise eager's).
    /// </summary>
    [Fact]
    public void ADenseHessianFallsBackToTheBlockPasses()
    {
        Func<Vec, Real> f = x => { Real s = 0.0; for (var i = 0; i < x.Length; i++) s += x[i]; return s * s * s; };
        var r = new Random(81);
        var c = Fn.Compile(f, Random(r, 100));
        var x = Random(r, 100);
        Bitwise(Fn.Hessian(f)(x).ToMatrix(), c.Hessian(x), "Hessian");
        Assert.Equal(2, CompiledAssert.Core(c).HessianBy);
    }

    [Fact]
    public void TheBlockPassesAloneStayBitwiseEager()
    {
        var x = Random(new Random(91), 100, -2, 2);
        var c = Fn.Compile(RosenbrockLoop, x);
        Bitwise(Fn.Hessian(RosenbrockLoop)(x).ToMatrix(), Forced(2, () => c.Hessian(x)), "Hessian (block passes)");
        SameHessian(Fn.Hessian(RosenbrockLoop)(x).ToMatrix(), c.Hessian(x), "Hessian");
    }

    [Fact]
    public void NoAllocationPerCallAfterWarmUp()
    {
        const int n = 100;
        var x = Random(new Random(101), n, -2, 2);
        var c = Fn.Compile(RosenbrockLoop, x);
        var into = DenseMatrix.Create(n, n, 0.0);
        for (var k = 0; k < 3; k++) c.Hessian(x, into); // warm-up: the path's IL, the workspace, W's arrays
        var before = GC.GetAllocatedBytesForCurrentThread();
        for (var k = 0; k < 20; k++) c.Hessian(x, into);
        var bytes = GC.GetAllocatedBytesForCurrentThread() - before;
        Assert.Equal(0, bytes);
        Assert.Equal(1, CompiledAssert.Core(c).HessianBy);
        SameHessian(Fn.Hessian(RosenbrockLoop)(x).ToMatrix(), into, "Hessian");
    }
}
