using System.Diagnostics;
using System.Text.Json;
using Xunit;

namespace Hybrid.Tests;

/// <summary>
/// The file-based samples (<c>dotnet run samples/x.cs</c>) are not in Hybrid.sln, so these tests build and
/// run each one and check its exit code, the numbers it prints and the PNG it writes (to a temporary
/// directory, through HYBRID_SAMPLE_OUTPUT). The big samples run at a smaller size.
/// <see cref="SampleBuilds"/> builds what the samples reference once per test run, then each sample once
/// without walking its project references again, and the tests run the built programs with
/// <c>dotnet exec</c>: a no-op <c>dotnet run x.cs</c> re-checks Api.CSharp, the kernel and the plotting
/// project and took 4–5 minutes at load 20, where the built program starts in seconds.
/// </summary>
public sealed class SampleAppTests : IDisposable
{
    readonly List<string> outputs = new();

    /// <summary>Removes the output directories this test made.</summary>
    public void Dispose()
    {
        foreach (var dir in outputs)
            if (Directory.Exists(dir)) Directory.Delete(dir, recursive: true);
    }

    /// <summary>Builds samples/{file} (once per run) and runs it with args: (exit code, stdout + stderr, output directory).</summary>
    (int Exit, string Output, string Directory) Run(string file, params string[] args) =>
        Program(SampleBuilds.Sample($"samples/{file}"), args, file);

    /// <summary>Runs a built program with `dotnet exec` from the repository root, its pictures going to a new temporary directory.</summary>
    (int Exit, string Output, string Directory) Program(string dll, string[] args, string what)
    {
        var output = Directory.CreateTempSubdirectory("hybrid-sample-").FullName;
        outputs.Add(output);
        var run = SampleBuilds.Dotnet(new[] { "exec", dll }.Concat(args), SampleBuilds.RunLimit, what, output);
        return (run.Exit, run.Output, output);
    }

    static void AssertPng(string directory, string name)
    {
        var path = Path.Combine(directory, name);
        Assert.True(File.Exists(path), $"{name} was not written to {directory}");
        var bytes = File.ReadAllBytes(path);
        Assert.Equal(new byte[] { 0x89, (byte)'P', (byte)'N', (byte)'G' }, bytes[..4]);
        Assert.True(bytes.Length > 20_000, $"{name} is only {bytes.Length} bytes; expected a drawn plot");
    }

    /// <summary>
    /// The tour (a project, built with the solution) passes its own checks and prints its numbers in one
    /// format: six significant digits, except the table comparing derivatives digit by digit.
    /// </summary>
    [Fact]
    public void TourPrintsEveryNumberInOneFormat()
    {
        var (exit, output, _) = Program(SampleBuilds.Tour, Array.Empty<string>(), "samples/Tour");
        Assert.True(exit == 0, output);
        Assert.Contains("All results match their expected values.", output);
        Assert.Contains("The seed examples (samples/README.md)", output);
        Assert.Contains("value 49.2", output);
        var table = output.IndexOf("By hand, by finite differences, by Hybrid", StringComparison.Ordinal);
        var after = output.IndexOf("A Newton solve", StringComparison.Ordinal);
        Assert.True(table > 0 && after > table, output);
        var elsewhere = output[..table] + output[after..];
        var longNumber = System.Text.RegularExpressions.Regex.Match(elsewhere, @"\d[.,]?\d{7,}");
        Assert.False(longNumber.Success, $"a number with more than six significant digits: '{longNumber.Value}'");
    }

    [Fact]
    public void Newton()
    {
        var (exit, output, dir) = Run("newton.cs");
        Assert.True(exit == 0, output);
        Assert.Contains("→ GradientTolerance: Converged in 21 iterations", output);
        Assert.Contains("cancelled after step 5: Cancelled, 5 iterations", output);
        Assert.Contains("All runs converged to x = (1, …, 1).", output);
        AssertPng(dir, "newton.png");
    }

    [Fact]
    public void LeastSquares()
    {
        var (exit, output, dir) = Run("least-squares.cs");
        Assert.True(exit == 0, output);
        Assert.Contains("Gauss–Newton (Fn.JacRev + QR)      2.49564   1.31506   0.506275  0.138954", output);
        Assert.Contains("The three fits agree.", output);
        AssertPng(dir, "least-squares.png");
    }

    [Fact]
    public void BfgsVersusNewton()
    {
        var (exit, output, dir) = Run("bfgs-vs-newton.cs", "20");
        Assert.True(exit == 0, output);
        Assert.Contains("Extended Rosenbrock, n = 20", output);
        Assert.Matches(@"Hybrid Newton\.Minimize\s+\d+ ", output);
        Assert.Matches(@"MathNet BfgsMinimizer\s+\d+ .* AbsoluteGradient", output);
        AssertPng(dir, "bfgs-vs-newton.png");
    }

    [Fact]
    public void LogisticRegression()
    {
        var (exit, output, dir) = Run("logistic-regression.cs", "2000", "20");
        Assert.True(exit == 0, output);
        Assert.Contains("N = 2000, d = 20", output);
        Assert.Contains("termination:        GradientTolerance", output);
        AssertPng(dir, "logistic-regression.png");
    }

    /// <summary>
    /// The F# tour (`dotnet fsi samples/tour.fsx`, the README's F# command) runs to the end with every
    /// check passing: it exercises the F# surface as a script user would. Its launcher part only builds
    /// FSharp/Hybrid.FSharp.fsproj and runs the tour part, `dotnet fsi --define:HYBRID_BUILT`, which is run
    /// here after <see cref="SampleBuilds"/> has built that project.
    /// </summary>
    [Fact]
    public void FSharpTour()
    {
        SampleBuilds.FSharp();
        var (exit, output) = SampleBuilds.Dotnet(new[] { "fsi", "--define:HYBRID_BUILT", "samples/tour.fsx" }, SampleBuilds.RunLimit, "samples/tour.fsx", null);
        Assert.True(exit == 0, output);
        Assert.DoesNotContain("✗", output);
        Assert.True(output.Split('✓').Length - 1 >= 9, "the nine seed examples each print ✓:\n" + output);
    }
}

/// <summary>
/// The samples' builds, each done once per test run and one at a time, each returning the program's path:
/// the tour, the plotting project and the F# surface, then each file-based sample. In a Release test run
/// the test project's own build has just built Api.CSharp and the kernel in Release, which is what the
/// samples reference, so every build here takes <c>-p:BuildProjectReferences=false</c> (walking the
/// references again took minutes at load 20 for nothing); in another configuration the tour's build
/// builds them. A build or a run that outlasts its limit is killed and reported with the command, the
/// time it took, the load average and what it printed.
/// </summary>
static class SampleBuilds
{
    /// <summary>How long one build may take (minutes at the load of seven agents, seconds when quiet).</summary>
    public static readonly TimeSpan BuildLimit = TimeSpan.FromMinutes(20);

    /// <summary>How long one sample's run may take.</summary>
    public static readonly TimeSpan RunLimit = TimeSpan.FromMinutes(10);

    static readonly string Root = FindRoot();
    static readonly object OneAtATime = new();
    static readonly string[] NoReferences = { "-p:BuildProjectReferences=false" };
    static readonly bool ReferencesBuilt =
        AppContext.BaseDirectory.Replace('\\', '/').Contains("/bin/Release/", StringComparison.Ordinal);
    static readonly Lazy<string> TourDll = new(() =>
        Build("samples/Tour/Tour.csproj", new[] { "-c", "Release" }.Concat(ReferencesBuilt ? NoReferences : Array.Empty<string>()).ToArray()));
    static readonly Lazy<bool> References = new(() =>
    {
        _ = TourDll.Value;
        Build("samples/Plotting/Plotting.csproj", "-c", "Release", "-p:BuildProjectReferences=false");
        return true;
    });
    static readonly Lazy<bool> FSharpBuilt = new(() =>
    {
        _ = TourDll.Value;
        Build("FSharp/Hybrid.FSharp.fsproj", "-c", "Release", "-p:BuildProjectReferences=false");
        return true;
    });
    static readonly Dictionary<string, Lazy<string>> Files = new();

    static string FindRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
            if (System.IO.File.Exists(Path.Combine(dir.FullName, "Hybrid.sln"))) return dir.FullName;
        throw new InvalidOperationException($"Hybrid.sln not found above {AppContext.BaseDirectory}");
    }

    /// <summary>The tour's program (samples/Tour, built with Api.CSharp and the kernel).</summary>
    public static string Tour => TourDll.Value;

    /// <summary>Builds FSharp/Hybrid.FSharp.fsproj (Release), which samples/tour.fsx references.</summary>
    public static void FSharp() => _ = FSharpBuilt.Value;

    /// <summary>The program of a file-based sample (path from the repository root), built once in Release (what its
    /// <c>#:project</c> references were built as: a Debug build would look for Debug outputs a fresh clone has not got).</summary>
    public static string Sample(string path)
    {
        _ = References.Value;
        Lazy<string>? built;
        lock (Files)
            if (!Files.TryGetValue(path, out built))
                Files[path] = built = new Lazy<string>(() => Build(path, "-c", "Release", "-p:BuildProjectReferences=false"));
        return built.Value;
    }

    /// <summary>`dotnet build target options`, one build at a time; returns the built program's path (TargetPath).</summary>
    static string Build(string target, params string[] options)
    {
        lock (OneAtATime)
        {
            var args = new[] { "build", target, "-nologo", "-v", "q", "-getProperty:TargetPath", "-getTargetResult:Build" }.Concat(options);
            var (exit, output) = Dotnet(args, BuildLimit, target, null);
            var json = output.IndexOf('{');
            if (exit != 0 || json < 0)
                throw new InvalidOperationException($"dotnet build {target} failed (exit code {exit}):\n{output}");
            using var doc = JsonDocument.Parse(output[json..]);
            var path = doc.RootElement.GetProperty("Properties").GetProperty("TargetPath").GetString()!;
            if (!System.IO.File.Exists(path)) throw new InvalidOperationException($"dotnet build {target} reported {path}, which does not exist:\n{output}");
            return path;
        }
    }

    /// <summary>
    /// Runs dotnet with the arguments from the repository root (HYBRID_SAMPLE_OUTPUT set to output when given)
    /// and returns its exit code and stdout + stderr; past the limit the process tree is killed and a
    /// TimeoutException names the command, the time and the load.
    /// </summary>
    public static (int Exit, string Output) Dotnet(IEnumerable<string> arguments, TimeSpan limit, string what, string? output)
    {
        var start = new ProcessStartInfo("dotnet")
        {
            WorkingDirectory = Root,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var a in arguments) start.ArgumentList.Add(a);
        // the test host runs under `dotnet test`, whose MSBuild settings must not leak into the child build
        foreach (var key in start.Environment.Keys.Where(k => k.StartsWith("MSBuild", StringComparison.OrdinalIgnoreCase) || k == "VSTEST_HOST_DEBUG").ToList())
            start.Environment.Remove(key);
        if (output is not null) start.Environment["HYBRID_SAMPLE_OUTPUT"] = output;
        start.Environment["DOTNET_CLI_TELEMETRY_OPTOUT"] = "1";
        start.Environment["DOTNET_NOLOGO"] = "1";
        var clock = Stopwatch.StartNew();
        using var process = Process.Start(start)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        if (!process.WaitForExit(limit))
        {
            process.Kill(entireProcessTree: true);
            process.WaitForExit();
            var load = System.IO.File.Exists("/proc/loadavg") ? System.IO.File.ReadAllText("/proc/loadavg").Trim() : "unknown";
            throw new TimeoutException(
                $"{what}: `dotnet {string.Join(" ", start.ArgumentList)}` did not finish in {limit.TotalMinutes:0} minutes " +
                $"(killed after {clock.Elapsed.TotalSeconds:0} s; load average {load}). What it printed:\n{stdout.Result}{stderr.Result}");
        }
        process.WaitForExit(); // the redirected streams to their end
        return (process.ExitCode, stdout.Result + stderr.Result);
    }
}
