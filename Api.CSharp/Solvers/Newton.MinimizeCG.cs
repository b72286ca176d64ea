using Hybrid.Kernel;

namespace Hybrid;

public static partial class Newton
{
    /// <summary>
    /// Minimises f: ℝⁿ → ℝ by line-search Newton–CG (truncated Newton; Nocedal &amp; Wright, Numerical
    /// Optimization, Algorithm 7.1), for large n where forming or factorising the n×n Hessian costs too much.
    /// <para>
    /// Each iteration takes fₖ and gₖ from f compiled once at x0 (<see cref="NewtonOptions.Compile"/>, guarded as
    /// in <see cref="Minimize"/>), or else records f once at xₖ with second partials, and solves Hₖ p = −gₖ
    /// approximately by conjugate gradients, each CG iteration one Hessian-vector product H·d from the
    /// compiled passes or replayed from that recording (a forward and a reverse sweep; H is never formed). CG starts from p = 0 and stops when
    /// ‖r‖₂ &lt; min(0.5, √‖gₖ‖)·‖gₖ‖ (superlinear convergence), after <see cref="NewtonOptions.MaxCGIterations"/>,
    /// or at the first direction of non-positive curvature dᵀHd ≤ 0 — then it returns the iterate so far,
    /// or −gₖ if that happens at once — so every step is a descent direction even where H is indefinite.
    /// The step is then globalised by the same Armijo backtracking and stopping tests as <see cref="Minimize"/>.
    /// History entries report the CG iterations per step in <see cref="NewtonIteration.InnerIterations"/>; τ is always 0.
    /// </para>
    /// </summary>
    /// <param name="f">The objective, written with <see cref="Real"/> and <see cref="Vec"/> operations.</param>
    /// <param name="x0">The starting point; finite, non-empty.</param>
    /// <param name="options">Tolerances, limits, progress reporting; null for <see cref="NewtonOptions.Default"/>.</param>
    /// <returns>The solution, value, gradient norm, iterations, history, the reason for stopping and how f was evaluated (<see cref="NewtonResult.Recordings"/>, <see cref="NewtonResult.Compiled"/>).</returns>
    /// <exception cref="ArgumentNullException"><paramref name="f"/> or <paramref name="x0"/> is null.</exception>
    /// <exception cref="ArgumentException">x0 is empty or has a NaN or infinite entry, or an option is out of range.</exception>
    public static NewtonResult MinimizeCG(Func<Vec, Real> f, Vec x0, NewtonOptions? options = null)
    {
        const string owner = "Newton.MinimizeCG";
        var o = options ?? NewtonOptions.Default;
        var x = Start(f, nameof(f), x0, o, owner);
        return Iterate(Objective.Scalar(owner, f, x, o), x, o, TruncatedCGStep);
    }

    /// <summary>Truncated conjugate gradients on H p = −g with the negative-curvature exit (Algorithm 7.1's inner loop).</summary>
    private static StepOutcome TruncatedCGStep(SecondOrderPoint point, NewtonOptions o)
    {
        var g = point.Gradient;
        var n = g.Length;
        var gNorm = point.GradientNorm;
        var tolerance = Math.Min(0.5, Math.Sqrt(gNorm)) * gNorm;
        var z = new double[n];
        var r = (double[])g.Clone();
        var d = Dense.Negate(g);
        var rr = Dense.Dot(r, r);
        for (var j = 0; j < o.MaxCGIterations; j++)
        {
            var hd = point.Hvp(d);
            var bad = Dense.FirstNonFinite(hd);
            if (bad >= 0)
                return new StepOutcome(null, 0, j + 1, Termination.NonFiniteHessian,
                    $"a Hessian-vector product has entry [{bad}] = {hd[bad]} at f = {point.Value:G17}; f is not twice differentiable there.");
            var curvature = Dense.Dot(d, hd);
            if (curvature <= 0)
                return new StepOutcome(j == 0 ? Dense.Negate(g) : z, 0, j + 1, default, null);
            var alpha = rr / curvature;
            for (var i = 0; i < n; i++)
            {
                z[i] += alpha * d[i];
                r[i] += alpha * hd[i];
            }
            var rrNew = Dense.Dot(r, r);
            if (Math.Sqrt(rrNew) < tolerance)
                return new StepOutcome(z, 0, j + 1, default, null);
            var beta = rrNew / rr;
            for (var i = 0; i < n; i++) d[i] = -r[i] + beta * d[i];
            rr = rrNew;
        }
        return new StepOutcome(z, 0, o.MaxCGIterations, default, null);
    }
}
