using System.Runtime.InteropServices;

namespace Hybrid.Bench;

/// Direct calls of the native routines, bypassing MathNet and Hybrid's provider: the reference
/// the provider is measured against. CBLAS for dgemm; Fortran LAPACK (pointers + hidden CHARACTER
/// lengths, LP64) for dpotrf_/dpotrs_.
public sealed unsafe class DirectBlas
{
    public readonly string Library;
    readonly delegate* unmanaged<int, int, int, int, int, int, double, double*, int, double*, int, double, double*, int, void> dgemm;
    readonly delegate* unmanaged<byte*, int*, double*, int*, int*, nuint, void> dpotrf;
    readonly delegate* unmanaged<byte*, int*, int*, double*, int*, double*, int*, int*, nuint, void> dpotrs;
    readonly nint corename;

    DirectBlas(string library, nint h)
    {
        Library = library;
        dgemm = (delegate* unmanaged<int, int, int, int, int, int, double, double*, int, double*, int, double, double*, int, void>)NativeLibrary.GetExport(h, "cblas_dgemm");
        dpotrf = (delegate* unmanaged<byte*, int*, double*, int*, int*, nuint, void>)NativeLibrary.GetExport(h, "dpotrf_");
        dpotrs = (delegate* unmanaged<byte*, int*, int*, double*, int*, double*, int*, int*, nuint, void>)NativeLibrary.GetExport(h, "dpotrs_");
        NativeLibrary.TryGetExport(h, "openblas_get_corename", out corename);
    }

    public static DirectBlas Mkl => mkl.Value;
    public static DirectBlas OpenBlas => openBlas.Value;
    // Hybrid's loader first: it makes an OpenMP runtime global and selects MKL's threading layer,
    // without which libmkl_rt's threading library fails to resolve omp_* symbols.
    static readonly Lazy<DirectBlas> mkl = new(() =>
    {
        if (!Hybrid.Kernel.Linalg.IsAvailable(Hybrid.Kernel.BackendKind.Mkl))
            throw new InvalidOperationException(Hybrid.Kernel.Linalg.WhyUnavailable(Hybrid.Kernel.BackendKind.Mkl));
        return new DirectBlas("libmkl_rt.so", NativeLibrary.Load("libmkl_rt.so"));
    });
    static readonly Lazy<DirectBlas> openBlas = new(() => new DirectBlas("libopenblas.so.0", NativeLibrary.Load("libopenblas.so.0")));

    /// OpenBLAS's kernel choice (e.g. "Haswell", "Zen"); "" for MKL.
    public string CoreName => corename == 0 ? "" : Marshal.PtrToStringAnsi(((delegate* unmanaged<nint>)corename)()) ?? "";

    /// C = A·B, column-major, all n×n.
    public void Dgemm(int n, double[] a, double[] b, double[] c)
    {
        fixed (double* pa = a, pb = b, pc = c)
            dgemm(102, 111, 111, n, n, n, 1.0, pa, n, pb, n, 0.0, pc, n);
    }

    /// Factor A (copied into the preallocated work buffer l) and solve A·x = b into x.
    public void CholeskySolve(int n, double[] a, double[] l, double[] b, double[] x)
    {
        Array.Copy(a, l, a.Length);
        Array.Copy(b, x, b.Length);
        byte uplo = (byte)'L';
        int nn = n, lda = n, nrhs = 1, ldb = n, info = 0;
        fixed (double* pl = l, px = x)
        {
            dpotrf(&uplo, &nn, pl, &lda, &info, 1);
            if (info != 0) throw new InvalidOperationException($"{Library} dpotrf_ info = {info}");
            dpotrs(&uplo, &nn, &nrhs, pl, &lda, px, &ldb, &info, 1);
            if (info != 0) throw new InvalidOperationException($"{Library} dpotrs_ info = {info}");
        }
    }
}

static class Libc
{
    [DllImport("libc", EntryPoint = "unsetenv")]
    static extern int unsetenv(string name);

    /// Removes a variable from the native environment (what dlopen'ed libraries read with getenv;
    /// Environment.SetEnvironmentVariable only changes .NET's managed copy).
    public static void Unset(string name)
    {
        unsetenv(name);
        Environment.SetEnvironmentVariable(name, null);
    }
}
