using Hybrid.Kernel;

namespace Hybrid;

/// <summary>
/// f recorded once at a point: value, gradient, and on demand the dense Hessian or Hessian-vector
/// products. At the top level (no transform active on this thread) this is the kernel's
/// second-order tape (<see cref="Ad.RecordSecondOrder"/>): one recording of f with second partials,
/// then each Hv is a forward and a reverse replay and H is n replays, with no re-evaluation of f.
/// Inside another transform it falls back to <see cref="Fn.GradAndValue(Func{Vec, Real})"/>,
/// <see cref="Fn.Hessian(Func{Vec, Real})"/> and <see cref="Fn.Hvp"/>.
/// </summary>
internal sealed class SecondOrderPoint : IDisposable
{
    private readonly SecondOrderTape? tape;
    private readonly Func<Vec, Real> f;
    private readonly Vec x;

    private SecondOrderPoint(Func<Vec, Real> f, Vec x, SecondOrderTape? tape, double value, double[] gradient)
    {
        this.f = f;
        this.x = x;
        this.tape = tape;
        Value = value;
        Gradient = gradient;
        GradientNorm = Dense.Norm(gradient);
    }

    public double Value { get; }
    public double[] Gradient { get; }
    public double GradientNorm { get; }

    public static SecondOrderPoint Record(string owner, Func<Vec, Real> f, double[] x)
    {
        var xv = new Vec((double[])x.Clone());
        if (Ad.CanRecordSecondOrder(xv))
        {
            var tape = Ad.RecordSecondOrder(owner, f, xv);
            return new SecondOrderPoint(f, xv, tape, tape.Value, tape.Gradient);
        }
        var (grad, value) = Fn.GradAndValue(f)(xv);
        return new SecondOrderPoint(f, xv, null, value.Value, grad.ToArray());
    }

    /// <summary>The dense n×n Hessian.</summary>
    public double[,] Hessian() => tape is not null ? tape.Hessian() : Fn.Hessian(f)(x).ToArray();

    /// <summary>H·v.</summary>
    public double[] Hvp(double[] v) => tape is not null ? tape.Hvp(v) : Fn.Hvp(f)(x, new Vec(v)).ToArray();

    public void Dispose() => tape?.Release();
}
