using Hybrid.Kernel;
using Xunit;

namespace Hybrid.Tests;

/// <summary>
/// The recording does not depend on memory the caller can change during the call (issue 6, item 7).
/// </summary>
public class InputTests
{
    private static Real Cubic(Vec x) => Vec.Sum(x * x * x); // Mul partials are views of their operands

    [Fact]
    public void WritingIntoTheInputArrayDuringGradDoesNotChangeTheGradient()
    {
        var a = new[] { 1.0, 2.0, 3.0 };
        var g = Fn.Grad((Vec x) =>
        {
            var y = Cubic(x);
            a[0] = 100.0; a[1] = -7.0; a[2] = 0.0; // the caller's array, while the transform runs
            return y;
        })(a);
        Approx.Equal(new[] { 3.0, 12.0, 27.0 }, g, 1e-15, "∇Σx³ at (1, 2, 3)");
    }

    [Fact]
    public void WritingIntoTheInputArrayDuringEveryTransformIsHarmless()
    {
        double[] Fresh() => new[] { 1.0, 2.0 };
        Func<Vec, Real> F(double[] a) => x => { var y = Cubic(x); a[0] = 50.0; a[1] = 60.0; return y; };
        Func<Vec, Vec> G(double[] a) => x => { var y = x * x * x; a[0] = 50.0; a[1] = 60.0; return y; };

        var a1 = Fresh(); Approx.Equal(new[] { 3.0, 12.0 }, Fn.GradAndValue(F(a1))(a1).Grad, 1e-15, "GradAndValue");
        var a2 = Fresh(); Approx.Equal(new[,] { { 6.0, 0.0 }, { 0.0, 12.0 } }, Fn.Hessian(F(a2))(a2), 1e-15, "Hessian");
        var a3 = Fresh(); Approx.Equal(new[] { 0.0, 12.0 }, Fn.Hvp(F(a3))(a3, new[] { 0.0, 1.0 }), 1e-15, "Hvp");
        var a4 = Fresh(); Approx.Equal(new[,] { { 3.0, 0.0 }, { 0.0, 12.0 } }, Fn.JacRev(G(a4))(a4), 1e-15, "JacRev");
        var a5 = Fresh(); Approx.Equal(new[,] { { 3.0, 0.0 }, { 0.0, 12.0 } }, Fn.JacFwd(G(a5))(a5), 1e-15, "JacFwd");
        var a6 = Fresh();
        var (_, pb) = Fn.Vjp(G(a6), a6);
        a6[0] = -1.0; // and after the call: a kept recording does not see it either
        Approx.Equal(new[] { 3.0, 12.0 }, pb(new[] { 1.0, 1.0 }), 1e-15, "Vjp pullback");
    }
}
