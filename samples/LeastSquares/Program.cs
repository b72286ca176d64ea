// Nonlinear least squares by Gauss–Newton: fit y = a·exp(−b·t) + c to noisy synthetic data (fixed seed).
// The residual r(p) = model(t; p) − y is an ordinary C# function of the parameters; its Jacobian comes
// from Fn.JacRev (reverse mode: one backward pass per residual, 60 here, for 3 parameters). Each step
// solves the linearised problem min ‖J δ + r‖ by QR through MathNet, with backtracking on ‖r‖².
// For comparison, Newton.Minimize on ½‖r‖² (exact Hessian, not the Gauss–Newton JᵀJ) from the same start.
//
//   dotnet run --project samples/LeastSquares -c Release
using Hybrid;
using Hybrid.Kernel;
using MathNet.Numerics.LinearAlgebra;

double[] truth = { 2.5, 1.3, 0.5 };
const int m = 60;
const double noise = 0.02;
var rng = new Random(42);
double Normal() => Math.Sqrt(-2 * Math.Log(1 - rng.NextDouble())) * Math.Cos(2 * Math.PI * rng.NextDouble());
var t = Enumerable.Range(0, m).Select(i => 5.0 * i / (m - 1)).ToArray();
var y = t.Select(ti => truth[0] * Math.Exp(-truth[1] * ti) + truth[2] + noise * Normal()).ToArray();
var tv = new Vec(t);
var yv = new Vec(y);

// r(p) = a·exp(−b·t) + c − y, written with whole-vector operations
Vec Residual(Vec p) => p[0] * Vec.Exp(-p[1] * tv) + p[2] - yv;
var jacobian = Fn.JacRev(Residual);

Console.WriteLine($"Fit y = a·exp(−b·t) + c to {m} points (truth a = {truth[0]}, b = {truth[1]}, c = {truth[2]}, noise σ = {noise})");
Console.WriteLine($"backend: {Linalg.UseBest()}");
Console.WriteLine(" iter           ‖r‖          ‖δ‖    step   a        b        c");

var p = Vector<double>.Build.Dense(new[] { 1.0, 0.5, 0.0 });
var r = Vector<double>.Build.Dense(Residual(new Vec(p.ToArray())).ToArray());
var iterations = 0;
Console.WriteLine($"{0,5} {r.L2Norm(),13:E6} {"",12} {"",7} {p[0],-8:F5} {p[1],-8:F5} {p[2],-8:F5}");
for (; iterations < 50; iterations++)
{
    var j = jacobian(new Vec(p.ToArray())).ToMatrix();
    var delta = j.QR().Solve(-r);                 // Gauss–Newton step: least squares J δ ≈ −r
    var alpha = 1.0;
    Vector<double> pNew, rNew;
    while (true)                                  // backtrack on ‖r‖² (Armijo with c₁ = 1e-4)
    {
        pNew = p + alpha * delta;
        rNew = Vector<double>.Build.Dense(Residual(new Vec(pNew.ToArray())).ToArray());
        var slope = 2 * j.TransposeThisAndMultiply(r).DotProduct(delta);
        if (rNew.DotProduct(rNew) <= r.DotProduct(r) + 1e-4 * alpha * slope || alpha < 1e-10) break;
        alpha /= 2;
    }
    var step = (pNew - p).L2Norm();
    p = pNew;
    r = rNew;
    Console.WriteLine($"{iterations + 1,5} {r.L2Norm(),13:E6} {step,12:E3} {alpha,7:G3} {p[0],-8:F5} {p[1],-8:F5} {p[2],-8:F5}");
    if (step <= 1e-10 * (1 + p.L2Norm())) { iterations++; break; }
}
var gradient = jacobian(new Vec(p.ToArray())).ToMatrix().TransposeThisAndMultiply(r);
Console.WriteLine();
Console.WriteLine($"Gauss–Newton:  a = {p[0]:F6}, b = {p[1]:F6}, c = {p[2]:F6}; ‖r‖ = {r.L2Norm():E6}, ‖Jᵀr‖ = {gradient.L2Norm():E2}, {iterations} iterations");

var newton = Newton.Minimize(q => 0.5 * Vec.Dot(Residual(q), Residual(q)), new[] { 1.0, 0.5, 0.0 });
var s = newton.Solution;
Console.WriteLine($"Newton (½‖r‖²): a = {s[0]:F6}, b = {s[1]:F6}, c = {s[2]:F6}; ‖r‖ = {Math.Sqrt(2 * newton.Value):E6}, ‖∇‖ = {newton.GradientNorm:E2}, {newton.Iterations} iterations ({newton.Termination})");
return newton.Converged ? 0 : 1;
