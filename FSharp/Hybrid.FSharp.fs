/// <summary>
/// Hybrid's function transforms for F#: curried, pipeline-friendly (<c>x |&gt; grad f</c>), over F#
/// functions, with F# tuples (aux results included) and float arrays in and out.
/// </summary>
/// <remarks>
/// <para>F# functions cannot be overloaded, and overloading by the function's type would make every
/// lambda need a type annotation. So the module that holds a transform says what its function takes,
/// as DiffSharp's <c>diff</c> / <c>grad</c> split does:</para>
/// <list type="bullet">
/// <item><c>Hybrid.FSharp</c> (this module): functions of a vector, <c>Vec -&gt; Real</c> or
/// <c>Vec -&gt; Vec</c> — <c>grad</c>, <c>gradAndValue</c>, <c>gradAndValueAux</c>, <c>jvp</c>,
/// <c>vjp</c>, <c>linearize</c>, <c>jacobian</c>, <c>jacFwd</c>, <c>jacRev</c>, <c>hessian</c>,
/// <c>hvp</c>, <c>vmap</c> / <c>vmapAux</c> (over the rows of a batch), and <c>scan</c> (any carry).</item>
/// <item><c>Hybrid.FSharp.Scalar</c>: the same names for functions of a scalar, <c>Real -&gt; Real</c>
/// (<c>Scalar.grad square 2.0 = 4.0</c>), and <c>vmap</c> / <c>scan</c> over a vector's elements.</item>
/// </list>
/// <para>Points may be plain values or differentiable ones, and results come back in the same
/// form: <c>float</c> or <c>Real</c> for scalars; <c>float[]</c>, <c>float list</c> or <c>Vec</c>
/// for vectors (matrices then come back as <c>float[,]</c>, <c>float list list</c> or <c>Mat</c>;
/// batches are <c>float[][]</c>, <c>float[,]</c> or <c>Mat</c>). A MathNet vector converts with
/// <c>v.ToArray()</c>. Inside another transform pass
/// <c>Real</c> / <c>Vec</c> points — that is what the transform hands your function anyway — so the
/// results stay differentiable and transforms nest: <c>Scalar.grad (Scalar.grad f)</c>,
/// <c>jacobian (grad f)</c>. A plain-valued result that would drop derivatives of an enclosing
/// transform throws instead.</para>
/// <para>Every function here wraps the C# API (<see cref="T:Hybrid.Fn"/>): the modes, the argument
/// checks and their messages are Fn's; this module holds no derivative maths.</para>
/// </remarks>
module Hybrid.FSharp

open System
open System.Collections.Generic
open System.ComponentModel
open System.Numerics
open MathNet.Numerics.LinearAlgebra
open Hybrid

// ------------------------------------------------------------------------------------- the types

/// The differentiable scalar the transforms feed into a function and read back (Hybrid.Kernel.Real).
type Real = Hybrid.Kernel.Real
/// A differentiable vector (Hybrid.Kernel.Vec): whole-vector operations, indexing to Real, slicing.
type Vec = Hybrid.Kernel.Vec
/// A differentiable column-major matrix (Hybrid.Kernel.Mat).
type Mat = Hybrid.Kernel.Mat
/// A dual number: a value and one tangent, forward mode (Hybrid.Kernel.Dual).
type Dual = Hybrid.Kernel.Dual
/// A hyper-dual number (f, ε₁, ε₂, ε₁ε₂): exact second derivatives (Hybrid.Kernel.HyperDual).
type HyperDual = Hybrid.Kernel.HyperDual

// ------------------------------------------------------------------------------- the conversions

/// <summary>
/// The conversions between the points F# code passes (float, float[], float list, float[,],
/// float[][], or the kernel's own Real / Vec / Mat) and the values the transforms take. An
/// implementation detail of the inline transforms (they resolve these overloads at compile time);
/// public only because inline code is expanded in the caller's assembly.
/// </summary>
[<AbstractClass; Sealed; EditorBrowsable(EditorBrowsableState.Never)>]
type Points =
    /// The error for a plain-valued result that still carries derivatives of an enclosing transform.
    static member private Escaping(owner: string, form: string) : exn =
        InvalidOperationException(
            sprintf "Hybrid.FSharp.%s: the result still carries derivatives of an enclosing transform (your function uses a value that transform traces), so returning it as %s would silently drop them. Inside another transform pass the point as a Real or Vec (real 5.0, vec [1.0; 2.0]) so the result stays differentiable." owner form)
        :> exn

    static member private Constant(r: Real, owner: string, form: string) =
        if not (Real.IsConstant r) then raise (Points.Escaping(owner, form))
        r.Value

    static member private Values(v: Vec, owner: string, form: string) =
        if isNull v then null
        elif not v.IsConstant then raise (Points.Escaping(owner, form))
        else v.ToArray()

    static member private Matrix(m: Mat, owner: string, form: string) =
        if isNull m then null
        elif not m.IsConstant then raise (Points.Escaping(owner, form))
        else m.ToMatrix()
    // (MathNet's Vector<float> / Matrix<float> are deliberately not point forms: an abstract class
    // among the overloads makes F# resolve the inline transforms to it at their definition.)

    /// A float point as a constant Real.
    static member ToReal(x: float) : Real = Real x
    /// A Real point as it is.
    static member ToReal(x: Real) : Real = x
    /// A Real result for a float point: its value (it must be constant).
    static member FromReal(r: Real, _like: float, owner: string) : float = Points.Constant(r, owner, "a float")
    /// A Real result for a Real point: as it is.
    static member FromReal(r: Real, _like: Real, _owner: string) : Real = r

    /// A float[] point as a constant Vec (null stays null, for Fn's message).
    static member ToVec(x: float[]) : Vec = if isNull x then null else Vec x
    /// A float list point as a constant Vec.
    static member ToVec(x: float list) : Vec = Vec(List.toArray x)
    /// A Vec point as it is.
    static member ToVec(x: Vec) : Vec = x
    /// A Vec result for a float[] point: its values.
    static member FromVec(v: Vec, _like: float[], owner: string) : float[] = Points.Values(v, owner, "a float[]")
    /// A Vec result for a float list point: its values.
    static member FromVec(v: Vec, _like: float list, owner: string) : float list =
        List.ofArray (Points.Values(v, owner, "a float list"))
    /// A Vec result for a Vec point: as it is.
    static member FromVec(v: Vec, _like: Vec, _owner: string) : Vec = v

    /// A scalar result beside a float[] point: its value.
    static member ValueFromReal(r: Real, _like: float[], owner: string) : float = Points.Constant(r, owner, "a float")
    /// A scalar result beside a float list point: its value.
    static member ValueFromReal(r: Real, _like: float list, owner: string) : float = Points.Constant(r, owner, "a float")
    /// A scalar result beside a Vec point: as it is.
    static member ValueFromReal(r: Real, _like: Vec, _owner: string) : Real = r

    /// A matrix result for a float[] point: a 2-D array.
    static member FromMat(m: Mat, _like: float[], owner: string) : float[,] =
        match Points.Matrix(m, owner, "a float[,]") with
        | null -> null
        | a -> a.ToArray()
    /// A matrix result for a float list point: its rows as lists.
    static member FromMat(m: Mat, _like: float list, owner: string) : float list list =
        let a = Points.Matrix(m, owner, "a float list list")
        [ for i in 0 .. a.RowCount - 1 -> [ for j in 0 .. a.ColumnCount - 1 -> a[i, j] ] ]
    /// A matrix result for a Vec point: as it is.
    static member FromMat(m: Mat, _like: Vec, _owner: string) : Mat = m

    /// A batch given as an array of rows (all of one length).
    static member ToBatch(xs: float[][]) : Mat =
        if isNull xs then null
        elif xs.Length = 0 then Mat(Vec(Array.empty<float>), 0, 0)
        else
            xs |> Array.iteri (fun i row ->
                if isNull row then nullArg (sprintf "xs[%d]" i)
                if row.Length <> xs[0].Length then
                    invalidArg "xs" (sprintf "Hybrid.FSharp.vmap: row 0 of the batch has %d values but row %d has %d; every row must have the same length." xs[0].Length i row.Length))
            Mat(Array2D.init xs.Length xs[0].Length (fun i j -> xs[i][j]))
    /// A batch given as a 2-D array (rows are items).
    static member ToBatch(xs: float[,]) : Mat = if isNull xs then null else Mat xs
    /// A batch given as a Mat, as it is.
    static member ToBatch(xs: Mat) : Mat = xs
    /// The per-row results for a float[][] batch.
    static member FromRows(v: Vec, _like: float[][], owner: string) : float[] = Points.Values(v, owner, "a float[]")
    /// The per-row results for a float[,] batch.
    static member FromRows(v: Vec, _like: float[,], owner: string) : float[] = Points.Values(v, owner, "a float[]")
    /// The per-row results for a Mat batch: as they are.
    static member FromRows(v: Vec, _like: Mat, _owner: string) : Vec = v

/// The compile-time dispatch onto <see cref="T:Hybrid.FSharp.Points"/> (implementation detail of the inline transforms).
[<EditorBrowsable(EditorBrowsableState.Never)>]
module Witness =
    /// Dispatches ToReal.
    let inline toRealW (_: ^W) (x: ^X) : Real = ((^W or ^X): (static member ToReal: ^X -> Real) x)
    /// Dispatches FromReal.
    let inline fromRealW (_: ^W) (r: Real) (like: ^X) (owner: string) : ^Y =
        ((^W or ^X): (static member FromReal: Real * ^X * string -> ^Y) (r, like, owner))
    /// Dispatches ToVec.
    let inline toVecW (_: ^W) (x: ^X) : Vec = ((^W or ^X): (static member ToVec: ^X -> Vec) x)
    /// Dispatches FromVec.
    let inline fromVecW (_: ^W) (v: Vec) (like: ^X) (owner: string) : ^Y =
        ((^W or ^X): (static member FromVec: Vec * ^X * string -> ^Y) (v, like, owner))
    /// Dispatches ValueFromReal.
    let inline valueW (_: ^W) (r: Real) (like: ^X) (owner: string) : ^Y =
        ((^W or ^X): (static member ValueFromReal: Real * ^X * string -> ^Y) (r, like, owner))
    /// Dispatches FromMat.
    let inline fromMatW (_: ^W) (m: Mat) (like: ^X) (owner: string) : ^Y =
        ((^W or ^X): (static member FromMat: Mat * ^X * string -> ^Y) (m, like, owner))
    /// Dispatches ToBatch.
    let inline toBatchW (_: ^W) (x: ^X) : Mat = ((^W or ^X): (static member ToBatch: ^X -> Mat) x)
    /// Dispatches FromRows.
    let inline fromRowsW (_: ^W) (v: Vec) (like: ^X) (owner: string) : ^Y =
        ((^W or ^X): (static member FromRows: Vec * ^X * string -> ^Y) (v, like, owner))

    /// A scalar point (float or Real) as a Real.
    let inline toReal x = toRealW Unchecked.defaultof<Points> x
    /// A Real result in the form of the scalar point `like`.
    let inline fromReal r like owner = fromRealW Unchecked.defaultof<Points> r like owner
    /// A vector point (float[], float list, Vec) as a Vec.
    let inline toVec x = toVecW Unchecked.defaultof<Points> x
    /// A Vec result in the form of the vector point `like`.
    let inline fromVec v like owner = fromVecW Unchecked.defaultof<Points> v like owner
    /// A scalar result beside the vector point `like` (float, or Real for a Vec point).
    let inline valueOf r like owner = valueW Unchecked.defaultof<Points> r like owner
    /// A Mat result in the matrix form that goes with the vector point `like`.
    let inline fromMat m like owner = fromMatW Unchecked.defaultof<Points> m like owner
    /// A batch (float[][], float[,], Mat) as a Mat.
    let inline toBatch x = toBatchW Unchecked.defaultof<Points> x
    /// Per-row results in the vector form that goes with the batch `like`.
    let inline fromRows v like owner = fromRowsW Unchecked.defaultof<Points> v like owner

open Witness

// ------------------------------------------------------------------------------------- helpers

/// <summary>A constant <c>Real</c>: <c>real 5.0</c>. Use it for points inside another transform.</summary>
/// <param name="x">The value.</param>
let real (x: float) : Real = Real x

/// <summary>A constant <c>Vec</c> of the given values: <c>vec [1.0; 2.0]</c>.</summary>
/// <param name="xs">The values (copied).</param>
let vec (xs: seq<float>) : Vec =
    if isNull (box xs) then nullArg "xs"
    Vec(Seq.toArray xs)

/// <summary>A <c>Vec</c> of the given (differentiable) Reals: <c>vecOfReals [ x[0] * x[1]; sin x[2] ]</c>,
/// how a function ℝⁿ → ℝᵐ builds its result.</summary>
/// <param name="xs">The elements.</param>
let vecOfReals (xs: seq<Real>) : Vec =
    if isNull (box xs) then nullArg "xs"
    Vec.OfReals(Seq.toArray xs)

/// <summary>
/// The constant <paramref name="c"/> in whatever number type the surrounding generic code runs at,
/// so one inline function works at <c>float</c>, <c>Dual</c>, <c>HyperDual</c> and <c>Real</c>:
/// <c>let inline f x = num 2.0 * x + exp x</c>. (A bare <c>2.0 * x</c> would fix x to float.)
/// </summary>
/// <param name="c">The constant.</param>
let inline num<'T when 'T :> INumberBase<'T>> (c: float) : 'T = 'T.CreateChecked c

// ------------------------------------------------------------------- transforms of Vec -> Real

/// <summary>
/// The gradient ∇f(x) of a scalar-valued function of a vector, reverse mode (one recording of f and
/// one backward sweep, whatever the length of x): <c>grad f x</c>, or <c>x |&gt; grad f</c>.
/// </summary>
/// <param name="f">The function ℝⁿ → ℝ.</param>
/// <param name="x">The point: float[], float list or Vec (n ≥ 1).</param>
/// <returns>∇f(x), in the form of x.</returns>
/// <exception cref="T:System.ArgumentException">x is empty.</exception>
let inline grad (f: Vec -> Real) (x: ^X) =
    let df = Fn.Grad(Func<Vec, Real> f)
    fromVec (df.Invoke(toVec x)) x "grad"

/// <summary>The gradient and the value in one reverse pass: <c>gradAndValue f x = (∇f(x), f(x))</c>.</summary>
/// <param name="f">The function ℝⁿ → ℝ.</param>
/// <param name="x">The point: float[], float list or Vec.</param>
/// <returns>(∇f(x) in the form of x, f(x) as a float — a Real for a Vec point).</returns>
let inline gradAndValue (f: Vec -> Real) (x: ^X) =
    let struct (g, v) = Fn.GradAndValue(Func<Vec, Real> f).Invoke(toVec x)
    fromVec g x "gradAndValue", valueOf v x "gradAndValue"

/// <summary>
/// <c>has_aux</c>: f returns an F# tuple (value, aux); the result is (∇f(x), value, aux). The aux is
/// passed through unchanged and never differentiated; it may be any type (a Real, Vec or Mat aux
/// comes back as its constant value; take <c>float</c> of Reals nested in other aux types inside f).
/// </summary>
/// <param name="f">The function ℝⁿ → ℝ returning (value, aux).</param>
/// <param name="x">The point: float[], float list or Vec.</param>
/// <returns>(∇f(x) in the form of x, the value, the aux).</returns>
let inline gradAndValueAux (f: Vec -> Real * 'Aux) (x: ^X) =
    let g = Fn.GradAndValue(Func<Vec, struct (Real * 'Aux)>(fun v -> let y, a = f v in struct (y, a)))
    let struct (gr, v, a) = g.Invoke(toVec x)
    fromVec gr x "gradAndValueAux", valueOf v x "gradAndValueAux", a

/// <summary>
/// The n×n Hessian H[i, j] = ∂²f/∂xᵢ∂xⱼ, forward-over-reverse (a second-order recording at the top
/// level, <c>jacFwd (grad f)</c> inside another transform).
/// </summary>
/// <param name="f">The function ℝⁿ → ℝ.</param>
/// <param name="x">The point: float[] (gives float[,]), float list (float list list) or Vec (Mat).</param>
/// <returns>H(x).</returns>
let inline hessian (f: Vec -> Real) (x: ^X) =
    fromMat (Fn.Hessian(Func<Vec, Real> f).Invoke(toVec x)) x "hessian"

/// <summary>The Hessian-vector product H(x)·v = ∇(∇f·v) without forming H, forward-over-reverse.</summary>
/// <param name="f">The function ℝⁿ → ℝ.</param>
/// <param name="x">The point: float[], float list or Vec.</param>
/// <param name="v">The vector (the same form and length as x).</param>
/// <returns>H(x)·v, in the form of x.</returns>
/// <exception cref="T:System.ArgumentException">v's length differs from x's, or x is empty.</exception>
let inline hvp (f: Vec -> Real) (x: ^X) (v: ^X) =
    fromVec (Fn.Hvp(Func<Vec, Real> f).Invoke(toVec x, toVec v)) x "hvp"

/// <summary>
/// f mapped over the rows of a batch (the leading axis): <c>vmap f xs</c> gives [f(row 0), f(row 1), …].
/// A loop over rows, so data-dependent control flow works per row; differentiable by any enclosing transform.
/// </summary>
/// <param name="f">The function ℝⁿ → ℝ applied to each row.</param>
/// <param name="xs">The batch: float[][] or float[,] (gives float[]) or Mat (gives Vec).</param>
/// <returns>The per-row values.</returns>
let inline vmap (f: Vec -> Real) (xs: ^B) =
    fromRows (Fn.Vmap(Func<Vec, Real> f).Invoke(toBatch xs)) xs "vmap"

/// <summary>f mapped over the rows of a batch with an aux result per row: (values, aux array).</summary>
/// <param name="f">The function ℝⁿ → ℝ applied to each row, returning (value, aux).</param>
/// <param name="xs">The batch: float[][], float[,] or Mat.</param>
/// <returns>(the per-row values as in <c>vmap</c>, the per-row aux results).</returns>
let inline vmapAux (f: Vec -> Real * 'Aux) (xs: ^B) =
    let m = Fn.Vmap(Func<Vec, struct (Real * 'Aux)>(fun v -> let y, a = f v in struct (y, a)))
    let struct (ys, aux) = m.Invoke(toBatch xs)
    fromRows ys xs "vmapAux", aux

// -------------------------------------------------------------------- transforms of Vec -> Vec

/// <summary>Forward mode: <c>jvp f x v = (f(x), J(x)·v)</c>, one pass of f with tangents.</summary>
/// <param name="f">The function ℝⁿ → ℝᵐ.</param>
/// <param name="x">The point: float[], float list or Vec.</param>
/// <param name="v">The tangent (the same form and length as x).</param>
/// <returns>(f(x), J·v), both in the form of x.</returns>
/// <exception cref="T:System.ArgumentException">v's length differs from x's, or x is empty.</exception>
let inline jvp (f: Vec -> Vec) (x: ^X) (v: ^X) =
    let struct (y, t) = Fn.Jvp(Func<Vec, Vec> f, toVec x, toVec v)
    fromVec y x "jvp", fromVec t x "jvp"

/// <summary>
/// Reverse mode: <c>vjp f x = (f(x), pullback)</c> with <c>pullback u = uᵀJ(x)</c>. f is recorded
/// once; the pullback may be called any number of times.
/// </summary>
/// <param name="f">The function ℝⁿ → ℝᵐ.</param>
/// <param name="x">The point: float[], float list or Vec.</param>
/// <returns>(f(x), u ↦ Jᵀu), in the form of x; the pullback checks that u has length m.</returns>
let inline vjp (f: Vec -> Vec) (x: ^X) =
    let r = Fn.Vjp(Func<Vec, Vec> f, toVec x)
    let y, pullback = r.Output, r.Pullback
    fromVec y x "vjp", (fun (u: ^X) -> fromVec (pullback.Invoke(toVec u)) x "vjp")

/// <summary>
/// The linearisation at a fixed x: <c>linearize f x = (f(x), v ↦ J(x)·v)</c>, forward mode; at the top
/// level f is recorded once and each call replays the recording.
/// </summary>
/// <param name="f">The function ℝⁿ → ℝᵐ.</param>
/// <param name="x">The point: float[], float list or Vec.</param>
/// <returns>(f(x), v ↦ J·v), in the form of x.</returns>
let inline linearize (f: Vec -> Vec) (x: ^X) =
    let r = Fn.Linearize(Func<Vec, Vec> f, toVec x)
    let y, push = r.Output, r.Jvp
    fromVec y x "linearize", (fun (v: ^X) -> fromVec (push.Invoke(toVec v)) x "linearize")

/// <summary>The m×n Jacobian J[i, j] = ∂fᵢ/∂xⱼ, mode chosen by shape (forward when n ≤ m, else reverse).</summary>
/// <param name="f">The function ℝⁿ → ℝᵐ.</param>
/// <param name="x">The point: float[] (gives float[,]), float list (float list list) or Vec (Mat).</param>
/// <returns>J(x).</returns>
let inline jacobian (f: Vec -> Vec) (x: ^X) =
    fromMat (Fn.Jacobian(Func<Vec, Vec> f).Invoke(toVec x)) x "jacobian"

/// <summary>The m×n Jacobian by forward mode (n pushed tangents, in chunks); best when n ≤ m.</summary>
/// <param name="f">The function ℝⁿ → ℝᵐ.</param>
/// <param name="x">The point, as for <c>jacobian</c>.</param>
/// <returns>J(x).</returns>
let inline jacFwd (f: Vec -> Vec) (x: ^X) =
    fromMat (Fn.JacFwd(Func<Vec, Vec> f).Invoke(toVec x)) x "jacFwd"

/// <summary>The m×n Jacobian by reverse mode (one recording, m pullbacks); best when m &lt; n.</summary>
/// <param name="f">The function ℝⁿ → ℝᵐ.</param>
/// <param name="x">The point, as for <c>jacobian</c>.</param>
/// <returns>J(x).</returns>
let inline jacRev (f: Vec -> Vec) (x: ^X) =
    fromMat (Fn.JacRev(Func<Vec, Vec> f).Invoke(toVec x)) x "jacRev"

// -------------------------------------------------------------------- custom rules and compile

/// <summary>
/// f: ℝⁿ → ℝᵐ with your own forward rule (JAX's <c>custom_jvp</c>): <c>jvp x ẋ = J(x)·ẋ</c>, linear in ẋ
/// and written with Vec/Real operations, so it nests. f is called on primal values only (it may work in
/// plain doubles through <c>x.ToArray()</c>, e.g. an external solver). Reverse mode transposes the rule;
/// every transform works on the result (<see cref="M:Hybrid.Fn.CustomJvp(System.Func{Hybrid.Kernel.Vec,Hybrid.Kernel.Vec},System.Func{Hybrid.Kernel.Vec,Hybrid.Kernel.Vec,Hybrid.Kernel.Vec})"/>).
/// </summary>
/// <param name="f">The function (its value).</param>
/// <param name="jvp">x ↦ ẋ ↦ ẏ, linear in ẋ.</param>
/// <returns>f with its derivative given by the rule.</returns>
let customJvp (f: Vec -> Vec) (jvp: Vec -> Vec -> Vec) : Vec -> Vec =
    if isNull (box f) then nullArg "f"
    if isNull (box jvp) then nullArg "jvp"
    let g = Fn.CustomJvp(Func<Vec, Vec> f, Func<Vec, Vec, Vec>(fun x xd -> jvp x xd))
    fun x -> g.Invoke x

/// <summary>
/// f: ℝⁿ → ℝᵐ with your own reverse rule (JAX's <c>custom_vjp</c>): <c>vjp x y ȳ = J(x)ᵀȳ</c>, given x,
/// y = f(x) and the cotangent ȳ, linear in ȳ and written with Vec/Real operations. Forward mode and
/// nesting use the rule's transpose, so unlike JAX's <c>custom_vjp</c> every transform works.
/// </summary>
/// <param name="f">The function (its value).</param>
/// <param name="vjp">x ↦ y ↦ ȳ ↦ x̄, linear in ȳ.</param>
/// <returns>f with its derivative given by the rule.</returns>
let customVjp (f: Vec -> Vec) (vjp: Vec -> Vec -> Vec -> Vec) : Vec -> Vec =
    if isNull (box f) then nullArg "f"
    if isNull (box vjp) then nullArg "vjp"
    let g = Fn.CustomVjp(Func<Vec, Vec> f, Func<Vec, Vec, Vec, Vec>(fun x y yb -> vjp x y yb))
    fun x -> g.Invoke x

/// <summary>
/// A scalar-valued f: ℝⁿ → ℝ with your own reverse rule: <c>vjp x y ȳ = ȳ·∇f(x)</c> (a Vec), linear in ȳ —
/// e.g. a log-density whose gradient an external code provides. As <c>customVjp</c>.
/// </summary>
/// <param name="f">The function (its value).</param>
/// <param name="vjp">x ↦ y ↦ ȳ ↦ x̄, linear in ȳ.</param>
/// <returns>f with its gradient given by the rule.</returns>
let customVjpReal (f: Vec -> Real) (vjp: Vec -> Real -> Real -> Vec) : Vec -> Real =
    if isNull (box f) then nullArg "f"
    if isNull (box vjp) then nullArg "vjp"
    let g = Fn.CustomVjp(Func<Vec, Real> f, Func<Vec, Real, Real, Vec>(fun x y yb -> vjp x y yb))
    fun x -> g.Invoke x

/// <summary>
/// Compiles f: ℝⁿ → ℝ, recorded once at x0 (<see cref="M:Hybrid.Fn.Compile(System.Func{Hybrid.Kernel.Vec,Hybrid.Kernel.Real},Hybrid.Kernel.Vec)"/>):
/// the result's <c>Value</c>, <c>GradAndValue</c>, <c>Jvp</c>, <c>Hvp</c> and <c>Hessian</c> take float
/// arrays (or spans) and allocate nothing per call; decisions on values are guarded, so a call at a point
/// where f takes another branch records that path too and the results always equal the eager ones.
/// <c>let c = compile f x0 in let v = c.GradAndValue(x, g)</c>.
/// </summary>
/// <param name="f">The function ℝⁿ → ℝ (deterministic in x).</param>
/// <param name="x0">The point to record at: float[], float list or Vec of constants.</param>
/// <returns>The compiled function; usable from many threads at once.</returns>
let inline compile (f: Vec -> Real) (x0: ^X) : CompiledFunction = Fn.Compile(Func<Vec, Real> f, toVec x0)

/// <summary>Compiles f: ℝⁿ → ℝᵐ at x0, as <c>compile</c>: <c>Value(x, y)</c>, <c>Jvp(x, v, y, jv)</c>, <c>Jacobian</c>.</summary>
/// <param name="f">The function ℝⁿ → ℝᵐ.</param>
/// <param name="x0">The point to record at.</param>
/// <returns>The compiled function.</returns>
let inline compileVec (f: Vec -> Vec) (x0: ^X) : CompiledFunction = Fn.Compile(Func<Vec, Vec> f, toVec x0)

// ------------------------------------------------------------------------------------- scan

/// <summary>
/// <c>jax.lax.scan</c> over any carry and elements: the plain loop
/// <c>carry = init; for x in xs: (carry, y) = f carry x</c>, returning (final carry, the ys). A loop
/// in the traced code, so differentiable through the carry and the xs by an enclosing transform.
/// For a scalar carry over a vector's elements see <c>Scalar.scan</c>.
/// </summary>
/// <param name="f">The step: carry ↦ x ↦ (carry′, y).</param>
/// <param name="init">The initial carry.</param>
/// <param name="xs">The elements (for a Vec's elements, <c>x.ToReals()</c>).</param>
/// <returns>(the final carry, the outputs of every step).</returns>
let scan (f: 'C -> 'X -> 'C * 'Y) (init: 'C) (xs: seq<'X>) : 'C * 'Y[] =
    let step = Func<'C, 'X, struct ('C * 'Y)>(fun c x -> let c', y = f c x in struct (c', y))
    let items = if isNull (box xs) then null else Seq.toArray xs :> IReadOnlyList<'X>
    let struct (carry, ys) = Fn.Scan<'C, 'X, 'Y>(step, init, items)
    carry, ys

// ------------------------------------------------------------------- transforms of Real -> Real

/// <summary>
/// The transforms for functions of a scalar, <c>Real -&gt; Real</c>, under the same names as the
/// vector ones: <c>Scalar.grad square 2.0 = 4.0</c>. Points are <c>float</c> (results are floats) or
/// <c>Real</c> (results are Reals, differentiable by an enclosing transform:
/// <c>Scalar.grad (Scalar.grad f)</c>). <c>open Hybrid.FSharp.Scalar</c> to use the short names.
/// </summary>
module Scalar =

    /// <summary>The derivative f′(x), reverse mode: <c>Scalar.grad f x</c> or <c>x |&gt; Scalar.grad f</c>.</summary>
    /// <param name="f">The function ℝ → ℝ.</param>
    /// <param name="x">The point: float or Real.</param>
    /// <returns>f′(x), in the form of x.</returns>
    let inline grad (f: Real -> Real) (x: ^X) : ^X =
        fromReal (Fn.Grad(Func<Real, Real> f).Invoke(toReal x)) x "Scalar.grad"

    /// <summary>The derivative and the value in one reverse pass: <c>(f′(x), f(x))</c>.</summary>
    /// <param name="f">The function ℝ → ℝ.</param>
    /// <param name="x">The point: float or Real.</param>
    /// <returns>(f′(x), f(x)), in the form of x.</returns>
    let inline gradAndValue (f: Real -> Real) (x: ^X) : ^X * ^X =
        let struct (g, v) = Fn.GradAndValue(Func<Real, Real> f).Invoke(toReal x)
        fromReal g x "Scalar.gradAndValue", fromReal v x "Scalar.gradAndValue"

    /// <summary>
    /// <c>has_aux</c>: f returns an F# tuple (value, aux); the result is (f′(x), value, aux), the aux
    /// passed through unchanged and never differentiated (any type).
    /// </summary>
    /// <param name="f">The function ℝ → ℝ returning (value, aux).</param>
    /// <param name="x">The point: float or Real.</param>
    /// <returns>(f′(x), the value, the aux).</returns>
    let inline gradAndValueAux (f: Real -> Real * 'Aux) (x: ^X) : ^X * ^X * 'Aux =
        let g = Fn.GradAndValue(Func<Real, struct (Real * 'Aux)>(fun t -> let y, a = f t in struct (y, a)))
        let struct (gr, v, a) = g.Invoke(toReal x)
        fromReal gr x "Scalar.gradAndValueAux", fromReal v x "Scalar.gradAndValueAux", a

    /// <summary>The second derivative f″(x), forward-over-reverse.</summary>
    /// <param name="f">The function ℝ → ℝ.</param>
    /// <param name="x">The point: float or Real.</param>
    /// <returns>f″(x), in the form of x.</returns>
    let inline hessian (f: Real -> Real) (x: ^X) : ^X =
        fromReal (Fn.Hessian(Func<Real, Real> f).Invoke(toReal x)) x "Scalar.hessian"

    /// <summary>Forward mode: <c>Scalar.jvp f x v = (f(x), f′(x)·v)</c>.</summary>
    /// <param name="f">The function ℝ → ℝ.</param>
    /// <param name="x">The point: float or Real.</param>
    /// <param name="v">The tangent (the same form as x).</param>
    /// <returns>(f(x), f′(x)·v).</returns>
    let inline jvp (f: Real -> Real) (x: ^X) (v: ^X) : ^X * ^X =
        let struct (y, t) = Fn.Jvp(Func<Real, Real> f, toReal x, toReal v)
        fromReal y x "Scalar.jvp", fromReal t x "Scalar.jvp"

    /// <summary>Reverse mode: <c>Scalar.vjp f x = (f(x), u ↦ u·f′(x))</c>, the pullback reusable.</summary>
    /// <param name="f">The function ℝ → ℝ.</param>
    /// <param name="x">The point: float or Real.</param>
    /// <returns>(f(x), the pullback), in the form of x.</returns>
    let inline vjp (f: Real -> Real) (x: ^X) : ^X * (^X -> ^X) =
        let r = Fn.Vjp(Func<Real, Real> f, toReal x)
        let y, pullback = r.Output, r.Pullback
        fromReal y x "Scalar.vjp", (fun (u: ^X) -> fromReal (pullback.Invoke(toReal u)) x "Scalar.vjp")

    /// <summary>The linearisation at x: <c>(f(x), v ↦ f′(x)·v)</c>, forward mode.</summary>
    /// <param name="f">The function ℝ → ℝ.</param>
    /// <param name="x">The point: float or Real.</param>
    /// <returns>(f(x), v ↦ f′(x)·v), in the form of x.</returns>
    let inline linearize (f: Real -> Real) (x: ^X) : ^X * (^X -> ^X) =
        let r = Fn.Linearize(Func<Real, Real> f, toReal x)
        let y, push = r.Output, r.Jvp
        fromReal y x "Scalar.linearize", (fun (v: ^X) -> fromReal (push.Invoke(toReal v)) x "Scalar.linearize")

    /// <summary>
    /// f mapped over the elements of a vector: <c>Scalar.vmap f xs = [f xs[0]; f xs[1]; …]</c>. Each
    /// element runs f separately, so an <c>if</c> on the value works per element; differentiable by
    /// any enclosing transform.
    /// </summary>
    /// <param name="f">The function ℝ → ℝ.</param>
    /// <param name="xs">The elements: float[], float list or Vec.</param>
    /// <returns>The mapped elements, in the form of xs.</returns>
    let inline vmap (f: Real -> Real) (xs: ^X) =
        fromVec (Fn.Vmap(Func<Real, Real> f).Invoke(toVec xs)) xs "Scalar.vmap"

    /// <summary>f mapped over the elements of a vector with an aux result per element: (values, aux array).</summary>
    /// <param name="f">The function ℝ → ℝ returning (value, aux).</param>
    /// <param name="xs">The elements: float[], float list or Vec.</param>
    /// <returns>(the mapped values in the form of xs, the aux results).</returns>
    let inline vmapAux (f: Real -> Real * 'Aux) (xs: ^X) =
        let m = Fn.Vmap(Func<Real, struct (Real * 'Aux)>(fun t -> let y, a = f t in struct (y, a)))
        let struct (ys, aux) = m.Invoke(toVec xs)
        fromVec ys xs "Scalar.vmapAux", aux

    /// <summary>
    /// <c>jax.lax.scan</c> with a scalar carry over a vector's elements, stacking the scalar outputs:
    /// the plain loop <c>(c, ys[k]) = f c xs[k]</c> from <c>c = init</c>; differentiable through init
    /// and xs.
    /// </summary>
    /// <param name="f">The step: carry ↦ x ↦ (carry′, y).</param>
    /// <param name="init">The initial carry: float or Real.</param>
    /// <param name="xs">The elements: float[], float list or Vec.</param>
    /// <returns>(the final carry in the form of init, the outputs in the form of xs).</returns>
    let inline scan (f: Real -> Real -> Real * Real) (init: ^S) (xs: ^X) =
        let step = Func<Real, Real, struct (Real * Real)>(fun c t -> let c', y = f c t in struct (c', y))
        let struct (carry, ys) = Fn.Scan(step, toReal init, toVec xs)
        fromReal carry init "Scalar.scan", fromVec ys xs "Scalar.scan"

    /// <summary>f with your own forward rule (JAX's <c>custom_jvp</c>): <c>jvp x ẋ = f′(x)·ẋ</c>, linear in ẋ, written with Real operations.</summary>
    /// <param name="f">The function (its value; called on primal values only).</param>
    /// <param name="jvp">x ↦ ẋ ↦ ẏ.</param>
    /// <returns>f with its derivative given by the rule; every transform works on it.</returns>
    let customJvp (f: Real -> Real) (jvp: Real -> Real -> Real) : Real -> Real =
        if isNull (box f) then nullArg "f"
        if isNull (box jvp) then nullArg "jvp"
        let g = Fn.CustomJvp(Func<Real, Real> f, Func<Real, Real, Real>(fun x xd -> jvp x xd))
        fun x -> g.Invoke x

    /// <summary>f with your own reverse rule (JAX's <c>custom_vjp</c>): <c>vjp x y ȳ = ȳ·f′(x)</c>, linear in ȳ, written with Real operations.</summary>
    /// <param name="f">The function (its value; called on primal values only).</param>
    /// <param name="vjp">x ↦ y ↦ ȳ ↦ x̄.</param>
    /// <returns>f with its derivative given by the rule; every transform works on it (forward mode transposes the rule).</returns>
    let customVjp (f: Real -> Real) (vjp: Real -> Real -> Real -> Real) : Real -> Real =
        if isNull (box f) then nullArg "f"
        if isNull (box vjp) then nullArg "vjp"
        let g = Fn.CustomVjp(Func<Real, Real> f, Func<Real, Real, Real, Real>(fun x y yb -> vjp x y yb))
        fun x -> g.Invoke x

    /// <summary>Compiles f: ℝ → ℝ recorded at x0 (input length 1): <c>(Scalar.compile f 2.0).GradAndValue([| x |], g)</c>.</summary>
    /// <param name="f">The function ℝ → ℝ.</param>
    /// <param name="x0">The point to record at.</param>
    /// <returns>The compiled function.</returns>
    let compile (f: Real -> Real) (x0: float) : CompiledFunction = Fn.Compile(Func<Real, Real> f, x0)
