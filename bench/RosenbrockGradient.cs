using BenchmarkDotNet.Attributes;
using Hybrid.Kernel;
using MathNet.Numerics.Differentiation;

namespace Hybrid.Bench;

/// Issue 2: Rosenbrock value + gradient. Floor = hand-written analytic value+gradient (Baseline).
[MemoryDiagnoser]
public class RosenbrockGradient
{
    [Params(100, 10_000, 1_000_000)] public int N;

    double[] x = [];
    double[] g = [];

    [GlobalSetup]
    public void Setup()
    {
        x = Rosenbrock.Point(N);
        g = new double[N];
        Linalg.UseBest();
        // correctness guard: the transforms must agree with the floor before anything is timed
        double f0 = Rosenbrock.ValueAndGradientNaive(x, g);
        var gt = new double[N];
        Check.Close("floor value", f0, Rosenbrock.ValueAndGradient(x, gt));
        Check.Close("floor grad", g, gt);
        foreach (var (name, f) in new[] { ("loop", Transforms.RosenLoop), ("sliced", Transforms.RosenSliced) })
        {
            var (v, gr) = Transforms.GradAndValue(f, x);
            Check.Close(name + " value", f0, v);
            Check.Close(name + " grad", g, gr);
        }
        var into = new double[N];
        Check.Close("sliced into a buffer: value", f0, Fn.GradAndValue(Transforms.RosenSliced, x, into));
        Check.Close("sliced into a buffer: grad", g, into);
    }

    [Benchmark(Baseline = true, Description = "floor: hand-written value+grad")]
    public double Floor() => Rosenbrock.ValueAndGradient(x, g);

    [Benchmark(Description = "hand-written value+grad, naive g[i] += form")]
    public double FloorNaive() => Rosenbrock.ValueAndGradientNaive(x, g);

    [Benchmark(Description = "plain double f alone")]
    public double PlainF() => Rosenbrock.Value(x);

    [Benchmark(Description = "Fn.GradAndValue, scalar loop over Real")]
    public Vec HybridLoop() => Transforms.GradLoop(x).Grad;

    [Benchmark(Description = "Fn.GradAndValue, slices (Vec ops)")]
    public Vec HybridSliced() => Transforms.GradSliced(x).Grad;

    [Benchmark(Description = "Fn.GradAndValue(f, x, grad), slices, into a buffer")]
    public double HybridSlicedInto() => Fn.GradAndValue(Transforms.RosenSliced, x, g);
}

/// Issue 2: MathNet's finite-difference gradient, n = 100 only (it costs O(n) evaluations of f).
[MemoryDiagnoser]
public class RosenbrockNumerical
{
    [Params(100)] public int N;

    double[] x = [];
    double[] g = [];
    readonly NumericalJacobian jac = new();
    readonly Func<double[], double> f = Rosenbrock.Value;

    [GlobalSetup]
    public void Setup()
    {
        x = Rosenbrock.Point(N);
        g = new double[N];
        Rosenbrock.ValueAndGradient(x, g);
        Check.Close("NumericalJacobian grad", g, jac.Evaluate(f, x), 1e-4);
    }

    [Benchmark(Baseline = true, Description = "floor: hand-written value+grad")]
    public double Floor() => Rosenbrock.ValueAndGradient(x, g);

    [Benchmark(Description = "MathNet NumericalJacobian gradient")]
    public double[] MathNetNumerical() => jac.Evaluate(f, x);

    [Benchmark(Description = "Fn.GradAndValue, slices (Vec ops)")]
    public Vec HybridSliced() => Transforms.GradSliced(x).Grad;
}
