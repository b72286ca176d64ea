namespace Hybrid;

/// <summary>
/// The outcome of <see cref="Newton.Minimize"/> or
/// <see cref="Newton.MinimizeCG"/>. The solver never throws for
/// numerical trouble: it stops with a <see cref="Termination"/> reason and the last point whose value and
/// gradient were finite (x0 when f is not finite there).
/// </summary>
/// <param name="Solution">The last accepted point (a copy; always finite).</param>
/// <param name="Value">f(<paramref name="Solution"/>); NaN or ±∞ only when <see cref="Termination"/> is <see cref="Termination.NonFiniteValue"/> at x0.</param>
/// <param name="GradientNorm">‖∇f(<paramref name="Solution"/>)‖₂.</param>
/// <param name="Iterations">Steps taken (accepted Newton steps).</param>
/// <param name="History">Entry 0 for x0, then one entry per step.</param>
/// <param name="Termination">Why the solver stopped.</param>
/// <param name="Message">The reason in words, with the numbers that decided it.</param>
public sealed record NewtonResult(
    double[] Solution,
    double Value,
    double GradientNorm,
    int Iterations,
    IReadOnlyList<NewtonIteration> History,
    Termination Termination,
    string Message)
{
    /// <summary>
    /// True when a tolerance stopped the solver (<see cref="Termination.GradientTolerance"/>,
    /// <see cref="Termination.StepTolerance"/> or <see cref="Termination.FunctionTolerance"/>) and the final
    /// value and gradient are finite. Step and function tolerances mean progress stalled; check
    /// <see cref="GradientNorm"/> when that matters.
    /// </summary>
    public bool Converged =>
        Termination is Termination.GradientTolerance or Termination.StepTolerance or Termination.FunctionTolerance
        && double.IsFinite(Value) && double.IsFinite(GradientNorm);

    /// <summary>
    /// How many times f was recorded (run with derivative tracing): with <see cref="NewtonOptions.Compile"/>
    /// (the default) once at x0 to compile it, plus once for each new path of f a guard found at an accepted
    /// point — 1 for a function without data-dependent branches; otherwise (compile off, inside another
    /// transform, or f not compilable) once per iterate, plus once for each full step accepted within
    /// <see cref="NewtonOptions.FunctionNoise"/>; an f that could not be compiled counts the attempt at x0 too.
    /// Line-search trials are plain evaluations, never recordings.
    /// </summary>
    public int Recordings { get; init; }

    /// <summary>True when every value and derivative came from f compiled at x0 (<see cref="NewtonOptions.Compile"/>).</summary>
    public bool Compiled => NotCompiledReason is null;

    /// <summary>
    /// Why the eager transforms were used — from the start, or from some iterate on — (options.Compile false,
    /// the solver ran inside another transform, f uses primitives the compiler does not replay yet, …); null
    /// when <see cref="Compiled"/>.
    /// </summary>
    public string? NotCompiledReason { get; init; }

    /// <summary>The linear-algebra backend the dense factorisations ran on (<see cref="Hybrid.Kernel.Linalg.Backend"/>), e.g. "MKL 2020.0.4 (/usr/lib/x86_64-linux-gnu/libmkl_rt.so, 2 threads)".</summary>
    public Hybrid.Kernel.Backend Backend { get; init; } = Hybrid.Kernel.Linalg.Backend;
}

/// <summary>
/// The outcome of <see cref="Newton.Solve"/>: a root of F, or why none was found.
/// </summary>
/// <param name="Solution">The last accepted point (a copy; always finite).</param>
/// <param name="Residual">F(<paramref name="Solution"/>).</param>
/// <param name="ResidualNorm">‖F(<paramref name="Solution"/>)‖₂.</param>
/// <param name="Iterations">Steps taken.</param>
/// <param name="LeastSquaresSteps">Steps whose Jacobian was singular and that were taken as minimum-norm least-squares (SVD) steps (only with <see cref="NewtonOptions.LeastSquaresFallback"/>).</param>
/// <param name="History">Entry 0 for x0, then one entry per step (Value is ‖F‖₂, GradientNorm is ‖JᵀF‖₂).</param>
/// <param name="Termination">Why the solver stopped.</param>
/// <param name="Message">The reason in words, with the numbers that decided it.</param>
public sealed record NewtonSolveResult(
    double[] Solution,
    double[] Residual,
    double ResidualNorm,
    int Iterations,
    int LeastSquaresSteps,
    IReadOnlyList<NewtonIteration> History,
    Termination Termination,
    string Message)
{
    /// <summary>True only when ‖F(x)‖₂ ≤ <see cref="NewtonOptions.ResidualTolerance"/> (<see cref="Termination.ResidualTolerance"/>): x is a root to that tolerance.</summary>
    public bool Converged => Termination == Termination.ResidualTolerance;

    /// <summary>
    /// How many times F was recorded (run with derivative tracing): with <see cref="NewtonOptions.Compile"/>
    /// (the default) once at x0 to compile it, plus once for each new path of F a guard found at an accepted
    /// point; otherwise (compile off, inside another transform, or F not compilable) once per Jacobian, i.e.
    /// per iterate; an F that could not be compiled counts the attempt at x0 too. Trial points of the line
    /// search are plain evaluations, never recordings.
    /// </summary>
    public int Recordings { get; init; }

    /// <summary>True when every residual and Jacobian came from F compiled at x0 (<see cref="NewtonOptions.Compile"/>).</summary>
    public bool Compiled => NotCompiledReason is null;

    /// <summary>Why the eager transforms were used, from the start or from some iterate on; null when <see cref="Compiled"/>.</summary>
    public string? NotCompiledReason { get; init; }

    /// <summary>The linear-algebra backend the LU (and SVD) solves ran on (<see cref="Hybrid.Kernel.Linalg.Backend"/>).</summary>
    public Hybrid.Kernel.Backend Backend { get; init; } = Hybrid.Kernel.Linalg.Backend;
}
