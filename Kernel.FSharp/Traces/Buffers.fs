namespace Hybrid.Kernel

open System
open System.Collections.Concurrent
open System.Threading

/// The byte budget and the trimming shared by every pool of the kernel (double buffers, BLAS
/// scratch, detached traces). Pools exist because in a VM a fresh multi-megabyte array costs a page
/// fault per 4 KB — more than the arithmetic on it — but they must give memory back: each pool
/// counts the bytes it holds against one process-wide limit, and what has sat unused for a second
/// and through a full (generation 2) garbage collection is dropped at the next one, so a service
/// that ran one huge gradient returns to its footprint while a hot loop (or a benchmark that forces
/// collections between iterations) keeps its buffers.
[<AbstractClass; Sealed>]
type internal PoolBudget =
    static let mutable held = 0L
    static let mutable limit = -1L // until set: automatic (below)
    static let mutable automatic = 0L
    static let mutable epoch = 0
    static let trimmers = ConcurrentBag<bool -> unit>()

    /// Bytes currently pooled.
    static member Held = Interlocked.Read &held
    /// The most bytes all pools together may hold.
    static member Limit
        with get () =
            let l = Interlocked.Read &limit
            if l >= 0L then l else PoolBudget.Automatic
        and set (v: int64) = Interlocked.Exchange(&limit, max 0L v) |> ignore

    /// 1 GB, or an eighth of the memory the GC may use when that is less. The GC reports that only
    /// once it has run (before, GetGCMemoryInfo is all zeros), so it is read until it is known.
    static member private Automatic =
        if automatic > 0L then automatic
        else
            let available = GC.GetGCMemoryInfo().TotalAvailableMemoryBytes
            if available <= 0L then 1L <<< 30
            else
                automatic <- min (1L <<< 30) (available / 8L)
                automatic

    /// Reserves `bytes` for a pooled object: false (nothing reserved) when it would exceed the limit.
    static member TryReserve(bytes: int64) =
        let mutable ok = false
        let mutable fin = false
        while not fin do
            let h = Interlocked.Read &held
            if h + bytes > PoolBudget.Limit then fin <- true
            elif Interlocked.CompareExchange(&held, h + bytes, h) = h then
                ok <- true
                fin <- true
        ok

    /// Gives back the reservation of an object taken out of a pool (or dropped by a trim).
    static member Release(bytes: int64) = Interlocked.Add(&held, -bytes) |> ignore

    /// Full GCs seen so far: an object pooled at epoch e survives the next full GC and is dropped
    /// by a later one once it has been idle for IdleMilliseconds, so buffers in steady use stay
    /// pooled and idle ones go.
    static member Epoch = Volatile.Read &epoch

    /// How long a pooled object must have been unused before a full GC may drop it.
    static member IdleMilliseconds = 1000L

    /// Registers a pool's trim function: `all` drops everything, else only what is idle.
    static member Register(trim: bool -> unit) = trimmers.Add trim

    /// Empties every pool.
    static member Trim() = for t in trimmers do t true

    /// After a full GC: drops what has been idle since the one before.
    static member Age() =
        Interlocked.Increment &epoch |> ignore
        for t in trimmers do t false

/// Runs PoolBudget.Trim after each generation-2 collection: an unreachable object with a finalizer
/// is finalized by every GC of its generation and resurrects itself (as .NET's own Gen2GcCallback).
[<Sealed>]
type internal Gen2Trim private () =
    static let mutable lastGen2 = 0
    static let mutable started = 0
    /// Starts the callback (once per process).
    static member Start() = if Interlocked.Exchange(&started, 1) = 0 then Gen2Trim() |> ignore
    override this.Finalize() =
        if not (Environment.HasShutdownStarted || AppDomain.CurrentDomain.IsFinalizingForUnload()) then
            let n = GC.CollectionCount 2
            if n <> lastGen2 then
                lastGen2 <- n
                PoolBudget.Age()
            GC.ReRegisterForFinalize this

/// A bounded stack of pooled objects of one kind, each weighing `bytes`.
[<Sealed>]
type internal Pool<'T when 'T: not struct>(maxCount: int) =
    let items = ConcurrentStack<struct ('T * int64 * int * int64)>()
    member _.Count = items.Count
    member _.TryTake(result: byref<'T>) =
        let mutable item = Unchecked.defaultof<struct ('T * int64 * int * int64)>
        if items.TryPop(&item) then
            let struct (x, b, _, _) = item
            PoolBudget.Release b
            result <- x
            true
        else false
    /// Keeps x when there is room (count and bytes); otherwise the GC takes it.
    member _.Give(x: 'T, bytes: int64) =
        if items.Count < maxCount && PoolBudget.TryReserve bytes then
            items.Push(struct (x, bytes, PoolBudget.Epoch, Environment.TickCount64))
    /// Drops everything (`all`) or what was pooled before the previous full GC and has been idle
    /// for IdleMilliseconds; its owner registers this with PoolBudget.
    member _.Trim(all: bool) =
        let keep = ResizeArray()
        let now = Environment.TickCount64
        let mutable item = Unchecked.defaultof<struct ('T * int64 * int * int64)>
        while items.TryPop(&item) do
            let struct (_, b, e, pooledAt) = item
            PoolBudget.Release b
            if not all && (e >= PoolBudget.Epoch - 1 || now - pooledAt < PoolBudget.IdleMilliseconds) then keep.Add item
        for i in keep.Count - 1 .. -1 .. 0 do
            let struct (x, b, e, pooledAt) = keep[i]
            if PoolBudget.TryReserve b then items.Push(struct (x, b, e, pooledAt))

/// A process-wide pool of double buffers in power-of-two size classes. Vector results, partials
/// and adjoint buffers come from here and go back when their trace is reset (ArrayPool.Shared drops
/// arrays this large). Thread-safe; a rented buffer may be longer than asked. Large buffers (from
/// 512 KB) are bounded by PoolBudget and aged out at full GCs; small ones — rented and returned
/// several times per vector op, where a budget's interlocked bookkeeping would cost more than the
/// arithmetic — are bounded by count alone (64 per class, at most ~30 MB in all) and emptied by
/// Memory.Trim.
///
/// Small buffers go first to a free list of the calling thread (up to `LocalPerClass` per class,
/// under 4 MB a thread): a vector op rents and returns two or three of them, and the shared stacks'
/// interlocked operations and node allocations cost more than a small op's arithmetic. A thread's
/// list dies with the thread; Memory.Trim empties the calling thread's.
[<AbstractClass; Sealed>]
type internal Buffers =
    static let largeClass = 16 // 2^16 doubles = 512 KB
    static let classes = Array.init 40 (fun _ -> Pool<float[]>(64)) // a sliced function at large n holds ~20 same-size buffers at once
    static let small = Array.init largeClass (fun _ -> ConcurrentStack<float[]>())
    /// This thread's free lists: `LocalPerClass` slots per small class, and each class's count.
    [<ThreadStatic; DefaultValue>] static val mutable private local: float[][]
    [<ThreadStatic; DefaultValue>] static val mutable private localCount: int[]
    static do
        PoolBudget.Register(fun all ->
            for p in classes do p.Trim all
            if all then
                for s in small do s.Clear()
                Buffers.local <- null
                Buffers.localCount <- null)
        Gen2Trim.Start()

    /// Buffers of one small class a thread keeps for itself.
    static member LocalPerClass = 8

    static member private ClassOf(length: int) =
        let mutable c = 4 // 16 doubles at least
        while (1 <<< c) < length do c <- c + 1
        c

    /// A buffer of at least `length` doubles, contents unspecified.
    static member Rent(length: int) : float[] =
        if length = 0 then Array.Empty<float>()
        else
            let c = Buffers.ClassOf length
            let mutable a = null
            if c < largeClass then
                let counts = Buffers.localCount
                if not (isNull counts) && counts[c] > 0 then
                    let k = counts[c] - 1
                    counts[c] <- k
                    let i = c * Buffers.LocalPerClass + k
                    let l = Buffers.local
                    a <- l[i]
                    l[i] <- null
                    a
                elif small[c].TryPop(&a) then a
                else Array.zeroCreate (1 <<< c)
            elif classes[c].TryTake(&a) then a
            else Array.zeroCreate (1 <<< c)

    /// A buffer of at least `length` doubles whose first `length` are zero.
    static member RentZeroed(length: int) : float[] =
        let a = Buffers.Rent length
        Array.Clear(a, 0, length)
        a

    /// Gives a buffer back (ignored if it is not a pooled size, or the pools are full).
    static member Return(a: float[]) =
        if not (isNull a) && a.Length >= 16 && (a.Length &&& (a.Length - 1)) = 0 then
            let c = Buffers.ClassOf a.Length
            if c < largeClass then
                let mutable counts = Buffers.localCount
                if isNull counts then
                    counts <- Array.zeroCreate largeClass
                    Buffers.local <- Array.zeroCreate (largeClass * Buffers.LocalPerClass)
                    Buffers.localCount <- counts
                let k = counts[c]
                if k < Buffers.LocalPerClass then
                    Buffers.local[c * Buffers.LocalPerClass + k] <- a
                    counts[c] <- k + 1
                elif small[c].Count < 64 then small[c].Push a
            else classes[c].Give(a, 8L * int64 a.Length)

/// Exact-length scratch arrays for BLAS calls (which take an array as a matrix only when its
/// length is exactly rows·cols), pooled by length: the same shapes recur across the chunks of a
/// Hessian and the iterations of a solver, and a fresh large array costs page faults.
[<AbstractClass; Sealed>]
type internal ExactBuffers =
    static let pools = ConcurrentDictionary<int, Pool<float[]>>()
    static do
        Gen2Trim.Start()
        // (emptied pools stay in the dictionary: removing one could race with a Give into it)
        PoolBudget.Register(fun all -> for kv in pools do kv.Value.Trim all)

    /// An array of exactly `length` doubles, contents unspecified.
    static member Rent(length: int) : float[] =
        let mutable a = null
        match pools.TryGetValue length with
        | true, p when p.TryTake(&a) -> a
        | _ -> Array.zeroCreate length

    /// An array of exactly `length` zeros.
    static member RentZeroed(length: int) : float[] =
        let a = ExactBuffers.Rent length
        Array.Clear a
        a

    /// Gives an array back for reuse (the caller must not use it afterwards).
    static member Return(a: float[]) =
        if not (isNull a) && a.Length >= 1024 then
            pools.GetOrAdd(a.Length, fun _ -> Pool<float[]>(8)).Give(a, 8L * int64 a.Length)
