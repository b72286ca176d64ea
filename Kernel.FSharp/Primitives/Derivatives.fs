namespace Hybrid.Kernel

/// Derivatives of any order of the rule table's functions, element by element on doubles: the
/// values of an elementwise primitive's partials at the bottom level, where a nested level asks for
/// them as one vector node (`MapPrim` and `ZipPrim` of order m: their value is the m-th derivative,
/// their partial the next one). Orders 0 to 2 are the table's own columns (`value1`, `d1`, `d2`;
/// `value2`, `partials2`, `hessian2`). From order 3 on, where the table has no column, the row's
/// generic first derivative (`d1`, `partials2`) is differentiated m − 1 more times in forward mode:
/// m − 1 forward traces over `Real`, nested in one another and opened for the call only, every
/// element lifted through them with a unit tangent. No derivative formula is written here, and the
/// numbers are exact (the derivatives of the row's formula, NaN rule and conventions included).
module internal Derivatives =

    /// The element's m-th derivative carried by r through the forward traces ts (innermost last):
    /// at each level the tangent, a value of the levels below (0 where r does not depend on it).
    let private read (ts: Trace[]) (r: Real) =
        let mutable d = r
        for l in ts.Length - 1 .. -1 .. 0 do
            d <- if d.Tid = ts[l].Id then Real.Tangent(ts[l], d.I) else Real 0.0
        d.V

    /// body over `levels` nested forward traces, the first at the bottom (it holds doubles whatever
    /// is open below it: the values here are constants), all closed afterwards.
    let private withTraces (levels: int) (body: Trace[] -> 'a) : 'a =
        let ts = Array.zeroCreate levels
        let mutable opened = 0
        try
            for l in 0 .. levels - 1 do
                ts[l] <- if l = 0 then Traces.OpenBottom(TraceKind.Forward, "derivative") else Traces.Open(TraceKind.Forward, "derivative")
                opened <- opened + 1
            body ts
        finally
            for l in opened - 1 .. -1 .. 0 do Traces.Close(ts[l], false)

    /// f⁽ᵐ⁾(xₖ) for k < n into `into` (c: PowC's exponent).
    let unary (f: Fun1) (c: float) (m: int) (x: View) (n: int) (into: float[]) =
        match m with
        | 0 -> for k in 0 .. n - 1 do into[k] <- Rules.value1 f c x[k]
        | 1 ->
            for k in 0 .. n - 1 do
                let xk = x[k]
                into[k] <- Rules.d1<float> f c xk (Rules.value1 f c xk)
        | 2 ->
            for k in 0 .. n - 1 do
                let xk = x[k]
                let fx = Rules.value1 f c xk
                into[k] <- Rules.d2 f c xk fx (Rules.d1<float> f c xk fx)
        | _ ->
            withTraces (m - 1) (fun ts ->
                for k in 0 .. n - 1 do
                    let mutable v = Real x[k]
                    for t in ts do v <- Real.Lift(t, v, Real 1.0)
                    into[k] <- read ts (Rules.d1<Real> f c v (Real.Apply1(f, c, v))))

    /// ∂ⁱ⁺ʲf/∂xⁱ∂yʲ at (xₖ, yₖ) for k < n into `into` (a length-1 view broadcasts).
    let binary (f: Fun2) (i: int) (j: int) (x: View) (y: View) (n: int) (into: float[]) =
        match i + j with
        | 0 -> for k in 0 .. n - 1 do into[k] <- Rules.value2 f x[k] y[k]
        | 1 ->
            for k in 0 .. n - 1 do
                let a = x[k]
                let b = y[k]
                let struct (da, db) = Rules.partials2<float> f a b (Rules.value2 f a b)
                into[k] <- if i = 1 then da else db
        | 2 ->
            for k in 0 .. n - 1 do
                let a = x[k]
                let b = y[k]
                let fz = Rules.value2 f a b
                let struct (da, db) = Rules.partials2<float> f a b fz
                let struct (hxx, hxy, hyy) = Rules.hessian2 f a b fz da db
                into[k] <- if i = 2 then hxx elif i = 1 then hxy else hyy
        | m ->
            // the first partial in x (when i ≥ 1, else in y), differentiated i' more times in x and
            // then j' in y: at each level only the argument seeded there is lifted (the other stays
            // a value of the levels below: a symbolic zero tangent, no 0·∞)
            let inX = i >= 1
            let ri = if inX then i - 1 else i
            withTraces (m - 1) (fun ts ->
                for k in 0 .. n - 1 do
                    let mutable a = Real x[k]
                    let mutable b = Real y[k]
                    for l in 0 .. ts.Length - 1 do
                        if l < ri then a <- Real.Lift(ts[l], a, Real 1.0) else b <- Real.Lift(ts[l], b, Real 1.0)
                    let struct (da, db) = Rules.partials2<Real> f a b (Real.Apply2(f, a, b))
                    into[k] <- read ts (if inX then da else db))
