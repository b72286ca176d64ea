using Hybrid.Kernel;
using MathNet.Numerics.LinearAlgebra;
using Xunit;
using Xunit.Sdk;
using static Hybrid.Tests.TestFunctions;
using static Hybrid.Tests.CompiledAssert;

namespace Hybrid.Tests;

/// <summary>
/// The Newton solvers compile f once per problem (NewtonOptions.Compile, the default): the iterates and
/// the result are bitwise those of the eager solver (compile off), f is recorded once (plus once per new
/// path a guard finds), the eager path runs where f cannot be compiled or inside another transform, and
/// Fn.Grad / GradAndValue / Hvp / Hessian of a compiled function equal the eager transforms bitwise.
/// </summary>
public class CompiledSolverTests
{
    static readonly NewtonOptions Eager = new() { Compile = false };

    /// <summary>f with a counter of its calls (a call is a recording or a plain evaluation).</summary>
    sealed class Counted(Func<Vec, Real> f)
    {
        public int Calls;
        public Real Invoke(Vec x) { Calls++; return f(x); }
    }

    /// <summary>Every entry of both histories, field by field, to the last bit.</summary>
    static void SameHistory(IReadOnlyList<NewtonIteration> eager, IReadOnlyList<NewtonIteration> compiled)
    {
        Assert.Equal(eager.Count, compiled.Count);
        for (var k = 0; k < eager.Count; k++)
        {
            var (e, c) = (eager[k], compiled[k]);
            var at = $"iteration {k}";
            Bitwise(e.Value, c.Value, $"{at} value");
            Bitwise(e.GradientNorm, c.GradientNorm, $"{at} gradient norm");
            Bitwise(e.StepSize, c.StepSize, $"{at} step size");
            Bitwise(e.StepNorm, c.StepNorm, $"{at} step norm");
            Bitwise(e.Tau, c.Tau, $"{at} τ");
            Assert.Equal(e.LineSearchTrials, c.LineSearchTrials);
            Assert.Equal(e.InnerIterations, c.InnerIterations);
            Bitwise(e.X, c.X, $"{at} x");
        }
    }

    static void Same(NewtonResult eager, NewtonResult compiled)
    {
        SameHistory(eager.History, compiled.History);
        Bitwise(eager.Solution, compiled.Solution, "solution");
        Bitwise(eager.Value, compiled.Value, "value");
        Bitwise(eager.GradientNorm, compiled.GradientNorm, "gradient norm");
        Assert.Equal(eager.Iterations, compiled.Iterations);
        Assert.Equal(eager.Termination, compiled.Termination);
        Assert.Equal(eager.Message, compiled.Message);
    }

    static void Same(NewtonSolveResult eager, NewtonSolveResult compiled)
    {
        SameHistory(eager.History, compiled.History);
        Bitwise(eager.Solution, compiled.Solution, "solution");
        Bitwise(eager.Residual, compiled.Residual, "residual");
        Assert.Equal(eager.Iterations, compiled.Iterations);
        Assert.Equal(eager.Termination, compiled.Termination);
        Assert.Equal(eager.Message, compiled.Message);
    }

    delegate NewtonResult Minimizer(Func<Vec, Real> f, Vec x0, NewtonOptions? o);

    static Minimizer Solver(string name) => name == "dense" ? Newton.Minimize : Newton.MinimizeCG;

    /// <summary>
    /// The dense solver's compiled Hessian by the block passes (bitwise the eager tape's), so its
    /// iterates are bitwise the eager solver's; by default it is edge pushing's, equal to rounding
    /// (<see cref="TheDenseSolverByEdgePushingTakesTheSameIterationsToRounding"/>).
    /// </summary>
    static NewtonResult Blocks(string solver, Func<NewtonResult> run) => solver == "dense" ? Forced(2, run) : run();

    [Theory]
    [InlineData(2)]
    [InlineData(12)]
    public void TheDenseSolverByEdgePushingTakesTheSameIterationsToRounding(int n)
    {
        var x0 = Enumerable.Range(0, n).Select(i => i % 2 == 0 ? -1.2 : 1.0).ToArray();
        var options = new NewtonOptions { MaxIterations = 1000 };
        var eager = Newton.Minimize(RosenbrockLoop, x0, options with { Compile = false });
        var compiled = Newton.Minimize(RosenbrockLoop, x0, options);
        Assert.True(compiled.Converged, compiled.Message);
        Assert.True(compiled.Compiled, compiled.NotCompiledReason);
        Assert.Equal(eager.Iterations, compiled.Iterations);
        Assert.Equal(eager.Termination, compiled.Termination);
        Assert.Equal(eager.History.Select(h => h.LineSearchTrials), compiled.History.Select(h => h.LineSearchTrials));
        // iterates drift apart by rounding (measured: 1e-13 of the step at iteration 11, 1e-12 at 18 for n = 12)
        for (var k = 0; k < eager.History.Count; k++)
            for (var i = 0; i < n; i++)
                Assert.True(Math.Abs(eager.History[k].X![i] - compiled.History[k].X![i]) <= 1e-10, $"iteration {k} x[{i}]");
        for (var i = 0; i < n; i++) Assert.Equal(eager.Solution[i], compiled.Solution[i], 1e-12);
    }

    /// <summary>
    /// A piecewise objective whose pieces change along the iterates: Σ huber(xᵢ − cᵢ) (quadratic inside
    /// |r| &lt; 1, linear outside, a comparison of Reals: a guard) plus a smooth coupling that keeps the
    /// Hessian positive definite.
    /// </summary>
    static Real Branchy(Vec x)
    {
        Real s = 0.0;
        for (var i = 0; i < x.Length; i++)
        {
            var r = x[i] - 0.5 * (i + 1);
            s += r * r < 1.0 ? 0.5 * r * r : Real.Abs(r) - 0.5;
            s += 0.1 * x[i] * x[i] + 0.05 * Real.Exp(0.3 * x[i]);
            if (i > 0) s += 0.02 * x[i] * x[i - 1];
        }
        return s;
    }

    static double[] BranchyStart(int n) => Enumerable.Range(0, n).Select(i => i % 2 == 0 ? -6.0 + i : 7.0 - i).ToArray();

    [Theory]
    [InlineData("dense", 2)]
    [InlineData("dense", 12)]
    [InlineData("cg", 2)]
    [InlineData("cg", 12)]
    public void RosenbrockGivesTheEagerIteratesAndRecordsOnce(string solver, int n)
    {
        var x0 = Enumerable.Range(0, n).Select(i => i % 2 == 0 ? -1.2 : 1.0).ToArray();
        var eagerF = new Counted(RosenbrockLoop);
        var compiledF = new Counted(RosenbrockLoop);
        var options = new NewtonOptions { MaxIterations = 1000 };
        var eager = Solver(solver)(eagerF.Invoke, x0, options with { Compile = false });
        var compiled = Blocks(solver, () => Solver(solver)(compiledF.Invoke, x0, options));

        Assert.True(compiled.Converged, compiled.Message);
        Same(eager, compiled);
        Assert.True(compiled.Compiled, compiled.NotCompiledReason);
        Assert.Null(compiled.NotCompiledReason);
        Assert.Equal(1, compiled.Recordings);
        Assert.Equal(1, compiledF.Calls); // the recording at x0; every other value and derivative is compiled code

        // compile off: one recording per iterate and one plain call per line-search trial
        Assert.False(eager.Compiled);
        Assert.Contains("options.Compile is false", eager.NotCompiledReason);
        Assert.True(eager.Recordings >= eager.Iterations + 1, $"{eager.Recordings} recordings for {eager.Iterations} iterations");
        var trials = eager.History.Sum(h => h.LineSearchTrials);
        Assert.Equal(eager.Recordings + trials, eagerF.Calls);
        Assert.True(eager.Iterations >= 5, $"{eager.Iterations} iterations");
    }

    [Theory]
    [InlineData("dense")]
    [InlineData("cg")]
    public void ABranchyObjectiveRecordsOnePathPerPieceAndStillGivesTheEagerIterates(string solver)
    {
        var x0 = BranchyStart(6);
        var eagerF = new Counted(Branchy);
        var compiledF = new Counted(Branchy);
        var eager = Solver(solver)(eagerF.Invoke, x0, Eager);
        var compiled = Blocks(solver, () => Solver(solver)(compiledF.Invoke, x0, null));

        Assert.True(compiled.Converged, compiled.Message);
        Same(eager, compiled);
        Assert.True(compiled.Compiled, compiled.NotCompiledReason);
        // the guards fired: more than one path, but never more recordings than the eager solver made
        Assert.InRange(compiled.Recordings, 2, eager.Recordings);
        Assert.True(compiled.Recordings < eager.Recordings, $"compiled {compiled.Recordings}, eager {eager.Recordings}");
        // f runs for each recording and for line-search trials off every kept path, no more
        var trials = compiled.History.Sum(h => h.LineSearchTrials);
        Assert.InRange(compiledF.Calls, compiled.Recordings, compiled.Recordings + trials);
        Assert.Equal(eager.Recordings + eager.History.Sum(h => h.LineSearchTrials), eagerF.Calls);
    }

    [Theory]
    [InlineData("dense")]
    [InlineData("cg")]
    public void AnObjectiveWithVectorPrimitivesIsCompiledWithTheSameResult(string solver)
    {
        var problem = new NewtonProblems.Convex(5, 11);
        var x0 = new[] { 0.5, -0.3, 1.0, 0.2, -1.0 };
        var eager = Solver(solver)(problem.F, x0, Eager);
        var compiled = Blocks(solver, () => Solver(solver)(problem.F, x0, null));

        Assert.True(compiled.Converged, compiled.Message);
        Same(eager, compiled);
        Assert.True(compiled.Compiled, compiled.NotCompiledReason);
        Assert.Null(compiled.NotCompiledReason);
        Assert.True(compiled.Recordings < eager.Recordings, $"compiled {compiled.Recordings}, eager {eager.Recordings}");
    }

    [Theory]
    [InlineData("dense")]
    [InlineData("cg")]
    public void AnObjectiveWithAMatrixProductIsCompiledWithTheSameIterates(string solver)
    {
        // ½ xᵀMx + Σ eˣ with M = I + 0.1·11ᵀ: M * x is a matrix product, one node of the compiled graph
        const int n = 4;
        var a = new double[n, n];
        for (var i = 0; i < n; i++)
            for (var j = 0; j < n; j++) a[i, j] = (i == j ? 1.0 : 0.0) + 0.1;
        var m = new Mat(a);
        Real F(Vec x) => 0.5 * Vec.Dot(x, m * x) + Vec.Sum(Vec.Exp(x));
        var x0 = new[] { 0.5, -0.3, 1.0, 0.2 };
        var eager = Solver(solver)(F, x0, Eager);
        var compiled = Blocks(solver, () => Solver(solver)(F, x0, null));

        Assert.True(compiled.Converged, compiled.Message);
        Same(eager, compiled);
        Assert.True(compiled.Compiled, compiled.NotCompiledReason);
        Assert.Null(compiled.NotCompiledReason);
        Assert.Equal(1, compiled.Recordings);
    }

    [Theory]
    [InlineData("dense")]
    [InlineData("cg")]
    public void TheLogisticNllIsCompiledWithTheEagerIterates(string solver)
    {
        // issue 3's model on small data: Σ log(1 + eᶻ) − yᵀz + ½‖w‖², z = Xw (a product, then the
        // elementwise loss with the data vector y)
        var r = new Random(31);
        var xm = Mat.Wrap(Matrix<double>.Build.Dense(200, 6, (_, _) => r.NextDouble() * 2 - 1));
        var y = new Vec(Enumerable.Range(0, 200).Select(_ => r.NextDouble() < 0.5 ? 1.0 : 0.0).ToArray());
        Real F(Vec w)
        {
            var z = xm * w;
            return Vec.Sum(Vec.LogP1(Vec.Exp(z))) - Vec.Dot(y, z) + 0.5 * Vec.Dot(w, w);
        }
        var w0 = new double[6];
        var eager = Solver(solver)(F, w0, Eager);
        var compiled = Blocks(solver, () => Solver(solver)(F, w0, null));

        Assert.True(compiled.Converged, compiled.Message);
        Same(eager, compiled);
        Assert.True(compiled.Compiled, compiled.NotCompiledReason);
        Assert.Equal(1, compiled.Recordings);
        Assert.True(eager.Iterations >= 3, $"{eager.Iterations} iterations");
    }

    [Fact]
    public void InsideAnotherTransformTheSolverUsesTheEagerTransforms()
    {
        NewtonResult? inner = null;
        // d/da of the minimiser's value min_x (x − a)² + x⁴: the solver runs on the primal values of a
        var g = Fn.Grad((Real a) =>
        {
            var av = a.Value;
            inner = Newton.Minimize((Vec x) => (x[0] - av) * (x[0] - av) + x[0] * x[0] * x[0] * x[0], new[] { 0.0 });
            return a * inner.Solution[0];
        })(1.5);
        Assert.NotNull(inner);
        Assert.True(inner!.Converged, inner.Message);
        Assert.False(inner.Compiled);
        Assert.Contains("inside another transform", inner.NotCompiledReason);
        Assert.Equal(inner.Iterations + 1, inner.Recordings);
        var top = Newton.Minimize((Vec x) => (x[0] - 1.5) * (x[0] - 1.5) + x[0] * x[0] * x[0] * x[0], new[] { 0.0 });
        Assert.True(top.Compiled, top.NotCompiledReason);
        Bitwise(top.Solution, inner.Solution, "solution inside Fn.Grad");
        Bitwise(top.Solution[0], g.Value, "the outer gradient");
    }

    static Vec Circle(Vec x) => Vec.OfReals(new[]
    {
        x[0] * x[0] + x[1] * x[1] - 4.0,
        Real.Exp(x[0]) + x[1] - 1.0 + 0.1 * x[2] * x[2],
        x[2] > 0.5 ? x[2] * x[2] * x[2] - x[0] : x[2] - 0.5 * x[0] - 0.3125,
    });

    [Theory]
    [InlineData(-1.0, 1.5, -2.0)]
    [InlineData(1.0, -1.0, 3.0)]
    public void SolveGivesTheEagerIteratesFromTheCompiledJacobian(double a, double b, double c)
    {
        var x0 = new[] { a, b, c };
        var eagerCalls = 0;
        var compiledCalls = 0;
        var eager = Newton.Solve(x => { eagerCalls++; return Circle(x); }, x0, Eager);
        var compiled = Newton.Solve(x => { compiledCalls++; return Circle(x); }, x0);

        Assert.True(compiled.Converged, compiled.Message);
        Same(eager, compiled);
        Assert.True(compiled.Compiled, compiled.NotCompiledReason);
        Assert.InRange(compiled.Recordings, 1, 2); // x₂ crosses 0.5 from one start
        Assert.False(eager.Compiled);
        Assert.Equal(eager.Iterations + 1, eager.Recordings);
        Assert.Equal(eager.Recordings + 1 + eager.History.Sum(h => h.LineSearchTrials), eagerCalls); // + F(x0)
        Assert.InRange(compiledCalls, compiled.Recordings, compiled.Recordings + compiled.History.Sum(h => h.LineSearchTrials));
    }

    [Theory]
    [InlineData("dense")]
    [InlineData("cg")]
    public void AnObjectiveWithACustomRuleIsCompiledWithTheSameIterates(string solver)
    {
        // a custom rule is one node of the compiled graph calling its f and rule at each point
        var softplus = Fn.CustomJvp((Vec x) => new Vec(x.ToArray().Select(v => Math.Log(1 + Math.Exp(v))).ToArray()),
                                    (x, dx) => dx / (1.0 + Vec.Exp(-x)));
        Real F(Vec x) => Vec.Sum(softplus(x)) + 0.5 * Vec.Dot(x, x) - x[0];
        var x0 = new[] { 0.5, -0.3, 1.0 };
        var eager = Solver(solver)(F, x0, Eager);
        var compiled = Blocks(solver, () => Solver(solver)(F, x0, null));

        Assert.True(compiled.Converged, compiled.Message);
        Same(eager, compiled);
        Assert.True(compiled.Compiled, compiled.NotCompiledReason);
        Assert.Equal(1, compiled.Recordings);
    }

    [Theory]
    [InlineData("dense")]
    [InlineData("cg")]
    public void AnObjectiveThatReadsATracedVectorsValuesRunsEagerlyWithTheSameResultAndSaysWhy(string solver)
    {
        // ToArray of a traced Vec is a read no guard can express: the solver falls back by itself
        Real F(Vec x) => Vec.Sum(Vec.LogP1(Vec.Exp(x))) + 0.5 * Vec.Dot(x, x) - x[0] + 0.0 * x.ToArray()[0];
        var x0 = new[] { 0.5, -0.3, 1.0 };
        var eager = Solver(solver)(F, x0, Eager);
        var compiled = Solver(solver)(F, x0, null);

        Assert.True(compiled.Converged, compiled.Message);
        Same(eager, compiled);
        Assert.False(compiled.Compiled);
        Assert.Contains("ToArray", compiled.NotCompiledReason);
        Assert.StartsWith(solver == "dense" ? "Newton.Minimize:" : "Newton.MinimizeCG:", compiled.NotCompiledReason);
        // the attempt at x0, then one eager recording per iterate as with compile off
        Assert.Equal(eager.Recordings + 1, compiled.Recordings);
    }

    [Fact]
    public void SolveOfASystemWithAMatrixProductIsCompiledWithTheSameIterates()
    {
        var m = new Mat(new[,] { { 3.0, 1.0 }, { 1.0, 2.0 } });
        Vec F(Vec x) => m * x + Vec.Exp(x) - new Vec(new[] { 2.0, 1.0 });
        var options = new NewtonOptions { ResidualTolerance = 1e-9 };
        var eager = Newton.Solve(F, new[] { 1.0, 1.0 }, options with { Compile = false });
        var compiled = Newton.Solve(F, new[] { 1.0, 1.0 }, options);
        Assert.True(compiled.Converged, compiled.Message);
        Same(eager, compiled);
        Assert.True(compiled.Compiled, compiled.NotCompiledReason); // m * x is a matrix node
        Assert.Equal(1, compiled.Recordings);
    }

    [Fact]
    public void AnExceptionOfFLooksTheSameCompiledOrNot()
    {
        // f throws beyond x₀ = 7; the first full Newton step from 0 lands at 10
        static Real F(Vec x) => x[0] > 7.0 ? throw new ArgumentOutOfRangeException(nameof(x), "f is defined for x ≤ 7 only") : (x[0] - 10.0) * (x[0] - 10.0);
        foreach (var solver in new[] { "dense", "cg" })
        {
            var eager = Assert.Throws<ArgumentOutOfRangeException>(() => Solver(solver)(F, new[] { 0.0 }, Eager));
            var compiled = Assert.Throws<ArgumentOutOfRangeException>(() => Solver(solver)(F, new[] { 0.0 }, null));
            Assert.Equal(eager.Message, compiled.Message);
        }
        // thrown while a compiled function records a new path: the same exception, unwrapped
        var c = Fn.Compile(F, new[] { 0.0 });
        var e = Assert.Throws<ArgumentOutOfRangeException>(() => Fn.Hessian(c)(new[] { 8.0 }));
        Assert.StartsWith("f is defined for x ≤ 7 only", e.Message);
    }

    [Fact]
    public void GuardsFailingAtRejectedLineSearchTrialsDoNotRecord()
    {
        // Newton on √(1 + (x − 1)²) from x = 3 overshoots to x = −7, then −2, before x = 0.5 is accepted;
        // x < 0 is another branch of f (rejected by its +100): those trials are plain evaluations of f
        var calls = 0;
        Real F(Vec x)
        {
            calls++;
            var r = x[0] - 1.0;
            var s = Real.Sqrt(1.0 + r * r);
            return x[0] < 0.0 ? s + 100.0 : s;
        }
        var eager = Newton.Minimize(F, new[] { 3.0 }, Eager);
        calls = 0;
        var compiled = Newton.Minimize(F, new[] { 3.0 });
        Assert.True(compiled.Converged, compiled.Message);
        Same(eager, compiled);
        Assert.Equal(3, compiled.History[1].LineSearchTrials);
        Bitwise(0.5, compiled.History[1].X[0], "the first accepted point");
        Assert.Equal(1, compiled.Recordings);
        Assert.Equal(3, calls); // the recording at x0 and the two trials at x < 0
        Assert.Equal(eager.Iterations + 1, eager.Recordings);
    }

    // ------------------------------------------------------------------------------------ Fn over a compiled function

    [Theory]
    [InlineData(3)]
    [InlineData(9)]
    public void HvpHessianGradOfACompiledFunctionEqualTheEagerTransforms(int n)
    {
        var r = new Random(n);
        double[] Point() => Enumerable.Range(0, n).Select(_ => 4 * r.NextDouble() - 2).ToArray();
        foreach (var f in new Func<Vec, Real>[] { RosenbrockLoop, Branchy })
        {
            var calls = 0;
            Real Counted(Vec x) { calls++; return f(x); }
            var c = Fn.Compile(Counted, Point());
            var hessian = Fn.Hessian(c);
            var hvp = Fn.Hvp(c);
            var grad = Fn.Grad(c);
            var gradAndValue = Fn.GradAndValue(c);
            for (var k = 0; k < 8; k++)
            {
                var x = Point();
                var v = Point();
                var at = $"point {k}";
                Bitwise(Fn.Hessian(f)(x).ToMatrix(), Forced(2, () => hessian(x)).ToMatrix(), $"{at} Hessian (block passes)");
                SameHessian(Fn.Hessian(f)(x).ToMatrix(), hessian(x).ToMatrix(), $"{at} Hessian");
                Bitwise(Fn.Hvp(f)(x, v).ToArray(), hvp(x, v).ToArray(), $"{at} Hvp");
                Bitwise(Fn.Grad(f)(x).ToArray(), grad(x).ToArray(), $"{at} Grad");
                var (eg, ev) = Fn.GradAndValue(f)(x);
                var (cg, cv) = gradAndValue(x);
                Bitwise(eg.ToArray(), cg.ToArray(), $"{at} GradAndValue grad");
                Bitwise(ev.Value, cv.Value, $"{at} GradAndValue value");
                var h = hessian(x).ToMatrix();
                Bitwise(h, h.Transpose(), $"{at} symmetric");
            }
            // Rosenbrock has no branch: one recording for 8 points × 5 transforms; Branchy one per piece pattern met
            Assert.Equal(c.Recordings, calls);
            if (f == RosenbrockLoop) Assert.Equal(1, calls);
        }
    }

    [Fact]
    public void TransformsOfACompiledFunctionRefuseVectorFunctionsAndOtherTransforms()
    {
        var vector = Fn.Compile((Vec x) => x * x, new[] { 1.0, 2.0 });
        foreach (var (owner, call) in new (string, Action)[]
        {
            ("Fn.Hessian", () => Fn.Hessian(vector)),
            ("Fn.Hvp", () => Fn.Hvp(vector)),
            ("Fn.Grad", () => Fn.Grad(vector)),
            ("Fn.GradAndValue", () => Fn.GradAndValue(vector)),
        })
        {
            var e = Assert.Throws<ArgumentException>(call);
            Assert.StartsWith($"{owner}: f is a compiled vector function (ℝ^2 → ℝ^2)", e.Message);
            Assert.Contains("Compile a Func<Vec, Real>", e.Message);
        }

        var c = Fn.Compile(RosenbrockLoop, new[] { 1.0, 2.0 });
        var inside = Assert.Throws<InvalidOperationException>(() => Fn.Grad((Vec y) => Fn.Hessian(c)(y)[0, 0])(new[] { 1.0, 2.0 }));
        Assert.StartsWith("Fn.Hessian: a compiled function works on doubles at the top level", inside.Message);
        var hvp = Assert.Throws<InvalidOperationException>(() => Fn.Grad((Vec y) => Fn.Hvp(c)(new[] { 1.0, 2.0 }, y)[0])(new[] { 1.0, 0.0 }));
        Assert.StartsWith("Fn.Hvp: a compiled function works on doubles", hvp.Message);
        var length = Assert.Throws<ArgumentException>(() => Fn.Grad(c)(new[] { 1.0, 2.0, 3.0 }));
        Assert.Contains("x has length 3 but the function was compiled at an x0 of length 2", length.Message);
        Assert.Throws<ArgumentNullException>(() => Fn.Hessian((CompiledFunction)null!));
    }
}
