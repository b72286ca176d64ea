using BenchmarkDotNet.Attributes;
using Hybrid.Kernel;
using MathNet.Numerics.LinearAlgebra;
using MathNet.Numerics.LinearAlgebra.Double;
using MathNet.Numerics.Providers.LinearAlgebra;

namespace Hybrid.Bench;

/// Shared inputs and provider switching for the issue-3 suites. Each benchmark case runs in its
/// own process, so the provider a GlobalSetup registers is the only one that case sees.
public abstract class LinalgSuite
{
    protected static Matrix<double> RandomMatrix(int n, int seed)
    {
        var rng = new Random(seed);
        var m = DenseMatrix.Create(n, n, (_, _) => rng.NextDouble() - 0.5);
        return m;
    }

    protected static void Register(BackendKind kind)
    {
        if (!Linalg.IsAvailable(kind))
            throw new InvalidOperationException($"{kind} is not available here: {Linalg.WhyUnavailable(kind)}");
        var b = Linalg.Use(kind);
        Console.WriteLine($"// provider: {b}");
    }
}

/// Issue 3: dgemm n = 1000, C = A·B into a preallocated C. Baseline: cblas_dgemm in libmkl_rt
/// called directly. Budgets: MathNet+MKL provider ≤ 1.15× direct MKL; managed ≥ 10× slower.
[MemoryDiagnoser]
public class Dgemm : LinalgSuite
{
    [Params(1000)] public int N;
    Matrix<double> a = null!, b = null!, c = null!;
    double[] ca = [], cb = [], cc = [];

    void Init()
    {
        a = RandomMatrix(N, 1); b = RandomMatrix(N, 2); c = DenseMatrix.Create(N, N, 0.0);
        ca = a.AsColumnMajorArray(); cb = b.AsColumnMajorArray(); cc = new double[N * N];
    }

    [GlobalSetup(Targets = [nameof(DirectMkl), nameof(MathNetMkl)])] public void SetupMkl() { Init(); Register(BackendKind.Mkl); Verify(); }
    [GlobalSetup(Targets = [nameof(DirectOpenBlas), nameof(MathNetOpenBlas)])] public void SetupOpenBlas() { Init(); Register(BackendKind.OpenBlas); Console.WriteLine($"// OpenBLAS core: {DirectBlas.OpenBlas.CoreName}"); Verify(); }
    [GlobalSetup(Target = nameof(MathNetManaged))] public void SetupManaged() { Init(); Register(BackendKind.Managed); }

    void Verify()
    {
        var reference = new double[N * N];
        ManagedLinearAlgebraProvider.Instance.MatrixMultiply(ca, N, N, cb, N, N, reference);
        a.Multiply(b, c);
        Check.Close("MathNet dgemm", reference, c.AsColumnMajorArray());
    }

    [Benchmark(Baseline = true, Description = "direct cblas_dgemm (MKL)")]
    public double[] DirectMkl() { DirectBlas.Mkl.Dgemm(N, ca, cb, cc); return cc; }

    [Benchmark(Description = "MathNet + Hybrid provider (MKL)")]
    public Matrix<double> MathNetMkl() { a.Multiply(b, c); return c; }

    [Benchmark(Description = "direct cblas_dgemm (OpenBLAS)")]
    public double[] DirectOpenBlas() { DirectBlas.OpenBlas.Dgemm(N, ca, cb, cc); return cc; }

    [Benchmark(Description = "MathNet + Hybrid provider (OpenBLAS)")]
    public Matrix<double> MathNetOpenBlas() { a.Multiply(b, c); return c; }

    [Benchmark(Description = "MathNet managed provider")]
    public Matrix<double> MathNetManaged() { a.Multiply(b, c); return c; }
}

/// Issue 3: Cholesky factor + solve, n = 2000, one right-hand side. Baseline: dpotrf_ + dpotrs_
/// in libmkl_rt called directly (on a preallocated copy of A). MathNet: A.Cholesky().Solve(b).
[MemoryDiagnoser]
public class CholeskySolve : LinalgSuite
{
    [Params(2000)] public int N;
    Matrix<double> a = null!;
    Vector<double> b = null!;
    double[] aa = [], work = [], bb = [], xx = [];

    void Init()
    {
        var m = RandomMatrix(N, 3);
        a = m.TransposeAndMultiply(m) + DenseMatrix.CreateIdentity(N) * N; // SPD, well conditioned
        b = DenseVector.Create(N, i => Math.Sin(i));
        aa = a.AsColumnMajorArray(); work = new double[N * N]; bb = b.AsArray(); xx = new double[N];
    }

    [GlobalSetup(Targets = [nameof(DirectMkl), nameof(MathNetMkl)])] public void SetupMkl() { Init(); Register(BackendKind.Mkl); Verify(DirectBlas.Mkl); }
    [GlobalSetup(Targets = [nameof(DirectOpenBlas), nameof(MathNetOpenBlas)])] public void SetupOpenBlas() { Init(); Register(BackendKind.OpenBlas); Console.WriteLine($"// OpenBLAS core: {DirectBlas.OpenBlas.CoreName}"); Verify(DirectBlas.OpenBlas); }
    [GlobalSetup(Target = nameof(MathNetManaged))] public void SetupManaged() { Init(); Register(BackendKind.Managed); }

    void Verify(DirectBlas direct)
    {
        var x = a.Cholesky().Solve(b);
        Check.Close("A·x = b", bb, (a * x).AsArray(), 1e-10);
        direct.CholeskySolve(N, aa, work, bb, xx);
        Check.Close("direct vs MathNet", x.AsArray(), xx, 1e-10);
    }

    [Benchmark(Baseline = true, Description = "direct dpotrf_+dpotrs_ (MKL)")]
    public double[] DirectMkl() { DirectBlas.Mkl.CholeskySolve(N, aa, work, bb, xx); return xx; }

    [Benchmark(Description = "MathNet + Hybrid provider (MKL)")]
    public Vector<double> MathNetMkl() => a.Cholesky().Solve(b);

    [Benchmark(Description = "direct dpotrf_+dpotrs_ (OpenBLAS)")]
    public double[] DirectOpenBlas() { DirectBlas.OpenBlas.CholeskySolve(N, aa, work, bb, xx); return xx; }

    [Benchmark(Description = "MathNet + Hybrid provider (OpenBLAS)")]
    public Vector<double> MathNetOpenBlas() => a.Cholesky().Solve(b);

    [Benchmark(Description = "MathNet managed provider")]
    public Vector<double> MathNetManaged() => a.Cholesky().Solve(b);
}

/// Issue 3: OpenBLAS kernels by OPENBLAS_CORETYPE: the run's job (environment as given), job
/// "coretype-Haswell" (OPENBLAS_CORETYPE=Haswell, as the project's machines preset) and job
/// "coretype-unset" (HYBRID_BENCH_UNSET_OPENBLAS_CORETYPE=1: the variable is removed from the native
/// environment before OpenBLAS loads, so it detects the CPU itself; only this suite ever unsets it).
/// The core OpenBLAS chose is printed in the log ("// OPENBLAS_CORETYPE=…, OpenBLAS core: …").
[MemoryDiagnoser, Config(typeof(BenchConfig.CoreType))]
public class OpenBlasCoreType : LinalgSuite
{
    double[] ca = [], cb = [], cc = [], aa = [], work = [], bb = [], xx = [];
    const int GemmN = 1000, CholN = 2000;

    [GlobalSetup]
    public void Setup()
    {
        if (Environment.GetEnvironmentVariable(BenchConfig.UnsetCoreTypeVariable) == "1")
            Libc.Unset("OPENBLAS_CORETYPE");
        Console.WriteLine($"// OPENBLAS_CORETYPE={Environment.GetEnvironmentVariable("OPENBLAS_CORETYPE") ?? "(unset)"}, OpenBLAS core: {DirectBlas.OpenBlas.CoreName}");
        ca = RandomMatrix(GemmN, 1).AsColumnMajorArray(); cb = RandomMatrix(GemmN, 2).AsColumnMajorArray(); cc = new double[GemmN * GemmN];
        var m = RandomMatrix(CholN, 3);
        aa = (m.TransposeAndMultiply(m) + DenseMatrix.CreateIdentity(CholN) * CholN).AsColumnMajorArray();
        work = new double[CholN * CholN]; bb = new double[CholN]; xx = new double[CholN];
        for (int i = 0; i < CholN; i++) bb[i] = Math.Sin(i);
    }

    [Benchmark(Description = "direct cblas_dgemm n=1000 (OpenBLAS)")]
    public double[] Dgemm() { DirectBlas.OpenBlas.Dgemm(GemmN, ca, cb, cc); return cc; }

    [Benchmark(Description = "direct dpotrf_+dpotrs_ n=2000 (OpenBLAS)")]
    public double[] Cholesky() { DirectBlas.OpenBlas.CholeskySolve(CholN, aa, work, bb, xx); return xx; }
}
