using Hybrid.Kernel;
using MathNet.Numerics.LinearAlgebra;
using MathNet.Numerics.Optimization;

namespace Hybrid.Interop;

/// <summary>
/// A Hybrid function as a MathNet.Numerics objective, so MathNet's minimisers run on exact derivatives
/// instead of hand-written ones or finite differences.
/// <list type="bullet">
/// <item><see cref="Create"/>: f: ℝⁿ → ℝ as an <see cref="IObjectiveFunction"/> with value, exact gradient
/// (<see cref="Fn.GradAndValue(Func{Vec, Real})"/>, one reverse pass) and exact Hessian
/// (<see cref="Fn.Hessian(Func{Vec, Real})"/>), for <see cref="BfgsMinimizer"/>,
/// <see cref="LimitedMemoryBfgsMinimizer"/>, <see cref="BfgsBMinimizer"/>, <see cref="ConjugateGradientMinimizer"/>
/// and <see cref="NewtonMinimizer"/>.</item>
/// <item><see cref="LeastSquares"/>: a model y ≈ m(p; x) as an <see cref="IObjectiveModel"/> with the exact
/// Jacobian ∂m/∂p (<see cref="Fn.Jacobian(Func{Vec, Vec})"/>), for MathNet's trust-region minimisers
/// (<c>TrustRegionDogLegMinimizer</c>, <c>TrustRegionNewtonCGMinimizer</c>) and
/// <see cref="LevenbergMarquardtMinimizer"/>, which in MathNet 5 minimise sums of squares.</item>
/// </list>
/// <para>
/// The objective is lazy, as MathNet's own are: <see cref="EvaluateAt"/> only stores the point; the value,
/// the gradient and the Hessian are computed when first read there and kept until the next point. Reading
/// <see cref="Gradient"/> computes the value too (one pass gives both). <see cref="ValueEvaluations"/>,
/// <see cref="GradientEvaluations"/> and <see cref="HessianEvaluations"/> count the work, summed over
/// every <see cref="Fork"/> of one objective (MathNet's line searches fork).
/// </para>
/// </summary>
/// <example>
/// <code>
/// var objective = MathNetObjective.Create(x => Vec.Sum(Vec.Square(x - 3.0)));
/// var result = new BfgsMinimizer(1e-10, 1e-10, 1e-10).FindMinimum(objective, Vector&lt;double&gt;.Build.Dense(2));
/// </code>
/// </example>
public sealed class MathNetObjective : IObjectiveFunction
{
    private const string Owner = "MathNetObjective";

    private sealed class Counters
    {
        public int Values, Gradients, Hessians;
    }

    private readonly Func<Vec, Real> f;
    private readonly Counters counters;
    private Vector<double>? point;
    private double? value;
    private Vector<double>? gradient;
    private Matrix<double>? hessian;

    private MathNetObjective(Func<Vec, Real> f, Counters counters)
    {
        this.f = f;
        this.counters = counters;
    }

    /// <summary>
    /// Wraps f: ℝⁿ → ℝ as a MathNet objective with value, exact gradient and exact Hessian.
    /// </summary>
    /// <param name="f">The objective, written with <see cref="Real"/> and <see cref="Vec"/> operations (as for <see cref="Newton.Minimize"/>).</param>
    /// <returns>An objective not yet evaluated anywhere; pass it to a MathNet minimiser's <c>FindMinimum</c>.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="f"/> is null.</exception>
    public static MathNetObjective Create(Func<Vec, Real> f)
    {
        Check.NotNull(f, nameof(f), Owner + ".Create");
        return new MathNetObjective(f, new Counters());
    }

    /// <summary>
    /// Wraps a model m(p; x) of observations y as MathNet's nonlinear least-squares objective
    /// Σᵢ wᵢ (yᵢ − m(p; x)ᵢ)² (MathNet's residual sum of squares) with the exact Jacobian ∂m/∂p (forward or reverse mode, chosen by shape), for
    /// MathNet's trust-region and Levenberg–Marquardt minimisers. MathNet builds the Gauss–Newton Hessian JᵀWJ
    /// from that Jacobian, as its algorithms prescribe.
    /// </summary>
    /// <param name="model">p, x ↦ the model's value at every observed x (one entry per observation); p is
    /// differentiable, x is the observed x as constants.</param>
    /// <param name="observedX">The independent values, passed to <paramref name="model"/> as its second argument.</param>
    /// <param name="observedY">The observations, one per entry of the model's result.</param>
    /// <param name="weights">Optional weights wᵢ ≥ 0, one per observation (null for all 1).</param>
    /// <returns>MathNet's <see cref="IObjectiveModel"/>; its <c>FunctionEvaluations</c> and <c>JacobianEvaluations</c> count the work.</returns>
    /// <exception cref="ArgumentNullException">An argument other than <paramref name="weights"/> is null.</exception>
    /// <exception cref="ArgumentException">The lengths of observedX, observedY and weights differ, or one is empty.</exception>
    public static IObjectiveModel LeastSquares(
        Func<Vec, Vec, Vec> model, Vector<double> observedX, Vector<double> observedY, Vector<double>? weights = null)
    {
        const string owner = Owner + ".LeastSquares";
        Check.NotNull(model, nameof(model), owner);
        Check.NotNull(observedX, nameof(observedX), owner);
        Check.NotNull(observedY, nameof(observedY), owner);
        if (observedY.Count == 0)
            throw new ArgumentException($"{owner}: observedY is empty; pass at least one observation.", nameof(observedY));
        if (observedX.Count != observedY.Count)
            throw new ArgumentException(
                $"{owner}: observedX has {observedX.Count} entries but observedY has {observedY.Count}; pass one x per observation.", nameof(observedX));
        if (weights is not null && weights.Count != observedY.Count)
            throw new ArgumentException(
                $"{owner}: weights has {weights.Count} entries but there are {observedY.Count} observations; pass one weight per observation or null.", nameof(weights));

        Vector<double> Values(Vector<double> p, Vector<double> x)
        {
            var y = Check.Result(model(new Vec(p.ToArray()), new Vec(x.ToArray())), owner, "model");
            if (y.Length != observedY.Count)
                throw new InvalidOperationException(
                    $"{owner}: the model returned {y.Length} values for {observedY.Count} observations; return one value per observed x.");
            return Vector<double>.Build.Dense(y.ToArray());
        }
        Matrix<double> Jacobian(Vector<double> p, Vector<double> x)
        {
            var xs = new Vec(x.ToArray());
            return Fn.Jacobian((Vec q) => Check.Result(model(q, xs), owner, "model"))(new Vec(p.ToArray())).ToMatrix();
        }
        return ObjectiveFunction.NonlinearModel(Values, Jacobian, observedX, observedY, weights);
    }

    /// <summary>Points at which the value was computed (by a plain evaluation of f, or together with the gradient).</summary>
    public int ValueEvaluations => counters.Values;

    /// <summary>Points at which the gradient was computed (each one reverse pass, giving the value too).</summary>
    public int GradientEvaluations => counters.Gradients;

    /// <summary>Points at which the dense Hessian was computed.</summary>
    public int HessianEvaluations => counters.Hessians;

    /// <summary>The point of the last <see cref="EvaluateAt"/>.</summary>
    /// <exception cref="InvalidOperationException">No point has been set yet.</exception>
    public Vector<double> Point => point ?? throw NotEvaluated(nameof(Point));

    /// <summary>f at <see cref="Point"/>.</summary>
    /// <exception cref="InvalidOperationException">No point has been set yet.</exception>
    public double Value
    {
        get
        {
            if (value is null)
            {
                var at = Point;
                counters.Values++;
                value = f(new Vec(at.ToArray())).Value;
            }
            return value.Value;
        }
    }

    /// <summary>Always true: the gradient is exact, by reverse mode.</summary>
    public bool IsGradientSupported => true;

    /// <summary>∇f at <see cref="Point"/> (the value comes with it).</summary>
    /// <exception cref="InvalidOperationException">No point has been set yet.</exception>
    public Vector<double> Gradient
    {
        get
        {
            if (gradient is null)
            {
                var at = Point;
                counters.Gradients++;
                var (g, v) = Fn.GradAndValue(f)(new Vec(at.ToArray()));
                gradient = Vector<double>.Build.Dense(g.ToArray());
                if (value is null)
                {
                    counters.Values++;
                    value = v.Value;
                }
            }
            return gradient;
        }
    }

    /// <summary>Always true: the Hessian is exact, by forward-over-reverse.</summary>
    public bool IsHessianSupported => true;

    /// <summary>The dense n×n Hessian ∇²f at <see cref="Point"/>.</summary>
    /// <exception cref="InvalidOperationException">No point has been set yet.</exception>
    public Matrix<double> Hessian
    {
        get
        {
            if (hessian is null)
            {
                var at = Point;
                counters.Hessians++;
                hessian = Fn.Hessian(f)(new Vec(at.ToArray())).ToMatrix();
            }
            return hessian;
        }
    }

    /// <summary>Moves the objective to <paramref name="point"/> (copied); value, gradient and Hessian are computed when read.</summary>
    /// <exception cref="ArgumentNullException"><paramref name="point"/> is null.</exception>
    /// <exception cref="ArgumentException"><paramref name="point"/> is empty.</exception>
    public void EvaluateAt(Vector<double> point)
    {
        Check.NotNull(point, nameof(point), Owner + ".EvaluateAt");
        if (point.Count == 0)
            throw new ArgumentException($"{Owner}.EvaluateAt: the point is empty (length 0); pass one entry per unknown.", nameof(point));
        this.point = point.Clone();
        value = null;
        gradient = null;
        hessian = null;
    }

    /// <summary>An independent copy at the same point, with what was computed there; it shares the evaluation counters.</summary>
    public IObjectiveFunction Fork() =>
        new MathNetObjective(f, counters) { point = point, value = value, gradient = gradient, hessian = hessian };

    /// <summary>A new objective for the same f, not yet evaluated anywhere; it shares the evaluation counters.</summary>
    public IObjectiveFunction CreateNew() => new MathNetObjective(f, counters);

    private static InvalidOperationException NotEvaluated(string what) =>
        new($"{Owner}.{what}: no point yet; call EvaluateAt(point) first (MathNet's minimisers do).");
}
