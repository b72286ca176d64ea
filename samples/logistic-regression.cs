// Newton fit of L2-regularised logistic regression: N = 20 000 rows, d = 200 features, synthetic data
// with a fixed seed. The negative log-likelihood is written with Hybrid's differentiable matrix
// primitives — z = X·w is one matrix–vector tape node (dgemv), the log-sum-exp terms are elementwise
// Vec operations — and Newton.Minimize takes its gradient and Hessian from one recording per
// iteration, solving each Newton step by Cholesky on the registered backend (MKL when installed).
// Writes a convergence plot (logistic-regression.png, next to this file).
//
//   dotnet run samples/logistic-regression.cs [N d]      (defaults N = 20 000, d = 200)
#:project ../Api.CSharp/Api.CSharp.csproj
#:project Plotting/Plotting.csproj
#:property Configuration=Release
#:property PublishAot=false
using System.Diagnostics;
using System.Globalization;
using Hybrid;
using Hybrid.Kernel;
using Hybrid.Samples;
using MathNet.Numerics.LinearAlgebra;

CultureInfo.CurrentCulture = CultureInfo.InvariantCulture;
var N = args.Length > 0 ? int.Parse(args[0], CultureInfo.InvariantCulture) : 20_000;
var d = args.Length > 1 ? int.Parse(args[1], CultureInfo.InvariantCulture) : 200;
const double lambda = 1.0; // ridge penalty λ/2·‖w‖²
var backend = Linalg.UseBest();

// --- synthetic data: x ~ N(0, 1), true weights ~ N(0, 9/d) so that |xᵀw| is a few units, y ~ Bernoulli(σ(xᵀw))
var rng = new Random(20_000);
double Normal() => Math.Sqrt(-2 * Math.Log(1 - rng.NextDouble())) * Math.Cos(2 * Math.PI * rng.NextDouble());
// (drawn into arrays in a plain loop: MathNet's Build.Dense(rows, cols, init) may call init from several threads)
var wValues = new double[d];
for (var j = 0; j < d; j++) wValues[j] = 3 * Normal() / Math.Sqrt(d);
var xValues = new double[N * d];
for (var k = 0; k < xValues.Length; k++) xValues[k] = Normal();
var wTrue = Vector<double>.Build.Dense(wValues);
var xData = Matrix<double>.Build.Dense(N, d, xValues); // column-major
var zTrue = xData * wTrue;
var yValues = new double[N];
for (var i = 0; i < N; i++) yValues[i] = rng.NextDouble() < 1 / (1 + Math.Exp(-zTrue[i])) ? 1.0 : 0.0;
var yData = Vector<double>.Build.Dense(yValues);

var X = Mat.Wrap(xData);      // a constant: no copy, no derivative
var y = new Vec(yData.ToArray());

// NLL(w) = Σᵢ log(1 + e^zᵢ) − yᵀz + λ/2‖w‖², z = Xw. (The overflow-safe split max(z, 0) + log1p(e^−|z|) has a
// kink at z = 0 where abs″ = 0 by convention, which would zero the Hessian at w = 0; log1p(eᶻ) is smooth, and a
// trial step with some zᵢ > 709 gives +∞, which the line search rejects.)
Real Nll(Vec w)
{
    var z = X * w;
    return Vec.Sum(Vec.LogP1(Vec.Exp(z))) - Vec.Dot(y, z) + 0.5 * lambda * Vec.Dot(w, w);
}

Console.WriteLine($"Logistic regression by Newton's method: N = {N}, d = {d}, λ = {lambda}");
Console.WriteLine($"backend: {backend}");
Console.WriteLine(" iter            NLL        ‖∇NLL‖    step     τ  trials");
var progress = new Printer(h => Console.WriteLine($"{h.Iteration,5} {h.Value,14:F6} {h.GradientNorm,13:G4} {h.StepSize,7:G3} {h.Tau,5:G2} {h.LineSearchTrials,7}"));
var clock = Stopwatch.StartNew();
var result = Newton.Minimize(Nll, new double[d], new NewtonOptions { Progress = progress });
clock.Stop();

// where the time goes: one dense Hessian by the transforms (d replays of one recording) and one Cholesky solve
var clockH = Stopwatch.StartNew();
var hessian = Fn.Hessian(Nll)(result.Solution).ToMatrix();
var hessianSeconds = clockH.Elapsed.TotalSeconds;
clockH.Restart();
var unused = hessian.Cholesky().Solve(Vector<double>.Build.Dense(d, 1.0));
var choleskySeconds = clockH.Elapsed.TotalSeconds;

// the gradient at the solution by the hand-written formula Xᵀ(σ(Xw) − y) + λw, as an independent check
var w = Vector<double>.Build.Dense(result.Solution);
var z = xData * w;
var handGradient = xData.TransposeThisAndMultiply(z.Map(t => 1 / (1 + Math.Exp(-t))) - yData) + lambda * w;
var accuracy = Enumerable.Range(0, N).Count(i => (z[i] > 0) == (yData[i] > 0.5)) / (double)N;

Console.WriteLine();
Console.WriteLine($"termination:        {result.Termination} — {result.Message}");
Console.WriteLine($"iterations:         {result.Iterations}");
Console.WriteLine($"final ‖∇NLL‖:       {result.GradientNorm:G4} (hand-written gradient: {handGradient.L2Norm():G4})");
Console.WriteLine($"NLL:                {result.Value:F6}");
Console.WriteLine($"time:               {clock.Elapsed.TotalSeconds:F2} s ({clock.Elapsed.TotalSeconds / Math.Max(1, result.Iterations):F2} s per iteration)");
Console.WriteLine($"one Hessian:        {hessianSeconds:F2} s (Fn.Hessian: replays of one recording, 64 directions per replay); one Cholesky solve {choleskySeconds * 1e3:F1} ms");
Console.WriteLine($"training accuracy:  {accuracy:P1}; cos(w, w_true) = {w.DotProduct(wTrue) / (w.L2Norm() * wTrue.L2Norm()):F4}");
Console.WriteLine($"backend:            {Linalg.Backend}");
var png = ConvergencePlot.Save(ConvergencePlot.NextToSample("logistic-regression.png"), $"Logistic regression N = {N}, d = {d}", "Newton iteration",
    new[] { Series.Of("Newton.Minimize", result.History) });
Console.WriteLine($"wrote {png}");
return result.Converged ? 0 : 1;

/// <summary>Prints each iteration as it happens (Progress&lt;T&gt; would post to the thread pool and reorder lines).</summary>
sealed class Printer(Action<NewtonIteration> print) : IProgress<NewtonIteration>
{
    public void Report(NewtonIteration value) => print(value);
}
