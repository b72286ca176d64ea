using Hybrid.Kernel;
using MathNet.Numerics.LinearAlgebra;

namespace Hybrid;

public static partial class Newton
{
    /// <summary>
    /// Finds a root of a square system F: ℝⁿ → ℝⁿ by Newton's method with backtracking on the merit
    /// function φ(x) = ½‖F(x)‖₂².
    /// <para>
    /// Each iteration takes the Jacobian Jₖ = F′(xₖ) from F compiled once at x0 (<see cref="NewtonOptions.Compile"/>,
    /// guarded), or else from <see cref="Fn.Jacobian"/> (one recording per iterate; forward or reverse mode,
    /// chosen by shape, either way) and solves Jₖ p = −F(xₖ) by LU with partial pivoting through MathNet (dgetrf/dgetrs
    /// on the registered provider). The Jacobian counts as singular when a pivot uᵢᵢ of U is zero or
    /// |uᵢᵢ| ≤ n·ε·maxⱼ|uⱼⱼ|; then the solver stops with <see cref="Termination.Singular"/>, or, with
    /// <see cref="NewtonOptions.LeastSquaresFallback"/>, takes the minimum-norm least-squares step
    /// p = −J⁺F from the SVD (singular values below max(m, n)·ε·σ₁ treated as zero) and counts it in
    /// <see cref="NewtonSolveResult.LeastSquaresSteps"/>. Backtracking takes α = 1, ρ, ρ², … until F(xₖ + αp)
    /// is finite and φ(xₖ + αp) ≤ φ(xₖ) + c₁α∇φᵀp, with ∇φ = JₖᵀF(xₖ).
    /// </para>
    /// <para>
    /// Converged means ‖F‖₂ ≤ <see cref="NewtonOptions.ResidualTolerance"/>. Other stops are reasons:
    /// ‖JᵀF‖₂ ≤ <see cref="NewtonOptions.GradientTolerance"/> with ‖F‖ above tolerance (a local minimum of
    /// ‖F‖ that is not a root), step tolerance, iteration limit, non-finite F or J, line-search failure,
    /// singular Jacobian.
    /// </para>
    /// </summary>
    /// <param name="F">The system, n equations in n unknowns, written with <see cref="Real"/> and <see cref="Vec"/> operations.</param>
    /// <param name="x0">The starting point; finite, non-empty.</param>
    /// <param name="options">Tolerances, limits, the least-squares fallback, progress reporting; null for <see cref="NewtonOptions.Default"/>.</param>
    /// <returns>The solution, its residual, iterations, history, the reason for stopping and how F was evaluated (<see cref="NewtonSolveResult.Recordings"/>, <see cref="NewtonSolveResult.Compiled"/>).</returns>
    /// <exception cref="ArgumentNullException"><paramref name="F"/> or <paramref name="x0"/> is null.</exception>
    /// <exception cref="ArgumentException">x0 is empty or non-finite, F(x0) does not have one entry per unknown, or an option is out of range.</exception>
    public static NewtonSolveResult Solve(Func<Vec, Vec> F, Vec x0, NewtonOptions? options = null)
    {
        const string owner = "Newton.Solve";
        var o = options ?? NewtonOptions.Default;
        var x = Start(F, nameof(F), x0, o, owner);
        var n = x.Length;
        var system = Objective.Equations(owner, F, x, o);

        var fx = system.Values(x);
        if (fx.Length != n)
            throw new ArgumentException(
                $"{owner}: F returns {fx.Length} values for {n} unknowns; Newton's method needs a square system. For a least-squares fit minimise ½‖F‖² (Newton.Minimize) or use Gauss–Newton on Fn.JacRev (samples/least-squares.cs).", nameof(F));

        var history = new List<NewtonIteration>();
        var leastSquares = 0;
        var residualNorm = Dense.Norm(fx);

        NewtonSolveResult Stop(Termination reason, string message)
        {
            if (leastSquares > 0) message += $" {leastSquares} step(s) were minimum-norm least-squares (SVD) steps because the Jacobian was singular.";
            return new((double[])x.Clone(), fx, residualNorm, history.Count == 0 ? 0 : history.Count - 1, leastSquares, history, reason, message)
            {
                Recordings = system.Recordings,
                NotCompiledReason = system.NotCompiledReason,
            };
        }

        if (!Dense.AllFinite(fx))
            return Stop(Termination.NonFiniteValue, $"F(x0)[{Dense.FirstNonFinite(fx)}] = {fx[Dense.FirstNonFinite(fx)]}; start from a point where F is finite.");

        for (var k = 0; ; k++)
        {
            var j = system.Jacobian(x);
            if (!Dense.AllFinite(j.AsColumnMajorArray() ?? j.ToColumnMajorArray()))
                return Stop(Termination.NonFiniteGradient, $"Iteration {k}: the Jacobian has a NaN or infinite entry; F is not differentiable at the current point.");
            var fv = Vector<double>.Build.Dense(fx);
            var gradient = j.TransposeThisAndMultiply(fv).ToArray(); // ∇φ = JᵀF
            var gradientNorm = Dense.Norm(gradient);
            var last = history.Count > 0 ? history[^1] : null;
            Report(history, o, last is null
                ? new NewtonIteration(0, residualNorm, gradientNorm, 0, 0, 0, 0, 0, (double[])x.Clone())
                : last with { GradientNorm = gradientNorm }, replaceLast: last is not null);

            if (residualNorm <= o.ResidualTolerance)
                return Stop(Termination.ResidualTolerance, $"Converged in {k} iterations: ‖F‖ = {residualNorm:G3} ≤ {o.ResidualTolerance:G3}.");
            if (gradientNorm <= o.GradientTolerance)
                return Stop(Termination.GradientTolerance, $"Stopped after {k} iterations at a stationary point of ½‖F‖² that is not a root: ‖JᵀF‖ = {gradientNorm:G3} ≤ {o.GradientTolerance:G3} but ‖F‖ = {residualNorm:G3} > {o.ResidualTolerance:G3}. Try another starting point.");
            if (k > 0 && last is not null && last.StepNorm <= o.StepTolerance * (1 + Dense.Norm(x)))
                return Stop(Termination.StepTolerance, $"Stopped after {k} iterations: step ‖Δx‖ = {last.StepNorm:G3} ≤ {o.StepTolerance:G3}·(1 + ‖x‖) with ‖F‖ = {residualNorm:G3} > {o.ResidualTolerance:G3}.");
            if (k >= o.MaxIterations)
                return Stop(Termination.MaxIterations, $"Not converged after {o.MaxIterations} iterations: ‖F‖ = {residualNorm:G3} > {o.ResidualTolerance:G3}. Raise MaxIterations or start closer.");
            if (o.CancellationToken.IsCancellationRequested)
                return Stop(Termination.Cancelled, $"Cancelled before iteration {k + 1}: ‖F‖ = {residualNorm:G3} at the last accepted point.");

            var (p, pivot) = LuStep(j, fv);
            var inner = 0;
            if (p is null)
            {
                if (!o.LeastSquaresFallback)
                    return Stop(Termination.Singular, $"Iteration {k + 1}: the {n}x{n} Jacobian is singular ({pivot}); there is no unique Newton step. Set LeastSquaresFallback to take minimum-norm least-squares steps, or start elsewhere.");
                p = LeastSquaresStep(j, fv);
                leastSquares++;
                inner = 1;
            }

            var phi = 0.5 * residualNorm * residualNorm;
            var slope = Dense.Dot(gradient, p);
            if (!(slope < 0))
                return Stop(Termination.LineSearchFailed, $"Iteration {k + 1}: the step is not a descent direction for ½‖F‖² (∇φᵀp = {slope:G3}).");
            var alpha = 1.0;
            double[]? xNew = null, fNew = null;
            var trials = 0;
            for (trials = 1; trials <= o.MaxLineSearchTrials; trials++)
            {
                var xt = Dense.AddScaled(x, alpha, p);
                var ft = system.Values(xt);
                var rt = Dense.Norm(ft);
                if (Dense.AllFinite(ft) && 0.5 * rt * rt <= phi + o.ArmijoConstant * alpha * slope)
                {
                    xNew = xt;
                    fNew = ft;
                    break;
                }
                if (trials < o.MaxLineSearchTrials) alpha *= o.BacktrackingFactor;
            }
            if (xNew is null || fNew is null)
                return Stop(Termination.LineSearchFailed, $"Iteration {k + 1}: no step length down to {alpha:G3} gave a finite F with sufficient decrease of ½‖F‖² in {o.MaxLineSearchTrials} trials (‖F‖ = {residualNorm:G3}).");

            var stepNorm = alpha * Dense.Norm(p);
            x = xNew;
            fx = fNew;
            residualNorm = Dense.Norm(fx);
            // the gradient norm of the new point is filled in at the top of the next iteration
            history.Add(new NewtonIteration(k + 1, residualNorm, double.NaN, alpha, stepNorm, 0, trials, inner, (double[])x.Clone()));
        }
    }

    /// <summary>Adds (or completes) a history entry and reports it once it is complete.</summary>
    private static void Report(List<NewtonIteration> history, NewtonOptions o, NewtonIteration entry, bool replaceLast)
    {
        if (replaceLast) history[^1] = entry;
        else history.Add(entry);
        o.Progress?.Report(entry);
    }

    /// <summary>J p = −F by LU with partial pivoting; null and a description when a pivot is zero or negligible.</summary>
    private static (double[]? Step, string Pivot) LuStep(Matrix<double> j, Vector<double> f)
    {
        var n = j.RowCount;
        try
        {
            var lu = j.LU();
            var u = lu.U.Diagonal();
            var max = u.AbsoluteMaximum();
            var tiny = n * MachineEpsilon * max;
            for (var i = 0; i < n; i++)
                if (!(Math.Abs(u[i]) > tiny))
                    return (null, $"the LU pivot in column {i + 1} is {u[i]:G3}, against a largest pivot of {max:G3}");
            var p = lu.Solve(-f).ToArray();
            return Dense.AllFinite(p) ? (p, "") : (null, "the LU solve gave a non-finite step");
        }
        catch (ArgumentException e)
        {
            return (null, e.Message); // Hybrid's provider reports an exactly zero pivot as SingularMatrixException
        }
    }

    /// <summary>The minimum-norm least-squares step p = −J⁺F from the SVD J = U Σ Vᵀ, dropping σᵢ ≤ max(m, n)·ε·σ₁.</summary>
    private static double[] LeastSquaresStep(Matrix<double> j, Vector<double> f)
    {
        var svd = j.Svd(computeVectors: true);
        var s = svd.S;
        var cutoff = Math.Max(j.RowCount, j.ColumnCount) * MachineEpsilon * (s.Count > 0 ? s[0] : 0);
        var utf = svd.U.TransposeThisAndMultiply(f);
        var coefficients = Vector<double>.Build.Dense(j.ColumnCount);
        for (var i = 0; i < s.Count; i++)
            if (s[i] > cutoff) coefficients[i] = -utf[i] / s[i];
        return svd.VT.TransposeThisAndMultiply(coefficients).ToArray();
    }
}
