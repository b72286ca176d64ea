namespace Hybrid.Kernel

open System
open System.Buffers
open System.Threading

/// Derivative storage for one sweep: per scalar slot and per vector-op element, `Width` doubles —
/// one per direction when a replay pushes several tangents at once (Hessian blocks), laid out
/// direction-fastest: slot i, direction j at i·Width + j; element e of an op buffer at e·Width + j.
/// (So the k tangents of an r×c matrix form a (k·r)×c column-major matrix, and those of a vector a
/// k×n one: matrix primitives push all k with one dgemm.) Op buffers are allocated on first touch,
/// so ops whose outputs never receive a derivative cost nothing.
[<Sealed; AllowNullLiteral>]
type internal Store(scalars: float[], opLengths: ResizeArray<int>, ownsScalars: bool, width: int) =
    let mutable scalars = scalars
    let mutable bufs: float[][] = Array.zeroCreate (max 4 opLengths.Count)
    let mutable direction = -1
    /// Ops whose buffers belong to another store (`Adopt`): never returned to the pool here.
    let mutable adopted: ResizeArray<int> = null
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
    member private _.Fit(op: int) =
        if op >= bufs.Length then
            let b = Array.zeroCreate (max (op + 1) (2 * bufs.Length))
            Array.Copy(bufs, b, bufs.Length)
            bufs <- b
    member private s.Alloc(op: int, zero: bool) : float[] =
        s.Fit op
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
    /// Where the derivatives of `r` live: the array and the index of r's first element (times Width
    /// in that array); an op buffer is allocated and zeroed on first use. With `Adopt`, another
    /// store reads and writes them in place.
    member s.Place(r: VecRef) : struct (float[] * int) =
        if r.Slot >= 0 then struct (scalars, r.Slot) else struct (s.Buffer r.Op, r.Offset)
    /// Makes `a` — another store's array, from its `Place`, of the same Width — op's buffer here,
    /// read and written in place; `Release` leaves it to its owner.
    member s.Adopt(op: int, a: float[]) =
        s.Fit op
        if not (isNull bufs[op]) then invalidOp "Hybrid internal error: Store.Adopt of an op buffer already in use."
        bufs[op] <- a
        if isNull adopted then adopted <- ResizeArray()
        adopted.Add op
    /// True when nothing was ever written for `r` (so its derivatives are all zero).
    member _.Untouched(r: VecRef) = r.Slot < 0 && (r.Op < 0 || r.Op >= bufs.Length || isNull bufs[r.Op])
    /// Returns pooled buffers (the op buffers, and the scalars when the store owns them).
    member _.Release() =
        if not (isNull adopted) then
            for op in adopted do bufs[op] <- null
            adopted.Clear()
        if ownsScalars then
            Buffers.Return scalars
            scalars <- null
        for i in 0 .. bufs.Length - 1 do
            if not (isNull bufs[i]) then
                Buffers.Return bufs[i]
                bufs[i] <- null
