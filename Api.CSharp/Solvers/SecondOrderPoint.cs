using Hybrid.Kernel;

namespace Hybrid;

/// <summary>
/// f recorded once at a point: value, gradient, and on demand the dense Hessian or Hessian-vector
/// products — the kernel's <see cref="SecondOrder"/> (<see cref="Compose.SecondOrderAt"/>: one
/// second-order tape replayed at the top level, <c>JacFwd(Grad f)</c> and <c>Jvp(Grad f)</c> inside
/// another transform), with the gradient norm the solvers test.
/// </summary>
internal sealed class SecondOrderPoint : IDisposable
{
    private readonly SecondOrder point;

    private SecondOrderPoint(SecondOrder point)
    {
        this.point = point;
        GradientNorm = Dense.Norm(point.Gradient);
    }

    public double Value => point.Value;
    public double[] Gradient => point.Gradient;
    public double GradientNorm { get; }

    public static SecondOrderPoint Record(string owner, Func<Vec, Real> f, double[] x) =>
        new(Compose.SecondOrderAt(owner, f, new Vec((double[])x.Clone())));

    /// <summary>The dense n×n Hessian.</summary>
    public double[,] Hessian() => point.Hessian();

    /// <summary>H·v.</summary>
    public double[] Hvp(double[] v) => point.Hvp(v);

    public void Dispose() => point.Release();
}
