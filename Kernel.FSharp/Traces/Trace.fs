namespace Hybrid.Kernel

open System
open System.Buffers
open System.Threading

/// What a trace records: tangents (forward mode) or a tape of partials (reverse mode).
type TraceKind =
    | Forward = 0
    | Reverse = 1

/// Node kinds on a trace. Every node owns one slot (its index) in the trace's derivative arrays.
type NodeKind =
    /// A scalar operation: up to two argument slots with their partials.
    | Scalar = 0uy
    /// An input: no arguments; its lower-level primal is where it came from.
    | Input = 1uy
    /// One element of a vector op's output: argument is (op, offset).
    | Element = 2uy
    /// A vector primitive: the op index is in Arg0; the op object holds its own rules.
    | Vector = 3uy

/// Where a vector's per-element derivatives live on its trace: `Slot` ≥ 0 means consecutive scalar
/// slots starting there; otherwise `Op` ≥ 0 names a vector op whose own buffer holds them from `Offset`.
/// A length-1 ref broadcasts against longer vectors.
[<Struct>]
type VecRef =
    { Slot: int; Op: int; Offset: int; Length: int }
    static member Slots(slot, length) = { Slot = slot; Op = -1; Offset = 0; Length = length }
    static member OfOp(op, offset, length) = { Slot = -1; Op = op; Offset = offset; Length = length }
    /// A constant operand: no derivatives.
    static member None = { Slot = -1; Op = -1; Offset = 0; Length = 0 }
    member r.IsNone = r.Slot < 0 && r.Op < 0
    /// The sub-range [start, start + length).
    member r.Slice(start, length) =
        if r.Slot >= 0 then { Slot = r.Slot + start; Op = -1; Offset = 0; Length = length }
        elif r.Op >= 0 then { Slot = -1; Op = r.Op; Offset = r.Offset + start; Length = length }
        else r

/// Derivative storage for one sweep: per scalar slot and per vector-op element, `Width` doubles —
/// one per direction when a replay pushes several tangents at once (Hessian blocks), laid out
/// direction-fastest: slot i, direction j at i·Width + j; element e of an op buffer at e·Width + j.
/// (So the k tangents of an r×c matrix form a (k·r)×c column-major matrix, and those of a vector a
/// k×n one: matrix primitives push all k with one dgemm.) Op buffers are allocated on first touch,
/// so ops whose outputs never receive a derivative cost nothing.
[<Sealed; AllowNullLiteral>]
type Store(scalars: float[], opLengths: ResizeArray<int>, ownsScalars: bool, width: int) =
    let mutable scalars = scalars
    let mutable bufs: float[][] = Array.zeroCreate (max 4 opLengths.Count)
    let mutable direction = -1
    new(scalars, opLengths, ownsScalars) = Store(scalars, opLengths, ownsScalars, 1)
    /// Directions held per element (1 for adjoints and single tangents).
    member _.Width = width
    /// For an op that handles one direction at a time (not `Batched`): the direction that `Read`,
    /// `Write` and `AddInto` address. −1 outside such a call.
    member _.Direction
        with get () = direction
        and set v = direction <- v
    /// Width doubles per scalar slot.
    member _.Scalars
        with get () = scalars
        and set v = scalars <- v
    member private _.Alloc(op: int, zero: bool) : float[] =
        if op >= bufs.Length then
            let b = Array.zeroCreate (max (op + 1) (2 * bufs.Length))
            Array.Copy(bufs, b, bufs.Length)
            bufs <- b
        let b = bufs[op]
        if isNull b then
            let n = opLengths[op] * width
            let b = if zero then Buffers.RentZeroed n else Buffers.Rent n
            bufs[op] <- b
            b
        else b
    /// The op's buffer, allocated and zeroed on first use.
    member s.Buffer(op: int) : float[] = s.Alloc(op, true)
    /// The derivatives of `r` in all directions (Length·Width doubles, direction-fastest), writable.
    /// Only batched ops may use it when Width > 1; others go through Read / Write / AddInto.
    member s.Span(r: VecRef) : Span<float> =
        if width > 1 && direction >= 0 then
            invalidOp "Hybrid internal error: an op that is not Batched used Store.Span in a multi-direction replay."
        if r.Slot >= 0 then Span<float>(scalars, r.Slot * width, r.Length * width)
        else Span<float>(s.Buffer r.Op, r.Offset * width, r.Length * width)
    /// As Span, for an output the caller assigns in full (a Jvp result): a new op buffer is not
    /// zeroed first.
    member s.Out(r: VecRef) : Span<float> =
        if r.Slot >= 0 || width > 1 && direction >= 0 then s.Span r
        else Span<float>(s.Alloc(r.Op, false), r.Offset * width, r.Length * width)
    /// As Span, for adding into `r`; `assign` comes back true when r is a whole op buffer nothing
    /// has touched yet, and the caller must then write every element instead of adding (this saves
    /// zeroing — and, for large vectors, touching — a buffer only to add into it).
    member s.Target(r: VecRef, assign: byref<bool>) : Span<float> =
        assign <- false
        if r.Slot < 0 && r.Op >= 0 && width = 1 && r.Offset = 0 && r.Length = opLengths[r.Op]
           && (r.Op >= bufs.Length || isNull bufs[r.Op]) then
            assign <- true
            Span<float>(s.Alloc(r.Op, false), 0, r.Length)
        else s.Span r
    member private s.Raw(r: VecRef) : struct (float[] * int) =
        if r.Slot >= 0 then struct (scalars, r.Slot * width) else struct (s.Buffer r.Op, r.Offset * width)
    /// The derivatives of `r` in the current direction (all of them at width 1) as a new array.
    member s.Read(r: VecRef) : float[] =
        let struct (a, o) = s.Raw r
        if width = 1 then Array.sub a o r.Length
        else
            let z = Array.zeroCreate r.Length
            for e in 0 .. r.Length - 1 do z[e] <- a[o + e * width + direction]
            z
    /// s[r] ← z in the current direction.
    member s.Write(r: VecRef, z: float[]) =
        let struct (a, o) = s.Raw r
        if width = 1 then Array.blit z 0 a o r.Length
        else for e in 0 .. r.Length - 1 do a[o + e * width + direction] <- z[e]
    /// s[r] += z in the current direction (skipped for constants).
    member s.AddInto(r: VecRef, z: float[]) =
        if not r.IsNone then
            let struct (a, o) = s.Raw r
            if width = 1 then for e in 0 .. r.Length - 1 do a[o + e] <- a[o + e] + z[e]
            else
                for e in 0 .. r.Length - 1 do
                    let i = o + e * width + direction
                    a[i] <- a[i] + z[e]
    /// True when nothing was ever written for `r` (so its derivatives are all zero).
    member _.Untouched(r: VecRef) = r.Slot < 0 && (r.Op < 0 || r.Op >= bufs.Length || isNull bufs[r.Op])
    /// Returns pooled buffers (the op buffers, and the scalars when the store owns them).
    member _.Release() =
        if ownsScalars then
            Buffers.Return scalars
            scalars <- null
        for i in 0 .. bufs.Length - 1 do
            if not (isNull bufs[i]) then
                Buffers.Return bufs[i]
                bufs[i] <- null

/// A vector primitive on a trace at the bottom level: its value is already computed; it owns its
/// derivative rules. `Out` is where its output's derivatives live.
[<AbstractClass>]
type VecOp(outRef: VecRef) =
    member _.Out = outRef
    /// Forward rule: writes the tangent of `Out` from the tangents of the inputs.
    abstract Jvp: tan: Store -> unit
    /// Reverse rule: adds Jᵀ·adj[Out] into the inputs' adjoints.
    abstract Vjp: adj: Store -> unit
    /// Forward-over-reverse rule (for Hvp on a recorded tape): the tangent of the reverse rule,
    /// adding J'ᵀ·adj[Out] + Jᵀ·adjTan[Out] into the inputs' adjoint tangents, where J' is
    /// the derivative of J along `tan`.
    abstract VjpTangent: adj: Store * tan: Store * adjTan: Store -> unit
    /// True when Jvp and VjpTangent handle every direction of a multi-direction replay at once
    /// (`Store.Width` > 1). Otherwise the sweep calls them once per direction, with
    /// `Store.Direction` set, and they must use Read / Write / AddInto.
    abstract Batched: bool
    default _.Batched = false

/// A trace at one level: forward (tangents) or reverse (tape). Struct-of-arrays, grown by doubling,
/// reset (not freed) between uses. A trace on the bottom of a thread's stack (`Nested = false`)
/// holds plain doubles; a nested one stores, per slot, the lower-level value it stands for, and
/// partials/tangents as lower-level values (index + trace id beside each double), so its
/// derivatives are themselves differentiable by the traces below it.
[<Sealed; AllowNullLiteral>]
type Trace internal () =
    [<DefaultValue>] val mutable Id: int
    [<DefaultValue>] val mutable Kind: TraceKind
    [<DefaultValue>] val mutable Depth: int
    /// False when this is the only trace on its thread: all lower values are constants.
    [<DefaultValue>] val mutable Nested: bool
    /// Reverse traces only: record second partials so the tape can replay Hessian-vector products.
    [<DefaultValue>] val mutable SecondOrder: bool
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

    member t.Reset(id: int, kind: TraceKind, depth: int, owner: string) =
        t.Id <- id
        t.Kind <- kind
        t.Depth <- depth
        t.Nested <- depth > 1
        t.SecondOrder <- false
        t.Owner <- owner
        t.Count <- 0
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

    /// Turns on second-order recording (must precede the first node).
    member t.EnableSecondOrder() =
        t.SecondOrder <- true
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
        per * int64 t.Capacity

    member t.ReleaseRented() =
        for a in t.Rented do Buffers.Return a
        t.Rented.Clear()
        if not (isNull t.Tangents) then t.Tangents.Release()

/// A value used outside the transform that made it, or on another thread.
type EscapedValueException(message: string) =
    inherit InvalidOperationException(message)

/// Traces that were kept alive for a pullback or a second-order tape and then released, and
/// traces that grew large: their arrays are reused by the next trace opened where the thread's
/// stack has no trace, instead of growing a new one from 256 slots (each doubling a copy and fresh
/// pages). Process-wide, so a thread that exits leaves nothing behind on its own; bounded and
/// trimmed with the buffer pools (PoolBudget).
[<AbstractClass; Sealed>]
type DetachedTraces =
    static let pool = Pool<Trace>(8)
    static do PoolBudget.Register(fun all -> pool.Trim all)
    /// A released trace, or a new one.
    static member Take() : Trace =
        let mutable t = null
        if pool.TryTake(&t) then t else Trace()
    /// Gives back a detached trace whose pullback or tape is done (it must not be used again).
    static member Give(t: Trace) =
        if not (isNull t) then
            t.ReleaseRented()
            pool.Give(t, t.Bytes)

/// Unique trace ids, increasing with time.
[<AbstractClass; Sealed>]
type TraceIds =
    static let mutable next = 0
    static member Next() = Interlocked.Increment &next

/// The thread's stack of active traces. Trace ids are unique and increase with time, so on one
/// thread a higher id is always an inner (later-opened) trace.
[<AbstractClass; Sealed>]
type Traces =
    [<ThreadStatic; DefaultValue>] static val mutable private top: Trace
    [<ThreadStatic; DefaultValue>] static val mutable private stack: Trace[]
    [<ThreadStatic; DefaultValue>] static val mutable private depth: int

    /// Node slots a thread keeps in each of its idle traces (about 1.6 MB); larger ones are pooled.
    static member KeepCapacity = 1 <<< 16

    /// The innermost active trace on this thread, or null.
    static member Top = Traces.top

    /// Drops this thread's idle trace objects (those above the current depth).
    static member TrimIdle() =
        if not (isNull Traces.stack) then
            for i in Traces.depth .. Traces.stack.Length - 1 do Traces.stack[i] <- null
    static member Depth = Traces.depth

    /// Opens a trace at the next level on this thread.
    static member Open(kind: TraceKind, owner: string) : Trace =
        if isNull Traces.stack then Traces.stack <- Array.zeroCreate 8
        let d = Traces.depth
        if d = Traces.stack.Length then
            let s = Array.zeroCreate (2 * d)
            Array.Copy(Traces.stack, s, d)
            Traces.stack <- s
        let mutable t = Traces.stack[d]
        if isNull t then
            t <- DetachedTraces.Take()
            Traces.stack[d] <- t
        t.Reset(TraceIds.Next(), kind, d + 1, owner)
        Traces.depth <- d + 1
        Traces.top <- t
        t

    /// Closes the innermost trace, which must be `t`. With `keep`, the trace object is detached
    /// (a pullback still needs its tape) and a fresh one takes its place in the pool.
    static member Close(t: Trace, keep: bool) =
        let d = Traces.depth
        if d = 0 || not (obj.ReferenceEquals(Traces.stack[d - 1], t)) then
            invalidOp "Hybrid: traces closed out of order (a transform's function returned while an inner transform was still open)."
        t.Id <- -t.Id // stale from here on: its values are no longer found
        if keep then Traces.stack[d - 1] <- null
        elif t.Capacity > Traces.KeepCapacity then
            // a trace that grew large does not stay with the thread: it goes to the process-wide
            // pool, which keeps it for the next large transform and gives it up at full GCs
            Traces.stack[d - 1] <- null
            DetachedTraces.Give t
        else t.ReleaseRented()
        Traces.depth <- d - 1
        Traces.top <- if d > 1 then Traces.stack[d - 2] else null

    /// The active trace with this id on this thread, or null.
    static member TryFind(id: int) : Trace =
        let mutable i = Traces.depth - 1
        let mutable found = null
        while isNull found && i >= 0 do
            let t = Traces.stack[i]
            if t.Id = id then found <- t
            i <- i - 1
        found

    /// The active trace with this id, or an exception that says the value escaped its transform.
    static member Find(id: int) : Trace =
        let mutable i = Traces.depth - 1
        let mutable found = null
        while isNull found && i >= 0 do
            let t = Traces.stack[i]
            if t.Id = id then found <- t
            i <- i - 1
        if isNull found then Traces.Escaped id
        found

    static member Escaped(id: int) : unit =
        raise (
            EscapedValueException(
                sprintf
                    "Hybrid: a differentiable value (trace #%d) was used after the transform that made it returned, or on another thread. \
                     Values inside a transform's function are only valid during that call: return them from the function \
                     (they come back as plain numbers), or read `.Value` to keep a constant copy."
                    id
            )
        )

/// The memory Hybrid keeps for reuse between transforms: pooled vector buffers, BLAS scratch and
/// recorded traces. Everything pooled counts against one limit (`PoolLimitBytes`), a trace that grew
/// large is pooled rather than kept by its thread, and whatever sits unused through two full
/// garbage collections is given back; `Trim` gives everything back at once, for long-running
/// services after a large computation.
[<AbstractClass; Sealed>]
type Memory =
    /// Bytes currently held in Hybrid's pools.
    static member PooledBytes = PoolBudget.Held
    /// The most bytes the pools may hold together (default: 1 GB, or an eighth of the memory
    /// available to the GC when that is less). Setting 0 turns pooling off.
    static member PoolLimitBytes
        with get () = PoolBudget.Limit
        and set (v: int64) =
            if v < 0L then invalidArg "value" (sprintf "Memory.PoolLimitBytes must be ≥ 0, got %d." v)
            PoolBudget.Limit <- v
            if PoolBudget.Held > v then PoolBudget.Trim()
    /// Gives back every pooled buffer and trace, and the calling thread's idle traces. Transforms
    /// keep working afterwards (they allocate afresh).
    static member Trim() =
        Traces.TrimIdle()
        PoolBudget.Trim()
