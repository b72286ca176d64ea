namespace Hybrid.Kernel

open System
open System.Globalization
open System.Numerics
open System.Runtime.CompilerServices

/// The differentiable scalar that transforms feed to user functions and read back.
///
/// A `Real` is its primal value `V` plus, when it belongs to an active trace, the trace's id and
/// its slot there (and, where the maker had it at hand, the trace itself). A constant has trace id 0. Operations are carried out by the innermost trace
/// among the operands (the highest id, as ids grow with nesting); values of outer traces are
/// constants to it. That is what keeps nested transforms free of perturbation confusion.
///
/// Comparisons, equality and hashing use the primal value only.
[<Struct; CustomEquality; CustomComparison>]
type Real =
    val internal V: float
    /// The slot on its trace, and the trace's id (0 for a constant): mechanisms, not for users.
    val internal I: int
    val internal Tid: int
    /// The trace with id Tid when this value was made, or null (a constant, or a maker that did not
    /// have it): lets the operators record without the thread-static read of `Traces.Top`. It is
    /// only a hint: the operators use it only while its Id is still Tid, on the thread that opened it.
    val internal T: Trace
    /// The constant v.
    new(v: float) = { V = v; I = 0; Tid = 0; T = null }
    internal new(v: float, slot: int, tid: int) = { V = v; I = slot; Tid = tid; T = null }
    internal new(v: float, slot: int, tid: int, trace: Trace) = { V = v; I = slot; Tid = tid; T = trace }

    /// The primal value as a plain double (a constant copy: no derivative flows through it).
    /// (While Fn.Compile records, reading it from a traced value pins the compiled path to that value.)
    member x.Value =
        if x.Tid <> 0 && IrLog.Active then Real.Observe x
        x.V
    /// True when x carries no derivative information at any level.
    static member IsConstant(x: Real) = x.Tid = 0

    // ------------------------------------------------------------------------------------------------
    // The primitives: the only place Real applies the rule table. The fast path is a trace at the
    // bottom of its thread's stack whose operands are its own values or constants: doubles only,
    // one append to the struct-of-arrays tape. Everything else (nesting, values of several traces,
    // escaped values) goes through `Slow1` / `Slow2`.

    /// A constant (no trace).
    static member inline internal Const(c: float) = Real c

    /// The primal value (what comparisons and predicates see).
    static member inline internal Primal(x: Real) = x.V

    /// The explicit conversion `(double)x`: the value of a constant. Inside a transform a traced x
    /// throws InvalidOperationException instead of silently dropping its derivative (as JAX raises
    /// on float(tracer)); `.Value` is the way to take a constant copy on purpose.
    static member internal ToDouble(x: Real) : float =
        if x.Tid <> 0 then
            if Traces.Depth = 0 || isNull (Traces.TryFind x.Tid) then Traces.Escaped x.Tid
            invalidOp (
                sprintf "Hybrid: (double) of a differentiable Real (trace #%d) inside a transform would drop its derivative. \
                         Keep computing with the Real, or read x.Value to take a constant copy on purpose." x.Tid)
        x.V

    /// A decision on primal values (a comparison or predicate of the surface) with its outcome:
    /// returned as it is; while Fn.Compile records, a decision on traced values becomes a guard.
    static member inline internal Decided(d: Decision, x: Real, y: Real, outcome: bool) : bool =
        if (x.Tid ||| y.Tid) <> 0 && IrLog.Active then Real.Guard(d, x, y, (if outcome then 1 else 0))
        outcome
    /// Decided for an integer outcome (CompareTo).
    static member inline internal DecidedInt(d: Decision, x: Real, y: Real, outcome: int) : int =
        if (x.Tid ||| y.Tid) <> 0 && IrLog.Active then Real.Guard(d, x, y, outcome)
        outcome
    /// The primal value where the surface uses it beyond a decision (hashing, conversions): while
    /// Fn.Compile records, the compiled path holds for this exact value only.
    static member inline internal Observed(x: Real) : float =
        if x.Tid <> 0 && IrLog.Active then Real.Observe x
        x.V

    // ------------------------------------------------------------------------------------------------
    // Fn.Compile's hooks (they run only on traces that carry an IrLog, or while one records).

    /// The second partials of unary node i, and, on a recording for Fn.Compile, its rule.
    static member internal Second1(t: Trace, i: int, f: Fun1, c: float, xv: float, v: float, d: float) =
        t.SetHessian(i, Rules.d2 f c xv v d, 0.0, 0.0)
        if not (isNull t.Ir) then t.Ir.Unary1(i, f, c)
    /// The second partials of binary node i, and, on a recording for Fn.Compile, its rule and operands.
    static member internal Second2(t: Trace, i: int, f: Fun2, xv: float, yv: float, v: float, dx: float, dy: float) =
        let struct (hxx, hxy, hyy) = Rules.hessian2 f xv yv v dx dy
        t.SetHessian(i, hxx, hxy, hyy)
        if not (isNull t.Ir) then t.Ir.Binary2(i, f, xv, yv)
    /// The slot on this thread's Fn.Compile recording that x stands for (following a nested trace's
    /// values down to it), or −1 when x is a constant there.
    static member private RecordedSlot(log: IrLog, x: Real) : int =
        let mutable r = x
        let mutable slot = -2
        while slot = -2 do
            if r.Tid = 0 then slot <- -1
            elif r.Tid = log.TraceId then slot <- r.I
            else
                let tr = Traces.TryFind r.Tid
                if isNull tr || not tr.Nested then slot <- -1
                else r <- Real(r.V, tr.PI[r.I], tr.PT[r.I])
        slot
    static member internal Guard(d: Decision, x: Real, y: Real, outcome: int) =
        let log = IrRecording.Current
        if not (isNull log) then
            let sa = Real.RecordedSlot(log, x)
            let sb = Real.RecordedSlot(log, y)
            if sa >= 0 || sb >= 0 then log.Guard(d, sa, x.V, sb, y.V, outcome, IrRecording.Count)
    static member internal Observe(x: Real) =
        let log = IrRecording.Current
        if not (isNull log) then
            let s = Real.RecordedSlot(log, x)
            if s >= 0 then log.Guard(Decision.Same, s, x.V, -1, x.V, 1, IrRecording.Count)

    /// f(x) for a unary rule, on the innermost trace x belongs to. `c` is PowC's exponent.
    /// The hot path — x carries its trace (`T`), that trace is Plain and still open with x's id
    /// (one compare with `Trace.PlainId`, which is 0 unless all of that holds), and the running frame
    /// lies in the opening thread's stack (`Trace.OnThisThread`) — is those compares and an unchecked
    /// push, with no call: no thread-static read, around which the JIT would spill every live
    /// register. Every other case goes through one out-of-line call, `Apply1Off`, so the inlined
    /// operator stays small (few locals: in a user's loop with every operator inlined, what the JIT
    /// cannot keep in registers lives on the stack).
    /// (The value is computed once, before the branches, and handed to the out-of-line path: each
    /// use of a rule accessor is the whole table's match in IL, which the JIT folds but counts
    /// against its inlining budget.)
    static member inline internal Apply1(f: Fun1, c: float, x: Real) : Real =
        let v = Rules.value1 f c x.V
        if x.Tid = 0 then Real v
        else
            let t = x.T
            if not (isNull t) && x.Tid = t.PlainId && t.OnThisThread then
                Real(v, t.PushRule1(f, x.I, Rules.d1<float> f c x.V v), x.Tid, t)
            else
                // (a plain call, not in a `.tail` call: the kernel is built with Tailcalls off, since
                // the JIT inlines no method that makes an explicit tail call — the operators would not be)
                Real.Apply1Off(f, c, x, v)

    /// Apply1 off its hot path (v = f(x)): a bottom-level trace x carries that is not Plain (forward,
    /// second order, a recording for the compiler), else the thread's stack (`Apply1Top`).
    static member internal Apply1Off(f: Fun1, c: float, x: Real, v: float) : Real =
        let t = x.T
        if not (isNull t) && x.Tid = t.Id && not t.Nested && t.OnThisThread then
            let d = Rules.d1<float> f c x.V v
            if t.Plain then Real(v, t.PushRule1(f, x.I, d), x.Tid, t)
            else Real.Record1(t, f, c, x, v, d)
        else Real.Apply1Top(f, c, x)

    /// Apply1 for a value that does not carry its trace (or not usably): the innermost trace is
    /// found through the thread's stack (`Traces.Top`, else `Slow1`, which throws for an escaped value).
    static member internal Apply1Top(f: Fun1, c: float, x: Real) : Real =
        let t = Traces.Top
        if not (isNull t) && x.Tid = t.Id && not t.Nested then
            let v = Rules.value1 f c x.V
            let d = Rules.d1<float> f c x.V v
            if t.Plain then Real(v, t.PushRule1(f, x.I, d), x.Tid, t)
            else Real.Record1(t, f, c, x, v, d)
        else Real.Slow1(f, c, x)

    /// Apply1 on a bottom-level trace that is not Plain: a forward trace (the tangent d·ẋ) or a
    /// reverse one with second partials (and, for Fn.Compile, the rule).
    static member internal Record1(t: Trace, f: Fun1, c: float, x: Real, v: float, d: float) : Real =
        if t.Kind = TraceKind.Reverse then
            let i = t.Push(NodeKind.Scalar, x.I, -1, d, 0.0)
            if t.SecondOrder then Real.Second1(t, i, f, c, x.V, v, d)
            Real(v, i, t.Id, t)
        else Real(v, t.Push(NodeKind.Scalar, -1, -1, d * t.D0[x.I], 0.0), t.Id, t)

    /// f(x, y) for a binary rule, on the innermost trace among x and y. The hot path as Apply1's,
    /// for two operands of x's Plain trace (a constant operand here is rare: a literal takes
    /// Apply2L/Apply2R); everything else is `Apply2Off`.
    static member inline internal Apply2(f: Fun2, x: Real, y: Real) : Real =
        let v = Rules.value2 f x.V y.V
        if (x.Tid ||| y.Tid) = 0 then Real v
        else
            let t = x.T
            if not (isNull t) && x.Tid = t.PlainId && y.Tid = x.Tid && t.OnThisThread then
                let struct (dx, dy) = Rules.partials2<float> f x.V y.V v
                Real(v, t.PushRule2(f, x.I, y.I, dx, dy), x.Tid, t)
            else Real.Apply2Off(f, x, y, v) // (not a tail call, as in Apply1)

    /// Apply2 off its hot path (v = f(x, y)): the trace carried by x, else by y, when each operand
    /// is of that trace or a constant and it is at the bottom level on this thread (Plain, or not:
    /// `Record2`); else the thread's stack (`Apply2Top`).
    static member internal Apply2Off(f: Fun2, x: Real, y: Real, v: float) : Real =
        let t = if isNull x.T then y.T else x.T
        if not (isNull t) && (x.Tid = t.Id || x.Tid = 0) && (y.Tid = t.Id || y.Tid = 0) && not t.Nested && t.OnThisThread then
            let struct (dx, dy) = Rules.partials2<float> f x.V y.V v
            let ix = if x.Tid = 0 then -1 else x.I
            let iy = if y.Tid = 0 then -1 else y.I
            if t.Plain then
                let i = if (ix ||| iy) >= 0 then t.PushRule2(f, ix, iy, dx, dy) else t.PushRuleOne(f, ix, iy, dx, dy)
                Real(v, i, x.Tid ||| y.Tid, t) // = t.Id: each is t.Id or 0
            else Real.Record2(t, f, x.V, y.V, v, ix, iy, dx, dy)
        else Real.Apply2Top(f, x, y)

    /// Apply2 for operands that do not carry their trace (or not usably), as Apply1Top.
    static member internal Apply2Top(f: Fun2, x: Real, y: Real) : Real =
        let t = Traces.Top
        if not (isNull t) && not t.Nested && (x.Tid = t.Id || x.Tid = 0) && (y.Tid = t.Id || y.Tid = 0) then
            let v = Rules.value2 f x.V y.V
            let struct (dx, dy) = Rules.partials2<float> f x.V y.V v
            let ix = if x.Tid = 0 then -1 else x.I
            let iy = if y.Tid = 0 then -1 else y.I
            if t.Plain then
                let i = if (ix ||| iy) >= 0 then t.PushRule2(f, ix, iy, dx, dy) else t.PushRuleOne(f, ix, iy, dx, dy)
                Real(v, i, x.Tid ||| y.Tid, t)
            else Real.Record2(t, f, x.V, y.V, v, ix, iy, dx, dy)
        else Real.Slow2(f, x, y)

    /// Apply2 on a bottom-level trace that is not Plain (as Record1); ix / iy are −1 for constants.
    static member internal Record2(t: Trace, f: Fun2, xv: float, yv: float, v: float, ix: int, iy: int, dx: float, dy: float) : Real =
        if t.Kind = TraceKind.Reverse then
            let i = t.Push(NodeKind.Scalar, ix, iy, dx, dy)
            if t.SecondOrder then Real.Second2(t, i, f, xv, yv, v, dx, dy)
            Real(v, i, t.Id, t)
        else
            let tx = if ix < 0 then 0.0 else dx * t.D0[ix]
            let ty = if iy < 0 then 0.0 else dy * t.D0[iy]
            Real(v, t.Push(NodeKind.Scalar, -1, -1, tx + ty, 0.0), t.Id, t)

    /// f(x, c) with c constant (no 0·∞ from an unused partial). Its own hot path, as Apply1's: a
    /// node of one operand (for x ± c none of its partial stored).
    static member inline internal Apply2L(f: Fun2, x: Real, c: float) : Real =
        let v = Rules.value2 f x.V c
        if x.Tid = 0 then Real v
        else
            let t = x.T
            if not (isNull t) && x.Tid = t.PlainId && t.OnThisThread then
                let struct (dx, _) = Rules.partials2<float> f x.V c v
                Real(v, t.PushRuleL(f, x.I, dx), x.Tid, t)
            else Real.Apply2LOff(f, x, c, v) // (not a tail call, as in Apply1)
    /// Apply2L off its hot path (v = f(x, c)), as Apply1Off.
    static member internal Apply2LOff(f: Fun2, x: Real, c: float, v: float) : Real =
        let t = x.T
        if not (isNull t) && x.Tid = t.Id && not t.Nested && t.OnThisThread then
            let struct (dx, dy) = Rules.partials2<float> f x.V c v
            if t.Plain then Real(v, t.PushRuleL(f, x.I, dx), x.Tid, t)
            else Real.Record2(t, f, x.V, c, v, x.I, -1, dx, dy)
        else Real.Apply2Top(f, x, Real c)
    /// f(c, y) with c constant (as Apply2L).
    static member inline internal Apply2R(f: Fun2, c: float, y: Real) : Real =
        let v = Rules.value2 f c y.V
        if y.Tid = 0 then Real v
        else
            let t = y.T
            if not (isNull t) && y.Tid = t.PlainId && t.OnThisThread then
                let struct (_, dy) = Rules.partials2<float> f c y.V v
                Real(v, t.PushRuleR(f, y.I, dy), y.Tid, t)
            else Real.Apply2ROff(f, c, y, v)
    /// Apply2R off its hot path (v = f(c, y)), as Apply1Off.
    static member internal Apply2ROff(f: Fun2, c: float, y: Real, v: float) : Real =
        let t = y.T
        if not (isNull t) && y.Tid = t.Id && not t.Nested && t.OnThisThread then
            let struct (dx, dy) = Rules.partials2<float> f c y.V v
            if t.Plain then Real(v, t.PushRuleR(f, y.I, dy), y.Tid, t)
            else Real.Record2(t, f, c, y.V, v, -1, y.I, dx, dy)
        else Real.Apply2Top(f, Real c, y)

    /// Apply1, Apply2, Apply2L and Apply2R without inlining, for tools and tests outside the kernel
    /// (the inline forms reach the trace machinery, which is internal).
    [<System.ComponentModel.EditorBrowsable(System.ComponentModel.EditorBrowsableState.Never)>]
    static member Rule1(f: Fun1, c: float, x: Real) = Real.Apply1(f, c, x)
    [<System.ComponentModel.EditorBrowsable(System.ComponentModel.EditorBrowsableState.Never)>]
    static member Rule2(f: Fun2, x: Real, y: Real) = Real.Apply2(f, x, y)
    [<System.ComponentModel.EditorBrowsable(System.ComponentModel.EditorBrowsableState.Never)>]
    static member Rule2L(f: Fun2, x: Real, c: float) = Real.Apply2L(f, x, c)
    [<System.ComponentModel.EditorBrowsable(System.ComponentModel.EditorBrowsableState.Never)>]
    static member Rule2R(f: Fun2, c: float, y: Real) = Real.Apply2R(f, c, y)

    /// x (a value of trace t) as the value of the level below that it stands for.
    static member internal Lower(t: Trace, x: Real) = if t.Nested then Real(x.V, t.PI[x.I], t.PT[x.I]) else Real x.V
    /// The tangent of slot i of forward trace t, as a value of the level below.
    static member internal Tangent(t: Trace, i: int) = if t.Nested then Real(t.D0[i], t.D0I[i], t.D0T[i]) else Real t.D0[i]
    /// The partials of slot i of reverse trace t, as values of the level below.
    static member internal Partial0(t: Trace, i: int) = if t.Nested then Real(t.D0[i], t.D0I[i], t.D0T[i]) else Real t.D0[i]
    static member internal Partial1(t: Trace, i: int) = if t.Nested then Real(t.D1[i], t.D1I[i], t.D1T[i]) else Real t.D1[i]

    /// The general path of Apply1: x's trace may be nested or not the innermost.
    static member internal Slow1(f: Fun1, c: float, x: Real) : Real =
        let t = Traces.Find x.Tid
        let lx = Real.Lower(t, x)
        let lv = Real.Apply1(f, c, lx)
        let d = Rules.d1<Real> f c lx lv
        let i =
            if t.Kind = TraceKind.Reverse then
                let i = t.Push(NodeKind.Scalar, x.I, -1, d.V, 0.0)
                t.SetD0(i, d.I, d.Tid)
                if t.SecondOrder then Real.Second1(t, i, f, c, lx.V, lv.V, d.V)
                i
            else
                let tan = Real.Apply2(Fun2.Mul, d, Real.Tangent(t, x.I))
                let i = t.Push(NodeKind.Scalar, -1, -1, tan.V, 0.0)
                t.SetD0(i, tan.I, tan.Tid)
                i
        t.SetLower(i, lv.I, lv.Tid)
        Real(lv.V, i, t.Id, t)

    /// The general path of Apply2.
    static member internal Slow2(f: Fun2, x: Real, y: Real) : Real =
        let tx = if x.Tid = 0 then null else Traces.Find x.Tid
        let ty = if y.Tid = 0 then null else Traces.Find y.Tid
        let t = if isNull tx then ty elif isNull ty then tx elif tx.Id >= ty.Id then tx else ty
        let inX = x.Tid = t.Id
        let inY = y.Tid = t.Id
        let lx = if inX then Real.Lower(t, x) else x
        let ly = if inY then Real.Lower(t, y) else y
        let lv = Real.Apply2(f, lx, ly)
        let struct (dx, dy) = Rules.partials2<Real> f lx ly lv
        let i =
            if t.Kind = TraceKind.Reverse then
                let i = t.Push(NodeKind.Scalar, (if inX then x.I else -1), (if inY then y.I else -1), dx.V, dy.V)
                t.SetD0(i, dx.I, dx.Tid)
                t.SetD1(i, dy.I, dy.Tid)
                if t.SecondOrder then Real.Second2(t, i, f, lx.V, ly.V, lv.V, dx.V, dy.V)
                i
            else
                let tan =
                    if inX && inY then
                        Real.Apply2(Fun2.Add, Real.Apply2(Fun2.Mul, dx, Real.Tangent(t, x.I)), Real.Apply2(Fun2.Mul, dy, Real.Tangent(t, y.I)))
                    elif inX then Real.Apply2(Fun2.Mul, dx, Real.Tangent(t, x.I))
                    else Real.Apply2(Fun2.Mul, dy, Real.Tangent(t, y.I))
                let i = t.Push(NodeKind.Scalar, -1, -1, tan.V, 0.0)
                t.SetD0(i, tan.I, tan.Tid)
                i
        t.SetLower(i, lv.I, lv.Tid)
        Real(lv.V, i, t.Id, t)

    /// A new slot of trace t standing for x: an input (x constant or of a lower level: no argument,
    /// tangent `tan` in forward traces) or a copy (x of t itself: derivative 1).
    static member internal Lift(t: Trace, x: Real, tan: Real) : Real =
        if x.Tid = t.Id then
            if t.Kind = TraceKind.Reverse then
                let i = t.Push(NodeKind.Scalar, x.I, -1, 1.0, 0.0)
                t.SetD0(i, 0, 0)
                if t.SecondOrder then
                    t.SetHessian(i, 0.0, 0.0, 0.0)
                    if not (isNull t.Ir) then t.Ir.Copied i
                t.SetLower(i, (if t.Nested then t.PI[x.I] else 0), (if t.Nested then t.PT[x.I] else 0))
                Real(x.V, i, t.Id, t)
            else
                let tx = Real.Tangent(t, x.I)
                let i = t.Push(NodeKind.Scalar, -1, -1, tx.V, 0.0)
                t.SetD0(i, tx.I, tx.Tid)
                t.SetLower(i, (if t.Nested then t.PI[x.I] else 0), (if t.Nested then t.PT[x.I] else 0))
                Real(x.V, i, t.Id, t)
        else
            if x.Tid <> 0 && x.Tid > t.Id then Traces.Escaped x.Tid
            if x.Tid <> 0 then Traces.Find x.Tid |> ignore
            let i = t.PushInputs 1
            if t.Kind = TraceKind.Forward then
                t.D0[i] <- tan.V
                t.SetD0(i, tan.I, tan.Tid)
            elif not (isNull t.Ir) then t.Ir.Constant(i, x.V)
            t.SetLower(i, x.I, x.Tid)
            Real(x.V, i, t.Id, t)

    /// "value" (derivative information is not shown).
    override x.ToString() = x.V.ToString("R", Globalization.CultureInfo.InvariantCulture)
    /// The primal value formatted with `format`.
    member x.ToString(format: string, provider: IFormatProvider) = x.V.ToString(format, provider)

    // The generic-math surface (constants, operators, the .NET generic-math interfaces) is not written
    // here: the build appends Dual.fs's, with the type name replaced (Kernel.FSharp/NumberSurface.targets).
