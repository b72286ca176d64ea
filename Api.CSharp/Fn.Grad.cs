using Hybrid.Kernel;

namespace Hybrid;

/// <summary>
/// The function transforms (JAX / torch.func style). Every transform validates its arguments,
/// converts shapes and composes the kernel's mechanisms (<see cref="Ad"/>); none holds derivative
/// maths. Results are values of the level below the transform's trace, so transforms nest
/// (<c>Fn.Grad(Fn.Grad(f))</c>, <c>Fn.JacFwd(Fn.Grad(f))</c>, <c>Fn.Jvp</c> of a <c>Fn.Vjp</c>) with no
/// perturbation confusion. At the top level results are constants: read <c>.Value</c> or cast a
/// <see cref="Real"/> to double, and convert a <see cref="Vec"/> or <see cref="Mat"/> implicitly to
/// <c>double[]</c>, <c>Vector&lt;double&gt;</c> or <c>Matrix&lt;double&gt;</c>.
/// Values made inside a transform's function are valid only during that call; using one later
/// throws <see cref="EscapedValueException"/>.
/// </summary>
public static partial class Fn
{
    /// <summary>x as a one-element vector (a view of x's slot when x is traced).</summary>
    private static Vec One(Real x) => Vec.OfReals(new[] { x });

    /// <summary>
    /// The derivative of a scalar function: <c>Grad(f)(x) = f′(x)</c>. Reverse mode: one recording of f
    /// and one backward sweep.
    /// </summary>
    /// <param name="f">The function to differentiate.</param>
    /// <returns>The function x ↦ f′(x).</returns>
    /// <exception cref="ArgumentNullException"><paramref name="f"/> is null.</exception>
    public static Func<Real, Real> Grad(Func<Real, Real> f)
    {
        const string owner = "Fn.Grad";
        Check.NotNull(f, nameof(f), owner);
        return x => Ad.Grad(owner, v => f(v[0]), One(x)).Item2[0];
    }

    /// <summary>
    /// The gradient of a scalar-valued function of a vector: <c>Grad(f)(x) = ∇f(x)</c>, a vector of
    /// the length of x with entries ∂f/∂xᵢ. Reverse mode: one recording of f and one backward sweep,
    /// whatever the length of x (the cheap-gradient bound). For a vector-valued f use
    /// <see cref="JacRev"/> or <see cref="Vjp(Func{Vec, Vec}, Vec)"/>.
    /// </summary>
    /// <param name="f">The scalar function to differentiate.</param>
    /// <returns>The function x ↦ ∇f(x); it throws <see cref="ArgumentException"/> for an empty x.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="f"/> is null.</exception>
    public static Func<Vec, Vec> Grad(Func<Vec, Real> f)
    {
        const string owner = "Fn.Grad";
        Check.NotNull(f, nameof(f), owner);
        return x =>
        {
            Check.Input(x, nameof(x), owner);
            return Ad.Grad(owner, f, x).Item2;
        };
    }

    /// <summary>
    /// The derivative and the value of a scalar function in one reverse pass:
    /// <c>GradAndValue(f)(x) = (f′(x), f(x))</c>.
    /// </summary>
    /// <param name="f">The function to differentiate.</param>
    /// <returns>The function x ↦ (Grad: f′(x), Value: f(x)).</returns>
    /// <exception cref="ArgumentNullException"><paramref name="f"/> is null.</exception>
    public static Func<Real, (Real Grad, Real Value)> GradAndValue(Func<Real, Real> f)
    {
        const string owner = "Fn.GradAndValue";
        Check.NotNull(f, nameof(f), owner);
        return x =>
        {
            var (value, grad) = Ad.Grad(owner, v => f(v[0]), One(x));
            return (grad[0], value);
        };
    }

    /// <summary>
    /// The gradient and the value of a scalar-valued function of a vector in one reverse pass:
    /// <c>GradAndValue(f)(x) = (∇f(x), f(x))</c>.
    /// </summary>
    /// <param name="f">The scalar function to differentiate.</param>
    /// <returns>The function x ↦ (Grad: ∇f(x), Value: f(x)).</returns>
    /// <exception cref="ArgumentNullException"><paramref name="f"/> is null.</exception>
    public static Func<Vec, (Vec Grad, Real Value)> GradAndValue(Func<Vec, Real> f)
    {
        const string owner = "Fn.GradAndValue";
        Check.NotNull(f, nameof(f), owner);
        return x =>
        {
            Check.Input(x, nameof(x), owner);
            var (value, grad) = Ad.Grad(owner, f, x);
            return (grad, value);
        };
    }

    /// <summary>
    /// <c>has_aux</c>: f returns (Value, Aux); the result is (f′(x), Value, Aux), reverse mode.
    /// Aux is passed through unchanged and never differentiated; it may be any type. A
    /// <see cref="Real"/>, <see cref="Vec"/> or <see cref="Mat"/> aux is returned as its constant value
    /// (no derivative at any level, like <c>stop_gradient</c>); differentiable values nested inside any
    /// other aux type (a tuple, an array, a list of Reals) would escape the transform and throw
    /// <see cref="EscapedValueException"/> when used, so take their <c>.Value</c> inside f.
    /// </summary>
    /// <typeparam name="TAux">The auxiliary result's type.</typeparam>
    /// <param name="f">The function returning its value and an auxiliary result.</param>
    /// <returns>The function x ↦ (Grad: f′(x), Value: f(x), Aux).</returns>
    /// <exception cref="ArgumentNullException"><paramref name="f"/> is null.</exception>
    public static Func<Real, (Real Grad, Real Value, TAux Aux)> GradAndValue<TAux>(Func<Real, (Real Value, TAux Aux)> f)
    {
        const string owner = "Fn.GradAndValue";
        Check.NotNull(f, nameof(f), owner);
        return x =>
        {
            TAux aux = default!;
            var (value, grad) = Ad.Grad(owner, v =>
            {
                var (y, a) = f(v[0]);
                aux = StopGradient(a);
                return y;
            }, One(x));
            return (grad[0], value, aux);
        };
    }

    /// <summary>
    /// <c>has_aux</c> for a function of a vector: f returns (Value, Aux); the result is
    /// (∇f(x), Value, Aux), reverse mode. Aux is passed through unchanged and never differentiated
    /// (see <see cref="GradAndValue{TAux}(Func{Real, ValueTuple{Real, TAux}})"/> for Real, Vec and Mat aux).
    /// </summary>
    /// <typeparam name="TAux">The auxiliary result's type.</typeparam>
    /// <param name="f">The scalar function returning its value and an auxiliary result.</param>
    /// <returns>The function x ↦ (Grad: ∇f(x), Value: f(x), Aux).</returns>
    /// <exception cref="ArgumentNullException"><paramref name="f"/> is null.</exception>
    public static Func<Vec, (Vec Grad, Real Value, TAux Aux)> GradAndValue<TAux>(Func<Vec, (Real Value, TAux Aux)> f)
    {
        const string owner = "Fn.GradAndValue";
        Check.NotNull(f, nameof(f), owner);
        return x =>
        {
            Check.Input(x, nameof(x), owner);
            TAux aux = default!;
            var (value, grad) = Ad.Grad(owner, v =>
            {
                var (y, a) = f(v);
                aux = StopGradient(a);
                return y;
            }, x);
            return (grad, value, aux);
        };
    }

    /// <summary>
    /// An auxiliary result made safe to return from a transform: a Real, Vec or Mat becomes its
    /// constant value (it would otherwise escape the trace that made it); anything else is unchanged.
    /// A Real, Vec or Mat of a transform that has already returned throws EscapedValueException.
    /// </summary>
    private static TAux StopGradient<TAux>(TAux aux) => aux switch
    {
        Real r => (TAux)(object)new Real(Live(r).Value),
        Vec v => (TAux)(object)new Vec(v.ToArray()),
        Mat m => (TAux)(object)new Mat(new Vec(m.Data.ToArray()), m.Rows, m.Cols),
        _ => aux,
    };

    /// <summary>r, after checking that it does not belong to a closed trace.</summary>
    private static Real Live(Real r)
    {
        Ad.CheckLive(r);
        return r;
    }
}
