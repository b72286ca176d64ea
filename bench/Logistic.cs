using BenchmarkDotNet.Attributes;
using Hybrid.Kernel;
using MathNet.Numerics.LinearAlgebra;
using MathNet.Numerics.LinearAlgebra.Double;

namespace Hybrid.Bench;

/// The issue-3 model: L2-regularised logistic regression, N = 20 000 rows, d = 200, synthetic data
/// with a fixed seed (the same as samples/LogisticRegression). NLL(w) = Σ log(1 + e^zᵢ) − yᵀz + λ/2‖w‖²,
/// z = Xw. Hybrid writes it with the differentiable matrix primitives; the hand-written versions call
/// MathNet on the registered provider (MKL).
public sealed class LogisticModel
{
    public const int N = 20_000, D = 200;
    public const double Lambda = 1.0;
    public readonly Matrix<double> X;
    public readonly Vector<double> Y;
    readonly Mat xm;
    readonly Vec yv;
    public readonly Func<Vec, Real> Nll;
    // hand-written workspaces (preallocated: the floor allocates nothing per call)
    readonly Vector<double> z = DenseVector.Create(N, 0.0), r = DenseVector.Create(N, 0.0);
    readonly Matrix<double> xs = DenseMatrix.Create(N, D, 0.0);

    public LogisticModel()
    {
        var rng = new Random(20_000);
        double Normal() => Math.Sqrt(-2 * Math.Log(1 - rng.NextDouble())) * Math.Cos(2 * Math.PI * rng.NextDouble());
        var wTrue = DenseVector.Create(D, _ => 3 * Normal() / Math.Sqrt(D));
        X = DenseMatrix.Create(N, D, (_, _) => Normal());
        var zTrue = X * wTrue;
        Y = DenseVector.Create(N, i => rng.NextDouble() < 1 / (1 + Math.Exp(-zTrue[i])) ? 1.0 : 0.0);
        xm = Mat.Wrap(X);
        yv = new Vec(Y.AsArray());
        Nll = w =>
        {
            var zz = xm * w;
            return Vec.Sum(Vec.LogP1(Vec.Exp(zz))) - Vec.Dot(yv, zz) + 0.5 * Lambda * Vec.Dot(w, w);
        };
    }

    public static double[] Start(int seed = 5)
    {
        var rng = new Random(seed);
        return Enumerable.Range(0, D).Select(_ => 0.1 * (rng.NextDouble() - 0.5)).ToArray();
    }

    /// Hand-written NLL and gradient Xᵀ(σ(Xw) − y) + λw into g.
    public double ValueAndGradient(Vector<double> w, Vector<double> g)
    {
        X.Multiply(w, z);
        double nll = 0;
        var za = z.AsArray()!; var ra = r.AsArray()!; var ya = Y.AsArray()!;
        for (int i = 0; i < N; i++)
        {
            double zi = za[i];
            nll += Math.Log(1 + Math.Exp(zi)) - ya[i] * zi;
            ra[i] = 1 / (1 + Math.Exp(-zi)) - ya[i];
        }
        X.TransposeThisAndMultiply(r, g);
        g.Add(w * Lambda, g);
        return nll + 0.5 * Lambda * w.DotProduct(w);
    }

    /// Hand-written Hessian XᵀDX + λI, D = σ(1 − σ), as (√D X)ᵀ(√D X) by one dgemm, into h.
    public void Hessian(Vector<double> w, Matrix<double> h)
    {
        X.Multiply(w, z);
        var za = z.AsArray()!; var xa = X.AsColumnMajorArray()!; var sa = xs.AsColumnMajorArray()!;
        var s = r.AsArray()!;
        for (int i = 0; i < N; i++) { double p = 1 / (1 + Math.Exp(-za[i])); s[i] = Math.Sqrt(p * (1 - p)); }
        for (int j = 0; j < D; j++)
        {
            int o = j * N;
            for (int i = 0; i < N; i++) sa[o + i] = xa[o + i] * s[i];
        }
        xs.TransposeThisAndMultiply(xs, h);
        for (int k = 0; k < D; k++) h[k, k] += Lambda;
    }

    /// Hand-written Newton: full steps from a Cholesky solve until ‖g‖ ≤ tol. Returns iterations.
    public int HandNewton(double[] w0, double tol, out double[] w)
    {
        var wv = DenseVector.OfArray((double[])w0.Clone());
        var g = DenseVector.Create(D, 0.0);
        var h = DenseMatrix.Create(D, D, 0.0);
        int it = 0;
        for (; it < 100; it++)
        {
            ValueAndGradient(wv, g);
            if (g.L2Norm() <= tol) break;
            Hessian(wv, h);
            wv.Subtract(h.Cholesky().Solve(g), wv);
        }
        w = wv.AsArray()!;
        return it;
    }
}

/// Issue 3: NLL value + gradient with the matrix primitives vs hand-written Xᵀ(σ(Xw) − y) on MKL
/// (Baseline). Budget ≤ 1.5×.
[MemoryDiagnoser]
public class LogisticGradient
{
    LogisticModel m = null!;
    double[] w = [];
    Vector<double> wv = null!, g = null!;
    Func<Vec, (Vec Grad, Real Value)> gv = null!;
    CompiledFunction compiled = null!;
    double[] grad = [];

    [GlobalSetup]
    public void Setup()
    {
        Console.WriteLine($"// provider: {Linalg.UseBest()}");
        m = new LogisticModel();
        w = LogisticModel.Start();
        wv = DenseVector.OfArray(w); g = DenseVector.Create(LogisticModel.D, 0.0);
        gv = Fn.GradAndValue(m.Nll);
        double f = m.ValueAndGradient(wv, g);
        var (gr, val) = gv(w);
        Check.Close("NLL", f, (double)val);
        Check.Close("gradient", g.AsArray()!, gr.ToArray(), 1e-8);
        compiled = Fn.Compile(m.Nll, w);
        grad = new double[LogisticModel.D];
        Check.Close("compiled NLL", f, compiled.GradAndValue(w, grad));
        Check.Close("compiled gradient", g.AsArray()!, grad, 1e-8);
    }

    [Benchmark(Baseline = true, Description = "hand-written Xᵀ(σ(Xw) − y) (MKL)")]
    public double Hand() => m.ValueAndGradient(wv, g);

    [Benchmark(Description = "Hybrid Fn.GradAndValue, matrix primitives")]
    public Vec Hybrid() => gv(w).Grad;

    /// Issue 8: the same f compiled (X·w one matrix node: dgemv each way; the loss scalar nodes, IL).
    [Benchmark(Description = "Fn.Compile(f).GradAndValue")]
    public double Compiled() => compiled.GradAndValue(w, grad);
}

/// Issue 3: the dense Hessian (d = 200) by the transforms vs hand-written XᵀDX (Baseline). Budget ≤ 5×.
[MemoryDiagnoser]
public class LogisticHessian
{
    LogisticModel m = null!;
    double[] w = [];
    Vector<double> wv = null!;
    Matrix<double> h = null!;
    Func<Vec, Mat> hess = null!, jacGrad = null!, compiledHess = null!;

    [GlobalSetup]
    public void Setup()
    {
        Console.WriteLine($"// provider: {Linalg.UseBest()}");
        m = new LogisticModel();
        w = LogisticModel.Start();
        wv = DenseVector.OfArray(w); h = DenseMatrix.Create(LogisticModel.D, LogisticModel.D, 0.0);
        hess = Fn.Hessian(m.Nll);
        jacGrad = Fn.JacFwd(Fn.Grad(m.Nll));
        var compiled = Fn.Compile(m.Nll, w);
        Console.WriteLine($"// Fn.Compile: {(compiled.IsCompiled ? "compiled" : compiled.NotCompiledReason)}, {compiled.Nodes} nodes");
        compiledHess = Fn.Hessian(compiled);
        m.Hessian(wv, h);
        Check.Close("Hessian", h.AsColumnMajorArray()!, hess(w).ToMatrix().ToColumnMajorArray(), 1e-8);
        Check.Close("JacFwd(Grad)", h.AsColumnMajorArray()!, jacGrad(w).ToMatrix().ToColumnMajorArray(), 1e-8);
        Check.Close("compiled Hessian", h.AsColumnMajorArray()!, compiledHess(w).ToMatrix().ToColumnMajorArray(), 1e-8);
    }

    [Benchmark(Baseline = true, Description = "hand-written XᵀDX + λI (MKL dgemm)")]
    public Matrix<double> Hand() { m.Hessian(wv, h); return h; }

    [Benchmark(Description = "Hybrid Fn.Hessian, matrix primitives")]
    public Mat Hybrid() => hess(w);

    /// Issue 7: the same Hessian by composition, the inner Grad nested in the outer JacFwd (each
    /// matrix primitive one node per level). Budget: within 2× of Fn.Hessian.
    [Benchmark(Description = "Hybrid Fn.JacFwd(Fn.Grad(f)), nested")]
    public Mat Composed() => jacGrad(w);

    /// Issue 8: Fn.Hessian of Fn.Compile(f) by edge pushing: the elementwise loss one reverse sweep
    /// over its scalar nodes (W diagonal over z), X·w a linear matrix node eliminated as Xᵀ·D·X (blocks of
    /// rows scaled by √D, one dsyrk each: half the hand-written dgemm's flops).
    [Benchmark(Description = "Hybrid Fn.Hessian(Fn.Compile(f))")]
    public Mat Compiled() => compiledHess(w);
}

/// Issue 3: a Newton fit end to end from w = 0: Hybrid's Newton.Minimize (gradient + Hessian from the
/// transforms, Cholesky on MKL, Armijo) vs a hand-written Newton (Baseline). Iterations in the log.
[MemoryDiagnoser]
public class LogisticNewton
{
    LogisticModel m = null!;
    readonly double[] w0 = new double[LogisticModel.D];

    [GlobalSetup]
    public void Setup()
    {
        Console.WriteLine($"// provider: {Linalg.UseBest()}");
        m = new LogisticModel();
        int hand = m.HandNewton(w0, 1e-8, out var wh);
        var res = Newton.Minimize(m.Nll, w0, Eager);
        Console.WriteLine($"// Newton iterations: Hybrid {res.Iterations} ({res.Termination}, ‖g‖ = {res.GradientNorm:E2}), hand-written {hand}");
        Check.Close("solution", wh, res.Solution, 1e-6);
        var compiled = Newton.Minimize(m.Nll, w0);
        Console.WriteLine($"// Newton.Minimize compiled: {(compiled.Compiled ? "compiled" : compiled.NotCompiledReason)}; recordings {compiled.Recordings} (eager {res.Recordings})");
        // the compiled Hessian by edge pushing sums in another order: the same solution to rounding
        Check.Close("compiled solution", res.Solution, compiled.Solution, 1e-12);
    }

    static readonly NewtonOptions Eager = new() { Compile = false };

    [Benchmark(Baseline = true, Description = "hand-written Newton (MKL)")]
    public int Hand() => m.HandNewton(w0, 1e-8, out _);

    [Benchmark(Description = "Hybrid Newton.Minimize (Compile = false)")]
    public int Hybrid() => Newton.Minimize(m.Nll, w0, Eager).Iterations;

    /// The default: f compiled once per problem (X·w one matrix node of the compiled graph, calling
    /// BLAS; the loss over z scalar nodes; the Hessian by edge pushing, Xᵀ·D·X by dsyrk per block of rows).
    [Benchmark(Description = "Newton.Minimize compiled (default)")]
    public int HybridCompiled() => Newton.Minimize(m.Nll, w0).Iterations;
}

/// `Bench.dll probe-newton`: where the compiled logistic Hessian and the Newton fit spend their time
/// (Stopwatch, best and median of repeated calls), beside the hand-written pieces, and the bytes a
/// warm compiled Hessian allocates.
public static class LogisticProbe
{
    static (double Best, double Median) Time(Action a, int reps)
    {
        a();
        var t = new double[reps];
        for (int r = 0; r < reps; r++)
        {
            var sw = System.Diagnostics.Stopwatch.StartNew();
            a();
            t[r] = sw.Elapsed.TotalMilliseconds;
        }
        Array.Sort(t);
        return (t[0], t[reps / 2]);
    }

    static void Row(string name, Action a, int reps = 9)
    {
        var (best, median) = Time(a, reps);
        Console.WriteLine($"| {name} | {best:F2} | {median:F2} |");
    }

    public static void Run(string[] args)
    {
        Console.WriteLine($"// provider: {Linalg.UseBest()}");
        var m = new LogisticModel();
        var w = LogisticModel.Start();
        var wv = DenseVector.OfArray(w);
        var g = DenseVector.Create(LogisticModel.D, 0.0);
        var h = DenseMatrix.Create(LogisticModel.D, LogisticModel.D, 0.0);
        var z = DenseVector.Create(LogisticModel.N, 0.0);
        var sw0 = System.Diagnostics.Stopwatch.StartNew();
        if (args.Length > 0 && args[0] == "record")
        {
            for (int r = 0; r < int.Parse(args[1]); r++) GraphRecorder.record("probe", v => new[] { m.Nll(v) }, w);
            return;
        }
        if (args.Length > 0 && args[0] == "create")
        {
            for (int r = 0; r < int.Parse(args[1]); r++) CompiledCore.Create("probe", v => new[] { m.Nll(v) }, (double[])w.Clone());
            return;
        }
        if (args.Length > 0 && args[0] == "newton")
        {
            var z0 = new double[LogisticModel.D];
            var eagerOptions = new NewtonOptions { Compile = false };
            int reps = int.Parse(args[1]);
            var handT = new List<double>(); var comp = new List<double>(); var eag = new List<double>();
            Newton.Minimize(m.Nll, z0); m.HandNewton(z0, 1e-8, out _);
            for (int r = 0; r < reps; r++)
            {
                var sw = System.Diagnostics.Stopwatch.StartNew();
                m.HandNewton(z0, 1e-8, out _);
                handT.Add(sw.Elapsed.TotalMilliseconds); sw.Restart();
                Newton.Minimize(m.Nll, z0);
                comp.Add(sw.Elapsed.TotalMilliseconds); sw.Restart();
                if (args.Length > 2) { Newton.Minimize(m.Nll, z0, eagerOptions); eag.Add(sw.Elapsed.TotalMilliseconds); }
            }
            handT.Sort(); comp.Sort(); eag.Sort();
            Console.WriteLine($"hand best {handT[0]:F0} median {handT[reps / 2]:F0} | compiled best {comp[0]:F0} median {comp[reps / 2]:F0} | ratio of medians {comp[reps / 2] / handT[reps / 2]:F2}, of bests {comp[0] / handT[0]:F2}" + (eag.Count > 0 ? $" | eager median {eag[reps / 2]:F0}" : ""));
            return;
        }
        if (args.Length > 0 && args[0] == "blocks")
        {
            var hb = new double[LogisticModel.D * LogisticModel.D];
            foreach (var size in new[] { 16384, 65536, 262144, 1 << 20, 1 << 24 })
            {
                MatScratch.BlockDoubles = size;
                var c = CompiledCore.Create("probe", v => new[] { m.Nll(v) }, w);
                Row($"compiled Hessian, blocks of {size} doubles", () => c.TryHessian(w, hb), 7);
                Row("hand: Hessian XᵀDX", () => m.Hessian(wv, h), 7);
            }
            return;
        }
        if (args.Length > 0 && args[0] == "hess")
        {
            var hb = new double[LogisticModel.D * LogisticModel.D];
            var c = CompiledCore.Create("probe", v => new[] { m.Nll(v) }, w);
            for (int r = 0; r < int.Parse(args[1]); r++) c.TryHessian(w, hb);
            return;
        }
        if (args.Length > 0 && args[0] == "fit")
        {
            var z0 = new double[LogisticModel.D];
            for (int r = 0; r < int.Parse(args[1]); r++) Newton.Minimize(m.Nll, z0);
            return;
        }
        if (args.Length > 0 && args[0] == "hand")
        {
            var z0 = new double[LogisticModel.D];
            for (int r = 0; r < int.Parse(args[1]); r++)
            {
                var sw = System.Diagnostics.Stopwatch.StartNew();
                var cpu = System.Diagnostics.Process.GetCurrentProcess().TotalProcessorTime;
                m.HandNewton(z0, 1e-8, out _);
                Console.Write($"{sw.Elapsed.TotalMilliseconds:F0} ({(System.Diagnostics.Process.GetCurrentProcess().TotalProcessorTime - cpu).TotalMilliseconds:F0} cpu)  ");
            }
            Console.WriteLine();
            return;
        }
        if (args.Length > 0 && args[0] == "create-parts")
        {
            // where CompiledCore.Create's time goes for the NLL: recording (f on the IR trace, lowering,
            // the live pass), the loop search, emitting the IL, the first calls (the JIT)
            Func<Vec, Real[]> fa = v => new[] { m.Nll(v) };
            for (int r = 0; r < int.Parse(args[1]); r++)
            {
                var sw = System.Diagnostics.Stopwatch.StartNew();
                double Lap() { var t = sw.Elapsed.TotalMilliseconds; sw.Restart(); return t; }
                var graph = ((Microsoft.FSharp.Core.FSharpChoice<Graph, Unsupported>.Choice1Of2)GraphRecorder.record("parts", fa, w)).Item;
                var tRec = Lap();
                // as Path.decide: no loop over a matrix node's slots
                var loops = Loops.find(graph).Where(l => graph.Mats.All(q => q.Out + q.OutLen <= l.First || q.Out >= l.End)).ToArray();
                var tFind = Lap();
                Emit.forward(graph, loops); Emit.forwardLean(graph, loops); Emit.guards(graph, Loops.findGuards(graph)); Emit.reverse(graph, loops, false); Emit.leanClear(graph, loops);
                var tEmit = Lap();
                var c = CompiledCore.Create("probe", fa, w);
                var tCreate = Lap();
                var ws = new Workspace();
                var gg = new double[LogisticModel.D];
                double vv = 0;
                c.TryHold(ws, w, gg, ref vv, true);
                var tHold = Lap();
                c.TryHold(ws, w, gg, ref vv, true);
                var tHold2 = Lap();
                if (r == 0)
                {
                    foreach (var (a, b) in new[] { (200, 20200), (20200, 40202), (40202, graph.Count), (200, graph.Count) })
                    {
                        var t0 = System.Diagnostics.Stopwatch.StartNew();
                        var ls = Loops.runsOf(a, b, Microsoft.FSharp.Core.FuncConvert.FromFunc<int, int>(i => Loops.nodeKey(graph, i)),
                            Microsoft.FSharp.Core.FuncConvert.FromFunc<int, int, bool>((i, j) => Loops.sameNode(graph, i, j)), graph.A0, graph.A1);
                        Console.WriteLine($"//   runs [{a}, {b}): {t0.Elapsed.TotalMilliseconds:F1} ms, {ls.Length} runs");
                    }
                    foreach (var l in Loops.find(graph)) Console.WriteLine($"//   loop at {l.First}, period {l.Period}, trips {l.Trips}{(l.Data ? ", data" : "")}");
                    foreach (var q in graph.Mats) Console.WriteLine($"//   matrix node {q.Rule.Name} out {q.Out} .. {q.Out + q.OutLen - 1}");
                }
                Console.WriteLine($"{graph.Count} nodes, {loops.Length} loops | record {tRec:F1} | loops {tFind:F1} | emit {tEmit:F1} | Create {tCreate:F1} | first hold (JIT) {tHold:F1} | second hold {tHold2:F1} ms");
            }
            return;
        }
        if (args.Length > 0 && args[0] == "parts")
        {
            var xs = new double[LogisticModel.D];
            var gg = new double[LogisticModel.D];
            var hh = new double[LogisticModel.D * LogisticModel.D];
            var yy = new double[1];
            double vv = 0;
            for (int r = 0; r < int.Parse(args[1]); r++)
            {
                var sw = System.Diagnostics.Stopwatch.StartNew();
                double Lap() { var t = sw.Elapsed.TotalMilliseconds; sw.Restart(); return t; }
                GraphRecorder.record("probe", v => new[] { m.Nll(v) }, xs);
                var tRec = Lap();
                var c = CompiledCore.Create("probe", v => new[] { m.Nll(v) }, xs);
                var tCreate = Lap();
                var ws = new Workspace();
                var p = c.TryHold(ws, xs, gg, ref vv);
                var tHold1 = Lap();
                c.TryHessian(xs, hh);
                var tHess1 = Lap();
                c.TryValueKnown(xs, yy);
                var tVal1 = Lap();
                p = c.TryHold(ws, xs, gg, ref vv);
                var tHold = Lap();
                c.TryHessian(xs, hh);
                var tHess = Lap();
                c.TryValueKnown(xs, yy);
                var tVal = Lap();
                Console.WriteLine($"record {tRec:F1} | create {tCreate:F1} | first hold {tHold1:F1} hessian {tHess1:F1} value {tVal1:F1} | then hold {tHold:F1} hessian {tHess:F1} value {tVal:F1} ms");
            }
            return;
        }
        var core = CompiledCore.Create("probe", v => new[] { m.Nll(v) }, (double[])w.Clone());
        Console.WriteLine($"// compile at x0: {sw0.Elapsed.TotalMilliseconds:F1} ms, {core.Nodes} nodes, IL {core.IsCompiled}");
        int d = LogisticModel.D;
        var hc = new double[d * d];
        var gc = new double[d];
        var y = new double[1];
        double val = 0;
        Console.WriteLine("| case | best ms | median ms |");
        Console.WriteLine("|---|---:|---:|");
        Row("hand: X·w (dgemv)", () => m.X.Multiply(wv, z));
        Row("hand: Xᵀ·z (dgemv)", () => m.X.TransposeThisAndMultiply(z, g));
        Row("hand: ValueAndGradient", () => m.ValueAndGradient(wv, g));
        Row("hand: Hessian XᵀDX", () => m.Hessian(wv, h));
        Row("hand: Cholesky solve", () => h.Cholesky().Solve(g));
        Row("compiled: Value", () => core.TryValue(w, y));
        Row("compiled: GradAndValue", () => core.TryGradAndValue(w, gc, ref val));
        Row("compiled: Hessian", () => core.TryHessian(w, hc));
        Row("record (GraphRecorder.record)", () => GraphRecorder.record("probe", v => new[] { m.Nll(v) }, w), 5);
        Row("record + compile (CompiledCore.Create)", () => CompiledCore.Create("probe", v => new[] { m.Nll(v) }, (double[])w.Clone()), 5);
        core.TryHessian(w, hc);
        long before = GC.GetAllocatedBytesForCurrentThread();
        core.TryHessian(w, hc);
        Console.WriteLine($"// compiled Hessian allocates {GC.GetAllocatedBytesForCurrentThread() - before} B per call (HessianBy {core.HessianBy})");
        var w0 = new double[d];
        int hand = m.HandNewton(w0, 1e-8, out _);
        var eager = new NewtonOptions { Compile = false };
        var rc = Newton.Minimize(m.Nll, w0);
        Console.WriteLine($"// Newton iterations: hand {hand}, compiled {rc.Iterations} ({rc.Termination}, compiled {rc.Compiled}, recordings {rc.Recordings}, line-search trials {rc.History.Sum(e => e.LineSearchTrials)})");
        Row("hand Newton", () => m.HandNewton(w0, 1e-8, out _), 5);
        Row("Newton.Minimize compiled", () => Newton.Minimize(m.Nll, w0), 5);
        Row("Newton.Minimize eager", () => Newton.Minimize(m.Nll, w0, eager), 3);
        before = GC.GetAllocatedBytesForCurrentThread();
        Newton.Minimize(m.Nll, w0);
        Console.WriteLine($"// Newton.Minimize compiled allocates {(GC.GetAllocatedBytesForCurrentThread() - before) / 1e6:F1} MB");
    }
}
