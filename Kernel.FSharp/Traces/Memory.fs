namespace Hybrid.Kernel

open System
open System.Buffers
open System.Threading

/// The memory Hybrid keeps for reuse between transforms: pooled vector buffers, BLAS scratch and
/// recorded traces. Everything pooled counts against one limit (`PoolLimitBytes`), a trace that grew
/// large is pooled rather than kept by its thread, and whatever has sat unused for a second is given
/// back at the second full garbage collection after it; `Trim` gives everything back at once, for long-running
/// services after a large computation.
[<AbstractClass; Sealed>]
type Memory =
    /// Bytes held in Hybrid's budgeted pools: buffers of 512 KB and more, BLAS scratch and traces
    /// (small vector buffers are pooled by count alone, at most a few tens of MB, and only Trim empties them).
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
