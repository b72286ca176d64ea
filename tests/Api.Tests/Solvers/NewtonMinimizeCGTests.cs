using Hybrid.Kernel;
using Xunit;
using static Hybrid.Tests.NewtonProblems;
using static Hybrid.Tests.TestFunctions;

namespace Hybrid.Tests;

public class NewtonMinimizeCGTests
{
    [Fact]
    public void SeparableProblemWith10000UnknownsConverges()
    {
        const int n = 10_000;
        var p = new Separable(n, seed: 11);
        var r = Newton.MinimizeCG(p.F, new double[n]);
        Assert.True(r.Converged, r.Message);
        Assert.Equal(Termination.GradientTolerance, r.Termination);
        Assert.True(r.GradientNorm < 1e-8, r.Message);
        Assert.InRange(r.Iterations, 1, 15);
        for (var i = 0; i < n; i += 97) Approx.Equal(p.Minimiser(i), r.Solution[i], 1e-9, $"x[{i}]");
        Assert.All(r.History.Skip(1), h => Assert.InRange(h.InnerIterations, 1, 250));
    }

    [Fact]
    public void RosenbrockConvergesThroughTheNegativeCurvatureExit()
    {
        var r = Newton.MinimizeCG(RosenbrockSliced, new[] { -1.2, 1.0 });
        Assert.True(r.Converged, r.Message);
        Assert.True(r.GradientNorm < 1e-8, r.Message);
        Approx.Equal(1.0, r.Solution[0], 1e-9, "x");
        Approx.Equal(1.0, r.Solution[1], 1e-9, "y");
        Assert.All(r.History, h => Assert.Equal(0.0, h.Tau));
    }

    [Fact]
    public void AgreesWithTheDenseNewtonSolverOnTheConvexProblem()
    {
        var p = new Convex(60, seed: 3);
        var dense = Newton.Minimize(p.F, new double[60]);
        var cg = Newton.MinimizeCG(p.F, new double[60]);
        Assert.True(dense.Converged, dense.Message);
        Assert.True(cg.Converged, cg.Message);
        // H ⪰ I (A = MᵀM/n + I plus a positive diagonal), so ‖x − x*‖ ≤ ‖∇f(x)‖ ≤ 1e-8 for each solver
        for (var i = 0; i < 60; i++) Approx.Equal(dense.Solution[i], cg.Solution[i], 2e-8, $"x[{i}]");
    }

    [Fact]
    public void NaNAtTheStartIsAReason()
    {
        var r = Newton.MinimizeCG(v => Vec.Sum(Vec.Log(v)), new[] { 1.0, -1.0 });
        Assert.Equal(Termination.NonFiniteValue, r.Termination);
        Assert.Equal(new[] { 1.0, -1.0 }, r.Solution);
    }
}
