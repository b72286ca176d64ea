using System.Numerics;
using Hybrid.Kernel;
using Xunit;
using static Hybrid.Tests.TestFunctions;

namespace Hybrid.Tests;

/// <summary>Rosenbrock written once over any number type.</summary>
readonly struct GenericRosenbrock : IScalarFunction
{
    public T Invoke<T>(ReadOnlySpan<T> x)
        where T : INumberBase<T>, IComparisonOperators<T, T, bool>, IExponentialFunctions<T>, ILogarithmicFunctions<T>,
                  ITrigonometricFunctions<T>, IHyperbolicFunctions<T>, IPowerFunctions<T>, IRootFunctions<T>
    {
        var s = T.Zero;
        var hundred = T.CreateChecked(100.0);
        for (var i = 0; i < x.Length - 1; i++)
        {
            var a = x[i + 1] - x[i] * x[i];
            var b = T.One - x[i];
            s += hundred * a * a + b * b;
        }
        return s;
    }
}

/// <summary>Every rule reachable through the generic-math interfaces, with a branch on the primal.</summary>
readonly struct GenericEveryRule : IScalarFunction
{
    public T Invoke<T>(ReadOnlySpan<T> x)
        where T : INumberBase<T>, IComparisonOperators<T, T, bool>, IExponentialFunctions<T>, ILogarithmicFunctions<T>,
                  ITrigonometricFunctions<T>, IHyperbolicFunctions<T>, IPowerFunctions<T>, IRootFunctions<T>
    {
        T a = x[0], b = x[1], c = x[2];
        var s = a * b / c - c + T.Pow(c, a) + T.Sqrt(c) + T.Cbrt(b) + T.Exp(a * b) + T.Exp2(b) + T.Log(c)
              + T.Log2(c * a) + T.Log10(c + b) + T.Sin(a * c) + T.Cos(b) + T.Tan(a) + T.Asin(a) + T.Acos(b)
              + T.Atan(c) + T.Sinh(b) + T.Cosh(a) + T.Tanh(c * b) + T.Asinh(c) + T.Acosh(c) + T.Atanh(a)
              + T.Abs(a - c) + T.Hypot(a, c);
        return a < b ? s * a : s * b;
    }
}

public class GenericTests
{
    static readonly double[] X5 = { -1.2, 1.0, 0.5, 2.0, -0.3 };
    static readonly double[] X3 = { 0.3, 0.6, 1.7 };

    [Fact]
    public void EvaluatesAtDoubleAsThePlainFunction()
    {
        Assert.Equal(RosenbrockLoop(X5).Value, new GenericRosenbrock().Invoke<double>(X5), 12);
    }

    [Fact]
    public void HyperDualHessianIsTheClosedForm()
    {
        Approx.Equal(RosenbrockHessian(X5), Fn.Hessian(new GenericRosenbrock(), X5), 1e-13);
    }

    [Fact]
    public void HessianHyperDualEqualsTapeEqualsCompositionEqualsFiniteDifferences()
    {
        var f = new GenericEveryRule();
        var hyper = Fn.Hessian(f, X3);
        var tape = Fn.Hessian(Fn.AsReal(f))(X3);
        var composed = Fn.JacFwd(Fn.Grad(f))(X3);
        Approx.Equal(hyper, tape, 1e-13, "hyper-dual vs tape");
        Approx.Equal(hyper, composed, 1e-13, "hyper-dual vs JacFwd∘Grad");
        Approx.Equal(FdHessian(Fn.AsReal(f), X3), hyper, 1e-6, "hyper-dual vs finite differences");
    }

    [Fact]
    public void GradViaRealMatchesClosedFormAndFiniteDifferences()
    {
        Approx.Equal(RosenbrockGrad(X5), Fn.Grad(new GenericRosenbrock())(X5), 1e-13);
        var f = new GenericEveryRule();
        Approx.Equal(FdGrad(Fn.AsReal(f), X3), Fn.Grad(f)(X3), 1e-9);
    }

    [Fact]
    public void DualJvpIsGradientDotV()
    {
        double[] v = { 1.0, -0.5, 0.25, 2.0, 3.0 };
        var (y, t) = Fn.Jvp(new GenericRosenbrock(), X5, v);
        Assert.Equal(new GenericRosenbrock().Invoke<double>(X5), y);
        Approx.Equal(Dot(RosenbrockGrad(X5), v), t, 1e-13);

        double[] w = { 0.2, -1.0, 0.7 };
        var f = new GenericEveryRule();
        Approx.Equal(Dot(Fn.Grad(f)(X3), w), Fn.Jvp(f, X3, w).Tangent, 1e-13);
    }

    [Fact]
    public void BadInputIsRejected()
    {
        var f = new GenericRosenbrock();
        var e = Assert.Throws<ArgumentException>(() => Fn.Jvp(f, new[] { 1.0, 2.0, 3.0 }, new[] { 1.0, 2.0 }));
        Assert.Contains("Fn.Jvp", e.Message);
        Assert.Contains("length 3", e.Message);
        Assert.Contains("length 2", e.Message);
        Assert.Throws<ArgumentException>(() => Fn.Hessian(f, Array.Empty<double>()));
        Assert.Equal("x", Assert.Throws<ArgumentNullException>(() => Fn.Hessian(f, null!)).ParamName);
        Assert.Equal("f", Assert.Throws<ArgumentNullException>(() => Fn.Grad((IScalarFunction)null!)).ParamName);
    }
}
