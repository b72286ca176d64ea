using System.Numerics;
using Hybrid.Kernel;

namespace Hybrid.Bench;

/// The transforms as the suites call them: the public C# API (Hybrid.Fn), built once in setup
/// where Fn returns a function (Fn.GradAndValue(f), Fn.Hvp(f), Fn.Hessian(f)).
public static class Transforms
{
    public static readonly Func<Vec, Real> RosenLoop = Rosenbrock.Loop;
    public static readonly Func<Vec, Real> RosenSliced = Rosenbrock.Sliced;

    public static readonly Func<Vec, (Vec Grad, Real Value)> GradLoop = Fn.GradAndValue(RosenLoop);
    public static readonly Func<Vec, (Vec Grad, Real Value)> GradSliced = Fn.GradAndValue(RosenSliced);

    public static (double Value, double[] Grad) GradAndValue(Func<Vec, Real> f, double[] x)
    {
        var (g, v) = Fn.GradAndValue(f)(x);
        return ((double)v, g.ToArray());
    }
}

/// The generic Rosenbrock as an IScalarFunction, for Fn's Dual (Jvp) and HyperDual (Hessian) paths.
public sealed class RosenbrockGeneric : IScalarFunction
{
    public static readonly RosenbrockGeneric Instance = new();
    public T Invoke<T>(ReadOnlySpan<T> x)
        where T : INumberBase<T>, IComparisonOperators<T, T, bool>, IExponentialFunctions<T>, ILogarithmicFunctions<T>,
                  ITrigonometricFunctions<T>, IHyperbolicFunctions<T>, IPowerFunctions<T>, IRootFunctions<T>
        => Rosenbrock.Generic(x);
}
