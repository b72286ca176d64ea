namespace Hybrid.Kernel

open System
open System.Buffers
open System.Runtime.CompilerServices
open System.Runtime.InteropServices
open System.Threading

/// A trace at one level: forward (tangents) or reverse (tape). Struct-of-arrays, grown by doubling,
/// reset (not freed) between uses. A trace on the bottom of a thread's stack (`Nested = false`)
/// holds plain doubles; a nested one stores, per slot, the lower-level value it stands for, and
/// partials/tangents as lower-level values (index + trace id beside each double), so its
/// derivatives are themselves differentiable by the traces below it.
[<Sealed; AllowNullLiteral>]
type internal Trace internal () =
    [<DefaultValue>] val mutable Id: int
    /// A box that always holds Id, and the trace itself while it is open: what vectors of this trace
    /// keep to tell whether it is still theirs (and to find it), without keeping the trace (and its
    /// node arrays) alive once it has closed.
    [<DefaultValue>] val mutable Alive: TraceBox
    /// The stack of the thread that opened this trace (`ThreadStack`; Size 0 when unknown): a
    /// `Real` carrying this trace may push onto it only from code whose frame lies in that range.
    [<DefaultValue>] val mutable StackLow: unativeint
    [<DefaultValue>] val mutable StackSize: unativeint
    [<DefaultValue>] val mutable Kind: TraceKind
    [<DefaultValue>] val mutable Depth: int
    /// False when this is the only trace on its thread: all lower values are constants.
    [<DefaultValue>] val mutable Nested: bool
    /// Reverse traces only: record second partials so the tape can replay Hessian-vector products.
    [<DefaultValue>] val mutable SecondOrder: bool
    /// Fn.Compile's recordings only (null otherwise): the rules, constants and guards of the nodes.
    /// Such a trace is also SecondOrder, so the nodes' extra recording shares that branch.
    [<DefaultValue>] val mutable Ir: IrLog
    /// True for the common case, a reverse trace at the bottom of its thread's stack recording first
    /// partials only (not Nested, not SecondOrder, no Ir): `Real`'s operators test this one flag and
    /// then push (code, a0, a1, d0, d1) with no other branch. Kept by `Refresh` whenever Kind, Nested,
    /// SecondOrder or Ir change.
    [<DefaultValue>] val mutable Plain: bool
    /// The name of the transform that opened this trace, for error messages.
    [<DefaultValue>] val mutable Owner: string
    [<DefaultValue>] val mutable Count: int
    [<DefaultValue>] val mutable Capacity: int

    [<DefaultValue>] val mutable Kinds: NodeKind[]
    [<DefaultValue>] val mutable Arg0: int[]
    [<DefaultValue>] val mutable Arg1: int[]
    /// Reverse: partials w.r.t. Arg0/Arg1. Forward: Tan0 is the slot's tangent.
    [<DefaultValue>] val mutable D0: float[]
    [<DefaultValue>] val mutable D1: float[]
    /// Plain traces: the records of the compact scalar nodes (`NodeKind.Unary` … `NodeKind.Minus`),
    /// their operands and stored partials in 4-byte units, in node order; `TapeLength` units are used.
    /// What `Real`'s operators push on the hot path: 4–24 bytes a node instead of 24 in the four
    /// arrays above (a tape that is read back once, in reverse, costs its bytes twice).
    [<DefaultValue>] val mutable Tape: int[]
    [<DefaultValue>] val mutable TapeLength: int
    /// Second partials (SecondOrder only): ∂²/∂a0², ∂²/∂a0∂a1, ∂²/∂a1².
    [<DefaultValue>] val mutable H00: float[]
    [<DefaultValue>] val mutable H01: float[]
    [<DefaultValue>] val mutable H11: float[]
    /// Nested only: lower-level identity (slot, trace id) of the primal and of D0, D1.
    [<DefaultValue>] val mutable PI: int[]
    [<DefaultValue>] val mutable PT: int[]
    [<DefaultValue>] val mutable D0I: int[]
    [<DefaultValue>] val mutable D0T: int[]
    [<DefaultValue>] val mutable D1I: int[]
    [<DefaultValue>] val mutable D1T: int[]

    /// Vector primitives recorded on this trace, and the length of each one's output buffer.
    [<DefaultValue>] val mutable Ops: ResizeArray<VecOp>
    [<DefaultValue>] val mutable OpLengths: ResizeArray<int>
    /// Forward traces: the tangent store, written as ops run.
    [<DefaultValue>] val mutable Tangents: Store
    /// Value buffers rented for vector results; returned when the trace is reset.
    [<DefaultValue>] val mutable Rented: ResizeArray<float[]>
    /// An adjoint buffer that is all zeros (or null), kept with the trace for `Sweep.gradient`,
    /// which leaves it all zeros again: a gradient needs no clearing pass over its adjoints.
    [<DefaultValue>] val mutable ZeroAdjoints: float[]

    member t.Reset(id: int, kind: TraceKind, depth: int, owner: string) =
        t.Id <- id
        if isNull t.Alive then t.Alive <- TraceBox()
        t.Alive.Id <- id
        t.Alive.Trace <- t
        t.Kind <- kind
        t.Depth <- depth
        t.Nested <- depth > 1
        t.SecondOrder <- false
        t.Ir <- null
        t.Owner <- owner
        t.Count <- 0
        t.TapeLength <- 0
        if isNull t.Tape then t.Tape <- Array.zeroCreate 1024
        if isNull t.Kinds then
            t.Capacity <- 256
            t.Kinds <- Array.zeroCreate 256
            t.Arg0 <- Array.zeroCreate 256
            t.Arg1 <- Array.zeroCreate 256
            t.D0 <- Array.zeroCreate 256
            t.D1 <- Array.zeroCreate 256
            t.Ops <- ResizeArray()
            t.OpLengths <- ResizeArray()
            t.Rented <- ResizeArray()
        if t.Nested && isNull t.PI then
            t.PI <- Array.zeroCreate t.Capacity
            t.PT <- Array.zeroCreate t.Capacity
            t.D0I <- Array.zeroCreate t.Capacity
            t.D0T <- Array.zeroCreate t.Capacity
            t.D1I <- Array.zeroCreate t.Capacity
            t.D1T <- Array.zeroCreate t.Capacity
        t.Ops.Clear()
        t.OpLengths.Clear()
        t.Tangents <- if kind = TraceKind.Forward then Store(t.D0, t.OpLengths, false) else null
        t.Refresh()

    /// True when the running code is on the thread that opened this trace (an exact test: threads'
    /// stacks do not overlap), without a thread-static read. False when the stack is not known.
    member inline t.OnThisThread = ThreadStack.here () - t.StackLow < t.StackSize

    /// Recomputes `Plain` after a change of Kind, Nested, SecondOrder or Ir.
    member t.Refresh() =
        t.Plain <- t.Kind = TraceKind.Reverse && not t.Nested && not t.SecondOrder && isNull t.Ir
        // compact nodes are read only by the first-order sweeps: a trace holding some must stay Plain
        if t.TapeLength > 0 && not t.Plain then
            invalidOp "Hybrid internal error: a trace with compact nodes stopped being Plain."

    /// Turns on second-order recording (must precede the first node).
    member t.EnableSecondOrder() =
        if t.TapeLength > 0 then invalidOp "Hybrid internal error: EnableSecondOrder after the first node."
        t.SecondOrder <- true
        t.Plain <- false
        if isNull t.H00 || t.H00.Length < t.Capacity then
            t.H00 <- Array.zeroCreate t.Capacity
            t.H01 <- Array.zeroCreate t.Capacity
            t.H11 <- Array.zeroCreate t.Capacity

    member t.Grow() =
        let n = t.Capacity * 2
        let grow (a: 'a[]) = if isNull a then a else (let b = Array.zeroCreate n in Array.Copy(a, b, t.Count); b)
        t.Kinds <- grow t.Kinds
        t.Arg0 <- grow t.Arg0
        t.Arg1 <- grow t.Arg1
        t.D0 <- grow t.D0
        t.D1 <- grow t.D1
        if t.SecondOrder then
            t.H00 <- grow t.H00
            t.H01 <- grow t.H01
            t.H11 <- grow t.H11
        if not (isNull t.PI) then
            t.PI <- grow t.PI
            t.PT <- grow t.PT
            t.D0I <- grow t.D0I
            t.D0T <- grow t.D0T
            t.D1I <- grow t.D1I
            t.D1T <- grow t.D1T
        t.Capacity <- n
        if not (isNull t.Tangents) then t.Tangents.Scalars <- t.D0

    /// Appends a node of `kind` and returns its slot.
    member inline t.Push(kind: NodeKind, a0: int, a1: int, d0: float, d1: float) =
        let i = t.Count
        if i = t.Capacity then t.Grow()
        t.Kinds[i] <- kind
        t.Arg0[i] <- a0
        t.Arg1[i] <- a1
        t.D0[i] <- d0
        t.D1[i] <- d1
        t.Count <- i + 1
        i

    /// Push of a scalar node without bounds checks: every node array has length Capacity, and
    /// after the growth test i < Capacity (a trace is pushed to by its own thread only). The hot
    /// path of `Real`'s operators on a Plain trace.
    member inline t.PushScalar(a0: int, a1: int, d0: float, d1: float) =
        let i = t.Count
        if i >= t.Capacity then t.Grow()
        Unsafe.Add(&MemoryMarshal.GetArrayDataReference t.Kinds, i) <- NodeKind.Scalar
        Unsafe.Add(&MemoryMarshal.GetArrayDataReference t.Arg0, i) <- a0
        Unsafe.Add(&MemoryMarshal.GetArrayDataReference t.Arg1, i) <- a1
        Unsafe.Add(&MemoryMarshal.GetArrayDataReference t.D0, i) <- d0
        Unsafe.Add(&MemoryMarshal.GetArrayDataReference t.D1, i) <- d1
        t.Count <- i + 1
        i

    /// Makes room for at least `units` more units of `Tape` (doubling).
    member t.GrowTape(units: int) =
        let b = Array.zeroCreate (max (2 * t.Tape.Length) (t.TapeLength + units))
        Array.Copy(t.Tape, b, t.TapeLength)
        t.Tape <- b

    // The pushes of compact nodes (Plain traces only; `NodeKind.Unary` … `NodeKind.Minus`), without
    // bounds checks: the node arrays have Capacity elements and the tape room is tested first. Each
    // stores the kind and the record and returns the node's slot. They are methods the JIT inlines
    // (AggressiveInlining), not F# `inline`: an F# inline if–else of pushes inside `Real`'s inline
    // operators makes the F# compiler split the operator into `$cont` methods, called per op.

    /// Room for one more node and `units` more units of tape. (The pushes then read Count and
    /// TapeLength again rather than keep them: in a user's loop with every operator inlined the JIT
    /// has more locals than it tracks in registers, and each temporary is a stack slot.)
    member inline t.Room(units: int) =
        if t.Count >= t.Capacity then t.Grow()
        if t.TapeLength + units > t.Tape.Length then t.GrowTape units
    /// Kind k at slot Count, and `units` units of tape taken; returns the first of them (then Count
    /// is the node's slot + 1).
    member inline t.Take(k: NodeKind, units: int) : int =
        let i = t.Count
        Unsafe.Add(&MemoryMarshal.GetArrayDataReference t.Kinds, i) <- k
        t.Count <- i + 1
        let p = t.TapeLength
        t.TapeLength <- p + units
        p
    /// A node with one operand a0 and its partial d0.
    [<MethodImpl(MethodImplOptions.AggressiveInlining)>]
    member t.PushUnary(a0: int, d0: float) : int =
        t.Room 3
        let u = &Unsafe.Add(&MemoryMarshal.GetArrayDataReference t.Tape, t.Take(NodeKind.Unary, 3))
        u <- a0
        Unsafe.As<int, float>(&Unsafe.Add(&u, 1)) <- d0
        t.Count - 1
    /// A node with operands a0, a1 and their partials d0, d1.
    [<MethodImpl(MethodImplOptions.AggressiveInlining)>]
    member t.PushBinary(a0: int, a1: int, d0: float, d1: float) : int =
        t.Room 6
        let u = &Unsafe.Add(&MemoryMarshal.GetArrayDataReference t.Tape, t.Take(NodeKind.Binary, 6))
        u <- a0
        Unsafe.Add(&u, 1) <- a1
        Unsafe.As<int, float>(&Unsafe.Add(&u, 2)) <- d0
        Unsafe.As<int, float>(&Unsafe.Add(&u, 4)) <- d1
        t.Count - 1
    /// `NodeKind.Add` or `Sub` of a0 and a1 (partials fixed by the kind).
    [<MethodImpl(MethodImplOptions.AggressiveInlining)>]
    member t.PushLinear2(k: NodeKind, a0: int, a1: int) : int =
        t.Room 2
        let u = &Unsafe.Add(&MemoryMarshal.GetArrayDataReference t.Tape, t.Take(k, 2))
        u <- a0
        Unsafe.Add(&u, 1) <- a1
        t.Count - 1
    /// `NodeKind.Plus` or `Minus` of a0 (partial ±1).
    [<MethodImpl(MethodImplOptions.AggressiveInlining)>]
    member t.PushLinear1(k: NodeKind, a0: int) : int =
        t.Room 1
        Unsafe.Add(&MemoryMarshal.GetArrayDataReference t.Tape, t.Take(k, 1)) <- a0
        t.Count - 1
    /// Rule f of two traced operands a0, a1 with partials d0, d1 (the compact node its shape allows).
    [<MethodImpl(MethodImplOptions.AggressiveInlining)>]
    member t.PushRule2(f: Fun2, a0: int, a1: int, d0: float, d1: float) : int =
        if f = Fun2.Add then t.PushLinear2(NodeKind.Add, a0, a1)
        elif f = Fun2.Sub then t.PushLinear2(NodeKind.Sub, a0, a1)
        else t.PushBinary(a0, a1, d0, d1)
    /// Rule f(x, c) of a traced x (slot a0, partial d0) and a constant c.
    [<MethodImpl(MethodImplOptions.AggressiveInlining)>]
    member t.PushRuleL(f: Fun2, a0: int, d0: float) : int =
        if f = Fun2.Add || f = Fun2.Sub then t.PushLinear1(NodeKind.Plus, a0) else t.PushUnary(a0, d0)
    /// Rule f(c, y) of a constant c and a traced y (slot a1, partial d1).
    [<MethodImpl(MethodImplOptions.AggressiveInlining)>]
    member t.PushRuleR(f: Fun2, a1: int, d1: float) : int =
        if f = Fun2.Add then t.PushLinear1(NodeKind.Plus, a1)
        elif f = Fun2.Sub then t.PushLinear1(NodeKind.Minus, a1)
        else t.PushUnary(a1, d1)
    /// Rule f of one traced operand a0 with partial d0.
    [<MethodImpl(MethodImplOptions.AggressiveInlining)>]
    member t.PushRule1(f: Fun1, a0: int, d0: float) : int =
        if f = Fun1.Neg then t.PushLinear1(NodeKind.Minus, a0) else t.PushUnary(a0, d0)
    /// Rule f(x, y) where one of ix, iy is −1 (a constant operand): PushRuleL or PushRuleR, out of line.
    member t.PushRuleOne(f: Fun2, ix: int, iy: int, dx: float, dy: float) : int =
        if iy < 0 then t.PushRuleL(f, ix, dx) else t.PushRuleR(f, iy, dy)

    /// Second partials of slot i (SecondOrder traces).
    member inline t.SetHessian(i: int, h00: float, h01: float, h11: float) =
        t.H00[i] <- h00
        t.H01[i] <- h01
        t.H11[i] <- h11

    /// Nested traces: the lower-level identity of slot i's primal, D0 and D1 (no-ops otherwise,
    /// where lower values are always constants).
    member t.SetLower(i: int, slot: int, tid: int) =
        if t.Nested then
            t.PI[i] <- slot
            t.PT[i] <- tid
    member t.SetD0(i: int, slot: int, tid: int) =
        if t.Nested then
            t.D0I[i] <- slot
            t.D0T[i] <- tid
    member t.SetD1(i: int, slot: int, tid: int) =
        if t.Nested then
            t.D1I[i] <- slot
            t.D1T[i] <- tid

    /// Appends `count` input slots (no arguments) and returns the first.
    member t.PushInputs(count: int) =
        let first = t.Count
        while t.Count + count > t.Capacity do t.Grow()
        // a Plain trace's sweeps read nothing of an input but its kind (arguments, partials and
        // second partials are for the other traces' sweeps and the compiler's lowering)
        if t.Plain then Array.Fill(t.Kinds, NodeKind.Input, first, count)
        else
            for i in first .. first + count - 1 do
                t.Kinds[i] <- NodeKind.Input
                t.Arg0[i] <- -1
                t.Arg1[i] <- -1
                t.D0[i] <- 0.0
                t.D1[i] <- 0.0
                if t.SecondOrder then
                    t.H00[i] <- 0.0
                    t.H01[i] <- 0.0
                    t.H11[i] <- 0.0
        t.Count <- first + count
        first

    /// Records a vector op (its output buffer has `length` doubles) as one node; returns the op index.
    member t.PushOp(op: VecOp, length: int) =
        let k = t.Ops.Count
        t.Ops.Add op
        t.OpLengths.Add length
        t.Push(NodeKind.Vector, k, -1, 0.0, 0.0) |> ignore
        k

    /// The op index the next PushOp will return.
    member t.NextOp = t.Ops.Count

    /// A pooled buffer for a vector result's values; given back at reset.
    member t.Rent(length: int) =
        let a = Buffers.Rent length
        t.Rented.Add a
        a

    /// Bytes held by the node arrays (what a pool is charged for keeping this trace).
    member t.Bytes =
        let per = 25L + (if isNull t.H00 then 0L else 24L) + (if isNull t.PI then 0L else 24L)
        per * int64 t.Capacity + (if isNull t.ZeroAdjoints then 0L else 8L * int64 t.ZeroAdjoints.Length)
        + (if isNull t.Tape then 0L else 4L * int64 t.Tape.Length)

    /// An all-zero adjoint buffer of at least Count doubles, now the caller's: the kept one, or a
    /// new one of Capacity doubles.
    member t.TakeZeroAdjoints() : float[] =
        let z = t.ZeroAdjoints
        t.ZeroAdjoints <- null
        if not (isNull z) && z.Length >= t.Count then z else Array.zeroCreate t.Capacity
    /// Gives back a buffer from TakeZeroAdjoints that is all zeros again.
    member t.GiveZeroAdjoints(z: float[]) = t.ZeroAdjoints <- z

    member t.ReleaseRented() =
        for a in t.Rented do Buffers.Return a
        t.Rented.Clear()
        if not (isNull t.Tangents) then t.Tangents.Release()

/// A trace's id, and the trace while it is open (null once closed): see `Trace.Alive`.
and [<Sealed; AllowNullLiteral>] internal TraceBox() =
    [<DefaultValue>] val mutable Id: int
    [<DefaultValue>] val mutable Trace: Trace
