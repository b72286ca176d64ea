using Hybrid.Kernel;

namespace Hybrid;

public static partial class Fn
{
    /// <summary>
    /// The m×n Jacobian <c>J[i, j] = ∂fᵢ/∂xⱼ</c> by forward mode: column j is J·eⱼ, the push-forward of
    /// the basis vector eⱼ. At the top level f is recorded once and the recording is replayed forward
    /// n times; inside another transform each column is one Jvp pass of f, so the result stays
    /// differentiable. Best when n ≤ m.
    /// </summary>
    /// <param name="f">The function ℝⁿ → ℝᵐ.</param>
    /// <returns>The function x ↦ J(x) (m×n); it throws <see cref="ArgumentException"/> for an empty x.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="f"/> is null.</exception>
    public static Func<Vec, Mat> JacFwd(Func<Vec, Vec> f) => JacobianOf("Fn.JacFwd", f, JacobianMode.Forward);

    /// <summary>
    /// The m×n Jacobian <c>J[i, j] = ∂fᵢ/∂xⱼ</c> by reverse mode: f is recorded once and row i is the
    /// pullback of the basis cotangent eᵢ, m backward sweeps. Best when m &lt; n.
    /// </summary>
    /// <param name="f">The function ℝⁿ → ℝᵐ.</param>
    /// <returns>The function x ↦ J(x) (m×n); it throws <see cref="ArgumentException"/> for an empty x.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="f"/> is null.</exception>
    public static Func<Vec, Mat> JacRev(Func<Vec, Vec> f) => JacobianOf("Fn.JacRev", f, JacobianMode.Reverse);

    /// <summary>
    /// The m×n Jacobian <c>J[i, j] = ∂fᵢ/∂xⱼ</c>, mode chosen by shape: forward (as
    /// <see cref="JacFwd"/>) when n ≤ m, reverse (as <see cref="JacRev"/>) when m &lt; n. f is recorded
    /// once, which tells m; at the top level both directions replay that recording. Inside another
    /// transform a forward choice costs one evaluation of f more than <see cref="JacFwd"/>.
    /// </summary>
    /// <param name="f">The function ℝⁿ → ℝᵐ.</param>
    /// <returns>The function x ↦ J(x) (m×n).</returns>
    /// <exception cref="ArgumentNullException"><paramref name="f"/> is null.</exception>
    public static Func<Vec, Mat> Jacobian(Func<Vec, Vec> f) => JacobianOf("Fn.Jacobian", f, JacobianMode.ByShape);

    private enum JacobianMode { Forward, Reverse, ByShape }

    /// <summary>The kernel's name for a mode.</summary>
    private static JacobianWay Way(JacobianMode mode) => mode switch
    {
        JacobianMode.Forward => JacobianWay.Forward,
        JacobianMode.Reverse => JacobianWay.Reverse,
        _ => JacobianWay.ByShape,
    };

    /// <summary>The checked function x ↦ J(x) in the given mode (the three public forms differ only in mode).</summary>
    private static Func<Vec, Mat> JacobianOf(string owner, Func<Vec, Vec> f, JacobianMode mode)
    {
        Check.NotNull(f, nameof(f), owner);
        return x =>
        {
            Check.Input(x, nameof(x), owner);
            return Compose.Jacobian(owner, u => Check.Result(f(u), owner), x, Way(mode));
        };
    }

    /// <summary>An m×n matrix with no elements (m or n is 0).</summary>
    private static Mat Empty(int m, int n) => new(new Vec(Array.Empty<double>()), m, n);
}
