using System.Globalization;
using System.Text;
using ScottPlot;

namespace Hybrid.Bench;

/// Charts of a BenchmarkDotNet run: one PNG per suite, each case's ratio to the suite's baseline
/// (the hand-written code, 1×) by problem size, on a log scale — what bench/RESULTS.md shows.
///   dotnet bench/bin/Release/net10.0/Bench.dll charts [results dir] [output dir]
public static class Charts
{
    public static void Run(string[] args)
    {
        var results = args.Length > 0 ? args[0] : "BenchmarkDotNet.Artifacts/results";
        var output = args.Length > 1 ? args[1] : "charts";
        Directory.CreateDirectory(output);
        foreach (var csv in Directory.GetFiles(results, "*-report.csv").Order())
        {
            var suite = Path.GetFileName(csv).Replace("-report.csv", "").Replace("Hybrid.Bench.", "");
            var rows = Read(csv);
            var path = Path.Combine(output, suite + ".png");
            if (Draw(suite, rows, path)) Console.WriteLine($"chart: {path}");
        }
    }

    /// Cases as bars grouped by size (or by job when the suite has no size), height = ratio.
    private static bool Draw(string suite, List<Dictionary<string, string>> rows, string path)
    {
        static double Ratio(Dictionary<string, string> r) =>
            double.TryParse(r.GetValueOrDefault("Ratio", "").Replace(",", "").TrimEnd('x', '×'), NumberStyles.Float, CultureInfo.InvariantCulture, out var v) ? v : double.NaN;
        rows = rows.Where(r => double.IsFinite(Ratio(r)) && Ratio(r) > 0).ToList();
        if (rows.Count == 0) return false;
        var groupKey = rows[0].ContainsKey("N") ? "N" : "Job";
        var groups = rows.Select(r => r.GetValueOrDefault(groupKey, "")).Distinct().ToList();
        var cases = rows.Select(r => r["Method"].Trim('\'')).Distinct().ToList();

        var plot = new Plot();
        var palette = new ScottPlot.Palettes.Category10();
        var ticks = new List<Tick>();
        const double width = 0.8;
        for (var g = 0; g < groups.Count; g++)
        {
            for (var c = 0; c < cases.Count; c++)
            {
                var row = rows.FirstOrDefault(r => r.GetValueOrDefault(groupKey, "") == groups[g] && r["Method"].Trim('\'') == cases[c]);
                if (row is null) continue;
                var ratio = Ratio(row);
                var x = g * (cases.Count + 1) + c;
                var bar = plot.Add.Bar(position: x, value: Math.Log10(ratio));
                bar.Color = palette.GetColor(c);
                bar.Bars[0].Size = width;
                bar.Bars[0].Label = ratio >= 10 ? ratio.ToString("F0", CultureInfo.InvariantCulture) + "×" : ratio.ToString("0.##", CultureInfo.InvariantCulture) + "×";
                bar.ValueLabelStyle.FontSize = 11;
            }
            ticks.Add(new Tick(g * (cases.Count + 1) + (cases.Count - 1) / 2.0, groupKey == "N" ? "n = " + groups[g] : groups[g]));
        }
        plot.Axes.Bottom.TickGenerator = new ScottPlot.TickGenerators.NumericManual(ticks.ToArray());
        plot.Axes.Left.TickGenerator = new ScottPlot.TickGenerators.NumericAutomatic
        {
            LabelFormatter = v => Math.Pow(10, v).ToString("0.###", CultureInfo.InvariantCulture) + "×",
            IntegerTicksOnly = true,
        };
        plot.Axes.Left.Label.Text = "time ÷ hand-written baseline (log scale)";
        plot.Title(suite + ": ratio to the hand-written code (1× = as fast)");
        var legend = cases.Select((name, c) => new LegendItem { LabelText = name, FillColor = palette.GetColor(c) }).ToList();
        plot.ShowLegend(legend, Alignment.UpperLeft);
        plot.Axes.Margins(bottom: 0);
        var low = Math.Min(0, rows.Min(r => Math.Log10(Ratio(r)))) - 0.15;
        var high = rows.Max(r => Math.Log10(Ratio(r)));
        plot.Axes.SetLimitsY(low, high + 0.35 + 0.12 * cases.Count);
        plot.SavePng(path, 1000, 520);
        return true;
    }

    /// BenchmarkDotNet's CSV: a header row and quoted fields (case names contain commas).
    private static List<Dictionary<string, string>> Read(string path)
    {
        var lines = File.ReadAllLines(path);
        if (lines.Length == 0) return new();
        var head = Split(lines[0]);
        return lines.Skip(1).Where(l => l.Length > 0).Select(l =>
        {
            var cells = Split(l);
            return head.Select((h, i) => (h, v: i < cells.Count ? cells[i] : "")).ToDictionary(p => p.h, p => p.v);
        }).ToList();
    }

    private static List<string> Split(string line)
    {
        var cells = new List<string>();
        var cell = new StringBuilder();
        var quoted = false;
        for (var i = 0; i < line.Length; i++)
        {
            var ch = line[i];
            if (quoted)
            {
                if (ch == '"' && i + 1 < line.Length && line[i + 1] == '"') { cell.Append('"'); i++; }
                else if (ch == '"') quoted = false;
                else cell.Append(ch);
            }
            else if (ch == '"') quoted = true;
            else if (ch == ',') { cells.Add(cell.ToString()); cell.Clear(); }
            else cell.Append(ch);
        }
        cells.Add(cell.ToString());
        return cells;
    }
}
