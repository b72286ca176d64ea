using BenchmarkDotNet.Attributes;
using Hybrid.Kernel;

namespace Hybrid.Bench;

/// Issue 8 ("used where it helps"): Newton.Minimize and Newton.MinimizeCG on the scalar-loop Rosenbrock,
/// n = 100, from the classic start (−1.2, 1, −1.2, 1, …), with f compiled once per problem (the default,
/// NewtonOptions.Compile) against the eager solver that records f at every iterate (Baseline). Both take the
/// same iterates (Newton–CG to the last bit; dense Newton, whose compiled Hessian is edge pushing's, to rounding: checked in
/// setup and in tests/Api.Tests/CompiledSolverTests.cs).
[MemoryDiagnoser]
public class CompiledNewton
{
    [Params(100)] public int N;

    double[] x0 = [];
    static readonly NewtonOptions Eager = new() { Compile = false, MaxIterations = 1000 };
    static readonly NewtonOptions Compiled = new() { MaxIterations = 1000 };

    [GlobalSetup]
    public void Setup()
    {
        Console.WriteLine($"// provider: {Linalg.UseBest()}");
        x0 = Enumerable.Range(0, N).Select(i => i % 2 == 0 ? -1.2 : 1.0).ToArray();
        foreach (var (name, solve) in new (string, Func<Func<Vec, Real>, Vec, NewtonOptions?, NewtonResult>)[]
                 { ("Minimize", Newton.Minimize), ("MinimizeCG", Newton.MinimizeCG) })
        {
            var e = solve(Rosenbrock.Loop, x0, Eager);
            var c = solve(Rosenbrock.Loop, x0, Compiled);
            if (!c.Converged || !c.Compiled) throw new InvalidOperationException($"{name}: {c.Message} {c.NotCompiledReason}");
            // Minimize's compiled Hessian is edge pushing's (eager's to rounding): the same iterations, the solution to rounding
            if (e.Iterations != c.Iterations || e.Solution.Zip(c.Solution).Any(p => Math.Abs(p.First - p.Second) > 1e-12))
                throw new InvalidOperationException($"{name}: compiled and eager iterates differ ({c.Iterations} vs {e.Iterations} iterations).");
            Console.WriteLine($"// {name}: {c.Iterations} iterations, {c.History.Sum(h => h.InnerIterations)} CG iterations; recordings compiled {c.Recordings}, eager {e.Recordings}");
        }
    }

    [Benchmark(Baseline = true, Description = "Newton.Minimize eager (Compile = false)")]
    public int MinimizeEager() => Newton.Minimize(Rosenbrock.Loop, x0, Eager).Iterations;

    [Benchmark(Description = "Newton.Minimize compiled (default)")]
    public int MinimizeCompiled() => Newton.Minimize(Rosenbrock.Loop, x0, Compiled).Iterations;

    [Benchmark(Description = "Newton.MinimizeCG eager (Compile = false)")]
    public int MinimizeCGEager() => Newton.MinimizeCG(Rosenbrock.Loop, x0, Eager).Iterations;

    [Benchmark(Description = "Newton.MinimizeCG compiled (default)")]
    public int MinimizeCGCompiled() => Newton.MinimizeCG(Rosenbrock.Loop, x0, Compiled).Iterations;
}
