namespace Hybrid;

/// <summary>Why a Newton solver stopped. Only the tolerance reasons mean the answer can be trusted; see each result's <c>Converged</c>.</summary>
public enum Termination
{
    /// <summary>The gradient norm ‖∇f(x)‖₂ fell to <see cref="NewtonOptions.GradientTolerance"/> or below (for <see cref="Newton.Solve"/>: ‖Jᵀ F‖₂, a stationary point of ½‖F‖² that is not a root).</summary>
    GradientTolerance,
    /// <summary>The residual norm ‖F(x)‖₂ fell to <see cref="NewtonOptions.ResidualTolerance"/> or below (<see cref="Newton.Solve"/> only).</summary>
    ResidualTolerance,
    /// <summary>The accepted step ‖xₖ₊₁ − xₖ‖₂ was at most <see cref="NewtonOptions.StepTolerance"/>·(1 + ‖xₖ‖₂).</summary>
    StepTolerance,
    /// <summary>The decrease fₖ − fₖ₊₁ was at most <see cref="NewtonOptions.FunctionTolerance"/>·max(1, |fₖ|), or no decrease is representable in double precision.</summary>
    FunctionTolerance,
    /// <summary><see cref="NewtonOptions.MaxIterations"/> steps were taken without meeting a tolerance.</summary>
    MaxIterations,
    /// <summary>f (or F) is NaN or ±∞ at the current point; the result holds the last finite point, or x0.</summary>
    NonFiniteValue,
    /// <summary>The gradient (or Jacobian) has a NaN or ±∞ entry at the current point.</summary>
    NonFiniteGradient,
    /// <summary>The Hessian has a NaN or ±∞ entry at the current point.</summary>
    NonFiniteHessian,
    /// <summary>Backtracking found no step length satisfying the Armijo condition within <see cref="NewtonOptions.MaxLineSearchTrials"/> trials.</summary>
    LineSearchFailed,
    /// <summary>The linear system for the step has no reliable solution: a singular Jacobian (LU), or a Hessian that no shift τI made positive definite.</summary>
    Singular,
    /// <summary><see cref="NewtonOptions.CancellationToken"/> was cancelled; the result holds the last accepted point, the best so far.</summary>
    Cancelled,
}
