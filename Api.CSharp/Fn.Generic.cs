using Hybrid.Kernel;

namespace Hybrid;

public static partial class Fn
{
    /// <summary>
    /// The gradient of a generically written scalar function, evaluated at <see cref="Real"/>: reverse
    /// mode, one recording and one sweep (the same as <see cref="Grad(Func{Vec, Real})"/>, and
    /// composable with every other transform).
    /// </summary>
    /// <param name="f">The generic function ℝⁿ → ℝ.</param>
    /// <returns>The function x ↦ ∇f(x).</returns>
    /// <exception cref="ArgumentNullException"><paramref name="f"/> is null.</exception>
    public static Func<Vec, Vec> Grad(IScalarFunction f)
    {
        const string owner = "Fn.Grad";
        Check.NotNull(f, nameof(f), owner);
        return Grad(AsReal(f));
    }

    /// <summary>A generic function as a function of a differentiable vector.</summary>
    /// <param name="f">The generic function.</param>
    /// <returns>x ↦ f(x) evaluated at <see cref="Real"/>, for any transform.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="f"/> is null.</exception>
    public static Func<Vec, Real> AsReal(IScalarFunction f)
    {
        Check.NotNull(f, nameof(f), "Fn.AsReal");
        return x => f.Invoke<Real>(x.ToReals());
    }

    /// <summary>
    /// Forward mode on a generic function with <see cref="Dual"/> numbers:
    /// <c>(f(x), ∇f(x)·v)</c> in one evaluation of f at Dual, with no trace or tape (the cheapest
    /// directional derivative).
    /// </summary>
    /// <param name="f">The generic function ℝⁿ → ℝ.</param>
    /// <param name="x">The point (length n ≥ 1).</param>
    /// <param name="v">The direction (length n).</param>
    /// <returns>(Output: f(x), Tangent: ∇f(x)·v).</returns>
    /// <exception cref="ArgumentNullException">An argument is null.</exception>
    /// <exception cref="ArgumentException">x is empty or v's length differs from x's.</exception>
    public static (double Output, double Tangent) Jvp(IScalarFunction f, double[] x, double[] v)
    {
        const string owner = "Fn.Jvp";
        Check.NotNull(f, nameof(f), owner);
        Check.NotNull(x, nameof(x), owner);
        Check.NotNull(v, nameof(v), owner);
        Check.Input(new Vec(x), nameof(x), owner);
        Check.Tangent(new Vec(x), new Vec(v), nameof(v), owner);
        var d = new Dual[x.Length];
        for (var i = 0; i < d.Length; i++) d[i] = new Dual(x[i], v[i]);
        var y = f.Invoke<Dual>(d);
        return (y.Value, y.Tangent);
    }

    /// <summary>
    /// The n×n Hessian of a generic function with <see cref="HyperDual"/> numbers: for each i ≤ j one
    /// evaluation with ε₁ on xᵢ and ε₂ on xⱼ gives <c>H[i, j] = ∂²f/∂xᵢ∂xⱼ</c> as the ε₁ε₂ part, exactly
    /// (no truncation error, no subtractive cancellation); n(n+1)/2 evaluations, no trace or tape.
    /// Best for small n; for large n use <see cref="Hessian(Func{Vec, Real})"/> on <see cref="AsReal"/>.
    /// </summary>
    /// <param name="f">The generic function ℝⁿ → ℝ.</param>
    /// <param name="x">The point (length n ≥ 1).</param>
    /// <returns>H(x), n×n and symmetric (constant; converts to Matrix&lt;double&gt;).</returns>
    /// <exception cref="ArgumentNullException">An argument is null.</exception>
    /// <exception cref="ArgumentException">x is empty.</exception>
    public static Mat Hessian(IScalarFunction f, double[] x)
    {
        const string owner = "Fn.Hessian";
        Check.NotNull(f, nameof(f), owner);
        Check.NotNull(x, nameof(x), owner);
        Check.Input(new Vec(x), nameof(x), owner);
        var n = x.Length;
        var h = new double[n * n]; // column-major
        var hd = new HyperDual[n];
        for (var k = 0; k < n; k++) hd[k] = new HyperDual(x[k], 0.0, 0.0, 0.0);
        for (var i = 0; i < n; i++)
        {
            for (var j = i; j < n; j++)
            {
                if (i == j) hd[i] = new HyperDual(x[i], 1.0, 1.0, 0.0);
                else
                {
                    hd[i] = new HyperDual(x[i], 1.0, 0.0, 0.0);
                    hd[j] = new HyperDual(x[j], 0.0, 1.0, 0.0);
                }
                var e12 = f.Invoke<HyperDual>(hd).Eps12;
                h[i + j * n] = e12;
                h[j + i * n] = e12;
                hd[i] = new HyperDual(x[i], 0.0, 0.0, 0.0);
                hd[j] = new HyperDual(x[j], 0.0, 0.0, 0.0);
            }
        }
        return new Mat(new Vec(h), n, n);
    }
}
