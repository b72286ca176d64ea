using Hybrid.Kernel;

namespace Hybrid.Bench;

/// The calls the suites time, in one place: the public C# API (Hybrid.Fn) once it lands on main,
/// the kernel's Ad (which Fn is a thin layer over) until then.
public static class Transforms
{
    public const string Api = "Hybrid.Kernel.Ad"; // switch to "Hybrid.Fn" when it lands

    static readonly Func<Vec, Real> Loop = Rosenbrock.Loop;
    static readonly Func<Vec, Real> Sliced = Rosenbrock.Sliced;

    public static (double Value, double[] Grad) GradAndValue(Func<Vec, Real> f, double[] x)
    {
        var (v, g) = Ad.Grad("bench", f, x);
        return ((double)v, g.Arr); // Ad.Grad returns a fresh, exact-length array
    }

    public static Func<Vec, Real> RosenLoop => Loop;
    public static Func<Vec, Real> RosenSliced => Sliced;
}
