namespace Hybrid;

/// <summary>
/// One entry of a Newton solver's history, also what <see cref="NewtonOptions.Progress"/> receives.
/// Entry 0 describes the starting point (no step: <see cref="StepSize"/>, <see cref="StepNorm"/> and the
/// counters are 0); entry k describes the point reached by the k-th step.
/// </summary>
/// <param name="Iteration">0 for the starting point, k after the k-th step.</param>
/// <param name="Value">f(xₖ) for minimisation; ‖F(xₖ)‖₂ for <see cref="Newton.Solve"/>.</param>
/// <param name="GradientNorm">‖∇f(xₖ)‖₂ for minimisation; ‖J(xₖ)ᵀF(xₖ)‖₂ for <see cref="Newton.Solve"/> (the gradient of ½‖F‖²).</param>
/// <param name="StepSize">The line-search factor α accepted for the step xₖ = xₖ₋₁ + α·pₖ₋₁ (1 is the full Newton step).</param>
/// <param name="StepNorm">‖xₖ − xₖ₋₁‖₂ = α‖pₖ₋₁‖₂.</param>
/// <param name="Tau">The shift τ ≥ 0 added to the Hessian's diagonal to make it positive definite (0 when the Hessian was positive definite as it was; always 0 for Newton–CG and root finding).</param>
/// <param name="LineSearchTrials">Function evaluations the backtracking line search made for this step (1 when the first trial was accepted).</param>
/// <param name="InnerIterations">Conjugate-gradient iterations (Hessian-vector products) for the step in <see cref="Newton.MinimizeCG"/>; 1 for a least-squares (SVD) step in <see cref="Newton.Solve"/>; otherwise 0.</param>
/// <param name="X">xₖ, the point this entry describes: a copy of its own, never changed by the solver afterwards (keep it, plot it, or restart from it).</param>
public sealed record NewtonIteration(
    int Iteration,
    double Value,
    double GradientNorm,
    double StepSize,
    double StepNorm,
    double Tau,
    int LineSearchTrials,
    int InnerIterations,
    double[] X);
