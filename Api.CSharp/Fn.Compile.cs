using Hybrid.Kernel;

namespace Hybrid;

public static partial class Fn
{
    /// <summary>
    /// Compiles a scalar function ℝⁿ → ℝ: f is recorded once at <paramref name="x0"/> into an
    /// intermediate representation (each scalar primitive with its operands and constants) and
    /// compiled to IL for <see cref="CompiledFunction.Value(ReadOnlySpan{double})"/>,
    /// <see cref="CompiledFunction.GradAndValue"/>, <see cref="CompiledFunction.Jvp(ReadOnlySpan{double}, ReadOnlySpan{double}, out double)"/>,
    /// <see cref="CompiledFunction.Hvp"/> and <see cref="CompiledFunction.Hessian(ReadOnlySpan{double})"/>,
    /// allocation-free over spans.
    /// Every decision f takes on values while recorded — comparisons, predicates such as
    /// <c>Real.IsNaN</c>, <c>%</c> followed by a comparison, reads of <c>.Value</c> — is a guard: at a new x the
    /// compiled code checks its guards first and, where one differs, records f again there and
    /// compiles that path too, so results always equal the eager transforms'
    /// (<see cref="CompiledFunction.Recordings"/> counts the paths). A <c>.Value</c> read holds for that
    /// exact value only (prefer comparing Reals). f must be a deterministic function of x: values it
    /// captures are constants of the compiled code.
    /// Whole-vector code — elementwise <c>Vec</c> / <c>Mat</c> maps and zips, broadcasts, slices, <c>Vec.Sum</c>,
    /// <c>Vec.Dot</c>, <c>Mat.Transpose</c> and the row, column, trace and diagonal gathers — is lowered to
    /// scalar code, each chain of elementwise operations with its sums fused into one pass over the elements.
    /// Matrix products, solves, factorisations, custom rules (<see cref="CustomJvp(Func{Vec, Vec}, Func{Vec, Vec, Vec})"/>,
    /// <see cref="CustomVjp(Func{Vec, Vec}, Func{Vec, Vec, Vec, Vec})"/>) and linear maps (a pullback or
    /// linearisation applied to a traced vector) stay one node each, calling their own code at each call's
    /// values: a custom rule's f, jvp and vjp run at every call, from several threads at once when the compiled
    /// function is used so, and must be safe for that. A function that reads a traced vector's values
    /// (<c>ToArray</c>) is not compiled: the compiled object then answers through the eager transforms
    /// (<see cref="CompiledFunction.IsCompiled"/> is false, <see cref="CompiledFunction.NotCompiledReason"/> says why).
    /// </summary>
    /// <param name="f">The scalar function ℝⁿ → ℝ.</param>
    /// <param name="x0">The point to record at (length n ≥ 1); its length is the input length of every call.</param>
    /// <returns>The compiled function; one object may be used from many threads at once.</returns>
    /// <exception cref="ArgumentNullException">An argument is null.</exception>
    /// <exception cref="ArgumentException">x0 is empty.</exception>
    /// <exception cref="InvalidOperationException">Called inside another transform, or f fails at x0 (its own exception propagates).</exception>
    public static CompiledFunction Compile(Func<Vec, Real> f, Vec x0)
    {
        const string owner = "Fn.Compile";
        Check.NotNull(f, nameof(f), owner);
        Check.Input(x0, nameof(x0), owner);
        var core = CompiledCore.Create(owner, v => new[] { f(v) }, x0);
        return new CompiledFunction(core, f, null, x0.Length);
    }

    /// <summary>
    /// Compiles a vector function ℝⁿ → ℝᵐ, as <see cref="Compile(Func{Vec, Real}, Vec)"/>: the compiled
    /// object gives <see cref="CompiledFunction.Value(ReadOnlySpan{double}, Span{double})"/>,
    /// <see cref="CompiledFunction.Jvp(ReadOnlySpan{double}, ReadOnlySpan{double}, Span{double}, Span{double})"/> and
    /// <see cref="CompiledFunction.Jacobian(ReadOnlySpan{double})"/> (forward mode when n ≤ m, reverse
    /// otherwise, as <see cref="Jacobian"/>). m is fixed by the recording at x0.
    /// </summary>
    /// <param name="f">The function ℝⁿ → ℝᵐ.</param>
    /// <param name="x0">The point to record at (length n ≥ 1).</param>
    /// <returns>The compiled function; one object may be used from many threads at once.</returns>
    /// <exception cref="ArgumentNullException">An argument is null.</exception>
    /// <exception cref="ArgumentException">x0 is empty.</exception>
    /// <exception cref="InvalidOperationException">Called inside another transform, f returns null, or f fails at x0.</exception>
    public static CompiledFunction Compile(Func<Vec, Vec> f, Vec x0)
    {
        const string owner = "Fn.Compile";
        Check.NotNull(f, nameof(f), owner);
        Check.Input(x0, nameof(x0), owner);
        var core = CompiledCore.Create(owner, v => Check.Result(f(v), owner).ToReals(), x0);
        var m = core.OutputLength >= 0 ? core.OutputLength : Check.Result(f(x0), owner).Length;
        return new CompiledFunction(core, null, f, x0.Length, m);
    }

    /// <summary>
    /// Compiles a scalar function of one variable, as <see cref="Compile(Func{Vec, Real}, Vec)"/> with
    /// n = 1: pass spans of length 1 (<c>f.GradAndValue(new[] { x }, g)</c>).
    /// </summary>
    /// <param name="f">The function ℝ → ℝ.</param>
    /// <param name="x0">The point to record at.</param>
    /// <returns>The compiled function (input length 1).</returns>
    /// <exception cref="ArgumentNullException"><paramref name="f"/> is null.</exception>
    /// <exception cref="InvalidOperationException">Called inside another transform, or f fails at x0.</exception>
    public static CompiledFunction Compile(Func<Real, Real> f, double x0)
    {
        Check.NotNull(f, nameof(f), "Fn.Compile");
        return Compile((Vec v) => f(v[0]), new Vec(new[] { x0 }));
    }
}
