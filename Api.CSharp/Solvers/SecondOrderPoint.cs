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

    private SecondOrderPoint(SecondOrder point)
    {
        eager = point;
        Value = point.Value;
        Gradient = point.Gradient;
        GradientNorm = Dense.Norm(Gradient);
    }

    private SecondOrderPoint(Objective objective, double[] x, double value, double[] gradient)
    {
        this.objective = objective;
        X = x;
        Value = value;
        Gradient = gradient;
        GradientNorm = Dense.Norm(gradient);
    }

    public double Value { get; }
    public double[] Gradient { get; }
    public double GradientNorm { get; }

    /// <summary>The point, for a compiled one (its own copy); null for an eager recording.</summary>
    public double[]? X { get; }

    /// <summary>The point of an eager recording (<see cref="Objective.Record"/>).</summary>
    public static SecondOrderPoint Of(SecondOrder recording) => new(recording);

    /// <summary>A point whose value and gradient the objective's compiled function gave; its Hessian and products come from there too.</summary>
    public static SecondOrderPoint Compiled(Objective objective, double[] x, double value, double[] gradient) =>
        new(objective, x, value, gradient);

    /// <summary>The dense n×n Hessian.</summary>
    public double[,] Hessian() => (eager is null ? objective?.Hessian(this) : null) ?? Eager().Hessian();

    /// <summary>H·v.</summary>
    public double[] Hvp(double[] v) => (eager is null ? objective?.Hvp(this, v) : null) ?? Eager().Hvp(v);

    /// <summary>
    /// The eager recording: this point's own, or — for a compiled point whose passes could not run at x
    /// (not expected: x's path was found when the gradient was taken) — one made now.
    /// </summary>
    private SecondOrder Eager() => eager ??= objective!.Record(X!);

    public void Dispose() => eager?.Release();
}
