using Hybrid.Kernel;
using Xunit;
using static Hybrid.Tests.TestFunctions;

namespace Hybrid.Tests;

public class VmapTests
{
    [Fact]
    public void VmapOverElementsEqualsTheLoop()
    {
        double[] x = { -1.5, 0.0, 0.3, 2.0 };
        Func<Real, Real> f = t => Real.Sin(t) * Real.Exp(t);
        var y = Fn.Vmap(f)(x);
        Assert.Equal(x.Select(t => f(t).Value).ToArray(), (double[])y);
    }

    [Fact]
    public void VmapOverRowsEqualsTheLoop()
    {
        var xs = new Mat(new[,] { { -1.2, 1.0, 0.5 }, { 0.0, 2.0, -0.3 }, { 1.0, 1.0, 1.0 } });
        var ys = Fn.Vmap((Func<Vec, Real>)RosenbrockSliced)(xs);
        for (var i = 0; i < 3; i++) Assert.Equal(RosenbrockLoop(xs.Row(i)).Value, ys[i].Value, 12);

        var zs = Fn.Vmap((Vec r) => Vec.OfReals(new[] { Vec.Sum(r), r[0] * r[2] }))(xs);
        Assert.Equal((3, 2), (zs.Rows, zs.Cols));
        for (var i = 0; i < 3; i++)
        {
            Assert.Equal(Vec.Sum(xs.Row(i)).Value, zs[i, 0].Value);
            Assert.Equal(xs[i, 0].Value * xs[i, 2].Value, zs[i, 1].Value);
        }
    }

    [Fact]
    public void VmapOutputIsDifferentiable()
    {
        // d/dx Σᵢ (sin xᵢ · xᵢ) = sin xᵢ + xᵢ cos xᵢ
        double[] x = { -1.5, 0.0, 0.3, 2.0 };
        var g = Fn.Grad((Vec v) => Vec.Sum(Fn.Vmap((Real t) => Real.Sin(t) * t)(v)))(x);
        Approx.Equal(x.Select(t => Math.Sin(t) + t * Math.Cos(t)).ToArray(), g, 1e-15);
    }

    [Fact]
    public void JacobianOfRowVmapIsBlockDiagonal()
    {
        // vmap of Rosenbrock over the rows of a 2×3 batch, differentiated w.r.t. the batch storage
        double[] data = { -1.2, 0.5, 1.0, 2.0, 0.5, -0.3 }; // column-major 2×3
        var j = Fn.JacRev((Vec d) => Fn.Vmap((Func<Vec, Real>)RosenbrockLoop)(new Mat(d, 2, 3)))(data);
        double[] row0 = { -1.2, 1.0, 0.5 }, row1 = { 0.5, 2.0, -0.3 };
        var g0 = RosenbrockGrad(row0);
        var g1 = RosenbrockGrad(row1);
        for (var c = 0; c < 3; c++)
        {
            Approx.Equal(g0[c], j[0, 2 * c].Value, 1e-13);
            Assert.Equal(0.0, j[0, 2 * c + 1].Value);
            Approx.Equal(g1[c], j[1, 2 * c + 1].Value, 1e-13);
            Assert.Equal(0.0, j[1, 2 * c].Value);
        }
    }

    [Fact]
    public void VmapWithAuxCollectsTheAux()
    {
        var (values, aux) = Fn.Vmap((Real t) => (SquareIfEven(t), t.Value % 2 == 0 ? "even" : "odd"))(new[] { 1.0, 2.0, 3.0, 4.0 });
        Assert.Equal(new[] { 1.0, 4.0, 3.0, 16.0 }, (double[])values);
        Assert.Equal(new[] { "odd", "even", "odd", "even" }, aux);
    }

    [Fact]
    public void RowVmapWithAuxIsDifferentiable()
    {
        // per row: value Σr², aux the index of the largest entry; d/dX Σ values = 2X
        double[] data = { 1.0, -3.0, 2.0, 0.5 }; // column-major 2×2: rows (1, 2), (−3, 0.5)
        int[] argmax = null!;
        var g = Fn.Grad((Vec d) =>
        {
            var (values, aux) = Fn.Vmap((Vec r) => (Vec.Dot(r, r), r[0] > r[1] ? 0 : 1))(new Mat(d, 2, 2));
            argmax = aux;
            return Vec.Sum(values);
        })(data);
        Assert.Equal(data.Select(v => 2 * v).ToArray(), (double[])g);
        Assert.Equal(new[] { 1, 1 }, argmax);
    }

    [Fact]
    public void RowOutputsOfDifferentLengthsAreAnError()
    {
        var xs = new Mat(new[,] { { 1.0, 2.0 }, { 3.0, 4.0 } });
        var e = Assert.Throws<InvalidOperationException>(() =>
            Fn.Vmap((Vec r) => r[0].Value > 2 ? Vec.OfReals(new[] { r[0] }) : r)(xs));
        Assert.Contains("Fn.Vmap", e.Message);
        Assert.Contains("2 values for row 0 but 1 for row 1", e.Message);
    }
}
