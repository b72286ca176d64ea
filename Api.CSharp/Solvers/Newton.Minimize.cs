using Hybrid.Kernel;

namespace Hybrid;

public static partial class Newton
{
    /// <summary>
    /// Minimises f: ℝⁿ → ℝ by Newton's method with a modified Cholesky factorisation and an Armijo
    /// backtracking line search (Nocedal &amp; Wright, Numerical Optimization, Algorithms 3.1 and 3.3).
    /// <para>
    /// f is compiled once at x0 (<see cref="NewtonOptions.Compile"/>, guarded: a point where f takes a new
    /// branch is recorded and compiled there) and each iteration reads fₖ, gₖ = ∇f(xₖ) and the dense Hessian
    /// Hₖ from the compiled passes; with compile off, inside another transform, or where f cannot be
    /// compiled, each iteration records f once at xₖ with second partials (the kernel's second-order tape)
    /// and reads them from that one recording (n tape replays, no re-evaluation of f). Both give the same
    /// numbers. The step solves (Hₖ + τI) p = −gₖ by Cholesky through MathNet (MKL's dpotrf/dpotrs when
    /// installed: the solver registers the best backend itself), where τ = 0 if Hₖ is positive definite and otherwise grows
    /// geometrically from a small multiple of the Hessian's scale until the factorisation succeeds
    /// (<see cref="NewtonOptions.InitialShift"/>, <see cref="NewtonOptions.ShiftGrowth"/>). Backtracking then
    /// takes α = 1, ρ, ρ², … until f(xₖ + αp) is finite and f(xₖ + αp) ≤ fₖ + c₁α gₖᵀp, so a full step that
    /// leaves f's domain (NaN or ∞) is shortened rather than accepted. Near the minimiser, where the predicted
    /// decrease falls below f's rounding error, a full step that changes f only within
    /// <see cref="NewtonOptions.FunctionNoise"/> is accepted if it reduces ‖∇f‖ (see that option).
    /// </para>
    /// <para>
    /// Stops on ‖gₖ‖₂ ≤ <see cref="NewtonOptions.GradientTolerance"/>, a step ‖Δx‖₂ ≤ <see cref="NewtonOptions.StepTolerance"/>·(1 + ‖x‖₂),
    /// a decrease ≤ <see cref="NewtonOptions.FunctionTolerance"/>·max(1, |f|), or <see cref="NewtonOptions.MaxIterations"/>;
    /// and with a reason (never an exception) when f, ∇f or H is not finite, the line search fails, or no
    /// shift makes the Hessian positive definite. Cost per iteration: one compiled pass (or one recording of f),
    /// n Hessian-vector replays, one n×n Cholesky per shift tried, and one plain evaluation of f per line-search trial. For
    /// large n, where the n replays or the O(n³) factorisation cost too much, use <see cref="MinimizeCG"/>.
    /// </para>
    /// </summary>
    /// <param name="f">The objective, written with <see cref="Real"/> and <see cref="Vec"/> operations.</param>
    /// <param name="x0">The starting point (double[] and Vector&lt;double&gt; convert implicitly); finite, non-empty.</param>
    /// <param name="options">Tolerances, limits, progress reporting; null for <see cref="NewtonOptions.Default"/>.</param>
    /// <returns>The solution, value, gradient norm, iterations, history, the reason for stopping and how f was evaluated (<see cref="NewtonResult.Recordings"/>, <see cref="NewtonResult.Compiled"/>).</returns>
    /// <exception cref="ArgumentNullException"><paramref name="f"/> or <paramref name="x0"/> is null.</exception>
    /// <exception cref="ArgumentException">x0 is empty or has a NaN or infinite entry, or an option is out of range.</exception>
    public static NewtonResult Minimize(Func<Vec, Real> f, Vec x0, NewtonOptions? options = null)
    {
        const string owner = "Newton.Minimize";
        var o = options ?? NewtonOptions.Default;
        var x = Start(f, nameof(f), x0, o, owner);
        return Iterate(Objective.Scalar(owner, f, x, o, denseHessian: true), x, o, CholeskyStep);
    }

    /// <summary>The dense Newton step: (H + τI) p = −∇f by modified Cholesky.</summary>
    private static StepOutcome CholeskyStep(SecondOrderPoint point, NewtonOptions o)
    {
        var h = point.Hessian();
        var n = point.Gradient.Length;
        for (var i = 0; i < n; i++)
            for (var j = 0; j < n; j++)
                if (!double.IsFinite(h[i, j]))
                    return new StepOutcome(null, 0, 0, Termination.NonFiniteHessian,
                        $"the Hessian entry H[{i},{j}] is {h[i, j]} at f = {point.Value:G17}; f is not twice differentiable there.");
        var (p, tau, attempts) = ModifiedCholesky.Solve(h, point.Gradient, o);
        if (p is null)
            return new StepOutcome(null, tau, 0, Termination.Singular,
                $"no shift made H + τI positive definite ({attempts} Cholesky attempts, up to τ = {tau:G3}); the Hessian is badly scaled or f is unbounded below along some direction.");
        return new StepOutcome(p, tau, 0, default, null);
    }
}
