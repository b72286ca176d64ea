using Hybrid.Kernel;
using MathNet.Numerics.LinearAlgebra;
using MathNet.Numerics.LinearAlgebra.Double;

namespace Hybrid;

/// <summary>
/// The function a Newton solver iterates on, evaluated the way <see cref="NewtonOptions.Compile"/> asks:
/// compiled once at x0 (<see cref="CompiledCore"/>, guarded: a point off every recorded path is recorded
/// there) where it can be, else by the eager transforms — one second-order recording (or Jacobian) per
/// iterate, as before. Both give the same numbers; this class decides which runs and counts the recordings.
/// <para>
/// The compiled path is given up, for the rest of the solve, where compiling cannot help or could record
/// more often than the eager path: f cannot be compiled (at x0 or on a path found later), or the compiled
/// function keeps as many paths as it can (<see cref="Compiler.MaxPaths"/>; past it every new path would be
/// recorded on each call). Line-search trials never record: they run a kept path whose guards hold, or f
/// plainly (<see cref="Value"/>), so only accepted points are recorded.
/// </para>
/// </summary>
internal sealed class Objective
{
    private readonly string owner;
    private readonly Func<Vec, Real>? scalar;
    private readonly Func<Vec, Vec>? system;
    private readonly int n;
    private readonly string name;
    private CompiledCore? core;
    private int eagerRecordings;

    // the compiled point the solver works at: a workspace of this solve's own holding its path's values,
    // adjoints and partials (so Newton–CG's products at one x share them), the path, and which point it is
    private Workspace? workspace;
    private Hybrid.Kernel.Path? held;
    private SecondOrderPoint? holder;
    // the dense solver's points keep every adjoint, so the Hessian at a point reuses its forward pass and sweep
    private readonly bool denseHessian;
    // the line-search trial whose values the workspace holds (its forward pass done on `trialPath`), so that
    // taking it as the next point needs only the sweep; null when the workspace holds none
    private double[]? trialX;
    private Hybrid.Kernel.Path? trialPath;
    private double[]? hessianBuffer;

    private Objective(string owner, Func<Vec, Real>? scalar, Func<Vec, Vec>? system, int n, bool denseHessian = false)
    {
        this.denseHessian = denseHessian;
        this.owner = owner;
        this.scalar = scalar;
        this.system = system;
        this.n = n;
        name = system is null ? "f" : "F";
    }

    /// <summary>Recordings of f so far: the compiled function's (x0 and each new path) and the eager ones.</summary>
    public int Recordings => (core?.Recordings ?? 0) + eagerRecordings;

    /// <summary>Why the derivatives are (or, from some point on, were) the eager transforms'; null while every one came from the compiled function.</summary>
    public string? NotCompiledReason { get; private set; }

    /// <summary>
    /// f: ℝⁿ → ℝ for <see cref="Newton.Minimize"/> (<paramref name="denseHessian"/>: each point's Hessian is
    /// asked for, so its sweep keeps every adjoint and the Hessian reuses it) and <see cref="Newton.MinimizeCG"/>;
    /// records f at x0 when it compiles.
    /// </summary>
    public static Objective Scalar(string owner, Func<Vec, Real> f, double[] x0, NewtonOptions o, bool denseHessian = false)
    {
        var objective = new Objective(owner, f, null, x0.Length, denseHessian);
        objective.Compile(o, () => CompiledCore.Create(owner, v => new[] { f(v) }, (double[])x0.Clone()));
        return objective;
    }

    /// <summary>F: ℝⁿ → ℝᵐ for <see cref="Newton.Solve"/>; records F at x0 when it compiles.</summary>
    public static Objective Equations(string owner, Func<Vec, Vec> F, double[] x0, NewtonOptions o)
    {
        var objective = new Objective(owner, null, F, x0.Length);
        objective.Compile(o, () => CompiledCore.Create(owner, v => Check.Result(F(v), owner, "F").ToReals(), (double[])x0.Clone()));
        return objective;
    }

    /// <summary>Compiles f at x0 when the options ask for it and this thread is at the top level; otherwise says why not.</summary>
    private void Compile(NewtonOptions o, Func<CompiledCore> create)
    {
        if (!o.Compile)
        {
            NotCompiledReason = $"{owner}: options.Compile is false, so {name} is recorded at every iterate (the eager transforms).";
            return;
        }
        if (Traces.Depth != 0)
        {
            // a compiled function works on doubles at the top level; inside Fn.Grad & co. the derivatives of f
            // must stay differentiable by the enclosing transform
            NotCompiledReason = $"{owner}: the solver runs inside another transform, where {name} cannot be compiled; it is recorded at every iterate (the eager transforms).";
            return;
        }
        core = create();
        if (core.Unsupported is not null) GiveUp(core.Unsupported);
    }

    /// <summary>The compiled function while it is used (null once given up or never made).</summary>
    private CompiledCore? Active => NotCompiledReason is null ? core : null;

    /// <summary>Goes on with the eager transforms for the rest of the solve (the recordings made so far still count).</summary>
    private void GiveUp(string because)
    {
        NotCompiledReason = $"{owner}: {name} is evaluated by the eager transforms because {because}.";
    }

    /// <summary>The compiled function if a call may use it: not given up, and room for a new path should x need one.</summary>
    private CompiledCore? Usable()
    {
        var c = Active;
        if (c is not null && c.Paths >= Compiler.MaxPaths)
        {
            GiveUp($"{name} took {c.Paths} different paths, as many as a compiled function keeps (each further one would be recorded again on every call)");
            return null;
        }
        return c;
    }

    // ------------------------------------------------------------------------------------ f: ℝⁿ → ℝ

    /// <summary>f recorded at x: value and gradient now, the Hessian and Hessian-vector products on demand.</summary>
    public SecondOrderPoint At(double[] x)
    {
        var c = Usable();
        if (c is not null)
        {
            var gradient = new double[n];
            var value = 0.0;
            workspace ??= new Workspace();
            if (trialPath is not null && trialX is not null && SameBits(x, trialX))
            {
                // the accepted line-search trial: its forward pass is in the workspace
                held = trialPath;
                c.HoldSwept(workspace, held, gradient, ref value, denseHessian);
            }
            else
                held = c.TryHold(workspace, x, gradient, ref value, denseHessian);
            trialX = null;
            trialPath = null;
            if (held is not null)
            {
                var point = SecondOrderPoint.Compiled(this, (double[])x.Clone(), value, gradient);
                holder = point;
                return point;
            }
            holder = null;
            GiveUp(c.Unsupported ?? $"{name} could not be compiled at a later point");
        }
        return EagerAt(x);
    }

    /// <summary>The compiled point's Hessian (symmetrised as the eager tape's); null if the compiled function cannot give it.</summary>
    public double[,]? Hessian(SecondOrderPoint point)
    {
        if (core is null) return null;
        var h = hessianBuffer ??= new double[n * n];
        if (denseHessian && workspace is not null && held is not null && ReferenceEquals(holder, point))
            // the point's forward pass and kept sweep are in the workspace: value, gradient and Hessian from one of each
            core.HeldHessian(workspace, held, h);
        else if (!core.TryHessian(point.X, h)) return null;
        var result = new double[n, n];
        for (var j = 0; j < n; j++)
            for (var i = 0; i < n; i++) result[i, j] = h[i + j * n];
        return result;
    }

    /// <summary>
    /// The compiled point's H·v, from the workspace that holds the point (its partials computed once for
    /// all of a CG solve's products); the point is taken into the workspace again if another has replaced
    /// it since. Null if the compiled function cannot give it.
    /// </summary>
    public double[]? Hvp(SecondOrderPoint point, double[] v)
    {
        if (core is null || workspace is null) return null;
        if (!ReferenceEquals(holder, point) || held is null)
        {
            var value = 0.0;
            held = core.TryHold(workspace, point.X, new double[n], ref value);
            holder = held is null ? null : point;
            if (held is null) return null;
        }
        var hv = new double[n];
        core.HeldHvp(workspace, held, v, hv);
        return hv;
    }

    /// <summary>The eager second-order point at x (one recording of f).</summary>
    private SecondOrderPoint EagerAt(double[] x) => SecondOrderPoint.Of(Record(x));

    /// <summary>f recorded at x by the kernel (<see cref="Compose.SecondOrderAt"/>), counted.</summary>
    public SecondOrder Record(double[] x)
    {
        eagerRecordings++;
        return Compose.SecondOrderAt(owner, scalar!, new Vec((double[])x.Clone()));
    }

    /// <summary>f(x) for a line-search trial: a kept compiled path whose guards hold at x, else f on plain doubles; never a recording.</summary>
    public double Value(double[] x)
    {
        var c = Active;
        if (c is not null)
        {
            Span<double> y = stackalloc double[1];
            if (workspace is not null)
            {
                // in the solver's workspace, so that an accepted trial is the next point without a second forward
                // pass (the point held before is given up: the solver asks nothing more of it)
                holder = null;
                held = null;
                trialX = null;
                trialPath = c.TryValueHeld(workspace, x, y);
                if (trialPath is not null)
                {
                    trialX = (double[])x.Clone();
                    return y[0];
                }
            }
            else if (c.TryValueKnown(x, y)) return y[0];
        }
        return scalar!(new Vec(x)).Value;
    }

    /// <summary>True when a and b hold the same doubles bit for bit (−0 is not 0 to a compiled path's guards).</summary>
    private static bool SameBits(double[] a, double[] b) =>
        System.Runtime.InteropServices.MemoryMarshal.Cast<double, long>(a.AsSpan())
            .SequenceEqual(System.Runtime.InteropServices.MemoryMarshal.Cast<double, long>(b.AsSpan()));

    // ------------------------------------------------------------------------------------ F: ℝⁿ → ℝᵐ

    /// <summary>F(x) for a trial point (and x0): a kept compiled path whose guards hold at x, else F on plain doubles; never a recording.</summary>
    public double[] Values(double[] x)
    {
        var c = Active;
        if (c is not null && c.OutputLength >= 0)
        {
            var y = new double[c.OutputLength];
            if (c.TryValueKnown(x, y)) return y;
        }
        return Check.Result(system!(new Vec(x)), owner, "F").ToArray();
    }

    /// <summary>The m×n Jacobian at x: compiled (recording x's path if it is new), else <see cref="Fn.Jacobian"/> (one recording).</summary>
    public Matrix<double> Jacobian(double[] x)
    {
        var c = Usable();
        if (c is not null)
        {
            var j = DenseMatrix.Create(c.OutputLength, n, 0.0);
            if (c.TryJacobian(x, j.Values)) return j;
            GiveUp(c.Unsupported ?? $"{name} could not be compiled at a later point");
        }
        eagerRecordings++;
        return Fn.Jacobian(system!)(new Vec(x)).ToMatrix();
    }
}
