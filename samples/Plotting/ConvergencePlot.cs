using ScottPlot;

namespace Hybrid.Samples;

/// <summary>One solver run as a plot series: ‖∇f‖ and f at each iteration (or evaluation).</summary>
/// <param name="Label">The legend text.</param>
/// <param name="GradientNorm">‖∇f‖ at step 0, 1, 2, …</param>
/// <param name="Value">f at the same steps.</param>
/// <param name="X">Where to draw each step on the horizontal axis (a time, say); null for 0, 1, 2, …</param>
public sealed record Series(string Label, IReadOnlyList<double> GradientNorm, IReadOnlyList<double> Value, IReadOnlyList<double>? X = null)
{
    /// <summary>A Newton solver's history (entry 0 is x0).</summary>
    public static Series Of(string label, IReadOnlyList<NewtonIteration> history) =>
        new(label, history.Select(h => h.GradientNorm).ToArray(), history.Select(h => h.Value).ToArray());
}

/// <summary>
/// Convergence plots: two panels side by side, ‖∇f‖ and f − f* against the step, both on a log₁₀ scale
/// (Newton's quadratic convergence is the curve that bends down steeply at the end).
/// </summary>
public static class ConvergencePlot
{
    /// <summary>
    /// Writes the plot as a PNG and returns its full path. f* is <paramref name="optimum"/> when the minimum
    /// value is known (0 for Rosenbrock), else the lowest f of all series; points with f − f* ≤ 0 (the
    /// minimum itself) and ‖∇f‖ = 0 cannot be drawn on a log scale and are left out, and so are differences
    /// below 1e-13·|f*|, which are rounding noise in f rather than progress.
    /// </summary>
    public static string Save(string path, string title, string stepLabel, IReadOnlyList<Series> series, double? optimum = null, bool integerSteps = true)
    {
        var fStar = optimum ?? series.SelectMany(s => s.Value).Min();
        var multiplot = new Multiplot { Layout = new ScottPlot.MultiplotLayouts.Columns() };
        multiplot.AddPlots(2);
        var gradientPlot = multiplot.GetPlot(0);
        var valuePlot = multiplot.GetPlot(1);
        var palette = new ScottPlot.Palettes.Category10();
        for (var i = 0; i < series.Count; i++)
        {
            var s = series[i];
            var colour = palette.GetColor(i);
            Add(gradientPlot, s.Label, s.X, s.GradientNorm, colour);
            Add(valuePlot, s.Label, s.X, s.Value.Select(v => v - fStar > 1e-13 * Math.Abs(fStar) ? v - fStar : 0.0).ToArray(), colour);
        }
        Style(gradientPlot, $"{title}: ‖∇f‖", stepLabel, "‖∇f(xₖ)‖₂", integerSteps);
        Style(valuePlot, $"{title}: f − f*", stepLabel, optimum is null ? "f(xₖ) − f*  (f* = lowest f reached)" : $"f(xₖ) − f*  (f* = {optimum.Value:G6})", integerSteps);
        var full = Path.GetFullPath(path);
        multiplot.SavePng(full, 1200, 480);
        return full;
    }

    /// <summary>
    /// Where a sample writes its picture: the directory in HYBRID_SAMPLE_OUTPUT when set (the tests use a
    /// temporary one), else the sample's own directory (a file-based app knows its source file), else the
    /// current directory.
    /// </summary>
    public static string NextToSample(string fileName)
    {
        var directory = Environment.GetEnvironmentVariable("HYBRID_SAMPLE_OUTPUT");
        if (string.IsNullOrEmpty(directory)) directory = AppContext.GetData("EntryPointFileDirectoryPath") as string;
        if (string.IsNullOrEmpty(directory)) directory = Environment.CurrentDirectory;
        Directory.CreateDirectory(directory);
        return Path.Combine(directory, fileName);
    }

    private static void Add(Plot plot, string label, IReadOnlyList<double>? at, IReadOnlyList<double> ys, Color colour)
    {
        var xs = new List<double>();
        var logs = new List<double>();
        for (var k = 0; k < ys.Count; k++)
            if (ys[k] > 0 && double.IsFinite(ys[k]))
            {
                xs.Add(at is null ? k : at[k]);
                logs.Add(Math.Log10(ys[k]));
            }
        var line = plot.Add.Scatter(xs.ToArray(), logs.ToArray());
        line.LegendText = label;
        line.Color = colour;
        line.LineWidth = 2;
        line.MarkerSize = xs.Count > 60 ? 0 : 5;
    }

    private static void Style(Plot plot, string title, string xLabel, string yLabel, bool integerSteps)
    {
        plot.Title(title);
        plot.XLabel(xLabel);
        plot.YLabel(yLabel);
        var ticks = new ScottPlot.TickGenerators.NumericAutomatic
        {
            MinorTickGenerator = new ScottPlot.TickGenerators.LogMinorTickGenerator(),
            IntegerTicksOnly = true,
            LabelFormatter = y => y == 0 ? "1" : $"1e{y:0}",
        };
        plot.Axes.Left.TickGenerator = ticks;
        if (integerSteps) plot.Axes.Bottom.TickGenerator = new ScottPlot.TickGenerators.NumericAutomatic { IntegerTicksOnly = true };
        plot.Grid.MajorLineColor = Colors.Black.WithOpacity(0.12);
        plot.Grid.MinorLineColor = Colors.Black.WithOpacity(0.05);
        plot.ShowLegend(Alignment.UpperRight);
    }
}
