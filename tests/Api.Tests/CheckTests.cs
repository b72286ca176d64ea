using Hybrid.Kernel;
using Xunit;

namespace Hybrid.Tests;

/// <summary>Bad input: exception type, and a message naming the transform, the shapes and the fix.</summary>
public class CheckTests
{
    static readonly Func<Vec, Vec> Id = x => x * 1.0;
    static readonly Func<Vec, Real> Sum = x => Vec.Sum(x);

    static void Names(Exception e, params string[] parts)
    {
        foreach (var p in parts) Assert.Contains(p, e.Message);
    }

    [Fact]
    public void NullDelegatesNameTheParameterAndTheTransform()
    {
        var cases = new (string Owner, Action Call)[]
        {
            ("Fn.Grad", () => Fn.Grad((Func<Vec, Real>)null!)),
            ("Fn.Grad", () => Fn.Grad((Func<Real, Real>)null!)),
            ("Fn.GradAndValue", () => Fn.GradAndValue((Func<Vec, Real>)null!)),
            ("Fn.GradAndValue", () => Fn.GradAndValue((Func<Vec, (Real, string)>)null!)),
            ("Fn.Jvp", () => Fn.Jvp((Func<Vec, Vec>)null!, new[] { 1.0 }, new[] { 1.0 })),
            ("Fn.Vjp", () => Fn.Vjp((Func<Vec, Vec>)null!, new[] { 1.0 })),
            ("Fn.Linearize", () => Fn.Linearize((Func<Vec, Vec>)null!, new[] { 1.0 })),
            ("Fn.JacFwd", () => Fn.JacFwd(null!)),
            ("Fn.JacRev", () => Fn.JacRev(null!)),
            ("Fn.Jacobian", () => Fn.Jacobian(null!)),
            ("Fn.Hessian", () => Fn.Hessian((Func<Vec, Real>)null!)),
            ("Fn.Hvp", () => Fn.Hvp((Func<Vec, Real>)null!)),
            ("Fn.Vmap", () => Fn.Vmap((Func<Real, Real>)null!)),
            ("Fn.Scan", () => Fn.Scan((Func<Real, Real, (Real, Real)>)null!, 0.0, new Vec(new[] { 1.0 }))),
        };
        foreach (var (owner, call) in cases)
        {
            var e = Assert.Throws<ArgumentNullException>(call);
            Assert.Equal("f", e.ParamName);
            Names(e, owner);
        }
    }

    [Fact]
    public void JvpTangentOfTheWrongLength()
    {
        var e = Assert.Throws<ArgumentException>(() => Fn.Jvp(Id, new[] { 1.0, 2.0, 3.0 }, new[] { 1.0, 2.0 }));
        Assert.Equal("v", e.ParamName);
        Names(e, "Fn.Jvp: x has length 3 but v has length 2", "same length as x");
        Assert.Throws<ArgumentException>(() => Fn.Jvp(Sum, new[] { 1.0, 2.0 }, new[] { 1.0 }));
        var (_, jvp) = Fn.Linearize(Id, new[] { 1.0, 2.0 });
        Names(Assert.Throws<ArgumentException>(() => jvp(new[] { 1.0 })), "Fn.Linearize", "length 2", "length 1");
    }

    [Fact]
    public void PullbackCotangentOfTheWrongLength()
    {
        var (_, pullback) = Fn.Vjp(x => Vec.OfReals(new[] { x[0], x[1], x[0] * x[1] }), new[] { 1.0, 2.0 });
        var e = Assert.Throws<ArgumentException>(() => pullback(new[] { 1.0, 2.0 }));
        Names(e, "Fn.Vjp pullback", "3 outputs", "length 2", "length 3");
        Assert.Equal(new[] { 2.0, 1.0 }, (double[])pullback(new[] { 0.0, 0.0, 1.0 })); // still usable
    }

    [Fact]
    public void HvpDirectionOfTheWrongLength()
    {
        var e = Assert.Throws<ArgumentException>(() => Fn.Hvp(Sum)(new[] { 1.0, 2.0 }, new[] { 1.0, 2.0, 3.0 }));
        Names(e, "Fn.Hvp", "x has length 2 but v has length 3");
    }

    [Fact]
    public void EmptyInputs()
    {
        var empty = new Vec(Array.Empty<double>());
        var cases = new (string Owner, Action Call)[]
        {
            ("Fn.Grad", () => Fn.Grad(Sum)(empty)),
            ("Fn.GradAndValue", () => Fn.GradAndValue(Sum)(empty)),
            ("Fn.Jvp", () => Fn.Jvp(Id, empty, empty)),
            ("Fn.Vjp", () => Fn.Vjp(Id, empty)),
            ("Fn.JacFwd", () => Fn.JacFwd(Id)(empty)),
            ("Fn.JacRev", () => Fn.JacRev(Id)(empty)),
            ("Fn.Jacobian", () => Fn.Jacobian(Id)(empty)),
            ("Fn.Hessian", () => Fn.Hessian(Sum)(empty)),
            ("Fn.Hvp", () => Fn.Hvp(Sum)(empty, empty)),
        };
        foreach (var (owner, call) in cases)
        {
            var e = Assert.Throws<ArgumentException>(call);
            Names(e, owner, "empty (length 0)");
        }
    }

    [Fact]
    public void NullPointsAreRejected()
    {
        Assert.Equal("x", Assert.Throws<ArgumentNullException>(() => Fn.Grad(Sum)(null!)).ParamName);
        Assert.Equal("v", Assert.Throws<ArgumentNullException>(() => Fn.Jvp(Id, new[] { 1.0 }, (Vec)null!)).ParamName);
        Assert.Equal("xs", Assert.Throws<ArgumentNullException>(() => Fn.Vmap(Sum)(null!)).ParamName);
    }

    [Fact]
    public void FunctionReturningNull()
    {
        Func<Vec, Vec> bad = _ => null!;
        foreach (var (owner, call) in new (string, Action)[]
        {
            ("Fn.Jvp", () => Fn.Jvp(bad, new[] { 1.0 }, new[] { 1.0 })),
            ("Fn.Vjp", () => Fn.Vjp(bad, new[] { 1.0 })),
            ("Fn.JacFwd", () => Fn.JacFwd(bad)(new[] { 1.0 })),
            ("Fn.JacRev", () => Fn.JacRev(bad)(new[] { 1.0 })),
        })
        {
            var e = Assert.Throws<InvalidOperationException>(call);
            Names(e, owner, "returned null");
        }
    }

    [Fact]
    public void OutputLengthThatDependsOnTheTangentIsAnError()
    {
        // a function whose output length changes from one forward pass to the next (inside another
        // transform, where JacFwd runs f once per column; at the top level it records f once)
        var calls = 0;
        Func<Vec, Vec> unstable = x => ++calls == 1 ? x : x[..1];
        var e = Assert.Throws<InvalidOperationException>(() =>
            Fn.Grad((Vec a) => Vec.Sum(Fn.JacFwd(unstable)(a).Data))(new[] { 1.0, 2.0 }));
        Names(e, "Fn.JacFwd", "1 outputs", "2 before");
    }

    [Fact]
    public void EscapedTracerIsAnError()
    {
        Real kept = 0.0;
        Fn.Grad((Real x) => { kept = x * 2.0; return kept; })(1.0);
        var e = Assert.Throws<EscapedValueException>(() => Fn.Grad((Real x) => x + kept)(1.0));
        Names(e, "after the transform that made it returned");
        Assert.IsAssignableFrom<InvalidOperationException>(e);
        // passing an escaped value as the point fails before f runs
        var ran = false;
        Assert.Throws<EscapedValueException>(() => Fn.Grad((Real x) => { ran = true; return x; })(kept));
        Assert.False(ran);
    }

    [Fact]
    public void EscapedVectorCannotBeConvertedSilently()
    {
        Vec kept = null!;
        Fn.Grad((Vec x) => { kept = x * 2.0; return Vec.Sum(kept); })(new[] { 1.0, 2.0 });
        Assert.Throws<EscapedValueException>(() => { double[] _ = kept; });
    }
}
