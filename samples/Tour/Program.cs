// The Hybrid tour: every transform, the seed examples with their expected numbers, hand vs finite
// differences vs Hybrid, a Newton solve, and the linear-algebra backend in use. The nine seed examples,
// where they come from and what each means, are described in samples/README.md.
//
//     dotnet run --project samples/Tour
//
// Every number is printed by one helper, Fmt (at the end): six significant digits everywhere, except the
// table that compares derivatives by their last digits, which prints all seventeen.
using System.Diagnostics;
using System.Globalization;
using System.Numerics;
using Hybrid;
using Hybrid.Kernel;
using MathNet.Numerics.Differentiation;
using static Fmt;

CultureInfo.DefaultThreadCurrentCulture = CultureInfo.InvariantCulture;
CultureInfo.CurrentCulture = CultureInfo.InvariantCulture;
var failures = 0;

Backend backend;
try { backend = Linalg.UseBest(); }
catch (Exception e) when (e is InvalidOperationException or ArgumentException)
{
    Console.WriteLine($"HYBRID_BLAS could not be honoured ({e.Message}); using MathNet's managed code.");
    backend = Linalg.Use(BackendKind.Managed);
}

Section("The seed examples (samples/README.md)");

// 1. grad_and_value with has_aux
{
    var (grad, value, aux) = Fn.GradAndValue((Real x) => (Square(x), "any object"))(2.0);
    Show(1, "Fn.GradAndValue((Real x) => (Square(x), \"any object\"))(2.0)",
        $"grad {Num(grad)}, value {Num(value)}, aux \"{aux}\"", "grad 4, value 4, aux passed through",
        grad.Value == 4 && value.Value == 4 && aux == "any object");
}
// 2. vmap over 100 points in [0, 10], then the gradient of the sum of outputs
{
    var xs = Enumerable.Range(0, 100).Select(i => 10.0 * i / 99).ToArray();
    double[] grad = Fn.Grad((Vec x) => Vec.Sum(Fn.Vmap((Real t) => Square(t))(x)))(xs);
    Show(2, "Fn.Grad((Vec x) => Vec.Sum(Fn.Vmap((Real t) => Square(t))(x)))(linspace(0, 10, 100))",
        Head(grad), "2·xᵢ = [0, 0.20202, 0.40404, …]",
        grad.Select((g, i) => g == 2 * xs[i]).All(ok => ok));
}
// 3. scan with square_if_even and aux (even/odd), then the gradient of the outputs' sum
{
    double[] xs = { 1, 2, 3, 4 };
    var (grad, _, aux) = Fn.GradAndValue((Vec x) =>
    {
        var (_, steps) = Fn.Scan((Real carry, Real xi) => (carry, (Y: SquareIfEven(xi), Parity: xi.Value % 2 == 0 ? "even" : "odd")), 0.0, x);
        var ys = Vec.OfReals(steps.Select(s => s.Y).ToArray());
        return (Vec.Sum(ys), (Outputs: ys.ToArray(), Parity: steps.Select(s => s.Parity).ToArray()));
    })(xs);
    double[] g = grad;
    Show(3, "Fn.Scan((carry, x) => (carry, (SquareIfEven(x), parity)), 0, [1, 2, 3, 4]) under Fn.GradAndValue",
        $"outputs {Num(aux.Outputs)}, gradient {Num(g)}, aux [{string.Join(", ", aux.Parity)}]",
        "outputs [1, 4, 3, 16], gradient [1, 4, 1, 8], aux [odd, even, odd, even]",
        aux.Outputs.SequenceEqual(new[] { 1.0, 4, 3, 16 }) && g.SequenceEqual(new[] { 1.0, 4, 1, 8 })
        && aux.Parity.SequenceEqual(new[] { "odd", "even", "odd", "even" }));
}
// 4. hessian
{
    var h = Fn.Hessian((Real x) => Square(x))(2.0);
    var h1 = Fn.Hessian((Vec x) => Square(x[0]))(new[] { 2.0 });
    Show(4, "Fn.Hessian((Real x) => Square(x))(2.0); vector form Fn.Hessian((Vec x) => Square(x[0]))([2.0])",
        $"{Num(h)}; {h1.Rows}×{h1.Cols} {Num(h1)}", "2 (a 1×1 matrix for the vector form)", h.Value == 2 && h1[0, 0].Value == 2);
}
// 5. jvp
{
    var (y, t) = Fn.Jvp((Real x) => Square(x), 2.0, 1.0);
    Show(5, "Fn.Jvp((Real x) => Square(x), 2.0, 1.0)", $"({Num(y)}, {Num(t)})", "(4, 4)", y.Value == 4 && t.Value == 4);
}
// 6. plain reverse mode (torch.autograd.grad)
{
    var (_, pullback) = Fn.Vjp((Real x) => Square(x), 2.0);
    var g = pullback(1.0);
    Show(6, "Fn.Vjp((Real x) => Square(x), 2.0).Pullback(1.0)", Num(g), "4", g.Value == 4);
}
// 7. vmap with data-dependent control flow, then its gradient
{
    double[] xs = { 1, 2, 3, 4 };
    double[] ys = Fn.Vmap((Real x) => SquareIfEven(x))(xs);
    double[] g = Fn.Grad((Vec x) => Vec.Sum(Fn.Vmap((Real t) => SquareIfEven(t))(x)))(xs);
    Show(7, "Fn.Vmap((Real x) => SquareIfEven(x))([1, 2, 3, 4]) and the gradient of its sum",
        $"outputs {Num(ys)}, gradient {Num(g)}", "outputs [1, 4, 3, 16], gradient [1, 4, 1, 8]",
        ys.SequenceEqual(new[] { 1.0, 4, 3, 16 }) && g.SequenceEqual(new[] { 1.0, 4, 1, 8 }));
}
// 8. the manual derivative beside the automatic one
{
    var manual = 2 * 2.0;
    var automatic = Fn.Grad((Real x) => Square(x))(2.0);
    Show(8, "2·x at 2 beside Fn.Grad((Real x) => Square(x))(2.0)", $"{Num(manual)} and {Num(automatic)}", "4 and 4", manual == 4 && automatic.Value == 4);
}
// 9. JAX's grad(square)(2.0)
{
    var g = Fn.Grad((Real x) => Square(x))(2.0);
    Show(9, "Fn.Grad((Real x) => Square(x))(2.0)", Num(g), "4", g.Value == 4);
}

Section("Every transform");
{
    Vec x = new[] { -1.2, 1.0, 0.5 };
    Console.WriteLine($"  x = {Num(x)}, f = Rosenbrock written with slices (one tape node per operation)");
    Console.WriteLine($"  Fn.Grad(f)(x)                = {Num(Fn.Grad((Func<Vec, Real>)Rosenbrock)(x))}");
    var (g, v) = Fn.GradAndValue((Func<Vec, Real>)Rosenbrock)(x);
    Console.WriteLine($"  Fn.GradAndValue(f)(x)        = grad {Num(g)}, value {Num(v)}");
    var (yj, tj) = Fn.Jvp((Func<Vec, Real>)Rosenbrock, x, new[] { 1.0, 0.0, 0.0 });
    Console.WriteLine($"  Fn.Jvp(f, x, e₀)             = ({Num(yj)}, {Num(tj)})   (∂f/∂x₀)");
    Func<Vec, Vec> Fv = z => Vec.OfReals(new[] { z[0] * z[1], Real.Sin(z[2]) + z[0] });
    var (yv, pullback) = Fn.Vjp(Fv, x);
    Console.WriteLine($"  Fn.Vjp(Fv, x): F(x) = {Num(yv)}, pullback([1, 0]) = {Num(pullback(new[] { 1.0, 0.0 }))}, pullback([0, 1]) = {Num(pullback(new[] { 0.0, 1.0 }))}");
    var (yl, jvp) = Fn.Linearize(Fv, x);
    Console.WriteLine($"  Fn.Linearize(Fv, x): J·[0, 0, 1] = {Num(jvp(new[] { 0.0, 0.0, 1.0 }))}");
    Console.WriteLine($"  Fn.JacFwd(Fv)(x)  = {Num(Fn.JacFwd(Fv)(x))}");
    Console.WriteLine($"  Fn.JacRev(Fv)(x)  = {Num(Fn.JacRev(Fv)(x))}");
    Console.WriteLine($"  Fn.Jacobian(Fv)(x) (picks reverse: 2 outputs < 3 inputs) = {Num(Fn.Jacobian(Fv)(x))}");
    Console.WriteLine($"  Fn.Hessian(f)(x) = {Num(Fn.Hessian((Func<Vec, Real>)Rosenbrock)(x))}");
    Console.WriteLine($"  Fn.Hvp(f)(x, e₁) = {Num(Fn.Hvp((Func<Vec, Real>)Rosenbrock)(x, new[] { 0.0, 1.0, 0.0 }))}   (column 1 of H, without forming H)");
    Console.WriteLine($"  Fn.Vmap(sin)([0, π/2, π]) = {Num(Fn.Vmap((Real t) => Real.Sin(t))(new[] { 0.0, Math.PI / 2, Math.PI }))}");
    var (carry, ys) = Fn.Scan((Real c, Real xi) => (c + xi, c * xi), 0.0, new[] { 1.0, 2.0, 3.0 });
    Console.WriteLine($"  Fn.Scan((c, x) => (c + x, c·x), 0, [1, 2, 3]) = carry {Num(carry)}, ys {Num(ys)}");
    var confusion = Fn.Grad((Real a) => a * Fn.Grad((Real b) => a + b)(5.0))(3.0);
    Console.WriteLine($"  nesting: d/dx [x · d/dy (x + y)] = {Num(confusion)}   (1: no perturbation confusion)");
    var third = Fn.Grad(Fn.Grad(Fn.Grad((Real t) => t * t * t * t)))(2.0);
    Console.WriteLine($"  Fn.Grad(Fn.Grad(Fn.Grad(x⁴)))(2) = {Num(third)}   (24·2 = 48)");
    failures += confusion.Value == 1 && third.Value == 48 ? 0 : 1;
}

Section("Generic math: one method, every number type");
{
    Console.WriteLine($"  F(x) = exp(x)·sin(x) at 1:  double {Num(F(1.0))}");
    Console.WriteLine($"    Dual (1, 1)          → {Num(F(new Dual(1.0, 1.0)))}      (tangent = f′(1) = e(sin 1 + cos 1))");
    Console.WriteLine($"    HyperDual (1,1,1,0)  → ε₁ε₂ part {Num(F(new HyperDual(1.0, 1.0, 1.0, 0.0)).Eps12)}  (f″(1) = 2e·cos 1 = {Num(2 * Math.E * Math.Cos(1))})");
    Console.WriteLine($"    Fn.Grad((Real x) => F(x))(1) = {Num(Fn.Grad((Real t) => F(t))(1.0))}");
}

Section("By hand, by finite differences, by Hybrid");
{
    // The article's question: which way to get a derivative, by accuracy, speed, control flow and
    // whether the value is needed too. f has a branch and a loop; its derivative by hand is long.
    static double Hand(double x) => x < 0 ? 2 * x : Math.Exp(-x) * (Math.Cos(x) - Math.Sin(x)) + 3 * x * x;
    static T G<T>(T x) where T : INumberBase<T>, IExponentialFunctions<T>, ITrigonometricFunctions<T>, IComparisonOperators<T, T, bool>
    {
        if (x < T.Zero) return x * x;
        var cube = T.One;
        for (var k = 0; k < 3; k++) cube *= x;           // x³ by a loop
        return T.Exp(-x) * T.Sin(x) + cube;
    }
    const double at = 0.7;
    var exact = Hand(at);
    var fd = new NumericalDerivative(5, 2).EvaluateDerivative(G<double>, at, 1);
    var (hybridGrad, hybridValue) = Fn.GradAndValue((Real t) => G(t))(at);
    var dual = G(new Dual(at, 1.0)).Tangent;
    var tHand = Time(() => Hand(at));
    var tFd = Time(() => new NumericalDerivative(5, 2).EvaluateDerivative(G<double>, at, 1));
    var tRev = Time(() => Fn.GradAndValue((Real t) => G(t))(at));
    var tDual = Time(() => G(new Dual(at, 1.0)));
    Console.WriteLine($"  f(x) = x² for x < 0, else e^(−x)·sin x + x³ (written with a loop); f′({Num(at)}) exact = {Exact(exact)}");
    Console.WriteLine($"  {"method",-38} {"f′(0.7)",-22} {"|error|",-10} {"time per call",-14} value too?");
    Console.WriteLine($"  {"by hand (derived on paper)",-38} {Exact(exact),-22} {Num(0.0, 3),-10} {Num(tHand, 3),9} µs   no (separate code)");
    Console.WriteLine($"  {"finite differences (MathNet, 5 pt)",-38} {Exact(fd),-22} {Num(Math.Abs(fd - exact), 3),-10} {Num(tFd, 3),9} µs   no (4 evaluations)");
    Console.WriteLine($"  {"Hybrid reverse (Fn.GradAndValue)",-38} {Exact(hybridGrad.Value),-22} {Num(Math.Abs(hybridGrad.Value - exact), 3),-10} {Num(tRev, 3),9} µs   yes: {Num(hybridValue)}");
    Console.WriteLine($"  {"Hybrid forward (Dual, generic code)",-38} {Exact(dual),-22} {Num(Math.Abs(dual - exact), 3),-10} {Num(tDual, 3),9} µs   yes");
    Console.WriteLine("  By hand is fastest but must be re-derived for every change of f. Finite differences need no");
    Console.WriteLine("  derivation but trade truncation against rounding error through the step size, and cost extra");
    Console.WriteLine("  evaluations per direction (n directions for a gradient). Hybrid is exact to rounding, follows");
    Console.WriteLine("  branches and loops as written, and returns the value with the gradient; reverse mode costs a");
    Console.WriteLine("  small constant times f whatever n is. (Times here are rough; bench/RESULTS.md has measurements.)");
    failures += Math.Abs(hybridGrad.Value - exact) < 1e-14 && Math.Abs(dual - exact) < 1e-14 ? 0 : 1;
}

Section("A Newton solve on the linear-algebra backend");
{
    // Extended Rosenbrock in 50 dimensions from the classic start: gradient and Hessian from one
    // recording per iterate, the Newton step from a Cholesky solve (MKL when installed), a modified
    // factorisation where the Hessian is indefinite, Armijo backtracking.
    var classic = Newton.Minimize(Rosenbrock, new[] { -1.2, 1.0 });
    Console.WriteLine($"  Newton.Minimize(Rosenbrock, [-1.2, 1]) → {classic.Termination} after {classic.Iterations} iterations, x = {Num(classic.Solution)}");
    var x0 = Enumerable.Range(0, 100).Select(i => 0.5 - 0.2 * Math.Cos(i)).ToArray();
    var sw = Stopwatch.StartNew();
    var result = Newton.Minimize(Rosenbrock, x0);
    sw.Stop();
    Console.WriteLine($"  Newton.Minimize(Rosenbrock, x0 = 0.5 − 0.2·cos(i), n = 100)");
    Console.WriteLine($"  → {result.Termination} after {result.Iterations} iterations in {Num(sw.Elapsed.TotalMilliseconds, 3)} ms: f = {Num(result.Value, 3)}, ‖∇f‖ = {Num(result.GradientNorm, 3)}, x[0..3] = {Num(result.Solution.Take(4).ToArray())}");
    Console.WriteLine($"    iterations with an indefinite Hessian (τ > 0): {result.History.Count(h => h.Tau > 0)}");
    var circle = (Vec z) => Vec.OfReals(new[] { z[0] * z[0] + z[1] * z[1] - 4.0, z[0] - z[1] });
    var root = Newton.Solve(circle, new[] { 1.0, 0.5 });
    Console.WriteLine($"  Newton.Solve(x² + y² = 4, x = y) from (1, 0.5) → {Num(root.Solution)} in {root.Iterations} iterations (√2 = {Num(Math.Sqrt(2))})");
    failures += classic.Converged && result.Converged && root.Converged && Math.Abs(classic.Solution[0] - 1) < 1e-8 && result.Solution.All(v => Math.Abs(v - 1) < 1e-6) ? 0 : 1;
    Console.WriteLine($"  linear algebra backend used: {backend}");
    Console.WriteLine($"  (HYBRID_BLAS=mkl|openblas|managed selects one; scripts/install-mkl.sh installs MKL)");
}

Console.WriteLine();
Console.WriteLine(failures == 0 ? "All results match their expected values." : $"{failures} result(s) did not match: see ✗ above.");
return failures == 0 ? 0 : 1;

// ---------------------------------------------------------------------------------- helpers

static T Square<T>(T x) where T : INumberBase<T> => x * x;
static Real SquareIfEven(Real x) => x % 2 == 0 ? x * x : x;   // % and == work on Real; branching uses the value
static Real Rosenbrock(Vec x) => Vec.Sum(100.0 * Vec.Square(x[1..] - Vec.Square(x[..^1])) + Vec.Square(1.0 - x[..^1]));
static T F<T>(T x) where T : INumberBase<T>, IExponentialFunctions<T>, ITrigonometricFunctions<T> => T.Exp(x) * T.Sin(x);

void Show(int row, string call, string result, string expected, bool ok)
{
    if (!ok) failures++;
    Console.WriteLine($"  {row}. {call}");
    Console.WriteLine($"     → {result}    expected {expected}  {(ok ? "✓" : "✗")}");
}

static void Section(string title)
{
    Console.WriteLine();
    Console.WriteLine(title);
    Console.WriteLine(new string('─', title.Length));
}


static double Time(Action a)
{
    for (var i = 0; i < 1000; i++) a();
    var sw = Stopwatch.StartNew();
    var n = 0;
    while (sw.ElapsedMilliseconds < 50) { a(); n++; }
    return sw.Elapsed.TotalMilliseconds * 1000 / n;
}

/// <summary>
/// The tour's one number format: <see cref="Num(double, int)"/> prints six significant digits (G6,
/// invariant culture) for doubles, Reals, Duals, vectors and matrices alike; <see cref="Exact"/> prints the
/// shortest round-trip form ("R", up to 17 digits) where the last digits are the point.
/// </summary>
static class Fmt
{
    public static string Num(double v, int digits = 6) => v.ToString("G" + digits, CultureInfo.InvariantCulture);
    public static string Num(Real v) => Num(v.Value);
    public static string Num(Dual v) => $"{Num(v.Value)} + {Num(v.Tangent)}ε";
    public static string Num(double[] xs) => "[" + string.Join(", ", xs.Select(v => Num(v))) + "]";
    public static string Num(Vec v) => Num(v.ToArray());
    public static string Num(Mat m) =>
        "[" + string.Join("; ", Enumerable.Range(0, m.Rows).Select(i => string.Join(", ", Enumerable.Range(0, m.Cols).Select(j => Num(m[i, j]))))) + "]";
    public static string Head(double[] xs) => "[" + string.Join(", ", xs.Take(3).Select(v => Num(v))) + (xs.Length > 3 ? $", … ({xs.Length})" : "") + "]";
    public static string Exact(double v) => v.ToString("R", CultureInfo.InvariantCulture);
}
