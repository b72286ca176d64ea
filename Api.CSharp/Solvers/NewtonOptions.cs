using Hybrid.Kernel;

namespace Hybrid;

/// <summary>
/// Settings for <see cref="Newton.Minimize"/>, <see cref="Newton.MinimizeCG"/> and <see cref="Newton.Solve"/>.
/// Every property has a default; set only what you need (<c>new NewtonOptions { MaxIterations = 20 }</c>).
/// The solver checks the settings before any work and throws <see cref="ArgumentException"/> for a value
/// outside its range.
/// </summary>
public sealed record NewtonOptions
{
    /// <summary>The defaults.</summary>
    public static NewtonOptions Default { get; } = new();

    /// <summary>Maximum number of Newton steps (default 100; ≥ 0).</summary>
    public int MaxIterations { get; init; } = 100;

    /// <summary>Stop when ‖∇f(x)‖₂ ≤ this (default 1e-8; ≥ 0). For root finding, the same test on ‖JᵀF‖₂ (a stationary point of ½‖F‖² that is not a root).</summary>
    public double GradientTolerance { get; init; } = 1e-8;

    /// <summary>Root finding: stop when ‖F(x)‖₂ ≤ this (default 1e-10; ≥ 0).</summary>
    public double ResidualTolerance { get; init; } = 1e-10;

    /// <summary>Stop when an accepted step has ‖Δx‖₂ ≤ this·(1 + ‖x‖₂) (default 1e-12; ≥ 0; 0 disables).</summary>
    public double StepTolerance { get; init; } = 1e-12;

    /// <summary>Minimisation: stop when a step decreases f by at most this·max(1, |f|) (default 1e-14; ≥ 0; 0 disables).</summary>
    public double FunctionTolerance { get; init; } = 1e-14;

    /// <summary>
    /// The relative rounding noise assumed in f (default 1e-10; ≥ 0; 0 disables): a full Newton step that fails
    /// the Armijo test but changes f by at most this·max(1, |f|) is accepted when it reduces ‖∇f‖₂, because
    /// near a minimiser the predicted decrease can be below f's own rounding error.
    /// </summary>
    public double FunctionNoise { get; init; } = 1e-10;

    /// <summary>The Armijo (sufficient decrease) constant c₁ in f(x + αp) ≤ f(x) + c₁·α·∇f(x)ᵀp (default 1e-4; in (0, 1)).</summary>
    public double ArmijoConstant { get; init; } = 1e-4;

    /// <summary>The backtracking factor ρ: a rejected step length α becomes ρα (default 0.5; in (0, 1)).</summary>
    public double BacktrackingFactor { get; init; } = 0.5;

    /// <summary>Function evaluations the line search may make per step before it reports <see cref="Termination.LineSearchFailed"/> (default 60; ≥ 1).</summary>
    public int MaxLineSearchTrials { get; init; } = 60;

    /// <summary>
    /// β in the modified Cholesky factorisation (Nocedal &amp; Wright, Algorithm 3.3): the first shift tried
    /// is τ = −minᵢ Hᵢᵢ + β·s where minᵢ Hᵢᵢ ≤ 0, else τ = 0 and then β·s, where s = max(1, maxᵢ |Hᵢᵢ|)
    /// makes β relative to the Hessian's scale (default 1e-3; &gt; 0).
    /// </summary>
    public double InitialShift { get; init; } = 1e-3;

    /// <summary>The factor by which the shift τ grows after each failed Cholesky factorisation (default 2; &gt; 1).</summary>
    public double ShiftGrowth { get; init; } = 2.0;

    /// <summary>Cholesky attempts per step before the solver reports <see cref="Termination.Singular"/> (default 100; ≥ 1).</summary>
    public int MaxShiftAttempts { get; init; } = 100;

    /// <summary>Newton–CG: maximum conjugate-gradient iterations (Hessian-vector products) per step (default 250; ≥ 1).</summary>
    public int MaxCGIterations { get; init; } = 250;

    /// <summary>
    /// Root finding: when the Jacobian is singular, take the minimum-norm least-squares step (SVD) instead of
    /// stopping with <see cref="Termination.Singular"/> (default false). The result counts such steps in
    /// <see cref="NewtonSolveResult.LeastSquaresSteps"/> and says so in its message.
    /// </summary>
    public bool LeastSquaresFallback { get; init; }

    /// <summary>
    /// Compile f once per problem (default true): the solver records f at x0 with <see cref="Fn.Compile(Func{Vec, Real}, Vec)"/>'s
    /// mechanism and takes every value, gradient, Hessian, Hessian-vector product or Jacobian from the compiled
    /// code instead of recording f at each iterate. It is guarded — at a point where f takes another branch
    /// the new path is recorded and compiled there — so the iterates and the result are the same numbers
    /// as with <c>false</c>; only the cost changes (scalar-loop objectives gain most). Where f cannot be
    /// compiled (it uses whole-vector <c>Vec</c>/<c>Mat</c> primitives or custom rules, so far), or the
    /// solver runs inside another transform, the solver uses the eager transforms by itself; the result's
    /// <c>Compiled</c>, <c>NotCompiledReason</c> and <c>Recordings</c> say which ran.
    /// <para>
    /// Set it to false when f is not a deterministic function of x — it has side effects that must happen at
    /// every iterate, reads state that changes during the solve (captured values are constants of the compiled
    /// code; a changed path at the same x throws <see cref="InvalidOperationException"/>), or counts its own
    /// calls — or when f's recording is huge and used at few points (recording for the compiler costs more
    /// than one eager recording).
    /// </para>
    /// </summary>
    public bool Compile { get; init; } = true;

    /// <summary>Receives one <see cref="NewtonIteration"/> for x0 and one per step, as they happen.</summary>
    public IProgress<NewtonIteration>? Progress { get; init; }

    /// <summary>
    /// Checked before each step (and before the first). Cancellation is an ordinary stop, not an exception:
    /// the solver returns with <see cref="Termination.Cancelled"/> and the last accepted point — the best
    /// iterate so far, since every accepted step decreases f (or ‖F‖) — with its value, gradient norm and
    /// history. A step already under way (its Hessian, factorisation and line search) is finished first.
    /// </summary>
    public CancellationToken CancellationToken { get; init; }

    /// <summary>Throws <see cref="ArgumentException"/> naming the first setting outside its range.</summary>
    internal void Validate(string owner)
    {
        static void Require(bool ok, string owner, string name, object value, string range)
        {
            if (!ok)
                throw new ArgumentException($"{owner}: options.{name} is {value} but must be {range}.", "options");
        }
        Require(MaxIterations >= 0, owner, nameof(MaxIterations), MaxIterations, "≥ 0");
        Require(GradientTolerance >= 0, owner, nameof(GradientTolerance), GradientTolerance, "≥ 0 (and not NaN)");
        Require(ResidualTolerance >= 0, owner, nameof(ResidualTolerance), ResidualTolerance, "≥ 0 (and not NaN)");
        Require(StepTolerance >= 0, owner, nameof(StepTolerance), StepTolerance, "≥ 0 (and not NaN)");
        Require(FunctionTolerance >= 0, owner, nameof(FunctionTolerance), FunctionTolerance, "≥ 0 (and not NaN)");
        Require(FunctionNoise >= 0, owner, nameof(FunctionNoise), FunctionNoise, "≥ 0 (and not NaN)");
        Require(ArmijoConstant is > 0 and < 1, owner, nameof(ArmijoConstant), ArmijoConstant, "in (0, 1)");
        Require(BacktrackingFactor is > 0 and < 1, owner, nameof(BacktrackingFactor), BacktrackingFactor, "in (0, 1)");
        Require(MaxLineSearchTrials >= 1, owner, nameof(MaxLineSearchTrials), MaxLineSearchTrials, "≥ 1");
        Require(InitialShift > 0 && double.IsFinite(InitialShift), owner, nameof(InitialShift), InitialShift, "finite and > 0");
        Require(ShiftGrowth > 1 && double.IsFinite(ShiftGrowth), owner, nameof(ShiftGrowth), ShiftGrowth, "finite and > 1");
        Require(MaxShiftAttempts >= 1, owner, nameof(MaxShiftAttempts), MaxShiftAttempts, "≥ 1");
        Require(MaxCGIterations >= 1, owner, nameof(MaxCGIterations), MaxCGIterations, "≥ 1");
    }
}
