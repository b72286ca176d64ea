using System.Diagnostics;
using Hybrid.Kernel;

namespace Hybrid.Bench;

/// `dotnet bench/bin/Release/net10.0/Bench.dll profile`: what a gradient costs besides time — tape
/// nodes and vector ops per element, GC bytes, minor page faults and Gen0/Gen2 collections per call
/// — for the Rosenbrock gradient at each size. Not a benchmark (no BDN); numbers for RESULTS.md.
public static class Profile
{
    static long MinorFaults()
    {
        // /proc/self/stat field 10 (1-based) is minflt; the comm field (2) is in parentheses
        var s = File.ReadAllText("/proc/self/stat");
        var rest = s[(s.LastIndexOf(')') + 2)..].Split(' ');
        return long.Parse(rest[7]);
    }

    public static void Run()
    {
        Linalg.UseBest();
        Console.WriteLine($"backend: {Linalg.Backend}");
        Console.WriteLine("| case | n | µs/call | tape nodes/elem | vec ops | GC bytes/call | minor faults/call | gen0/gen2 per 100 calls |");
        Console.WriteLine("|---|---:|---:|---:|---:|---:|---:|---:|");
        foreach (int n in new[] { 100, 10_000, 1_000_000 })
        {
            var x = Rosenbrock.Point(n);
            var g = new double[n];
            Measure("floor", n, () => Rosenbrock.ValueAndGradient(x, g), null);
            foreach (var (name, f, gv) in new[] { ("loop", Transforms.RosenLoop, Transforms.GradLoop), ("sliced", Transforms.RosenSliced, Transforms.GradSliced) })
            {
                int nodes = 0, ops = 0;
                Func<Vec, Real> counted = v => { var r = f(v); nodes = Traces.Top.Count; ops = Traces.Top.Ops.Count; return r; };
                Measure(name, n, () => gv(x), () => { Fn.GradAndValue(counted)(x); return (nodes, ops); });
            }
            if (n <= 10_000)
            {
                var v = Rosenbrock.Point(n, 2);
                Measure("Hvp sliced (record+replay)", n, () => { var t = Ad.RecordSecondOrder("p", Transforms.RosenSliced, x); t.Hvp(v); t.Release(); }, null);
                Measure("Hvp loop (record+replay)", n, () => { var t = Ad.RecordSecondOrder("p", Transforms.RosenLoop, x); t.Hvp(v); t.Release(); }, null);
            }
        }
    }

    /// Where Fn.Jvp(IScalarFunction) and the logistic Hessian spend their time (stopwatch medians).
    public static void Extra()
    {
        Linalg.UseBest();
        foreach (int n in new[] { 100, 10_000 })
        {
            var x = Rosenbrock.Point(n); var v = Rosenbrock.Point(n, 2);
            var d = new Dual[n];
            IScalarFunction viaInterface = RosenbrockGeneric.Instance;
            Measure("Dual: Generic<Dual> direct", n, () => { for (int i = 0; i < n; i++) d[i] = new Dual(x[i], v[i]); Rosenbrock.Generic<Dual>(d); }, null);
            Measure("Dual: IScalarFunction.Invoke<Dual>", n, () => { for (int i = 0; i < n; i++) d[i] = new Dual(x[i], v[i]); viaInterface.Invoke<Dual>(d); }, null);
            Measure("Dual: Fn.Jvp(IScalarFunction)", n, () => Fn.Jvp(viaInterface, x, v), null);
        }
        var m = new LogisticModel();
        var w = LogisticModel.Start();
        var X = Mat.Wrap(m.X); var y = new Vec(m.Y.AsArray()!);
        var parts = new (string, Func<Vec, Real>)[]
        {
            ("logistic H: full NLL", m.Nll),
            ("logistic H: Sum(LogP1(Exp(Xw)))", ww => Vec.Sum(Vec.LogP1(Vec.Exp(X * ww)))),
            ("logistic H: Dot(y, Xw)", ww => Vec.Dot(y, X * ww)),
            ("logistic H: Sum(Xw)", ww => Vec.Sum(X * ww)),
            ("logistic H: 0.5 w·w", ww => 0.5 * Vec.Dot(ww, ww)),
        };
        foreach (var (name, f) in parts)
        {
            var h = Fn.Hessian(f);
            Measure(name, LogisticModel.D, () => h(w), null, reps: 3);
        }
        var tape = Ad.RecordSecondOrder("p", m.Nll, w);
        foreach (int k in new[] { 1, 8, 64, 200 })
            Measure($"logistic H: tape.Hessian(chunk={k})", LogisticModel.D, () => tape.Hessian(k), null, reps: 3);
        tape.Release();
    }

    /// `Bench.dll profile-ops`: where an eager Rosenbrock gradient spends, per tape node (ns): f on
    /// doubles, f on constant Reals (the operators without a tape), recording alone (trace open,
    /// inputs, f, close), the adjoint sweep alone, and the whole Fn.GradAndValue.
    public static void Ops(int[] sizes)
    {
        Linalg.UseBest();
        Console.WriteLine("| f | n | nodes | f(double) ns/elem | f(const Real) ns/node | record ns/node | sweep ns/node | GradAndValue ns/node | ratio to floor |");
        Console.WriteLine("|---|---:|---:|---:|---:|---:|---:|---:|---:|");
        foreach (int n in sizes.Length > 0 ? sizes : new[] { 100, 10_000, 1_000_000 })
        {
            var x = Rosenbrock.Point(n);
            var g = new double[n];
            var xc = new Vec(x);
            foreach (var (name, f, gv) in new[] { ("loop", Transforms.RosenLoop, Transforms.GradLoop), ("sliced", Transforms.RosenSliced, Transforms.GradSliced) })
            {
                int nodes = 0;
                {
                    var t = Traces.Open(TraceKind.Reverse, "p");
                    f(Vec.Input(t, xc, null));
                    nodes = t.Count;
                    Traces.Close(t, false);
                }
                double floor = Median(() => Rosenbrock.ValueAndGradient(x, g), n);
                double plain = Median(() => Rosenbrock.Value(x), n);
                double consts = Median(() => f(xc), n);
                var (record, sweep) = RecordAndSweep(f, xc, n);
                double total = Median(() => gv(x), n);
                double per(double us) => 1000.0 * us / nodes;
                Console.WriteLine($"| {name} | {n} | {nodes} | {1000.0 * plain / n:F2} | {per(consts):F2} | {per(record):F2} | {per(sweep):F2} | {per(total):F2} | {total / floor:F1} |");
            }
        }
    }

    /// Fastest recording of f at xc on a reverse trace, and fastest adjoint sweep (`Sweep.reverse`)
    /// of one such recording, in µs per call (`Median`'s unit).
    static (double Record, double Sweep) RecordAndSweep(Func<Vec, Real> f, Vec xc, int n)
    {
        double record = Median(() =>
        {
            var t = Traces.Open(TraceKind.Reverse, "p");
            f(Vec.Input(t, xc, null));
            Traces.Close(t, false);
        }, n);
        var swept = Traces.Open(TraceKind.Reverse, "p");
        var y = f(Vec.Input(swept, xc, null));
        double sweep = Median(() =>
        {
            var adj = Sweep.store(swept);
            adj.Scalars[y.I] = 1.0;
            Sweep.reverse(swept, adj);
            adj.Release();
        }, n);
        Traces.Close(swept, false);
        return (record, sweep);
    }

    /// `Bench.dll profile-slices [n…]`: the sliced Rosenbrock gradient by phase (fastest call, ns per
    /// element): recording alone, the adjoint sweep (`Sweep.reverse`) alone, record + the gradient
    /// sweep (`Ad.Grad`, as the API runs it), the whole `Fn.GradAndValue`, the floor; and per call the
    /// GC bytes, minor page faults and gen-2 collections of `Fn.GradAndValue` (per 100 calls).
    public static void Slices(int[] sizes)
    {
        Linalg.UseBest();
        Console.WriteLine("| n | floor | record | reverse sweep | Ad.Grad | Fn.GradAndValue | ratio | GC bytes/call | faults/call | gen2 /100 calls |");
        Console.WriteLine("|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
        foreach (int n in sizes.Length > 0 ? sizes : new[] { 100, 10_000, 1_000_000 })
        {
            var x = Rosenbrock.Point(n);
            var g = new double[n];
            var xc = new Vec(x);
            var f = Transforms.RosenSliced;
            var ff = new Func<Vec, Real>(f);
            double floor = Median(() => Rosenbrock.ValueAndGradient(x, g), n);
            var (record, sweep) = RecordAndSweep(f, xc, n);
            double grad = Median(() => Ad.Grad("p", ff, xc), n);
            double total = Median(() => Transforms.GradSliced(x), n);
            int reps = Math.Max(5, Math.Min(2000, 20_000_000 / n));
            long b0 = GC.GetAllocatedBytesForCurrentThread(), f0 = MinorFaults();
            int c2 = GC.CollectionCount(2);
            for (int i = 0; i < reps; i++) Transforms.GradSliced(x);
            long bytes = (GC.GetAllocatedBytesForCurrentThread() - b0) / reps, faults = (MinorFaults() - f0) / reps;
            double gen2 = 100.0 * (GC.CollectionCount(2) - c2) / reps;
            double per(double us) => 1000.0 * us / n;
            Console.WriteLine($"| {n} | {per(floor):F2} | {per(record):F2} | {per(sweep):F2} | {per(grad):F2} | {per(total):F2} | {total / floor:F1} | {bytes} | {faults} | {gen2:F1} |");
        }
    }

    [System.Runtime.InteropServices.DllImport("libc")]
    static extern int clock_gettime(int clock, out Timespec ts);

    [System.Runtime.InteropServices.StructLayout(System.Runtime.InteropServices.LayoutKind.Sequential)]
    struct Timespec { public long Sec; public long Nsec; }

    /// This thread's CPU time in µs (CLOCK_THREAD_CPUTIME_ID): on a loaded machine less disturbed
    /// than wall time by other processes (not by their use of the caches and memory bus).
    static double ThreadCpuMicroseconds()
    {
        clock_gettime(3, out var ts);
        return ts.Sec * 1e6 + ts.Nsec / 1e3;
    }

    /// `Bench.dll profile-slices-ab [n…]`: the sliced Rosenbrock `Fn.GradAndValue` with the gradient
    /// written in place (`GradientForm.InPlace`, the default) and copied out of the trace's adjoints
    /// (the form before), calls alternating so that both see the same load; the least wall and thread
    /// CPU time of each (ns per element) and their ratio.
    public static void SlicesAB(int[] sizes)
    {
        Linalg.UseBest();
        Console.WriteLine("| n | floor wall | copied-out wall | in-place wall | ratio | copied-out cpu | in-place cpu | ratio |");
        Console.WriteLine("|---:|---:|---:|---:|---:|---:|---:|---:|");
        foreach (int n in sizes.Length > 0 ? sizes : new[] { 10_000, 1_000_000 })
        {
            var x = Rosenbrock.Point(n);
            var g = new double[n];
            double floor = Median(() => Rosenbrock.ValueAndGradient(x, g), n);
            var wall = new[] { double.MaxValue, double.MaxValue };
            var cpu = new[] { double.MaxValue, double.MaxValue };
            int reps = Math.Min(4000, Math.Max(40, 40_000_000 / n));
            var sw = new Stopwatch();
            try
            {
                for (int i = 0; i < 2 * reps + 20; i++)
                {
                    int k = i & 1;
                    GradientForm.InPlace = k == 1;
                    double c0 = ThreadCpuMicroseconds();
                    sw.Restart();
                    Transforms.GradSliced(x);
                    double w = sw.Elapsed.TotalMicroseconds, c = ThreadCpuMicroseconds() - c0;
                    if (i < 20) continue; // warm-up
                    wall[k] = Math.Min(wall[k], w);
                    cpu[k] = Math.Min(cpu[k], c);
                }
            }
            finally { GradientForm.InPlace = true; }
            double per(double us) => 1000.0 * us / n;
            Console.WriteLine($"| {n} | {per(floor):F2} | {per(wall[0]):F2} | {per(wall[1]):F2} | {wall[1] / wall[0]:F3} | {per(cpu[0]):F2} | {per(cpu[1]):F2} | {cpu[1] / cpu[0]:F3} |");
        }
    }

    /// `Bench.dll profile-push`: the recording cost of one scalar operation, a chain of m = s · y
    /// (both traced) and m = s · c (c constant), on an open reverse trace (no sweep).
    public static void Push()
    {
        const int m = 10_000;
        var xc = new Vec(new[] { 1.0, 1.0 });
        foreach (var (name, body) in new (string, Func<Vec, Real>)[]
        {
            ("s * y (two traced)", v => { Real s = v[0], y = v[1]; for (int i = 0; i < m; i++) s = s * y; return s; }),
            ("s * c (one constant)", v => { Real s = v[0]; for (int i = 0; i < m; i++) s = s * 1.0000001; return s; }),
            ("x[0] read", v => { Real s = 0; for (int i = 0; i < m; i++) s = v[0]; return s; }),
        })
        {
            double us = Median(() =>
            {
                var t = Traces.Open(TraceKind.Reverse, "p");
                body(Vec.Input(t, xc, null));
                Traces.Close(t, false);
            }, m);
            double consts = Median(() => body(xc), m);
            Console.WriteLine($"{name}: record {1000.0 * us / m:F2} ns/op, on constants {1000.0 * consts / m:F2} ns/op");
        }
    }

    /// The fastest of many timed calls (µs), after a warm-up long enough for tiered compilation:
    /// on a shared, loaded machine the minimum is the cost without preemption.
    static double Median(Action call, int n)
    {
        for (int i = 0; i < 60; i++) call();
        int reps = Math.Min(20_000, Math.Max(7, (int)(4_000_000 / Math.Max(1, n))));
        var best = double.MaxValue;
        var sw = new Stopwatch();
        for (int i = 0; i < reps; i++) { sw.Restart(); call(); best = Math.Min(best, sw.Elapsed.TotalMicroseconds); }
        return best;
    }

    static void Measure(string name, int n, Action call, Func<(int Nodes, int Ops)>? count, int reps = 0)
    {
        for (int i = 0; i < (reps > 0 ? 1 : 5); i++) call(); // warm up (tier-up, pools)
        if (reps == 0) reps = Math.Min(20_000, Math.Max(5, (int)(2_000_000 / Math.Max(1, n))));
        long bytes0 = GC.GetAllocatedBytesForCurrentThread(), faults0 = MinorFaults();
        int g0 = GC.CollectionCount(0), g2 = GC.CollectionCount(2);
        var times = new List<double>();
        var sw = new Stopwatch();
        for (int i = 0; i < reps; i++) { sw.Restart(); call(); times.Add(sw.Elapsed.TotalMicroseconds); }
        long bytes = GC.GetAllocatedBytesForCurrentThread() - bytes0, faults = MinorFaults() - faults0;
        int d0 = GC.CollectionCount(0) - g0, d2 = GC.CollectionCount(2) - g2;
        times.Sort();
        var (nodes, ops) = count?.Invoke() ?? (0, 0);
        Console.WriteLine($"| {name} | {n} | {times[times.Count / 2]:F2} | {(count is null ? "" : ((double)nodes / n).ToString("F2"))} | {(count is null ? "" : ops.ToString())} | {bytes / reps} | {(double)faults / reps:F1} | {100.0 * d0 / reps:F1}/{100.0 * d2 / reps:F1} |");
    }
}
