using Hybrid.Kernel;
using Xunit;
using static Hybrid.Tests.NewtonProblems;
using static Hybrid.Tests.TestFunctions;

namespace Hybrid.Tests;

public class NewtonMinimizeTests
{
    static void AssertFinite(double[] x)
    {
        foreach (var v in x) Assert.True(double.IsFinite(v), $"solution has a non-finite entry: [{string.Join(", ", x)}]");
    }

    [Theory]
    [InlineData("loop")]
    [InlineData("sliced")]
    public void RosenbrockFromTheClassicStartConvergesToOneOne(string form)
    {
        Func<Vec, Real> f = form == "loop" ? RosenbrockLoop : RosenbrockSliced;
        var r = Newton.Minimize(f, new[] { -1.2, 1.0 });
        Assert.Equal(Termination.GradientTolerance, r.Termination);
        Assert.True(r.Converged, r.Message);
        Assert.True(r.GradientNorm < 1e-8, r.Message);
        Assert.InRange(r.Iterations, 5, 40);
        Approx.Equal(1.0, r.Solution[0], 1e-9, "x");
        Approx.Equal(1.0, r.Solution[1], 1e-9, "y");
        Assert.True(r.Value < 1e-18, $"f = {r.Value}");
        Assert.Equal(r.Iterations + 1, r.History.Count);
        for (var k = 1; k < r.History.Count; k++)
        {
            Assert.True(r.History[k].Value <= r.History[k - 1].Value, $"f increased at iteration {k}");
            Assert.Equal(k, r.History[k].Iteration);
            Assert.InRange(r.History[k].LineSearchTrials, 1, 60);
        }
        // the last steps are full Newton steps (quadratic convergence)
        Assert.Equal(1.0, r.History[^1].StepSize);
        Assert.Equal(0.0, r.History[^1].Tau);
        // the gradient at the solution, computed independently
        Assert.True(Math.Sqrt(RosenbrockGrad(r.Solution).Sum(g => g * g)) < 1e-8);
    }

    [Fact]
    public void ConvexProblemIn500DimensionsConvergesInAHandfulOfIterations()
    {
        var p = new Convex(500, seed: 7);
        var r = Newton.Minimize(p.F, new double[500]);
        Assert.True(r.Converged, r.Message);
        Assert.Equal(Termination.GradientTolerance, r.Termination);
        Assert.InRange(r.Iterations, 1, 10);
        Assert.True(r.GradientNorm < 1e-8, r.Message);
        var g = p.Gradient(r.Solution);
        Assert.True(Math.Sqrt(g.Sum(v => v * v)) < 1e-8, "independent gradient norm at the solution");
        Assert.All(r.History.Skip(1), h => Assert.Equal(0.0, h.Tau)); // positive definite everywhere
    }

    [Fact]
    public void IndefiniteHessianIsShiftedAndStillConverges()
    {
        // f = x⁴/4 − x²/2 + y²/2: a saddle at the origin, minima at (±1, 0); H = diag(3x² − 1, 1) is indefinite near x = 0
        Real F(Vec v) => v[0] * v[0] * v[0] * v[0] / 4 - v[0] * v[0] / 2 + v[1] * v[1] / 2;
        var r = Newton.Minimize(F, new[] { 0.1, 1.0 });
        Assert.True(r.Converged, r.Message);
        Assert.True(r.History[1].Tau > 0, "the first step needed a shift τ > 0");
        Approx.Equal(1.0, r.Solution[0], 1e-9, "x");
        Assert.True(Math.Abs(r.Solution[1]) < 1e-9, $"y = {r.Solution[1]}");
        Approx.Equal(-0.25, r.Value, 1e-14, "f");
    }

    [Fact]
    public void IndefiniteAtTheSaddleItselfMovesAlongTheGradient()
    {
        // from exactly the saddle's x, the gradient along x is zero: the shifted step only moves y; it must not return NaN
        Real F(Vec v) => v[0] * v[0] * v[0] * v[0] / 4 - v[0] * v[0] / 2 + v[1] * v[1] / 2;
        var r = Newton.Minimize(F, new[] { 0.0, 1.0 });
        AssertFinite(r.Solution);
        Assert.True(r.Converged, r.Message);
        Assert.Equal(0.0, r.Solution[0]);
        Assert.Contains(r.History.Skip(1), h => h.Tau > 0);
    }

    [Fact]
    public void SingularHessianIsShiftedNotNaN()
    {
        // f = x₀² in two dimensions: H = diag(2, 0) is singular everywhere
        var r = Newton.Minimize(v => v[0] * v[0], new[] { 1.0, 1.0 });
        AssertFinite(r.Solution);
        Assert.True(r.Converged, r.Message);
        Assert.True(r.GradientNorm < 1e-8);
        Assert.True(Math.Abs(r.Solution[0]) < 1e-8);
        Assert.Equal(1.0, r.Solution[1]);
        Assert.True(r.History[1].Tau > 0, "the singular Hessian needed a shift");
    }

    [Fact]
    public void LineSearchBacktracksWhenTheFullStepLeavesTheDomain()
    {
        // f = x − log x: from x = 3 the Newton step lands at 2x − x² = −3 (log undefined), then 0 (f = ∞), then 1.5
        var r = Newton.Minimize(v => v[0] - Real.Log(v[0]), new[] { 3.0 });
        Assert.True(r.Converged, r.Message);
        Assert.True(r.History[1].LineSearchTrials >= 3, $"trials: {r.History[1].LineSearchTrials}");
        Assert.Equal(0.25, r.History[1].StepSize);
        Approx.Equal(1.0, r.Solution[0], 1e-8, "x"); // |x − 1| ≈ |f′(x)|/f″(1) ≤ the gradient tolerance
    }

    [Fact]
    public void StepsWithinTheNoiseOfFAreAcceptedWhenTheGradientDecreases()
    {
        // f = 10⁸ + e² + e⁴ + noise, e = x − 1, where the noise (a constant to the derivatives, like rounding error)
        // grows by 1e-2·|Δe| as x nears 1 (well above ulp(10⁸) ≈ 1.5e-8): once |e| ≲ 1e-2 every step towards the minimiser raises the computed f,
        // although the exact gradient keeps shrinking quadratically
        static Real F(Vec v)
        {
            var e = v[0] - 1.0;
            var noise = 1e-2 * (1 - Math.Min(Math.Abs(e.Value), 1));
            return 1e8 + e * e + e * e * e * e + noise;
        }
        var r = Newton.Minimize(F, new[] { 3.0 });
        Assert.Equal(Termination.GradientTolerance, r.Termination);
        Assert.True(r.GradientNorm < 1e-8, r.Message);
        Approx.Equal(1.0, r.Solution[0], 1e-8, "x");
        var strict = Newton.Minimize(F, new[] { 3.0 }, new NewtonOptions { FunctionNoise = 0 });
        Assert.NotEqual(Termination.GradientTolerance, strict.Termination);
        Assert.True(strict.GradientNorm > 1e-6, strict.Message);
        Assert.True(double.IsFinite(strict.Solution[0]) && double.IsFinite(strict.Value), strict.Message);
    }

    [Fact]
    public void NaNAtTheStartIsAReasonNotAnException()
    {
        var r = Newton.Minimize(v => Real.Log(v[0]), new[] { -1.0 });
        Assert.Equal(Termination.NonFiniteValue, r.Termination);
        Assert.False(r.Converged);
        Assert.Equal(new[] { -1.0 }, r.Solution);
        Assert.Equal(0, r.Iterations);
        Assert.Contains("f(x0)", r.Message);
    }

    [Fact]
    public void InfiniteGradientIsAReason()
    {
        // sqrt'(0) = +∞ by the kernel's convention
        var r = Newton.Minimize(v => Real.Sqrt(v[0]) + v[1] * v[1], new[] { 0.0, 1.0 });
        Assert.Equal(Termination.NonFiniteGradient, r.Termination);
        Assert.False(r.Converged);
        AssertFinite(r.Solution);
    }

    [Fact]
    public void IterationLimitIsAReason()
    {
        var r = Newton.Minimize(RosenbrockLoop, new[] { -1.2, 1.0 }, new NewtonOptions { MaxIterations = 3 });
        Assert.Equal(Termination.MaxIterations, r.Termination);
        Assert.False(r.Converged);
        Assert.Equal(3, r.Iterations);
        Assert.Equal(4, r.History.Count);
        AssertFinite(r.Solution);
        Assert.Contains("MaxIterations", r.Message);
    }

    [Fact]
    public void UnboundedBelowHitsTheIterationLimitWithFiniteNumbers()
    {
        // f = x₀ + x₁²: no minimum; H = diag(0, 2) is singular; the solver must report, not blow up
        var r = Newton.Minimize(v => v[0] + v[1] * v[1], new[] { 0.0, 1.0 }, new NewtonOptions { MaxIterations = 20 });
        Assert.False(r.Converged);
        AssertFinite(r.Solution);
        Assert.True(double.IsFinite(r.Value));
    }

    [Fact]
    public void ProgressReceivesEveryHistoryEntry()
    {
        var recorder = new Recorder<NewtonIteration>();
        var r = Newton.Minimize(RosenbrockSliced, new[] { -1.2, 1.0 }, new NewtonOptions { Progress = recorder });
        Assert.Equal(r.History, recorder.Items);
        Assert.Equal(0, recorder.Items[0].Iteration);
    }

    [Fact]
    public void StartingAtTheMinimumTakesNoStep()
    {
        var r = Newton.Minimize(RosenbrockLoop, new[] { 1.0, 1.0 });
        Assert.Equal(Termination.GradientTolerance, r.Termination);
        Assert.Equal(0, r.Iterations);
    }

    [Fact]
    public void BadInputThrowsBeforeAnyWork()
    {
        var calls = 0;
        Real F(Vec v) { calls++; return v[0] * v[0]; }
        var e1 = Assert.Throws<ArgumentNullException>(() => Newton.Minimize(null!, new[] { 1.0 }));
        Assert.Contains("Newton.Minimize", e1.Message);
        Assert.Throws<ArgumentNullException>(() => Newton.Minimize(F, (Vec)null!));
        var e2 = Assert.Throws<ArgumentException>(() => Newton.Minimize(F, Array.Empty<double>()));
        Assert.Contains("empty", e2.Message);
        var e3 = Assert.Throws<ArgumentException>(() => Newton.Minimize(F, new[] { 1.0, double.NaN }));
        Assert.Contains("x0[1]", e3.Message);
        var e4 = Assert.Throws<ArgumentException>(() => Newton.Minimize(F, new[] { 1.0 }, new NewtonOptions { BacktrackingFactor = 1.5 }));
        Assert.Contains("BacktrackingFactor", e4.Message);
        Assert.Equal(0, calls);
    }
}
