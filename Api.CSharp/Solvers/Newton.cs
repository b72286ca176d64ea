using Hybrid.Kernel;

namespace Hybrid;

/// <summary>
/// Newton's method on exact derivatives from the transforms: <see cref="Minimize"/> (dense Hessian,
/// modified Cholesky, Armijo backtracking), <see cref="MinimizeCG"/> (Hessian-vector products and
/// truncated conjugate gradients, for large n) and <see cref="Solve"/> (root finding with the Jacobian
/// and an LU solve). Dense factorisations go through MathNet, so they run on the best backend (MKL,
/// else OpenBLAS, else managed), which the first solver call registers; the result's <c>Backend</c> names it.
/// <para>
/// Wrong input (null function, empty or non-finite x0, options out of range) throws
/// <see cref="ArgumentException"/> before any work. Numerical trouble never throws and never yields NaN
/// as an answer: the solver stops with a <see cref="Termination"/> reason, a message, and the last
/// point where f and its gradient were finite. Cancellation through <see cref="NewtonOptions.CancellationToken"/>
/// is such a stop too (<see cref="Termination.Cancelled"/>, with the best point so far). Exceptions thrown by f itself propagate.
/// </para>
/// <para>
/// The solvers work on the primal values of x0 and are not themselves differentiable (a traced x0 is
/// read as constants). They may be called inside a transform's function; the derivatives of f then
/// come from nested transforms instead of the compiled function or the top-level second-order tape.
/// </para>
/// <para>
/// By default each solver compiles f once per problem (<see cref="NewtonOptions.Compile"/>) and falls back to
/// the eager transforms by itself where that is impossible; the iterates are the same numbers either way,
/// and the result's <c>Recordings</c>, <c>Compiled</c> and <c>NotCompiledReason</c> say which ran.
/// </para>
/// </summary>
public static partial class Newton
{
    /// <summary>The spacing of doubles at 1, 2⁻⁵² (<c>double.Epsilon</c> is the smallest subnormal, not this).</summary>
    private const double MachineEpsilon = 2.220446049250313e-16;

    /// <summary>A step rule: from the recorded point, a descent direction p, the shift τ, and the inner iteration count; or a stop reason.</summary>
    private delegate StepOutcome StepRule(SecondOrderPoint point, NewtonOptions o);

    private readonly record struct StepOutcome(double[]? Step, double Tau, int Inner, Termination Failure, string? Message);

    /// <summary>Argument checks shared by the solvers; returns a copy of x0's values.</summary>
    private static double[] Start(object? function, string functionName, Vec? x0, NewtonOptions o, string owner)
    {
        Check.NotNull(function, functionName, owner);
        Check.Input(x0, nameof(x0), owner);
        o.Validate(owner);
        Linalg.EnsureInitialized(); // the best backend (MKL, OpenBLAS, managed) before the first factorisation
        var x = x0!.ToArray();
        var bad = Dense.FirstNonFinite(x);
        if (bad >= 0)
            throw new ArgumentException($"{owner}: x0[{bad}] is {x[bad]}; the starting point must be finite in every entry.", nameof(x0));
        return x;
    }

    /// <summary>
    /// The line-search Newton iteration shared by <see cref="Minimize"/> and <see cref="MinimizeCG"/>:
    /// f at xₖ (value, gradient; compiled or recorded, see <see cref="Objective"/>), ask the step rule for a direction pₖ (falling back to −∇f if
    /// rounding made it not a descent direction), backtrack α = 1, ρ, ρ², … until
    /// f(xₖ + αpₖ) is finite and ≤ f(xₖ) + c₁α∇f(xₖ)ᵀpₖ, then test the tolerances.
    /// </summary>
    private static NewtonResult Iterate(Objective f, double[] x, NewtonOptions o, StepRule rule)
    {
        var history = new List<NewtonIteration>();
        var point = f.At(x);
        try
        {
            NewtonResult Stop(Termination reason, string message) =>
                new((double[])x.Clone(), point.Value, point.GradientNorm, history.Count == 0 ? 0 : history.Count - 1, history, reason, message)
                {
                    Recordings = f.Recordings,
                    NotCompiledReason = f.NotCompiledReason,
                };

            if (!double.IsFinite(point.Value))
                return Stop(Termination.NonFiniteValue, $"f(x0) = {point.Value}; start from a point where f is finite.");
            if (!Dense.AllFinite(point.Gradient))
            {
                var i = Dense.FirstNonFinite(point.Gradient);
                return Stop(Termination.NonFiniteGradient, $"∇f(x0)[{i}] = {point.Gradient[i]} (f(x0) = {point.Value}); f is not differentiable there.");
            }
            Report(history, o, new NewtonIteration(0, point.Value, point.GradientNorm, 0, 0, 0, 0, 0, (double[])x.Clone()));
            if (point.GradientNorm <= o.GradientTolerance)
                return Stop(Termination.GradientTolerance, $"x0 is already stationary: ‖∇f‖ = {point.GradientNorm:G3} ≤ {o.GradientTolerance:G3}.");

            for (var k = 1; k <= o.MaxIterations; k++)
            {
                if (o.CancellationToken.IsCancellationRequested)
                    return Stop(Termination.Cancelled, $"Cancelled before iteration {k}: f = {point.Value:G17}, ‖∇f‖ = {point.GradientNorm:G3} at the last accepted point.");
                var step = rule(point, o);
                if (step.Step is null)
                    return Stop(step.Failure, $"Iteration {k}: {step.Message}");
                var p = step.Step;
                var slope = Dense.Dot(point.Gradient, p);
                if (!(slope < 0))
                {
                    p = Dense.Negate(point.Gradient);
                    slope = -point.GradientNorm * point.GradientNorm;
                }

                var (alpha, trials, xNew, next, withinNoise) = Backtrack(f, x, point, p, slope, o);
                if (xNew is null)
                {
                    var scale = Math.Max(1.0, Math.Abs(point.Value));
                    if (-slope <= 1e3 * MachineEpsilon * scale)
                        return Stop(Termination.FunctionTolerance,
                            $"Iteration {k}: no decrease of f is representable in double precision (predicted decrease {-slope:G3} at f = {point.Value:G17}); ‖∇f‖ = {point.GradientNorm:G3}.");
                    return Stop(Termination.LineSearchFailed,
                        $"Iteration {k}: no step length down to {alpha:G3} gave a finite f with sufficient decrease in {trials} trials (f = {point.Value:G17}, ∇fᵀp = {slope:G3}, ‖∇f‖ = {point.GradientNorm:G3}).");
                }

                var stepNorm = alpha * Dense.Norm(p);
                var xNorm = Dense.Norm(x);
                var fOld = point.Value;
                next ??= f.At(xNew);
                if (!double.IsFinite(next.Value) || !Dense.AllFinite(next.Gradient))
                {
                    var reason = double.IsFinite(next.Value) ? Termination.NonFiniteGradient : Termination.NonFiniteValue;
                    var i = Dense.FirstNonFinite(next.Gradient);
                    next.Dispose();
                    return Stop(reason, reason == Termination.NonFiniteValue
                        ? $"Iteration {k}: f is not finite at the accepted point; stopped at the previous point."
                        : $"Iteration {k}: ∇f[{i}] is not finite at the accepted point (f is not differentiable there); stopped at the previous point.");
                }
                point.Dispose();
                point = next;
                x = xNew;
                Report(history, o, new NewtonIteration(k, point.Value, point.GradientNorm, alpha, stepNorm, step.Tau, trials, step.Inner, (double[])x.Clone()));

                if (point.GradientNorm <= o.GradientTolerance)
                    return Stop(Termination.GradientTolerance, $"Converged in {k} iterations: ‖∇f‖ = {point.GradientNorm:G3} ≤ {o.GradientTolerance:G3}, f = {point.Value:G17}.");
                if (stepNorm <= o.StepTolerance * (1 + xNorm))
                    return Stop(Termination.StepTolerance, $"Stopped after {k} iterations: step ‖Δx‖ = {stepNorm:G3} ≤ {o.StepTolerance:G3}·(1 + ‖x‖); ‖∇f‖ = {point.GradientNorm:G3} (tolerance {o.GradientTolerance:G3}).");
                if (!withinNoise && fOld - point.Value <= o.FunctionTolerance * Math.Max(1.0, Math.Abs(fOld)))
                    return Stop(Termination.FunctionTolerance, $"Stopped after {k} iterations: f decreased by {fOld - point.Value:G3} ≤ {o.FunctionTolerance:G3}·max(1, |f|); ‖∇f‖ = {point.GradientNorm:G3} (tolerance {o.GradientTolerance:G3}).");
            }
            return Stop(Termination.MaxIterations, $"Not converged after {o.MaxIterations} iterations: ‖∇f‖ = {point.GradientNorm:G3} > {o.GradientTolerance:G3}, f = {point.Value:G17}. Raise MaxIterations or start closer.");
        }
        finally
        {
            point.Dispose();
        }
    }

    /// <summary>
    /// Armijo backtracking: α = 1, ρ, ρ², … until f(x + αp) is finite and f(x + αp) ≤ f(x) + c₁α·slope.
    /// Non-finite trial values (a step out of f's domain) are rejected like any other.
    /// <para>
    /// Near a minimiser the decrease a Newton step predicts, ½|∇fᵀp|, can be smaller than the rounding
    /// error of f itself (a sum of many terms), so Armijo would reject good steps on noise. When the full
    /// step changes f by no more than <see cref="NewtonOptions.FunctionNoise"/>·max(1, |f|), it is recorded
    /// and accepted if it reduces the gradient norm (the test Hager and Zhang's approximate Wolfe conditions
    /// make for the same reason); the function-tolerance test is then skipped for that step.
    /// </para>
    /// Returns the accepted α, the number of trials, the new point (null when every trial failed; α is then
    /// the last tried), the new point's recording when the line search already made it, and whether the
    /// step was accepted within noise.
    /// </summary>
    private static (double Alpha, int Trials, double[]? X, SecondOrderPoint? Point, bool WithinNoise) Backtrack(
        Objective f, double[] x, SecondOrderPoint point, double[] p, double slope, NewtonOptions o)
    {
        var fx = point.Value;
        var alpha = 1.0;
        for (var trial = 1; trial <= o.MaxLineSearchTrials; trial++)
        {
            var xt = Dense.AddScaled(x, alpha, p);
            var ft = f.Value(xt);
            if (double.IsFinite(ft) && ft <= fx + o.ArmijoConstant * alpha * slope)
                return (alpha, trial, xt, null, false);
            if (trial == 1 && double.IsFinite(ft) && Math.Abs(ft - fx) <= o.FunctionNoise * Math.Max(1.0, Math.Abs(fx)))
            {
                var next = f.At(xt);
                if (double.IsFinite(next.Value) && next.GradientNorm < point.GradientNorm)
                    return (alpha, trial, xt, next, true);
                next.Dispose();
            }
            if (trial < o.MaxLineSearchTrials) alpha *= o.BacktrackingFactor;
        }
        return (alpha, o.MaxLineSearchTrials, null, null, false);
    }

    private static void Report(List<NewtonIteration> history, NewtonOptions o, NewtonIteration entry)
    {
        history.Add(entry);
        o.Progress?.Report(entry);
    }
}
