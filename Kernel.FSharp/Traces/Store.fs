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
    /// Op buffers (Width 1) whose every element holds one number, `uniforms[op]`, not yet written
    /// out (`TrySetUniform`): a sum's adjoint, passed on by rules with constant partials.
    let mutable isUniform: bool[] = null
    let mutable uniforms: float[] = null
    /// Buffers given back by `Recycle`, reused by the next op buffer that fits.
    let mutable spare: ResizeArray<float[]> = null
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
    member private _.IsUniform(op: int) = not (isNull isUniform) && op >= 0 && op < isUniform.Length && isUniform[op]
    member private s.Alloc(op: int, zero: bool) : float[] =
        s.Fit op
        let b = bufs[op]
        if isNull b then
            let n = opLengths[op] * width
            let mutable b = null
            if not (isNull spare) then
                // the shortest spare buffer long enough
                let mutable best = -1
                for i in 0 .. spare.Count - 1 do
                    if spare[i].Length >= n && (best < 0 || spare[i].Length < spare[best].Length) then best <- i
                if best >= 0 then
                    b <- spare[best]
                    spare.RemoveAt best
            if isNull b then b <- Buffers.Rent n
            if s.IsUniform op then
                // written out on first use by a rule that does not read uniform adjoints
                isUniform[op] <- false
                Array.Fill(b, uniforms[op], 0, n)
            elif zero then Array.Clear(b, 0, n)
            bufs[op] <- b
            b
        else b
    /// When r is a whole op buffer of a Width-1 store that nothing has touched: records that each
    /// of its elements is v (no memory written) and returns true. Rules read it with `Uniform`;
    /// any other access writes it out first, so a rule that does not know uniform adjoints works.
    member s.TrySetUniform(r: VecRef, v: float) =
        if width = 1 && r.Slot < 0 && r.Op >= 0 && r.Offset = 0 && r.Length = opLengths[r.Op] && s.Untouched r then
            if isNull isUniform || r.Op >= isUniform.Length then
                let m = max (r.Op + 1) (max 4 opLengths.Count)
                let a = Array.zeroCreate m
                let u = Array.zeroCreate m
                if not (isNull isUniform) then
                    Array.Copy(isUniform, a, isUniform.Length)
                    Array.Copy(uniforms, u, uniforms.Length)
                isUniform <- a
                uniforms <- u
            isUniform[r.Op] <- true
            uniforms[r.Op] <- v
            true
        else false
    /// True, with the number in `v`, when every element of r is one number not written out
    /// (`TrySetUniform`).
    member s.Uniform(r: VecRef, v: byref<float>) =
        if r.Slot < 0 && r.Op >= 0 && s.IsUniform r.Op then
            v <- uniforms[r.Op]
            true
        else false
    /// Writes every uniform op buffer out (`TrySetUniform`), so that the store can then be read by
    /// several threads at once (a kept adjoint store, read by every Hvp replay of a tape).
    member s.WriteOutUniforms() =
        if not (isNull isUniform) then
            for op in 0 .. isUniform.Length - 1 do
                if isUniform[op] then s.Buffer op |> ignore
    /// Gives op's buffer back for the next op buffer of this store (the caller knows that nothing
    /// reads or writes op's derivatives any more: in a gradient sweep, once op's rule has run).
    member s.Recycle(op: int) =
        if op >= 0 && op < bufs.Length then
            if s.IsUniform op then isUniform[op] <- false
            let b = bufs[op]
            if not (isNull b) && (isNull adopted || not (adopted.Contains op)) then
                bufs[op] <- null
                if isNull spare then spare <- ResizeArray()
                spare.Add b
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
           && (r.Op >= bufs.Length || isNull bufs[r.Op]) && not (s.IsUniform r.Op) then
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
    member s.Untouched(r: VecRef) = r.Slot < 0 && (r.Op < 0 || (r.Op >= bufs.Length || isNull bufs[r.Op]) && not (s.IsUniform r.Op))
    /// Returns pooled buffers (the op buffers, and the scalars when the store owns them).
    member _.Release() =
        if not (isNull adopted) then
            for op in adopted do bufs[op] <- null
            adopted.Clear()
        if not (isNull isUniform) then Array.Clear isUniform
        if not (isNull spare) then
            for b in spare do Buffers.Return b
            spare.Clear()
        if ownsScalars then
            Buffers.Return scalars
            scalars <- null
        for i in 0 .. bufs.Length - 1 do
            if not (isNull bufs[i]) then
                Buffers.Return bufs[i]
                bufs[i] <- null
