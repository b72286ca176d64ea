using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using Hybrid.Kernel;

namespace Hybrid.Bench;

/// The functions the suites time: Rosenbrock written once generically (double, Dual, HyperDual,
/// Real), once over Real as a scalar loop and once with slices, and hand-written derivatives
/// (the floor every ratio is measured against).
public static class Rosenbrock
{
    /// f(x) = Σ 100 (x[i+1] − x[i]²)² + (1 − x[i])², generic over the number type.
    public static T Generic<T>(ReadOnlySpan<T> x) where T : INumberBase<T>
    {
        T hundred = T.CreateChecked(100.0);
        T s = T.Zero;
        for (int i = 0; i < x.Length - 1; i++)
        {
            T a = x[i + 1] - x[i] * x[i];
            T b = T.One - x[i];
            s += hundred * a * a + b * b;
        }
        return s;
    }

    /// Plain double f alone.
    public static double Value(double[] x)
    {
        double s = 0;
        for (int i = 0; i < x.Length - 1; i++)
        {
            double xi = x[i];
            double a = x[i + 1] - xi * xi;
            double b = 1 - xi;
            s += 100 * a * a + b * b;
        }
        return s;
    }

    /// The floor: analytic value and gradient in one scalar loop, written into a preallocated g.
    /// Each term's contribution to g[i+1] is carried in a register (no store-then-reload of g), and
    /// refs instead of indexers so the JIT emits no bounds checks.
    public static double ValueAndGradient(double[] x, double[] g)
    {
        int n = x.Length;
        if (g.Length < n) throw new ArgumentException("g is shorter than x", nameof(g));
        ref double xr = ref MemoryMarshal.GetArrayDataReference(x);
        ref double gr = ref MemoryMarshal.GetArrayDataReference(g);
        double s = 0, carry = 0, xi = xr;
        for (int i = 0; i < n - 1; i++)
        {
            double xn = Unsafe.Add(ref xr, i + 1);
            double a = xn - xi * xi;
            double b = 1 - xi;
            s += 100 * a * a + b * b;
            Unsafe.Add(ref gr, i) = carry - 400 * a * xi - 2 * b;
            carry = 200 * a;
            xi = xn;
        }
        Unsafe.Add(ref gr, n - 1) = carry;
        return s;
    }

    /// The same written naively (g[i] += …, g[i+1] = …: a store and reload of g per element).
    public static double ValueAndGradientNaive(double[] x, double[] g)
    {
        int n = x.Length;
        double s = 0;
        g[0] = 0;
        for (int i = 0; i < n - 1; i++)
        {
            double xi = x[i];
            double a = x[i + 1] - xi * xi;
            double b = 1 - xi;
            s += 100 * a * a + b * b;
            g[i] += -400 * a * xi - 2 * b;
            g[i + 1] = 200 * a;
        }
        return s;
    }

    /// Hand-written Hessian-vector product H(x)·v into a preallocated hv (register-carried, no
    /// bounds checks, as the floor).
    public static void Hvp(double[] x, double[] v, double[] hv)
    {
        int n = x.Length;
        if (v.Length < n || hv.Length < n) throw new ArgumentException("v or hv is shorter than x");
        ref double xr = ref MemoryMarshal.GetArrayDataReference(x);
        ref double vr = ref MemoryMarshal.GetArrayDataReference(v);
        ref double hr = ref MemoryMarshal.GetArrayDataReference(hv);
        double carry = 0, xi = xr, vi = vr;
        for (int i = 0; i < n - 1; i++)
        {
            double xn = Unsafe.Add(ref xr, i + 1), vn = Unsafe.Add(ref vr, i + 1);
            Unsafe.Add(ref hr, i) = carry + (1200 * xi * xi - 400 * xn + 2) * vi - 400 * xi * vn;
            carry = -400 * xi * vi + 200 * vn;
            xi = xn; vi = vn;
        }
        Unsafe.Add(ref hr, n - 1) = carry;
    }

    /// The same written naively (hv[i] += …, hv[i+1] = …).
    public static void HvpNaive(double[] x, double[] v, double[] hv)
    {
        int n = x.Length;
        hv[0] = 0;
        for (int i = 0; i < n - 1; i++)
        {
            double xi = x[i];
            double vi = v[i], vj = v[i + 1];
            hv[i] += (1200 * xi * xi - 400 * x[i + 1] + 2) * vi - 400 * xi * vj;
            hv[i + 1] = -400 * xi * vi + 200 * vj;
        }
    }

    /// Hand-written dense Hessian into a preallocated n×n row-major h (cleared first).
    public static void Hessian(double[] x, double[] h)
    {
        int n = x.Length;
        Array.Clear(h);
        for (int i = 0; i < n - 1; i++)
        {
            double xi = x[i];
            h[i * n + i] += 1200 * xi * xi - 400 * x[i + 1] + 2;
            h[i * n + i + 1] -= 400 * xi;
            h[(i + 1) * n + i] -= 400 * xi;
            h[(i + 1) * n + i + 1] += 200;
        }
    }

    /// Hybrid, written as a scalar loop over Real (as a user would).
    public static Real Loop(Vec x)
    {
        Real s = 0.0;
        for (int i = 0; i < x.Length - 1; i++)
        {
            Real a = x[i + 1] - x[i] * x[i];
            Real b = 1.0 - x[i];
            s += 100.0 * a * a + b * b;
        }
        return s;
    }

    /// Hybrid, written with slices: one tape node per vector operation.
    public static Real Sliced(Vec x) =>
        Vec.Sum(100.0 * Vec.Square(x[1..] - Vec.Square(x[..^1])) + Vec.Square(1.0 - x[..^1]));

    /// The generic f at Real (what a generic user function looks like under a transform).
    public static Real GenericReal(Vec x)
    {
        var xs = new Real[x.Length];
        for (int i = 0; i < xs.Length; i++) xs[i] = x[i];
        return Generic<Real>(xs);
    }

    /// Deterministic test point: a smooth curve through the interesting region around (1, 1).
    public static double[] Point(int n, int seed = 1)
    {
        var rng = new Random(seed);
        var x = new double[n];
        for (int i = 0; i < n; i++) x[i] = 0.5 + rng.NextDouble();
        return x;
    }
}
