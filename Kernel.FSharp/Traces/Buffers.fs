namespace Hybrid.Kernel

open System
open System.Collections.Concurrent

/// A process-wide pool of double buffers in power-of-two size classes. Vector results, partials
/// and adjoint buffers come from here and go back when their trace is reset, because in a VM a
/// fresh multi-megabyte array costs a page fault per 4 KB — more than the arithmetic on it.
/// (ArrayPool.Shared drops arrays this large.) Thread-safe; a rented buffer may be longer than asked.
[<AbstractClass; Sealed>]
type Buffers =
    static let classes = Array.init 40 (fun _ -> ConcurrentStack<float[]>())
    static let keepPerClass = 64 // a sliced function at large n holds ~20 same-size buffers at once

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
            if classes[c].TryPop(&a) then a else Array.zeroCreate (1 <<< c)

    /// A buffer of at least `length` doubles whose first `length` are zero.
    static member RentZeroed(length: int) : float[] =
        let a = Buffers.Rent length
        Array.Clear(a, 0, length)
        a

    /// Gives a buffer back (ignored if it is not a pooled size).
    static member Return(a: float[]) =
        if not (isNull a) && a.Length >= 16 && (a.Length &&& (a.Length - 1)) = 0 then
            let c = Buffers.ClassOf a.Length
            if classes[c].Count < keepPerClass then classes[c].Push a

/// Exact-length scratch arrays for BLAS calls (which take an array as a matrix only when its
/// length is exactly rows·cols), pooled by length: the same shapes recur across the chunks of a
/// Hessian and the iterations of a solver, and a fresh large array costs page faults.
[<AbstractClass; Sealed>]
type ExactBuffers =
    static let pools = ConcurrentDictionary<int, ConcurrentStack<float[]>>()
    static let keepPerLength = 8

    /// An array of exactly `length` doubles, contents unspecified.
    static member Rent(length: int) : float[] =
        let mutable a = null
        match pools.TryGetValue length with
        | true, s when s.TryPop(&a) -> a
        | _ -> Array.zeroCreate length

    /// An array of exactly `length` zeros.
    static member RentZeroed(length: int) : float[] =
        let a = ExactBuffers.Rent length
        Array.Clear a
        a

    /// Gives an array back for reuse (the caller must not use it afterwards).
    static member Return(a: float[]) =
        if not (isNull a) && a.Length >= 1024 then
            let s = pools.GetOrAdd(a.Length, fun _ -> ConcurrentStack<float[]>())
            if s.Count < keepPerLength then s.Push a
