using Hybrid.Interop;
using Hybrid.Kernel;
using MathNet.Numerics.LinearAlgebra;
using MathNet.Numerics.Optimization;
using Xunit;

namespace Hybrid.Tests;

/// <summary>The README's "Newton solvers" snippets for progress, cancellation and MathNet interop, as written there.</summary>
public class ReadmeNewtonTests
{
    static Real Rosenbrock(Vec x) =>
        Vec.Sum(100.0 * Vec.Square(x[1..] - Vec.Square(x[..^1])) + Vec.Square(1.0 - x[..^1]));

    [Fact]
    public void ProgressAndCancellationSnippet()
    {
        using var cts = new CancellationTokenSource(TimeSpan.FromMinutes(5));   // or cts.Cancel() from a button
        var options = new NewtonOptions
        {
            Progress = new Progress<NewtonIteration>(it => Console.WriteLine($"{it.Iteration}: f = {it.Value:G6}, x = [{string.Join(", ", it.X)}]")),
            CancellationToken = cts.Token,
        };
        var run = Newton.Minimize(Rosenbrock, new[] { -1.2, 1.0 }, options);
        if (run.Termination == Termination.Cancelled) Console.WriteLine($"stopped early; best so far f = {run.Value:G6}");

        Assert.Equal(Termination.GradientTolerance, run.Termination);   // five minutes is plenty: it converged
        Assert.Equal(new[] { -1.2, 1.0 }, run.History[0].X);
        Assert.Equal(run.Solution, run.History[^1].X);

        cts.Cancel();                                                    // the same options, cancelled: a result, no exception
        var stopped = Newton.Minimize(Rosenbrock, new[] { -1.2, 1.0 }, options);
        Assert.Equal(Termination.Cancelled, stopped.Termination);
        Assert.Equal(new[] { -1.2, 1.0 }, stopped.Solution);
        Assert.Equal(24.2, stopped.Value, 12);
    }

    [Fact]
    public void MathNetSnippet()
    {
        var bfgs = new BfgsMinimizer(1e-8, 0, 0).FindMinimum(MathNetObjective.Create(Rosenbrock), Vector<double>.Build.Dense(new[] { -1.2, 1.0 }));
        Assert.Equal(ExitCondition.AbsoluteGradient, bfgs.ReasonForExit);
        Assert.Equal(1.0, bfgs.MinimizingPoint[0], 6);
        Assert.Equal(1.0, bfgs.MinimizingPoint[1], 6);
    }
}
