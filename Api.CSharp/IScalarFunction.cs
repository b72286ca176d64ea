using System.Numerics;

namespace Hybrid;

/// <summary>
/// A scalar function ℝⁿ → ℝ written once, generically, over any number type with .NET generic
/// maths: <c>double</c> (plain evaluation), <see cref="Kernel.Dual"/> (forward mode),
/// <see cref="Kernel.HyperDual"/> (exact second derivatives) and <see cref="Kernel.Real"/> (every
/// transform). Implement it with a struct so each instantiation is specialised by the JIT:
/// <code>
/// readonly struct Rosenbrock : IScalarFunction
/// {
///     public T Invoke&lt;T&gt;(ReadOnlySpan&lt;T&gt; x) where T : INumberBase&lt;T&gt;, … { … }
/// }
/// </code>
/// Comparisons (<c>x &lt; y</c>) see the primal value in every number type, so branches behave as in
/// the double code.
/// </summary>
public interface IScalarFunction
{
    /// <summary>f(x) in the number type T.</summary>
    /// <typeparam name="T">double, Dual, HyperDual or Real (or any type with these interfaces).</typeparam>
    /// <param name="x">The inputs.</param>
    /// <returns>f(x).</returns>
    T Invoke<T>(ReadOnlySpan<T> x)
        where T : INumberBase<T>, IComparisonOperators<T, T, bool>, IExponentialFunctions<T>, ILogarithmicFunctions<T>,
                  ITrigonometricFunctions<T>, IHyperbolicFunctions<T>, IPowerFunctions<T>, IRootFunctions<T>;
}
