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
    /// The gradient and the value of a scalar-valued function of a vector, the gradient written into
    /// a buffer of yours: returns f(x) and leaves ∇f(x) in <paramref name="grad"/> — the same reverse
    /// pass, and the same numbers to the last bit, as <see cref="GradAndValue(Func{Vec, Real})"/>, but
    /// without a new gradient array per call (at n = 10⁶ that array is 8 MB of fresh memory whose page
    /// faults cost about a tenth of the call). For loops that take many gradients at the top level; inside
    /// another transform use <c>GradAndValue(f)(x)</c>, whose gradient stays differentiable.
    /// </summary>
    /// <param name="f">The scalar function to differentiate.</param>
    /// <param name="x">The point (a <c>double[]</c> converts implicitly); it is read before f runs, so
    /// <paramref name="grad"/> may be x's own array.</param>
    /// <param name="grad">Receives ∇f(x): exactly x.Length values.</param>
    /// <returns>f(x).</returns>
    /// <exception cref="ArgumentNullException"><paramref name="f"/> or <paramref name="x"/> is null.</exception>
    /// <exception cref="ArgumentException">x is empty, or <paramref name="grad"/>'s length is not x's.</exception>
    /// <exception cref="InvalidOperationException">Called inside another transform, or x carries
    /// derivatives: a buffer of doubles cannot carry them.</exception>
    public static double GradAndValue(Func<Vec, Real> f, Vec x, Span<double> grad)
    {
        const string owner = "Fn.GradAndValue";
        Check.NotNull(f, nameof(f), owner);
        Check.Input(x, nameof(x), owner);
        return Ad.GradInto(owner, f, x, grad);
    }

    /// <summary>
    /// <c>has_aux</c>: f returns (Value, Aux); the result is (f′(x), Value, Aux), reverse mode.
    /// Aux is never differentiated by this transform and may be any type. A <see cref="Real"/>,
    /// <see cref="Vec"/> or <see cref="Mat"/> in it — also inside arrays and tuples — comes back as the
    /// value it stands for in the enclosing level (as in JAX and torch.func): a constant at the top
    /// level, differentiable by an enclosing transform when nested, so
    /// <c>Fn.Grad((Real y) => Fn.GradAndValue((Real x) => (x * y, x * y))(2.0).Aux)(3.0)</c> is 2. Other
    /// containers (lists, your own classes) are passed through as they are: take <c>.Value</c> of
    /// Reals inside them within f.
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
                aux = Enclosing(a);
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
                aux = Enclosing(a);
                return y;
            }, x);
            return (grad, value, aux);
        };
    }

    /// <summary>
    /// An auxiliary result as values of the level enclosing the transform (JAX's and torch.func's
    /// has_aux semantics): a <see cref="Real"/>, <see cref="Vec"/> or <see cref="Mat"/> made inside f —
    /// also inside arrays and tuples, recursively — becomes the value it stands for one level down, so
    /// an enclosing transform differentiates it and nothing escapes; at the top level that is its
    /// constant value. Any other value is passed through unchanged. A value of a transform that has
    /// already returned throws <see cref="EscapedValueException"/>.
    /// </summary>
    private static TAux Enclosing<TAux>(TAux aux) => (TAux)Enclose(aux)!;

    private static object? Enclose(object? a)
    {
        switch (a)
        {
            case null: return null;
            case Real r: return Ad.Enclosing(r);
            case Vec v: return Ad.Enclosing(v);
            case Mat m: return Ad.Enclosing(m);
            case Array arr when Holds(arr.GetType().GetElementType()!):
            {
                var copy = Array.CreateInstance(arr.GetType().GetElementType()!, arr.Length);
                for (var i = 0; i < arr.Length; i++) copy.SetValue(Enclose(arr.GetValue(i)), i);
                return copy;
            }
            case System.Runtime.CompilerServices.ITuple when Holds(a.GetType()):
            {
                var type = a.GetType();
                if (type.IsValueType)
                {
                    var boxed = a; // a boxed copy: set its fields in place
                    foreach (var field in type.GetFields()) field.SetValue(boxed, Enclose(field.GetValue(boxed)));
                    return boxed;
                }
                var items = type.GetGenericArguments().Select((_, i) => Enclose(type.GetProperty(i < 7 ? $"Item{i + 1}" : "Rest")!.GetValue(a))).ToArray();
                return Activator.CreateInstance(type, items);
            }
            default: return a;
        }
    }

    /// <summary>True when values of this type may hold differentiable values (so aux must be walked).</summary>
    private static bool Holds(Type type)
    {
        if (type == typeof(Real) || type == typeof(Vec) || type == typeof(Mat) || type == typeof(object)) return true;
        if (type.IsArray) return Holds(type.GetElementType()!);
        if (!type.IsGenericType) return false;
        var name = type.GetGenericTypeDefinition().FullName!;
        return (name.StartsWith("System.ValueTuple`") || name.StartsWith("System.Tuple`")) && type.GetGenericArguments().Any(Holds);
    }
}
