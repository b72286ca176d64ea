// Newton's method on exact derivatives: the dense solver (Hessian + modified Cholesky) and Newton–CG
// (Hessian-vector products), on Rosenbrock in 2 and 100 dimensions; progress reported as it happens,
// a run cancelled half-way, and a convergence plot (newton.png, next to this file).
//
//   dotnet run samples/newton.cs
#:project ../Api.CSharp/Api.CSharp.csproj
#:project Plotting/Plotting.csproj
#:property Configuration=Release
#:property PublishAot=false
using System.Diagnostics;
using System.Globalization;
using Hybrid;
using Hybrid.Kernel;
using Hybrid.Samples;

CultureInfo.CurrentCulture = CultureInfo.InvariantCulture;
Console.WriteLine($"backend: {Linalg.UseBest()}");

// Rosenbrock written with slices: each operation is one tape node, whatever n is.
static Real Rosenbrock(Vec x) =>
    Vec.Sum(100.0 * Vec.Square(x[1..] - Vec.Square(x[..^1])) + Vec.Square(1.0 - x[..^1]));
static string Show(double[] x) => "[" + string.Join(", ", x.Take(4).Select(v => v.ToString("G6"))) + (x.Length > 4 ? $", … ({x.Length})" : "") + "]";

// 1. The classic start (−1.2, 1), every iteration printed as it happens (NewtonIteration carries xₖ).
Console.WriteLine();
Console.WriteLine("Newton.Minimize(Rosenbrock, [-1.2, 1])");
Console.WriteLine(" iter             f        ‖∇f‖    step        τ  x");
var print = new Printer(h => Console.WriteLine($"{h.Iteration,5} {h.Value,13:G6} {h.GradientNorm,11:G3} {h.StepSize,7:G3} {h.Tau,8:G3}  {Show(h.X)}"));
var classic = Newton.Minimize(Rosenbrock, new[] { -1.2, 1.0 }, new NewtonOptions { Progress = print });
Console.WriteLine($"→ {classic.Termination}: {classic.Message}");

// 2. n = 100: the dense solver against Newton–CG from the same start.
var x0 = Enumerable.Range(0, 100).Select(i => 0.5 - 0.2 * Math.Cos(i)).ToArray();
var clock = Stopwatch.StartNew();
var dense = Newton.Minimize(Rosenbrock, x0);
var denseMs = clock.Elapsed.TotalMilliseconds;
clock.Restart();
var cg = Newton.MinimizeCG(Rosenbrock, x0, new NewtonOptions { MaxIterations = 1000 });
var cgMs = clock.Elapsed.TotalMilliseconds;
Console.WriteLine();
Console.WriteLine("Rosenbrock, n = 100, x0 = 0.5 − 0.2·cos(i)");
Console.WriteLine($"  {"solver",-20} {"iterations",10} {"Hv products",12} {"final ‖∇f‖",11} {"time",9}  termination");
Console.WriteLine($"  {"Newton.Minimize",-20} {dense.Iterations,10} {"(dense H)",12} {dense.GradientNorm,11:G3} {denseMs,6:F0} ms  {dense.Termination}");
Console.WriteLine($"  {"Newton.MinimizeCG",-20} {cg.Iterations,10} {cg.History.Sum(h => h.InnerIterations),12} {cg.GradientNorm,11:G3} {cgMs,6:F0} ms  {cg.Termination}");

// 3. Cancellation is a result, not an exception: stop after the 5th step, keep the best point so far.
using var cts = new CancellationTokenSource();
var stopAtFive = new Printer(h => { if (h.Iteration == 5) cts.Cancel(); });
var cancelled = Newton.Minimize(Rosenbrock, x0, new NewtonOptions { Progress = stopAtFive, CancellationToken = cts.Token });
Console.WriteLine();
Console.WriteLine($"cancelled after step 5: {cancelled.Termination}, {cancelled.Iterations} iterations, f = {cancelled.Value:G6} (f(x0) = {cancelled.History[0].Value:G6}), x = {Show(cancelled.Solution)}");

var png = ConvergencePlot.Save(ConvergencePlot.NextToSample("newton.png"), "Rosenbrock", "iteration",
    new[]
    {
        Series.Of("Newton, n = 2", classic.History),
        Series.Of("Newton, n = 100", dense.History),
        Series.Of("Newton–CG, n = 100", cg.History),
    }, optimum: 0.0);
Console.WriteLine($"wrote {png}");

var ok = classic.Converged && dense.Converged && cg.Converged && cancelled.Termination == Termination.Cancelled
    && Math.Abs(classic.Solution[0] - 1) < 1e-8 && dense.Solution.All(v => Math.Abs(v - 1) < 1e-6);
Console.WriteLine(ok ? "All runs converged to x = (1, …, 1)." : "A run did not converge: see above.");
return ok ? 0 : 1;

/// <summary>Reports each iteration on the solver's thread, in order (Progress&lt;T&gt; would post to the thread pool).</summary>
sealed class Printer(Action<NewtonIteration> print) : IProgress<NewtonIteration>
{
    public void Report(NewtonIteration value) => print(value);
}
