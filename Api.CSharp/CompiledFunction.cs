using Hybrid.Kernel;
using MathNet.Numerics.LinearAlgebra;
using MathNet.Numerics.LinearAlgebra.Double;

namespace Hybrid;

/// <summary>
/// A function compiled by <see cref="Fn.Compile(Func{Vec, Real}, Vec)"/>: its value and derivatives
/// over spans of doubles, computed by IL compiled from a recording of f (graphs above a size limit
/// are replayed by an allocation-free interpreter instead). At every x the guards of a recorded path
/// are checked first; where f would take another path, it is recorded there and compiled too, so
/// each result equals what the eager transform (<see cref="Fn.GradAndValue(Func{Vec, Real})"/>,
/// <see cref="Fn.Jvp(Func{Vec, Real}, Vec, Vec)"/>, <see cref="Fn.Hvp(Func{Vec, Real})"/>, <see cref="Fn.Hessian(Func{Vec, Real})"/>,
/// <see cref="Fn.Jacobian"/>) returns at that x. Thread-safe: one object may be used from many threads
/// at once; after warm-up the span entry points allocate nothing.
/// </summary>
public sealed class CompiledFunction
{
    private const string Owner = "CompiledFunction";
    private readonly CompiledCore _core;
    private readonly Func<Vec, Real>? _scalar;
    private readonly Func<Vec, Vec>? _vector;

    internal CompiledFunction(CompiledCore core, Func<Vec, Real>? scalar, Func<Vec, Vec>? vector, int n, int m = 1)
    {
        _core = core;
        _scalar = scalar;
        _vector = vector;
        InputLength = n;
        OutputLength = m;
    }

    /// <summary>The length n of x (fixed by x0).</summary>
    public int InputLength { get; }

    /// <summary>The number m of outputs (1 for a scalar function; fixed by the recording at x0).</summary>
    public int OutputLength { get; }

    /// <summary>How many paths of f have been recorded so far (x0's included): 1 until a guard fails.</summary>
    public int Recordings => _core.Recordings;

    /// <summary>
    /// True when f is compiled; false when it reads values no guard can express (a traced vector's
    /// <c>ToArray</c>) or uses an operation the compiler does not replay, and every call runs the
    /// eager transform instead (correct, at eager speed; see <see cref="NotCompiledReason"/>).
    /// </summary>
    public bool IsCompiled => _core.Unsupported is null;

    /// <summary>Why f is not compiled (null while it is).</summary>
    public string? NotCompiledReason => _core.Unsupported is null ? null : $"Fn.Compile: f is answered by the eager transforms because {_core.Unsupported}.";

    /// <summary>The number of nodes of the path recorded at x0 (after removing dead code).</summary>
    public int Nodes => _core.Nodes;

    /// <summary>True for a compiled <c>Func&lt;Vec, Real&gt;</c> (or <c>Func&lt;Real, Real&gt;</c>).</summary>
    internal bool IsScalar => _scalar is not null;

    // ------------------------------------------------------------------------------------ scalar f

    /// <summary>f(x) for a scalar function.</summary>
    /// <param name="x">The point (length <see cref="InputLength"/>).</param>
    /// <returns>f(x).</returns>
    /// <exception cref="ArgumentException">x has the wrong length.</exception>
    /// <exception cref="InvalidOperationException">f is vector-valued (use <see cref="Value(ReadOnlySpan{double}, Span{double})"/>).</exception>
    public double Value(ReadOnlySpan<double> x)
    {
        RequireScalar(nameof(Value));
        CheckX(x);
        Span<double> y = stackalloc double[1];
        if (_core.TryValue(x, y)) return y[0];
        return _scalar!(new Vec(x.ToArray())).Value;
    }

    /// <summary>f(x) and ∇f(x) in one forward and one reverse pass.</summary>
    /// <param name="x">The point (length <see cref="InputLength"/>).</param>
    /// <param name="grad">Receives ∇f(x) (length <see cref="InputLength"/>).</param>
    /// <returns>f(x).</returns>
    /// <exception cref="ArgumentException">x or grad has the wrong length.</exception>
    /// <exception cref="InvalidOperationException">f is vector-valued (use <see cref="Jacobian(ReadOnlySpan{double})"/>).</exception>
    public double GradAndValue(ReadOnlySpan<double> x, Span<double> grad)
    {
        RequireScalar(nameof(GradAndValue));
        CheckX(x);
        CheckLength(grad.Length, InputLength, nameof(grad), "the gradient");
        double value = 0;
        if (_core.TryGradAndValue(x, grad, ref value)) return value;
        var (g, v) = Fn.GradAndValue(_scalar!)(new Vec(x.ToArray()));
        g.ToArray().CopyTo(grad);
        return v.Value;
    }

    /// <summary>f(x) and the directional derivative ∇f(x)·v (forward mode).</summary>
    /// <param name="x">The point (length <see cref="InputLength"/>).</param>
    /// <param name="v">The direction (length <see cref="InputLength"/>).</param>
    /// <param name="tangent">Receives ∇f(x)·v.</param>
    /// <returns>f(x).</returns>
    /// <exception cref="ArgumentException">x or v has the wrong length.</exception>
    /// <exception cref="InvalidOperationException">f is vector-valued (use the overload with spans for the outputs).</exception>
    public double Jvp(ReadOnlySpan<double> x, ReadOnlySpan<double> v, out double tangent)
    {
        RequireScalar(nameof(Jvp));
        CheckX(x);
        CheckLength(v.Length, InputLength, nameof(v), "the direction");
        double y = 0, t = 0;
        if (!_core.TryJvp(x, v, ref y, ref t))
        {
            var (o, d) = Fn.Jvp(_scalar!, new Vec(x.ToArray()), new Vec(v.ToArray()));
            y = o.Value;
            t = d.Value;
        }
        tangent = t;
        return y;
    }

    /// <summary>The Hessian-vector product H(x)·v (forward-over-reverse), without forming H.</summary>
    /// <remarks>
    /// Where the compiled product has a NaN entry, <see cref="Fn.Hvp(Func{Vec, Real})"/> computes it instead,
    /// so the result is always eager's. The compiled graph holds a <c>Vec.Sum</c>, <c>Vec.Dot</c> or
    /// elementwise op as scalar + and × nodes and forms their zero second partials' products 0·ṡ, which
    /// eager's vector operations do not: one infinite tangent (log or sqrt at 0) would make every entry NaN
    /// where eager's are NaN only in the rows that meet it. So a point where the product is NaN costs an
    /// eager evaluation.
    /// </remarks>
    /// <param name="x">The point (length <see cref="InputLength"/>).</param>
    /// <param name="v">The direction (length <see cref="InputLength"/>).</param>
    /// <param name="hv">Receives H(x)·v (length <see cref="InputLength"/>).</param>
    /// <exception cref="ArgumentException">A span has the wrong length.</exception>
    /// <exception cref="InvalidOperationException">f is vector-valued.</exception>
    public void Hvp(ReadOnlySpan<double> x, ReadOnlySpan<double> v, Span<double> hv)
    {
        RequireScalar(nameof(Hvp));
        CheckX(x);
        CheckLength(v.Length, InputLength, nameof(v), "the direction");
        CheckLength(hv.Length, InputLength, nameof(hv), "the product");
        // a NaN entry may be the compiled graph's own 0·∞ (see the remarks): eager's product answers then
        if (_core.TryHvp(x, v, hv) && !HasNaN(hv)) return;
        Fn.Hvp(_scalar!)(new Vec(x.ToArray()), new Vec(v.ToArray())).ToArray().CopyTo(hv);
    }

    /// <summary>Whether a span holds a NaN.</summary>
    static bool HasNaN(ReadOnlySpan<double> values)
    {
        foreach (var e in values)
            if (double.IsNaN(e)) return true;
        return false;
    }

    /// <summary>
    /// The dense n×n Hessian, exactly symmetric. By edge pushing (one reverse sweep carrying a sparse
    /// symmetric matrix over the live values; a matrix product, solve, Cholesky or LogDet eliminated at once
    /// through its Jacobian — for z = X·w with X data that is one dgemm Xᵀ·(DX)) where that does less work
    /// than one Hessian-vector product per unit direction, chosen once per recorded path: then the entries are
    /// <see cref="Fn.Hessian(Func{Vec, Real})"/>'s products summed in another order, equal to within 4e-15 of
    /// the largest entry (measured up to 1.03e-15; entries that cancel differ by more ulps of their own).
    /// Otherwise — a matrix node reading more than max(n, 256) values, a Hessian whose fill makes edge pushing
    /// the dearer, or a point where a partial is not finite — by unit directions, 64 at a time, symmetrised:
    /// <see cref="Fn.Hessian(Func{Vec, Real})"/>'s result to the last bit. Where the compiled Hessian has a
    /// NaN entry, <see cref="Fn.Hessian(Func{Vec, Real})"/> computes it instead, as for <see cref="Hvp"/>.
    /// </summary>
    /// <param name="x">The point (length <see cref="InputLength"/>).</param>
    /// <returns>H(x), a new n×n matrix.</returns>
    /// <exception cref="ArgumentException">x has the wrong length.</exception>
    /// <exception cref="InvalidOperationException">f is vector-valued.</exception>
    public Matrix<double> Hessian(ReadOnlySpan<double> x)
    {
        var h = DenseMatrix.Create(InputLength, InputLength, 0.0);
        Hessian(x, h);
        return h;
    }

    /// <summary>The dense Hessian into a given n×n matrix (no allocation for a dense one after warm-up).</summary>
    /// <param name="x">The point (length <see cref="InputLength"/>).</param>
    /// <param name="into">Receives H(x); n×n.</param>
    /// <exception cref="ArgumentNullException">into is null.</exception>
    /// <exception cref="ArgumentException">x or into has the wrong size.</exception>
    /// <exception cref="InvalidOperationException">f is vector-valued.</exception>
    public void Hessian(ReadOnlySpan<double> x, Matrix<double> into)
    {
        RequireScalar(nameof(Hessian));
        CheckX(x);
        CheckMatrix(into, InputLength, InputLength, "the Hessian");
        var n = InputLength;
        if (into is DenseMatrix dense && dense.Values.Length == n * n)
        {
            if (_core.TryHessian(x, dense.Values) && !HasNaN(dense.Values)) return;
        }
        else
        {
            var h = new double[n * n];
            if (_core.TryHessian(x, h) && !HasNaN(h))
            {
                for (var j = 0; j < n; j++)
                    for (var i = 0; i < n; i++) into[i, j] = h[i + j * n];
                return;
            }
        }
        into.SetSubMatrix(0, 0, Fn.Hessian(_scalar!)(new Vec(x.ToArray())).ToMatrix());
    }

    // ------------------------------------------------------------------------------------ vector f

    /// <summary>f(x) into y (any f; for a scalar f, y has length 1).</summary>
    /// <param name="x">The point (length <see cref="InputLength"/>).</param>
    /// <param name="y">Receives f(x) (length <see cref="OutputLength"/>).</param>
    /// <exception cref="ArgumentException">A span has the wrong length.</exception>
    public void Value(ReadOnlySpan<double> x, Span<double> y)
    {
        CheckX(x);
        CheckLength(y.Length, OutputLength, nameof(y), "the output");
        if (_core.TryValue(x, y)) return;
        Eager(x).CopyTo(y);
    }

    /// <summary>f(x) into y and J(x)·v into jv (forward mode; any f).</summary>
    /// <param name="x">The point (length <see cref="InputLength"/>).</param>
    /// <param name="v">The direction (length <see cref="InputLength"/>).</param>
    /// <param name="y">Receives f(x) (length <see cref="OutputLength"/>).</param>
    /// <param name="jv">Receives J(x)·v (length <see cref="OutputLength"/>).</param>
    /// <exception cref="ArgumentException">A span has the wrong length.</exception>
    public void Jvp(ReadOnlySpan<double> x, ReadOnlySpan<double> v, Span<double> y, Span<double> jv)
    {
        CheckX(x);
        CheckLength(v.Length, InputLength, nameof(v), "the direction");
        CheckLength(y.Length, OutputLength, nameof(y), "the output");
        CheckLength(jv.Length, OutputLength, nameof(jv), "the tangent");
        if (_core.TryJvp(x, v, y, jv)) return;
        var xs = new Vec(x.ToArray());
        var vs = new Vec(v.ToArray());
        if (_vector is not null)
        {
            var (o, t) = Fn.Jvp(_vector, xs, vs);
            o.ToArray().CopyTo(y);
            t.ToArray().CopyTo(jv);
        }
        else
        {
            var (o, t) = Fn.Jvp(_scalar!, xs, vs);
            y[0] = o.Value;
            jv[0] = t.Value;
        }
    }

    /// <summary>The m×n Jacobian J[i, j] = ∂fᵢ/∂xⱼ: forward mode when n ≤ m, reverse otherwise (as <see cref="Fn.Jacobian"/>).</summary>
    /// <param name="x">The point (length <see cref="InputLength"/>).</param>
    /// <returns>J(x), a new m×n matrix.</returns>
    /// <exception cref="ArgumentException">x has the wrong length.</exception>
    public Matrix<double> Jacobian(ReadOnlySpan<double> x)
    {
        var j = DenseMatrix.Create(OutputLength, InputLength, 0.0);
        Jacobian(x, j);
        return j;
    }

    /// <summary>The Jacobian into a given m×n matrix.</summary>
    /// <param name="x">The point (length <see cref="InputLength"/>).</param>
    /// <param name="into">Receives J(x); m×n.</param>
    /// <exception cref="ArgumentNullException">into is null.</exception>
    /// <exception cref="ArgumentException">x or into has the wrong size.</exception>
    public void Jacobian(ReadOnlySpan<double> x, Matrix<double> into)
    {
        CheckX(x);
        CheckMatrix(into, OutputLength, InputLength, "the Jacobian");
        int m = OutputLength, n = InputLength;
        if (into is DenseMatrix dense && dense.Values.Length == m * n)
        {
            if (_core.TryJacobian(x, dense.Values)) return;
        }
        else
        {
            var jac = new double[m * n];
            if (_core.TryJacobian(x, jac))
            {
                for (var j = 0; j < n; j++)
                    for (var i = 0; i < m; i++) into[i, j] = jac[i + j * m];
                return;
            }
        }
        var xs = new Vec(x.ToArray());
        Matrix<double> eager = _vector is not null
            ? Fn.Jacobian(_vector)(xs).ToMatrix()
            : DenseMatrix.OfRowArrays(Fn.Grad(_scalar!)(xs).ToArray());
        into.SetSubMatrix(0, 0, eager);
    }

    // ------------------------------------------------------------------------------------ checks

    private double[] Eager(ReadOnlySpan<double> x)
    {
        var xs = new Vec(x.ToArray());
        return _vector is not null ? Check.Result(_vector(xs), Owner).ToArray() : new[] { _scalar!(xs).Value };
    }

    private void RequireScalar(string member)
    {
        if (_scalar is null)
            throw new InvalidOperationException(
                $"{Owner}.{member}: f returns a vector of {OutputLength} values; {member} needs a scalar function. Use Value(x, y), Jvp(x, v, y, jv) or Jacobian(x).");
    }

    private void CheckX(ReadOnlySpan<double> x)
    {
        if (x.Length != InputLength)
            throw new ArgumentException(
                $"{Owner}: x has length {x.Length} but the function was compiled at an x0 of length {InputLength}; pass a point of length {InputLength} (compile again for another length).", nameof(x));
    }

    private static void CheckLength(int actual, int expected, string parameter, string what)
    {
        if (actual != expected)
            throw new ArgumentException($"{Owner}: {parameter} has length {actual} but {what} has length {expected}; pass a span of length {expected}.", parameter);
    }

    private static void CheckMatrix(Matrix<double>? m, int rows, int cols, string what)
    {
        if (m is null) throw new ArgumentNullException("into", $"{Owner}: into is null; pass a {rows}×{cols} matrix for {what}.");
        if (m.RowCount != rows || m.ColumnCount != cols)
            throw new ArgumentException($"{Owner}: into is {m.RowCount}×{m.ColumnCount} but {what} is {rows}×{cols}.", "into");
    }
}
