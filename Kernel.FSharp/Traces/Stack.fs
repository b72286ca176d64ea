namespace Hybrid.Kernel

open System
open System.Buffers
open System.Threading

/// A value used outside the transform that made it, or on another thread.
type EscapedValueException(message: string) =
    inherit InvalidOperationException(message)

/// Traces that were kept alive for a pullback or a second-order tape and then released, and
/// traces that grew large: their arrays are reused by the next trace opened where the thread's
/// stack has no trace, instead of growing a new one from 256 slots (each doubling a copy and fresh
/// pages). Process-wide, so a thread that exits leaves nothing behind on its own; bounded and
/// trimmed with the buffer pools (PoolBudget).
[<AbstractClass; Sealed>]
type internal DetachedTraces =
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
type internal TraceIds =
    static let mutable next = 0
    static member Next() = Interlocked.Increment &next

/// The thread's stack of active traces. Trace ids are unique and increase with time, so on one
/// thread a higher id is always an inner (later-opened) trace.
[<AbstractClass; Sealed>]
type internal Traces =
    [<ThreadStatic; DefaultValue>] static val mutable private top: Trace
    [<ThreadStatic; DefaultValue>] static val mutable private stack: Trace[]
    [<ThreadStatic; DefaultValue>] static val mutable private depth: int
    [<ThreadStatic; DefaultValue>] static val mutable private opened: int
    /// This thread's stack (`ThreadStack.current`, read once per thread; known = it was read).
    [<ThreadStatic; DefaultValue>] static val mutable private stackLow: unativeint
    [<ThreadStatic; DefaultValue>] static val mutable private stackSize: unativeint
    [<ThreadStatic; DefaultValue>] static val mutable private stackKnown: bool

    /// Node slots a thread keeps in each of its idle traces (about 1.6 MB); larger ones are pooled.
    static member KeepCapacity = 1 <<< 16

    /// The innermost active trace on this thread, or null.
    static member Top = Traces.top

    /// Drops this thread's idle trace objects (those above the current depth).
    static member TrimIdle() =
        if not (isNull Traces.stack) then
            for i in Traces.depth .. Traces.stack.Length - 1 do Traces.stack[i] <- null
    static member Depth = Traces.depth
    /// Traces opened on this thread so far (tests count them: a replay derived one direction at a
    /// time would open one per direction).
    static member Opened = Traces.opened

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
        if not Traces.stackKnown then
            let struct (low, size) = ThreadStack.current ()
            Traces.stackLow <- low
            Traces.stackSize <- size
            Traces.stackKnown <- true
        t.StackLow <- Traces.stackLow
        t.StackSize <- Traces.stackSize
        Traces.depth <- d + 1
        Traces.top <- t
        Traces.opened <- Traces.opened + 1
        t

    /// Opens a trace at the next level that holds plain doubles whatever lies below it (not
    /// `Nested`): for a computation that sees constants only, such as a primitive's rule run on
    /// the doubles of a replay (which may happen while another transform is open on the thread).
    static member OpenBottom(kind: TraceKind, owner: string) : Trace =
        let t = Traces.Open(kind, owner)
        t.Nested <- false
        t.Refresh()
        t

    /// Closes the innermost trace, which must be `t`. With `keep`, the trace object is detached
    /// (a pullback still needs its tape) and a fresh one takes its place in the pool.
    static member Close(t: Trace, keep: bool) =
        let d = Traces.depth
        if d = 0 || not (obj.ReferenceEquals(Traces.stack[d - 1], t)) then
            invalidOp "Hybrid: traces closed out of order (a transform's function returned while an inner transform was still open)."
        t.Id <- -t.Id // stale from here on: its values are no longer found
        t.PlainId <- 0
        t.Alive.Id <- t.Id
        t.Alive.Trace <- null
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
        let t = Traces.TryFind id
        if isNull t then Traces.Escaped id
        t

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
