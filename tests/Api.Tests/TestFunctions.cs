using System.Numerics;
using Hybrid.Kernel;

namespace Hybrid.Tests;

/// <summary>Functions with closed-form derivatives, shared by the transform tests.</summary>
internal static class TestFunctions
{
    public static T Square<T>(T x) where T : INumberBase<T> => x * x;

    /// <summary>x² when x is an even integer, else x: data-dependent control flow on the primal.</summary>
    public static Real SquareIfEven(Real x) => x.Value % 2 == 0 ? x * x : x;

    public static Real RosenbrockLoop(Vec x)
    {
        Real s = 0.0;
        for (var i = 0; i < x.Length - 1; i++)
        {
            var a = x[i + 1] - x[i] * x[i];
            var b = 1.0 - x[i];
            s += 100.0 * a * a + b * b;
        }
        return s;
    }

    public static Real RosenbrockSliced(Vec x)
    {
        var head = x[..^1];
        var tail = x[1..];
        return Vec.Sum(100.0 * Vec.Square(tail - Vec.Square(head)) + Vec.Square(1.0 - head));
    }

    public static double[] RosenbrockGrad(double[] x)
    {
        var g = new double[x.Length];
        for (var i = 0; i < x.Length - 1; i++)
        {
            var a = x[i + 1] - x[i] * x[i];
            g[i] += -400.0 * a * x[i] - 2.0 * (1.0 - x[i]);
            g[i + 1] += 200.0 * a;
        }
        return g;
    }

    public static double[,] RosenbrockHessian(double[] x)
    {
        var n = x.Length;
        var h = new double[n, n];
        for (var i = 0; i < n - 1; i++)
        {
            h[i, i] += 1200.0 * x[i] * x[i] - 400.0 * x[i + 1] + 2.0;
            h[i, i + 1] += -400.0 * x[i];
            h[i + 1, i] += -400.0 * x[i];
            h[i + 1, i + 1] += 200.0;
        }
        return h;
    }

    /// <summary>A fixed non-symmetric matrix for the quadratic form xᵀAx.</summary>
    public static readonly double[,] A =
    {
        { 2.0, -1.0, 0.5, 3.0 },
        { 0.25, 4.0, -2.0, 1.0 },
        { -1.5, 0.75, 1.0, -0.5 },
        { 2.5, 0.0, -3.0, 5.0 },
    };

    public static Real Quadratic(Vec x)
    {
        Real s = 0.0;
        for (var i = 0; i < x.Length; i++)
            for (var j = 0; j < x.Length; j++)
                s += A[i, j] * x[i] * x[j];
        return s;
    }

    /// <summary>A + Aᵀ: the Hessian of xᵀAx, and (A + Aᵀ)x its gradient.</summary>
    public static double[,] ASym()
    {
        var n = A.GetLength(0);
        var s = new double[n, n];
        for (var i = 0; i < n; i++)
            for (var j = 0; j < n; j++)
                s[i, j] = A[i, j] + A[j, i];
        return s;
    }

    public static double[] MatVec(double[,] m, double[] v)
    {
        var r = new double[m.GetLength(0)];
        for (var i = 0; i < r.Length; i++)
            for (var j = 0; j < v.Length; j++)
                r[i] += m[i, j] * v[j];
        return r;
    }

    /// <summary>Logistic-regression data: rows X[k], labels y[k] ∈ {−1, +1}.</summary>
    public static readonly double[][] X =
    {
        new[] { 1.0, 0.5, -1.2 },
        new[] { -0.3, 2.0, 0.7 },
        new[] { 0.8, -1.1, 0.4 },
        new[] { 1.5, 0.2, 2.2 },
        new[] { -2.0, -0.6, 0.1 },
    };
    public static readonly double[] Y = { 1.0, -1.0, 1.0, -1.0, 1.0 };

    /// <summary>L(w) = Σₖ log(1 + exp(−yₖ xₖ·w)).</summary>
    public static Real LogisticLoss(Vec w)
    {
        Real s = 0.0;
        for (var k = 0; k < X.Length; k++)
            s += Real.LogP1(Real.Exp(-Y[k] * Vec.Dot(new Vec(X[k]), w)));
        return s;
    }

    static double Sigmoid(double z) => 1.0 / (1.0 + Math.Exp(-z));

    /// <summary>∇L = −Σₖ yₖ σ(−yₖ xₖ·w) xₖ.</summary>
    public static double[] LogisticGrad(double[] w)
    {
        var g = new double[w.Length];
        for (var k = 0; k < X.Length; k++)
        {
            var z = Y[k] * Dot(X[k], w);
            for (var i = 0; i < w.Length; i++) g[i] -= Y[k] * Sigmoid(-z) * X[k][i];
        }
        return g;
    }

    /// <summary>∇²L = Σₖ σ(z)(1 − σ(z)) xₖxₖᵀ with z = yₖ xₖ·w.</summary>
    public static double[,] LogisticHessian(double[] w)
    {
        var h = new double[w.Length, w.Length];
        for (var k = 0; k < X.Length; k++)
        {
            var s = Sigmoid(Y[k] * Dot(X[k], w));
            for (var i = 0; i < w.Length; i++)
                for (var j = 0; j < w.Length; j++)
                    h[i, j] += s * (1 - s) * X[k][i] * X[k][j];
        }
        return h;
    }

    public static double Dot(double[] a, double[] b)
    {
        var s = 0.0;
        for (var i = 0; i < a.Length; i++) s += a[i] * b[i];
        return s;
    }

    /// <summary>
    /// Every rule-table function, at x = (a, b, c) with a ∈ (0, 1), b ∈ (0, 1), c &gt; 1 (inside
    /// every domain).
    /// </summary>
    public static Real EveryRule(Vec x)
    {
        Real a = x[0], b = x[1], c = x[2];
        var s = a + b - c * a / b - (-a) + Real.Reciprocal(c);
        s += Real.Pow(c, a) + Real.Pow(a, 3) + Real.Pow(b, 2.5) + Real.Sqrt(c) + Real.Cbrt(b);
        s += Real.Exp(a * b) + Real.Exp2(b) + Real.Log(c) + Real.Log2(c * a) + Real.Log10(c + b);
        s += Real.LogP1(a) + Real.ExpM1(b);
        s += Real.Sin(a * c) + Real.Cos(b) + Real.Tan(a) + Real.Asin(a) + Real.Acos(b) + Real.Atan(c);
        s += Real.Atan2(a, b) + Real.Sinh(b) + Real.Cosh(a) + Real.Tanh(c * b);
        s += Real.Asinh(c) + Real.Acosh(c) + Real.Atanh(a);
        s += Real.Abs(a - c) + Real.Min(a, b) + Real.Max(b, c) + Real.Hypot(a, c) + Real.Erf(b);
        s += Real.Square(a + c);
        return s;
    }

    /// <summary>A function ℝ³ → ℝ⁴ for Jacobian tests.</summary>
    public static Vec F(Vec x) => Vec.OfReals(new[]
    {
        Real.Sin(x[0]) * x[1],
        Real.Exp(x[1] * x[2]),
        x[0] * x[1] * x[2],
        Real.Log(1.0 + x[2] * x[2]),
    });

    public static double[,] JacobianF(double[] x) => new[,]
    {
        { Math.Cos(x[0]) * x[1], Math.Sin(x[0]), 0.0 },
        { 0.0, x[2] * Math.Exp(x[1] * x[2]), x[1] * Math.Exp(x[1] * x[2]) },
        { x[1] * x[2], x[0] * x[2], x[0] * x[1] },
        { 0.0, 0.0, 2.0 * x[2] / (1.0 + x[2] * x[2]) },
    };

    /// <summary>Central differences of order h⁴ for f at x along coordinate i.</summary>
    public static double Diff(Func<double[], double> f, double[] x, int i, double h = 1e-3)
    {
        double At(double d) { var y = (double[])x.Clone(); y[i] += d; return f(y); }
        return (-At(2 * h) + 8 * At(h) - 8 * At(-h) + At(-2 * h)) / (12 * h);
    }

    /// <summary>The finite-difference gradient of a Real function evaluated on constants.</summary>
    public static double[] FdGrad(Func<Vec, Real> f, double[] x) =>
        Enumerable.Range(0, x.Length).Select(i => Diff(y => f(y).Value, x, i)).ToArray();

    /// <summary>The finite-difference Hessian from function values (differences of differences).</summary>
    public static double[,] FdHessian(Func<Vec, Real> f, double[] x)
    {
        var n = x.Length;
        var h = new double[n, n];
        for (var i = 0; i < n; i++)
            for (var j = 0; j < n; j++)
                h[i, j] = Diff(y => Diff(z => f(z).Value, y, j), x, i);
        return h;
    }
}
