using Hybrid.Kernel;
using Xunit;
using Xunit.Sdk;
using static Hybrid.Tests.TestFunctions;

namespace Hybrid.Tests;

/// <summary>
/// A compiled GradAndValue and Value run their lean passes in place (Compiled.fs, Emit.fs "in
/// place"): the inputs' values are read from the caller's x and their adjoints added into the
/// caller's gradient, nothing copied in or out; the lane sweep starts the adjoints only its groups
/// add into at zero (not cleared). Results equal eager's as every compiled result does, whatever the
/// gradient held before, at every length; a gradient overlapping x takes the copying path and gets
/// ∇f at the x the call was given.
/// </summary>
public class CompileInPlaceTests
{
    const double Tol = 1e-15;

    static Real DotAndSquares(Vec x) => Vec.Dot(x, x) + Vec.Sum(Vec.Square(x - 0.5) * 3.0 - x / (2.0 + x * x));

    static double[] Point(int n, int seed) { var r = new Random(seed); return Enumerable.Range(0, n).Select(_ => -1.5 + 3 * r.NextDouble()).ToArray(); }

    static CompiledCore Core(Func<Vec, Real> f, double[] x0) => CompiledCore.Create("test", new Func<Vec, Real[]>(v => new[] { f(v) }), x0);

    static void Close(double[] expected, ReadOnlySpan<double> actual, bool exact, string what)
    {
        Assert.Equal(expected.Length, actual.Length);
        var scale = expected.Select(Math.Abs).DefaultIfEmpty(0).Max();
        for (var i = 0; i < expected.Length; i++)
        {
            var ok = exact ? expected[i].Equals(actual[i]) : Math.Abs(expected[i] - actual[i]) <= Tol * scale;
            if (!ok) throw new XunitException($"{what}[{i}]: eager {expected[i]:R}, compiled {actual[i]:R} (scale {scale:E2}).");
        }
    }

    static IEnumerable<(string Name, Func<Vec, Real> F, bool GradExact)> Functions(int n)
    {
        yield return ("x·x + Σ 3(x − ½)² − x/(2 + x²)", DotAndSquares, true);
        if (n >= 2)
        {
            // (x's adjoint from x[i] and x[i + 1] adds in another order than eager's op-by-op sweep)
            yield return ("sliced Rosenbrock", RosenbrockSliced, false);
            yield return ("scalar-loop Rosenbrock", RosenbrockLoop, false);
        }
    }

    [Theory]
    [InlineData(1)]
    [InlineData(3)]
    [InlineData(4)]
    [InlineData(5)]
    [InlineData(7)]
    [InlineData(8)]
    [InlineData(9)]
    [InlineData(10_003)]
    public void InPlaceGradAndValueEqualsEagerAtEveryLength(int n)
    {
        foreach (var (name, f, exact) in Functions(n))
        {
            var x0 = Point(n, 1);
            var core = Core(f, x0);
            var c = Fn.Compile(f, x0);
            for (var k = 0; k < 3; k++)
            {
                var x = Point(n, 10 + k);
                var (g, v) = Fn.GradAndValue(f)(new Vec(x));
                // whatever the gradient held (NaN here), every entry is written
                var grad = Enumerable.Repeat(double.NaN, n).ToArray();
                double value = 0;
                Assert.True(core.TryGradAndValue(x, grad, ref value), $"{name}, n = {n}: compiled");
                Assert.True(core.RunsInPlace, $"{name}, n = {n}: the path runs in place");
                Assert.Equal(v.Value, value);
                Close(g.ToArray(), grad, exact, $"{name}, n = {n}, point {k}: gradient in place");
                var grad2 = Enumerable.Repeat(double.NaN, n).ToArray();
                Assert.Equal(v.Value, c.GradAndValue(x, grad2));
                Close(g.ToArray(), grad2, exact, $"{name}, n = {n}, point {k}: Fn.Compile's GradAndValue");
                Assert.Equal(f(new Vec(x)).Value, c.Value(x));
            }
        }
    }

    [Fact]
    public void AGradientOverlappingXGetsTheGradientAtTheXGiven()
    {
        const int n = 1001;
        foreach (var (name, f, _) in Functions(n))
        {
            var x = Point(n, 3);
            var c = Fn.Compile(f, x);
            var expected = new double[n];
            var value = c.GradAndValue(x, expected);
            // grad is x itself
            var same = (double[])x.Clone();
            Assert.Equal(value, c.GradAndValue(same, same));
            Close(expected, same, true, $"{name}: grad = x");
            // grad one element above x, and below it, in one buffer
            foreach (var (xAt, gAt) in new[] { (0, 1), (1, 0) })
            {
                var buffer = new double[n + 1];
                x.CopyTo(buffer, xAt);
                Assert.Equal(value, c.GradAndValue(buffer.AsSpan(xAt, n), buffer.AsSpan(gAt, n)));
                Close(expected, buffer.AsSpan(gAt, n), true, $"{name}: x at {xAt}, grad at {gAt} of one buffer");
            }
            // disjoint halves of one buffer: in place, the same numbers
            var halves = new double[2 * n];
            x.CopyTo(halves, 0);
            Assert.Equal(value, c.GradAndValue(halves.AsSpan(0, n), halves.AsSpan(n, n)));
            Close(expected, halves.AsSpan(n, n), true, $"{name}: grad in the other half of x's buffer");
            Close(x, halves.AsSpan(0, n), true, $"{name}: x untouched");
        }
    }

    [Fact]
    public void AValueIntoItsOwnXGetsFAtTheXGiven()
    {
        // outputs that are inputs themselves, swapped: y written in place over x would read
        // x[0] after y[0] overwrote it
        Func<Vec, Vec> f = x => Vec.OfReals(new[] { x[1], x[0], x[0] * x[1] });
        var c = Fn.Compile(f, new[] { 2.0, 3.0, 5.0 });
        var y = new double[3];
        c.Value(new[] { 2.0, 3.0, 5.0 }, y); // warm: the path runs as IL
        var xy = new[] { 2.0, 3.0, 5.0 };
        c.Value(xy, xy);
        Assert.Equal(new[] { 3.0, 2.0, 6.0 }, xy);
    }

    [Fact]
    public void InPlaceGradAndValueAllocatesNothingOnceWarm()
    {
        const int n = 10_003;
        var x = Point(n, 4);
        var grad = new double[n];
        foreach (var (name, f, _) in Functions(n))
        {
            var c = Fn.Compile(f, x);
            for (var k = 0; k < 3; k++) c.GradAndValue(x, grad);
            var before = GC.GetAllocatedBytesForCurrentThread();
            for (var k = 0; k < 10; k++) { c.GradAndValue(x, grad); c.Value(x); }
            Assert.Equal(0L, GC.GetAllocatedBytesForCurrentThread() - before);
        }
    }
}
