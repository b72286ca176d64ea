using System.Diagnostics;
using System.Globalization;
using System.IO.Compression;
using System.Reflection;
using System.Text;
using System.Xml.Linq;
using Xunit;
using Xunit.Abstractions;

namespace Hybrid.Package.Tests;

/// <summary>
/// What a new user gets from the feed: the packages' metadata, and a fresh console project that restores
/// <c>Hybrid</c> from a local folder feed and runs a Grad + Newton.Minimize program.
/// </summary>
public sealed class PackTests(ITestOutputHelper output)
{
    private static readonly TimeSpan StepTimeout = TimeSpan.FromMinutes(6);

    private const string RepositoryUrl = "https://github.com/hybrid-ad/hybrid";

    /// <summary>
    /// SLOW (a minute or two: three dotnet commands). Packs every packable project of Hybrid.sln (as built, no
    /// rebuild) into a temporary folder feed, checks each package's metadata, then restores the package
    /// <c>Hybrid</c> into a new console project whose nuget.config lists that folder and the registries this
    /// machine already uses (packages already in the machine's global cache are taken from there, so only
    /// missing ones would be fetched), builds it and runs it.
    /// </summary>
    [Fact(DisplayName = "SLOW pack: dotnet pack, restore Hybrid into a fresh console project from a local feed, run Grad + Newton.Minimize")]
    [Trait("Category", "Slow")]
    public void PackedHybridRestoresIntoAFreshConsoleProjectAndRuns()
    {
        var root = RepositoryRoot();
        var configuration = typeof(PackTests).Assembly.GetCustomAttribute<AssemblyConfigurationAttribute>()?.Configuration ?? "Release";
        var work = Directory.CreateTempSubdirectory("hybrid-pack-").FullName;
        try
        {
            // a version no cache has seen, so the restore below can only take the packages just made
            var version = "0.0.0-packtest." + DateTime.UtcNow.ToString("yyyyMMddHHmmssfff", CultureInfo.InvariantCulture);
            var feed = Path.Combine(work, "feed");
            Run(root, "pack", "Hybrid.sln", "-c", configuration, "--no-build", "-nologo", "-o", feed, $"-p:PackageVersion={version}");

            var ids = Directory.GetFiles(feed, "*.nupkg").Select(p => Path.GetFileName(p)[..^$".{version}.nupkg".Length]).Order().ToArray();
            output.WriteLine($"packages: {string.Join(", ", ids)}");
            Assert.Contains("Hybrid", ids);
            Assert.Contains("Hybrid.Kernel", ids);
            Assert.All(ids, id => Assert.StartsWith("Hybrid", id)); // no sample, test or benchmark
            foreach (var id in ids) CheckPackage(feed, id, version);

            var dependencies = Nuspec(Path.Combine(feed, $"Hybrid.{version}.nupkg")).Descendants(Nuget("dependency"))
                .ToDictionary(d => (string)d.Attribute("id")!, d => (string)d.Attribute("version")!);
            Assert.Equal(version, dependencies["Hybrid.Kernel"]);

            var app = Path.Combine(work, "app");
            WriteConsoleProject(root, app, feed, Path.Combine(work, "packages"), version);
            Run(app, "restore", "-nologo");
            Run(app, "build", "-c", "Release", "--no-restore", "-nologo", "-v", "q");
            var printed = Run(app, "run", "-c", "Release", "--no-build");

            var values = printed.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
                .Select(l => l.Split(' ', 2)).Where(p => p.Length == 2).ToDictionary(p => p[0], p => p[1]);
            double Number(string key) => double.Parse(values[key], CultureInfo.InvariantCulture);
            Assert.Equal(12.0, Number("cube'(2)"), 12);                 // d/dx x³ = 3x²
            Assert.Equal(-215.6, Number("rosenbrock.grad[0]"), 10);     // -400·x0·(x1 - x0²) - 2(1 - x0) at (-1.2, 1)
            Assert.Equal(-88.0, Number("rosenbrock.grad[1]"), 10);      // 200·(x1 - x0²)
            Assert.Equal("GradientTolerance", values["newton.termination"]);
            Assert.Equal(1.0, Number("newton.x[0]"), 8);
            Assert.Equal(1.0, Number("newton.x[1]"), 8);
            Assert.InRange(Number("newton.value"), 0.0, 1e-16);
            Assert.InRange(Number("newton.gradnorm"), 0.0, 1e-8);
            Assert.InRange(int.Parse(values["newton.iterations"], CultureInfo.InvariantCulture), 5, 50);
        }
        finally
        {
            try { Directory.Delete(work, recursive: true); } catch (IOException) { } catch (UnauthorizedAccessException) { }
        }
    }

    private static XName Nuget(string local) => XName.Get(local, "http://schemas.microsoft.com/packaging/2013/05/nuspec.xsd");

    private static XDocument Nuspec(string nupkg)
    {
        using var zip = ZipFile.OpenRead(nupkg);
        var entry = zip.Entries.Single(e => e.FullName.EndsWith(".nuspec", StringComparison.Ordinal) && !e.FullName.Contains('/'));
        using var stream = entry.Open();
        return XDocument.Load(stream);
    }

    /// <summary>The metadata a feed shows, the README inside the package, the symbols package beside it.</summary>
    private static void CheckPackage(string feed, string id, string version)
    {
        var nupkg = Path.Combine(feed, $"{id}.{version}.nupkg");
        Assert.True(File.Exists(Path.Combine(feed, $"{id}.{version}.snupkg")), $"{id}: no .snupkg symbols package beside {nupkg}");
        var metadata = Nuspec(nupkg).Root!.Element(Nuget("metadata"))!;
        string Field(string name) => (string?)metadata.Element(Nuget(name)) ?? "";
        Assert.Equal(id, Field("id"));
        Assert.Equal("The Hybrid developers", Field("authors"));
        Assert.Equal("MIT", Field("license"));
        Assert.Equal("expression", (string?)metadata.Element(Nuget("license"))!.Attribute("type"));
        Assert.Equal("README.md", Field("readme"));
        Assert.Equal(RepositoryUrl, Field("projectUrl"));
        var repository = metadata.Element(Nuget("repository"));
        Assert.NotNull(repository);
        Assert.Equal("git", (string?)repository.Attribute("type"));
        Assert.Equal(RepositoryUrl, (string?)repository.Attribute("url"));
        var description = Field("description");
        Assert.True(description.Length > 80 && description != "Package Description", $"{id}: description is '{description}'");
        Assert.Contains("autodiff", Field("tags").Split(' '));
        using var zip = ZipFile.OpenRead(nupkg);
        var readme = zip.GetEntry("README.md");
        Assert.NotNull(readme);
        using var text = new StreamReader(readme.Open());
        Assert.StartsWith("# Hybrid", text.ReadToEnd());
        var lib = zip.Entries.Where(e => e.FullName.StartsWith("lib/net10.0/", StringComparison.Ordinal)).Select(e => e.Name).ToHashSet();
        var dlls = lib.Where(n => n.EndsWith(".dll", StringComparison.Ordinal)).ToArray();
        Assert.NotEmpty(dlls);
        Assert.All(dlls, dll => Assert.Contains(dll[..^4] + ".xml", lib)); // XML docs beside each assembly
    }

    /// <summary>
    /// A console project as a new user writes it, outside the repository (so none of its build files apply):
    /// nuget.config lists the local feed, for Hybrid* only, and the registries this machine is configured with,
    /// and takes packages already in the machine's global cache from there (a fallback folder).
    /// </summary>
    private void WriteConsoleProject(string root, string app, string feed, string packages, string version)
    {
        Directory.CreateDirectory(app);
        var registries = Run(root, "nuget", "list", "source", "--format", "Short")
            .Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
            .Where(l => l.StartsWith("E ", StringComparison.Ordinal)).Select(l => l[2..].Trim()).ToArray();
        var machineCache = Run(root, "nuget", "locals", "global-packages", "--list").Split(':', 2)[1].Trim();
        var config = new StringBuilder();
        config.AppendLine("<?xml version=\"1.0\" encoding=\"utf-8\"?>");
        config.AppendLine("<configuration>");
        config.AppendLine($"  <config><add key=\"globalPackagesFolder\" value=\"{packages}\" /></config>");
        config.AppendLine($"  <fallbackPackageFolders><clear /><add key=\"machine\" value=\"{machineCache}\" /></fallbackPackageFolders>");
        config.AppendLine("  <packageSources>");
        config.AppendLine("    <clear />");
        config.AppendLine($"    <add key=\"local\" value=\"{feed}\" />");
        for (var i = 0; i < registries.Length; i++) config.AppendLine($"    <add key=\"registry{i}\" value=\"{registries[i]}\" />");
        config.AppendLine("  </packageSources>");
        config.AppendLine("  <packageSourceMapping>");
        config.AppendLine("    <packageSource key=\"local\"><package pattern=\"Hybrid\" /><package pattern=\"Hybrid.*\" /></packageSource>");
        for (var i = 0; i < registries.Length; i++) config.AppendLine($"    <packageSource key=\"registry{i}\"><package pattern=\"*\" /></packageSource>");
        config.AppendLine("  </packageSourceMapping>");
        config.AppendLine("</configuration>");
        File.WriteAllText(Path.Combine(app, "nuget.config"), config.ToString());
        output.WriteLine(config.ToString());
        // empty build files stop any Directory.Build.* further up from applying
        File.WriteAllText(Path.Combine(app, "Directory.Build.props"), "<Project />\n");
        File.WriteAllText(Path.Combine(app, "Directory.Build.targets"), "<Project />\n");
        File.WriteAllText(Path.Combine(app, "app.csproj"), $"""
            <Project Sdk="Microsoft.NET.Sdk">
              <PropertyGroup>
                <OutputType>Exe</OutputType>
                <TargetFramework>net10.0</TargetFramework>
                <ImplicitUsings>enable</ImplicitUsings>
                <Nullable>enable</Nullable>
              </PropertyGroup>
              <ItemGroup>
                <PackageReference Include="Hybrid" Version="[{version}]" />
              </ItemGroup>
            </Project>
            """);
        File.WriteAllText(Path.Combine(app, "Program.cs"), """
            using System.Globalization;
            using Hybrid;
            using Hybrid.Kernel;

            static Real Rosenbrock(Vec x) =>
                Vec.Sum(100.0 * Vec.Square(x[1..] - Vec.Square(x[..^1])) + Vec.Square(1.0 - x[..^1]));
            static void Print(string key, object value) =>
                Console.WriteLine($"{key} {Convert.ToString(value, CultureInfo.InvariantCulture)}");

            Print("cube'(2)", (double)Fn.Grad((Real x) => x * x * x)(2.0));
            double[] g = Fn.Grad(Rosenbrock)(new[] { -1.2, 1.0 });
            Print("rosenbrock.grad[0]", g[0]);
            Print("rosenbrock.grad[1]", g[1]);
            var r = Newton.Minimize(Rosenbrock, new[] { -1.2, 1.0 });
            Print("newton.termination", r.Termination);
            Print("newton.x[0]", r.Solution[0]);
            Print("newton.x[1]", r.Solution[1]);
            Print("newton.value", r.Value);
            Print("newton.gradnorm", r.GradientNorm);
            Print("newton.iterations", r.Iterations);
            """);
    }

    /// <summary>Runs <c>dotnet args…</c> in <paramref name="directory"/>; returns stdout, fails with both streams.</summary>
    private string Run(string directory, params string[] args)
    {
        var start = new ProcessStartInfo(Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") is { Length: > 0 } host && File.Exists(host) ? host : "dotnet")
        {
            WorkingDirectory = directory,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var a in args) start.ArgumentList.Add(a);
        // the test host's MSBuild / test-platform variables would steer the child build; a user's shell has none
        foreach (var key in start.Environment.Keys.ToArray())
            if (key.StartsWith("MSBuild", StringComparison.OrdinalIgnoreCase) || key.StartsWith("VSTEST", StringComparison.OrdinalIgnoreCase)
                || key.Equals("NUGET_PACKAGES", StringComparison.OrdinalIgnoreCase))
                start.Environment.Remove(key);
        start.Environment["DOTNET_CLI_TELEMETRY_OPTOUT"] = "1";
        start.Environment["DOTNET_NOLOGO"] = "1";
        start.Environment["DOTNET_CLI_UI_LANGUAGE"] = "en";

        var command = $"dotnet {string.Join(' ', args)} (in {directory})";
        output.WriteLine("> " + command);
        var watch = Stopwatch.StartNew();
        using var process = Process.Start(start) ?? throw new InvalidOperationException($"could not start {command}");
        var stderr = process.StandardError.ReadToEndAsync();
        var stdout = process.StandardOutput.ReadToEndAsync();
        if (!process.WaitForExit(StepTimeout))
        {
            process.Kill(entireProcessTree: true);
            Assert.Fail($"{command} did not finish in {StepTimeout.TotalMinutes} minutes");
        }
        process.WaitForExit();
        var (o, e) = (stdout.Result, stderr.Result);
        output.WriteLine($"  exit {process.ExitCode} after {watch.Elapsed.TotalSeconds:F1} s");
        if (process.ExitCode != 0) Assert.Fail($"{command} exited with {process.ExitCode}:\n{o}\n{e}");
        output.WriteLine(o);
        return o;
    }

    /// <summary>The folder holding Hybrid.sln, above this test's output folder.</summary>
    private static string RepositoryRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
            if (File.Exists(Path.Combine(dir.FullName, "Hybrid.sln"))) return dir.FullName;
        throw new InvalidOperationException($"no Hybrid.sln above {AppContext.BaseDirectory}");
    }
}
