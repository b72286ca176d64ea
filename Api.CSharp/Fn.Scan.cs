using Hybrid.Kernel;

namespace Hybrid;

public static partial class Fn
{
    /// <summary>
    /// <c>jax.lax.scan</c>: runs f over xs threading a carry, and stacks the per-step outputs. Its
    /// meaning is the plain loop
    /// <code>
    /// carry = init
    /// for k in 0 .. xs.Count − 1:  (carry, ys[k]) = f(carry, xs[k])
    /// return (carry, ys)
    /// </code>
    /// It is a loop in the traced code, so it is differentiable through the carry and the xs by any
    /// enclosing transform.
    /// </summary>
    /// <typeparam name="TCarry">The carry's type.</typeparam>
    /// <typeparam name="TX">The type of one scanned element.</typeparam>
    /// <typeparam name="TY">The type of one step's output.</typeparam>
    /// <param name="f">The step (carry, x) ↦ (carry′, y).</param>
    /// <param name="init">The initial carry.</param>
    /// <param name="xs">The elements to scan over.</param>
    /// <returns>(Carry: the final carry, Ys: the outputs of every step).</returns>
    /// <exception cref="ArgumentNullException"><paramref name="f"/> or <paramref name="xs"/> is null.</exception>
    public static (TCarry Carry, TY[] Ys) Scan<TCarry, TX, TY>(Func<TCarry, TX, (TCarry Carry, TY Y)> f, TCarry init, IReadOnlyList<TX> xs)
    {
        const string owner = "Fn.Scan";
        Check.NotNull(f, nameof(f), owner);
        Check.NotNull(xs, nameof(xs), owner);
        var carry = init;
        var ys = new TY[xs.Count];
        for (var k = 0; k < ys.Length; k++)
        {
            (carry, ys[k]) = f(carry, xs[k]);
            if (carry is null)
                throw new InvalidOperationException($"{owner}: f returned a null carry at step {k}; return the carry for the next step.");
        }
        return (carry, ys);
    }

    /// <summary>
    /// <c>jax.lax.scan</c> with a scalar carry over the elements of a vector, stacking the scalar
    /// outputs into a vector: the plain loop <c>(c, ys[k]) = f(c, xs[k])</c> from <c>c = init</c>;
    /// differentiable through init and xs.
    /// </summary>
    /// <param name="f">The step (carry, x) ↦ (carry′, y).</param>
    /// <param name="init">The initial carry.</param>
    /// <param name="xs">The elements to scan over.</param>
    /// <returns>(Carry: the final carry, Ys: the vector of outputs).</returns>
    /// <exception cref="ArgumentNullException"><paramref name="f"/> or <paramref name="xs"/> is null.</exception>
    public static (Real Carry, Vec Ys) Scan(Func<Real, Real, (Real Carry, Real Y)> f, Real init, Vec xs)
    {
        var (carry, ys) = Scan(f, init, Elements(xs));
        return (carry, Vec.OfReals(ys));
    }

    /// <summary>
    /// <c>jax.lax.scan</c> with a scalar carry over the elements of a vector and outputs of any type
    /// (for example a value and a label): the plain loop <c>(c, ys[k]) = f(c, xs[k])</c>.
    /// </summary>
    /// <typeparam name="TY">The type of one step's output.</typeparam>
    /// <param name="f">The step (carry, x) ↦ (carry′, y).</param>
    /// <param name="init">The initial carry.</param>
    /// <param name="xs">The elements to scan over.</param>
    /// <returns>(Carry: the final carry, Ys: the outputs of every step).</returns>
    /// <exception cref="ArgumentNullException"><paramref name="f"/> or <paramref name="xs"/> is null.</exception>
    public static (Real Carry, TY[] Ys) Scan<TY>(Func<Real, Real, (Real Carry, TY Y)> f, Real init, Vec xs) =>
        Scan(f, init, Elements(xs));

    /// <summary>
    /// <c>jax.lax.scan</c> with a vector carry over the elements of a vector, stacking the scalar
    /// outputs into a vector: the plain loop <c>(c, ys[k]) = f(c, xs[k])</c>; differentiable through
    /// init and xs.
    /// </summary>
    /// <param name="f">The step (carry, x) ↦ (carry′, y).</param>
    /// <param name="init">The initial carry.</param>
    /// <param name="xs">The elements to scan over.</param>
    /// <returns>(Carry: the final carry, Ys: the vector of outputs).</returns>
    /// <exception cref="ArgumentNullException">An argument is null, or f returns a null carry.</exception>
    public static (Vec Carry, Vec Ys) Scan(Func<Vec, Real, (Vec Carry, Real Y)> f, Vec init, Vec xs)
    {
        Check.NotNull(init, nameof(init), "Fn.Scan");
        var (carry, ys) = Scan(f, init, Elements(xs));
        return (carry, Vec.OfReals(ys));
    }

    /// <summary>
    /// <c>jax.lax.scan</c> with a vector carry over the rows (the leading axis) of a matrix, stacking
    /// the vector outputs as the rows of a matrix: the plain loop <c>(c, Y[k, :]) = f(c, X[k, :])</c>;
    /// differentiable through init and xs. Every step's output must have the same length.
    /// </summary>
    /// <param name="f">The step (carry, row) ↦ (carry′, y).</param>
    /// <param name="init">The initial carry.</param>
    /// <param name="xs">The rows to scan over.</param>
    /// <returns>(Carry: the final carry, Ys: the outputs as rows).</returns>
    /// <exception cref="ArgumentNullException">An argument is null, or f returns a null carry.</exception>
    public static (Vec Carry, Mat Ys) Scan(Func<Vec, Vec, (Vec Carry, Vec Y)> f, Vec init, Mat xs)
    {
        const string owner = "Fn.Scan";
        Check.NotNull(init, nameof(init), owner);
        Check.Batch(xs, nameof(xs), owner);
        var rows = new Vec[xs.Rows];
        for (var k = 0; k < rows.Length; k++) rows[k] = xs.Row(k);
        var (carry, ys) = Scan(f, init, rows);
        if (ys.Length == 0) return (carry, Empty(0, 0));
        for (var k = 0; k < ys.Length; k++)
        {
            Check.Result(ys[k], owner, $"f (its output at step {k})");
            if (ys[k].Length != ys[0].Length)
                throw new InvalidOperationException(
                    $"{owner}: f returned an output of length {ys[0].Length} at step 0 but {ys[k].Length} at step {k}; every step's output must have the same length to stack them.");
        }
        return (carry, ys[0].Length == 0 ? Empty(ys.Length, 0) : Mat.OfRows(ys));
    }

    /// <summary>The elements of xs as Reals (checked for null).</summary>
    private static Real[] Elements(Vec xs)
    {
        Check.NotNull(xs, nameof(xs), "Fn.Scan");
        return xs.ToReals();
    }
}
