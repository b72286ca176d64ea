using Hybrid.Kernel;

namespace Hybrid;

public static partial class Fn
{
    /// <summary>
    /// Forward mode for a scalar function: <c>Jvp(f, x, v) = (f(x), f′(x)·v)</c>, one pass of f with a
    /// tangent.
    /// </summary>
    /// <param name="f">The function.</param>
    /// <param name="x">The point.</param>
    /// <param name="v">The tangent (direction) at x.</param>
    /// <returns>(Output: f(x), Tangent: f′(x)·v).</returns>
    /// <exception cref="ArgumentNullException"><paramref name="f"/> is null.</exception>
    public static (Real Output, Real Tangent) Jvp(Func<Real, Real> f, Real x, Real v)
    {
        const string owner = "Fn.Jvp";
        Check.NotNull(f, nameof(f), owner);
        var (y, t) = Ad.Jvp(owner, u => One(f(u[0])), One(x), One(v));
        return (y[0], t[0]);
    }

    /// <summary>
    /// Forward mode: <c>Jvp(f, x, v) = (f(x), J(x)·v)</c> with J the m×n Jacobian of f at x, one pass of
    /// f with tangents (the cost of about three evaluations of f, whatever m and n).
    /// </summary>
    /// <param name="f">The function ℝⁿ → ℝᵐ.</param>
    /// <param name="x">The point (length n ≥ 1).</param>
    /// <param name="v">The tangent at x (length n).</param>
    /// <returns>(Output: f(x), Tangent: J·v), both of length m.</returns>
    /// <exception cref="ArgumentNullException">An argument is null.</exception>
    /// <exception cref="ArgumentException">x is empty or v's length differs from x's.</exception>
    public static (Vec Output, Vec Tangent) Jvp(Func<Vec, Vec> f, Vec x, Vec v)
    {
        const string owner = "Fn.Jvp";
        Check.NotNull(f, nameof(f), owner);
        Check.Input(x, nameof(x), owner);
        Check.Tangent(x, v, nameof(v), owner);
        var (y, t) = Ad.Jvp(owner, u => Check.Result(f(u), owner), x, v);
        return (y, t);
    }

    /// <summary>
    /// Forward mode for a scalar-valued function of a vector: <c>Jvp(f, x, v) = (f(x), ∇f(x)·v)</c>, the
    /// directional derivative along v, in one pass of f with tangents.
    /// </summary>
    /// <param name="f">The function ℝⁿ → ℝ.</param>
    /// <param name="x">The point (length n ≥ 1).</param>
    /// <param name="v">The direction (length n).</param>
    /// <returns>(Output: f(x), Tangent: ∇f(x)·v).</returns>
    /// <exception cref="ArgumentNullException">An argument is null.</exception>
    /// <exception cref="ArgumentException">x is empty or v's length differs from x's.</exception>
    public static (Real Output, Real Tangent) Jvp(Func<Vec, Real> f, Vec x, Vec v)
    {
        const string owner = "Fn.Jvp";
        Check.NotNull(f, nameof(f), owner);
        Check.Input(x, nameof(x), owner);
        Check.Tangent(x, v, nameof(v), owner);
        var (y, t) = Ad.Jvp(owner, u => One(f(u)), x, v);
        return (y[0], t[0]);
    }

    /// <summary>
    /// Forward mode for a curve ℝ → ℝᵐ: <c>Jvp(f, x, v) = (f(x), f′(x)·v)</c>, one pass of f with a
    /// tangent.
    /// </summary>
    /// <param name="f">The function ℝ → ℝᵐ.</param>
    /// <param name="x">The point.</param>
    /// <param name="v">The tangent at x.</param>
    /// <returns>(Output: f(x), Tangent: f′(x)·v), both of length m.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="f"/> is null.</exception>
    public static (Vec Output, Vec Tangent) Jvp(Func<Real, Vec> f, Real x, Real v)
    {
        const string owner = "Fn.Jvp";
        Check.NotNull(f, nameof(f), owner);
        var (y, t) = Ad.Jvp(owner, u => Check.Result(f(u[0]), owner), One(x), One(v));
        return (y, t);
    }

    /// <summary>
    /// The linearisation of f at a fixed x: <c>(f(x), v ↦ J(x)·v)</c>, forward mode. At the top level f
    /// is recorded once and each call of the returned function replays that recording forward (no
    /// re-run of f; a differentiable v gives a differentiable J·v, whose transpose is the recording's
    /// pullback); inside another transform each call runs f once with tangents, so the result stays
    /// differentiable in x too. Use <see cref="JacFwd"/> when you need every direction.
    /// </summary>
    /// <param name="f">The function ℝⁿ → ℝᵐ.</param>
    /// <param name="x">The point (length n ≥ 1).</param>
    /// <returns>(Output: f(x), Jvp: v ↦ J(x)·v, which checks that v has length n); dispose it to give
    /// the recording back early.</returns>
    /// <exception cref="ArgumentNullException">An argument is null.</exception>
    /// <exception cref="ArgumentException">x is empty.</exception>
    public static LinearizeResult<Vec, Vec> Linearize(Func<Vec, Vec> f, Vec x)
    {
        const string owner = "Fn.Linearize";
        Check.NotNull(f, nameof(f), owner);
        Check.Input(x, nameof(x), owner);
        var linearization = Compose.Linearize(owner, u => Check.Result(f(u), owner), x);
        return new(linearization.Output, v =>
        {
            Check.Tangent(x, v, nameof(v), owner);
            return linearization.Apply(v);
        }, linearization);
    }

    /// <summary>
    /// The linearisation of a scalar function at a fixed x: <c>(f(x), v ↦ f′(x)·v)</c>; forward mode,
    /// each call of the returned function runs f once with a tangent.
    /// </summary>
    /// <param name="f">The function.</param>
    /// <param name="x">The point.</param>
    /// <returns>(Output: f(x), Jvp: v ↦ f′(x)·v).</returns>
    /// <exception cref="ArgumentNullException"><paramref name="f"/> is null.</exception>
    public static LinearizeResult<Real, Real> Linearize(Func<Real, Real> f, Real x)
    {
        const string owner = "Fn.Linearize";
        Check.NotNull(f, nameof(f), owner);
        var output = f(x);
        return new(output, v => Ad.Jvp(owner, u => One(f(u[0])), One(x), One(v)).Item2[0], null);
    }
}
