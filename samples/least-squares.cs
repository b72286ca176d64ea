// Nonlinear least squares: fit y = a·exp(−b·t) + c to 60 noisy points (fixed seed), three ways on exact
// derivatives — Gauss–Newton with the Jacobian from Fn.JacRev and QR steps, Newton.Minimize on ½‖r‖²
// (the exact Hessian, not JᵀJ), and MathNet's Levenberg–Marquardt given Hybrid's Jacobian through
// Hybrid.Interop.MathNetObjective.LeastSquares — and a convergence plot (least-squares.png, next to this file).
//
//   dotnet run samples/least-squares.cs
#:project ../Api.CSharp/Api.CSharp.csproj
#:project Plotting/Plotting.csproj
#:property Configuration=Release
#:property PublishAot=false
using System.Globalization;
using Hybrid;
using Hybrid.Interop;
using Hybrid.Kernel;
using Hybrid.Samples;
using MathNet.Numerics.LinearAlgebra;
using MathNet.Numerics.Optimization;

CultureInfo.CurrentCulture = CultureInfo.InvariantCulture;
double[] truth = { 2.5, 1.3, 0.5 };
const int m = 60;
const double noise = 0.02;
var rng = new Random(42);
double Normal() => Math.Sqrt(-2 * Math.Log(1 - rng.NextDouble())) * Math.Cos(2 * Math.PI * rng.NextDouble());
var t = Enumerable.Range(0, m).Select(i => 5.0 * i / (m - 1)).ToArray();
var y = t.Select(ti => truth[0] * Math.Exp(-truth[1] * ti) + truth[2] + noise * Normal()).ToArray();
var tv = new Vec(t);
var yv = new Vec(y);

// the model and the residual r(p) = a·exp(−b·t) + c − y, written with whole-vector operations
Vec Model(Vec p, Vec at) => p[0] * Vec.Exp(-p[1] * at) + p[2];
Vec Residual(Vec p) => Model(p, tv) - yv;
var jacobian = Fn.JacRev(Residual);   // 60 × 3, one reverse sweep per residual

Console.WriteLine($"Fit y = a·exp(−b·t) + c to {m} points (truth a = {truth[0]}, b = {truth[1]}, c = {truth[2]}, noise σ = {noise})");
Console.WriteLine($"backend: {Linalg.UseBest()}");
Console.WriteLine();
Console.WriteLine("Gauss–Newton (J from Fn.JacRev, QR steps, backtracking on ‖r‖²)");
Console.WriteLine(" iter          ‖r‖        ‖Jᵀr‖       ‖δ‖    step  a         b         c");

var p = Vector<double>.Build.Dense(new[] { 1.0, 0.5, 0.0 });
var r = Vector<double>.Build.Dense(Residual(new Vec(p.ToArray())).ToArray());
var gnGradient = new List<double>();
var gnValue = new List<double>();
var iterations = 0;
for (; ; iterations++)
{
    var j = jacobian(new Vec(p.ToArray())).ToMatrix();
    var g = j.TransposeThisAndMultiply(r);             // ∇(½‖r‖²) = Jᵀr
    gnGradient.Add(g.L2Norm());
    gnValue.Add(0.5 * r.DotProduct(r));
    if (iterations == 50 || g.L2Norm() <= 1e-8) break;   // Newton.Minimize's default gradient tolerance
    var delta = j.QR().Solve(-r);                      // the Gauss–Newton step: least squares J δ ≈ −r
    var alpha = 1.0;
    Vector<double> pNew, rNew;
    while (true)                                       // Armijo on ‖r‖² with c₁ = 1e-4
    {
        pNew = p + alpha * delta;
        rNew = Vector<double>.Build.Dense(Residual(new Vec(pNew.ToArray())).ToArray());
        if (rNew.DotProduct(rNew) <= r.DotProduct(r) + 1e-4 * alpha * 2 * g.DotProduct(delta) || alpha < 1e-10) break;
        alpha /= 2;
    }
    var step = (pNew - p).L2Norm();
    Console.WriteLine($"{iterations,5} {r.L2Norm(),12:G6} {g.L2Norm(),12:G3} {step,9:G3} {alpha,7:G3}  {p[0],-9:G6} {p[1],-9:G6} {p[2],-9:G6}");
    p = pNew;
    r = rNew;
    if (step <= 1e-12 * (1 + p.L2Norm())) { iterations++; break; }
}
Console.WriteLine($"{iterations,5} {r.L2Norm(),12:G6} {gnGradient[^1],12:G3} {"",9} {"",7}  {p[0],-9:G6} {p[1],-9:G6} {p[2],-9:G6}");

var newton = Newton.Minimize(q => 0.5 * Vec.Dot(Residual(q), Residual(q)), new[] { 1.0, 0.5, 0.0 });
var s = newton.Solution;

var model = MathNetObjective.LeastSquares(Model, Vector<double>.Build.Dense(t), Vector<double>.Build.Dense(y));
var lm = new LevenbergMarquardtMinimizer(maximumIterations: 200).FindMinimum(model, Vector<double>.Build.Dense(new[] { 1.0, 0.5, 0.0 }));
var l = lm.MinimizingPoint;

Console.WriteLine();
Console.WriteLine($"  {"method",-34} {"a",-9} {"b",-9} {"c",-9} {"‖r‖",-9} {"‖∇½‖r‖²‖",-10} iterations");
Console.WriteLine($"  {"Gauss–Newton (Fn.JacRev + QR)",-34} {p[0],-9:G6} {p[1],-9:G6} {p[2],-9:G6} {r.L2Norm(),-9:G6} {gnGradient[^1],-10:G3} {iterations}");
Console.WriteLine($"  {"Newton.Minimize on ½‖r‖²",-34} {s[0],-9:G6} {s[1],-9:G6} {s[2],-9:G6} {Math.Sqrt(2 * newton.Value),-9:G6} {newton.GradientNorm,-10:G3} {newton.Iterations} ({newton.Termination})");
Console.WriteLine($"  {"MathNet Levenberg–Marquardt",-34} {l[0],-9:G6} {l[1],-9:G6} {l[2],-9:G6} {Math.Sqrt(model.Value),-9:G6} {"",-10} {lm.Iterations} ({lm.ReasonForExit}; {model.JacobianEvaluations} exact Jacobians)");
Console.WriteLine($"  (MathNet's standard errors from the fit: a ± {lm.StandardErrors[0]:G3}, b ± {lm.StandardErrors[1]:G3}, c ± {lm.StandardErrors[2]:G3})");

var png = ConvergencePlot.Save(ConvergencePlot.NextToSample("least-squares.png"), "½‖r‖²", "iteration",
    new[] { new Series("Gauss–Newton", gnGradient, gnValue), Series.Of("Newton (exact Hessian)", newton.History) });
Console.WriteLine($"wrote {png}");

var agree = Enumerable.Range(0, 3).All(i => Math.Abs(p[i] - s[i]) < 1e-6 && Math.Abs(l[i] - s[i]) < 1e-5);
Console.WriteLine(agree && newton.Converged ? "The three fits agree." : "The fits disagree: see above.");
return agree && newton.Converged ? 0 : 1;
