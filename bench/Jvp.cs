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
    static readonly Func<Vec, Vec> SlicedVec = x => Vec.OfReals([Rosenbrock.Sliced(x)]);

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
        var (y, t) = Ad.Jvp("bench", SlicedVec, x, v);
        Check.Close("Ad.Jvp tangent", dot, t.ToArray()[0]);
    }

    [Benchmark(Baseline = true, Description = "generic f at double")]
    public double PlainGeneric() => Rosenbrock.Generic<double>(x);

    [Benchmark(Description = "Jvp: generic f at Dual (seed + eval)")]
    public Dual DualJvp()
    {
        var xs = xd;
        for (int i = 0; i < xs.Length; i++) xs[i] = new Dual(x[i], v[i]);
        return Rosenbrock.Generic<Dual>(xs);
    }

    [Benchmark(Description = "Jvp: Ad.Jvp forward trace, slices")]
    public Vec HybridJvpSliced() => Ad.Jvp("bench", SlicedVec, x, v).Item2;
}
