using Hybrid.Kernel;
using Xunit;
using Xunit.Sdk;
using static Hybrid.Tests.TestFunctions;
using static Hybrid.Tests.CompiledAssert;

namespace Hybrid.Tests;

/// <summary>
/// Fn.Compile of scalar loops: the recorded loops are rolled into IL loops (Kernel: Compile/Loops.fs),
/// and the compiled results still equal the eager transforms' (value, gradient, Jvp, Hvp, Hessian),
/// also where the trip count depends on x (a guard per trip: a second path).
/// </summary>
public class CompileLoopTests
{
    static void AllEqualEager(Func<Vec, Real> f, CompiledFunction c, double[] x, double[] v, string what, bool hessian = true)
    {
        var (g, value) = Fn.GradAndValue(f)(x);
        var grad = new double[x.Length];
        Same(value.Value, c.GradAndValue(x, grad), $"{what} value");
        Same(g.ToArray(), grad, $"{what} gradient");
        Same(f(x).Value, c.Value(x), $"{what} Value");
        var (y, t) = Fn.Jvp(f, x, v);
        Same(y.Value, c.Jvp(x, v, out var tangent), $"{what} Jvp value");
        Same(t.Value, tangent, $"{what} Jvp tangent");
        var hv = new double[x.Length];
        c.Hvp(x, v, hv);
        Same(Fn.Hvp(f)(x, v).ToArray(), hv, $"{what} Hvp");
        if (hessian)
        {
            HessianBothWays(Fn.Hessian(f)(x).ToMatrix(), c, x, what, blocksExact: false);
        }
    }

    static double[] Random(Random r, int n, double lo, double hi) => Enumerable.Range(0, n).Select(_ => lo + (hi - lo) * r.NextDouble()).ToArray();

    /// <summary>The kernel's view: whether the path at x0 runs as IL, and how many straight-line nodes it has.</summary>
    static (bool Il, int Straight, int Nodes) Kernel(Func<Vec, Real> f, double[] x0)
    {
        var core = CompiledCore.Create("test", v => new[] { f(v) }, x0);
        var g = GraphRecorder.record("test", v => new[] { f(v) }, x0);
        var graph = ((Microsoft.FSharp.Core.FSharpChoice<Graph, Unsupported>.Choice1Of2)g).Item;
        return (core.IsCompiled, Loops.straightNodes(graph, Loops.find(graph)), graph.Count);
    }

    static Real CarriedProduct(Vec x)
    {
        Real p = 1.0;
        for (var i = 0; i < x.Length; i++) p = p * (1.0 + 0.1 * x[i]) + Real.Sin(x[i]);
        return p;
    }

    static Real Stride2(Vec x)
    {
        Real s = 0.0;
        for (var i = 0; i + 1 < x.Length; i += 2) s += x[i] * Real.Exp(0.5 * x[i + 1]);
        return s;
    }

    static Real AbsMax(Vec x)
    {
        Real s = 0.0;
        for (var i = 0; i + 1 < x.Length; i++)
        {
            var d = Real.Abs(x[i] - x[i + 1]) + Real.Max(x[i], 0.5);
            s = x[i] > -5 ? s + d * d : s - d;
        }
        return s;
    }

    static Real TwoLoops(Vec x)
    {
        Real s = 0.0;
        for (var i = 0; i < x.Length; i++) s += x[i] * x[i];
        Real p = 0.0;
        for (var i = 0; i < x.Length; i++) p += Real.Tanh(x[i] * s);
        return p;
    }

    /// <summary>Adds terms until the sum passes x[0]: the trip count depends on x (a guard per trip).</summary>
    static Real UntilPast(Vec x)
    {
        Real s = 0.0;
        var i = 1;
        while (s < x[0])
        {
            s += 0.5 + x[i] * x[i];
            i = i % (x.Length - 1) + 1;
        }
        return s * x[1];
    }

    public static TheoryData<string> Shapes => new() { "Rosenbrock", "carried product", "stride 2", "abs, max and a comparison", "two loops" };

    static Func<Vec, Real> Shape(string name) => name switch
    {
        "Rosenbrock" => RosenbrockLoop,
        "carried product" => CarriedProduct,
        "stride 2" => Stride2,
        "abs, max and a comparison" => AbsMax,
        _ => TwoLoops,
    };

    [Theory]
    [MemberData(nameof(Shapes))]
    public void RolledLoopsEqualEager(string name)
    {
        const int n = 40;
        var f = Shape(name);
        var r = new Random(name.Length);
        var x0 = Random(r, n, -2, 2);
        var (il, straight, nodes) = Kernel(f, x0);
        Assert.True(il, $"{name}: IL");
        Assert.True(straight < nodes / 3, $"{name}: {straight} straight-line nodes of {nodes}: the loop is rolled");
        var c = Fn.Compile(f, x0);
        for (var k = 0; k < 4; k++) AllEqualEager(f, c, Random(r, n, -2, 2), Random(r, n, -1, 1), $"{name}, point {k}");
        Assert.Equal(1, c.Recordings);
    }

    [Fact]
    public void ALoopOfOneTripEqualsEager()
    {
        var c = Fn.Compile(RosenbrockLoop, new[] { 0.5, 1.5 });
        var r = new Random(41);
        for (var k = 0; k < 4; k++) AllEqualEager(RosenbrockLoop, c, Random(r, 2, -2, 2), Random(r, 2, -1, 1), $"point {k}");
    }

    [Fact]
    public void ATripCountThatDependsOnXIsAGuardAndASecondPath()
    {
        const int n = 12;
        var r = new Random(43);
        var x0 = Random(r, n, 0.5, 1.0);
        x0[0] = 30; // about 30 trips
        var (il, straight, nodes) = Kernel(UntilPast, x0);
        Assert.True(il);
        Assert.True(straight < nodes / 3, $"{straight} straight-line nodes of {nodes}");
        var c = Fn.Compile(UntilPast, x0);
        var v = Random(r, n, -1, 1);
        AllEqualEager(UntilPast, c, x0, v, "x0");
        var near = (double[])x0.Clone();
        near[0] = 30.01; // the same trips
        AllEqualEager(UntilPast, c, near, v, "the same trip count");
        Assert.Equal(1, c.Recordings);
        var far = (double[])x0.Clone();
        far[0] = 45; // more trips: a guard fails
        AllEqualEager(UntilPast, c, far, v, "more trips");
        Assert.Equal(2, c.Recordings);
        AllEqualEager(UntilPast, c, x0, v, "x0 again");
        Assert.Equal(2, c.Recordings);
    }

    [Fact]
    public void RosenbrockAt100000RunsAsIlAndEqualsEager()
    {
        const int n = 100_000;
        var r = new Random(47);
        var x0 = Random(r, n, -2, 2);
        var (il, straight, nodes) = Kernel(RosenbrockLoop, x0);
        Assert.True(nodes > 50 * Compiler.MaxCompiledNodes, $"{nodes} nodes");
        Assert.True(il, "IL, not interpreted");
        Assert.True(straight < 100, $"{straight} straight-line nodes");
        var c = Fn.Compile(RosenbrockLoop, x0);
        var x = Random(r, n, -2, 2);
        var v = Random(r, n, -1, 1);
        AllEqualEager(RosenbrockLoop, c, x, v, "n = 10⁵", hessian: false);
    }

    [Fact]
    public void ALargeGraphWithoutLoopsIsStillInterpreted()
    {
        // a constant that changes every term: no two trips alike, so nothing to roll
        static Real Varying(Vec x)
        {
            Real s = 0.0;
            for (var i = 0; i + 1 < x.Length; i++) s += (100.0 + i) * Real.Square(x[i + 1] - x[i] * x[i]);
            return s;
        }
        const int n = 3000;
        var r = new Random(53);
        var x0 = Random(r, n, -1, 1);
        var (il, straight, _) = Kernel(Varying, x0);
        Assert.False(il, "interpreted");
        Assert.True(straight > Compiler.MaxCompiledNodes, $"{straight} straight-line nodes");
        var c = Fn.Compile(Varying, x0);
        AllEqualEager(Varying, c, Random(r, n, -1, 1), Random(r, n, -1, 1), "varying constants", hessian: false);
    }
    [Fact]
    public void AMidSizeStraightLineGraphRunsInterpretedUntilItsCallsPayForItsJit()
    {
        // Σ sin(xᵢ)·cᵢ, each cᵢ its own constant: nothing rolls, ~750 straight-line nodes, past
        // Compiler.EagerCompileNodes: the JIT would cost ~45 ms at x0, so the path is interpreted
        // until its calls have done the interpreter work that the JIT costs (Compiler.usesBeforeIL)
        static Real Varying(Vec x)
        {
            Real s = 0.0;
            for (var i = 0; i < x.Length; i++) s += Real.Sin(x[i]) * (1.0 + i * 1e-3);
            return s;
        }
        const int n = 250;
        var r = new Random(59);
        var x0 = Random(r, n, -1, 1);
        var (il, straight, nodes) = Kernel(Varying, x0);
        Assert.True(straight > Compiler.EagerCompileNodes && straight <= Compiler.MaxCompiledNodes, $"{straight} straight-line nodes");
        Assert.False(il, "not emitted at x0");
        var needed = Compiler.usesBeforeIL(straight, nodes);
        Assert.InRange(needed, 1000, 10_000);
        var core = CompiledCore.Create("test", v => new[] { Varying(v) }, x0);
        var x = Random(r, n, -1, 1);
        var (eagerGrad, eagerValue) = Fn.GradAndValue(Varying)(x);
        var grad = new double[n];
        for (var k = 1; k <= needed; k++)
        {
            Assert.False(core.IsCompiled, $"interpreted before use {k}");
            var value = 0.0;
            Assert.True(core.TryGradAndValue(x, grad, ref value));
            if (k == 1 || k == needed)
            {
                Same(eagerValue.Value, value, $"value at use {k}");
                Same(eagerGrad.ToArray(), grad, $"gradient at use {k}");
            }
        }
        Assert.True(core.IsCompiled, $"IL after {needed} uses");
        // a rolled loop is emitted at x0 whatever its size
        Assert.Equal(1, Compiler.usesBeforeIL(Compiler.EagerCompileNodes, 1));
        Assert.Equal(1, Compiler.usesBeforeIL(Compiler.EagerCompileNodes + 1, (int)Compiler.TierUpWork * (Compiler.EagerCompileNodes + 1)));
    }
}
