using Hybrid.Kernel;
using Xunit;

namespace Hybrid.Tests;

public class SmokeTests
{
    [Fact]
    public void KernelGradOfSquareAtTwoIsFour()
    {
        var (value, grad) = Ad.Grad("test", x => x[0] * x[0], new Vec(new[] { 2.0 }));
        Assert.Equal(4.0, value.Value);
        Assert.Equal(4.0, grad[0].Value);
    }
}
