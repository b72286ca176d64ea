using Hybrid.Kernel;
using Xunit;

namespace Hybrid.Tests;

/// <summary>
/// Values that outlive their transform (issue 6, items 2 and 8): every read of a kept Vec or Mat
/// throws, a kept Real reaching a later transform throws, and (double) of a traced Real throws.
/// </summary>
public class EscapeTests
{
    /// <summary>A vector op output, an input view and a matrix, each kept from inside Fn.Grad.</summary>
    private static (Vec Op, Vec Input, Mat M) Kept()
    {
        Vec op = null!, input = null!;
        Mat m = null!;
        Fn.Grad((Vec x) =>
        {
            input = x;
            op = Vec.Exp(x) * 2.0;
            m = Mat.Outer(x, op);
            return Vec.Sum(op);
        })(new[] { 1.0, 2.0, 3.0 });
        // another computation reuses the pooled buffers the kept values pointed to
        Fn.Grad((Vec x) => Vec.Sum(Vec.Square(x) * 7.0 + 5.0))(new[] { 9.0, 9.0, 9.0 });
        return (op, input, m);
    }

    public static TheoryData<string, Action<Vec>> VecReads() => new()
    {
        { "ToString", v => _ = v.ToString() },
        { "View", v => _ = v.View },
        { "indexer", v => _ = v[0] },
        { "ToArray", v => _ = v.ToArray() },
        { "ToReals", v => _ = v.ToReals() },
        { "ToVector", v => _ = v.ToVector() },
        { "Slice", v => _ = v[1..] },
        { "Arr", v => _ = v.Arr },
        { "to double[]", v => { double[] _ = v; } },
        { "to Vector<double>", v => { MathNet.Numerics.LinearAlgebra.Vector<double> _ = v; } },
        { "Sum (operand, no transform)", v => _ = Vec.Sum(v) },
        { "Exp (operand, no transform)", v => _ = Vec.Exp(v) },
        { "operand in a later transform", v => Fn.Grad((Vec x) => Vec.Dot(x, v))(new[] { 1.0, 1.0, 1.0 }) },
        { "input of a later transform", v => Fn.Grad((Vec x) => Vec.Sum(x))(v) },
    };

    [Theory]
    [MemberData(nameof(VecReads))]
    public void EveryReadOfAnEscapedVecThrows(string read, Action<Vec> use)
    {
        var (op, input, _) = Kept();
        Assert.Throws<EscapedValueException>(() => use(op));
        Assert.Throws<EscapedValueException>(() => use(input));
        _ = read;
    }

    public static TheoryData<string, Action<Mat>> MatReads() => new()
    {
        { "ToString", m => _ = m.ToString() },
        { "Data", m => _ = m.Data },
        { "indexer", m => _ = m[0, 0] },
        { "ToMatrix", m => _ = m.ToMatrix() },
        { "ToArray", m => _ = m.ToArray() },
        { "Column", m => _ = m.Column(0) },
        { "Row", m => _ = m.Row(0) },
        { "to Matrix<double>", m => { MathNet.Numerics.LinearAlgebra.Matrix<double> _ = m; } },
        { "MatMul operand", m => _ = m * m },
    };

    [Theory]
    [MemberData(nameof(MatReads))]
    public void EveryReadOfAnEscapedMatThrows(string read, Action<Mat> use)
    {
        var (_, _, m) = Kept();
        Assert.Throws<EscapedValueException>(() => use(m));
        _ = read;
    }

    [Fact]
    public void EscapedValueExceptionSaysHowToFixIt()
    {
        var (op, _, _) = Kept();
        var e = Assert.Throws<EscapedValueException>(() => op.ToString());
        Assert.Contains("after the transform that made it returned", e.Message);
        Assert.Contains(".Value", e.Message);
    }

    [Fact]
    public void LiveValuesStillReadInsideTheirTransform()
    {
        string shown = "";
        var g = Fn.Grad((Vec x) =>
        {
            var y = Vec.Exp(x);
            shown = y.ToString() + " " + y.View.Len + " " + y[1].Value;
            return Vec.Sum(y);
        })(new[] { 0.0, 1.0 });
        Assert.Equal("[1, 2.71828] 2 " + Math.E.ToString("R"), shown);
        Approx.Equal(new[] { 1.0, Math.E }, g, 1e-15, "grad");
    }

    /// <summary>A Real made by an earlier, closed transform.</summary>
    private static Real KeptReal()
    {
        Real kept = default;
        Fn.Grad((Real x) => { kept = x * x; return kept; })(3.0);
        return kept;
    }

    [Fact]
    public void AClosedTransformsRealReturnedFromALaterTransformThrows()
    {
        var kept = KeptReal();
        Assert.Throws<EscapedValueException>(() => Fn.Grad((Real x) => kept)(2.0));
        Assert.Throws<EscapedValueException>(() => Fn.Grad((Vec x) => kept)(new[] { 2.0 }));
        Assert.Throws<EscapedValueException>(() => Fn.GradAndValue((Real x) => kept)(2.0));
        Assert.Throws<EscapedValueException>(() => Fn.Jvp((Real x) => kept, 2.0, 1.0));
        Assert.Throws<EscapedValueException>(() => Fn.Vjp((Real x) => kept, 2.0));
        Assert.Throws<EscapedValueException>(() => Fn.Hessian((Vec x) => kept)(new[] { 2.0 }));
        Assert.Throws<EscapedValueException>(() => Fn.JacRev((Vec x) => Vec.OfReals(new[] { x[0], kept }))(new[] { 2.0 }));
    }

    [Fact]
    public void AClosedTransformsRealAsOperandOrAuxThrows()
    {
        var kept = KeptReal();
        Assert.Throws<EscapedValueException>(() => Fn.Grad((Real x) => x * kept)(2.0));
        Assert.Throws<EscapedValueException>(() => _ = kept + 1.0);
        Assert.Throws<EscapedValueException>(() => Fn.GradAndValue((Real x) => (x * x, kept))(2.0));
        Assert.Throws<EscapedValueException>(() => Fn.Grad((Real x) => x)(kept));
    }

    [Fact]
    public void AnOuterLiveRealReturnedFromAnInnerTransformHasDerivativeZeroThere()
    {
        // not an escape: y is live (the outer transform is still open), and constant to the inner one
        var g = Fn.Grad((Real y) => Fn.Grad((Real x) => y * y)(1.0) + y)(3.0);
        Assert.Equal(1.0, g.Value);
    }

    [Fact]
    public void ExplicitConversionOfATracedRealThrowsWithTheFix()
    {
        var e = Assert.Throws<InvalidOperationException>(() => Fn.Grad((Real t) => t * (double)t)(2.0));
        Assert.Contains(".Value", e.Message);
        Assert.Contains("drop its derivative", e.Message);
        Assert.Throws<InvalidOperationException>(() => Fn.Grad((Vec x) => x[0] * (double)x[1])(new[] { 1.0, 2.0 }));
        Assert.Throws<InvalidOperationException>(() => Fn.Jvp((Real t) => t * (double)t, 2.0, 1.0));
    }

    [Fact]
    public void ValueIsTheDeliberateConstantCopyAndCastsWorkOnResults()
    {
        Assert.Equal(2.0, (double)Fn.Grad((Real t) => t * t.Value)(2.0)); // d/dt (t · 2) = 2
        Assert.Equal(4.0, (double)Fn.Grad((Real t) => t * t)(2.0));       // results are constants
        Assert.Equal(3.0, (double)new Real(3.0));
        Assert.Throws<EscapedValueException>(() => (double)KeptReal());
    }

    /// <summary>
    /// A Real carries its trace so that operators record without a thread-static read; they may use
    /// it only on the thread that opened the trace. Used on another thread while that trace is still
    /// open, every operation throws there — and the owner's tape is untouched (its gradient is exact).
    /// </summary>
    [Fact]
    public void ARealOfATraceStillOpenOnAnotherThreadThrowsThereAndLeavesTheTapeAlone()
    {
        var thrown = new List<string>();
        var g = Fn.Grad((Vec x) =>
        {
            Real a = x[0], b = x[0] * x[1]; // an input element and an operation's result
            var other = new Thread(() =>
            {
                foreach (var (name, op) in new (string, Func<Real>)[]
                {
                    ("a * a", () => a * a), ("b * a", () => b * a), ("a + 1", () => a + 1.0), ("2 * b", () => 2.0 * b),
                    ("Exp(a)", () => Real.Exp(a)), ("-b", () => -b),
                })
                {
                    try { op(); } catch (EscapedValueException) { lock (thrown) thrown.Add(name); }
                }
            });
            other.Start();
            other.Join();
            return b * x[1];
        })(new[] { 3.0, 5.0 });
        Assert.Equal(new[] { "a * a", "b * a", "a + 1", "2 * b", "Exp(a)", "-b" }, thrown);
        Assert.Equal(new[] { 25.0, 30.0 }, g.ToArray()); // ∇(x₀x₁²) = (x₁², 2x₀x₁): nothing from the other thread
    }

    /// <summary>
    /// The operators' test that they run on a trace's own thread: true there (on Linux and Windows,
    /// where the thread's stack range is known; elsewhere the operators take the thread-static path),
    /// false on any other thread.
    /// </summary>
    [Fact]
    public void ATraceKnowsItsOwnThreadByItsStack()
    {
        Trace? seen = null;
        bool here = false, elsewhere = true;
        Fn.Grad((Vec x) =>
        {
            seen = Traces.Top;
            here = seen.OnThisThread;
            var other = new Thread(() => elsewhere = seen.OnThisThread);
            other.Start();
            other.Join();
            return Vec.Sum(x);
        })(new[] { 1.0 });
        if (OperatingSystem.IsLinux() || OperatingSystem.IsWindows()) Assert.True(here, "the opening thread's frame is in the trace's stack range");
        Assert.False(elsewhere, "another thread's frame is not");
    }
}
