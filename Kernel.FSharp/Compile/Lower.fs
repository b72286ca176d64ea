namespace Hybrid.Kernel

open System

/// A recording as the compiler's flat scalar tape: one scalar node per slot (kind Scalar, or
/// Input for an input or a constant), its argument slots, rule code and constant operands as
/// IrLog's, and where each slot of the trace went (`Slot`). A trace without vector primitives is
/// its own lowering (its arrays, no copy).
[<Sealed>]
type internal Lowered
    internal (count: int, kinds: NodeKind[], arg0: int[], arg1: int[], codes: int16[], k0: float[], k1: float[], map: int[], mats: MatNode[]) =
    member _.Count = count
    member _.Kinds = kinds
    member _.Arg0 = arg0
    member _.Arg1 = arg1
    /// IrLog's codes (possibly shorter than Count: a missing code is 0, not recorded).
    member _.Codes = codes
    member _.K0 = k0
    member _.K1 = k1
    /// The matrix nodes (slots of this tape), by Out.
    member _.Mats = mats
    /// The slot of the lowered tape that trace slot i stands for.
    member _.Slot(i: int) = if isNull map then i else map[i]

/// Lowers the vector primitives of a recording (elementwise maps and zips, broadcasts, slices,
/// element reads, Sum, Dot; the Mat ones are these on the matrix's storage) into scalar nodes,
/// fused and in iteration-major order; the structural gathers (Transpose, row and column sums,
/// Trace, Diag) into straight scalar code, emitted where they are recorded.
///
/// A *fused region* is a run of vector ops of one length n, in recording order, none of whose
/// operands depends on a value computed from the region itself (other than the whole, unshifted
/// output of an earlier elementwise member, read at the same element). It is lowered as an unrolled
/// loop: first a constant 0 per reduction (its seed), then for element i = 0 … n−1: element i of
/// every elementwise op (a Dot's product xᵢ·yᵢ included) in recording order, then each reduction's
/// running sum sᵢ = sᵢ₋₁ + eᵢ — the order of the eager `Vec.Sum` / `Vec.Dot` loops, so values agree
/// bitwise. Scalar code that reads a region's elements or sums while the region is still open is
/// emitted after it; an op that cannot join (another length, or an operand computed from the
/// region) closes the region and opens the next. A slice is a ref with an offset: no node; an
/// element read is the slot of that element: no node. A matrix primitive (product, solve,
/// Cholesky, LogDet), a custom rule or a linear map is not scalarised: it closes the open region
/// and becomes one `MatNode` whose operands are contiguous slot ranges (copy nodes where the
/// lowered elements are not) or constant data, and whose output is the next contiguous range of
/// slots.
module internal Lower =

    /// A constant operand vector (data y in a loss: `Vec.Dot(y, z)`, `(z − y)²`) of a region at least
    /// this long is lifted into a block of constant nodes before the region, read by its elements as
    /// slots (stride 1), so the region's loop body is the same every trip and rolls (the loop finder
    /// gives the block a data loop); shorter regions keep the values as the nodes' constants.
    let mutable DataMin = 16

    /// The primitive op stands for, for NotCompiledReason.
    let private describe (op: VecOp) =
        match op with
        | :? PrimNode as p ->
            match p.Prim with
            | :? CustomPrim -> sprintf "the custom rule %s" p.Prim.Name
            | q -> q.Name
        | o -> o.GetType().Name

    /// Growable arrays of lowered nodes.
    type private Tape(capacity: int) =
        let mutable kinds: NodeKind[] = Array.zeroCreate capacity
        let mutable a0: int[] = Array.zeroCreate capacity
        let mutable a1: int[] = Array.zeroCreate capacity
        let mutable codes: int16[] = Array.zeroCreate capacity
        let mutable k0: float[] = Array.zeroCreate capacity
        let mutable k1: float[] = Array.zeroCreate capacity
        let mutable count = 0
        member _.Count = count
        member _.Add(kind: NodeKind, x: int, y: int, code: int16, kx: float, ky: float) =
            if count = kinds.Length then
                let n = 2 * kinds.Length
                let grow (a: 'a[]) = (let b = Array.zeroCreate n in Array.Copy(a, b, count); b)
                kinds <- grow kinds
                a0 <- grow a0
                a1 <- grow a1
                codes <- grow codes
                k0 <- grow k0
                k1 <- grow k1
            let i = count
            kinds[i] <- kind
            a0[i] <- x
            a1[i] <- y
            codes[i] <- code
            k0[i] <- kx
            k1[i] <- ky
            count <- i + 1
            i
        member _.Result(map: int[], mats: MatNode[]) = Lowered(count, kinds, a0, a1, codes, k0, k1, map, mats)

    let private isReduction (v: IrVec) = v.Kind = IrVecKind.Sum || v.Kind = IrVecKind.Dot

    /// The lowered tape of trace t (recorded with log), or why it cannot be lowered.
    let run (t: Trace) (log: IrLog) : Choice<Lowered, string> =
        let count = t.Count
        if t.Ops.Count = 0 then Choice1Of2(Lowered(count, t.Kinds, t.Arg0, t.Arg1, log.Codes, log.K0, log.K1, null, Array.empty))
        else
            let codeOf (i: int) = if i < log.Codes.Length then log.Codes[i] else 0s
            let k0Of (i: int) = if i < log.K0.Length then log.K0[i] else 0.0
            let k1Of (i: int) = if i < log.K1.Length then log.K1[i] else 0.0
            // room for every node: an element of a map or zip is one, of a Dot two; a reduction's seed one
            let mutable size = int64 count
            for k in 0 .. t.Ops.Count - 1 do
                let v = log.Vec k
                size <- size + int64 v.N * (if v.Kind = IrVecKind.Dot then 2L else 1L) + (if isReduction v then 1L else 0L) + int64 v.Nnz
            let tape = Tape(int (min size (int64 Int32.MaxValue)) |> max 256)
            let map = Array.create count -1
            // trace slots whose lowered slot waits for the open region (its sums, its element reads,
            // and scalar code computed from them)
            let pending = Array.zeroCreate<bool> count
            let deferred = ResizeArray<int>()
            let nOps = t.Ops.Count
            let elems: int[][] = Array.zeroCreate nOps
            let regionOf = Array.create nOps -1
            let mutable region = 0
            let mutable len = -1 // the open region's length (−1: none open)
            let members = ResizeArray<int>() // op indices, in recording order
            let memberSlots = ResizeArray<int>() // their trace slots
            let mutable reason: string = null
            let mats = ResizeArray<MatNode>()

            let emit (i: int) =
                let kind = t.Kinds[i]
                let x = if kind = NodeKind.Scalar && t.Arg0[i] >= 0 then map[t.Arg0[i]] else -1
                let y = if kind = NodeKind.Scalar && t.Arg1[i] >= 0 then map[t.Arg1[i]] else -1
                map[i] <- tape.Add(kind, x, y, codeOf i, k0Of i, k1Of i)

            /// The lowered slot of element e of operand r (a length-1 r broadcasts).
            let elem (r: VecRef) (e: int) =
                let k = if r.Length = 1 then 0 else e
                if r.Slot >= 0 then map[r.Slot + k] else elems[r.Op][r.Offset + k]

            /// Binary node for element e of a zip or a dot's product (a constant side: slot −1 and its
            /// value, or the slot of its element in a lifted data block, `dx`/`dy`, when not null).
            let binary (v: IrVec) (code: int16) (e: int) (dx: int[]) (dy: int[]) =
                let side (r: VecRef) (ks: float[]) (d: int[]) =
                    if not (isNull d) then struct (d[e], 0.0)
                    elif r.IsNone then struct (-1, ks[if ks.Length = 1 then 0 else e]) else struct (elem r e, 0.0)
                let struct (x, kx) = side v.X v.XK dx
                let struct (y, ky) = side v.Y v.YK dy
                tape.Add(NodeKind.Scalar, x, y, code, kx, ky)

            /// True when a slot of slot-ref r waits for the open region.
            let anyPending (r: VecRef) =
                let mutable any = false
                for s in r.Slot .. r.Slot + r.Length - 1 do
                    if pending[s] then any <- true
                any

            /// True when operand r of an op joining the open region needs a value computed from it
            /// (anything but a whole, unshifted output of an elementwise member, read at the same element).
            let blocks (r: VecRef) =
                if r.IsNone then false
                elif r.Op >= 0 then regionOf[r.Op] = region && not (r.Offset = 0 && r.Length = len)
                else anyPending r

            /// True when some element of operand r waits for the open region.
            let readsOpen (r: VecRef) = if r.Op >= 0 then regionOf[r.Op] = region else anyPending r

            let add = IrLog.Binary + int16 Fun2.Add

            /// A gather's outputs, emitted at once: each the eager sum in pair order, its first term
            /// a copy (0 + x is x), an output without pairs a constant 0.
            let gather (v: IrVec) =
                let outs = Array.create v.N -1
                for p in 0 .. v.Nnz - 1 do
                    let o = v.OutIx p
                    let q = v.InIx p
                    let src = if v.X.Slot >= 0 then map[v.X.Slot + q] else elems[v.X.Op][v.X.Offset + q]
                    outs[o] <-
                        if outs[o] < 0 then tape.Add(NodeKind.Scalar, src, -1, IrLog.CopyCode, 0.0, 0.0)
                        else tape.Add(NodeKind.Scalar, outs[o], src, add, 0.0, 0.0)
                for o in 0 .. v.N - 1 do
                    if outs[o] < 0 then outs[o] <- tape.Add(NodeKind.Input, -1, -1, IrLog.ConstantCode, 0.0, 0.0)
                outs
            let close () =
                if len >= 0 then
                    let m = members.Count
                    let vs = Array.init m (fun q -> log.Vec members[q])
                    let ops = members.ToArray()
                    let sums = Array.create m -1
                    for q in 0 .. m - 1 do
                        if isReduction vs[q] then sums[q] <- tape.Add(NodeKind.Input, -1, -1, IrLog.ConstantCode, 0.0, 0.0)
                    let products = Array.create m -1
                    // data vectors as blocks of constant nodes (see DataMin)
                    let data (r: VecRef) (ks: float[]) =
                        if len >= DataMin && r.IsNone && not (isNull ks) && ks.Length = len then
                            Array.init len (fun e -> tape.Add(NodeKind.Input, -1, -1, IrLog.ConstantCode, ks[e], 0.0))
                        else null
                    let dxs = Array.init m (fun q -> let v = vs[q] in if v.Kind = IrVecKind.Zip || v.Kind = IrVecKind.Dot then data v.X v.XK else null)
                    let dys = Array.init m (fun q -> let v = vs[q] in if v.Kind = IrVecKind.Zip || v.Kind = IrVecKind.Dot then data v.Y v.YK else null)
                    for e in 0 .. len - 1 do
                        for q in 0 .. m - 1 do
                            let v = vs[q]
                            match v.Kind with
                            | IrVecKind.Map -> elems[ops[q]][e] <- tape.Add(NodeKind.Scalar, elem v.X e, -1, IrLog.Unary + v.Rule, v.C, 0.0)
                            | IrVecKind.Zip -> elems[ops[q]][e] <- binary v (IrLog.Binary + v.Rule) e dxs[q] dys[q]
                            | IrVecKind.Dot -> products[q] <- binary v (IrLog.Binary + v.Rule) e dxs[q] dys[q]
                            | _ -> ()
                        for q in 0 .. m - 1 do
                            let v = vs[q]
                            if v.Kind = IrVecKind.Sum then sums[q] <- tape.Add(NodeKind.Scalar, sums[q], elem v.X e, add, 0.0, 0.0)
                            elif v.Kind = IrVecKind.Dot then sums[q] <- tape.Add(NodeKind.Scalar, sums[q], products[q], add, 0.0, 0.0)
                    for q in 0 .. m - 1 do
                        if isReduction vs[q] then
                            map[memberSlots[q]] <- sums[q]
                            pending[memberSlots[q]] <- false
                    for i in deferred do
                        pending[i] <- false
                        if t.Kinds[i] = NodeKind.Element then map[i] <- elems[t.Arg0[i]][t.Arg1[i]]
                        else emit i
                    deferred.Clear()
                    members.Clear()
                    memberSlots.Clear()
                    len <- -1

            let mutable i = 0
            while i < count && isNull reason do
                match t.Kinds[i] with
                | NodeKind.Scalar ->
                    let x = t.Arg0[i]
                    let y = t.Arg1[i]
                    if (x >= 0 && pending[x]) || (y >= 0 && pending[y]) then
                        pending[i] <- true
                        deferred.Add i
                    else emit i
                | NodeKind.Element ->
                    let op = t.Arg0[i]
                    if len >= 0 && regionOf[op] = region then
                        pending[i] <- true
                        deferred.Add i
                    else map[i] <- elems[op][t.Arg1[i]]
                | NodeKind.Vector ->
                    let k = t.Arg0[i]
                    let v = log.Vec k
                    if v.Kind = IrVecKind.None || v.Kind = IrVecKind.MapDerivative || v.Kind = IrVecKind.ZipDerivative then
                        match (if v.Kind = IrVecKind.None then MatNodes.ofOp t.Ops[k] else ValueSome(MatNodes.ofDerivative v)) with
                        | ValueNone -> reason <- sprintf "it uses %s, which the compiler does not lower to scalar code yet" (describe t.Ops[k])
                        | ValueSome(struct (rule, refs, data)) ->
                            // a matrix primitive stays one node (MatNode.fs): its operands as contiguous
                            // slot ranges (copies where the lowered elements are not), its output the
                            // next OutLen slots; emitted in recording order (an open region first)
                            if len >= 0 then close ()
                            let operands =
                                refs |> Array.mapi (fun q r ->
                                    if r.IsNone then { First = -1; Length = data[q].Length; Data = data[q] }
                                    else
                                        let slots = Array.init r.Length (elem r)
                                        let mutable contiguous = true
                                        for e in 1 .. slots.Length - 1 do
                                            if slots[e] <> slots[0] + e then contiguous <- false
                                        let first =
                                            if contiguous && slots.Length > 0 then slots[0]
                                            else
                                                let f = tape.Count
                                                for s in slots do tape.Add(NodeKind.Scalar, s, -1, IrLog.CopyCode, 0.0, 0.0) |> ignore
                                                f
                                        { First = first; Length = r.Length; Data = null })
                            let o = t.Ops[k].Out
                            let first = tape.Count
                            for _ in 1 .. o.Length do tape.Add(NodeKind.Scalar, -1, -1, MatNode.Code, 0.0, 0.0) |> ignore
                            mats.Add(MatNode(rule, operands, first, o.Length))
                            if o.Slot >= 0 then map[i] <- first else elems[k] <- Array.init o.Length (fun e -> first + e)
                    elif v.Kind = IrVecKind.Gather then
                        if len >= 0 && readsOpen v.X then close ()
                        let outs = gather v
                        if t.Ops[k].Out.Slot >= 0 then map[i] <- outs[0] else elems[k] <- outs
                    else
                        if len >= 0 && (v.N <> len || blocks v.X || blocks v.Y) then close ()
                        if len < 0 then
                            len <- v.N
                            region <- region + 1
                        regionOf[k] <- region
                        members.Add k
                        memberSlots.Add i
                        if isReduction v then pending[i] <- true
                        else elems[k] <- Array.zeroCreate v.N
                | _ -> emit i
                i <- i + 1
            if not (isNull reason) then Choice2Of2 reason
            else
                close ()
                Choice1Of2(tape.Result(map, mats.ToArray()))
