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

    [GlobalSetup]
    public void Setup()
    {
        x = Rosenbrock.Point(N);
        v = Rosenbrock.Point(N, seed: 2);
        hv = new double[N];
        h = new double[N * N];
        Rosenbrock.Hvp(x, v, hv);
        Check.Close("Hvp (sliced)", hv, HybridHvpSliced());
        Check.Close("Hvp (loop)", hv, HybridHvpLoop());
        Rosenbrock.Hessian(x, h);
        var hh = HybridHessian();
        for (int i = 0; i < N; i++)
            for (int j = 0; j < N; j++)
                Check.Close($"H[{i},{j}]", h[i * N + j], hh[i, j]);
        tape = Ad.RecordSecondOrder("bench", Transforms.RosenSliced, x);
    }

    [GlobalCleanup]
    public void Cleanup() => tape?.Release();

    [Benchmark(Baseline = true, Description = "hand-written Hvp")]
    public double[] HandHvp() { Rosenbrock.Hvp(x, v, hv); return hv; }

    [Benchmark(Description = "hand-written dense Hessian")]
    public double[] HandHessian() { Rosenbrock.Hessian(x, h); return h; }

    [Benchmark(Description = "Hybrid Hvp (record + replay), slices")]
    public double[] HybridHvpSliced()
    {
        var t = Ad.RecordSecondOrder("bench", Transforms.RosenSliced, x);
        var r = t.Hvp(v);
        t.Release();
        return r;
    }

    [Benchmark(Description = "Hybrid Hvp (record + replay), scalar loop")]
    public double[] HybridHvpLoop()
    {
        var t = Ad.RecordSecondOrder("bench", Transforms.RosenLoop, x);
        var r = t.Hvp(v);
        t.Release();
        return r;
    }

    [Benchmark(Description = "Hybrid Hvp replay only (tape kept)")]
    public double[] HybridHvpReplay() => tape!.Hvp(v);

    [Benchmark(Description = "Hybrid dense Hessian, slices")]
    public double[,] HybridHessian()
    {
        var t = Ad.RecordSecondOrder("bench", Transforms.RosenSliced, x);
        var r = t.Hessian();
        t.Release();
        return r;
    }
}

/// Issue 2: the hyper-dual Hessian of the generic function (n(n+1)/2 evaluations), n = 100 only.
[MemoryDiagnoser]
public class HyperDualHessian
{
    [Params(100)] public int N;

    double[] x = [], v = [], hv = [];
    HyperDual[] xh = [];
    double[,] hd = new double[0, 0];

    [GlobalSetup]
    public void Setup()
    {
        x = Rosenbrock.Point(N);
        v = Rosenbrock.Point(N, seed: 2);
        hv = new double[N];
        xh = new HyperDual[N];
        hd = new double[N, N];
        var h = new double[N * N];
        Rosenbrock.Hessian(x, h);
        HyperDualDense();
        for (int i = 0; i < N; i++)
            for (int j = 0; j < N; j++)
                Check.Close($"H[{i},{j}]", h[i * N + j], hd[i, j]);
    }

    [Benchmark(Baseline = true, Description = "hand-written Hvp")]
    public double[] HandHvp() { Rosenbrock.Hvp(x, v, hv); return hv; }

    [Benchmark(Description = "Hybrid dense Hessian, slices")]
    public double[,] HybridHessian()
    {
        var t = Ad.RecordSecondOrder("bench", Transforms.RosenSliced, x);
        var r = t.Hessian();
        t.Release();
        return r;
    }

    [Benchmark(Description = "HyperDual dense Hessian, generic f")]
    public double[,] HyperDualDense()
    {
        int n = x.Length;
        var xs = xh;
        for (int k = 0; k < n; k++) xs[k] = new HyperDual(x[k], 0, 0, 0);
        for (int i = 0; i < n; i++)
        {
            for (int j = i; j < n; j++)
            {
                xs[i] = new HyperDual(x[i], 1, i == j ? 1 : 0, 0);
                if (j != i) xs[j] = new HyperDual(x[j], 0, 1, 0);
                double e12 = Rosenbrock.Generic<HyperDual>(xs).E12;
                hd[i, j] = e12; hd[j, i] = e12;
                if (j != i) xs[j] = new HyperDual(x[j], 0, 0, 0);
            }
            xs[i] = new HyperDual(x[i], 0, 0, 0);
        }
        return hd;
    }
}
