using BenchmarkDotNet.Attributes;
using Hybrid.Kernel;

namespace Hybrid.Bench;

/// Issue 2: a Jacobian-vector product through Dual on the generic Rosenbrock, against the same
/// generic function at double (Baseline). Budget: ≤ 3×.
[MemoryDiagnoser]
public class JvpDual
{
    [Params(100, 10_000, 1_000_000)] public int N;

    double[] x = [], v = [];
    Dual[] xd = [];

    [GlobalSetup]
    public void Setup()
    {
        x = Rosenbrock.Point(N);
        v = Rosenbrock.Point(N, seed: 2);
        xd = new Dual[N];
        var g = new double[N];
        double f0 = Rosenbrock.ValueAndGradient(x, g);
        double dot = 0;
        for (int i = 0; i < N; i++) dot += g[i] * v[i];
        var d = DualJvp();
        Check.Close("Dual value", f0, d.V);
        Check.Close("Dual tangent", dot, d.T);
        Check.Close("Fn.Jvp (Dual) tangent", dot, FnJvpDual());
        Check.Close("Fn.Jvp (slices) tangent", dot, FnJvpSliced());
    }

    [Benchmark(Baseline = true, Description = "generic f at double")]
    public double PlainGeneric() => Rosenbrock.Generic<double>(x);

    [Benchmark(Description = "generic f at Dual, seeded in place")]
    public Dual DualJvp()
    {
        var xs = xd;
        for (int i = 0; i < xs.Length; i++) xs[i] = new Dual(x[i], v[i]);
        return Rosenbrock.Generic<Dual>(xs);
    }

    [Benchmark(Description = "Fn.Jvp(IScalarFunction): Dual path")]
    public double FnJvpDual() => Fn.Jvp(RosenbrockGeneric.Instance, x, v).Tangent;

    [Benchmark(Description = "Fn.Jvp(Func<Vec,Real>): forward trace, slices")]
    public double FnJvpSliced() => (double)Fn.Jvp(Transforms.RosenSliced, x, v).Tangent;
}
