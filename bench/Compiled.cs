using System.Diagnostics;
using BenchmarkDotNet.Attributes;
using Hybrid.Kernel;
using MathNet.Numerics.LinearAlgebra;
using MathNet.Numerics.LinearAlgebra.Double;

namespace Hybrid.Bench;

/// Issue 8: compiled scalar-loop Rosenbrock value+gradient (Fn.Compile, recorded once in setup)
/// against the hand-written floor (Baseline). Budgets: ≤ 4× at n = 100, ≤ 5× at 10⁴, ≤ 8× at 10⁶.
[MemoryDiagnoser]
public class CompiledRosenbrock
{
    [Params(100, 10_000, 1_000_000)] public int N;

    double[] x = [], g = [];
    CompiledFunction? compiled, sliced;

    [GlobalSetup]
    public void Setup()
    {
        x = Rosenbrock.Point(N);
        g = new double[N];
        compiled = Fn.Compile(Rosenbrock.Loop, x);
        sliced = Fn.Compile(Rosenbrock.Sliced, x);
        var f0 = Rosenbrock.ValueAndGradient(x, g);
        var gc = new double[N];
        for (var k = 0; k < 2; k++) Check.Close("compiled value", f0, compiled.GradAndValue(x, gc)); // the second use is the warm one
        Check.Close("compiled grad", g, gc);
        Check.Close("compiled Value", Rosenbrock.Value(x), compiled.Value(x));
        if (compiled.Recordings != 1) throw new InvalidOperationException($"{compiled.Recordings} recordings");
        if (!sliced.IsCompiled) throw new InvalidOperationException(sliced.NotCompiledReason);
        for (var k = 0; k < 2; k++) Check.Close("compiled sliced value", f0, sliced.GradAndValue(x, gc));
        Check.Close("compiled sliced grad", g, gc);
    }

    [Benchmark(Baseline = true, Description = "floor: hand-written value+grad")]
    public double Floor() => Rosenbrock.ValueAndGradient(x, g);

    [Benchmark(Description = "plain double f alone")]
    public double PlainF() => Rosenbrock.Value(x);

    [Benchmark(Description = "Fn.Compile, scalar loop: GradAndValue")]
    public double CompiledGrad() => compiled!.GradAndValue(x, g);

    [Benchmark(Description = "Fn.Compile, scalar loop: Value")]
    public double CompiledValue() => compiled!.Value(x);

    [Benchmark(Description = "Fn.Compile, slices: GradAndValue")]
    public double CompiledSlicedGrad() => sliced!.GradAndValue(x, g);
}

/// Issue 8: compiled Hvp, Jvp and dense Hessian of the scalar-loop Rosenbrock against the
/// hand-written Hvp (Baseline). Budgets: Hvp ≤ 6× the hand-written one; Jvp ≤ 1.5× f alone;
/// dense Hessian n = 100 ≤ 0.1 ms. x, v and hv are pinned on 64-byte boundaries (`Aligned`), the same
/// for both sides in every run.
[MemoryDiagnoser]
public class CompiledSecondOrder
{
    [Params(100)] public int N;

    double[] x = [], v = [], hv = [], h = [];
    Matrix<double> hm = DenseMatrix.Create(1, 1, 0.0);
    CompiledFunction? compiled;

    /// A pinned copy of src whose first element sits on a 64-byte boundary (a cache line): every run, and
    /// both sides of the comparison, read the same aligned arrays rather than whatever alignment the
    /// allocator gave this process (the compiled passes load 4 or 8 doubles at a time, where a
    /// misaligned base splits every other load across two lines; the hand-written code loads one).
    internal static double[] Aligned(double[] src)
    {
        var misaligned = new List<double[]>(); // held until an aligned one is found: the next lands elsewhere
        for (var tries = 0; tries < 64; tries++)
        {
            var a = GC.AllocateArray<double>(src.Length, pinned: true);
            if (System.Runtime.InteropServices.Marshal.UnsafeAddrOfPinnedArrayElement(a, 0) % 64 == 0)
            {
                src.CopyTo(a, 0);
                GC.KeepAlive(misaligned);
                return a;
            }
            misaligned.Add(a);
        }
        throw new InvalidOperationException("no 64-byte aligned pinned array in 64 allocations");
    }

    [GlobalSetup]
    public void Setup()
    {
        x = Aligned(Rosenbrock.Point(N));
        v = Aligned(Rosenbrock.Point(N, seed: 2));
        hv = Aligned(new double[N]);
        h = new double[N * N];
        hm = DenseMatrix.Create(N, N, 0.0);
        compiled = Fn.Compile(Rosenbrock.Loop, x);
        Rosenbrock.Hvp(x, v, hv);
        var chv = new double[N];
        for (var k = 0; k < 2; k++) compiled.Hvp(x, v, chv);
        Check.Close("compiled Hvp", hv, chv);
        Rosenbrock.Hessian(x, h);
        compiled.Hessian(x, hm);
        Check.Close("compiled Hessian", h, hm.AsColumnMajorArray()!);
        var dot = 0.0;
        var grad = new double[N];
        Rosenbrock.ValueAndGradient(x, grad);
        for (var i = 0; i < N; i++) dot += grad[i] * v[i];
        compiled.Jvp(x, v, out var t);
        Check.Close("compiled Jvp", dot, t);
    }

    [Benchmark(Baseline = true, Description = "hand-written Hvp")]
    public double[] HandHvp() { Rosenbrock.Hvp(x, v, hv); return hv; }

    [Benchmark(Description = "hand-written dense Hessian")]
    public double[] HandHessian() { Rosenbrock.Hessian(x, h); return h; }

    [Benchmark(Description = "plain double f alone")]
    public double PlainF() => Rosenbrock.Value(x);

    [Benchmark(Description = "Fn.Compile: Hvp")]
    public double[] CompiledHvp() { compiled!.Hvp(x, v, hv); return hv; }

    [Benchmark(Description = "Fn.Compile: Jvp")]
    public double CompiledJvp() => compiled!.Jvp(x, v, out _);

    [Benchmark(Description = "Fn.Compile: dense Hessian (into a matrix)")]
    public Matrix<double> CompiledHessian() { compiled!.Hessian(x, hm); return hm; }
}

/// Issue 8: the cost of Fn.Compile itself (record, build the graph, find the loops, plan the lanes,
/// emit IL) plus the first GradAndValue (which JITs the emitted passes), by graph size and shape:
/// Rosenbrock's scalar loop (8 nodes per term), its slices (8 lowered nodes per element) and a
/// straight-line graph (a loop whose constants differ trip to trip: nothing rolls; past
/// `Compiler.MaxCompiledNodes` straight-line nodes it stays interpreted). Budget ≤ 100 ms at 10⁵ nodes.
public class CompileTime
{
    [Params(1_000, 10_000, 100_000, 1_000_000)] public int Nodes;
    [Params("scalar loop", "slices", "straight-line")] public string Shape = "";

    double[] x = [], g = [];
    Func<Vec, Real> f = Rosenbrock.Loop;

    /// Σ sin(x_i)·(1 + i/1000): 3 nodes per element, a different constant each (nothing rolls).
    public static Real Straight(Vec x)
    {
        Real s = 0.0;
        for (var i = 0; i < x.Length; i++) s += Real.Sin(x[i]) * (1.0 + i * 1e-3);
        return s;
    }

    [GlobalSetup]
    public void Setup()
    {
        (f, var perElement) = Shape switch { "slices" => (Rosenbrock.Sliced, 8), "straight-line" => ((Func<Vec, Real>)Straight, 3), _ => (Rosenbrock.Loop, 8) };
        x = Rosenbrock.Point(Nodes / perElement + 1);
        g = new double[x.Length];
    }

    [Benchmark(Description = "Fn.Compile + first GradAndValue")]
    public double CompileAndFirstCall() => Fn.Compile(f, x).GradAndValue(x, g);

    [Benchmark(Description = "eager Fn.GradAndValue, for scale")]
    public Real Eager() => Fn.GradAndValue(f)(x).Value;

    /// `dotnet run -c Release --project bench -- compile-parts [nodes …]`: where Fn.Compile's time
    /// goes, per shape and size, the least of five: recording the graph, finding the loops, planning
    /// the lanes (memory reads and a plan per loop, once per path), emitting the passes Fn.Compile
    /// emits (forward, lean forward, guards, lean reverse: IL only, the JIT runs at the first call),
    /// and the whole of Fn.Compile with its first GradAndValue.
    public static void Parts(string[] args)
    {
        foreach (var nodes in args.Length > 0 ? args.Select(int.Parse).ToArray() : new[] { 1_000, 10_000, 100_000, 1_000_000 })
            foreach (var shape in new[] { "scalar loop", "slices", "straight-line" })
            {
                var b = new CompileTime { Nodes = nodes, Shape = shape };
                b.Setup();
                var (f, x, g) = (b.f, b.x, b.g);
                double Least(Action a)
                {
                    var least = double.MaxValue;
                    for (var r = 0; r < 5; r++) { var t = Stopwatch.StartNew(); a(); least = Math.Min(least, t.Elapsed.TotalMilliseconds); }
                    return least;
                }
                Graph Record() => ((Microsoft.FSharp.Core.FSharpChoice<Graph, Unsupported>.Choice1Of2)GraphRecorder.record("parts", v => new[] { f(v) }, x)).Item;
                var graph = Record();
                var loops = Loops.find(graph);
                var il = Loops.straightNodes(graph, loops) <= Compiler.MaxCompiledNodes;
                var record = Least(() => Record());
                var find = Least(() => Loops.find(graph));
                var plan = Least(() => Emit.laneReasons(graph, loops));
                var emit = il ? Least(() =>
                {
                    var ls = Loops.find(graph); // (a fresh array: the lane plans are cached per loops array)
                    Emit.forward(graph, ls); Emit.forwardLean(graph, ls); Emit.guards(graph, Loops.findGuards(graph)); Emit.reverse(graph, ls, false); Emit.leanClear(graph, ls);
                }) - find : double.NaN;
                var whole = Least(() => Fn.Compile(f, x).GradAndValue(x, g));
                Console.WriteLine($"{graph.Count,8} nodes  {shape,-13} record {record,7:F1} ms  loops {find,6:F1} ms  lane plans {plan,6:F2} ms  emit {(il ? $"{emit,7:F1} ms" : "   (interpreted)")}  Fn.Compile + first call {whole,7:F1} ms");
            }
    }

    /// `dotnet run -c Release --project bench -- chunks [nodes …]`: straight-line IL by size and
    /// `Emit.ChunkNodes` (nodes per emitted method): Fn.Compile + first GradAndValue (the JIT of the
    /// lean forward and reverse passes), the least of three, and a warm GradAndValue per call (the
    /// least of 20 batches), beside the interpreter's (`Compiler.MaxCompiledNodes` = 0): where IL
    /// stops paying for its JIT.
    public static void ChunkReport(string[] args)
    {
        var limit = Compiler.MaxCompiledNodes;
        var chunk = Emit.ChunkNodes;
        try
        {
            foreach (var nodes in args.Length > 0 ? args.Select(int.Parse).ToArray() : new[] { 300, 1_000, 3_000, 10_000 })
            {
                var x = Rosenbrock.Point(nodes / 3 + 1);
                var g = new double[x.Length];
                foreach (var (name, size, il) in new[] { ("interpreted", 0, false), ("IL, chunks of 50", 50, true), ("IL, chunks of 100", 100, true), ("IL, chunks of 200", 200, true), ("IL, chunks of 400", 400, true) })
                {
                    Compiler.MaxCompiledNodes = il ? int.MaxValue : 0;
                    Emit.ChunkNodes = il ? size : chunk;
                    var best = double.MaxValue;
                    CompiledFunction? c = null;
                    for (var r = 0; r < 3; r++)
                    {
                        var sw = Stopwatch.StartNew();
                        c = Fn.Compile((Func<Vec, Real>)Straight, x);
                        c.GradAndValue(x, g);
                        best = Math.Min(best, sw.Elapsed.TotalMilliseconds);
                    }
                    var calls = Math.Max(10, 300_000 / nodes);
                    var least = double.MaxValue;
                    for (var b = 0; b < 20; b++)
                    {
                        var t = Stopwatch.StartNew();
                        for (var k = 0; k < calls; k++) c!.GradAndValue(x, g);
                        least = Math.Min(least, t.Elapsed.TotalMilliseconds * 1000 / calls);
                    }
                    Console.WriteLine($"{c!.Nodes,7} nodes  {name,-18} Fn.Compile + first call {best,8:F1} ms   GradAndValue {least,9:F2} µs");
                }
            }
        }
        finally
        {
            Compiler.MaxCompiledNodes = limit;
            Emit.ChunkNodes = chunk;
        }
    }

    /// `dotnet run -c Release --project bench -- lanes [n …]`: the compiled sliced Rosenbrock's
    /// GradAndValue per call, lanes off, Vector256 with adjoints of overlapping slices through memory,
    /// Vector256 with them through registers, Vector512 (where accelerated), as ratios to the
    /// hand-written floor measured in the same batches (a quick look, without BenchmarkDotNet).
    public static void LaneReport(string[] args)
    {
        var lanes = Emit.Lanes;
        var wide = Emit.Wide;
        var shifts = Emit.Shifts;
        try
        {
            foreach (var n in args.Length > 0 ? args.Select(int.Parse).ToArray() : new[] { 100, 10_000, 1_000_000 })
            {
                var x = Rosenbrock.Point(n);
                var g = new double[n];
                var configs = new (string Name, bool Lanes, bool Wide, bool Shifts)[]
                {
                    ("scalar loop", false, false, true), ("Vector256, memory", true, false, false),
                    ("Vector256, shift", true, false, true), ("Vector512, shift", true, true, true),
                };
                var compiled = configs.Select(cfg =>
                {
                    (Emit.Lanes, Emit.Wide, Emit.Shifts) = (cfg.Lanes, cfg.Wide, cfg.Shifts);
                    var c = Fn.Compile(Rosenbrock.Sliced, x);
                    c.GradAndValue(x, g);
                    c.GradAndValue(x, g); // the second use emits the IL
                    return c;
                }).ToArray();
                var calls = Math.Max(3, 2_000_000 / n);
                var warm = Stopwatch.StartNew();
                while (warm.ElapsedMilliseconds < 1000) { foreach (var c in compiled) c.GradAndValue(x, g); Rosenbrock.ValueAndGradient(x, g); }
                double Batch(Action call)
                {
                    var t = Stopwatch.StartNew();
                    for (var k = 0; k < calls; k++) call();
                    return t.Elapsed.TotalMilliseconds * 1000 / calls;
                }
                // interleaved batches, per configuration the median of its ratios to the floor's batch beside it
                var ratios = configs.Select(_ => new List<double>()).ToArray();
                var floors = new List<double>();
                for (var b = 0; b < 21; b++)
                    for (var k = 0; k < compiled.Length; k++)
                    {
                        var floor = Batch(() => Rosenbrock.ValueAndGradient(x, g));
                        var c = compiled[k];
                        ratios[k].Add(Batch(() => c.GradAndValue(x, g)) / floor);
                        floors.Add(floor);
                    }
                floors.Sort();
                Console.WriteLine($"n = {n}: floor {floors[floors.Count / 2]:F2} µs (median); Vector512 accelerated: {System.Runtime.Intrinsics.Vector512.IsHardwareAccelerated}");
                for (var k = 0; k < configs.Length; k++)
                {
                    ratios[k].Sort();
                    Console.WriteLine($"  {configs[k].Name,-20} {ratios[k][ratios[k].Count / 2],6:F2}×  (quartiles {ratios[k][5]:F2}–{ratios[k][15]:F2})");
                }
            }
        }
        finally
        {
            (Emit.Lanes, Emit.Wide, Emit.Shifts) = (lanes, wide, shifts);
        }
    }

    /// `dotnet run -c Release --project bench -- compile-time`: wall-clock compile times, IL (loops
    /// rolled, or every node straight-line) and interpreted, and the per-call cost of each, without
    /// BenchmarkDotNet (a quick look).
    public static void Report(string[] args)
    {
        foreach (var nodes in args.Length > 0 ? args.Select(int.Parse).ToArray() : new[] { 1_000, 10_000, 100_000 })
        {
            var x = Rosenbrock.Point(nodes / 8 + 1);
            var g = new double[x.Length];
            foreach (var mode in new[] { "IL, loops", "IL, unrolled", "interpreter" })
            {
                var il = mode != "interpreter";
                var limit = Compiler.MaxCompiledNodes;
                var minTrips = Loops.MinTrips;
                Compiler.MaxCompiledNodes = il ? int.MaxValue : 0;
                if (mode == "IL, unrolled") Loops.MinTrips = int.MaxValue;
                try
                {
                    Fn.Compile(Rosenbrock.Loop, x).GradAndValue(x, g); // warm the recorder
                    var best = double.MaxValue;
                    CompiledFunction? c = null;
                    for (var r = 0; r < 3; r++)
                    {
                        var sw = Stopwatch.StartNew();
                        c = Fn.Compile(Rosenbrock.Loop, x);
                        c.GradAndValue(x, g);
                        best = Math.Min(best, sw.Elapsed.TotalMilliseconds);
                    }
                    var calls = Math.Max(10, 400_000 / nodes);
                    var warm = Stopwatch.StartNew();
                    while (warm.ElapsedMilliseconds < 500) { c!.GradAndValue(x, g); Rosenbrock.ValueAndGradient(x, g); } // past tiering
                    // per call, the least over 30 batches (robust to a loaded machine: the quietest batch)
                    double Least(Action call)
                    {
                        var least = double.MaxValue;
                        for (var b = 0; b < 30; b++)
                        {
                            var t = Stopwatch.StartNew();
                            for (var k = 0; k < calls; k++) call();
                            least = Math.Min(least, t.Elapsed.TotalMilliseconds * 1000 / calls);
                        }
                        return least;
                    }
                    var perCall = Least(() => c!.GradAndValue(x, g));
                    var perValue = Least(() => c!.Value(x));
                    var perFloor = Least(() => Rosenbrock.ValueAndGradient(x, g));
                    Console.WriteLine($"{c!.Nodes,8} nodes  {mode,-12}  compile + first call {best,8:F2} ms   GradAndValue {perCall,9:F2} µs  ({perCall / perFloor:F1}× hand-written), Value {perValue,9:F2} µs");
                }
                finally
                {
                    Compiler.MaxCompiledNodes = limit;
                    Loops.MinTrips = minTrips;
                }
            }
        }
    }
}
