using Hybrid.Kernel;
using Xunit;

namespace Hybrid.Tests;

/// <summary>The README's "Custom rules" snippet, as written there, with the numbers it promises.</summary>
public class ReadmeCustomRuleTests
{
    [Fact]
    public void CustomRulesSnippet()
    {
        // a numerically stable softplus log(1 + eˣ): its derivative is σ(x)
        var softplus = Fn.CustomJvp((Real x) => x.Value > 30 ? x.Value : Math.Log(1 + Math.Exp(x.Value)),
                                    (x, dx) => dx / (1.0 + Real.Exp(-x)));
        Assert.Equal(1.0, Fn.Grad(softplus)(1000.0).Value);
        Assert.Equal(0.25, Fn.Hessian(softplus)(0.0).Value, 15);

        // gradient clipping
        var clip = Fn.CustomVjp((Real x) => x, (x, y, dy) => Real.Max(Real.Min(dy, 1.0), -1.0));
        Assert.Equal(1.0, Fn.Grad((Real t) => 10.0 * clip(t))(3.0).Value);

        // y(a) solving y³ + y = a, differentiated by the implicit rule
        var root = Fn.CustomVjp((Real a) =>
            {
                var y = 0.0;
                for (var k = 0; k < 60; k++) y -= (y * y * y + y - a.Value) / (3 * y * y + 1);
                return y;
            },
            (a, y, dy) => dy / (3.0 * y * y + 1.0));
        Assert.Equal(0.25, Fn.Grad(root)(2.0).Value, 15);
        Assert.Equal(-0.09375, Fn.Grad(Fn.Grad(root))(2.0).Value, 15);

        // aux of the enclosing level
        Assert.Equal(2.0, Fn.Grad((Real y) => Fn.GradAndValue((Real x) => (x * y, x * y))(2.0).Aux)(3.0).Value);
    }
}
