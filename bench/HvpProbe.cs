using System.Diagnostics;
using System.Runtime.InteropServices;
using Hybrid.Kernel;

namespace Hybrid.Bench;

/// `dotnet run -c Release --project bench -- probe-hvp`: the compiled second-order passes of the
/// scalar-loop Rosenbrock (n = 100) one by one, and the compiled function's whole calls, best of many
/// batches (a quick look, not a benchmark).
public static class HvpProbe
{
    public static void Run()
    {
        const int n = 100;
        var x = Rosenbrock.Point(n);
        var dir = Rosenbrock.Point(n, seed: 2);
        var f = new Func<Vec, Real[]>(v => new[] { Rosenbrock.Loop(v) });
        var g = ((Microsoft.FSharp.Core.FSharpChoice<Graph, Unsupported>.Choice1Of2)GraphRecorder.record("probe", f, x)).Item;
        var loops = Loops.find(g);
        Console.WriteLine($"nodes {g.Count}, loops {loops.Length}, lane loops {Emit.laneLoops(g, loops)}: {string.Join("; ", Emit.laneReasons(g, loops))}");
        foreach (var lp in loops) Console.WriteLine($"loop First {lp.First} Period {lp.Period} Trips {lp.Trips}; N {g.N}, Count {g.Count}");
        double[] Pin() => GC.AllocateArray<double>(g.Count, true);
        var (v, a, s, at) = (Pin(), Pin(), Pin(), Pin());
        nint P(double[] arr) => Marshal.UnsafeAddrOfPinnedArrayElement(arr, 0);
        Array.Copy(x, v, n); Array.Copy(dir, s, n);
        var fwd = Emit.forward(g, loops); var lean = Emit.forwardLean(g, loops);
        var rev = Emit.reverse(g, loops, false); var kept = Emit.reverse(g, loops, true);
        var tan = Emit.tangent(g, loops); var rt = Emit.reverseTangent(g, loops);
        var ft = Emit.forwardTangent(g, loops); var fj = Emit.forwardJoint(g, loops); var rj = Emit.reverseJoint(g, loops);
        var fjs = Emit.forwardTangentWith(false, true, g, loops); var rjs = Emit.reverseJointWith(false, g, loops);
        var jv = Emit.jvp(g, loops);
        void Jw() { foreach (var q in jv) q.Invoke(P(v), P(v), P(s), P(s)); }
        var ft8 = Emit.forwardTangentAt(8, false, g, loops); var fj8 = Emit.forwardTangentAt(8, true, g, loops); var rj8 = Emit.reverseJointAt(8, g, loops);
        void Fw(PassFn[] p) { foreach (var q in p) q.Invoke(P(v), P(a), P(s), P(at)); }
        void Bw(PassFn[] p) { for (int k = p.Length - 1; k >= 0; k--) p[k].Invoke(P(v), P(a), P(s), P(at)); }
        double Time(Action act)
        {
            var best = double.MaxValue; var sw = new Stopwatch();
            for (int r = 0; r < 300; r++) { sw.Restart(); for (int i = 0; i < 1000; i++) act(); best = Math.Min(best, sw.Elapsed.TotalNanoseconds / 1000); }
            return best;
        }
        var hv = new double[n];
        var compiled = Fn.Compile(Rosenbrock.Loop, x);
        var chv = new double[n];
        var cgrad = new double[n];
        // HYBRID_PROBE_SPIN=jvp|hvp: that whole call alone for 5 s (for perf), nothing else
        var spin = Environment.GetEnvironmentVariable("HYBRID_PROBE_SPIN");
        if (spin is not null)
        {
            var until = Stopwatch.StartNew();
            while (until.ElapsedMilliseconds < 5000)
                for (int i = 0; i < 10000; i++)
                    if (spin == "jvp") compiled.Jvp(x, dir, out _); else compiled.Hvp(x, dir, chv);
            return;
        }
        // HYBRID_PROBE_AB=1: f, the Jvp pass at widths 4 and 8, the joint sweep at 4 and 8, interleaved
        // (each round best of 30 batches; the least over 20 rounds), for a comparison under load
        if (Environment.GetEnvironmentVariable("HYBRID_PROBE_AB") is not null)
        {
            var rows = new (string Name, Action Act)[]
            {
                ("f", () => Rosenbrock.Value(x)),
                ("Jvp pass w4", () => Fw(ft)), ("Jvp pass w8", () => Fw(ft8)), ("Jvp pass, inputs by A/AT", Jw),
                ("whole Jvp", () => compiled.Jvp(x, dir, out _)),
                ("hand Hvp", () => Rosenbrock.Hvp(x, dir, hv)),
                ("joint reverse w4", () => { Fw(fj); Array.Clear(a); Array.Clear(at); a[g.Outputs[0]] = 1; Bw(rj); }),
                ("joint reverse w8", () => { Fw(fj8); Array.Clear(a); Array.Clear(at); a[g.Outputs[0]] = 1; Bw(rj8); }),
                ("whole Hvp", () => compiled.Hvp(x, dir, chv)),
            };
            var least = new double[rows.Length];
            Array.Fill(least, double.MaxValue);
            for (int round = 0; round < 20; round++)
                for (int k = 0; k < rows.Length; k++)
                {
                    var sw = new Stopwatch();
                    for (int r = 0; r < 30; r++) { sw.Restart(); for (int i = 0; i < 1000; i++) rows[k].Act(); least[k] = Math.Min(least[k], sw.Elapsed.TotalNanoseconds / 1000); }
                }
            for (int k = 0; k < rows.Length; k++) Console.WriteLine($"{rows[k].Name,-20} {least[k],7:F0} ns  {least[k] / least[0],5:F2}× f");
            return;
        }
        for (int round = 0; round < 2; round++)
        {
            Console.WriteLine($"whole calls: Jvp {Time(() => compiled.Jvp(x, dir, out _)):F0}; Hvp {Time(() => compiled.Hvp(x, dir, chv)):F0}; GradAndValue {Time(() => compiled.GradAndValue(x, cgrad)):F0}; Value {Time(() => compiled.Value(x)):F0}");
            Console.WriteLine($"f {Time(() => Rosenbrock.Value(x)):F0} ns; hand Hvp {Time(() => Rosenbrock.Hvp(x, dir, hv)):F0}");
            Console.WriteLine($"forward {Time(() => Fw(fwd)):F0}; lean {Time(() => Fw(lean)):F0}; Jvp pass {Time(() => Fw(ft)):F0}; joint forward {Time(() => Fw(fj)):F0}");
            Fw(fwd);
            Console.WriteLine($"reverse lean {Time(() => Bw(rev)):F0}; kept {Time(() => Bw(kept)):F0}; tangent {Time(() => Fw(tan)):F0}; reverse tangent {Time(() => Bw(rt)):F0}");
            Fw(fj);
            Console.WriteLine($"joint reverse {Time(() => { Array.Clear(a); Array.Clear(at); a[g.Outputs[0]] = 1; Bw(rj); }):F0}; clears alone {Time(() => { Array.Clear(a); Array.Clear(at); }):F0}");
            Console.WriteLine($"width 8: Jvp pass {Time(() => Fw(ft8)):F0}; joint forward {Time(() => Fw(fj8)):F0}");
            Fw(fj8);
            Console.WriteLine($"width 8: joint reverse {Time(() => { Array.Clear(a); Array.Clear(at); a[g.Outputs[0]] = 1; Bw(rj8); }):F0}");
            Fw(fjs);
            Console.WriteLine($"scalar joint forward {Time(() => Fw(fjs)):F0}; scalar joint reverse {Time(() => { Array.Clear(a); Array.Clear(at); a[g.Outputs[0]] = 1; Bw(rjs); }):F0}");
        }
    }
}
