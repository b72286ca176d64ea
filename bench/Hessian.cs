using BenchmarkDotNet.Attributes;
using Hybrid.Kernel;

namespace Hybrid.Bench;

/// Issue 2: Hessian-vector products and dense Hessians of Rosenbrock, against the hand-written
/// Hessian-vector product (Baseline). Budgets: Hvp ≤ 60×; dense Hessian n = 100 ≤ 1.5 ms.
[MemoryDiagnoser]
public class RosenbrockHessian
{
    [Params(100, 1000)] public int N;

    double[] x = [], v = [], hv = [], h = [];
    SecondOrderTape? tape;
    static readonly Func<Vec, Vec, Vec> HvpSliced = Fn.Hvp(Transforms.RosenSliced);
    static readonly Func<Vec, Vec, Vec> HvpLoop = Fn.Hvp(Transforms.RosenLoop);
    static readonly Func<Vec, Mat> HessSliced = Fn.Hessian(Transforms.RosenSliced);

    [GlobalSetup]
    public void Setup()
    {
        x = Rosenbrock.Point(N);
        v = Rosenbrock.Point(N, seed: 2);
        hv = new double[N];
        h = new double[N * N];
        Rosenbrock.HvpNaive(x, v, hv);
        var hv2 = new double[N];
        Rosenbrock.Hvp(x, v, hv2);
        Check.Close("hand Hvp", hv, hv2);
        Check.Close("Hvp (sliced)", hv, HybridHvpSliced().ToArray());
        Check.Close("Hvp (loop)", hv, HybridHvpLoop().ToArray());
        Rosenbrock.Hessian(x, h); // symmetric, so row- and column-major agree
        Check.Close("Hessian", h, HybridHessian().ToMatrix().AsColumnMajorArray()!);
        tape = Ad.RecordSecondOrder("bench", Transforms.RosenSliced, x);
        Check.Close("Hvp replay", hv, HybridHvpReplay());
    }

    [GlobalCleanup]
    public void Cleanup() => tape?.Release();

    [Benchmark(Baseline = true, Description = "hand-written Hvp")]
    public double[] HandHvp() { Rosenbrock.Hvp(x, v, hv); return hv; }

    [Benchmark(Description = "hand-written Hvp, naive hv[i] += form")]
    public double[] HandHvpNaive() { Rosenbrock.HvpNaive(x, v, hv); return hv; }

    [Benchmark(Description = "hand-written dense Hessian")]
    public double[] HandHessian() { Rosenbrock.Hessian(x, h); return h; }

    [Benchmark(Description = "Fn.Hvp, slices (record + replay)")]
    public Vec HybridHvpSliced() => HvpSliced(x, v);

    [Benchmark(Description = "Fn.Hvp, scalar loop (record + replay)")]
    public Vec HybridHvpLoop() => HvpLoop(x, v);

    [Benchmark(Description = "kernel tape.Hvp replay only (tape kept)")]
    public double[] HybridHvpReplay() => tape!.Hvp(v);

    [Benchmark(Description = "Fn.Hessian, slices")]
    public Mat HybridHessian() => HessSliced(x);
}

/// Issue 2: the hyper-dual Hessian of the generic function (Fn.Hessian(IScalarFunction, x):
/// n(n+1)/2 evaluations), n = 100 only (at n = 1000 it is O(n³) ≈ seconds).
[MemoryDiagnoser]
public class HyperDualHessian
{
    [Params(100)] public int N;

    double[] x = [], v = [], hv = [];
    static readonly Func<Vec, Mat> HessSliced = Fn.Hessian(Transforms.RosenSliced);

    [GlobalSetup]
    public void Setup()
    {
        x = Rosenbrock.Point(N);
        v = Rosenbrock.Point(N, seed: 2);
        hv = new double[N];
        var h = new double[N * N];
        Rosenbrock.Hessian(x, h);
        Check.Close("HyperDual Hessian", h, HyperDualDense().ToMatrix().AsColumnMajorArray()!);
    }

    [Benchmark(Baseline = true, Description = "hand-written Hvp")]
    public double[] HandHvp() { Rosenbrock.Hvp(x, v, hv); return hv; }

    [Benchmark(Description = "Fn.Hessian, slices (tape)")]
    public Mat HybridHessian() => HessSliced(x);

    [Benchmark(Description = "Fn.Hessian(IScalarFunction): HyperDual")]
    public Mat HyperDualDense() => Fn.Hessian(RosenbrockGeneric.Instance, x);
}
