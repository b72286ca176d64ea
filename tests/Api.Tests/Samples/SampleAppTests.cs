using System.Diagnostics;
using Xunit;

namespace Hybrid.Tests;

/// <summary>
/// The file-based samples (<c>dotnet run samples/x.cs</c>) are not in Hybrid.sln, so these tests build and
/// run each one, as a user would, and check its exit code, the numbers it prints and the PNG it writes
/// (to a temporary directory, through HYBRID_SAMPLE_OUTPUT). The big samples run at a smaller size. The first
/// run builds the sample (tens of seconds); later runs reuse the build while the sources are unchanged.
/// </summary>
public sealed class SampleAppTests : IDisposable
{
    static readonly string Root = FindRoot();
    readonly List<string> outputs = new();

    /// <summary>Removes the output directories this test made.</summary>
    public void Dispose()
    {
        foreach (var dir in outputs)
            if (Directory.Exists(dir)) Directory.Delete(dir, recursive: true);
    }

    static string FindRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
            if (File.Exists(Path.Combine(dir.FullName, "Hybrid.sln"))) return dir.FullName;
        throw new InvalidOperationException($"Hybrid.sln not found above {AppContext.BaseDirectory}");
    }

    /// <summary>Runs `dotnet run samples/{file} -- args` and returns (exit code, stdout + stderr, output directory).</summary>
    (int Exit, string Output, string Directory) Run(string file, params string[] args) =>
        Dotnet(new[] { "run", $"samples/{file}", "--" }.Concat(args), file);

    (int Exit, string Output, string Directory) Dotnet(IEnumerable<string> arguments, string file)
    {
        var output = Directory.CreateTempSubdirectory("hybrid-sample-").FullName;
        outputs.Add(output);
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
        start.Environment["HYBRID_SAMPLE_OUTPUT"] = output;
        start.Environment["DOTNET_CLI_TELEMETRY_OPTOUT"] = "1";
        start.Environment["DOTNET_NOLOGO"] = "1";
        using var process = Process.Start(start)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        if (!process.WaitForExit(TimeSpan.FromMinutes(5)))
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"dotnet {string.Join(" ", arguments)} ({file}) did not finish in 5 minutes:\n{stdout.Result}{stderr.Result}");
        }
        return (process.ExitCode, stdout.Result + stderr.Result, output);
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
        var (exit, output, _) = Dotnet(new[] { "run", "--project", "samples/Tour", "-c", "Release" }, "samples/Tour");
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
    /// check passing: it exercises the F# surface as a script user would.
    /// </summary>
    [Fact]
    public void FSharpTour()
    {
        var (exit, output, _) = Dotnet(new[] { "fsi", "samples/tour.fsx" }, "tour.fsx");
        Assert.True(exit == 0, output);
        Assert.DoesNotContain("✗", output);
        Assert.True(output.Split('✓').Length - 1 >= 9, "the nine seed examples each print ✓:\n" + output);
    }
}
