using Hybrid.Kernel;

namespace Hybrid;

public static partial class Fn
{
    /// <summary>
    /// f mapped over the elements of a vector: <c>Vmap(f)(x)[i] = f(x[i])</c>. The meaning is the
    /// loop; each element runs f separately, so data-dependent control flow (an <c>if</c> on the
    /// value) works per element. The output is differentiable by any enclosing transform.
    /// </summary>
    /// <param name="f">The scalar function.</param>
    /// <returns>The function x ↦ [f(x₀), …, f(xₙ₋₁)].</returns>
    /// <exception cref="ArgumentNullException"><paramref name="f"/> is null.</exception>
    public static Func<Vec, Vec> Vmap(Func<Real, Real> f)
    {
        Check.NotNull(f, nameof(f), "Fn.Vmap");
        var mapped = Vmap((Real x) => (f(x), (object?)null));
        return x => mapped(x).Values;
    }

    /// <summary>
    /// f mapped over the elements of a vector, with an auxiliary result per element:
    /// <c>Vmap(f)(x) = ([f(xᵢ).Value], [f(xᵢ).Aux])</c>. Aux values are returned as they are (a Real aux
    /// stays differentiable; it is not a transform boundary).
    /// </summary>
    /// <typeparam name="TAux">The auxiliary result's type.</typeparam>
    /// <param name="f">The scalar function returning (Value, Aux).</param>
    /// <returns>The function x ↦ (Values, Aux).</returns>
    /// <exception cref="ArgumentNullException"><paramref name="f"/> is null.</exception>
    public static Func<Vec, (Vec Values, TAux[] Aux)> Vmap<TAux>(Func<Real, (Real Value, TAux Aux)> f)
    {
        const string owner = "Fn.Vmap";
        Check.NotNull(f, nameof(f), owner);
        return x =>
        {
            Check.NotNull(x, nameof(x), owner);
            var ys = new Real[x.Length];
            var aux = new TAux[x.Length];
            for (var i = 0; i < ys.Length; i++) (ys[i], aux[i]) = f(x[i]);
            return (Vec.OfReals(ys), aux);
        };
    }

    /// <summary>
    /// f mapped over the rows (the leading axis) of a batch: <c>Vmap(f)(X)[i] = f(row i of X)</c>. A loop
    /// over rows; differentiable by any enclosing transform.
    /// </summary>
    /// <param name="f">The function ℝⁿ → ℝ applied to each row.</param>
    /// <returns>The function X (b×n) ↦ the b values.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="f"/> is null.</exception>
    public static Func<Mat, Vec> Vmap(Func<Vec, Real> f)
    {
        Check.NotNull(f, nameof(f), "Fn.Vmap");
        var mapped = Vmap((Vec row) => (f(row), (object?)null));
        return xs => mapped(xs).Values;
    }

    /// <summary>
    /// f mapped over the rows (the leading axis) of a batch, with an auxiliary result per row:
    /// <c>Vmap(f)(X) = ([f(Xᵢ).Value], [f(Xᵢ).Aux])</c>. A loop over rows; the values are differentiable
    /// by any enclosing transform and the aux values are returned as they are.
    /// </summary>
    /// <typeparam name="TAux">The auxiliary result's type.</typeparam>
    /// <param name="f">The function ℝⁿ → ℝ applied to each row, returning (Value, Aux).</param>
    /// <returns>The function X (b×n) ↦ (the b values, the b aux results).</returns>
    /// <exception cref="ArgumentNullException"><paramref name="f"/> is null.</exception>
    public static Func<Mat, (Vec Values, TAux[] Aux)> Vmap<TAux>(Func<Vec, (Real Value, TAux Aux)> f)
    {
        const string owner = "Fn.Vmap";
        Check.NotNull(f, nameof(f), owner);
        return xs =>
        {
            Check.Batch(xs, nameof(xs), owner);
            var ys = new Real[xs.Rows];
            var aux = new TAux[xs.Rows];
            for (var i = 0; i < ys.Length; i++) (ys[i], aux[i]) = f(xs.Row(i));
            return (Vec.OfReals(ys), aux);
        };
    }

    /// <summary>
    /// f mapped over the rows (the leading axis) of a batch: row i of the result is f(row i of X).
    /// Every row's output must have the same length. A loop over rows; differentiable by any
    /// enclosing transform. An empty batch gives a 0×0 matrix.
    /// </summary>
    /// <param name="f">The function ℝⁿ → ℝᵐ applied to each row.</param>
    /// <returns>The function X (b×n) ↦ Y (b×m).</returns>
    /// <exception cref="ArgumentNullException"><paramref name="f"/> is null.</exception>
    public static Func<Mat, Mat> Vmap(Func<Vec, Vec> f)
    {
        const string owner = "Fn.Vmap";
        Check.NotNull(f, nameof(f), owner);
        return xs =>
        {
            Check.Batch(xs, nameof(xs), owner);
            if (xs.Rows == 0) return Empty(0, 0);
            var rows = new Vec[xs.Rows];
            for (var i = 0; i < rows.Length; i++)
            {
                rows[i] = Check.Result(f(xs.Row(i)), owner, $"f (for row {i})");
                if (rows[i].Length != rows[0].Length)
                    throw new InvalidOperationException(
                        $"{owner}: f returned {rows[0].Length} values for row 0 but {rows[i].Length} for row {i}; every row's output must have the same length to stack them.");
            }
            return rows[0].Length == 0 ? Empty(xs.Rows, 0) : Mat.OfRows(rows);
        };
    }
}
