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

/// A custom primitive on a bottom-level trace: one node whose rules call the user's.
[<Sealed>]
type internal CustomOp(rule: CustomRule, x: VecRef, xv: float[], yv: float[], out: VecRef) =
    inherit VecOp(out)
    let n = xv.Length
    let m = yv.Length
    override _.Jvp(tan) = tan.Write(out, (rule.Jvp(Vec xv, Vec yv, Vec(tan.Read x))).ToArray())
    override _.Vjp(adj) = adj.AddInto(x, (rule.Vjp(Vec xv, Vec yv, Vec(adj.Read out))).ToArray())
    /// The tangent of x̄ = vjp(x, y, ȳ) along (ẋ, ẏ, ȳ̇): forward mode through the vjp rule itself.
    override _.VjpTangent(adj, tan, adjT) =
        let z = Array.concat [ xv; yv; adj.Read out ]
        let zd = Array.concat [ tan.Read x; tan.Read out; adjT.Read out ]
        let g (v: Vec) = rule.Vjp(v.Slice(0, n), v.Slice(n, m), v.Slice(n + m, m))
        let struct (_, t) = Ad.Jvp(rule.Name, Func<Vec, Vec>(g), Vec z, Vec zd)
        adjT.AddInto(x, t.ToArray())

[<AbstractClass; Sealed>]
type internal Custom =
    /// y = f(x) under the rule: plain f for a constant x; one node on a bottom-level trace; on a
    /// nested trace (or a trace below the innermost) each output is a node whose partials are the
    /// Jacobian row formed at the level below (by vjp rows when m ≤ n, jvp columns otherwise).
    static member Apply(rule: CustomRule, x: Vec) : Vec =
        if isNull x then nullArg "x"
        if x.IsConstant then Vec(rule.Value(x.ToArray()))
        else
            let t = Vec.FastTrace(x.Tid, 0)
            if not (isNull t) then
                let xv = x.ToArray()
                let yv = rule.Value xv
                Dense.record t yv yv.Length (fun o -> CustomOp(rule, x.Ref, xv, yv, o) :> VecOp)
            else
                let t = Traces.Find x.Tid
                let xs = x.ToReals()
                let lx = Vec.OfReals(xs |> Array.map (fun r -> Real.Lower(t, r)))
                let ly = Custom.Apply(rule, lx)
                let n = xs.Length
                let m = ly.Length
                // J (m×n) as values of the level below: J[i][j]
                let rows =
                    if m <= n then
                        Array.init m (fun i ->
                            let e = Array.zeroCreate m
                            e[i] <- 1.0
                            (rule.Vjp(lx, ly, Vec e)).ToReals())
                    else
                        let cols =
                            Array.init n (fun j ->
                                let e = Array.zeroCreate n
                                e[j] <- 1.0
                                (rule.Jvp(lx, ly, Vec e)).ToReals())
                        Array.init m (fun i -> Array.init n (fun j -> cols[j][i]))
                Vec.OfReals(Array.init m (fun i -> Real.Combine(t, xs, rows[i], ly[i])))
