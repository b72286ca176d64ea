// MathNet's quasi-Newton minimisers beside Hybrid's Newton, on the same problem and the same exact
// derivatives: extended Rosenbrock, n = 100. MathNet's BfgsMinimizer, LimitedMemoryBfgsMinimizer and
// NewtonMinimizer get f, ∇f and ∇²f from Hybrid through Hybrid.Interop.MathNetObjective; Newton.Minimize
// takes them from one recording per iterate. Prints iterations, evaluations, time and the final gradient
// norm, and plots ‖∇f‖ and f against time (bfgs-vs-newton.png, next to this file).
//
//   dotnet run samples/bfgs-vs-newton.cs [n]
#:project ../Api.CSharp/Api.CSharp.csproj
#:project Plotting/Plotting.csproj
#:property Configuration=Release
#:property PublishAot=false
using System.Diagnostics;
using System.Globalization;
using Hybrid;
using Hybrid.Interop;
using Hybrid.Kernel;
using Hybrid.Samples;
using MathNet.Numerics.LinearAlgebra;
using MathNet.Numerics.Optimization;

CultureInfo.CurrentCulture = CultureInfo.InvariantCulture;
var n = args.Length > 0 ? int.Parse(args[0], CultureInfo.InvariantCulture) : 100;
const double tolerance = 1e-8;   // ‖∇f‖ at which every solver stops
Console.WriteLine($"Extended Rosenbrock, n = {n}, x0 = 0.5 − 0.2·cos(i), stop at ‖∇f‖ ≤ {tolerance:G3}");
Console.WriteLine($"backend: {Linalg.UseBest()}");

static Real Rosenbrock(Vec x) =>
    Vec.Sum(100.0 * Vec.Square(x[1..] - Vec.Square(x[..^1])) + Vec.Square(1.0 - x[..^1]));
var x0 = Enumerable.Range(0, n).Select(i => 0.5 - 0.2 * Math.Cos(i)).ToArray();

var rows = new List<(string Solver, int Iterations, string Evaluations, double Ms, double GradientNorm, string Exit)>();
var series = new List<Series>();

// Hybrid: Newton.Minimize (value, gradient and Hessian from one recording per iterate, Cholesky steps)
void RunNewton(double[] start, bool record)
{
    var calls = 0;
    var times = new List<double>();
    var clock = Stopwatch.StartNew();
    var stamp = new OnReport(_ => times.Add(clock.Elapsed.TotalMilliseconds));
    var newton = Newton.Minimize(x => { calls++; return Rosenbrock(x); }, start, new NewtonOptions { GradientTolerance = tolerance, Progress = stamp });
    var ms = clock.Elapsed.TotalMilliseconds;
    if (!record) return;
    rows.Add(("Hybrid Newton.Minimize", newton.Iterations, $"{newton.Iterations + 1} f+∇f+∇²f, {calls - newton.Iterations - 1} f", ms, newton.GradientNorm, newton.Termination.ToString()));
    series.Add(Series.Of("Hybrid Newton.Minimize", newton.History) with { X = times });
}

// MathNet, each given the exact derivatives through the adapter (logged at each new gradient evaluation)
void RunMathNet(string solver, Func<IObjectiveFunction, Vector<double>, MinimizationResult> minimize, double[] start, bool record, bool plot)
{
    var objective = MathNetObjective.Create(Rosenbrock);
    var log = new List<(double T, double G, double F)>();
    var watch = Stopwatch.StartNew();
    string exit;
    int iterations;
    double gradientNorm;
    try
    {
        var result = minimize(new Logged(objective, watch, log), Vector<double>.Build.Dense(start));
        exit = result.ReasonForExit.ToString();
        iterations = result.Iterations;
        gradientNorm = result.FunctionInfoAtMinimum.Gradient.L2Norm();
    }
    catch (MaximumIterationsException e)
    {
        exit = $"failed: {e.Message}";
        iterations = -1;
        gradientNorm = log.Count > 0 ? log[^1].G : double.NaN;
    }
    var ms = watch.Elapsed.TotalMilliseconds;
    if (!record) return;
    var work = $"{objective.GradientEvaluations} f+∇f, {objective.ValueEvaluations - objective.GradientEvaluations} f"
        + (objective.HessianEvaluations > 0 ? $", {objective.HessianEvaluations} ∇²f" : "");
    rows.Add((solver, iterations, work, ms, gradientNorm, exit));
    if (plot) series.Add(new Series(solver, log.Select(l => l.G).ToArray(), log.Select(l => l.F).ToArray(), log.Select(l => l.T).ToArray()));
}

void RunAll(double[] start, bool record)
{
    RunNewton(start, record);
    RunMathNet("MathNet BfgsMinimizer", (f, x) => new BfgsMinimizer(tolerance, 0, 0, 10_000).FindMinimum(f, x), start, record, plot: true);
    RunMathNet("MathNet L-BFGS (m = 10)", (f, x) => new LimitedMemoryBfgsMinimizer(tolerance, 0, 0, 10, 10_000).FindMinimum(f, x), start, record, plot: true);
    RunMathNet("MathNet NewtonMinimizer", (f, x) => new NewtonMinimizer(tolerance, 1000, useLineSearch: true).FindMinimum(f, x), start, record, plot: false);
}
RunAll(x0.Take(4).ToArray(), record: false);   // warm-up: compile every code path once, so the times below are steady state
RunAll(x0, record: true);

Console.WriteLine();
Console.WriteLine($"  {"solver",-26} {"iterations",10} {"evaluations",-30} {"time",11} {"final ‖∇f‖",11}  exit");
foreach (var r in rows)
    Console.WriteLine($"  {r.Solver,-26} {r.Iterations,10} {r.Evaluations,-30} {r.Ms,8:F0} ms {r.GradientNorm,11:G3}  {r.Exit}");
Console.WriteLine();
var fewest = rows.Where(r => r.Iterations >= 0).MinBy(r => r.Iterations);
var fastest = rows.Where(r => r.Iterations >= 0).MinBy(r => r.Ms);
Console.WriteLine($"  Fewest iterations: {fewest.Solver}; least time: {fastest.Solver} (one run on this machine).");
Console.WriteLine("  Quasi-Newton methods build curvature from gradients over many cheap iterations; Newton pays for an");
Console.WriteLine("  exact Hessian (n replays of one recording and a Cholesky solve) and needs far fewer. Which costs less");
Console.WriteLine("  time depends on n and on the cost of f; try other n (dotnet run samples/bfgs-vs-newton.cs 400).");

var png = ConvergencePlot.Save(ConvergencePlot.NextToSample("bfgs-vs-newton.png"), $"Rosenbrock n = {n}",
    "time (ms)", series, optimum: 0.0, integerSteps: false);
Console.WriteLine($"wrote {png}");
return rows[0].Exit == nameof(Termination.GradientTolerance) ? 0 : 1;

/// <summary>
/// Passes everything to the adapter and logs (time, ‖∇f‖, f) the first time the gradient is read at a new
/// point, when f is the lowest so far (line-search trials that overshoot are not progress).
/// </summary>
sealed class Logged(IObjectiveFunction inner, Stopwatch watch, List<(double T, double G, double F)> log) : IObjectiveFunction
{
    private bool fresh;
    public Vector<double> Point => inner.Point;
    public double Value => inner.Value;
    public bool IsGradientSupported => inner.IsGradientSupported;
    public Vector<double> Gradient
    {
        get
        {
            var g = inner.Gradient;
            if (fresh && (log.Count == 0 || inner.Value < log[^1].F)) log.Add((watch.Elapsed.TotalMilliseconds, g.L2Norm(), inner.Value));
            fresh = false;
            return g;
        }
    }
    public bool IsHessianSupported => inner.IsHessianSupported;
    public Matrix<double> Hessian => inner.Hessian;
    public void EvaluateAt(Vector<double> point) { inner.EvaluateAt(point); fresh = true; }
    public IObjectiveFunction Fork() => new Logged(inner.Fork(), watch, log);
    public IObjectiveFunction CreateNew() => new Logged(inner.CreateNew(), watch, log);
}

/// <summary>Runs an action at each iteration, on the solver's thread.</summary>
sealed class OnReport(Action<NewtonIteration> action) : IProgress<NewtonIteration>
{
    public void Report(NewtonIteration value) => action(value);
}
