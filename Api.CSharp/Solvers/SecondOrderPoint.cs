using Hybrid.Kernel;

namespace Hybrid;

/// <summary>
/// f at a point for a Newton step: value, gradient, and on demand the dense Hessian or Hessian-vector
/// products, with the gradient norm the solvers test. Either the kernel's <see cref="SecondOrder"/>
/// (<see cref="Compose.SecondOrderAt"/>: one second-order tape replayed at the top level, <c>JacFwd(Grad f)</c>
/// and <c>Jvp(Grad f)</c> inside another transform), or a compiled function's passes at x (no recording:
/// the path taken at x is already compiled), which give the same numbers.
/// </summary>
internal sealed class SecondOrderPoint : IDisposable
{
    private SecondOrder? eager;
    private readonly Objective? objective;
    private readonly CompiledCore? compiled;
    private readonly double[]? x;

    private SecondOrderPoint(SecondOrder point)
    {
        eager = point;
        Value = point.Value;
        Gradient = point.Gradient;
        GradientNorm = Dense.Norm(Gradient);
    }

    private SecondOrderPoint(Objective objective, CompiledCore compiled, double[] x, double value, double[] gradient)
    {
        this.objective = objective;
        this.compiled = compiled;
        this.x = x;
        Value = value;
        Gradient = gradient;
        GradientNorm = Dense.Norm(gradient);
    }

    public double Value { get; }
    public double[] Gradient { get; }
    public double GradientNorm { get; }

    /// <summary>The point of an eager recording (<see cref="Objective.Record"/>).</summary>
    public static SecondOrderPoint Of(SecondOrder recording) => new(recording);

    /// <summary>The point x (a copy the point owns) whose value and gradient a compiled function gave.</summary>
    public static SecondOrderPoint Compiled(Objective objective, CompiledCore compiled, double[] x, double value, double[] gradient) =>
        new(objective, compiled, x, value, gradient);

    /// <summary>The dense n×n Hessian.</summary>
    public double[,] Hessian()
    {
        if (compiled is not null && eager is null)
        {
            var n = Gradient.Length;
            var h = new double[n * n];
            if (compiled.TryHessian(x, h))
            {
                var result = new double[n, n];
                for (var j = 0; j < n; j++)
                    for (var i = 0; i < n; i++) result[i, j] = h[i + j * n];
                return result;
            }
        }
        return Eager().Hessian();
    }

    /// <summary>H·v.</summary>
    public double[] Hvp(double[] v)
    {
        if (compiled is not null && eager is null)
        {
            var hv = new double[v.Length];
            if (compiled.TryHvp(x, v, hv)) return hv;
        }
        return Eager().Hvp(v);
    }

    /// <summary>
    /// The eager recording: this point's own, or — for a compiled point whose passes could not run at x
    /// (not expected: x's path was found when the gradient was taken) — one made now.
    /// </summary>
    private SecondOrder Eager() => eager ??= objective!.Record(x!);

    public void Dispose() => eager?.Release();
}
