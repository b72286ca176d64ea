namespace Hybrid;

/// <summary>The few dense vector operations the solvers need on plain arrays (O(n) each; the O(n²) and O(n³) work goes to MathNet and its provider).</summary>
internal static class Dense
{
    public static double Dot(double[] a, double[] b)
    {
        var s = 0.0;
        for (var i = 0; i < a.Length; i++) s += a[i] * b[i];
        return s;
    }

    /// <summary>‖a‖₂, scaled so that it neither overflows nor underflows for large or tiny entries.</summary>
    public static double Norm(double[] a)
    {
        var scale = 0.0;
        foreach (var v in a) scale = Math.Max(scale, Math.Abs(v));
        if (scale == 0 || !double.IsFinite(scale)) return scale; // 0, +∞, or NaN (Math.Max propagates NaN)
        var s = 0.0;
        foreach (var v in a) { var t = v / scale; s += t * t; }
        return scale * Math.Sqrt(s);
    }

    /// <summary>x + α·p as a new array.</summary>
    public static double[] AddScaled(double[] x, double alpha, double[] p)
    {
        var r = new double[x.Length];
        for (var i = 0; i < x.Length; i++) r[i] = x[i] + alpha * p[i];
        return r;
    }

    public static double[] Negate(double[] a)
    {
        var r = new double[a.Length];
        for (var i = 0; i < a.Length; i++) r[i] = -a[i];
        return r;
    }

    /// <summary>The index of the first entry that is NaN or ±∞, or −1.</summary>
    public static int FirstNonFinite(double[] a)
    {
        for (var i = 0; i < a.Length; i++) if (!double.IsFinite(a[i])) return i;
        return -1;
    }

    public static bool AllFinite(double[] a) => FirstNonFinite(a) < 0;
}
