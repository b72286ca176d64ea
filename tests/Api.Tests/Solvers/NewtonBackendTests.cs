using Hybrid.Kernel;
using MathNet.Numerics.Providers.LinearAlgebra;
using Xunit;
using static Hybrid.Tests.TestFunctions;

namespace Hybrid.Tests;

/// <summary>Newton results name the linear-algebra backend their factorisations ran on, and a solver
/// call registers the best backend by itself (native by default; HYBRID_BLAS=managed opts out).</summary>
public class NewtonBackendTests
{
    [Fact]
    public void MinimizeAndSolveNameTheBackendTheyRanOn()
    {
        var r = Newton.Minimize(RosenbrockSliced, new[] { -1.2, 1.0 });
        Assert.True(r.Converged, r.Message);
        var best = Linalg.Choose(Environment.GetEnvironmentVariable(Linalg.EnvironmentVariable), Linalg.IsAvailable);
        Assert.Equal(Linalg.Describe(LinearAlgebraControl.Provider).Kind, r.Backend.Kind);
        Assert.Equal(Linalg.Backend.Library, r.Backend.Library);
        // no other test in this assembly calls Linalg.Use, so the solver's own registration decides
        Assert.Equal(best, r.Backend.Kind);
        var s = Newton.Solve(x => x * x - 4.0, new[] { 1.0 });
        Assert.Equal(r.Backend.Kind, s.Backend.Kind);
    }
}
