namespace Hybrid.Kernel

open System

/// The rule table as plain static methods, for compiled code to call (the table's functions are
/// inline; these are their double instances). Compiled code and the interpreter compute every value
/// and partial with exactly these formulas, so they agree with the eager transforms to the last bit.
[<AbstractClass; Sealed>]
type internal Kern =
    static member Value1(f: Fun1, c: float, x: float) : float = Rules.value1 f c x
    static member D1(f: Fun1, c: float, x: float, fx: float) : float = Rules.d1<float> f c x fx
    static member D2(f: Fun1, c: float, x: float, fx: float, d: float) : float = Rules.d2 f c x fx d
    static member Value2(f: Fun2, x: float, y: float) : float = Rules.value2 f x y
    static member Partials2(f: Fun2, x: float, y: float, fz: float, dx: byref<float>, dy: byref<float>) =
        let struct (a, b) = Rules.partials2<float> f x y fz
        dx <- a
        dy <- b
    static member Hessian2(f: Fun2, x: float, y: float, fz: float, dx: float, dy: float,
                           hxx: byref<float>, hxy: byref<float>, hyy: byref<float>) =
        let struct (a, b, c) = Rules.hessian2 f x y fz dx dy
        hxx <- a
        hxy <- b
        hyy <- c
    static member Decide(d: Decision, a: float, b: float) : int = Decisions.eval d a b

/// Replays a graph node by node over plain arrays: what a path runs before (or instead of) its
/// compiled code. Allocation-free. The passes mirror the eager sweeps (Sweep.fs) operation for
/// operation — the same sums in the same order, the same symbolic zeros.
module internal Interpreter =

    let inline private operand (g: Graph) (v: float[]) (slot: int) (k: float) = if slot >= 0 then v[slot] else k

    /// The first partials of node i (d1 is 0 for a unary node).
    let partials (g: Graph) (v: float[]) (i: int) (d0: byref<float>) (d1: byref<float>) =
        let c = g.Code[i]
        if c = IrLog.CopyCode then
            d0 <- 1.0
            d1 <- 0.0
        elif c >= IrLog.Binary then
            let f = enum<Fun2> (int (c - IrLog.Binary))
            let x = operand g v g.A0[i] g.K0[i]
            let y = operand g v g.A1[i] g.K1[i]
            match f with
            | Fun2.Add -> d0 <- 1.0; d1 <- 1.0
            | Fun2.Sub -> d0 <- 1.0; d1 <- -1.0
            | Fun2.Mul -> d0 <- y; d1 <- x
            | _ -> Kern.Partials2(f, x, y, v[i], &d0, &d1)
        else
            d0 <-
                match enum<Fun1> (int (c - IrLog.Unary)) with
                // the table's rows written out, as Emit does: no call through its match
                | Fun1.Neg -> -1.0
                | Fun1.Square -> 2.0 * v[g.A0[i]]
                | f -> Kern.D1(f, g.K0[i], v[g.A0[i]], v[i])
            d1 <- 0.0

    /// The second partials of node i, given its first partials.
    let hessian (g: Graph) (v: float[]) (i: int) (d0: float) (d1: float) (h00: byref<float>) (h01: byref<float>) (h11: byref<float>) =
        let c = g.Code[i]
        h00 <- 0.0
        h01 <- 0.0
        h11 <- 0.0
        // the rows of +, −, × and of −x, x² written out (as `partials`): the table's values, no call
        if c >= IrLog.Binary then
            match enum<Fun2> (int (c - IrLog.Binary)) with
            | Fun2.Add | Fun2.Sub -> ()
            | Fun2.Mul -> h01 <- 1.0
            | f ->
                let x = operand g v g.A0[i] g.K0[i]
                let y = operand g v g.A1[i] g.K1[i]
                Kern.Hessian2(f, x, y, v[i], d0, d1, &h00, &h01, &h11)
        elif c >= IrLog.Unary then
            match enum<Fun1> (int (c - IrLog.Unary)) with
            | Fun1.Neg -> ()
            | Fun1.Square -> h00 <- (if Double.IsNaN v[i] then v[i] else 2.0)
            | f -> h00 <- Kern.D2(f, g.K0[i], v[g.A0[i]], v[i], d0)

    /// Values of nodes first … last (no matrix node among them).
    let private forwardRange (g: Graph) (v: float[]) (first: int) (last: int) =
        let code = g.Code
        for i in first .. last do
            let c = code[i]
            v[i] <-
                if c >= IrLog.Binary then
                    let x = operand g v g.A0[i] g.K0[i]
                    let y = operand g v g.A1[i] g.K1[i]
                    match enum<Fun2> (int (c - IrLog.Binary)) with
                    | Fun2.Add -> x + y
                    | Fun2.Sub -> x - y
                    | Fun2.Mul -> x * y
                    | Fun2.Div -> x / y
                    | f -> Kern.Value2(f, x, y)
                elif c >= IrLog.Unary then Kern.Value1(enum<Fun1> (int (c - IrLog.Unary)), g.K0[i], v[g.A0[i]])
                elif c = IrLog.CopyCode then v[g.A0[i]]
                else g.K0[i] // a constant

    /// Values of every node (inputs already in v[0 .. N−1]); true when every guard holds.
    let forward (g: Graph) (v: float[]) : bool =
        for p in g.Pieces do
            match p with
            | Choice1Of2(struct (first, last)) -> forwardRange g v first last
            | Choice2Of2 m -> m.Forward(Span v)
        let guards = g.Guards
        let mutable ok = true
        let mutable k = 0
        while ok && k < guards.Length do
            let q = guards[k]
            let a = operand g v q.SlotA q.ConstA
            let b = operand g v q.SlotB q.ConstB
            ok <- Kern.Decide(q.Decision, a, b) = q.Outcome
            k <- k + 1
        ok

    /// Every node's first partials into d0, d1 (a tape of partials, as the eager recording keeps;
    /// constants and inputs have no arguments, so the passes below skip them).
    let partialsAll (g: Graph) (v: float[]) (d0: float[]) (d1: float[]) =
        for i in g.N .. g.Count - 1 do
            if g.Code[i] <> IrLog.ConstantCode && g.Code[i] <> MatNode.Code then partials g v i &d0[i] &d1[i]

    /// Every node's second partials (SecondOrder's H00, H01, H11), from its first partials.
    let hessiansAll (g: Graph) (v: float[]) (d0: float[]) (d1: float[]) (h00: float[]) (h01: float[]) (h11: float[]) =
        for i in g.N .. g.Count - 1 do
            if g.Code[i] <> IrLog.ConstantCode && g.Code[i] <> MatNode.Code then hessian g v i d0[i] d1[i] &h00[i] &h01[i] &h11[i]

    let private reverseRange (g: Graph) (a: float[]) (d0: float[]) (d1: float[]) (first: int) (last: int) =
        let a0 = g.A0
        let a1 = g.A1
        for i = last downto first do
            let w = a[i]
            if w <> 0.0 then
                let j = a0[i]
                if j >= 0 then a[j] <- a[j] + d0[i] * w
                let k = a1[i]
                if k >= 0 then a[k] <- a[k] + d1[i] * w

    /// The adjoint sweep (Sweep.reverse) over the partials: `a` seeded by the caller (zero elsewhere).
    let reverse (g: Graph) (v: float[]) (a: float[]) (d0: float[]) (d1: float[]) =
        let ps = g.Pieces
        for q = ps.Length - 1 downto 0 do
            match ps[q] with
            | Choice1Of2(struct (first, last)) -> reverseRange g a d0 d1 first last
            | Choice2Of2 m -> m.Reverse(Span v, Span a)

    let private tangentRange (g: Graph) (s: float[]) (d0: float[]) (d1: float[]) (first: int) (last: int) =
        let a0 = g.A0
        let a1 = g.A1
        for i in first .. last do
            let j = a0[i]
            let k = a1[i]
            s[i] <- (if j >= 0 then d0[i] * s[j] else 0.0) + (if k >= 0 then d1[i] * s[k] else 0.0)

    /// The tangent pass (Sweep.forwardTangents, one direction): s[0 .. N−1] seeded by the caller.
    let tangent (g: Graph) (v: float[]) (s: float[]) (d0: float[]) (d1: float[]) =
        for p in g.Pieces do
            match p with
            | Choice1Of2(struct (first, last)) -> tangentRange g s d0 d1 first last
            | Choice2Of2 m -> m.Tangent(Span v, Span s, 1)

    let private reverseTangentRange (g: Graph) (a: float[]) (s: float[]) (at: float[]) (d0: float[]) (d1: float[]) (h00: float[]) (h01: float[]) (h11: float[]) (first: int) (last: int) =
        let a0 = g.A0
        let a1 = g.A1
        for i = last downto first do
            let w = a[i]
            let gt = at[i]
            if w <> 0.0 || gt <> 0.0 then
                let h00 = h00[i] * w
                let h01 = h01[i] * w
                let h11 = h11[i] * w
                let j = a0[i]
                let k = a1[i]
                if j >= 0 then
                    let cross = if k >= 0 then h01 * s[k] else 0.0
                    at[j] <- at[j] + d0[i] * gt + h00 * s[j] + cross
                if k >= 0 then
                    let cross = if j >= 0 then h01 * s[j] else 0.0
                    at[k] <- at[k] + d1[i] * gt + cross + h11 * s[k]

    /// The adjoint-tangent pass (Sweep.reverseTangents, one direction): `a` from `reverse`, `s` from
    /// `tangent`, `at` zero; afterwards at[0 .. N−1] = H·v.
    let reverseTangent (g: Graph) (v: float[]) (a: float[]) (s: float[]) (at: float[]) (d0: float[]) (d1: float[]) (h00: float[]) (h01: float[]) (h11: float[]) =
        let ps = g.Pieces
        for q = ps.Length - 1 downto 0 do
            match ps[q] with
            | Choice1Of2(struct (first, last)) -> reverseTangentRange g a s at d0 d1 h00 h01 h11 first last
            | Choice2Of2 m -> m.ReverseTangent(Span v, Span a, Span s, Span at, 1)
