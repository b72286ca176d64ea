using Hybrid.Kernel;

namespace Hybrid.Tests;

/// <summary>Test problems for the Newton solvers, with known minimisers or roots.</summary>
internal static class NewtonProblems
{
    /// <summary>A fixed-seed convex problem f(x) = Σ exp(aᵢxᵢ) + ½ xᵀAx − bᵀx with A = MᵀM/n + I symmetric positive definite.</summary>
    public sealed class Convex
    {
        public Convex(int n, int seed)
        {
            var rng = new Random(seed);
            var m = new double[n, n];
            for (var i = 0; i < n; i++)
                for (var j = 0; j < n; j++) m[i, j] = rng.NextDouble() * 2 - 1;
            Rows = new Vec[n];
            for (var i = 0; i < n; i++)
            {
                var row = new double[n];
                for (var j = 0; j < n; j++)
                {
                    var s = 0.0;
                    for (var k = 0; k < n; k++) s += m[k, i] * m[k, j];
                    row[j] = s / n + (i == j ? 1.0 : 0.0);
                }
                Rows[i] = new Vec(row);
            }
            A = new double[n];
            B = new double[n];
            for (var i = 0; i < n; i++)
            {
                A[i] = 0.5 + rng.NextDouble();
                B[i] = rng.NextDouble() * 4 - 2;
            }
            a = new Vec(A);
            b = new Vec(B);
        }

        private readonly Vec a, b;
        public Vec[] Rows { get; }
        public double[] A { get; }
        public double[] B { get; }

        public Real F(Vec x)
        {
            var ax = Vec.OfReals(Rows.Select(r => Vec.Dot(r, x)).ToArray());
            return Vec.Sum(Vec.Exp(a * x)) + 0.5 * Vec.Dot(x, ax) - Vec.Dot(b, x);
        }

        /// <summary>The gradient in doubles, to check the solver's claim independently of the tape.</summary>
        public double[] Gradient(double[] x)
        {
            var g = new double[x.Length];
            for (var i = 0; i < x.Length; i++)
            {
                var s = 0.0;
                var row = Rows[i].ToArray();
                for (var j = 0; j < x.Length; j++) s += row[j] * x[j];
                g[i] = A[i] * Math.Exp(A[i] * x[i]) + s - B[i];
            }
            return g;
        }
    }

    /// <summary>
    /// The separable problem f(x) = Σ exp(xᵢ) + ½cᵢxᵢ² − bᵢxᵢ (cᵢ &gt; 0): each coordinate's minimiser solves
    /// exp(x) + c x = b, which <see cref="Minimiser"/> finds by scalar Newton in doubles.
    /// </summary>
    public sealed class Separable
    {
        public Separable(int n, int seed)
        {
            var rng = new Random(seed);
            C = Enumerable.Range(0, n).Select(_ => 0.5 + rng.NextDouble()).ToArray();
            B = Enumerable.Range(0, n).Select(_ => rng.NextDouble() * 6 - 2).ToArray();
            c = new Vec(C);
            b = new Vec(B);
        }

        private readonly Vec c, b;
        public double[] C { get; }
        public double[] B { get; }

        public Real F(Vec x) => Vec.Sum(Vec.Exp(x) + 0.5 * c * Vec.Square(x) - b * x);

        public double Minimiser(int i)
        {
            var x = 0.0;
            for (var k = 0; k < 100; k++) x -= (Math.Exp(x) + C[i] * x - B[i]) / (Math.Exp(x) + C[i]);
            return x;
        }
    }

    /// <summary>An IProgress that records synchronously (Progress&lt;T&gt; posts to a synchronisation context).</summary>
    public sealed class Recorder<T> : IProgress<T>
    {
        public List<T> Items { get; } = new();
        public void Report(T value) => Items.Add(value);
    }
}
