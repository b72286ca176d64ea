using Hybrid.Kernel;

namespace Hybrid;

public static partial class Fn
{
    /// <summary>
    /// The m×n Jacobian <c>J[i, j] = ∂fᵢ/∂xⱼ</c> by forward mode: column j is the Jvp of f along the
    /// basis vector eⱼ, n passes of f with one tangent each. Best when n ≤ m.
    /// </summary>
    /// <param name="f">The function ℝⁿ → ℝᵐ.</param>
    /// <returns>The function x ↦ J(x) (m×n); it throws <see cref="ArgumentException"/> for an empty x.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="f"/> is null.</exception>
    public static Func<Vec, Mat> JacFwd(Func<Vec, Vec> f)
    {
        const string owner = "Fn.JacFwd";
        Check.NotNull(f, nameof(f), owner);
        return x =>
        {
            Check.Input(x, nameof(x), owner);
            return JacFwdAt(owner, f, x);
        };
    }

    /// <summary>
    /// The m×n Jacobian <c>J[i, j] = ∂fᵢ/∂xⱼ</c> by reverse mode: f is recorded once and row i is the
    /// pullback of the basis cotangent eᵢ, m backward sweeps. Best when m &lt; n.
    /// </summary>
    /// <param name="f">The function ℝⁿ → ℝᵐ.</param>
    /// <returns>The function x ↦ J(x) (m×n); it throws <see cref="ArgumentException"/> for an empty x.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="f"/> is null.</exception>
    public static Func<Vec, Mat> JacRev(Func<Vec, Vec> f)
    {
        const string owner = "Fn.JacRev";
        Check.NotNull(f, nameof(f), owner);
        return x =>
        {
            Check.Input(x, nameof(x), owner);
            return JacRevAt(owner, f, x);
        };
    }

    /// <summary>
    /// The m×n Jacobian <c>J[i, j] = ∂fᵢ/∂xⱼ</c>, mode chosen by shape: forward (<see cref="JacFwd"/>)
    /// when n ≤ m, reverse (<see cref="JacRev"/>) when m &lt; n. The first forward pass (column 0) tells
    /// m; when reverse is the better mode that pass is the only extra cost (one evaluation of f).
    /// </summary>
    /// <param name="f">The function ℝⁿ → ℝᵐ.</param>
    /// <returns>The function x ↦ J(x) (m×n).</returns>
    /// <exception cref="ArgumentNullException"><paramref name="f"/> is null.</exception>
    public static Func<Vec, Mat> Jacobian(Func<Vec, Vec> f)
    {
        const string owner = "Fn.Jacobian";
        Check.NotNull(f, nameof(f), owner);
        return x =>
        {
            Check.Input(x, nameof(x), owner);
            var first = PushForward(owner, f, x, 0, -1);
            return x.Length <= first.Length
                ? Mat.OfColumns(PushForwardBasis(owner, f, x, first))
                : JacRevAt(owner, f, x);
        };
    }

    /// <summary>J by forward mode at a checked x.</summary>
    private static Mat JacFwdAt(string owner, Func<Vec, Vec> f, Vec x)
    {
        var columns = PushForwardBasis(owner, f, x, PushForward(owner, f, x, 0, -1));
        if (columns[0].Length == 0) return Empty(0, x.Length);
        return Mat.OfColumns(columns);
    }

    /// <summary>
    /// J·eⱼ for every basis vector eⱼ (the columns of J), given column 0. This is the one place a
    /// chunked forward mode (k tangents per pass) will plug in.
    /// </summary>
    private static Vec[] PushForwardBasis(string owner, Func<Vec, Vec> f, Vec x, Vec column0)
    {
        var n = x.Length;
        var columns = new Vec[n];
        columns[0] = column0;
        for (var j = 1; j < n; j++) columns[j] = PushForward(owner, f, x, j, column0.Length);
        return columns;
    }

    /// <summary>J·eⱼ, one forward pass; checks the output length against an earlier pass (≥ 0).</summary>
    private static Vec PushForward(string owner, Func<Vec, Vec> f, Vec x, int j, int expected)
    {
        var e = new double[x.Length];
        e[j] = 1.0;
        var column = Ad.Jvp(owner, u => Check.Result(f(u), owner), x, new Vec(e)).Item2;
        if (expected >= 0) Check.SameOutputLength(expected, column.Length, owner, $"for the tangent e{j}");
        return column;
    }

    /// <summary>J by reverse mode at a checked x: one recording, one pullback per output.</summary>
    private static Mat JacRevAt(string owner, Func<Vec, Vec> f, Vec x)
    {
        var (y, pb) = Ad.Vjp(owner, u => Check.Result(f(u), owner), x);
        var m = y.Length;
        if (m == 0) return Empty(0, x.Length);
        var rows = new Vec[m];
        var e = new double[m];
        for (var i = 0; i < m; i++)
        {
            e[i] = 1.0;
            rows[i] = pb.Apply(new Vec(e)); // read during the call only
            e[i] = 0.0;
        }
        return Mat.OfRows(rows);
    }

    /// <summary>An m×n matrix with no elements (m or n is 0).</summary>
    private static Mat Empty(int m, int n) => new(new Vec(Array.Empty<double>()), m, n);
}
