namespace Hybrid.Kernel

open System

/// A user primitive (JAX's custom_jvp / custom_vjp): y = f(x), with f opaque — called on primal
/// values only, so an external solver in plain doubles is fine — and its derivative given by a jvp
/// rule (x, ẋ) ↦ ẏ, linear in ẋ, or a vjp rule (x, y, ȳ) ↦ x̄, linear in ȳ, written with `Real`/`Vec`
/// operations so it is itself differentiable. The missing rule is the transpose of the given one
/// (a linear map's vjp is its transpose), so both modes work for either kind; the second-order rule
/// is the forward derivative of the vjp rule, and on nested traces the Jacobian is formed in the
/// arithmetic of the level below, so every nesting works.
[<Sealed>]
type internal CustomRule(name: string, f: Func<Vec, Vec>, jvp: Func<Vec, Vec, Vec>, vjp: Func<Vec, Vec, Vec, Vec>) =
    do
        if isNull f then nullArg "f"
        if isNull jvp && isNull vjp then invalidArg "jvp" (sprintf "%s: give a jvp rule or a vjp rule." name)

    let ofLength (what: string) (expected: int) (v: Vec) =
        if isNull v then invalidOp (sprintf "%s: the %s returned null; return a Vec of length %d." name what expected)
        if v.Length <> expected then
            invalidOp (sprintf "%s: the %s returned %d values but %d were expected (one per %s)." name what v.Length expected
                           (if what = "vjp rule" then "input" else "output"))
        v

    member _.Name = name

    /// f at the primal values (a constant result).
    member _.Value(x: float[]) : float[] =
        let y = f.Invoke(Vec x)
        if isNull y then invalidOp (sprintf "%s: f returned null; return its result vector." name)
        y.ToArray()

    /// ẏ = J·ẋ: the jvp rule, or the transpose of the vjp rule (ȳ ↦ vjp(x, y, ȳ) is Jᵀ).
    member _.Jvp(x: Vec, y: Vec, xd: Vec) : Vec =
        if not (isNull jvp) then ofLength "jvp rule" y.Length (jvp.Invoke(x, xd))
        else
            let struct (_, pb) = Ad.Vjp(name, (fun yb -> ofLength "vjp rule" x.Length (vjp.Invoke(x, y, yb))), Vec(Array.zeroCreate y.Length))
            try pb.Apply xd finally pb.Release()

    /// x̄ = Jᵀ·ȳ: the vjp rule, or the transpose of the jvp rule (ẋ ↦ jvp(x, ẋ) is J).
    member _.Vjp(x: Vec, y: Vec, yb: Vec) : Vec =
        if not (isNull vjp) then ofLength "vjp rule" x.Length (vjp.Invoke(x, y, yb))
        else
            let struct (_, pb) = Ad.Vjp(name, (fun xd -> ofLength "jvp rule" y.Length (jvp.Invoke(x, xd))), Vec(Array.zeroCreate x.Length))
            try pb.Apply yb finally pb.Release()

/// A custom rule as a primitive: its value is the user's f, its jvp and vjp the user's rules (the
/// missing one by transposition), so it is one node at every level and every mode derives from it
/// as for the built-in primitives — the second-order replay included.
[<Sealed>]
type internal CustomPrim(rule: CustomRule) =
    inherit Prim(rule.Name, false)
    override _.Eval xs = struct (rule.Value(xs[0].ToArray()), null)
    override _.Jvp(xs, y, _, dxs) = rule.Jvp(xs[0], y, dxs[0])
    override _.Vjp(xs, y, _, g, _) = [| rule.Vjp(xs[0], y, g) |]

[<AbstractClass; Sealed>]
type internal Custom =
    /// y = f(x) under the rule: plain f for a constant x; one node on the innermost trace of x.
    static member Apply(rule: CustomRule, x: Vec) : Vec =
        if isNull x then nullArg "x"
        Prim.Apply(CustomPrim rule, [| x |])
