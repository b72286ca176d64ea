using Hybrid.Kernel;

namespace Hybrid;

public static partial class Fn
{
    /// <summary>
    /// <see cref="Hessian(Func{Vec, Real})"/> of a compiled function: x ↦ H(x) from its compiled passes
    /// (<see cref="CompiledFunction.Hessian(ReadOnlySpan{double})"/>), so repeated calls do not record f again
    /// (only a point where a guard finds a new path does). The same numbers as <c>Fn.Hessian</c> of the
    /// function itself, symmetrised the same way. Top level only: a compiled function works on doubles.
    /// </summary>
    /// <param name="f">A compiled scalar function (<see cref="Compile(Func{Vec, Real}, Vec)"/>).</param>
    /// <returns>The function x ↦ H(x) (n×n, a constant <see cref="Mat"/>).</returns>
    /// <exception cref="ArgumentNullException"><paramref name="f"/> is null.</exception>
    /// <exception cref="ArgumentException">f is vector-valued; later, x has the wrong length.</exception>
    /// <exception cref="InvalidOperationException">The returned function is called inside another transform, or with an x that carries derivatives.</exception>
    public static Func<Vec, Mat> Hessian(CompiledFunction f)
    {
        const string owner = "Fn.Hessian";
        RequireCompiledScalar(f, owner, "the Hessian");
        return x => Mat.Wrap(f.Hessian(CompiledPoint(f, x, owner)));
    }

    /// <summary>
    /// <see cref="Hvp(Func{Vec, Real})"/> of a compiled function: (x, v) ↦ H(x)·v from its compiled passes
    /// (<see cref="CompiledFunction.Hvp"/>), without recording f again (only a point where a guard finds a new
    /// path is recorded). The same numbers as <c>Fn.Hvp</c> of the function itself. Top level only.
    /// </summary>
    /// <param name="f">A compiled scalar function.</param>
    /// <returns>The function (x, v) ↦ H(x)·v; it checks that v has the length of x.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="f"/> is null.</exception>
    /// <exception cref="ArgumentException">f is vector-valued; later, x or v has the wrong length.</exception>
    /// <exception cref="InvalidOperationException">The returned function is called inside another transform, or with an x or v that carries derivatives.</exception>
    public static Func<Vec, Vec, Vec> Hvp(CompiledFunction f)
    {
        const string owner = "Fn.Hvp";
        RequireCompiledScalar(f, owner, "a Hessian-vector product");
        return (x, v) =>
        {
            var xs = CompiledPoint(f, x, owner);
            Check.Tangent(x, v, nameof(v), owner);
            if (!v.IsConstant) throw OutsideTransforms(owner);
            var hv = new double[xs.Length];
            f.Hvp(xs, v.ToArray(), hv);
            return new Vec(hv);
        };
    }

    /// <summary>
    /// <see cref="Grad(Func{Vec, Real})"/> of a compiled function: x ↦ ∇f(x) from its compiled reverse pass
    /// (<see cref="CompiledFunction.GradAndValue"/>), without recording f again. Top level only.
    /// </summary>
    /// <param name="f">A compiled scalar function.</param>
    /// <returns>The function x ↦ ∇f(x) (a constant <see cref="Vec"/>).</returns>
    /// <exception cref="ArgumentNullException"><paramref name="f"/> is null.</exception>
    /// <exception cref="ArgumentException">f is vector-valued; later, x has the wrong length.</exception>
    /// <exception cref="InvalidOperationException">The returned function is called inside another transform, or with an x that carries derivatives.</exception>
    public static Func<Vec, Vec> Grad(CompiledFunction f)
    {
        const string owner = "Fn.Grad";
        RequireCompiledScalar(f, owner, "a gradient");
        return x =>
        {
            var xs = CompiledPoint(f, x, owner);
            var g = new double[xs.Length];
            f.GradAndValue(xs, g);
            return new Vec(g);
        };
    }

    /// <summary>
    /// <see cref="GradAndValue(Func{Vec, Real})"/> of a compiled function: x ↦ (∇f(x), f(x)) from one compiled
    /// forward and reverse pass, without recording f again. Top level only.
    /// </summary>
    /// <param name="f">A compiled scalar function.</param>
    /// <returns>The function x ↦ (Grad: ∇f(x), Value: f(x)), both constants.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="f"/> is null.</exception>
    /// <exception cref="ArgumentException">f is vector-valued; later, x has the wrong length.</exception>
    /// <exception cref="InvalidOperationException">The returned function is called inside another transform, or with an x that carries derivatives.</exception>
    public static Func<Vec, (Vec Grad, Real Value)> GradAndValue(CompiledFunction f)
    {
        const string owner = "Fn.GradAndValue";
        RequireCompiledScalar(f, owner, "a gradient");
        return x =>
        {
            var xs = CompiledPoint(f, x, owner);
            var g = new double[xs.Length];
            var value = f.GradAndValue(xs, g);
            return (new Vec(g), value);
        };
    }

    private static void RequireCompiledScalar(CompiledFunction? f, string owner, string what)
    {
        Check.NotNull(f, nameof(f), owner);
        if (!f!.IsScalar)
            throw new ArgumentException(
                $"{owner}: f is a compiled vector function (ℝ^{f.InputLength} → ℝ^{f.OutputLength}); {what} needs a scalar one. Compile a Func<Vec, Real>, or use f.Jacobian(x) / f.Jvp(x, v, y, jv).", nameof(f));
    }

    /// <summary>x's values for a compiled function: a constant point of the compiled length, at the top level.</summary>
    private static double[] CompiledPoint(CompiledFunction f, Vec? x, string owner)
    {
        Check.Input(x, nameof(x), owner);
        if (Traces.Depth != 0 || !x!.IsConstant) throw OutsideTransforms(owner);
        if (x.Length != f.InputLength)
            throw new ArgumentException(
                $"{owner}: x has length {x.Length} but the function was compiled at an x0 of length {f.InputLength}; pass a point of length {f.InputLength} (compile again for another length).", nameof(x));
        return x.ToArray();
    }

    private static InvalidOperationException OutsideTransforms(string owner) =>
        new($"{owner}: a compiled function works on doubles at the top level, but here it is called inside another transform (or with a point that carries derivatives), whose derivatives it cannot carry. Inside transforms pass the function itself ({owner}(f) of a Func<Vec, Real>); use the compiled one at the top level.");
}
