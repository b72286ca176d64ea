using Hybrid.Kernel;

namespace Hybrid;

public static partial class Fn
{
    /// <summary>
    /// f with a user derivative rule (JAX's <c>custom_jvp</c>): <c>jvp(x, ẋ) = f′(x)·ẋ</c>, linear in ẋ and
    /// written with <see cref="Real"/> operations, so it is itself differentiable. f is called on the
    /// primal value only (it may compute in plain doubles — <c>x.Value</c> — e.g. a numerically stable
    /// formula or an external routine). The result works under every transform and nests: forward
    /// mode calls the rule, reverse mode transposes it (it is linear in ẋ), Hessians differentiate it.
    /// </summary>
    /// <param name="f">The function (its value).</param>
    /// <param name="jvp">(x, ẋ) ↦ ẏ, linear in ẋ.</param>
    /// <returns>f with its derivative given by <paramref name="jvp"/>.</returns>
    /// <exception cref="ArgumentNullException">An argument is null.</exception>
    public static Func<Real, Real> CustomJvp(Func<Real, Real> f, Func<Real, Real, Real> jvp)
    {
        const string owner = "Fn.CustomJvp";
        Check.NotNull(f, nameof(f), owner);
        Check.NotNull(jvp, nameof(jvp), owner);
        var rule = new CustomRule(owner, v => One(f(v[0])), (x, xd) => One(jvp(x[0], xd[0])), null);
        return x => Custom.Apply(rule, One(x))[0];
    }

    /// <summary>
    /// f: ℝⁿ → ℝᵐ with a user derivative rule (JAX's <c>custom_jvp</c>): <c>jvp(x, ẋ) = J(x)·ẋ</c>, linear
    /// in ẋ and written with <see cref="Vec"/>/<see cref="Real"/> operations. f is called on primal values
    /// only (an external solver in plain doubles is fine). Forward mode calls the rule; reverse mode
    /// transposes it (linearize-and-transpose, as JAX); second derivatives differentiate it; it nests
    /// under every transform, <see cref="Vmap(Func{Vec, Vec})"/> and <see cref="Scan{TCarry, TX, TY}"/>.
    /// </summary>
    /// <param name="f">The function (its value).</param>
    /// <param name="jvp">(x, ẋ) ↦ ẏ (length m), linear in ẋ.</param>
    /// <returns>f with its derivative given by <paramref name="jvp"/>; it checks the rule's output length.</returns>
    /// <exception cref="ArgumentNullException">An argument is null.</exception>
    public static Func<Vec, Vec> CustomJvp(Func<Vec, Vec> f, Func<Vec, Vec, Vec> jvp)
    {
        const string owner = "Fn.CustomJvp";
        Check.NotNull(f, nameof(f), owner);
        Check.NotNull(jvp, nameof(jvp), owner);
        var rule = new CustomRule(owner, f, jvp, null);
        return ApplyChecked(rule, owner);
    }

    /// <summary>
    /// f with a user reverse rule (JAX's <c>custom_vjp</c>): <c>vjp(x, y, ȳ) = ȳ·f′(x)</c>, given x, the
    /// value y = f(x) and the cotangent ȳ, written with <see cref="Real"/> operations. f is called on the
    /// primal value only. Reverse mode calls the rule as written (so it may also reshape the gradient,
    /// e.g. clip it); forward mode and nesting use its transpose and derivatives, which assume it is
    /// linear in ȳ — unlike JAX's <c>custom_vjp</c>, forward mode works.
    /// </summary>
    /// <param name="f">The function (its value).</param>
    /// <param name="vjp">(x, y, ȳ) ↦ x̄, linear in ȳ.</param>
    /// <returns>f with its derivative given by <paramref name="vjp"/>.</returns>
    /// <exception cref="ArgumentNullException">An argument is null.</exception>
    public static Func<Real, Real> CustomVjp(Func<Real, Real> f, Func<Real, Real, Real, Real> vjp)
    {
        const string owner = "Fn.CustomVjp";
        Check.NotNull(f, nameof(f), owner);
        Check.NotNull(vjp, nameof(vjp), owner);
        var rule = new CustomRule(owner, v => One(f(v[0])), null, (x, y, yb) => One(vjp(x[0], y[0], yb[0])));
        return x => Custom.Apply(rule, One(x))[0];
    }

    /// <summary>
    /// f: ℝⁿ → ℝᵐ with a user reverse rule (JAX's <c>custom_vjp</c>): <c>vjp(x, y, ȳ) = J(x)ᵀȳ</c> (length n),
    /// given x, y = f(x) and the cotangent ȳ (length m), written with <see cref="Vec"/>/<see cref="Real"/>
    /// operations. f is called on primal values only — for example an iterative solver whose result is
    /// differentiated by the implicit function theorem. Reverse mode calls the rule; forward mode
    /// transposes it (it is linear in ȳ); it nests under every transform.
    /// </summary>
    /// <param name="f">The function (its value).</param>
    /// <param name="vjp">(x, y, ȳ) ↦ x̄ (length n), linear in ȳ.</param>
    /// <returns>f with its derivative given by <paramref name="vjp"/>; it checks the rule's output length.</returns>
    /// <exception cref="ArgumentNullException">An argument is null.</exception>
    public static Func<Vec, Vec> CustomVjp(Func<Vec, Vec> f, Func<Vec, Vec, Vec, Vec> vjp)
    {
        const string owner = "Fn.CustomVjp";
        Check.NotNull(f, nameof(f), owner);
        Check.NotNull(vjp, nameof(vjp), owner);
        var rule = new CustomRule(owner, f, null, vjp);
        return ApplyChecked(rule, owner);
    }

    /// <summary>
    /// A scalar function of a vector with a user reverse rule: <c>vjp(x, y, ȳ) = ȳ·∇f(x)</c> (length n).
    /// As <see cref="CustomVjp(Func{Vec, Vec}, Func{Vec, Vec, Vec, Vec})"/> with one output.
    /// </summary>
    /// <param name="f">The function ℝⁿ → ℝ (its value).</param>
    /// <param name="vjp">(x, y, ȳ) ↦ x̄ (length n), linear in ȳ.</param>
    /// <returns>f with its gradient given by <paramref name="vjp"/>.</returns>
    /// <exception cref="ArgumentNullException">An argument is null.</exception>
    public static Func<Vec, Real> CustomVjp(Func<Vec, Real> f, Func<Vec, Real, Real, Vec> vjp)
    {
        const string owner = "Fn.CustomVjp";
        Check.NotNull(f, nameof(f), owner);
        Check.NotNull(vjp, nameof(vjp), owner);
        var rule = new CustomRule(owner, v => One(f(v)), null, (x, y, yb) => vjp(x, y[0], yb[0]));
        var g = ApplyChecked(rule, owner);
        return x => g(x)[0];
    }

    /// <summary>The custom function x ↦ Custom.Apply(rule, x) of a vector, with the input checked.</summary>
    private static Func<Vec, Vec> ApplyChecked(CustomRule rule, string owner) => x =>
    {
        Check.Input(x, nameof(x), owner);
        return Custom.Apply(rule, x);
    };
}
