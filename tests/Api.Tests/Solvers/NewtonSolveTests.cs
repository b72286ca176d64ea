using Hybrid.Kernel;
using Xunit;
using static Hybrid.Tests.NewtonProblems;

namespace Hybrid.Tests;

public class NewtonSolveTests
{
    /// <summary>x² + y² = 4, x = y: roots ±(√2, √2).</summary>
    static Vec Circle(Vec v) => Vec.OfReals(new[] { v[0] * v[0] + v[1] * v[1] - 4.0, v[0] - v[1] });

    /// <summary>x + y = 1 twice over: the Jacobian [[1, 1], [2, 2]] is singular everywhere; every point of the line is a root.</summary>
    static Vec Dependent(Vec v) => Vec.OfReals(new[] { v[0] + v[1] - 1.0, 2.0 * v[0] + 2.0 * v[1] - 2.0 });

    [Fact]
    public void FindsTheRootOfATwoDimensionalSystem()
    {
        var recorder = new Recorder<NewtonIteration>();
        var r = Newton.Solve(Circle, new[] { 1.0, 0.5 }, new NewtonOptions { Progress = recorder });
        Assert.True(r.Converged, r.Message);
        Assert.Equal(Termination.ResidualTolerance, r.Termination);
        Approx.Equal(Math.Sqrt(2), r.Solution[0], 1e-12, "x");
        Approx.Equal(Math.Sqrt(2), r.Solution[1], 1e-12, "y");
        Assert.True(r.ResidualNorm <= 1e-10);
        Assert.InRange(r.Iterations, 2, 10);
        Assert.Equal(0, r.LeastSquaresSteps);
        Assert.Equal(r.History, recorder.Items);
        Assert.All(r.History, h => Assert.False(double.IsNaN(h.GradientNorm)));
    }

    [Fact]
    public void SingularJacobianIsAReason()
    {
        var r = Newton.Solve(Dependent, new[] { 3.0, 2.0 });
        Assert.Equal(Termination.Singular, r.Termination);
        Assert.False(r.Converged);
        Assert.Equal(new[] { 3.0, 2.0 }, r.Solution);
        Assert.Contains("singular", r.Message);
        Assert.Contains("LeastSquaresFallback", r.Message);
    }

    [Fact]
    public void LeastSquaresFallbackSolvesAConsistentSingularSystemAndSaysSo()
    {
        var r = Newton.Solve(Dependent, new[] { 3.0, 2.0 }, new NewtonOptions { LeastSquaresFallback = true });
        Assert.True(r.Converged, r.Message);
        Assert.True(r.LeastSquaresSteps >= 1);
        Assert.Contains("least-squares", r.Message);
        Approx.Equal(1.0, r.Solution[0] + r.Solution[1], 1e-12, "x + y");
        // the minimum-norm step moves along the normal (1, 1): x − y is unchanged
        Approx.Equal(1.0, r.Solution[0] - r.Solution[1], 1e-12, "x − y");
    }

    [Fact]
    public void ALocalMinimumOfTheResidualIsNotReportedAsARoot()
    {
        // F(x) = x² + 1 has no real root; Newton from 1 lands on x = 0, where JᵀF = 0
        var r = Newton.Solve(v => Vec.OfReals(new[] { v[0] * v[0] + 1.0 }), new[] { 1.0 }, new NewtonOptions { LeastSquaresFallback = true });
        Assert.False(r.Converged);
        Assert.Equal(Termination.GradientTolerance, r.Termination);
        Assert.Contains("not a root", r.Message);
        Approx.Equal(1.0, r.ResidualNorm, 1e-12, "‖F‖");
    }

    [Fact]
    public void NonFiniteResidualAtTheStartIsAReason()
    {
        var r = Newton.Solve(v => Vec.Log(v), new[] { -1.0, 2.0 });
        Assert.Equal(Termination.NonFiniteValue, r.Termination);
        Assert.False(r.Converged);
    }

    [Fact]
    public void LineSearchKeepsTheIterateInsideTheDomain()
    {
        // F(x) = log x with root 1; from x = 5 the Newton step x − x·log x lands at −3.05 (log undefined)
        var r = Newton.Solve(v => Vec.Log(v), new[] { 5.0 });
        Assert.True(r.Converged, r.Message);
        Assert.True(r.History[1].LineSearchTrials > 1);
        Approx.Equal(1.0, r.Solution[0], 1e-10, "x");
    }

    [Fact]
    public void IterationLimitIsAReason()
    {
        var r = Newton.Solve(Circle, new[] { 10.0, -3.0 }, new NewtonOptions { MaxIterations = 1 });
        Assert.Equal(Termination.MaxIterations, r.Termination);
        Assert.Equal(1, r.Iterations);
    }

    [Fact]
    public void NonSquareSystemsAndBadInputThrow()
    {
        var e = Assert.Throws<ArgumentException>(() => Newton.Solve(v => Vec.OfReals(new[] { v[0], v[1], v[0] * v[1] }), new[] { 1.0, 2.0 }));
        Assert.Contains("3 values for 2 unknowns", e.Message);
        Assert.Throws<ArgumentNullException>(() => Newton.Solve(null!, new[] { 1.0 }));
        Assert.Throws<ArgumentException>(() => Newton.Solve(Circle, new[] { double.PositiveInfinity, 1.0 }));
    }
}
