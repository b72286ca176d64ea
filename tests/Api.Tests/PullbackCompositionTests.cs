using Hybrid.Kernel;
using MathNet.Numerics.LinearAlgebra;
using Xunit;

namespace Hybrid.Tests;

/// <summary>
/// Pullbacks and linearisations recorded at the top level, applied to differentiable cotangents and
/// tangents inside other transforms (issue 6, item 3: the double-vjp trick), and disposed early
/// (item 4).
/// </summary>
public class PullbackCompositionTests
{
    private static readonly Mat A = new(new[,] { { 1.0, -2.0, 0.5 }, { 0.3, 4.0, -1.0 } });
    private static readonly double[] X = { 0.2, -0.4, 0.7 };
    private static readonly double[] U = { 1.5, -0.5 };
    private static readonly double[] V = { 0.3, 0.1, -0.2 };

    /// <summary>F: ℝ³ → ℝ², written with vector and matrix primitives (one tape node each).</summary>
    private static Vec F(Vec x) => Mat.MatVec(A, Vec.Exp(x)) + Vec.Sum(Vec.Square(x));

    /// <summary>The Jacobian in closed form: A·diag(eˣ) + 1·(2x)ᵀ.</summary>
    private static Matrix<double> J()
    {
        var j = Matrix<double>.Build.Dense(2, 3);
        for (var i = 0; i < 2; i++)
            for (var k = 0; k < 3; k++)
                j[i, k] = A[i, k].Value * Math.Exp(X[k]) + 2 * X[k];
        return j;
    }

    private static Vector<double> Of(double[] v) => Vector<double>.Build.Dense(v);

    [Fact]
    public void GradientThroughAPullbackIsJTimesOnes()
    {
        var (_, pb) = Fn.Vjp(F, X);
        var g = Fn.Grad((Vec u) => Vec.Sum(pb(u)))(U);
        Approx.Equal((J() * Of(new[] { 1.0, 1.0, 1.0 })).ToArray(), g, 1e-14, "∇ Σ Jᵀu");
        // second mode: central differences of the scalar u ↦ Σ pb(u) (linear, so exact up to rounding)
        for (var i = 0; i < 2; i++)
        {
            var up = (double[])U.Clone(); up[i] += 1e-3;
            var dn = (double[])U.Clone(); dn[i] -= 1e-3;
            var fd = (pb(up).ToArray().Sum() - pb(dn).ToArray().Sum()) / 2e-3;
            Approx.Equal(fd, g[i].Value, 1e-9, $"fd[{i}]");
        }
    }

    [Fact]
    public void JacobiansAndVjpOfAPullbackAreJTransposed()
    {
        using var vjp = Fn.Vjp(F, X);
        var pb = vjp.Pullback;
        var jt = J().Transpose().ToArray();
        Approx.Equal(jt, Fn.JacRev(pb)(U), 1e-14, "JacRev(pb)");
        Approx.Equal(jt, Fn.JacFwd(pb)(U), 1e-14, "JacFwd(pb)");
        Approx.Equal(jt, Fn.Jacobian(pb)(U), 1e-14, "Jacobian(pb)");
        var w = new[] { 0.5, -1.0, 2.0 };
        Approx.Equal((J() * Of(w)).ToArray(), Fn.Vjp(pb, U).Pullback(w), 1e-14, "Vjp(pb)(w) = J·w");
        Approx.Equal((J().Transpose() * Of(V[..2])).ToArray(), Fn.Jvp(pb, U, V[..2]).Tangent, 1e-14, "Jvp(pb)");
    }

    [Fact]
    public void SecondOrderThroughAPullbackIsTwoJJTransposed()
    {
        var (_, pb) = Fn.Vjp(F, X);
        Real H(Vec u) { var g = pb(u); return Vec.Dot(g, g); } // ‖Jᵀu‖², Hessian 2JJᵀ
        var expected = (2.0 * J() * J().Transpose()).ToArray();
        Approx.Equal(expected, Fn.Hessian(H)(U), 1e-13, "Hessian (second-order tape)");
        Approx.Equal(expected, Fn.JacFwd(Fn.Grad(H))(U), 1e-13, "JacFwd∘Grad (nested trace)");
        Approx.Equal(expected, Fn.JacRev(Fn.Grad(H))(U), 1e-13, "JacRev∘Grad (nested trace)");
        Approx.Equal((2.0 * J() * J().Transpose() * Of(U)).ToArray(), Fn.Hvp(H)(U, U), 1e-13, "Hvp");
    }

    [Fact]
    public void ThroughALinearisationEveryModeGivesJ()
    {
        using var lin = Fn.Linearize(F, X);
        var jvp = lin.Jvp;
        var j = J().ToArray();
        Approx.Equal((J().Transpose() * Of(new[] { 1.0, 1.0 })).ToArray(), Fn.Grad((Vec v) => Vec.Sum(jvp(v)))(V), 1e-14, "∇ Σ Jv");
        Approx.Equal(j, Fn.JacRev(jvp)(V), 1e-14, "JacRev(jvp)");
        Approx.Equal(j, Fn.JacFwd(jvp)(V), 1e-14, "JacFwd(jvp)");
        Real H(Vec v) { var y = jvp(v); return Vec.Dot(y, y); } // ‖Jv‖², Hessian 2JᵀJ
        var expected = (2.0 * J().Transpose() * J()).ToArray();
        Approx.Equal(expected, Fn.Hessian(H)(V), 1e-13, "Hessian");
        Approx.Equal(expected, Fn.JacFwd(Fn.Grad(H))(V), 1e-13, "JacFwd∘Grad");
        Approx.Equal((J() * Of(V)).ToArray(), jvp(V), 1e-14, "J·v");
    }

    [Fact]
    public void APullbackInsideAnEnclosingTransformOfXStaysDifferentiableInX()
    {
        // the recording is nested here (made inside Fn.Grad of x): d/dx₀ Σ (Jᵀu) checked by differences
        Real S(Vec x) => Vec.Sum(Fn.Vjp(F, x).Pullback(U));
        var g = Fn.Grad(S)(X);
        for (var k = 0; k < 3; k++)
        {
            var xp = (double[])X.Clone(); xp[k] += 1e-5;
            var xm = (double[])X.Clone(); xm[k] -= 1e-5;
            var fd = (S(xp).Value - S(xm).Value) / 2e-5;
            Approx.Equal(fd, g[k].Value, 1e-8, $"∂/∂x{k}");
        }
    }

    [Fact]
    public void ADisposedPullbackThrowsAClearException()
    {
        var vjp = Fn.Vjp(F, X);
        var pb = vjp.Pullback;
        Approx.Equal((J().Transpose() * Of(U)).ToArray(), pb(U), 1e-14, "before Dispose");
        vjp.Dispose();
        vjp.Dispose(); // idempotent
        var e = Assert.Throws<ObjectDisposedException>(() => pb(U));
        Assert.Contains("disposed", e.Message);
        Assert.Contains("Fn.Vjp again", e.Message);
        // disposed while an enclosing transform still needs it for its sweep
        var again = Fn.Vjp(F, X);
        Assert.Throws<ObjectDisposedException>(() =>
            Fn.Grad((Vec u) => { var s = Vec.Sum(again.Pullback(u)); again.Dispose(); return s; })(U));
    }

    [Fact]
    public void ADisposedLinearisationThrowsAClearException()
    {
        var lin = Fn.Linearize(F, X);
        Approx.Equal((J() * Of(V)).ToArray(), lin.Jvp(V), 1e-14, "before Dispose");
        lin.Dispose();
        Assert.Throws<ObjectDisposedException>(() => lin.Jvp(V));
        var scalar = Fn.Vjp((Real t) => t * t, 3.0);
        scalar.Dispose();
        Assert.Throws<ObjectDisposedException>(() => scalar.Pullback(1.0));
    }
}
