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

    /// <summary>The checked function x ↦ J(x) in the given mode (the three public forms differ only in mode).</summary>
    private static Func<Vec, Mat> JacobianOf(string owner, Func<Vec, Vec> f, JacobianMode mode)
    {
        Check.NotNull(f, nameof(f), owner);
        return x =>
        {
            Check.Input(x, nameof(x), owner);
            return JacobianAt(owner, f, x, mode);
        };
    }

    /// <summary>J at a checked x in the given mode.</summary>
    private static Mat JacobianAt(string owner, Func<Vec, Vec> f, Vec x, JacobianMode mode)
    {
        Func<Vec, Vec> g = u => Check.Result(f(u), owner);
        var n = x.Length;
        Pullback? recording = null;
        try
        {
            // at the top level (no transform active, x constant) one recording serves every direction
            if (mode != JacobianMode.Forward || Ad.CanRecordSecondOrder(x))
            {
                var (y, pb) = Ad.Vjp(owner, g, x);
                recording = pb;
                var m = y.Length;
                if (m == 0) return Empty(0, n);
                var forward = mode == JacobianMode.Forward || (mode == JacobianMode.ByShape && n <= m);
                if (!forward) return PullBackBasis(pb, m);
            }
            var columns = PushForwardBasis(owner, g, x, recording);
            return columns[0].Length == 0 ? Empty(0, n) : Mat.OfColumns(columns);
        }
        finally
        {
            recording?.Release();
        }
    }

    /// <summary>
    /// J·eⱼ for every basis vector eⱼ (the columns of J). For a top-level recording: forward replays
    /// of that one recording carrying <see cref="ForwardChunk"/> basis tangents each (chunked forward
    /// mode: ⌈n/k⌉ passes, none of them re-running f). Inside another transform: one Jvp pass of f per
    /// column, which stays differentiable by the enclosing transforms.
    /// </summary>
    private static Vec[] PushForwardBasis(string owner, Func<Vec, Vec> f, Vec x, Pullback? recording)
    {
        var n = x.Length;
        var columns = new Vec[n];
        if (recording is { CanPushForward: true })
        {
            var m = recording.OutputCount;
            for (var first = 0; first < n; first += ForwardChunk)
            {
                var k = Math.Min(ForwardChunk, n - first);
                var basis = new double[n * k];
                for (var j = 0; j < k; j++) basis[first + j + j * n] = 1.0;
                var block = recording.PushForwardBlock(basis, k);
                for (var j = 0; j < k; j++) columns[first + j] = new Vec(block.AsSpan(j * m, m).ToArray());
            }
            return columns;
        }
        var e = new double[n];
        for (var j = 0; j < n; j++)
        {
            e[j] = 1.0;
            columns[j] = Ad.Jvp(owner, f, x, new Vec(e)).Item2; // e is read during the call only
            e[j] = 0.0;
            if (j > 0) Check.SameOutputLength(columns[0].Length, columns[j].Length, owner, $"for the tangent e{j}");
        }
        return columns;
    }

    /// <summary>Tangents pushed per forward replay by <see cref="JacFwd"/> (ForwardDiff's chunk size).</summary>
    private const int ForwardChunk = 16;

    /// <summary>Jᵀeᵢ for every basis cotangent eᵢ (the rows of J), m sweeps of one recording.</summary>
    private static Mat PullBackBasis(Pullback recording, int m)
    {
        var rows = new Vec[m];
        var e = new double[m];
        for (var i = 0; i < m; i++)
        {
            e[i] = 1.0;
            rows[i] = recording.Apply(new Vec(e)); // e is read during the call only
            e[i] = 0.0;
        }
        return Mat.OfRows(rows);
    }

    /// <summary>An m×n matrix with no elements (m or n is 0).</summary>
    private static Mat Empty(int m, int n) => new(new Vec(Array.Empty<double>()), m, n);
}
