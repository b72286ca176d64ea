using Hybrid.Interop;
using Hybrid.Kernel;
using MathNet.Numerics.LinearAlgebra;
using MathNet.Numerics.Optimization;
using MathNet.Numerics.Optimization.TrustRegion;
using Xunit;
using static Hybrid.Tests.TestFunctions;

namespace Hybrid.Tests;

/// <summary>MathNet's minimisers on Hybrid's exact derivatives through <see cref="MathNetObjective"/>.</summary>
public class MathNetObjectiveTests
{
    static Vector<double> V(params double[] x) => Vector<double>.Build.Dense(x);

    // A convex quadratic ½xᵀAx − bᵀx with A symmetric positive definite; its minimiser solves Ax = b.
    static readonly double[,] A = { { 4, 1, 0.5 }, { 1, 3, -0.5 }, { 0.5, -0.5, 2 } };
    static readonly double[] B = { 1, -2, 3 };
    static Real Quadratic(Vec x)
    {
        Real s = 0.0;
        for (var i = 0; i < 3; i++)
        {
            for (var j = 0; j < 3; j++) s += 0.5 * A[i, j] * x[i] * x[j];
            s -= B[i] * x[i];
        }
        return s;
    }
    static Vector<double> QuadraticMinimiser => Matrix<double>.Build.DenseOfArray(A).Solve(V(B));

    public static TheoryData<string> Minimizers => new() { "BFGS", "L-BFGS", "Newton", "Newton with line search" };

    static MinimizationResult Minimize(string name, IObjectiveFunction objective, Vector<double> x0) => name switch
    {
        "BFGS" => new BfgsMinimizer(1e-10, 1e-12, 1e-14, 1000).FindMinimum(objective, x0),
        "L-BFGS" => new LimitedMemoryBfgsMinimizer(1e-10, 1e-12, 1e-14, 5, 1000).FindMinimum(objective, x0),
        "Newton" => new NewtonMinimizer(1e-10, 100).FindMinimum(objective, x0),
        "Newton with line search" => new NewtonMinimizer(1e-10, 100, useLineSearch: true).FindMinimum(objective, x0),
        _ => throw new ArgumentException(name),
    };

    [Theory]
    [MemberData(nameof(Minimizers))]
    public void ConvergesOnRosenbrock(string minimizer)
    {
        var objective = MathNetObjective.Create(RosenbrockLoop);
        var r = Minimize(minimizer, objective, V(-1.2, 1.0));
        Assert.Equal(1.0, r.MinimizingPoint[0], 6);
        Assert.Equal(1.0, r.MinimizingPoint[1], 6);
        Assert.True(r.FunctionInfoAtMinimum.Value < 1e-12, $"f = {r.FunctionInfoAtMinimum.Value}");
        Assert.True(objective.GradientEvaluations > 0);
        if (minimizer.StartsWith("Newton")) Assert.True(objective.HessianEvaluations > 0);
        else Assert.Equal(0, objective.HessianEvaluations);
    }

    [Theory]
    [MemberData(nameof(Minimizers))]
    public void ConvergesOnAConvexQuadratic(string minimizer)
    {
        var r = Minimize(minimizer, MathNetObjective.Create(Quadratic), V(0, 0, 0));
        var expected = QuadraticMinimiser;
        for (var i = 0; i < 3; i++) Assert.Equal(expected[i], r.MinimizingPoint[i], 8);
    }

    [Fact]
    public void NewtonSolvesTheQuadraticInOneStep()
    {
        var objective = MathNetObjective.Create(Quadratic);
        var r = new NewtonMinimizer(1e-10, 100).FindMinimum(objective, V(0, 0, 0));
        Assert.Equal(1, r.Iterations);   // an exact Hessian makes one Newton step exact on a quadratic
    }

    [Fact]
    public void GradientAndHessianEqualHybridsAndTheClosedForm()
    {
        var x = new[] { -1.2, 1.0, 0.5 };
        var objective = MathNetObjective.Create(RosenbrockLoop);
        objective.EvaluateAt(V(x));
        Assert.Equal(RosenbrockLoop(new Vec(x)).Value, objective.Value);
        Assert.Equal((double[])Fn.Grad(RosenbrockLoop)(x), objective.Gradient.ToArray());
        Assert.Equal(Fn.Hessian(RosenbrockLoop)(x).ToMatrix().ToArray(), objective.Hessian.ToArray());
        var g = RosenbrockGrad(x);
        var h = RosenbrockHessian(x);
        for (var i = 0; i < 3; i++)
        {
            Assert.Equal(g[i], objective.Gradient[i], 10);
            for (var j = 0; j < 3; j++) Assert.Equal(h[i, j], objective.Hessian[i, j], 10);
        }
        Assert.True(objective.IsGradientSupported);
        Assert.True(objective.IsHessianSupported);
    }

    [Fact]
    public void EvaluatesLazilyOncePerPointAndCountsAcrossForks()
    {
        var calls = 0;
        var objective = MathNetObjective.Create(x => { calls++; return Vec.Dot(x, x); });
        objective.EvaluateAt(V(1, 2));
        Assert.Equal(0, calls);
        _ = objective.Gradient;
        _ = objective.Gradient;
        _ = objective.Value;       // came with the gradient
        Assert.Equal(1, calls);
        Assert.Equal((1, 1, 0), (objective.ValueEvaluations, objective.GradientEvaluations, objective.HessianEvaluations));
        var fork = objective.Fork();
        Assert.Equal(new[] { 2.0, 4.0 }, fork.Gradient.ToArray());   // carried over, not recomputed
        fork.EvaluateAt(V(3, 0));
        Assert.Equal(9.0, fork.Value);
        Assert.Equal(new[] { 2.0, 4.0 }, objective.Gradient.ToArray()); // the original stays at its point
        Assert.Equal(2, objective.ValueEvaluations);
        Assert.Equal(new[,] { { 2.0, 0.0 }, { 0.0, 2.0 } }, objective.Hessian.ToArray());
        Assert.Equal(1, objective.HessianEvaluations);
        var fresh = objective.CreateNew();
        Assert.Throws<InvalidOperationException>(() => fresh.Value);
    }

    [Fact]
    public void BadArgumentsThrowClearly()
    {
        var e = Assert.Throws<ArgumentNullException>(() => MathNetObjective.Create(null!));
        Assert.Contains("MathNetObjective.Create", e.Message);
        var objective = MathNetObjective.Create(x => Vec.Dot(x, x));
        var notYet = Assert.Throws<InvalidOperationException>(() => objective.Gradient);
        Assert.Contains("EvaluateAt", notYet.Message);
        Assert.Throws<ArgumentException>(() => objective.EvaluateAt(Vector<double>.Build.Dense(0)));
        var lengths = Assert.Throws<ArgumentException>(() => MathNetObjective.LeastSquares((p, t) => p * t, V(1, 2), V(1, 2, 3)));
        Assert.Contains("observedX has 2 entries but observedY has 3", lengths.Message);
    }

    // ---- least squares: MathNet's trust-region minimisers take an IObjectiveModel (residual model + Jacobian)

    /// <summary>Rosenbrock as ½‖r‖² with r = (10(x₁ − x₀²), 1 − x₀) fitted to y = 0: f = ½·Rosenbrock.</summary>
    static IObjectiveModel RosenbrockModel() =>
        MathNetObjective.LeastSquares((p, _) => Vec.OfReals(new[] { 10.0 * (p[1] - p[0] * p[0]), 1.0 - p[0] }), V(0, 1), V(0, 0));

    /// <summary>The quadratic ½‖Mp − y‖² (linear residuals), minimised by the normal equations.</summary>
    static readonly double[,] M = { { 1, 0.5 }, { 1, 1.5 }, { 1, 2.5 }, { 1, 4.0 } };
    static readonly double[] Y = { 1.1, 1.9, 3.2, 4.8 };
    static IObjectiveModel LinearModel() =>
        MathNetObjective.LeastSquares((p, t) => p[0] + p[1] * t, V(0.5, 1.5, 2.5, 4.0), V(Y));

    public static TheoryData<string> LeastSquaresMinimizers => new() { "TrustRegionDogLeg", "TrustRegionNewtonCG", "LevenbergMarquardt" };

    static NonlinearMinimizationResult Fit(string name, IObjectiveModel model, Vector<double> x0) => name switch
    {
        "TrustRegionDogLeg" => new TrustRegionDogLegMinimizer(1e-12, 1e-12, 1e-14, 1e-12, 500).FindMinimum(model, x0),
        "TrustRegionNewtonCG" => new TrustRegionNewtonCGMinimizer(1e-12, 1e-12, 1e-14, 1e-12, 500).FindMinimum(model, x0),
        "LevenbergMarquardt" => new LevenbergMarquardtMinimizer(1e-3, 1e-12, 1e-12, 1e-14, 500).FindMinimum(model, x0),
        _ => throw new ArgumentException(name),
    };

    [Theory]
    [MemberData(nameof(LeastSquaresMinimizers))]
    public void TrustRegionConvergesOnRosenbrock(string minimizer)
    {
        var model = RosenbrockModel();
        var r = Fit(minimizer, model, V(-1.2, 1.0));
        Assert.Equal(1.0, r.MinimizingPoint[0], 6);
        Assert.Equal(1.0, r.MinimizingPoint[1], 6);
        Assert.True(model.JacobianEvaluations > 0);
    }

    [Theory]
    [MemberData(nameof(LeastSquaresMinimizers))]
    public void TrustRegionConvergesOnAConvexQuadratic(string minimizer)
    {
        var m = Matrix<double>.Build.DenseOfArray(M);
        var expected = m.TransposeThisAndMultiply(m).Solve(m.TransposeThisAndMultiply(V(Y)));
        var r = Fit(minimizer, LinearModel(), V(0, 0));
        Assert.Equal(expected[0], r.MinimizingPoint[0], 8);
        Assert.Equal(expected[1], r.MinimizingPoint[1], 8);
    }

    [Fact]
    public void LeastSquaresJacobianIsHybridsExactJacobian()
    {
        var model = RosenbrockModel();
        model.EvaluateAt(V(-1.2, 1.0));
        Assert.Equal(24.2, model.Value, 10);   // MathNet's value is the residual sum of squares ‖r‖² = Rosenbrock(−1.2, 1)
        // J = [[−20x₀, 10], [−1, 0]] at x₀ = −1.2 = [[24, 10], [−1, 0]]; MathNet forms JᵀJ from it and
        // the gradient Jᵀr = ½∇Rosenbrock (its sign convention is y − m; compare magnitudes).
        var h = model.Hessian;
        Assert.Equal(24.0 * 24.0 + 1.0, h[0, 0], 10);
        Assert.Equal(240.0, h[0, 1], 10);
        Assert.Equal(100.0, h[1, 1], 10);
        var g = RosenbrockGrad(new[] { -1.2, 1.0 });
        Assert.Equal(Math.Abs(0.5 * g[0]), Math.Abs(model.Gradient[0]), 10);
        Assert.Equal(Math.Abs(0.5 * g[1]), Math.Abs(model.Gradient[1]), 10);
    }
}
