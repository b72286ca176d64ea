using Hybrid.Kernel;
using Xunit;
using static Hybrid.Tests.TestFunctions;

namespace Hybrid.Tests;

public class JacobianTests
{
    static readonly double[] X = { 0.4, -0.7, 1.3 };

    [Fact]
    public void JacFwdAndJacRevAreTheClosedForm()
    {
        var expected = JacobianF(X);
        Approx.Equal(expected, Fn.JacFwd(F)(X), 1e-15, "fwd");
        Approx.Equal(expected, Fn.JacRev(F)(X), 1e-15, "rev");
        Approx.Equal(expected, Fn.Jacobian(F)(X), 1e-15, "auto");
    }

    [Fact]
    public void JacFwdEqualsJacRevOnRandomPoints()
    {
        var rng = new Random(42);
        for (var trial = 0; trial < 10; trial++)
        {
            var x = Enumerable.Range(0, 3).Select(_ => rng.NextDouble() * 2 - 1).ToArray();
            Approx.Equal(Fn.JacFwd(F)(x), Fn.JacRev(F)(x), 1e-15, $"trial {trial}");
        }
    }

    [Fact]
    public void WideJacobianPicksReverseAndIsCorrect()
    {
        // ℝ⁵ → ℝ²: m < n, reverse mode
        Vec G(Vec x) => Vec.OfReals(new[] { Vec.Sum(x * x), x[0] * x[4] });
        double[] x = { 1.0, 2.0, 3.0, 4.0, 5.0 };
        var j = Fn.Jacobian(G)(x);
        Approx.Equal(new[,] { { 2.0, 4.0, 6.0, 8.0, 10.0 }, { 5.0, 0.0, 0.0, 0.0, 1.0 } }, j, 0);
        Approx.Equal(Fn.JacFwd(G)(x), j, 0);
    }

    [Fact]
    public void JacobianOfGradientIsTheHessian()
    {
        double[] x = { -1.2, 1.0, 0.5, 2.0 };
        Approx.Equal(RosenbrockHessian(x), Fn.JacFwd(Fn.Grad(RosenbrockLoop))(x), 1e-13, "fwd");
        Approx.Equal(RosenbrockHessian(x), Fn.JacRev(Fn.Grad(RosenbrockSliced))(x), 1e-13, "rev");
    }

    [Fact]
    public void JacobianConvertsToMathNetMatrix()
    {
        MathNet.Numerics.LinearAlgebra.Matrix<double> j = Fn.Jacobian(F)(X);
        Assert.Equal(4, j.RowCount);
        Assert.Equal(3, j.ColumnCount);
        Assert.Equal(JacobianF(X)[1, 2], j[1, 2], 15);
    }

    [Fact]
    public void JacobianOfAFunctionWithNoOutputsIsEmpty()
    {
        var j = Fn.JacFwd((Vec _) => new Vec(Array.Empty<double>()))(new[] { 1.0, 2.0 });
        Assert.Equal((0, 2), (j.Rows, j.Cols));
        var r = Fn.JacRev((Vec _) => new Vec(Array.Empty<double>()))(new[] { 1.0, 2.0 });
        Assert.Equal((0, 2), (r.Rows, r.Cols));
    }

    [Fact]
    public void TopLevelJacobiansRecordTheFunctionOnce()
    {
        var calls = 0;
        Vec Counted(Vec x) { calls++; return F(x); }
        foreach (var jac in new[] { Fn.JacFwd(Counted), Fn.JacRev(Counted), Fn.Jacobian(Counted) })
        {
            calls = 0;
            Approx.Equal(JacobianF(X), jac(X), 1e-15);
            Assert.Equal(1, calls);
        }
    }

    [Fact]
    public void NestedJacobiansAreDifferentiable()
    {
        // d/da of Σ J(a·x) for F: every mode gives the same, and matches finite differences
        double[] x = { 0.4, -0.7, 1.3 };
        Func<Func<Vec, Vec>, Func<Vec, Mat>>[] modes = { Fn.JacFwd, Fn.JacRev, Fn.Jacobian };
        Real SumJ(Func<Vec, Mat> jac, Real a) => Vec.Sum(jac(new Vec(x) * a).Data);
        var fd = TestFunctions.Diff(p => SumJ(Fn.JacFwd(F), p[0]).Value, new[] { 0.9 }, 0);
        foreach (var mode in modes)
            Approx.Equal(fd, Fn.Grad((Real a) => SumJ(mode(F), a))(0.9).Value, 1e-9);
    }
}
