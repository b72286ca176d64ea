namespace Hybrid.Kernel

open System
open System.Reflection
open System.Reflection.Emit

/// A compiled pass (or one chunk of it) over the workspace: values v, adjoints a, tangents s and
/// adjoint tangents at, as addresses of pinned double arrays (slot i at byte offset 8i).
type internal PassFn = delegate of nativeint * nativeint * nativeint * nativeint -> unit
/// A compiled check of (a chunk of) a path's guards over the values v: true when all hold.
type internal GuardFn = delegate of nativeint -> bool

/// Straight-line IL for a graph's passes, through DynamicMethod. Each pass is split into chunks of
/// `ChunkNodes` nodes (one method each), so every method stays small enough for the JIT to
/// optimise fully, and JIT time stays linear in the graph's size. The code is the interpreter's,
/// node by node, with the operand slots and constants folded in.
module internal Emit =

    /// Nodes per compiled method.
    let mutable ChunkNodes = 400
    /// Guards per compiled method.
    let ChunkGuards = 400

    let private kern (name: string) = typeof<Kern>.GetMethod(name, BindingFlags.Static ||| BindingFlags.Public ||| BindingFlags.NonPublic)
    // every row's value and partials are the row's own specialised methods (Rows.fs), called directly
    let private decide = kern "Decide"
    let private isNaN = typeof<Double>.GetMethod("IsNaN", [| typeof<float> |])
    let private ptrs = [| typeof<nativeint>; typeof<nativeint>; typeof<nativeint>; typeof<nativeint> |]

    // arguments of a pass
    let [<Literal>] private V = 0s
    let [<Literal>] private A = 1s
    let [<Literal>] private S = 2s
    let [<Literal>] private AT = 3s

    type private Locals = { W: LocalBuilder; Gt: LocalBuilder; D0: LocalBuilder; D1: LocalBuilder; H00: LocalBuilder; H01: LocalBuilder; H11: LocalBuilder }

    /// Where a method's code addresses slots. Straight-line code: every stride is 0 and slot i is
    /// at byte 8i. A loop body: slot `base + stride·t` is at byte 8·base + Off[stride], Off[stride]
    /// holding 8·stride·t (one local per stride, stepped once a trip). Held: the values (adjoints,
    /// tangents) of the chunk's or the trip's own nodes kept in locals, so the JIT holds them in
    /// registers instead of reloading what was just stored — slot s at stride HStride with
    /// s in [HFirst, HFirst + Held.Length) is Held[s − HFirst] (when not null), for argument HArg.
    ///
    /// In a loop body, Carry holds the previous trip's values of the nodes a trip reads back (operand
    /// base b in [First − Period, First) at stride Period: Carry[b]), so a carried accumulator stays
    /// in a register from trip to trip; Cache holds, for one trip, the adjoint of an operand slot
    /// (base, stride) the trip accumulates into more than once (or a carried one), loaded at the
    /// trip's start and stored at its end — the same sums in the same order, without a round trip
    /// through memory for each.
    type private Ctx =
        { Off: Collections.Generic.Dictionary<int, LocalBuilder>
          HArg: int16
          HFirst: int
          HStride: int
          Held: LocalBuilder[]
          Carry: Collections.Generic.Dictionary<int, LocalBuilder>
          Cache: Collections.Generic.Dictionary<struct (int * int), LocalBuilder> }

    let private straight (arg: int16) (first: int) (held: LocalBuilder[]) =
        { Off = Collections.Generic.Dictionary(); HArg = arg; HFirst = first; HStride = 0; Held = held
          Carry = Collections.Generic.Dictionary(); Cache = Collections.Generic.Dictionary() }

    let private heldAt (c: Ctx) (arg: int16) (slot: int) (stride: int) : LocalBuilder =
        if arg = c.HArg && stride = c.HStride && slot >= c.HFirst && slot < c.HFirst + c.Held.Length then c.Held[slot - c.HFirst]
        elif arg = c.HArg && stride = c.HStride && c.Carry.ContainsKey slot then c.Carry[slot]
        else null

    let private address (il: ILGenerator) (c: Ctx) (arg: int16) (slot: int) (stride: int) =
        il.Emit(OpCodes.Ldarg, arg)
        if stride <> 0 then
            il.Emit(OpCodes.Ldloc, c.Off[stride])
            il.Emit(OpCodes.Add)
        if slot > 0 then
            let bytes = int64 slot * 8L
            if bytes <= int64 Int32.MaxValue then il.Emit(OpCodes.Ldc_I4, int bytes)
            else
                il.Emit(OpCodes.Ldc_I8, bytes)
                il.Emit(OpCodes.Conv_I)
            il.Emit(OpCodes.Add)
    /// Slot `slot` (stride) of argument arg, from memory.
    let private load (il: ILGenerator) (c: Ctx) (arg: int16) (slot: int) (stride: int) =
        address il c arg slot stride
        il.Emit(OpCodes.Ldind_R8)
    /// Slot `slot` (stride) of argument arg, from the held locals when there.
    let private loadHeld (il: ILGenerator) (c: Ctx) (arg: int16) (slot: int) (stride: int) =
        let h = heldAt c arg slot stride
        if isNull h then load il c arg slot stride else il.Emit(OpCodes.Ldloc, h)
    /// The value of an operand: slot (stride), or the constant k when slot < 0.
    let private operand (il: ILGenerator) (c: Ctx) (slot: int) (stride: int) (k: float) =
        if slot >= 0 then loadHeld il c V slot stride else il.Emit(OpCodes.Ldc_R8, k)

    /// A node as code sees it: prototype I (whose code, constants and base operands it has), its own
    /// slot's stride and its operands' strides (all 0 in straight-line code; in a loop body, the
    /// body node First + j with stride Period and the loop's operand strides).
    [<Struct>]
    type private Site = { I: int; Stride: int; S0: int; S1: int }

    let private site (i: int) = { I = i; Stride = 0; S0 = 0; S1 = 0 }

    let private newMethod (name: string) (ret: Type) (args: Type[]) =
        DynamicMethod(name, ret, args, typeof<Kern>.Module, true)

    let private locals (il: ILGenerator) =
        let d () = il.DeclareLocal(typeof<float>)
        { W = d (); Gt = d (); D0 = d (); D1 = d (); H00 = d (); H01 = d (); H11 = d () }

    /// First partials of node n into D0, D1 (as Interpreter.partials).
    let private partials (il: ILGenerator) (l: Locals) (c: Ctx) (g: Graph) (n: Site) =
        let i = n.I
        let code = g.Code[i]
        let set (loc: LocalBuilder) (x: float) =
            il.Emit(OpCodes.Ldc_R8, x)
            il.Emit(OpCodes.Stloc, loc)
        let op0 () = operand il c g.A0[i] n.S0 g.K0[i]
        let op1 () = operand il c g.A1[i] n.S1 g.K1[i]
        if code = IrLog.CopyCode then
            set l.D0 1.0
            set l.D1 0.0
        elif code >= IrLog.Binary then
            let f = enum<Fun2> (int (code - IrLog.Binary))
            match f with
            | Fun2.Add -> set l.D0 1.0; set l.D1 1.0
            | Fun2.Sub -> set l.D0 1.0; set l.D1 -1.0
            | Fun2.Mul ->
                op1 ()
                il.Emit(OpCodes.Stloc, l.D0)
                op0 ()
                il.Emit(OpCodes.Stloc, l.D1)
            | _ ->
                op0 ()
                op1 ()
                loadHeld il c V i n.Stride
                il.Emit(OpCodes.Ldloca, l.D0)
                il.Emit(OpCodes.Ldloca, l.D1)
                il.Emit(OpCodes.Call, Rows.partials2 f)
        else
            match enum<Fun1> (int (code - IrLog.Unary)) with
            // the table's rows written out (Interpreter.partials has the same): no call through its match
            | Fun1.Neg -> set l.D0 -1.0
            | Fun1.Square ->
                // 2x (at a NaN x, a NaN as the row's NaN rule gives)
                il.Emit(OpCodes.Ldc_R8, 2.0)
                op0 ()
                il.Emit(OpCodes.Mul)
                il.Emit(OpCodes.Stloc, l.D0)
            | f ->
                il.Emit(OpCodes.Ldc_R8, g.K0[i])
                op0 ()
                loadHeld il c V i n.Stride
                il.Emit(OpCodes.Call, Rows.d1 f)
                il.Emit(OpCodes.Stloc, l.D0)
            set l.D1 0.0

    /// Second partials of node n, times the adjoint W, into H00, H01, H11 (as Interpreter.hessian).
    let private hessian (il: ILGenerator) (l: Locals) (c: Ctx) (g: Graph) (n: Site) =
        let i = n.I
        let code = g.Code[i]
        let zero (loc: LocalBuilder) =
            il.Emit(OpCodes.Ldc_R8, 0.0)
            il.Emit(OpCodes.Stloc, loc)
        zero l.H00
        zero l.H01
        zero l.H11
        // the rows of +, −, × and of −x, x² written out, as Interpreter.hessian (their constants:
        // no call); every other row by its own specialised method
        if code >= IrLog.Binary then
            match enum<Fun2> (int (code - IrLog.Binary)) with
            | Fun2.Add | Fun2.Sub -> ()
            | Fun2.Mul ->
                il.Emit(OpCodes.Ldc_R8, 1.0)
                il.Emit(OpCodes.Stloc, l.H01)
            | f ->
                operand il c g.A0[i] n.S0 g.K0[i]
                operand il c g.A1[i] n.S1 g.K1[i]
                loadHeld il c V i n.Stride
                il.Emit(OpCodes.Ldloc, l.D0)
                il.Emit(OpCodes.Ldloc, l.D1)
                il.Emit(OpCodes.Ldloca, l.H00)
                il.Emit(OpCodes.Ldloca, l.H01)
                il.Emit(OpCodes.Ldloca, l.H11)
                il.Emit(OpCodes.Call, Rows.hessian2 f)
        elif code >= IrLog.Unary then
            match enum<Fun1> (int (code - IrLog.Unary)) with
            | Fun1.Neg -> ()
            | Fun1.Square ->
                // 2, or the NaN value (the row's NaN rule)
                let two = il.DefineLabel()
                let fin = il.DefineLabel()
                loadHeld il c V i n.Stride
                il.Emit(OpCodes.Call, isNaN)
                il.Emit(OpCodes.Brfalse, two)
                loadHeld il c V i n.Stride
                il.Emit(OpCodes.Stloc, l.H00)
                il.Emit(OpCodes.Br, fin)
                il.MarkLabel two
                il.Emit(OpCodes.Ldc_R8, 2.0)
                il.Emit(OpCodes.Stloc, l.H00)
                il.MarkLabel fin
            | f ->
                il.Emit(OpCodes.Ldc_R8, g.K0[i])
                operand il c g.A0[i] n.S0 g.K0[i]
                loadHeld il c V i n.Stride
                il.Emit(OpCodes.Ldloc, l.D0)
                il.Emit(OpCodes.Call, Rows.d2 f)
                il.Emit(OpCodes.Stloc, l.H00)
        for h in [ l.H00; l.H01; l.H11 ] do
            il.Emit(OpCodes.Ldloc, h)
            il.Emit(OpCodes.Ldloc, l.W)
            il.Emit(OpCodes.Mul)
            il.Emit(OpCodes.Stloc, h)

    let private valueOf (il: ILGenerator) (c: Ctx) (g: Graph) (n: Site) =
        let i = n.I
        let code = g.Code[i]
        let arg0 () = operand il c g.A0[i] n.S0 g.K0[i]
        if code >= IrLog.Binary then
            let f = enum<Fun2> (int (code - IrLog.Binary))
            let ops () =
                arg0 ()
                operand il c g.A1[i] n.S1 g.K1[i]
            match f with
            | Fun2.Add -> ops (); il.Emit(OpCodes.Add)
            | Fun2.Sub -> ops (); il.Emit(OpCodes.Sub)
            | Fun2.Mul -> ops (); il.Emit(OpCodes.Mul)
            | Fun2.Div -> ops (); il.Emit(OpCodes.Div)
            | _ ->
                ops ()
                il.Emit(OpCodes.Call, Rows.value2 f)
        elif code >= IrLog.Unary then
            let f = enum<Fun1> (int (code - IrLog.Unary))
            match f with
            | Fun1.Neg ->
                arg0 ()
                il.Emit(OpCodes.Neg)
            | Fun1.Square ->
                arg0 ()
                il.Emit(OpCodes.Dup)
                il.Emit(OpCodes.Mul)
            | _ ->
                il.Emit(OpCodes.Ldc_R8, g.K0[i])
                arg0 ()
                il.Emit(OpCodes.Call, Rows.value1 f)
        elif code = IrLog.CopyCode then arg0 ()
        else il.Emit(OpCodes.Ldc_R8, g.K0[i])

    /// A method over one piece of a pass. Straight-line [first, last]: `body` once per node, in
    /// order or descending. A loop: one IL loop whose counter t runs up (or down, `descending`),
    /// the offsets of the strides stepped with it, `trip` emitting the body once.
    let private straightMethod (name: string) (size: int) (emit: ILGenerator -> unit) : PassFn =
        let m = newMethod name null ptrs
        let il = m.GetILGenerator(size)
        emit il
        il.Emit(OpCodes.Ret)
        m.CreateDelegate(typeof<PassFn>) :?> PassFn

    /// The distinct non-zero strides of a loop's slots (its nodes' own, Period, and its operands').
    let private stridesOf (lp: Loop) =
        seq { yield lp.Period; yield! lp.Stride0; yield! lp.Stride1 } |> Seq.filter (fun s -> s <> 0) |> Seq.distinct |> Array.ofSeq

    /// An IL loop over the trips of lp inside the method being emitted: declares the stride offsets
    /// (in c.Off), and emits `trip` once as the loop's body.
    /// (With code before the loop, offsets set; at the end of each trip; and after the loop.)
    let private loopWith (il: ILGenerator) (c: Ctx) (lp: Loop) (strides: int[]) (descending: bool)
                          (before: unit -> unit) (trip: unit -> unit) (tripEnd: unit -> unit) (after: unit -> unit) =
        let t = il.DeclareLocal(typeof<int>)
        for s in strides do
            let off = il.DeclareLocal(typeof<nativeint>)
            c.Off[s] <- off
            il.Emit(OpCodes.Ldc_I8, (if descending then int64 (lp.Trips - 1) * int64 s * 8L else 0L))
            il.Emit(OpCodes.Conv_I)
            il.Emit(OpCodes.Stloc, off)
        il.Emit(OpCodes.Ldc_I4, (if descending then lp.Trips - 1 else 0))
        il.Emit(OpCodes.Stloc, t)
        before ()
        let top = il.DefineLabel()
        il.MarkLabel top
        trip ()
        tripEnd ()
        for s in strides do
            let off = c.Off[s]
            il.Emit(OpCodes.Ldloc, off)
            il.Emit(OpCodes.Ldc_I4, (if descending then -s * 8 else s * 8))
            il.Emit(OpCodes.Add)
            il.Emit(OpCodes.Stloc, off)
        il.Emit(OpCodes.Ldloc, t)
        il.Emit(OpCodes.Ldc_I4, (if descending then -1 else 1))
        il.Emit(OpCodes.Add)
        il.Emit(OpCodes.Dup)
        il.Emit(OpCodes.Stloc, t)
        if descending then
            il.Emit(OpCodes.Ldc_I4_0)
            il.Emit(OpCodes.Bge, top)
        else
            il.Emit(OpCodes.Ldc_I4, lp.Trips)
            il.Emit(OpCodes.Blt, top)
        after ()

    let private loopOver (il: ILGenerator) (c: Ctx) (lp: Loop) (strides: int[]) (descending: bool) (trip: unit -> unit) =
        loopWith il c lp strides descending ignore trip ignore ignore

    /// The body nodes a trip reads back from the previous trip (operand bases in [First − Period,
    /// First) at stride Period), as bases.
    let private carriedBases (g: Graph) (lp: Loop) =
        [| for j in 0 .. lp.Period - 1 do
            let b = lp.First + j
            if g.A0[b] >= lp.First - lp.Period && g.A0[b] < lp.First && lp.Stride0[j] = lp.Period then yield g.A0[b]
            if g.A1[b] >= lp.First - lp.Period && g.A1[b] < lp.First && lp.Stride1[j] = lp.Period then yield g.A1[b] |]
        |> Array.distinct

    /// A forward-style loop (values or tangents of argument arg): the carried nodes' values in
    /// registers — read from memory before the loop (the node before it), copied from the trip's
    /// held values at each trip's end.
    let private forwardLoop (il: ILGenerator) (c: Ctx) (g: Graph) (lp: Loop) (node: int -> unit) =
        let carried = carriedBases g lp
        for b in carried do c.Carry[b] <- il.DeclareLocal(typeof<float>)
        loopWith il c lp (stridesOf lp) false
            (fun () ->
                for b in carried do
                    load il c c.HArg b 0
                    il.Emit(OpCodes.Stloc, c.Carry[b]))
            (fun () -> for j in 0 .. lp.Period - 1 do node j)
            (fun () ->
                for b in carried do
                    il.Emit(OpCodes.Ldloc, c.Held[b + lp.Period - lp.First])
                    il.Emit(OpCodes.Stloc, c.Carry[b]))
            ignore

    /// A body node of lp as a site.
    let private bodySite (lp: Loop) (j: int) = { I = lp.First + j; Stride = lp.Period; S0 = lp.Stride0[j]; S1 = lp.Stride1[j] }

    /// The pieces of a pass over g: chunks of at most ChunkNodes straight-line nodes, and loops.
    let private passPieces (g: Graph) (loops: Loop[]) =
        [| for p in Loops.pieces g.N g.Count loops do
            match p with
            | Choice1Of2(struct (first, last)) ->
                for a in first .. ChunkNodes .. last -> Choice1Of2(struct (a, min last (a + ChunkNodes - 1)))
            | Choice2Of2 lp -> yield Choice2Of2 lp |]

    /// One pass's methods, piece by piece: `chunk il first last` emits a straight-line chunk, `loop
    /// il lp` a loop's whole method body.
    let private build (name: string) (g: Graph) (loops: Loop[]) (bytesPerNode: int)
                      (chunk: ILGenerator -> int -> int -> unit) (loop: ILGenerator -> Loop -> unit) : PassFn[] =
        passPieces g loops |> Array.map (fun p ->
            match p with
            | Choice1Of2(struct (first, last)) -> straightMethod name ((last - first + 1) * bytesPerNode + 16) (fun il -> chunk il first last)
            | Choice2Of2 lp -> straightMethod (name + ".Loop") (lp.Period * bytesPerNode + 128) (fun il -> loop il lp))

    let private heldLocals (il: ILGenerator) (count: int) = Array.init count (fun _ -> il.DeclareLocal(typeof<float>))

    /// The values of every node, piece by piece in order.
    let forward (g: Graph) (loops: Loop[]) : PassFn[] =
        let node (il: ILGenerator) (c: Ctx) (n: Site) =
            address il c V n.I n.Stride
            valueOf il c g n
            il.Emit(OpCodes.Dup)
            il.Emit(OpCodes.Stloc, c.Held[n.I - c.HFirst])
            il.Emit(OpCodes.Stind_R8)
        build "Hybrid.Compiled.Forward" g loops 40
            (fun il first last ->
                let c = straight V first (heldLocals il (last - first + 1))
                for i in first .. last do node il c (site i))
            (fun il lp ->
                let c = { straight V lp.First (heldLocals il lp.Period) with HStride = lp.Period }
                forwardLoop il c g lp (fun j -> node il c (bodySite lp j)))

    /// The guards, in pieces (chunks of ChunkGuards, and loops over periodic runs of guards); each
    /// returns false at the first that fails.
    let guards (g: Graph) (loops: Loop[]) : GuardFn[] =
        let q = g.Guards
        let check (il: ILGenerator) (c: Ctx) (fail: Label) (k: int) (sa: int) (sb: int) =
            let x = q[k]
            il.Emit(OpCodes.Ldc_I4, int x.Decision)
            operand il c x.SlotA sa x.ConstA
            operand il c x.SlotB sb x.ConstB
            il.Emit(OpCodes.Call, decide)
            il.Emit(OpCodes.Ldc_I4, x.Outcome)
            il.Emit(OpCodes.Bne_Un, fail)
        let guardMethod (emit: ILGenerator -> Label -> unit) =
            let m = newMethod "Hybrid.Compiled.Guards" typeof<bool> [| typeof<nativeint> |]
            let il = m.GetILGenerator()
            let fail = il.DefineLabel()
            emit il fail
            il.Emit(OpCodes.Ldc_I4_1)
            il.Emit(OpCodes.Ret)
            il.MarkLabel fail
            il.Emit(OpCodes.Ldc_I4_0)
            il.Emit(OpCodes.Ret)
            m.CreateDelegate(typeof<GuardFn>) :?> GuardFn
        [| for p in Loops.pieces 0 q.Length loops do
            match p with
            | Choice1Of2(struct (first, last)) ->
                for a in first .. ChunkGuards .. last ->
                    guardMethod (fun il fail ->
                        let c = straight V 0 [||]
                        for k in a .. min last (a + ChunkGuards - 1) do check il c fail k 0 0)
            | Choice2Of2 lp ->
                yield guardMethod (fun il fail ->
                    let c = straight V 0 [||]
                    // (a guard loop's Period counts guards, not slots: only its operands' strides move)
                    loopOver il c lp (Array.append lp.Stride0 lp.Stride1 |> Array.filter (fun s -> s <> 0) |> Array.distinct)
                        false (fun () -> for j in 0 .. lp.Period - 1 do check il c fail (lp.First + j) lp.Stride0[j] lp.Stride1[j])) |]

    /// The adjoint sweep, pieces in reverse order (run them from the last). A chunk (a loop's trip)
    /// keeps its own nodes' adjoints in locals (loaded once: what later pieces, trips and the seed put
    /// there), adds into other slots in memory, and — with `keep`, for the second-order passes over
    /// the tape, which read them — writes each back when its node's turn comes (without, only the
    /// inputs' adjoints, the gradient, are left in memory complete).
    let reverse (g: Graph) (loops: Loop[]) (keep: bool) : PassFn[] =
        let node (il: ILGenerator) (l: Locals) (c: Ctx) (n: Site) =
            let i = n.I
            let code = g.Code[i]
            let held = c.Held[i - c.HFirst]
            if keep then
                address il c A i n.Stride
                il.Emit(OpCodes.Ldloc, held)
                il.Emit(OpCodes.Stind_R8)
            if code <> IrLog.ConstantCode then
                let skip = il.DefineLabel()
                il.Emit(OpCodes.Ldloc, held)
                il.Emit(OpCodes.Stloc, l.W)
                // a zero adjoint is a symbolic zero (it must not meet an infinite partial); where the
                // partials are the constants 1 and ±1 (+, −, copies) 0·d adds exactly 0, so no test
                if not (code = IrLog.CopyCode || code = IrLog.Binary + int16 Fun2.Add || code = IrLog.Binary + int16 Fun2.Sub) then
                    il.Emit(OpCodes.Ldloc, l.W)
                    il.Emit(OpCodes.Ldc_R8, 0.0)
                    il.Emit(OpCodes.Beq, skip)
                partials il l c g n
                let accumulate (j: int) (stride: int) (d: LocalBuilder) =
                    if j >= 0 then
                        let lj = heldAt c A j stride
                        let lj = if isNull lj then (match c.Cache.TryGetValue(struct (j, stride)) with | true, x -> x | _ -> null) else lj
                        if not (isNull lj) then
                            // a[j] + d·w, held
                            il.Emit(OpCodes.Ldloc, lj)
                            il.Emit(OpCodes.Ldloc, d)
                            il.Emit(OpCodes.Ldloc, l.W)
                            il.Emit(OpCodes.Mul)
                            il.Emit(OpCodes.Add)
                            il.Emit(OpCodes.Stloc, lj)
                        else
                            address il c A j stride
                            load il c A j stride
                            il.Emit(OpCodes.Ldloc, d)
                            il.Emit(OpCodes.Ldloc, l.W)
                            il.Emit(OpCodes.Mul)
                            il.Emit(OpCodes.Add)
                            il.Emit(OpCodes.Stind_R8)
                accumulate g.A0[i] n.S0 l.D0
                accumulate g.A1[i] n.S1 l.D1
                il.MarkLabel skip
        let loadHeldAdjoints (il: ILGenerator) (c: Ctx) (stride: int) =
            for k in 0 .. c.Held.Length - 1 do
                load il c A (c.HFirst + k) stride
                il.Emit(OpCodes.Stloc, c.Held[k])
        build "Hybrid.Compiled.Reverse" g loops 96
            (fun il first last ->
                let l = locals il
                let c = straight A first (heldLocals il (last - first + 1))
                loadHeldAdjoints il c 0
                for i = last downto first do node il l c (site i))
            (fun il lp ->
                let l = locals il
                let c = { straight A lp.First (heldLocals il lp.Period) with HStride = lp.Period }
                let p = lp.Period
                // the operand sites (base, stride) of the body, with how often a trip accumulates into each
                let sites =
                    [ for j in 0 .. p - 1 do
                        let b = lp.First + j
                        if g.A0[b] >= 0 then struct (g.A0[b], lp.Stride0[j])
                        if g.A1[b] >= 0 then struct (g.A1[b], lp.Stride1[j]) ]
                let isHeld (struct (b, st)) = st = p && b >= lp.First && b < lp.First + p
                let isCarried (struct (b, st)) = st = p && b >= lp.First - p && b < lp.First
                let every = List.distinct (sites @ [ for j in 0 .. p - 1 -> struct (lp.First + j, p) ])
                // another site reaching the same slot in the same trip would interleave its sums
                let conflicts (struct (b1, s1)) =
                    every |> List.exists (fun (struct (b2, s2)) ->
                        s1 <> s2 && (b2 - b1) % (s1 - s2) = 0 && (let t = (b2 - b1) / (s1 - s2) in t >= 0 && t < lp.Trips))
                let cached =
                    sites |> List.countBy id
                    |> List.filter (fun (site, k) -> not (isHeld site) && (k >= 2 || isCarried site) && not (conflicts site))
                    |> List.map fst
                for site in cached do c.Cache[site] <- il.DeclareLocal(typeof<float>)
                // a carried site's sums pass to the previous trip's held adjoint in a register
                let carried = cached |> List.filter isCarried
                let carryIn = carried |> List.map (fun (struct (b, _)) -> b, il.DeclareLocal(typeof<float>)) |> dict
                let heldFromCarry = Collections.Generic.HashSet(carried |> List.map (fun (struct (b, _)) -> b + p - lp.First))
                loopWith il c lp (stridesOf lp) true
                    (fun () ->
                        // the last trip's carried nodes, as the pieces after the loop left them
                        for KeyValue(b, l) in carryIn do
                            load il c A (b + p) p
                            il.Emit(OpCodes.Stloc, l))
                    (fun () ->
                        for k in 0 .. p - 1 do
                            if heldFromCarry.Contains k then il.Emit(OpCodes.Ldloc, carryIn[lp.First - p + k])
                            else load il c A (lp.First + k) p
                            il.Emit(OpCodes.Stloc, c.Held[k])
                        for site in cached do
                            let struct (b, st) = site
                            load il c A b st
                            il.Emit(OpCodes.Stloc, c.Cache[site])
                        for j = p - 1 downto 0 do node il l c (bodySite lp j))
                    (fun () ->
                        for site in cached do
                            let struct (b, st) = site
                            if isCarried site then
                                il.Emit(OpCodes.Ldloc, c.Cache[site])
                                il.Emit(OpCodes.Stloc, carryIn[b])
                            else
                                address il c A b st
                                il.Emit(OpCodes.Ldloc, c.Cache[site])
                                il.Emit(OpCodes.Stind_R8))
                    (fun () ->
                        // trip 0's carried sites are the nodes before the loop
                        for KeyValue(b, l) in carryIn do
                            address il c A b 0
                            il.Emit(OpCodes.Ldloc, l)
                            il.Emit(OpCodes.Stind_R8)))

    /// The tangent pass, pieces in order (tangents of a chunk's or a trip's own nodes held in locals).
    let tangent (g: Graph) (loops: Loop[]) : PassFn[] =
        let node (il: ILGenerator) (l: Locals) (c: Ctx) (n: Site) =
            let i = n.I
            address il c S i n.Stride
            if g.Code[i] = IrLog.ConstantCode then il.Emit(OpCodes.Ldc_R8, 0.0)
            else
                partials il l c g n
                let term (j: int) (stride: int) (d: LocalBuilder) =
                    if j >= 0 then
                        il.Emit(OpCodes.Ldloc, d)
                        loadHeld il c S j stride
                        il.Emit(OpCodes.Mul)
                    else il.Emit(OpCodes.Ldc_R8, 0.0)
                term g.A0[i] n.S0 l.D0
                term g.A1[i] n.S1 l.D1
                il.Emit(OpCodes.Add)
            il.Emit(OpCodes.Dup)
            il.Emit(OpCodes.Stloc, c.Held[i - c.HFirst])
            il.Emit(OpCodes.Stind_R8)
        build "Hybrid.Compiled.Tangent" g loops 64
            (fun il first last ->
                let l = locals il
                let c = straight S first (heldLocals il (last - first + 1))
                for i in first .. last do node il l c (site i))
            (fun il lp ->
                let l = locals il
                let c = { straight S lp.First (heldLocals il lp.Period) with HStride = lp.Period }
                forwardLoop il c g lp (fun j -> node il l c (bodySite lp j)))

    /// The adjoint-tangent pass, pieces in reverse order (run them from the last).
    let reverseTangent (g: Graph) (loops: Loop[]) : PassFn[] =
        let node (il: ILGenerator) (l: Locals) (c: Ctx) (n: Site) =
            let i = n.I
            if g.Code[i] <> IrLog.ConstantCode then
                let skip = il.DefineLabel()
                let go = il.DefineLabel()
                load il c A i n.Stride
                il.Emit(OpCodes.Stloc, l.W)
                load il c AT i n.Stride
                il.Emit(OpCodes.Stloc, l.Gt)
                il.Emit(OpCodes.Ldloc, l.W)
                il.Emit(OpCodes.Ldc_R8, 0.0)
                il.Emit(OpCodes.Bne_Un, go)
                il.Emit(OpCodes.Ldloc, l.Gt)
                il.Emit(OpCodes.Ldc_R8, 0.0)
                il.Emit(OpCodes.Beq, skip)
                il.MarkLabel go
                partials il l c g n
                hessian il l c g n
                let j = g.A0[i]
                let k = g.A1[i]
                let product (h: LocalBuilder) (slot: int) (stride: int) =
                    il.Emit(OpCodes.Ldloc, h)
                    load il c S slot stride
                    il.Emit(OpCodes.Mul)
                let cross (other: int) (stride: int) =
                    if other >= 0 then product l.H01 other stride else il.Emit(OpCodes.Ldc_R8, 0.0)
                let start (slot: int) (stride: int) (d: LocalBuilder) =
                    address il c AT slot stride
                    load il c AT slot stride
                    il.Emit(OpCodes.Ldloc, d)
                    il.Emit(OpCodes.Ldloc, l.Gt)
                    il.Emit(OpCodes.Mul)
                    il.Emit(OpCodes.Add)
                if j >= 0 then
                    // at[j] + d0·gt + h00·s[j] + cross
                    start j n.S0 l.D0
                    product l.H00 j n.S0
                    il.Emit(OpCodes.Add)
                    cross k n.S1
                    il.Emit(OpCodes.Add)
                    il.Emit(OpCodes.Stind_R8)
                if k >= 0 then
                    // at[k] + d1·gt + cross + h11·s[k]
                    start k n.S1 l.D1
                    cross j n.S0
                    il.Emit(OpCodes.Add)
                    product l.H11 k n.S1
                    il.Emit(OpCodes.Add)
                    il.Emit(OpCodes.Stind_R8)
                il.MarkLabel skip
        build "Hybrid.Compiled.ReverseTangent" g loops 160
            (fun il first last ->
                let l = locals il
                let c = straight AT first [||]
                for i = last downto first do node il l c (site i))
            (fun il lp ->
                let l = locals il
                let c = { straight AT lp.First [||] with HStride = lp.Period }
                loopOver il c lp (stridesOf lp) true (fun () -> for j = lp.Period - 1 downto 0 do node il l c (bodySite lp j)))

    // ------------------------------------------------------------- second order: the joint passes

    /// forwardLoop for several arguments at once (values and tangents): each context's carried
    /// nodes in registers. The contexts share one Off (the loop's stride offsets).
    let private forwardLoopOf (il: ILGenerator) (cs: Ctx list) (g: Graph) (lp: Loop) (node: int -> unit) =
        let carried = carriedBases g lp
        for c in cs do
            for b in carried do c.Carry[b] <- il.DeclareLocal(typeof<float>)
        loopWith il (List.head cs) lp (stridesOf lp) false
            (fun () ->
                for c in cs do
                    for b in carried do
                        load il c c.HArg b 0
                        il.Emit(OpCodes.Stloc, c.Carry[b]))
            (fun () -> for j in 0 .. lp.Period - 1 do node j)
            (fun () ->
                for c in cs do
                    for b in carried do
                        il.Emit(OpCodes.Ldloc, c.Held[b + lp.Period - lp.First])
                        il.Emit(OpCodes.Stloc, c.Carry[b]))
            ignore

    /// The nodes whose values a forward-style pass must leave in memory when afterwards only the
    /// outputs and the guards are read: those, and every operand some node reads from memory — in
    /// another chunk, a loop's carried node before its first trip, a slot a loop reads at another
    /// stride. A loop body node is kept when any of its trips is (one store serves every trip).
    let private readFromMemory (g: Graph) (loops: Loop[]) : bool[] =
        let need = Array.zeroCreate<bool> g.Count
        for o in g.Outputs do
            if o >= 0 then need[o] <- true
        for q in g.Guards do
            if q.SlotA >= 0 then need[q.SlotA] <- true
            if q.SlotB >= 0 then need[q.SlotB] <- true
        let pieces = passPieces g loops
        for p in pieces do
            match p with
            | Choice1Of2(struct (first, last)) ->
                for i in first .. last do
                    for j in [ g.A0[i]; g.A1[i] ] do
                        if j >= 0 && (j < first || j > last) then need[j] <- true
            | Choice2Of2 lp ->
                for jj in 0 .. lp.Period - 1 do
                    let b = lp.First + jj
                    for (ob, st) in [ g.A0[b], lp.Stride0[jj]; g.A1[b], lp.Stride1[jj] ] do
                        if ob >= 0 then
                            let inTrip = st = lp.Period && ob >= lp.First && ob < lp.First + lp.Period
                            let carried = st = lp.Period && ob >= lp.First - lp.Period && ob < lp.First
                            if carried then need[ob] <- true // trip 0's, from memory; later trips' in registers
                            elif not inTrip then
                                for t in 0 .. lp.Trips - 1 do need[ob + st * t] <- true
        for p in pieces do
            match p with
            | Choice2Of2 lp ->
                for jj in 0 .. lp.Period - 1 do
                    let mutable any = false
                    for t in 0 .. lp.Trips - 1 do
                        if need[lp.First + jj + lp.Period * t] then any <- true
                    if any then
                        for t in 0 .. lp.Trips - 1 do need[lp.First + jj + lp.Period * t] <- true
            | _ -> ()
        need

    /// Jvp's pass: values and tangents in one pass, pieces in order (the forward pass and the
    /// tangent pass fused): each node's value, then its tangent from its first partials (the row's
    /// own code), both held in locals for the rest of the chunk or trip — one visit per node, the
    /// same numbers as `forward` then `tangent`; and only the values and tangents read afterwards
    /// are stored (`readFromMemory`: the outputs', the guards' operands, what other pieces read).
    /// s[0 .. N−1] seeded by the caller.
    let forwardTangent (g: Graph) (loops: Loop[]) : PassFn[] =
        let stored = readFromMemory g loops
        let node (il: ILGenerator) (l: Locals) (cv: Ctx) (cs: Ctx) (n: Site) =
            let i = n.I
            let keep = stored[i]
            if keep then address il cv V i n.Stride
            valueOf il cv g n
            if keep then il.Emit(OpCodes.Dup)
            il.Emit(OpCodes.Stloc, cv.Held[i - cv.HFirst])
            if keep then il.Emit(OpCodes.Stind_R8)
            if keep then address il cs S i n.Stride
            if g.Code[i] = IrLog.ConstantCode then il.Emit(OpCodes.Ldc_R8, 0.0)
            else
                partials il l cv g n
                let term (j: int) (stride: int) (d: LocalBuilder) =
                    if j >= 0 then
                        il.Emit(OpCodes.Ldloc, d)
                        loadHeld il cs S j stride
                        il.Emit(OpCodes.Mul)
                    else il.Emit(OpCodes.Ldc_R8, 0.0)
                term g.A0[i] n.S0 l.D0
                term g.A1[i] n.S1 l.D1
                il.Emit(OpCodes.Add)
            if keep then il.Emit(OpCodes.Dup)
            il.Emit(OpCodes.Stloc, cs.Held[i - cs.HFirst])
            if keep then il.Emit(OpCodes.Stind_R8)
        let pair (il: ILGenerator) (first: int) (count: int) (stride: int) =
            let cv = { straight V first (heldLocals il count) with HStride = stride }
            cv, { cv with HArg = S; Held = heldLocals il count; Carry = Collections.Generic.Dictionary() }
        build "Hybrid.Compiled.ForwardTangent" g loops 104
            (fun il first last ->
                let l = locals il
                let cv, cs = pair il first (last - first + 1) 0
                for i in first .. last do node il l cv cs (site i))
            (fun il lp ->
                let l = locals il
                let cv, cs = pair il lp.First lp.Period lp.Period
                forwardLoopOf il [ cv; cs ] g lp (fun j -> node il l cv cs (bodySite lp j)))
