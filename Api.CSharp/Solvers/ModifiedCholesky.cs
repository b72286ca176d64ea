using MathNet.Numerics.LinearAlgebra;

namespace Hybrid;

/// <summary>
/// The Newton step from a Hessian that may not be positive definite: Cholesky with added multiple of
/// the identity (Nocedal &amp; Wright, Numerical Optimization, 2nd ed., Algorithm 3.3). With
/// s = max(1, maxᵢ |Hᵢᵢ|) and β = <see cref="NewtonOptions.InitialShift"/>·s, start from
/// τ₀ = 0 if minᵢ Hᵢᵢ &gt; 0, else τ₀ = −minᵢ Hᵢᵢ + β; try the Cholesky factorisation
/// L Lᵀ = H + τₖI, and on failure set τₖ₊₁ = max(<see cref="NewtonOptions.ShiftGrowth"/>·τₖ, β). The step
/// solves (H + τI) p = −∇f with the factor. H + τI positive definite makes p a descent direction.
/// The factorisation and the triangular solves are MathNet's <c>Cholesky()</c>, so they run on the
/// registered provider (MKL's dpotrf/dpotrs when installed; the first dense operation registers it).
/// </summary>
internal static class ModifiedCholesky
{
    /// <summary>The step p, the shift τ used, or null with the largest τ tried when no shift made H + τI positive definite.</summary>
    public static (double[]? Step, double Tau, int Attempts) Solve(double[,] hessian, double[] gradient, NewtonOptions o)
    {
        var n = gradient.Length;
        var h = Matrix<double>.Build.DenseOfArray(hessian);
        var rhs = Vector<double>.Build.Dense(Dense.Negate(gradient));
        var minDiag = double.PositiveInfinity;
        var maxAbsDiag = 0.0;
        for (var i = 0; i < n; i++)
        {
            minDiag = Math.Min(minDiag, h[i, i]);
            maxAbsDiag = Math.Max(maxAbsDiag, Math.Abs(h[i, i]));
        }
        var beta = o.InitialShift * Math.Max(1.0, maxAbsDiag);
        var tau = minDiag > 0 ? 0.0 : -minDiag + beta;
        var tried = tau;
        for (var attempt = 1; attempt <= o.MaxShiftAttempts; attempt++)
        {
            tried = tau;
            var a = h;
            if (tau > 0)
            {
                a = h.Clone();
                for (var i = 0; i < n; i++) a[i, i] += tau;
            }
            try
            {
                var p = a.Cholesky().Solve(rhs).ToArray();
                if (Dense.AllFinite(p)) return (p, tau, attempt);
            }
            catch (ArgumentException)
            {
                // not positive definite (MathNet's managed code throws ArgumentException; Hybrid's provider
                // NotPositiveDefiniteException, which derives from it): shift further
            }
            tau = Math.Max(o.ShiftGrowth * tau, beta);
        }
        return (null, tried, o.MaxShiftAttempts);
    }
}
