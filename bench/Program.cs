using BenchmarkDotNet.Columns;
using BenchmarkDotNet.Configs;
using BenchmarkDotNet.Exporters;
using BenchmarkDotNet.Jobs;
using BenchmarkDotNet.Reports;
using BenchmarkDotNet.Running;
using Hybrid.Bench;
using Perfolizer.Horology;

if (args.Length > 0 && args[0] == "profile") { Profile.Run(); return; }
if (args.Length > 0 && args[0] == "profile-ops") { Profile.Ops(args[1..].Select(int.Parse).ToArray()); return; }
if (args.Length > 0 && args[0] == "profile-slices-ab") { Profile.SlicesAB(args[1..].Select(int.Parse).ToArray()); return; }
if (args.Length > 0 && args[0] == "profile-slices") { Profile.Slices(args[1..].Select(int.Parse).ToArray()); return; }
if (args.Length > 0 && args[0] == "profile-push") { Profile.Push(); return; }
if (args.Length > 0 && args[0] == "profile-extra") { Profile.Extra(); return; }
if (args.Length > 0 && args[0] == "probe-newton") { LogisticProbe.Run(args[1..]); return; }
if (args.Length > 0 && args[0] == "charts") { Charts.Run(args[1..]); return; }
if (args.Length > 0 && args[0] == "probe-hvp") { HvpProbe.Run(); return; }
if (args.Length > 0 && args[0] == "compile-time") { CompileTime.Report(args[1..]); return; }
if (args.Length > 0 && args[0] == "compile-parts") { CompileTime.Parts(args[1..]); return; }
if (args.Length > 0 && args[0] == "chunks") { CompileTime.ChunkReport(args[1..]); return; }
if (args.Length > 0 && args[0] == "lanes") { CompileTime.LaneReport(args[1..]); return; }

var config = ManualConfig.Create(DefaultConfig.Instance)
    .AddExporter(MarkdownExporter.GitHub)
    .AddColumn(StatisticColumn.Median)
    .WithSummaryStyle(SummaryStyle.Default.WithRatioStyle(RatioStyle.Value))
    .WithBuildTimeout(TimeSpan.FromMinutes(10)); // other builds share the 2 cores
if (!args.Any(a => a is "--job" or "-j"))
    config = config.AddJob(BenchConfig.Short);
BenchmarkSwitcher.FromAssembly(typeof(BenchConfig).Assembly).Run(args, config);

namespace Hybrid.Bench
{
    /// The run configuration: the machine has 2 cores shared with other work, so few, short
    /// iterations (median reported), one launch per case; the whole default run stays ~15 min.
    public static class BenchConfig
    {
        public const string UnsetCoreTypeVariable = "HYBRID_BENCH_UNSET_OPENBLAS_CORETYPE";

        public static readonly Job Short = Job.Default
            .WithLaunchCount(1).WithWarmupCount(3).WithIterationCount(7)
            .WithIterationTime(TimeInterval.FromMilliseconds(200))
            .WithId("short");

        /// Two more jobs for OpenBlasCoreType, beside the run's job (the environment as given):
        /// OPENBLAS_CORETYPE=Haswell (what the project's machines preset) and the variable removed
        /// inside the benchmark process before OpenBLAS loads.
        public class CoreType : ManualConfig
        {
            public CoreType()
            {
                AddJob(Short.WithEnvironmentVariable("OPENBLAS_CORETYPE", "Haswell").WithId("coretype-Haswell"));
                AddJob(Short.WithEnvironmentVariable(UnsetCoreTypeVariable, "1").WithId("coretype-unset"));
            }
        }
    }
}
