using Hybrid.Kernel;

namespace Hybrid;

public static partial class Fn
{
    /// <summary>
    /// The n×n Hessian <c>H[i, j] = ∂²f/∂xᵢ∂xⱼ</c> of a scalar-valued function, forward-over-reverse.
    /// At the top level (x constant, no transform active on this thread) f is recorded once with
    /// second partials and H is read by n replays of that tape (no re-evaluation of f; symmetric to
    /// the last bit). Inside another transform it is <c>JacFwd(Grad(f))</c>, so the result stays
    /// differentiable by the enclosing transform.
    /// </summary>
    /// <param name="f">The scalar function ℝⁿ → ℝ.</param>
    /// <returns>The function x ↦ H(x) (n×n; 1×1 for a one-element x).</returns>
    /// <exception cref="ArgumentNullException"><paramref name="f"/> is null.</exception>
    public static Func<Vec, Mat> Hessian(Func<Vec, Real> f)
    {
        const string owner = "Fn.Hessian";
        Check.NotNull(f, nameof(f), owner);
        return x =>
        {
            Check.Input(x, nameof(x), owner);
            return Compose.Hessian(owner, f, x);
        };
    }

    /// <summary>
    /// The second derivative of a scalar function, <c>Hessian(f)(x) = f″(x)</c>: the second-order tape
    /// at the top level, otherwise the forward derivative of the reverse derivative (differentiable
    /// by an enclosing transform).
    /// </summary>
    /// <param name="f">The function.</param>
    /// <returns>The function x ↦ f″(x).</returns>
    /// <exception cref="ArgumentNullException"><paramref name="f"/> is null.</exception>
    public static Func<Real, Real> Hessian(Func<Real, Real> f)
    {
        const string owner = "Fn.Hessian";
        Check.NotNull(f, nameof(f), owner);
        Func<Vec, Real> g = v => f(v[0]);
        return x => Compose.Hessian(owner, g, One(x))[0, 0];
    }

    /// <summary>
    /// The Hessian-vector product <c>Hvp(f)(x, v) = H(x)·v = ∇(∇f·v)</c> without forming H,
    /// forward-over-reverse: at the top level one recording of f with second partials and one
    /// forward and one backward replay; inside another transform <c>Jvp(Grad(f), x, v)</c>, which stays
    /// differentiable.
    /// </summary>
    /// <param name="f">The scalar function ℝⁿ → ℝ.</param>
    /// <returns>The function (x, v) ↦ H(x)·v; it checks that v has the length of x.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="f"/> is null.</exception>
    public static Func<Vec, Vec, Vec> Hvp(Func<Vec, Real> f)
    {
        const string owner = "Fn.Hvp";
        Check.NotNull(f, nameof(f), owner);
        return (x, v) =>
        {
            Check.Input(x, nameof(x), owner);
            Check.Tangent(x, v, nameof(v), owner);
            return Compose.Hvp(owner, f, x, v);
        };
    }
}
