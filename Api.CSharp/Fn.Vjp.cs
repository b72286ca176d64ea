using Hybrid.Kernel;

namespace Hybrid;

public static partial class Fn
{
    /// <summary>
    /// Reverse mode: <c>Vjp(f, x) = (f(x), u ↦ uᵀJ(x))</c> with J the m×n Jacobian of f at x. f is
    /// recorded once; the pullback sweeps the recording backwards and may be called any number of
    /// times (each call costs about one evaluation of f).
    /// </summary>
    /// <param name="f">The function ℝⁿ → ℝᵐ.</param>
    /// <param name="x">The point (length n ≥ 1).</param>
    /// <returns>(Output: f(x), Pullback: u ↦ Jᵀu for a cotangent u of length m); dispose it to give the
    /// recording back early.</returns>
    /// <exception cref="ArgumentNullException">An argument is null.</exception>
    /// <exception cref="ArgumentException">x is empty (and, from the pullback, u's length is not m).</exception>
    public static VjpResult<Vec, Vec, Vec> Vjp(Func<Vec, Vec> f, Vec x)
    {
        const string owner = "Fn.Vjp";
        Check.NotNull(f, nameof(f), owner);
        Check.Input(x, nameof(x), owner);
        var (y, pb) = Ad.Vjp(owner, v => Check.Result(f(v), owner), x);
        return new(y, u =>
        {
            Check.Cotangent(u, pb.OutputCount, owner);
            return pb.Apply(u);
        }, pb);
    }

    /// <summary>
    /// Reverse mode for a scalar-valued function of a vector: <c>(f(x), u ↦ u·∇f(x))</c>. The pullback
    /// takes the scalar cotangent u and may be called any number of times.
    /// </summary>
    /// <param name="f">The function ℝⁿ → ℝ.</param>
    /// <param name="x">The point (length n ≥ 1).</param>
    /// <returns>(Output: f(x), Pullback: u ↦ u·∇f(x)).</returns>
    /// <exception cref="ArgumentNullException">An argument is null.</exception>
    /// <exception cref="ArgumentException">x is empty.</exception>
    public static VjpResult<Real, Real, Vec> Vjp(Func<Vec, Real> f, Vec x)
    {
        const string owner = "Fn.Vjp";
        Check.NotNull(f, nameof(f), owner);
        Check.Input(x, nameof(x), owner);
        var (y, pb) = Ad.Vjp(owner, v => One(f(v)), x);
        return new(y[0], u => pb.Apply(One(u)), pb);
    }

    /// <summary>
    /// Reverse mode for a scalar function: <c>(f(x), u ↦ u·f′(x))</c>, the pullback reusable.
    /// </summary>
    /// <param name="f">The function.</param>
    /// <param name="x">The point.</param>
    /// <returns>(Output: f(x), Pullback: u ↦ u·f′(x)).</returns>
    /// <exception cref="ArgumentNullException"><paramref name="f"/> is null.</exception>
    public static VjpResult<Real, Real, Real> Vjp(Func<Real, Real> f, Real x)
    {
        const string owner = "Fn.Vjp";
        Check.NotNull(f, nameof(f), owner);
        var (y, pb) = Ad.Vjp(owner, v => One(f(v[0])), One(x));
        return new(y[0], u => pb.Apply(One(u))[0], pb);
    }

    /// <summary>
    /// Reverse mode for a curve ℝ → ℝᵐ: <c>(f(x), u ↦ uᵀf′(x))</c>; the pullback takes a cotangent of
    /// length m and returns a scalar.
    /// </summary>
    /// <param name="f">The function ℝ → ℝᵐ.</param>
    /// <param name="x">The point.</param>
    /// <returns>(Output: f(x), Pullback: u ↦ Σₖ uₖ fₖ′(x)).</returns>
    /// <exception cref="ArgumentNullException"><paramref name="f"/> is null.</exception>
    public static VjpResult<Vec, Vec, Real> Vjp(Func<Real, Vec> f, Real x)
    {
        const string owner = "Fn.Vjp";
        Check.NotNull(f, nameof(f), owner);
        var (y, pb) = Ad.Vjp(owner, v => Check.Result(f(v[0]), owner), One(x));
        return new(y, u =>
        {
            Check.Cotangent(u, pb.OutputCount, owner);
            return pb.Apply(u)[0];
        }, pb);
    }
}
