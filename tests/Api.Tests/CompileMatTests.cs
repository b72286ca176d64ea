using Hybrid.Kernel;
using MathNet.Numerics.LinearAlgebra;
using Xunit;
using static Hybrid.Tests.CompiledAssert;

namespace Hybrid.Tests;

/// <summary>
/// Fn.Compile of matrix primitives (Compile/MatNode.fs): a matrix product (every GemmOp shape), Solve,
/// Inverse, Cholesky and LogDet stay one node of the compiled graph, over contiguous slot ranges, and
/// call BLAS / LAPACK through the eager op's own rules at each call's values — the same calls on the
/// same values as the eager tape — so every entry point (Value, GradAndValue, Jvp, Hvp, Hessian,
/// Jacobian) equals the eager transform to the last bit.
/// </summary>
public class CompileMatTests
{
    static double[] Random(Random r, int n, double lo = -1, double hi = 1) => Enumerable.Range(0, n).Select(_ => lo + (hi - lo) * r.NextDouble()).ToArray();

    static Mat RandomMat(Random r, int rows, int cols) => new(Matrix<double>.Build.Dense(rows, cols, (_, _) => r.NextDouble() * 2 - 1));

    /// <summary>f compiled at one random point and checked against eager at five more: one recording.</summary>
    static CompiledFunction Check(Func<Vec, Real> f, int n, int seed, bool secondExact = true)
    {
        var r = new Random(seed);
        var c = Fn.Compile(f, Random(r, n));
        Assert.True(c.IsCompiled, c.NotCompiledReason);
        for (var k = 0; k < 5; k++) AllEqualEager(f, c, Random(r, n), Random(r, n), $"point {k}", secondExact ? EagerMatch.Bitwise : EagerMatch.Relative);
        Assert.Equal(1, c.Recordings);
        return c;
    }

    static readonly Mat A = RandomMat(new Random(1), 4, 3);
    static readonly Mat B = RandomMat(new Random(2), 3, 5);

    [Fact]
    public void MatTimesVecWithAConstantMatrix() =>
        Check(x => Vec.Sum(Vec.Square(A * Vec.Exp(x))) + Vec.Dot(x, x), 3, 11);

    [Fact]
    public void VecTimesMat() => Check(x => Vec.Sum(Vec.Exp(x * A)) * x[0], 4, 12);

    [Fact]
    public void MatTimesMatWithATracedLeftOrRightSide()
    {
        // x as a 3×2 matrix: C (4×3) · X and Xᵀ-shaped products with a constant on the other side
        Check(x => Mat.Sum(Mat.Square(A * Mat.OfColumns(new[] { x[..3], Vec.Sin(x[3..]) }))), 6, 13);
        Check(x => Mat.Sum(Mat.Exp(Mat.Transpose(Mat.OfColumns(new[] { x[..3], x[3..] * 2.0 })) * B)), 6, 14);
    }

    [Fact]
    public void MatTimesMatWithBothSidesTraced() =>
        Check(x =>
        {
            var m = Mat.OfColumns(new[] { x[..2], x[2..] });
            var p = m * Mat.Exp(m);
            return Mat.Sum(Mat.Square(p)) + Mat.Trace(m * m);
        }, 4, 15);

    [Fact]
    public void OuterTransposeTimesAndTimesTranspose()
    {
        Check(x => Mat.Sum(Mat.Sin(Mat.Outer(x, Vec.Exp(x)))), 3, 16);
        Check(x =>
        {
            var m = Mat.OfColumns(new[] { x[..3], x[3..] });
            return Mat.Sum(Mat.Square(Mat.TransposeTimes(m, Mat.Exp(m)))) + Mat.Sum(Mat.Square(Mat.TimesTranspose(A, Mat.Transpose(m) * 2.0)));
        }, 6, 17);
    }

    [Fact]
    public void AVectorFunctionWithProductsHasTheEagerJacobianAndJvp()
    {
        Func<Vec, Vec> f = x => A * Vec.Exp(x) + Vec.Square(A * x);
        var r = new Random(18);
        var c = Fn.Compile(f, Random(r, 3));
        Assert.True(c.IsCompiled, c.NotCompiledReason);
        for (var k = 0; k < 4; k++)
        {
            var x = Random(r, 3);
            var v = Random(r, 3);
            var y = new double[4];
            c.Value(x, y);
            Bitwise(f(x).ToArray(), y, "Value");
            var jv = new double[4];
            c.Jvp(x, v, y, jv);
            Bitwise(Fn.Jvp(f, x, v).Tangent.ToArray(), jv, "Jvp");
            Bitwise(Fn.Jacobian(f)(x).ToMatrix(), c.Jacobian(x), "Jacobian");
        }
        Func<Vec, Vec> wide = x => A * x; // 4 outputs of 3 inputs (forward) and Aᵀ-shaped (reverse: 2 of 4)
        Func<Vec, Vec> narrow = x => Mat.Transpose(RandomMat(new Random(3), 4, 2)) * Vec.Exp(x);
        foreach (var (fn, n) in new[] { (wide, 3), (narrow, 4) })
        {
            var cf = Fn.Compile(fn, Random(r, n));
            var x = Random(r, n);
            Bitwise(Fn.Jacobian(fn)(x).ToMatrix(), cf.Jacobian(x), "Jacobian");
        }
    }

    /// <summary>The logistic NLL of issue 3 on small data: Σ log(1 + eᶻ) − yᵀz + λ/2‖w‖², z = Xw.</summary>
    static Func<Vec, Real> Logistic(int rows, int d, int seed, out Mat x, out double[] y)
    {
        var r = new Random(seed);
        var xm = RandomMat(r, rows, d);
        var yv = Enumerable.Range(0, rows).Select(_ => r.NextDouble() < 0.5 ? 1.0 : 0.0).ToArray();
        x = xm;
        y = yv;
        var yVec = new Vec(yv);
        return w =>
        {
            var z = xm * w;
            return Vec.Sum(Vec.LogP1(Vec.Exp(z))) - Vec.Dot(yVec, z) + 0.5 * Vec.Dot(w, w);
        };
    }

    [Fact]
    public void TheLogisticNllIsCompiledAndEqualsEager()
    {
        var f = Logistic(50, 4, 19, out _, out _);
        Check(f, 4, 20);
    }

    [Fact]
    public void ACompiledGradientIsOneProductEachWayNotScalarNodesPerEntry()
    {
        const int rows = 2000, d = 20;
        var f = Logistic(rows, d, 21, out _, out _);
        var w = Random(new Random(22), d, -0.1, 0.1);
        var c = Fn.Compile(f, w);
        Assert.True(c.IsCompiled, c.NotCompiledReason);
        // O(N) nodes (the output of X·w and the elementwise loss), not O(N·d) for the product
        Assert.True(c.Nodes < 10 * rows + 10 * d, $"{c.Nodes} nodes");
        var grad = new double[d];
        c.GradAndValue(w, grad);
        c.GradAndValue(w, grad); // (compiled to IL on reuse)
        var before = GemmCount.Calls;
        c.GradAndValue(w, grad);
        Assert.Equal(2, GemmCount.Calls - before); // X·w forward, Xᵀ·z̄ reverse
        before = GemmCount.Calls;
        c.Value(w);
        Assert.Equal(1, GemmCount.Calls - before);
    }

    [Fact]
    public void ACompiledLogisticGradAndValueAllocatesNothingAfterWarmUp()
    {
        // before: GemmOp.Vjp copied the N-long cotangent of X·w and built its op and store per call (160 KB at
        // N = 20 000), and the native dgemm formatted its shape messages before checking them (about 1 KB a call)
        const int rows = 5000, d = 20;
        var f = Logistic(rows, d, 27, out _, out _);
        var w = Random(new Random(28), d, -0.1, 0.1);
        var c = Fn.Compile(f, w);
        Assert.True(c.IsCompiled, c.NotCompiledReason);
        var grad = new double[d];
        for (var k = 0; k < 3; k++) c.GradAndValue(w, grad); // the second use of a path compiles its IL
        c.Value(w);
        var before = GC.GetAllocatedBytesForCurrentThread();
        for (var k = 0; k < 10; k++) c.GradAndValue(w, grad);
        var mid = GC.GetAllocatedBytesForCurrentThread();
        for (var k = 0; k < 10; k++) c.Value(w);
        var end = GC.GetAllocatedBytesForCurrentThread();
        Assert.Equal(0, mid - before);
        Assert.Equal(0, end - mid);
        var (g, value) = Fn.GradAndValue(f)(w);
        Bitwise(value.Value, c.GradAndValue(w, grad), "value");
        Bitwise(g.ToArray(), grad, "gradient");
    }

    [Fact]
    public void AProductsTangentForAllDirectionsIsOneDgemmOnEverySide()
    {
        // x as a 3×2 matrix X; the tangent on a transposed left factor (Xᵀ·B), on a matrix right factor
        // (A·X) and on a transposed right factor (A·Xᵀ): before, one dgemm per direction (6 here)
        var b = RandomMat(new Random(5), 3, 4);
        var a = RandomMat(new Random(6), 4, 3);
        var a2 = RandomMat(new Random(7), 4, 2);
        static Mat X(Vec x) => Mat.OfColumns(new[] { x[..3], x[3..] });
        var cases = new (string, Func<Vec, Vec>)[]
        {
            ("Xᵀ·B", x => Mat.TransposeTimes(X(x), b).Data),
            ("A·X", x => (a * X(x)).Data),
            ("A·Xᵀ", x => Mat.TimesTranspose(a2, X(x)).Data),
        };
        var x0 = Random(new Random(8), 6);
        foreach (var (name, f) in cases)
        {
            var before = GemmCount.Calls;
            var jf = Fn.JacFwd(f)(x0).ToMatrix();
            Assert.True(GemmCount.Calls - before <= 2, $"{name}: {GemmCount.Calls - before} dgemm calls (the value, then one for all 6 directions)");
            var jr = Fn.JacRev(f)(x0).ToMatrix();
            Same(jr, jf, name); // each entry one product of the same numbers
        }
    }

    [Fact]
    public void OneCompiledFunctionWithProductsServesEightThreadsAtOnce()
    {
        var f = Logistic(300, 5, 26, out _, out _);
        var c = Fn.Compile(f, new double[5]);
        var points = Enumerable.Range(0, 8).Select(k => Random(new Random(100 + k), 5)).ToArray();
        var expected = points.Select(x => Fn.GradAndValue(f)(x)).Select(r => (r.Grad.ToArray(), r.Value.Value)).ToArray();
        var hessians = points.Select(x => Fn.Hessian(f)(x).ToMatrix()).ToArray();
        Parallel.For(0, 8, new ParallelOptions { MaxDegreeOfParallelism = 8 }, k =>
        {
            for (var rep = 0; rep < 20; rep++)
            {
                var grad = new double[5];
                Bitwise(expected[k].Item2, c.GradAndValue(points[k], grad), $"thread {k} value");
                Bitwise(expected[k].Item1, grad, $"thread {k} gradient");
                if (rep % 5 == 0) SameHessian(hessians[k], c.Hessian(points[k]), $"thread {k} Hessian");
            }
        });
        Assert.Equal(1, c.Recordings);
    }

    [Fact]
    public void SolveInverseCholeskyAndLogDetAreCompiledNodes()
    {
        var spd = new Mat(new double[,] { { 4, 1, 0.5 }, { 1, 3, 0.2 }, { 0.5, 0.2, 2 } });
        Check(x => Vec.Sum(Vec.Square(Mat.Solve(spd, Vec.Exp(x)))), 3, 23);
        Check(x =>
        {
            var m = spd + Mat.Diag(Vec.Square(x));
            return Vec.Dot(x, Mat.Solve(m, x)) + Mat.LogDet(m) + Mat.Sum(Mat.Inverse(m)) + Mat.Sum(Mat.Cholesky(m));
        }, 3, 24);
        Check(x => Mat.LogDetSpd(spd + Mat.Outer(x, x)), 3, 25);
    }

    [Fact]
    public void MatrixNodeValuesFeedGuards()
    {
        var m = new Mat(new double[,] { { 1, 2 }, { -1, 0.5 } });
        Func<Vec, Real> f = x =>
        {
            var z = m * x;
            return z[0] > 0 ? Vec.Sum(Vec.Square(z)) : Vec.Sum(Vec.Exp(z));
        };
        var c = Fn.Compile(f, new[] { 1.0, 1.0 });
        foreach (var x in new[] { new[] { 1.0, 1.0 }, new[] { -1.0, 0.1 }, new[] { 0.5, 0.2 }, new[] { -2.0, 0.3 } })
            AllEqualEager(f, c, x, new[] { 1.0, -1.0 }, $"x = ({x[0]}, {x[1]})");
        Assert.Equal(2, c.Recordings);
    }

    [Fact]
    public void BadShapesThrowTheEagerException()
    {
        Func<Vec, Real> f = x => Vec.Sum(A * x); // A is 4×3
        var eager = Assert.Throws<ArgumentException>(() => Fn.Grad(f)(new[] { 1.0, 2.0 }));
        var compiled = Assert.Throws<ArgumentException>(() => Fn.Compile(f, new[] { 1.0, 2.0 }));
        Assert.Equal(eager.Message, compiled.Message);
        Assert.Contains("A is 4×3 but x has length 2", compiled.Message);
    }

    [Fact]
    public void ConstantMatricesAreCopiedWhenRecorded()
    {
        var data = new double[,] { { 1, 2 }, { 3, 4 } };
        var storage = Matrix<double>.Build.DenseOfArray(data);
        var m = Mat.Wrap(storage);
        Func<Vec, Real> f = x => Vec.Sum(m * x);
        var c = Fn.Compile(f, new[] { 1.0, 1.0 });
        storage[0, 0] = 100; // the compiled function keeps the matrix it was recorded with
        Assert.Equal(1 + 2 + 3 + 4, c.Value(new[] { 1.0, 1.0 }));
    }
}
