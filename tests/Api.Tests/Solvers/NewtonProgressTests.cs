using Hybrid.Kernel;
using Xunit;
using static Hybrid.Tests.TestFunctions;

namespace Hybrid.Tests;

/// <summary>Long work: each history entry carries its xₖ, and cancellation is a result with the best point so far.</summary>
public class NewtonProgressTests
{
    /// <summary>An IProgress that runs an action on the solver's thread, in order.</summary>
    sealed class OnReport(Action<NewtonIteration> action) : IProgress<NewtonIteration>
    {
        public void Report(NewtonIteration value) => action(value);
    }

    static Vec Circle(Vec v) => Vec.OfReals(new[] { v[0] * v[0] + v[1] * v[1] - 4.0, v[0] - v[1] });

    [Fact]
    public void EachIterationCarriesItsPoint()
    {
        var r = Newton.Minimize(RosenbrockLoop, new[] { -1.2, 1.0 });
        Assert.True(r.Converged, r.Message);
        Assert.Equal(new[] { -1.2, 1.0 }, r.History[0].X);
        Assert.Equal(r.Solution, r.History[^1].X);
        for (var k = 0; k < r.History.Count; k++)
            Assert.Equal(RosenbrockLoop(new Vec(r.History[k].X)).Value, r.History[k].Value, 12);
        for (var k = 1; k < r.History.Count; k++)
        {
            Assert.NotSame(r.History[k - 1].X, r.History[k].X);
            var step = Math.Sqrt(r.History[k].X.Zip(r.History[k - 1].X, (a, b) => (a - b) * (a - b)).Sum());
            Assert.Equal(r.History[k].StepNorm, step, 12);
        }
    }

    [Fact]
    public void RootFindingHistoryCarriesItsPoints()
    {
        var r = Newton.Solve(Circle, new[] { 1.0, 0.5 });
        Assert.True(r.Converged, r.Message);
        Assert.Equal(new[] { 1.0, 0.5 }, r.History[0].X);
        Assert.Equal(r.Solution, r.History[^1].X);
        Assert.All(r.History, h => Assert.Equal(2, h.X.Length));
    }

    [Fact]
    public void AlreadyCancelledStopsAtTheStartWithoutThrowing()
    {
        using var cts = new CancellationTokenSource();
        cts.Cancel();
        var r = Newton.Minimize(RosenbrockLoop, new[] { -1.2, 1.0 }, new NewtonOptions { CancellationToken = cts.Token });
        Assert.Equal(Termination.Cancelled, r.Termination);
        Assert.False(r.Converged);
        Assert.Equal(0, r.Iterations);
        Assert.Equal(new[] { -1.2, 1.0 }, r.Solution);
        Assert.Equal(24.2, r.Value, 12);
        Assert.Contains("Cancelled", r.Message);
    }

    [Fact]
    public void CancelledMidwayReturnsTheBestIterateSoFar()
    {
        using var cts = new CancellationTokenSource();
        var progress = new OnReport(h => { if (h.Iteration == 3) cts.Cancel(); });
        var r = Newton.Minimize(RosenbrockLoop, new[] { -1.2, 1.0 }, new NewtonOptions { Progress = progress, CancellationToken = cts.Token });
        Assert.Equal(Termination.Cancelled, r.Termination);
        Assert.Equal(3, r.Iterations);
        Assert.Equal(4, r.History.Count);
        Assert.Equal(r.History[3].X, r.Solution);
        Assert.Equal(r.History[3].Value, r.Value);
        Assert.Equal(r.History.Min(h => h.Value), r.Value);   // the best so far: f decreases at every accepted step
        Assert.True(r.Value < 24.2);
    }

    [Fact]
    public void NewtonCGStopsOnCancellationToo()
    {
        using var cts = new CancellationTokenSource();
        var progress = new OnReport(h => { if (h.Iteration == 2) cts.Cancel(); });
        var r = Newton.MinimizeCG(RosenbrockSliced, new[] { -1.2, 1.0 }, new NewtonOptions { Progress = progress, CancellationToken = cts.Token });
        Assert.Equal(Termination.Cancelled, r.Termination);
        Assert.Equal(2, r.Iterations);
        Assert.Equal(r.History[2].X, r.Solution);
    }

    [Fact]
    public void RootFindingStopsOnCancellation()
    {
        using var cts = new CancellationTokenSource();
        var progress = new OnReport(h => { if (h.Iteration == 1) cts.Cancel(); });
        var r = Newton.Solve(Circle, new[] { 1.0, 0.5 }, new NewtonOptions { Progress = progress, CancellationToken = cts.Token });
        Assert.Equal(Termination.Cancelled, r.Termination);
        Assert.False(r.Converged);
        Assert.Equal(1, r.Iterations);
        Assert.Equal(r.History[1].X, r.Solution);
        Assert.Equal(r.History[1].Value, r.ResidualNorm);
        Assert.True(r.ResidualNorm < r.History[0].Value);
    }
}
