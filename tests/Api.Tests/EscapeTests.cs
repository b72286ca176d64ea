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
}
