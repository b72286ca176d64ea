using System.Runtime.CompilerServices;
using Hybrid.Kernel;
using Xunit;

namespace Hybrid.Tests;

/// <summary>Heap measurements must not see other tests' allocations: this collection runs alone.</summary>
[CollectionDefinition(nameof(MemoryTests), DisableParallelization = true)]
public class MemoryCollection { }

/// <summary>
/// Memory is given back (issue 6, item 4): pools are bounded, a trace that grew large does not stay
/// with its thread, idle pooled memory goes at full GCs, and Memory.Trim gives everything back.
/// </summary>
[Collection(nameof(MemoryTests))]
public class MemoryTests
{
    private const long Mb = 1024 * 1024;

    /// <summary>Σ xᵢ² as a scalar loop: two tape nodes per element.</summary>
    private static Real Loop(Vec x)
    {
        Real s = 0.0;
        for (var i = 0; i < x.Length; i++) s += x[i] * x[i];
        return s;
    }

    /// <summary>One gradient with about `nodes` tape nodes; returns a checksum so nothing it made stays reachable.</summary>
    [MethodImpl(MethodImplOptions.NoInlining)]
    private static double BigGradient(int nodes)
    {
        var x = new double[nodes / 2];
        for (var i = 0; i < x.Length; i++) x[i] = 1.0 + i % 7;
        var g = Fn.Grad(Loop)(x);
        Assert.Equal(2.0 * x[^1], g[x.Length - 1].Value);
        return g[0].Value;
    }

    /// <summary>
    /// A full, aggressive collection, run until finalizer-driven trims have been collected too, after
    /// the pools' idle time (pooled memory goes at a full GC once it has been unused for a second).
    /// </summary>
    private static long FullGcHeap()
    {
        Thread.Sleep(1100);
        for (var k = 0; k < 3; k++)
        {
            GC.Collect(2, GCCollectionMode.Aggressive, blocking: true, compacting: true);
            GC.WaitForPendingFinalizers();
        }
        return GC.GetTotalMemory(forceFullCollection: true);
    }

    [Fact]
    public void AfterATenMillionNodeGradientAFullGcGivesTheMemoryBack()
    {
        var before = FullGcHeap();
        Assert.Equal(2.0, BigGradient(10_000_000));
        var after = FullGcHeap();
        Assert.True(after - before < 64 * Mb, $"heap grew by {(after - before) / Mb} MB after a full GC (before {before / Mb} MB, after {after / Mb} MB)");
        Assert.Equal(0, Memory.PooledBytes);
    }

    /// <summary>A small vector kept (escaped) from inside a 10⁷-node gradient.</summary>
    [MethodImpl(MethodImplOptions.NoInlining)]
    private static Vec KeptFromBigGradient()
    {
        Vec kept = null!;
        var x = new double[5_000_000];
        Fn.Grad((Vec v) => { var s = Loop(v); kept = Vec.OfReals(new[] { s * 2.0 }); return s; })(x);
        return kept;
    }

    [Fact]
    public void AKeptVectorDoesNotKeepItsTracesArraysAlive()
    {
        var before = FullGcHeap();
        var kept = KeptFromBigGradient();
        var after = FullGcHeap();
        Assert.True(after - before < 64 * Mb, $"a kept one-element Vec held {(after - before) / Mb} MB after a full GC");
        Assert.Throws<EscapedValueException>(() => kept.ToString()); // and it still knows it escaped
    }

    [Fact]
    public void ThreadsThatRanLargeGradientsAndExitedLeaveNoPooledMemoryBehind()
    {
        var before = FullGcHeap();
        var threads = Enumerable.Range(0, 4).Select(_ => new Thread(() => BigGradient(2_500_000))).ToArray();
        foreach (var t in threads) t.Start();
        foreach (var t in threads) t.Join();
        var after = FullGcHeap();
        Assert.Equal(0, Memory.PooledBytes);
        Assert.True(after - before < 64 * Mb, $"heap grew by {(after - before) / Mb} MB after 4 threads exited");
    }

    [Fact]
    public void TrimGivesEverythingBackAtOnceAndTransformsKeepWorking()
    {
        BigGradient(1_000_000);
        Assert.True(Memory.PooledBytes > 0, "a large gradient pools its trace and buffers for the next one");
        Memory.Trim();
        Assert.Equal(0, Memory.PooledBytes);
        Assert.Equal(2.0, BigGradient(1_000_000));
    }

    [Fact]
    public void PoolsStayWithinTheirLimit()
    {
        var limit = Memory.PoolLimitBytes;
        try
        {
            Memory.PoolLimitBytes = 2 * Mb;
            BigGradient(2_000_000);
            Assert.InRange(Memory.PooledBytes, 0, 2 * Mb);
            Memory.PoolLimitBytes = 0; // pooling off: still correct
            Assert.Equal(0, Memory.PooledBytes);
            Assert.Equal(2.0, BigGradient(200_000));
            Assert.Equal(0, Memory.PooledBytes);
            Assert.Throws<ArgumentException>(() => Memory.PoolLimitBytes = -1);
        }
        finally
        {
            Memory.PoolLimitBytes = limit;
        }
    }

    [Fact]
    public void RepeatedLargeGradientsReuseOnePooledTrace()
    {
        BigGradient(1_000_000); // warm: the trace has grown and is pooled
        var allocated = GC.GetAllocatedBytesForCurrentThread();
        BigGradient(1_000_000);
        var perCall = GC.GetAllocatedBytesForCurrentThread() - allocated;
        // x and g (8 MB together) plus small objects; a regrown trace would allocate ≥ 25 MB
        Assert.True(perCall < 12 * Mb, $"a repeated gradient allocated {perCall / Mb} MB");
    }
}
