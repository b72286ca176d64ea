namespace Hybrid.Kernel

open System
open System.Reflection
open System.Reflection.Emit
open System.Runtime.Intrinsics

/// A compiled pass (or one chunk of it) over the workspace: values v, adjoints a, tangents s and
/// adjoint tangents at, as addresses of pinned double arrays (slot i at byte offset 8i).
type internal PassFn = delegate of nativeint * nativeint * nativeint * nativeint -> unit
/// A compiled check of (a chunk of) a path's guards over the values v: true when all hold.
type internal GuardFn = delegate of nativeint -> bool
/// A compiled check of (a chunk of) a path's guards over the values v, the inputs' values at x
/// (`Emit.guardsInPlace`: the caller's array, or v itself when x was copied there).
type internal GuardInPlaceFn = delegate of nativeint * nativeint -> bool

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

    /// While a pass over the caller's arrays is emitted (`inPlace`): the inputs' slots
    /// 0 … Inputs − 1 of arguments V, A and S (values, adjoints, tangents) are addressed through
    /// arguments ToV, ToA and ToS instead — the caller's x, gradient or v, not copies in the
    /// workspace; Inputs = 0 otherwise, every slot in the workspace. One mechanism for every pass
    /// that reads the caller's spans (the lean passes and guards, Jvp's pass).
    [<Sealed; AbstractClass>]
    type private InPlace =
        [<ThreadStatic; DefaultValue>] static val mutable private inputs: int
        [<ThreadStatic; DefaultValue>] static val mutable private toV: int16
        [<ThreadStatic; DefaultValue>] static val mutable private toA: int16
        [<ThreadStatic; DefaultValue>] static val mutable private toS: int16
        static member Inputs with get () = InPlace.inputs and set (v: int) = InPlace.inputs <- v
        static member Set(toV: int16, toA: int16, toS: int16) =
            InPlace.toV <- toV
            InPlace.toA <- toA
            InPlace.toS <- toS
        /// Where argument arg's input slots are addressed.
        static member Redirect(arg: int16) =
            if arg = V then InPlace.toV elif arg = A then InPlace.toA elif arg = S then InPlace.toS else arg

    let private straight (arg: int16) (first: int) (held: LocalBuilder[]) =
        { Off = Collections.Generic.Dictionary(); HArg = arg; HFirst = first; HStride = 0; Held = held
          Carry = Collections.Generic.Dictionary(); Cache = Collections.Generic.Dictionary() }

    let private heldAt (c: Ctx) (arg: int16) (slot: int) (stride: int) : LocalBuilder =
        if arg = c.HArg && stride = c.HStride && slot >= c.HFirst && slot < c.HFirst + c.Held.Length then c.Held[slot - c.HFirst]
        elif arg = c.HArg && stride = c.HStride && c.Carry.ContainsKey slot then c.Carry[slot]
        else null

    let private address (il: ILGenerator) (c: Ctx) (arg: int16) (slot: int) (stride: int) =
        // an input's slot in place: the whole range (slot + stride·t) is inputs' (`inPlaceOk`)
        let arg = if slot >= 0 && slot < InPlace.Inputs then InPlace.Redirect arg else arg
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

    /// A counted IL loop of `count` iterations inside the method being emitted, each `step` trips
    /// of a loop: declares the stride offsets (in c.Off, starting at the first or, descending, the
    /// last iteration's trip) and steps them by `step` trips per iteration; `body` is emitted once.
    /// (With code before the loop, offsets set, and after it.)
    let private countedLoop (il: ILGenerator) (c: Ctx) (strides: int[]) (count: int) (step: int) (descending: bool)
                            (before: unit -> unit) (body: unit -> unit) (after: unit -> unit) =
        let t = il.DeclareLocal(typeof<int>)
        for s in strides do
            let off = il.DeclareLocal(typeof<nativeint>)
            c.Off[s] <- off
            il.Emit(OpCodes.Ldc_I8, (if descending then int64 (count - 1) * int64 step * int64 s * 8L else 0L))
            il.Emit(OpCodes.Conv_I)
            il.Emit(OpCodes.Stloc, off)
        il.Emit(OpCodes.Ldc_I4, (if descending then count - 1 else 0))
        il.Emit(OpCodes.Stloc, t)
        before ()
        let top = il.DefineLabel()
        il.MarkLabel top
        body ()
        for s in strides do
            let off = c.Off[s]
            il.Emit(OpCodes.Ldloc, off)
            il.Emit(OpCodes.Ldc_I4, (if descending then -s * 8 * step else s * 8 * step))
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
            il.Emit(OpCodes.Ldc_I4, count)
            il.Emit(OpCodes.Blt, top)
        after ()

    /// An IL loop over the trips of lp inside the method being emitted: declares the stride offsets
    /// (in c.Off), and emits `trip` once as the loop's body.
    /// (With code before the loop, offsets set; at the end of each trip; and after the loop.)
    let private loopWith (il: ILGenerator) (c: Ctx) (lp: Loop) (strides: int[]) (descending: bool)
                          (before: unit -> unit) (trip: unit -> unit) (tripEnd: unit -> unit) (after: unit -> unit) =
        countedLoop il c strides lp.Trips 1 descending before (fun () -> trip (); tripEnd ()) after

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

    /// The pieces of a pass over g: chunks of at most ChunkNodes straight-line nodes, loops, and
    /// matrix nodes (each a piece of its own: MatNode.fs).
    let private passPieces (g: Graph) (loops: Loop[]) =
        [| for p in Loops.pieces g.N g.Count loops do
            match p with
            | Choice1Of2(struct (first, last)) ->
                for q in MatNodes.split g.Mats first last do
                    match q with
                    | Choice1Of2(struct (f, l)) ->
                        for a in f .. ChunkNodes .. l -> Choice1Of3(struct (a, min l (a + ChunkNodes - 1)))
                    | Choice2Of2 m -> yield Choice3Of3 m
            | Choice2Of2 lp -> yield Choice2Of3 lp |]

    /// One pass's methods, piece by piece: `chunk il first last` emits a straight-line chunk, `loop
    /// il lp` a loop's whole method body; `mat m` is a matrix node's pass (a call of its rule).
    let private build (name: string) (g: Graph) (loops: Loop[]) (bytesPerNode: int)
                      (chunk: ILGenerator -> int -> int -> unit) (loop: ILGenerator -> Loop -> unit) (mat: MatNode -> PassFn) : PassFn[] =
        passPieces g loops |> Array.map (fun p ->
            match p with
            | Choice1Of3(struct (first, last)) -> straightMethod name ((last - first + 1) * bytesPerNode + 16) (fun il -> chunk il first last)
            | Choice2Of3 lp -> straightMethod (name + ".Loop") (lp.Period * bytesPerNode + 128) (fun il -> loop il lp)
            | Choice3Of3 m -> mat m)

    /// Each pass's call of a matrix node's rule.
    let private matForward (m: MatNode) = PassFn(fun pv _ _ _ -> m.ForwardAt pv)
    let private matReverse (m: MatNode) = PassFn(fun pv pa _ _ -> m.ReverseAt(pv, pa))

    let private heldLocals (il: ILGenerator) (count: int) = Array.init count (fun _ -> il.DeclareLocal(typeof<float>))

    /// A node's value, stored at its slot and held in its local.
    let private forwardNode (g: Graph) (il: ILGenerator) (c: Ctx) (n: Site) =
        address il c V n.I n.Stride
        valueOf il c g n
        il.Emit(OpCodes.Dup)
        il.Emit(OpCodes.Stloc, c.Held[n.I - c.HFirst])
        il.Emit(OpCodes.Stind_R8)

    let private forwardChunk (g: Graph) (il: ILGenerator) (first: int) (last: int) =
        let c = straight V first (heldLocals il (last - first + 1))
        for i in first .. last do forwardNode g il c (site i)

    /// The scalar loop over lp's trips, storing every node's value.
    let private scalarLoop (g: Graph) (il: ILGenerator) (lp: Loop) =
        let c = { straight V lp.First (heldLocals il lp.Period) with HStride = lp.Period }
        forwardLoop il c g lp (fun j -> forwardNode g il c (bodySite lp j))

    /// The scalar loop over lp's trips, storing every node's value; a data block copied from the
    /// graph's constants.
    let private scalarForwardLoop (g: Graph) (il: ILGenerator) (lp: Loop) =
        if lp.Data then
            let c = straight V 0 [||]
            address il c V lp.First 0
            il.Emit(OpCodes.Ldc_I8, int64 (Runtime.InteropServices.Marshal.UnsafeAddrOfPinnedArrayElement(g.PinnedK0, lp.First)))
            il.Emit(OpCodes.Conv_I)
            il.Emit(OpCodes.Ldc_I4, lp.Trips * 8)
            il.Emit(OpCodes.Cpblk)
        else scalarLoop g il lp

    /// The values of every node, piece by piece in order.
    let forward (g: Graph) (loops: Loop[]) : PassFn[] =
        build "Hybrid.Compiled.Forward" g loops 40 (forwardChunk g) (scalarForwardLoop g) matForward

    /// The guards, in pieces (chunks of ChunkGuards, and loops over periodic runs of guards); each
    /// returns false at the first that fails.
    let private guardsAs<'D when 'D :> Delegate> (args: Type[]) (g: Graph) (loops: Loop[]) : 'D[] =
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
            let m = newMethod "Hybrid.Compiled.Guards" typeof<bool> args
            let il = m.GetILGenerator()
            let fail = il.DefineLabel()
            emit il fail
            il.Emit(OpCodes.Ldc_I4_1)
            il.Emit(OpCodes.Ret)
            il.MarkLabel fail
            il.Emit(OpCodes.Ldc_I4_0)
            il.Emit(OpCodes.Ret)
            m.CreateDelegate(typeof<'D>) :?> 'D
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

    /// The guards over the values v (every slot, the inputs' included, in v).
    let guards (g: Graph) (loops: Loop[]) : GuardFn[] = guardsAs<GuardFn> [| typeof<nativeint> |] g loops

    /// a[j] + d·w into operand j's adjoint (stride): its held or cached local, else memory.
    let private accumulate (il: ILGenerator) (l: Locals) (c: Ctx) (j: int) (stride: int) (d: LocalBuilder) =
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

    /// A node of the adjoint sweep (see `reverse`).
    let private reverseNode (g: Graph) (keep: bool) (il: ILGenerator) (l: Locals) (c: Ctx) (n: Site) =
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
            accumulate il l c g.A0[i] n.S0 l.D0
            accumulate il l c g.A1[i] n.S1 l.D1
            il.MarkLabel skip
    let private loadHeldAdjoints (il: ILGenerator) (c: Ctx) (stride: int) =
        for k in 0 .. c.Held.Length - 1 do
            load il c A (c.HFirst + k) stride
            il.Emit(OpCodes.Stloc, c.Held[k])

    let private reverseChunk (g: Graph) (keep: bool) (il: ILGenerator) (first: int) (last: int) =
        let l = locals il
        let c = straight A first (heldLocals il (last - first + 1))
        loadHeldAdjoints il c 0
        for i = last downto first do reverseNode g keep il l c (site i)
    /// The scalar loop over lp's trips, descending, `node` emitting each body node's sweep.
    let private scalarReverseLoopOf (g: Graph) (node: ILGenerator -> Locals -> Ctx -> Site -> unit) (il: ILGenerator) (lp: Loop) =
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
                    il.Emit(OpCodes.Stind_R8))

    /// The scalar loop over lp's trips, descending.
    let private scalarReverseLoop (g: Graph) (keep: bool) (il: ILGenerator) (lp: Loop) = scalarReverseLoopOf g (reverseNode g keep) il lp

    /// The adjoint sweep, pieces in reverse order (run them from the last). A chunk (a loop's trip)
    /// keeps its own nodes' adjoints in locals (loaded once: what later pieces, trips and the seed put
    /// there), adds into other slots in memory, and — with `keep`, for the second-order passes over
    /// the tape, which read them — writes each back when its node's turn comes (without, only the
    /// inputs' adjoints, the gradient, are left in memory complete).
    let private scalarReverse (g: Graph) (loops: Loop[]) (keep: bool) : PassFn[] =
        build "Hybrid.Compiled.Reverse" g loops 96 (reverseChunk g keep) (scalarReverseLoop g keep) matReverse

    // ------------------------------------------------------------------------------ SIMD lanes
    //
    // A loop whose trips are independent but for carried chains (the running sums s = s + eᵢ of
    // Vec.Sum, Vec.Dot and of a user's `s += …`) runs W trips at once in vector lanes (W = 4 in
    // Vector256<double>, 8 in Vector512<double>): the *lane* nodes (those that do not depend on the
    // previous trip) of trips t … t + W − 1 as one vector each, then the *chain* nodes (those that do:
    // + − and copies only) lane by lane in trip order — the same sums in the same order, so values are
    // bitwise the scalar loop's. The reverse sweep recomputes the lane nodes' values in registers (the
    // lean forward pass does not store them: nothing but the loop reads them), takes the chain's
    // adjoints lane by lane in descending trip order, then the lane nodes' in vectors, and adds their
    // terms into the operands' adjoints in an order that gives every slot its terms in the scalar
    // sweep's order (a slot read by overlapping slices, x[i] and x[i+1], gets the higher trip's terms
    // first, as the scalar sweep gives them): a loop where no such order exists stays scalar. So lanes
    // are bitwise equal to the interpreter. Overlapping slices of one stride (x[i], x[i+1], x[i+2])
    // pass their adjoint slots from group to group in registers (a *shift*: each slot loaded once and
    // stored once, when complete), not by storing a vector and reloading an overlapping one (which
    // stalls store forwarding). The last 1 – W trips run as the scalar loop (they may be read by the
    // code after the loop).

    /// The vector operations of one lane width: Vector256 (4 trips) or Vector512 (8 trips).
    type private VOps =
        { Width: int
          T: Type
          Create1: MethodInfo
          CreateN: MethodInfo
          CreateLongN: MethodInfo
          AsDouble: MethodInfo
          Load: MethodInfo
          Store: MethodInfo
          Get: MethodInfo
          Eq: MethodInfo
          AndNot: MethodInfo
          Xor: MethodInfo
          Select: MethodInfo
          Shuffle: MethodInfo
          Zero: MethodInfo
          Add: MethodInfo
          Sub: MethodInfo
          Mul: MethodInfo
          Div: MethodInfo }

    let private vopsOf (statics: Type) (generic: Type) (w: int) =
        let vt = generic.MakeGenericType(typeof<float>)
        let vl = generic.MakeGenericType(typeof<int64>)
        let gm (name: string) (args: int) (pred: MethodInfo -> bool) (t: Type) =
            statics.GetMethods()
            |> Array.find (fun m -> m.Name = name && m.IsGenericMethodDefinition && m.GetParameters().Length = args && pred m)
            |> fun m -> m.MakeGenericMethod(t)
        let vm name args pred = gm name args pred typeof<float>
        let op (name: string) = vt.GetMethod(name, [| vt; vt |])
        { Width = w
          T = vt
          Create1 = statics.GetMethod("Create", [| typeof<float> |])
          CreateN = statics.GetMethod("Create", Array.create w typeof<float>)
          CreateLongN = statics.GetMethod("Create", Array.create w typeof<int64>)
          AsDouble = gm "AsDouble" 1 (fun _ -> true) typeof<int64>
          Load = vm "Load" 1 (fun _ -> true)
          Store = vm "Store" 2 (fun m -> m.GetParameters().[1].ParameterType.IsPointer)
          Get = vm "GetElement" 2 (fun _ -> true)
          Eq = vm "Equals" 2 (fun _ -> true)
          AndNot = vm "AndNot" 2 (fun _ -> true)
          Xor = vm "Xor" 2 (fun _ -> true)
          Select = vm "ConditionalSelect" 3 (fun _ -> true)
          Shuffle = statics.GetMethod("Shuffle", [| vt; vl |])
          Zero = vt.GetProperty("Zero").GetGetMethod()
          Add = op "op_Addition"
          Sub = op "op_Subtraction"
          Mul = op "op_Multiply"
          Div = op "op_Division" }

    let private v256 = vopsOf typeof<Vector256> typedefof<Vector256<float>> 4
    let private v512 = vopsOf typeof<Vector512> typedefof<Vector512<float>> 8

    /// Loops run in lanes where they can (decided at emit time: Vector256 accelerated, i.e. AVX2 or
    /// AVX-512; else every loop is scalar). Settable for tests.
    let mutable Lanes = Vector256.IsHardwareAccelerated
    /// Trips per vector where loops run in lanes: 8 (Vector512) where it is accelerated and
    /// `Wide` allows it, else 4 (Vector256). The *At forms below take the width explicitly, so tests
    /// exercise both widths on any machine (Vector512 runs, slower, where it is not accelerated).
    let mutable Wide = false
    let laneWidth () = if Wide && Vector512.IsHardwareAccelerated then 8 else 4
    /// Overlapping slices pass their adjoints through registers (see `Shift`); off, through memory
    /// as before (for benchmarks comparing the two).
    let mutable Shifts = true
    let private vopsFor (w: int) = if w = 8 then v512 else v256

    /// Where an operand of a loop body node comes from.
    type private Src =
        | NoOp
        | Konst of float
        /// Body node j of the same trip.
        | Same of int
        /// Body node j of the previous trip (the node before the loop in trip 0).
        | Prev of int
        /// Slot b + s·t, before the loop.
        | Ext of int * int
        /// Anything else (another trip's node at another stride): the loop stays scalar.
        | Other

    /// Memory sites of one stride whose slots overlap from trip to trip (x[i], x[i+1], …): bases
    /// B + St·d for the offsets d (in trips, ascending, 0 ≤ d < W), each with its sites (body node,
    /// operand) in the scalar sweep's order. Slot B + St·u gets its terms from trips u − d, d
    /// ascending (the higher trip's first, as the scalar sweep gives them); a group of trips
    /// t … t + W − 1 completes slots t + DMax … t + DMax + W − 1 and passes those of t … t + DMax − 1
    /// on to the next (lower) group in a register.
    type private Shift = { B: int; St: int; DMax: int; Keys: (int * (int * int) list) list }

    type private LanePlan =
        { Lp: Loop
          Ops: VOps
          /// Trips run W at a time, from trip 0 (a multiple of W, at least 2W).
          Trips: int
          /// The scalar trips after them (1 to W).
          Tail: Loop
          Src: Src[][]
          Chain: bool[]
          /// Chain nodes the next trip reads.
          Carried: int[]
          /// Lane nodes that chain nodes read.
          FromChain: bool[]
          /// The lane nodes' memory sites at stride ≠ 0 added through memory, grouped by (base,
          /// stride), groups in the order their terms are added, each group's sites (body node,
          /// operand) in the scalar sweep's order.
          Strided: (int * int * (int * int) list) list
          /// The lane nodes' sites of overlapping slices, through registers.
          Shifts: Shift list
          /// The lane nodes' sites at stride 0, by slot.
          Broadcast: (int * (int * int) list) list
          /// Memory sites (base, stride 1) of Strided or Shifts whose slots base … base + Trips − 1
          /// get their first term from the lane groups (nothing after the loop adds to them, no
          /// other site of the loop reaches them): the lane reverse starts them at zero instead of
          /// loading them, so they need no clearing (`leanClearAt`), and stores each complete.
          Fresh: (int * int) list }

    let private srcOf (g: Graph) (lp: Loop) (j: int) (k: int) =
        let i = lp.First + j
        let code = g.Code[i]
        let p = lp.Period
        let slot (b: int) (s: int) =
            if s = p && b >= lp.First && b < lp.First + p then Same(b - lp.First)
            elif s = p && b >= lp.First - p && b < lp.First then Prev(b - lp.First + p)
            else
                let e = int64 b + int64 s * int64 (lp.Trips - 1)
                if min (int64 b) e >= 0L && max (int64 b) e < int64 lp.First then Ext(b, s) else Other
        if code >= IrLog.Binary then
            let b = if k = 0 then g.A0[i] else g.A1[i]
            if b >= 0 then slot b (if k = 0 then lp.Stride0[j] else lp.Stride1[j])
            else Konst(if k = 0 then g.K0[i] else g.K1[i])
        elif k = 0 && (code >= IrLog.Unary || code = IrLog.CopyCode) then slot g.A0[i] lp.Stride0[j]
        else NoOp

    /// Slots some code reads from memory (pieces as `passPieces` cuts them): a chunk's operands
    /// outside it; a loop's operands but its trips' own and the previous trip's nodes (which the loop
    /// holds in registers; trip 0's reads of the nodes before it count); a matrix node's operands and
    /// output (for its rules); the guards' and the outputs'.
    let private memReads (g: Graph) (loops: Loop[]) : bool[] =
        let r = Array.zeroCreate<bool> g.Count
        let mark (s: int) = if s >= 0 then r[s] <- true
        for piece in passPieces g loops do
            match piece with
            | Choice1Of3(struct (first, last)) ->
                for i in first .. last do
                    for j in [ g.A0[i]; g.A1[i] ] do
                        if j < first || j > last then mark j
            | Choice2Of3 lp ->
                let p = lp.Period
                for j in 0 .. p - 1 do
                    for struct (b, s) in [ struct (g.A0[lp.First + j], lp.Stride0[j]); struct (g.A1[lp.First + j], lp.Stride1[j]) ] do
                        if b >= 0 then
                            if s = p && b >= lp.First && b < lp.First + p then ()
                            elif s = p && b >= lp.First - p && b < lp.First then mark b
                            else for t in 0 .. lp.Trips - 1 do mark (b + s * t)
            | Choice3Of3 m ->
                for o in m.Operands do
                    if o.First >= 0 then for s in o.First .. o.First + o.Length - 1 do mark s
                for s in m.Out .. m.Out + m.OutLen - 1 do mark s
        for q in g.Guards do
            mark q.SlotA
            mark q.SlotB
        for o in g.Outputs do mark o
        r

    /// For each adjoint slot, the last node (in graph order) that adds a term into it: the highest
    /// node with it as an operand, a matrix node's last slot for its operands, Int32.MaxValue for
    /// the outputs (the seed); −1 for none.
    let private lastReaders (g: Graph) : int[] =
        let r = Array.create g.Count -1
        let mark (s: int) (i: int) = if s >= 0 && r[s] < i then r[s] <- i
        for i in 0 .. g.Count - 1 do
            mark g.A0[i] i
            mark g.A1[i] i
        for m in g.Mats do
            for o in m.Operands do
                if o.First >= 0 then for s in o.First .. o.First + o.Length - 1 do mark s (m.Out + m.OutLen - 1)
        for o in g.Outputs do mark o Int32.MaxValue
        r

    /// How lp runs in lanes of width w (4 or 8), or why it stays scalar.
    let private lanePlan (w: int) (g: Graph) (memRead: bool[]) (lastReader: int[]) (lp: Loop) : Choice<LanePlan, string> =
        let p = lp.Period
        let groups = (lp.Trips - 1) / w
        if w = 0 then Choice2Of2 "lanes are off"
        elif groups < 2 then Choice2Of2 (sprintf "fewer than %d trips" (2 * w + 1))
        else
        let t4 = groups * w
        let src = Array.init p (fun j -> [| srcOf g lp j 0; srcOf g lp j 1 |])
        let code j = g.Code[lp.First + j]
        let chain = Array.zeroCreate<bool> p
        for j in 0 .. p - 1 do
            chain[j] <- src[j] |> Array.exists (fun s -> match s with Prev _ -> true | Same j' -> chain[j'] | _ -> false)
        let bin (f: Fun2) = IrLog.Binary + int16 f
        let un (f: Fun1) = IrLog.Unary + int16 f
        let laneCode (c: int16) =
            c = bin Fun2.Add || c = bin Fun2.Sub || c = bin Fun2.Mul || c = bin Fun2.Div
            || c = un Fun1.Neg || c = un Fun1.Square || c = IrLog.CopyCode || c = IrLog.ConstantCode
        let chainCode (c: int16) = c = bin Fun2.Add || c = bin Fun2.Sub || c = IrLog.CopyCode
        let mutable ok = true
        let mutable why: string = null
        let fail (r: string) =
            if ok then why <- r
            ok <- false
        for j in 0 .. p - 1 do
            if src[j] |> Array.exists (fun s -> s = Other) then fail (sprintf "body node %d reads another trip's node" j)
            if (if chain[j] then not (chainCode (code j)) else not (laneCode (code j))) then fail (sprintf "body node %d: code %d (chain %b) has no lane code" j (code j) chain[j])
        // nothing outside the loop reads the lane trips' nodes (values or adjoints)
        let mutable s = lp.First
        while ok && s < lp.First + t4 * p do
            if memRead[s] then fail (sprintf "slot %d of the lane trips is read outside the loop" s)
            s <- s + 1
        // each carried node is a chain node the next trip reads once
        let prevReads = [ for j in 0 .. p - 1 do for k in 0 .. 1 do match src[j][k] with Prev c -> yield c | _ -> () ]
        let carried = List.distinct prevReads
        for c in carried do
            if not chain[c] || (prevReads |> List.filter ((=) c) |> List.length) <> 1 then fail (sprintf "carried node %d is not a chain node read once" c)
        // a lane node's terms: the chain's (taken first) must come from later nodes than the lanes'
        let fromChain = Array.zeroCreate<bool> p
        for j in 0 .. p - 1 do
            if not chain[j] then
                let readers = [ for j2 in 0 .. p - 1 do for k in 0 .. 1 do if src[j2][k] = Same j then yield j2 ]
                let byChain = readers |> List.filter (fun r -> chain[r])
                let byLanes = readers |> List.filter (fun r -> not chain[r])
                fromChain[j] <- not byChain.IsEmpty
                if not byChain.IsEmpty && not byLanes.IsEmpty && List.min byChain <= List.max byLanes then fail (sprintf "lane node %d gets chain terms before lane terms" j)
        // memory sites, in the scalar sweep's order within a trip (nodes descending, operand 0 first)
        let sites =
            [ for j = p - 1 downto 0 do
                for k in 0 .. 1 do
                    match src[j][k] with
                    | Ext(b, st) -> yield (j, k, b, st)
                    | _ -> () ]
        let rangeOver (trips: int) (b: int) (st: int) = let e = b + st * (trips - 1) in struct (min b e, max b e)
        let overlapOver (trips: int) (b1, s1) (b2, s2) =
            let struct (l1, h1) = rangeOver trips b1 s1
            let struct (l2, h2) = rangeOver trips b2 s2
            l1 <= h2 && l2 <= h1
        let overlap = overlapOver t4
        let laneSites = sites |> List.filter (fun (j, _, _, _) -> not chain[j])
        let chainSites = sites |> List.filter (fun (j, _, _, _) -> chain[j])
        let groupsOf = laneSites |> List.groupBy (fun (_, _, b, st) -> (b, st))
        let keys = groupsOf |> List.map fst |> Array.ofList
        // must key a come before key b (a's terms for a shared slot are from a higher trip in the group)?
        let edges = Collections.Generic.List<struct (int * int)>()
        for x in 0 .. keys.Length - 1 do
            for y in x + 1 .. keys.Length - 1 do
                let (b1, s1) = keys[x]
                let (b2, s2) = keys[y]
                if overlap (b1, s1) (b2, s2) then
                    if s1 = s2 && s1 <> 0 then
                        if (b1 - b2) % s1 = 0 then
                            // b1 + s·t1 = b2 + s·t2 at t2 = t1 + d
                            let d = (b1 - b2) / s1
                            if abs d < w then
                                if d > 0 then edges.Add(struct (y, x)) else edges.Add(struct (x, y))
                    else fail (sprintf "memory sites (%d, %d) and (%d, %d) overlap at different strides" b1 s1 b2 s2)
        // chain sites' terms come first: a slot they share with a lane site must get no lane term of a later trip
        for (jc, _, bc, sc) in chainSites do
            for (jl, _, bl, sl) in laneSites do
                if overlap (bc, sc) (bl, sl) then
                    if sc = sl && sc <> 0 then
                        if (bc - bl) % sc = 0 then
                            let d = (bc - bl) / sc
                            if (d > 0 && d < w) || (d = 0 && jc <= jl) then fail (sprintf "chain node %d and lane node %d add into a slot in the wrong order" jc jl)
                    else fail (sprintf "chain node %d and lane node %d add into overlapping slots at different strides" jc jl)
        if not ok then Choice2Of2 why
        else
        // the strided groups in an order the edges allow (none: the loop stays scalar)
        let strided = keys |> Array.mapi (fun x k -> x, k) |> Array.filter (fun (_, (_, st)) -> st <> 0) |> Array.map fst
        let order = ResizeArray<int>()
        let placed = Array.zeroCreate<bool> keys.Length
        let mutable progress = true
        while progress && order.Count < strided.Length do
            progress <- false
            for x in strided do
                if not placed[x] && not (edges |> Seq.exists (fun (struct (a, b)) -> b = x && not placed[a])) then
                    placed[x] <- true
                    order.Add x
                    progress <- true
        if order.Count < strided.Length then Choice2Of2 "no order of the memory sites gives every slot its terms in the scalar order"
        else
        let sitesOf (key: int * int) = groupsOf |> List.find (fun (k, _) -> k = key) |> snd |> List.map (fun (j, k, _, _) -> (j, k))
        // the shifts: keys of one stride and residue, at offsets 0 … < w trips from the lowest, that
        // no chain site reaches (a chain node adds into memory while the shift holds slots in registers)
        let classOf (x: int) = let (b, st) = keys[x] in (st, ((b % abs st) + abs st) % abs st)
        let shifts, inMemory =
            order |> List.ofSeq |> List.groupBy classOf
            |> List.partition (fun ((st, _), xs) ->
                Shifts && xs.Length >= 2
                && (let bases = xs |> List.map (fun x -> fst keys[x])
                    let b0 = if st > 0 then List.min bases else List.max bases
                    let dmax = bases |> List.map (fun b -> (b - b0) / st) |> List.max
                    dmax < w
                    && chainSites |> List.forall (fun (_, _, bc, sc) ->
                        (sc = st && (bc - b0) % st <> 0) || not (overlapOver (lp.Trips + dmax) (bc, sc) (b0, st)))))
        let memoryKeys = Collections.Generic.HashSet(inMemory |> List.collect snd)
        // slots b … b + t4 − 1 that only the lane groups of one memory group (its keys at stride 1)
        // add into, with nothing after the loop adding to them (run before it in the sweep)
        // (a chain node's site adds into memory before the lane groups: it is always another's)
        let extSites = [ for j in 0 .. p - 1 do for k in 0 .. 1 do match src[j][k] with Ext(b, st) -> yield (chain[j], b, st) | _ -> () ] |> List.distinct
        let carriedSlots = [ for c in carried -> lp.First - p + c ]
        let freshFrom (ks: (int * int) list) (b0: int) =
            let lo, hi = b0, b0 + t4 - 1
            b0 >= 0
            && ks |> List.forall (fun (_, st) -> st = 1)
            && extSites |> List.forall (fun (isChain, b, st) ->
                (not isChain && List.contains (b, st) ks)
                || (let struct (l, h) = rangeOver lp.Trips b st in h < lo || l > hi))
            && carriedSlots |> List.forall (fun s -> s < lo || s > hi)
            && (let mutable ok = true
                for s in lo .. hi do if lastReader[s] >= lp.End then ok <- false
                ok)
        let fresh =
            [ for x in order do
                if memoryKeys.Contains x && freshFrom [ keys[x] ] (fst keys[x]) then yield keys[x]
              for ((st, _), xs) in shifts do
                let ks = xs |> List.map (fun x -> keys[x])
                let b0 = if st > 0 then ks |> List.map fst |> List.min else ks |> List.map fst |> List.max
                if freshFrom ks b0 then yield (b0, st) ]
        Choice1Of2
            { Lp = lp
              Ops = vopsFor w
              Trips = t4
              Tail = { lp with First = lp.First + t4 * p; Trips = lp.Trips - t4 }
              Src = src
              Chain = chain
              Carried = Array.ofList carried
              FromChain = fromChain
              Strided = [ for x in order do if memoryKeys.Contains x then let (b, st) = keys[x] in yield (b, st, sitesOf (b, st)) ]
              Shifts =
                [ for ((st, _), xs) in shifts ->
                    let bases = xs |> List.map (fun x -> fst keys[x])
                    let b0 = if st > 0 then List.min bases else List.max bases
                    let ks = xs |> List.map (fun x -> let (b, _) = keys[x] in ((b - b0) / st, sitesOf keys[x])) |> List.sortBy fst
                    { B = b0; St = st; DMax = fst (List.last ks); Keys = ks } ]
              Broadcast = [ for (b, st) in keys do if st = 0 then yield (b, sitesOf (b, 0)) ]
              Fresh = fresh }

    /// The lane plans of a path's loops at width w (0: none), by first node — computed once per
    /// (loops, width) and kept with the loops (the lean forward, the lean reverse and the clear
    /// ranges all read them).
    let private planCache = Runtime.CompilerServices.ConditionalWeakTable<Loop[], Collections.Generic.Dictionary<int, Graph * Collections.Generic.Dictionary<int, LanePlan>>>()
    let private lanePlans (w: int) (g: Graph) (loops: Loop[]) =
        let compute () =
            let plans = Collections.Generic.Dictionary<int, LanePlan>()
            if w > 0 && loops.Length > 0 then
                let reads = memReads g loops
                let last = lastReaders g
                for lp in loops |> Array.filter (fun l -> not l.Data) do
                    match lanePlan w g reads last lp with
                    | Choice1Of2 pl -> plans[lp.First] <- pl
                    | Choice2Of2 _ -> ()
            plans
        if w = 0 || loops.Length = 0 then compute ()
        else
            let byWidth = planCache.GetValue(loops, fun _ -> Collections.Generic.Dictionary())
            lock byWidth (fun () ->
                let key = if Shifts then w else -w
                match byWidth.TryGetValue key with
                | true, (g', plans) when obj.ReferenceEquals(g', g) -> plans
                | _ ->
                    let plans = compute ()
                    byWidth[key] <- (g, plans)
                    plans)

    /// The distinct non-zero strides of a plan's memory operands.
    let private laneStrides (pl: LanePlan) =
        [| for row in pl.Src do
            for s in row do
                match s with
                | Ext(_, st) when st <> 0 -> yield st
                | _ -> () |] |> Array.distinct

    /// The constant vector of longs ks (as doubles with `asDouble`: a mask).
    let private vConst (il: ILGenerator) (vo: VOps) (asDouble: bool) (ks: int64[]) =
        for k in ks do il.Emit(OpCodes.Ldc_I8, k)
        il.Emit(OpCodes.Call, vo.CreateLongN)
        if asDouble then il.Emit(OpCodes.Call, vo.AsDouble)

    /// Slots b + st·(t + k), k = 0 … W − 1, of argument arg (t: the group's trip offset) as a vector.
    let private vLoadAt (il: ILGenerator) (c: Ctx) (vo: VOps) (arg: int16) (b: int) (st: int) =
        if st = 1 then
            address il c arg b 1
            il.Emit(OpCodes.Call, vo.Load)
        else
            for k in 0 .. vo.Width - 1 do load il c arg (b + st * k) st
            il.Emit(OpCodes.Call, vo.CreateN)

    /// The vector in local v into slots b + st·(t + k), k = 0 … W − 1, of argument arg.
    let private vStoreAt (il: ILGenerator) (c: Ctx) (vo: VOps) (arg: int16) (b: int) (st: int) (v: LocalBuilder) =
        if st = 1 then
            il.Emit(OpCodes.Ldloc, v)
            address il c arg b 1
            il.Emit(OpCodes.Call, vo.Store)
        else
            for k in 0 .. vo.Width - 1 do
                address il c arg (b + st * k) st
                il.Emit(OpCodes.Ldloc, v)
                il.Emit(OpCodes.Ldc_I4, k)
                il.Emit(OpCodes.Call, vo.Get)
                il.Emit(OpCodes.Stind_R8)

    /// Operand src of a lane node, W trips as a vector (memory in argument arg, at trip offset Off).
    let private vecOperand (il: ILGenerator) (c: Ctx) (vo: VOps) (arg: int16) (vv: LocalBuilder[]) (src: Src) =
        match src with
        | Konst k ->
            il.Emit(OpCodes.Ldc_R8, k)
            il.Emit(OpCodes.Call, vo.Create1)
        | Same j -> il.Emit(OpCodes.Ldloc, vv[j])
        | Ext(b, 0) ->
            load il c arg b 0
            il.Emit(OpCodes.Call, vo.Create1)
        | Ext(b, st) -> vLoadAt il c vo arg b st
        | _ -> invalidOp "Hybrid internal error: a lane operand without a value"

    /// The values of the lane nodes of W trips into vv (ascending).
    /// Emits d·t for a lane partial d (its emitter) and the lanes' vector t: a partial of 1 (None)
    /// is no product, since 1·t is t bit for bit.
    let private partialTimes (il: ILGenerator) (vo: VOps) (t: LocalBuilder) (d: (unit -> unit) option) () =
        match d with
        | None -> il.Emit(OpCodes.Ldloc, t)
        | Some d ->
            d ()
            il.Emit(OpCodes.Ldloc, t)
            il.Emit(OpCodes.Call, vo.Mul)

    let private laneValues (g: Graph) (il: ILGenerator) (c: Ctx) (pl: LanePlan) (vv: LocalBuilder[]) =
        let vo = pl.Ops
        let op (j: int) (k: int) = vecOperand il c vo V vv pl.Src.[j].[k]
        for j in 0 .. pl.Lp.Period - 1 do
            if not pl.Chain[j] then
                let code = g.Code[pl.Lp.First + j]
                if code >= IrLog.Binary then
                    op j 0
                    op j 1
                    il.Emit(OpCodes.Call,
                        match enum<Fun2> (int (code - IrLog.Binary)) with
                        | Fun2.Add -> vo.Add
                        | Fun2.Sub -> vo.Sub
                        | Fun2.Mul -> vo.Mul
                        | _ -> vo.Div)
                elif code >= IrLog.Unary then
                    op j 0
                    match enum<Fun1> (int (code - IrLog.Unary)) with
                    | Fun1.Neg ->
                        // −x flips the sign bit, as the scalar neg does (0 − x would give +0 at x = 0)
                        il.Emit(OpCodes.Ldc_R8, -0.0)
                        il.Emit(OpCodes.Call, vo.Create1)
                        il.Emit(OpCodes.Call, vo.Xor)
                    | _ ->
                        il.Emit(OpCodes.Dup)
                        il.Emit(OpCodes.Call, vo.Mul)
                elif code = IrLog.CopyCode then op j 0
                else
                    il.Emit(OpCodes.Ldc_R8, g.K0[pl.Lp.First + j])
                    il.Emit(OpCodes.Call, vo.Create1)
                il.Emit(OpCodes.Stloc, vv[j])

    /// The value (arg V) or tangent (arg S) of a chain node's operand in lane k: lane nodes' vectors
    /// vv, chain nodes' scalars h, the previous trip's carry.
    let private chainOperandOf (il: ILGenerator) (c: Ctx) (arg: int16) (pl: LanePlan) (vv: LocalBuilder[]) (h: LocalBuilder[])
                               (carry: LocalBuilder[]) (k: int) (src: Src) =
        match src with
        | Konst x -> il.Emit(OpCodes.Ldc_R8, x)
        | Same j when pl.Chain[j] -> il.Emit(OpCodes.Ldloc, h[j])
        | Same j ->
            il.Emit(OpCodes.Ldloc, vv[j])
            il.Emit(OpCodes.Ldc_I4, k)
            il.Emit(OpCodes.Call, pl.Ops.Get)
        | Prev j -> il.Emit(OpCodes.Ldloc, carry[j])
        | Ext(b, st) -> load il c arg (b + st * k) st
        | _ -> invalidOp "Hybrid internal error: a chain operand without a value"

    /// The value of a chain node's operand in lane k.
    let private chainOperand (il: ILGenerator) (c: Ctx) (pl: LanePlan) (vv: LocalBuilder[]) (h: LocalBuilder[])
                             (carry: LocalBuilder[]) (k: int) (src: Src) =
        chainOperandOf il c V pl vv h carry k src

    /// A lane node's first partials as vectors (as Interpreter.partials; the values in vv, r a
    /// scratch vector: ÷ computes r = 1/y here), as code pushing each, and whether a zero adjoint
    /// must skip them (they are not constants).
    let private lanePartials (g: Graph) (il: ILGenerator) (c: Ctx) (pl: LanePlan) (vv: LocalBuilder[]) (r: LocalBuilder) (j: int) =
        let vo = pl.Ops
        let code = g.Code[pl.Lp.First + j]
        let op (k: int) = vecOperand il c vo V vv pl.Src.[j].[k]
        let konst (x: float) () =
            il.Emit(OpCodes.Ldc_R8, x)
            il.Emit(OpCodes.Call, vo.Create1)
        if code >= IrLog.Binary then
            match enum<Fun2> (int (code - IrLog.Binary)) with
            | Fun2.Add -> konst 1.0, konst 1.0, false
            | Fun2.Sub -> konst 1.0, konst -1.0, false
            | Fun2.Mul -> (fun () -> op 1), (fun () -> op 0), true
            | _ ->
                // ÷: r = 1/y, (r, −(fz·r)) as the table's row
                konst 1.0 ()
                op 1
                il.Emit(OpCodes.Call, vo.Div)
                il.Emit(OpCodes.Stloc, r)
                (fun () -> il.Emit(OpCodes.Ldloc, r)),
                (fun () ->
                    il.Emit(OpCodes.Ldloc, vv[j])
                    il.Emit(OpCodes.Ldloc, r)
                    il.Emit(OpCodes.Call, vo.Mul)
                    konst -0.0 ()
                    il.Emit(OpCodes.Call, vo.Xor)),
                true
        elif code >= IrLog.Unary then
            match enum<Fun1> (int (code - IrLog.Unary)) with
            | Fun1.Neg -> konst -1.0, ignore, false
            | _ ->
                (fun () ->
                    konst 2.0 ()
                    op 0
                    il.Emit(OpCodes.Call, vo.Mul)),
                ignore, true
        else konst 1.0, ignore, false

    /// The tangents of the lane nodes of four trips into tv (ascending; their values in vv): each
    /// node's first partials times its operands' tangents, summed, as `tangentOf` — a constant's
    /// tangent 0, an operand that is a constant (or none) a term 0.
    let private laneTangents (g: Graph) (il: ILGenerator) (c: Ctx) (pl: LanePlan) (vv: LocalBuilder[]) (tv: LocalBuilder[]) (r: LocalBuilder) =
        let vo = pl.Ops
        for j in 0 .. pl.Lp.Period - 1 do
            if not pl.Chain[j] then
                if g.Code[pl.Lp.First + j] = IrLog.ConstantCode then il.Emit(OpCodes.Call, vo.Zero)
                else
                    let d0, d1, _ = lanePartials g il c pl vv r j
                    let term (k: int) (d: unit -> unit) =
                        match pl.Src.[j].[k] with
                        | Konst _ | NoOp -> il.Emit(OpCodes.Call, vo.Zero)
                        | s ->
                            d ()
                            vecOperand il c vo S tv s
                            il.Emit(OpCodes.Call, vo.Mul)
                    term 0 d0
                    term 1 d1
                    il.Emit(OpCodes.Call, vo.Add)
                il.Emit(OpCodes.Stloc, tv[j])

    /// A counted loop over a plan's groups of W trips (ascending or descending), stepping the
    /// offsets of the strides by W trips.
    let private groupLoop (il: ILGenerator) (c: Ctx) (pl: LanePlan) (strides: int[]) (descending: bool)
                          (before: unit -> unit) (body: unit -> unit) (after: unit -> unit) =
        countedLoop il c strides (pl.Trips / pl.Ops.Width) pl.Ops.Width descending before body after

    let private vecLocals (il: ILGenerator) (pl: LanePlan) (pick: int -> bool) (t: Type) =
        Array.init pl.Lp.Period (fun j -> if pick j then il.DeclareLocal t else null)

    /// A lane node's terms into its operands' adjoint tangents, four trips at once (as
    /// reverseTangent's node): for operand kk present, `apply kk` gets code pushing each of d·gt and
    /// the two products of a second partial times the adjoint w with a tangent, in reverseTangent's
    /// order (`atTerms` of them: none with a constant's tangent), each zero in the lanes where
    /// w = gt = 0 (where that can matter). d0, d1 push the first partials (None: the
    /// constant 1; r is 1/y for ÷); hs four scratch vectors (h00, h01, h11, the mask).
    let private laneAdjointTangents (g: Graph) (il: ILGenerator) (c: Ctx) (pl: LanePlan) (vv: LocalBuilder[]) (tv: LocalBuilder[])
                                    (va: LocalBuilder[]) (vat: LocalBuilder[]) (r: LocalBuilder) (hs: LocalBuilder[])
                                    (d0: (unit -> unit) option) (d1: (unit -> unit) option) (j: int) (apply: int -> (unit -> unit)[] -> unit) =
        let vo = pl.Ops
        let code = g.Code[pl.Lp.First + j]
        let src = pl.Src.[j]
        let h00, h01, h11, mask = hs[0], hs[1], hs[2], hs[3]
        let konst (x: float) =
            il.Emit(OpCodes.Ldc_R8, x)
            il.Emit(OpCodes.Call, vo.Create1)
        // the second partials (as `hessian`: the row's, 0 elsewhere), each times w
        let set (loc: LocalBuilder) (h: unit -> unit) =
            h ()
            il.Emit(OpCodes.Ldloc, va[j])
            il.Emit(OpCodes.Call, vo.Mul)
            il.Emit(OpCodes.Stloc, loc)
        let zero () = il.Emit(OpCodes.Call, vo.Zero)
        set h00 zero
        il.Emit(OpCodes.Ldloc, h00)
        il.Emit(OpCodes.Stloc, h01)
        il.Emit(OpCodes.Ldloc, h00)
        il.Emit(OpCodes.Stloc, h11)
        if code = IrLog.Binary + int16 Fun2.Mul then
            // 1·w is w, bit for bit
            il.Emit(OpCodes.Ldloc, va[j])
            il.Emit(OpCodes.Stloc, h01)
        elif code = IrLog.Binary + int16 Fun2.Div then
            // (0, −(r·r), 2·(fz·r·r)) as the table's row
            set h01 (fun () ->
                il.Emit(OpCodes.Ldloc, r)
                il.Emit(OpCodes.Ldloc, r)
                il.Emit(OpCodes.Call, vo.Mul)
                konst -0.0
                il.Emit(OpCodes.Call, vo.Xor))
            set h11 (fun () ->
                konst 2.0
                il.Emit(OpCodes.Ldloc, vv[j])
                il.Emit(OpCodes.Ldloc, r)
                il.Emit(OpCodes.Call, vo.Mul)
                il.Emit(OpCodes.Ldloc, r)
                il.Emit(OpCodes.Call, vo.Mul)
                il.Emit(OpCodes.Call, vo.Mul))
        elif code = IrLog.Unary + int16 Fun1.Square then
            // 2, or the NaN value (the row's NaN rule)
            set h00 (fun () ->
                il.Emit(OpCodes.Ldloc, vv[j])
                il.Emit(OpCodes.Ldloc, vv[j])
                il.Emit(OpCodes.Call, vo.Eq)
                konst 2.0
                il.Emit(OpCodes.Ldloc, vv[j])
                il.Emit(OpCodes.Call, vo.Select))
        // the lanes where w = gt = 0 add nothing
        // ((w = 0) ? (gt = 0) : none), i.e. both
        il.Emit(OpCodes.Ldloc, va[j])
        zero ()
        il.Emit(OpCodes.Call, vo.Eq)
        il.Emit(OpCodes.Ldloc, vat[j])
        zero ()
        il.Emit(OpCodes.Call, vo.Eq)
        zero ()
        il.Emit(OpCodes.Call, vo.Select)
        il.Emit(OpCodes.Stloc, mask)
        let masked (t: unit -> unit) () =
            t ()
            il.Emit(OpCodes.Ldloc, mask)
            il.Emit(OpCodes.Call, vo.AndNot)
        let present (s: Src) = match s with Konst _ | NoOp -> false | _ -> true
        let product (h: LocalBuilder) (s: Src) () =
            if present s then
                il.Emit(OpCodes.Ldloc, h)
                vecOperand il c vo S tv s
                il.Emit(OpCodes.Call, vo.Mul)
            else zero ()
        let dgt = partialTimes il vo vat[j]
        // d·gt needs no mask where d is a finite constant (±1 of +, −, −x and copies; a constant
        // factor of ×): in the lanes the mask zeroes it is ±0 anyway, and these sums are never −0
        let finiteConstant (kk: int) =
            if code = IrLog.Binary + int16 Fun2.Add || code = IrLog.Binary + int16 Fun2.Sub || code = IrLog.CopyCode
               || code = IrLog.Unary + int16 Fun1.Neg then true
            elif code = IrLog.Binary + int16 Fun2.Mul then (match src[1 - kk] with Konst k -> Double.IsFinite k | _ -> false)
            else false
        let dTerm (kk: int) (d: (unit -> unit) option) = if finiteConstant kk then dgt d else masked (dgt d)
        // a product with a constant's tangent is a term +0 (nothing: `atTerms`)
        let terms (kk: int) (d: (unit -> unit) option) (hA: LocalBuilder) (hB: LocalBuilder) =
            [| yield dTerm kk d
               if present src[0] then yield masked (product hA src[0])
               if present src[1] then yield masked (product hB src[1]) |]
        if present src[0] then apply 0 (terms 0 d0 h00 h01)
        if present src[1] then apply 1 (terms 1 d1 h01 h11)

    /// How many terms a lane node's operand kk gets in the joint sweep's adjoint tangents
    /// (`laneAdjointTangents`): d·gt, and a product per operand that is not a constant.
    let private atTerms (pl: LanePlan) (j: int) =
        1 + (pl.Src.[j] |> Array.filter (fun s -> match s with Konst _ | NoOp -> false | _ -> true) |> Array.length)

    /// The sum of the terms pushed by `push` (each pushes one), as a balanced tree of `add`s: depth
    /// log₂ of the count, where a chain of adds would be as long as the count.
    let private balancedSum (push: (unit -> unit)[]) (add: unit -> unit) =
        let rec tree (lo: int) (hi: int) =
            if hi - lo = 1 then push[lo] ()
            else
                let mid = (lo + hi) / 2
                tree lo mid
                tree mid hi
                add ()
        tree 0 push.Length

    /// The lean forward of a lane loop: the lane trips without storing their values (nobody but this
    /// loop reads them; the reverse recomputes them), the last lane trip's carried values stored for
    /// the scalar trips after them (`tail`), which store every value as before. With `tangents`, the
    /// tangents too (in S, as `tangentOf`: the chain's lane by lane, partials 1 and ±1), stored alike;
    /// with `chainTangents` also every chain node's tangent (for the joint second-order sweep).
    let private laneForwardWith (g: Graph) (il: ILGenerator) (pl: LanePlan) (tangents: bool) (chainTangents: bool) (tail: Loop -> unit) =
        let vo = pl.Ops
        let lp = pl.Lp
        let p = lp.Period
        let c = straight V 0 [||]
        let vv = vecLocals il pl (fun j -> not pl.Chain[j]) vo.T
        let h = vecLocals il pl (fun j -> pl.Chain[j]) typeof<float>
        let carry = vecLocals il pl (fun j -> Array.contains j pl.Carried) typeof<float>
        let pick (yes: int -> bool) (t: Type) = if tangents then vecLocals il pl yes t else [||]
        let tv = pick (fun j -> not pl.Chain[j]) vo.T
        let th = pick (fun j -> pl.Chain[j]) typeof<float>
        let tcarry = pick (fun j -> Array.contains j pl.Carried) typeof<float>
        let r = if tangents then il.DeclareLocal vo.T else null
        for j in pl.Carried do
            load il c V (lp.First - p + j) 0
            il.Emit(OpCodes.Stloc, carry[j])
            if tangents then
                load il c S (lp.First - p + j) 0
                il.Emit(OpCodes.Stloc, tcarry[j])
        let strides = if chainTangents then Array.distinct (Array.append (laneStrides pl) [| p |]) else laneStrides pl
        groupLoop il c pl strides false ignore (fun () ->
            laneValues g il c pl vv
            if tangents then laneTangents g il c pl vv tv r
            for k in 0 .. vo.Width - 1 do
                for j in 0 .. p - 1 do
                    if pl.Chain[j] then
                        let operand = chainOperand il c pl vv h carry k
                        let code = g.Code[lp.First + j]
                        operand pl.Src.[j].[0]
                        if code = IrLog.Binary + int16 Fun2.Add then
                            operand pl.Src.[j].[1]
                            il.Emit(OpCodes.Add)
                        elif code = IrLog.Binary + int16 Fun2.Sub then
                            operand pl.Src.[j].[1]
                            il.Emit(OpCodes.Sub)
                        il.Emit(OpCodes.Stloc, h[j])
                        if tangents then
                            // d0·t0 + d1·t1, a constant operand's term 0 (as tangentOf)
                            let ds = if code = IrLog.Binary + int16 Fun2.Sub then [| 1.0; -1.0 |] else [| 1.0; 1.0 |]
                            for kk in 0 .. 1 do
                                match pl.Src.[j].[kk] with
                                | Konst _ | NoOp -> il.Emit(OpCodes.Ldc_R8, 0.0)
                                | s ->
                                    il.Emit(OpCodes.Ldc_R8, ds[kk])
                                    chainOperandOf il c S pl tv th tcarry k s
                                    il.Emit(OpCodes.Mul)
                            il.Emit(OpCodes.Add)
                            il.Emit(OpCodes.Stloc, th[j])
                            if chainTangents then
                                address il c S (lp.First + k * p + j) p
                                il.Emit(OpCodes.Ldloc, th[j])
                                il.Emit(OpCodes.Stind_R8)
                for j in pl.Carried do
                    il.Emit(OpCodes.Ldloc, h[j])
                    il.Emit(OpCodes.Stloc, carry[j])
                    if tangents then
                        il.Emit(OpCodes.Ldloc, th[j])
                        il.Emit(OpCodes.Stloc, tcarry[j])) ignore
        for j in pl.Carried do
            address il c V (lp.First + (pl.Trips - 1) * p + j) 0
            il.Emit(OpCodes.Ldloc, carry[j])
            il.Emit(OpCodes.Stind_R8)
            if tangents then
                address il c S (lp.First + (pl.Trips - 1) * p + j) 0
                il.Emit(OpCodes.Ldloc, tcarry[j])
                il.Emit(OpCodes.Stind_R8)
        tail pl.Tail

    let private laneForward (g: Graph) (il: ILGenerator) (pl: LanePlan) = laneForwardWith g il pl false false (scalarForwardLoop g il)

    /// Chain node j's first partials (+, − or a copy: constants).
    let private chainPartials (g: Graph) (pl: LanePlan) (j: int) =
        if g.Code[pl.Lp.First + j] = IrLog.Binary + int16 Fun2.Sub then [ 1.0; -1.0 ] else [ 1.0; 1.0 ]

    /// Chain node j's adjoint terms in lane k (+, − or a copy: constant partials, no zero test) into
    /// its operands: a chain node's scalar in h, a lane node's lane k in la, the previous trip's
    /// carry, or an adjoint slot in memory. The lane reverse and Hvp's joint lane reverse share it.
    let private chainAdjoints (g: Graph) (il: ILGenerator) (c: Ctx) (pl: LanePlan) (h: LocalBuilder[])
                              (la: LocalBuilder[][]) (carry: LocalBuilder[]) (k: int) (j: int) =
        let lp = pl.Lp
        for (kk, d) in List.indexed (chainPartials g pl j) do
            // target + d·w
            let term () =
                il.Emit(OpCodes.Ldc_R8, d)
                il.Emit(OpCodes.Ldloc, h[j])
                il.Emit(OpCodes.Mul)
                il.Emit(OpCodes.Add)
            let into (loc: LocalBuilder) =
                il.Emit(OpCodes.Ldloc, loc)
                term ()
                il.Emit(OpCodes.Stloc, loc)
            match pl.Src.[j].[kk] with
            | Same j' when pl.Chain[j'] -> into h[j']
            | Same j' -> into la.[j'].[k]
            | Prev j' ->
                // the previous trip's node: this is its only term (0 + d·w, as the sweep's)
                il.Emit(OpCodes.Ldc_R8, 0.0)
                term ()
                il.Emit(OpCodes.Stloc, carry[j'])
            | Ext(b, st) ->
                address il c A (b + st * k) st
                load il c A (b + st * k) st
                term ()
                il.Emit(OpCodes.Stind_R8)
            | _ -> ()

    /// The reverse sweep of a lane loop: the scalar trips after the lane trips first (`tail`), then
    /// the lane trips, W at a time from the last. The lean sweep (adjoints) and, with `second`, Hvp's
    /// joint sweep: the adjoint tangents too (in AT, as `reverseTangent`: every operand's
    /// at + d·gt + h·s + h·s, the second partials times the adjoint, where the adjoint or the adjoint
    /// tangent is not zero), the lane nodes' tangents recomputed with their values and the chain
    /// nodes' read from memory (the joint forward pass stores them). Both arguments' memory terms
    /// take the same route: strided groups, the register shift of overlapping slices, broadcasts.
    let private atShifts = [| 0L |]
    /// Register shifts of adjoint tangents emitted so far by Hvp's joint lane sweeps (for tests).
    let adjointTangentShifts () = Threading.Interlocked.Read &atShifts.[0]

    let private laneReverseOf (g: Graph) (il: ILGenerator) (pl: LanePlan) (second: bool) (tail: Loop -> unit) =
        tail pl.Tail
        let lp = pl.Lp
        let p = lp.Period
        let vo = pl.Ops
        let width = vo.Width
        let c = straight A 0 [||]
        let isCarried (j: int) = Array.contains j pl.Carried
        let vv = vecLocals il pl (fun j -> not pl.Chain[j]) vo.T
        let va = vecLocals il pl (fun j -> not pl.Chain[j]) vo.T
        let h = vecLocals il pl (fun j -> pl.Chain[j]) typeof<float>
        let carry = vecLocals il pl isCarried typeof<float>
        let la = Array.init p (fun j -> if pl.FromChain[j] then Array.init width (fun _ -> il.DeclareLocal typeof<float>) else null)
        let sites =
            [ for (_, _, ss) in pl.Strided do yield! ss
              for sh in pl.Shifts do for (_, ss) in sh.Keys do yield! ss
              for (_, ss) in pl.Broadcast do yield! ss ]
        let terms = Collections.Generic.Dictionary<struct (int * int), LocalBuilder>()
        for (j, k) in sites do terms[struct (j, k)] <- il.DeclareLocal vo.T
        let r = il.DeclareLocal vo.T
        let acc = il.DeclareLocal vo.T
        let zmask = il.DeclareLocal vo.T
        let sacc = il.DeclareLocal typeof<float>
        // a shift's slots t … t + W − 1 (lo) and those the group above passed on (hi)
        let lo = pl.Shifts |> List.map (fun _ -> il.DeclareLocal vo.T) |> Array.ofList
        let hi = pl.Shifts |> List.map (fun _ -> il.DeclareLocal vo.T) |> Array.ofList
        // second order: tangents, adjoint tangents (lane nodes' vectors, chain nodes' scalars, the
        // carried ones and the three terms each carried node last got), each memory site's three
        // terms, the shifts' registers of the adjoint tangents
        let pick (yes: int -> bool) (t: Type) = if second then vecLocals il pl yes t else [||]
        let tv = pick (fun j -> not pl.Chain[j]) vo.T
        let vat = pick (fun j -> not pl.Chain[j]) vo.T
        let hat = pick (fun j -> pl.Chain[j]) typeof<float>
        let catc = pick isCarried typeof<float>
        let cterms = Array.init p (fun j -> if second && isCarried j then Array.init 3 (fun _ -> il.DeclareLocal typeof<float>) else null)
        let lat = Array.init p (fun j -> if second && pl.FromChain[j] then Array.init width (fun _ -> il.DeclareLocal typeof<float>) else null)
        let termsAt = Collections.Generic.Dictionary<struct (int * int), LocalBuilder[]>()
        if second then for (j, k) in sites do termsAt[struct (j, k)] <- Array.init (atTerms pl j) (fun _ -> il.DeclareLocal vo.T)
        let hs = if second then Array.init 4 (fun _ -> il.DeclareLocal vo.T) else [||]
        // a chain node's terms: d·gt for each operand, the two products
        let ct = if second then Array.init 4 (fun _ -> il.DeclareLocal typeof<float>) else [||]
        // the chain nodes' adjoints in each lane, and the sum of their adjoint tangents' products
        let hk = Array.init p (fun j -> if second && pl.Chain[j] then Array.init width (fun _ -> il.DeclareLocal typeof<float>) else null)
        let zsum = if second then il.DeclareLocal typeof<float> else null
        let loT = if second then pl.Shifts |> List.map (fun _ -> il.DeclareLocal vo.T) |> Array.ofList else [||]
        let hiT = if second then pl.Shifts |> List.map (fun _ -> il.DeclareLocal vo.T) |> Array.ofList else [||]
        // the arguments swept: memory, each site's terms in the order they are added, shift registers
        let swept =
            [ yield A, (fun (j, k) -> [ terms[struct (j, k)] ]), lo, hi
              if second then yield AT, (fun (j, k) -> List.ofArray termsAt[struct (j, k)]), loT, hiT ]
        if second then Threading.Interlocked.Add(&atShifts.[0], int64 pl.Shifts.Length) |> ignore
        let present (src: Src) = match src with Konst _ | NoOp -> false | _ -> true
        let lowLanes (d: int) = Array.init width (fun k -> if k < d then -1L else 0L)
        let rotate (d: int) = Array.init width (fun k -> int64 ((k + d) % width))
        // the carried nodes' adjoints (and adjoint tangents) in the last lane trip, as the scalar trips left them
        for j in pl.Carried do
            load il c A (lp.First + (pl.Trips - 1) * p + j) 0
            il.Emit(OpCodes.Stloc, carry[j])
            if second then
                load il c AT (lp.First + (pl.Trips - 1) * p + j) 0
                il.Emit(OpCodes.Stloc, catc[j])
        // a shift's slots above the lane trips (the scalar trips' terms are in), lanes d < DMax
        for (arg, _, _, hiOf) in swept do
            for (x, sh) in List.indexed pl.Shifts do
                for k in 0 .. width - 1 do
                    if k < sh.DMax then load il c arg (sh.B + sh.St * (pl.Trips + k)) 0 else il.Emit(OpCodes.Ldc_R8, 0.0)
                il.Emit(OpCodes.Call, vo.CreateN)
                il.Emit(OpCodes.Stloc, hiOf[x])
        // (the chain nodes' tangents are in memory at stride Period)
        let strides = if second then Array.distinct (Array.append (laneStrides pl) [| p |]) else laneStrides pl
        groupLoop il c pl strides true ignore (fun () ->
            laneValues g il c pl vv
            if second then laneTangents g il c pl vv tv r
            for j in 0 .. p - 1 do
                if pl.FromChain[j] then
                    for k in 0 .. width - 1 do
                        il.Emit(OpCodes.Ldc_R8, 0.0)
                        il.Emit(OpCodes.Stloc, la[j][k])
                        if second then
                            il.Emit(OpCodes.Ldc_R8, 0.0)
                            il.Emit(OpCodes.Stloc, lat[j][k])
            // the chain, lane by lane from the last trip (+, − and copies: constant partials, no zero test)
            for k = width - 1 downto 0 do
                for j in 0 .. p - 1 do
                    if pl.Chain[j] then
                        if isCarried j then il.Emit(OpCodes.Ldloc, carry[j]) else il.Emit(OpCodes.Ldc_R8, 0.0)
                        il.Emit(OpCodes.Stloc, h[j])
                for j = p - 1 downto 0 do
                    if pl.Chain[j] then
                        chainAdjoints g il c pl h la carry k j
                        // (its adjoint is complete here: its readers come later in the trip)
                        if second then
                            il.Emit(OpCodes.Ldloc, h[j])
                            il.Emit(OpCodes.Stloc, hk[j][k])
            if second then
                // the chain's adjoint tangents (as reverseTangent's node): operand kk's d·gt, then the
                // second partials' products — for +, − and copies 0·w times each operand's tangent, the
                // same two for both operands; none where w = gt = 0. Every product is ±0 or NaN: their
                // sum z is ±0 when all are ±0 (w and the tangents finite), and then each operand's terms
                // come to x + d·gt exactly (these sums are never −0, and x + ±0 is x there) — the adjoint
                // tangents' carry takes one add per trip, as the adjoints', instead of three.
                let tangent (k: int) (s: Src) =
                    match s with
                    | Same j' when pl.Chain[j'] -> load il c S (lp.First + k * p + j') p
                    | Prev j' -> load il c S (lp.First + (k - 1) * p + j') p
                    | Same j' ->
                        il.Emit(OpCodes.Ldloc, tv[j'])
                        il.Emit(OpCodes.Ldc_I4, k)
                        il.Emit(OpCodes.Call, vo.Get)
                    | Ext(b, st) -> load il c S (b + st * k) st
                    | _ -> invalidOp "Hybrid internal error: a chain operand without a tangent"
                let zeroInto (loc: LocalBuilder) =
                    il.Emit(OpCodes.Ldc_R8, 0.0)
                    il.Emit(OpCodes.Stloc, loc)
                let t0, q = ct[0 .. 1], ct[2 .. 3]
                // q[kk] = (0·w)·s of operand kk (0 where it has none)
                let products (k: int) (j: int) =
                    il.Emit(OpCodes.Ldc_R8, 0.0)
                    il.Emit(OpCodes.Ldloc, hk[j][k])
                    il.Emit(OpCodes.Mul)
                    il.Emit(OpCodes.Stloc, sacc)
                    for kk in 0 .. 1 do
                        if present pl.Src.[j].[kk] then
                            il.Emit(OpCodes.Ldloc, sacc)
                            tangent k pl.Src.[j].[kk]
                            il.Emit(OpCodes.Mul)
                            il.Emit(OpCodes.Stloc, q[kk])
                        else zeroInto q[kk]
                // every product is ±0 exactly when the adjoints w and the tangents are finite, i.e.
                // (as the lane nodes' check) when their sum is: zsum = (Σ w + Σ s)·0, a balanced tree
                // of adds and one product (the every-term code computes the products themselves)
                let qs =
                    [| for k = width - 1 downto 0 do
                        for j = p - 1 downto 0 do
                            if pl.Chain[j] then
                                yield (fun () -> il.Emit(OpCodes.Ldloc, hk[j][k]))
                                for kk in 0 .. 1 do
                                    if present pl.Src.[j].[kk] then yield (fun () -> tangent k pl.Src.[j].[kk]) |]
                balancedSum qs (fun () -> il.Emit(OpCodes.Add))
                il.Emit(OpCodes.Ldc_R8, 0.0)
                il.Emit(OpCodes.Mul)
                il.Emit(OpCodes.Stloc, zsum)
                let slow = il.DefineLabel()
                let fin = il.DefineLabel()
                il.Emit(OpCodes.Ldloc, zsum)
                il.Emit(OpCodes.Ldc_R8, 0.0)
                il.Emit(OpCodes.Bne_Un, slow)
                for fast in [ true; false ] do
                    if not fast then il.MarkLabel slow
                    for k = width - 1 downto 0 do
                        for j in 0 .. p - 1 do
                            if pl.Chain[j] then
                                if isCarried j then il.Emit(OpCodes.Ldloc, catc[j]) else il.Emit(OpCodes.Ldc_R8, 0.0)
                                il.Emit(OpCodes.Stloc, hat[j])
                        for j = p - 1 downto 0 do
                            if pl.Chain[j] then
                                let ds = chainPartials g pl j
                                let src = pl.Src.[j]
                                for kk in 0 .. 1 do
                                    if present src[kk] then
                                        il.Emit(OpCodes.Ldc_R8, ds[kk])
                                        il.Emit(OpCodes.Ldloc, hat[j])
                                        il.Emit(OpCodes.Mul)
                                        il.Emit(OpCodes.Stloc, t0[kk])
                                // x + the terms of operand kk: d·gt alone (fast), or every term in
                                // reverseTangent's order, ((x + d·gt) + h·s) + h·s (a term +0 adds nothing)
                                let terms (kk: int) = if fast then [ t0[kk] ] else [ t0[kk]; q[0]; q[1] ]
                                if not fast then
                                    products k j
                                    let go = il.DefineLabel()
                                    il.Emit(OpCodes.Ldloc, hk[j][k])
                                    il.Emit(OpCodes.Ldc_R8, 0.0)
                                    il.Emit(OpCodes.Bne_Un, go)
                                    il.Emit(OpCodes.Ldloc, hat[j])
                                    il.Emit(OpCodes.Ldc_R8, 0.0)
                                    il.Emit(OpCodes.Bne_Un, go)
                                    for loc in ct do zeroInto loc
                                    il.MarkLabel go
                                let sum (kk: int) =
                                    for loc in terms kk do
                                        il.Emit(OpCodes.Ldloc, loc)
                                        il.Emit(OpCodes.Add)
                                let into (kk: int) (loc: LocalBuilder) =
                                    il.Emit(OpCodes.Ldloc, loc)
                                    sum kk
                                    il.Emit(OpCodes.Stloc, loc)
                                for kk in 0 .. 1 do
                                    match src[kk] with
                                    | Same j' when pl.Chain[j'] -> into kk hat[j']
                                    | Same j' -> into kk lat.[j'].[k]
                                    | Prev j' ->
                                        // (what trip 0 passes on is added to the node before the loop at the end)
                                        for (slot, loc) in List.indexed (terms kk) do
                                            il.Emit(OpCodes.Ldloc, loc)
                                            il.Emit(OpCodes.Stloc, cterms.[j'].[slot])
                                        if fast then
                                            zeroInto cterms.[j'].[1]
                                            zeroInto cterms.[j'].[2]
                                        il.Emit(OpCodes.Ldc_R8, 0.0)
                                        sum kk
                                        il.Emit(OpCodes.Stloc, catc[j'])
                                    | Ext(b, st) ->
                                        address il c AT (b + st * k) st
                                        load il c AT (b + st * k) st
                                        sum kk
                                        il.Emit(OpCodes.Stind_R8)
                                    | _ -> ()
                    if fast then il.Emit(OpCodes.Br, fin)
                il.MarkLabel fin
            // the lane nodes, descending, W trips at once
            for j in 0 .. p - 1 do
                if not pl.Chain[j] then
                    for (from, into) in [ yield la, va
                                          if second then yield lat, vat ] do
                        if pl.FromChain[j] then
                            for k in 0 .. width - 1 do il.Emit(OpCodes.Ldloc, from[j][k])
                            il.Emit(OpCodes.Call, vo.CreateN)
                        else il.Emit(OpCodes.Call, vo.Zero)
                        il.Emit(OpCodes.Stloc, into[j])
            // lane node j's partials (as Interpreter.partials; None: the constant 1), and whether a
            // zero adjoint must skip them; a partial of 1 is no product (1·w is w, bit for bit: the
            // scalar sweep's product). `unused`: the partial of an operand a unary node lacks. (÷
            // computes r = 1/y here.)
            let partialsOf (j: int) =
                    let code = g.Code[lp.First + j]
                    let op (k: int) = vecOperand il c vo V vv pl.Src.[j].[k]
                    let konst (x: float) () =
                        il.Emit(OpCodes.Ldc_R8, x)
                        il.Emit(OpCodes.Call, vo.Create1)
                    let unused = Some ignore
                    let (d0: (unit -> unit) option), (d1: (unit -> unit) option), masked =
                        if code >= IrLog.Binary then
                            match enum<Fun2> (int (code - IrLog.Binary)) with
                            | Fun2.Add -> None, None, false
                            | Fun2.Sub -> None, Some(konst -1.0), false
                            | Fun2.Mul -> Some(fun () -> op 1), Some(fun () -> op 0), true
                            | _ ->
                                // ÷: r = 1/y, (r, −(fz·r)) as the table's row
                                konst 1.0 ()
                                op 1
                                il.Emit(OpCodes.Call, vo.Div)
                                il.Emit(OpCodes.Stloc, r)
                                Some(fun () -> il.Emit(OpCodes.Ldloc, r)),
                                Some(fun () ->
                                    il.Emit(OpCodes.Ldloc, vv[j])
                                    il.Emit(OpCodes.Ldloc, r)
                                    il.Emit(OpCodes.Call, vo.Mul)
                                    konst -0.0 ()
                                    il.Emit(OpCodes.Call, vo.Xor)),
                                true
                        elif code >= IrLog.Unary then
                            match enum<Fun1> (int (code - IrLog.Unary)) with
                            | Fun1.Neg -> Some(konst -1.0), unused, false
                            | _ ->
                                Some(fun () ->
                                    konst 2.0 ()
                                    op 0
                                    il.Emit(OpCodes.Call, vo.Mul)),
                                unused, true
                        else None, unused, false
                    d0, d1, masked
            for j = p - 1 downto 0 do
                if not pl.Chain[j] then
                    let (d0: (unit -> unit) option), (d1: (unit -> unit) option), masked = partialsOf j
                    if masked then
                        // a zero adjoint is a symbolic zero: its lanes add nothing (the mask: lanes ≠ 0)
                        il.Emit(OpCodes.Ldloc, va[j])
                        il.Emit(OpCodes.Call, vo.Zero)
                        il.Emit(OpCodes.Call, vo.Eq)
                        il.Emit(OpCodes.Stloc, zmask)
                    let term (d: (unit -> unit) option) =
                        match d with
                        | None -> il.Emit(OpCodes.Ldloc, va[j])
                        | Some d ->
                            d ()
                            il.Emit(OpCodes.Ldloc, va[j])
                            il.Emit(OpCodes.Call, vo.Mul)
                            if masked then
                                il.Emit(OpCodes.Ldloc, zmask)
                                il.Emit(OpCodes.Call, vo.AndNot)
                    for (kk, d) in [ (0, d0); (1, d1) ] do
                        match pl.Src.[j].[kk] with
                        | Same j' ->
                            il.Emit(OpCodes.Ldloc, va[j'])
                            term d
                            il.Emit(OpCodes.Call, vo.Add)
                            il.Emit(OpCodes.Stloc, va[j'])
                        | Ext _ ->
                            term d
                            il.Emit(OpCodes.Stloc, terms[struct (j, kk)])
                        | _ -> ()
            if second then
                // the lane nodes' adjoint tangents, descending. Each term goes to operand kk's adjoint
                // tangent (a vector of the trip) or to its memory site's slots (`atTerms` of them; a
                // dropped term's slot +0, which adds nothing: these sums are never −0).
                let into (j: int) (kk: int) (t: (unit -> unit) option[]) =
                    match pl.Src.[j].[kk] with
                    | Same j' ->
                        il.Emit(OpCodes.Ldloc, vat[j'])
                        for q in t do
                            match q with
                            | Some q ->
                                q ()
                                il.Emit(OpCodes.Call, vo.Add)
                            | None -> ()
                        il.Emit(OpCodes.Stloc, vat[j'])
                    | Ext _ ->
                        t |> Array.iteri (fun q e ->
                            (match e with Some e -> e () | None -> il.Emit(OpCodes.Call, vo.Zero))
                            il.Emit(OpCodes.Stloc, termsAt[struct (j, kk)][q]))
                    | _ -> ()
                let exact (j: int) =
                    let d0, d1, _ = partialsOf j
                    laneAdjointTangents g il c pl vv tv va vat r hs d0 d1 j (fun kk t -> into j kk (Array.map Some t))
                // the rows whose terms simplify where the values are finite: +, −, −x, copies (d = ±1, every
                // second partial 0) and × (d the other operand, the second partials 0, 1, 0), a constant
                // operand finite
                let bin (f: Fun2) = IrLog.Binary + int16 f
                let simple (j: int) =
                    let code = g.Code[lp.First + j]
                    (code = bin Fun2.Add || code = bin Fun2.Sub || code = bin Fun2.Mul || code = IrLog.CopyCode || code = IrLog.Unary + int16 Fun1.Neg)
                    && pl.Src.[j] |> Array.forall (fun s -> match s with Konst k -> Double.IsFinite k | _ -> true)
                let lanes = [ for j = p - 1 downto 0 do if not pl.Chain[j] && g.Code[lp.First + j] <> IrLog.ConstantCode then yield j ]
                if lanes |> List.exists simple then
                    // z = (Σ q)·0 over the simple nodes' adjoints, their operands' tangents and (×)
                    // values: ±0 only when the sum is finite, so when every q is (an ∞ or a NaN among
                    // them makes it ∞ or NaN; finite ones overflowing to ∞ only take the every-term
                    // code, which gives the same numbers). Then each term 0·w·s is ±0 and each masked
                    // lane's d·gt and w·s too, so the terms come to the d·gt and w·s alone, exactly.
                    // The sum is a balanced tree (depth log₂ of the count: no long add chain per group)
                    // and one product, where a product by 0 per q and a chain of adds cost twice the work.
                    let qs =
                        [| for j in lanes do
                            if simple j then
                                yield (fun () -> il.Emit(OpCodes.Ldloc, va[j]))
                                for s in pl.Src.[j] do
                                    if present s then
                                        yield (fun () -> vecOperand il c vo S tv s)
                                        if g.Code[lp.First + j] = bin Fun2.Mul then yield (fun () -> vecOperand il c vo V vv s) |]
                    let slowPath = il.DefineLabel()
                    let fin = il.DefineLabel()
                    balancedSum qs (fun () -> il.Emit(OpCodes.Call, vo.Add))
                    il.Emit(OpCodes.Call, vo.Zero)
                    il.Emit(OpCodes.Call, vo.Mul)
                    il.Emit(OpCodes.Call, vo.Zero)
                    il.Emit(OpCodes.Call, vo.T.GetMethod("op_Equality", [| vo.T; vo.T |]))
                    il.Emit(OpCodes.Brfalse, slowPath)
                    for j in lanes do
                        if simple j then
                            let code = g.Code[lp.First + j]
                            let src = pl.Src.[j]
                            let d0, d1, _ = partialsOf j
                            let dgt = partialTimes il vo vat[j]
                            let ws (s: Src) () =
                                il.Emit(OpCodes.Ldloc, va[j])
                                vecOperand il c vo S tv s
                                il.Emit(OpCodes.Call, vo.Mul)
                            // operand kk's terms in `atTerms`' slots: d·gt, then one per operand present —
                            // × has w·s of the other operand (h01 = 1·w), every other product is 0·w·s
                            let terms (kk: int) (d: (unit -> unit) option) =
                                [| yield Some(dgt d)
                                   for k2 in 0 .. 1 do
                                       if present src[k2] then
                                           yield (if code = bin Fun2.Mul && k2 <> kk then Some(ws src.[k2]) else None) |]
                            if present src[0] then into j 0 (terms 0 d0)
                            if present src[1] then into j 1 (terms 1 d1)
                        else exact j
                    il.Emit(OpCodes.Br, fin)
                    il.MarkLabel slowPath
                    for j in lanes do exact j
                    il.MarkLabel fin
                else
                    for j in lanes do exact j
            for (arg, termsOf, loOf, hiOf) in swept do
                let add (ss: (int * int) list) =
                    for site in ss do
                        for t in termsOf site do
                            il.Emit(OpCodes.Ldloc, t)
                            il.Emit(OpCodes.Call, vo.Add)
                // the terms into memory, each slot's in the scalar sweep's order
                let start (b: int) (st: int) =
                    if List.contains (b, st) pl.Fresh then il.Emit(OpCodes.Call, vo.Zero) else vLoadAt il c vo arg b st
                for (b, st, ss) in pl.Strided do
                    start b st
                    add ss
                    il.Emit(OpCodes.Stloc, acc)
                    vStoreAt il c vo arg b st acc
                // the shifts: slots t … t + W − 1 loaded (untouched so far), each offset's terms added in
                // order (offset d's vector is slots t + d … t + d + W − 1: lo's lanes ≥ d, hi's < d),
                // slots t + DMax … stored complete, lo passed on to the group below
                for (x, sh) in List.indexed pl.Shifts do
                    let lo, hi = loOf[x], hiOf[x]
                    start sh.B sh.St
                    il.Emit(OpCodes.Stloc, lo)
                    for (d, ss) in sh.Keys do
                        if d = 0 then
                            il.Emit(OpCodes.Ldloc, lo)
                            add ss
                            il.Emit(OpCodes.Stloc, lo)
                        else
                            vConst il vo true (lowLanes d)
                            il.Emit(OpCodes.Ldloc, hi)
                            il.Emit(OpCodes.Ldloc, lo)
                            il.Emit(OpCodes.Call, vo.Select)
                            vConst il vo false (rotate d)
                            il.Emit(OpCodes.Call, vo.Shuffle)
                            add ss
                            il.Emit(OpCodes.Stloc, acc)
                            if d = sh.DMax then vStoreAt il c vo arg (sh.B + sh.St * d) sh.St acc
                            else
                                // back into lo (lanes ≥ d) and hi (lanes < d)
                                il.Emit(OpCodes.Ldloc, acc)
                                vConst il vo false (rotate (width - d))
                                il.Emit(OpCodes.Call, vo.Shuffle)
                                il.Emit(OpCodes.Stloc, acc)
                                vConst il vo true (lowLanes d)
                                il.Emit(OpCodes.Ldloc, lo)
                                il.Emit(OpCodes.Ldloc, acc)
                                il.Emit(OpCodes.Call, vo.Select)
                                il.Emit(OpCodes.Stloc, lo)
                                vConst il vo true (lowLanes d)
                                il.Emit(OpCodes.Ldloc, acc)
                                il.Emit(OpCodes.Ldloc, hi)
                                il.Emit(OpCodes.Call, vo.Select)
                                il.Emit(OpCodes.Stloc, hi)
                    il.Emit(OpCodes.Ldloc, lo)
                    il.Emit(OpCodes.Stloc, hi)
                for (b, ss) in pl.Broadcast do
                    load il c arg b 0
                    il.Emit(OpCodes.Stloc, sacc)
                    for k = width - 1 downto 0 do
                        for site in ss do
                            for t in termsOf site do
                                il.Emit(OpCodes.Ldloc, sacc)
                                il.Emit(OpCodes.Ldloc, t)
                                il.Emit(OpCodes.Ldc_I4, k)
                                il.Emit(OpCodes.Call, vo.Get)
                                il.Emit(OpCodes.Add)
                                il.Emit(OpCodes.Stloc, sacc)
                    address il c arg b 0
                    il.Emit(OpCodes.Ldloc, sacc)
                    il.Emit(OpCodes.Stind_R8)) ignore
        // a shift's lowest slots (trips 0 … DMax − 1 of offset 0: no lower trip adds to them)
        for (arg, _, _, hiOf) in swept do
            for (x, sh) in List.indexed pl.Shifts do
                for k in 0 .. sh.DMax - 1 do
                    address il c arg (sh.B + sh.St * k) 0
                    il.Emit(OpCodes.Ldloc, hiOf[x])
                    il.Emit(OpCodes.Ldc_I4, k)
                    il.Emit(OpCodes.Call, vo.Get)
                    il.Emit(OpCodes.Stind_R8)
        // trip 0's carried terms belong to the nodes before the loop
        for j in pl.Carried do
            let b = lp.First - p + j
            address il c A b 0
            load il c A b 0
            il.Emit(OpCodes.Ldloc, carry[j])
            il.Emit(OpCodes.Add)
            il.Emit(OpCodes.Stind_R8)
            if second then
                address il c AT b 0
                load il c AT b 0
                for q in 0 .. 2 do
                    il.Emit(OpCodes.Ldloc, cterms[j][q])
                    il.Emit(OpCodes.Add)
                il.Emit(OpCodes.Stind_R8)

    /// The lean reverse of a lane loop (adjoints only; the scalar trips after the lane trips first).
    let private laneReverse (g: Graph) (il: ILGenerator) (pl: LanePlan) =
        laneReverseOf g il pl false (scalarReverseLoop g false il)

    /// The adjoint sweep, pieces in reverse order (run them from the last). A chunk (a loop's trip)
    /// keeps its own nodes' adjoints in locals (loaded once: what later pieces, trips and the seed put
    /// there), adds into other slots in memory, and — with `keep`, for the second-order passes over
    /// the tape, which read them — writes each back when its node's turn comes. Without `keep`, only
    /// the inputs' adjoints, the gradient, are left in memory complete, and loops run in lanes of
    /// width w (0: none) where they can (reading the values `forwardLeanAt` leaves; memory zero where
    /// `leanClearAt` says).
    let reverseAt (w: int) (g: Graph) (loops: Loop[]) (keep: bool) : PassFn[] =
        if keep then scalarReverse g loops true
        else
            let plans = lanePlans w g loops
            build "Hybrid.Compiled.Reverse" g loops 96 (reverseChunk g false) (fun il lp ->
                match plans.TryGetValue lp.First with
                | true, pl -> laneReverse g il pl
                | _ -> scalarReverseLoop g false il lp) matReverse

    /// The values for `Value` and the lean reverse sweep: `forward`'s, but loops running in lanes
    /// (of width w; 0: none) store only what code after them reads (the rest of their values are
    /// left as they were).
    let forwardLeanAt (w: int) (g: Graph) (loops: Loop[]) : PassFn[] =
        let plans = lanePlans w g loops
        build "Hybrid.Compiled.Forward" g loops 40 (forwardChunk g) (fun il lp ->
            match plans.TryGetValue lp.First with
            | true, pl -> laneForward g il pl
            | _ -> scalarForwardLoop g il lp) matForward

    /// The adjoint slots the lean reverse sweep (lanes of width w) reads before it writes them, as
    /// (start, length) ranges: it needs them zero (with the seed) and leaves the rest — a lane
    /// loop's trips but its last W or fewer — unread.
    let leanClearAt (w: int) (g: Graph) (loops: Loop[]) : struct (int * int)[] =
        let plans = lanePlans w g loops
        let r = ResizeArray<struct (int * int)>()
        let mutable s = 0
        for lp in loops do
            match plans.TryGetValue lp.First with
            | true, pl ->
                let skipEnd = lp.First + (pl.Trips - 1) * lp.Period
                if lp.First > s then r.Add(struct (s, lp.First - s))
                s <- skipEnd
            | _ -> ()
        if g.Count > s then r.Add(struct (s, g.Count - s))
        // less the slots the lane groups start at zero themselves
        let fresh = [ for KeyValue(_, pl) in plans do for (b, _) in pl.Fresh -> struct (b, b + pl.Trips) ] |> List.sortBy (fun (struct (b, _)) -> b)
        [| for struct (start, length) in r do
            let mutable a = start
            let e = start + length
            for struct (fb, fe) in fresh do
                if fe > a && fb < e then
                    if fb > a then yield struct (a, fb - a)
                    a <- max a fe
            if a < e then yield struct (a, e - a) |]

    let private widthOf (lanes: bool) = if lanes then laneWidth () else 0
    /// `reverseAt`, `forwardLeanAt`, `leanClearAt` at the machine's width with lanes on, none with
    /// them off (for tests comparing lanes with the scalar loops).
    let reverseWith (lanes: bool) g loops keep = reverseAt (widthOf lanes) g loops keep
    let forwardLeanWith (lanes: bool) g loops = forwardLeanAt (widthOf lanes) g loops
    let leanClearWith (lanes: bool) g loops = leanClearAt (widthOf lanes) g loops

    /// `reverseWith`, `forwardLeanWith`, `leanClearWith` with lanes where `Lanes` allows them.
    let reverse (g: Graph) (loops: Loop[]) (keep: bool) = reverseWith Lanes g loops keep
    let forwardLean (g: Graph) (loops: Loop[]) = forwardLeanWith Lanes g loops
    let leanClear (g: Graph) (loops: Loop[]) = leanClearWith Lanes g loops

    // ------------------------------------------------------------------------------ in place
    //
    // `GradAndValue` and `Value` run the lean passes over the caller's x and gradient: the inputs'
    // values are read from x, their adjoints accumulated into the gradient, so nothing is copied in
    // or out (x into the workspace, the gradient back: 4 of the about 9 passes over n doubles a
    // sliced function's call made at 10⁶). The passes below take x as argument S (the guards as
    // their second argument) and the gradient as argument AT; called with S = V and AT = A (x
    // copied into the workspace) they are the passes above.

    /// True when a path's lean passes can run in place: no matrix node (its rules address the
    /// workspace), and every loop's operand ranges (the guard loops' too) lie wholly among the
    /// inputs' slots or wholly past them.
    let inPlaceOk (g: Graph) (loops: Loop[]) (guardLoops: Loop[]) =
        let n = int64 g.N
        let within (b: int) (st: int) (trips: int) =
            b < 0 || (let e = int64 b + int64 st * int64 (trips - 1) in max (int64 b) e < n || min (int64 b) e >= n)
        g.Mats.Length = 0
        && loops |> Array.forall (fun lp ->
            Array.init lp.Period id |> Array.forall (fun j ->
                within g.A0[lp.First + j] lp.Stride0[j] lp.Trips && within g.A1[lp.First + j] lp.Stride1[j] lp.Trips))
        && guardLoops |> Array.forall (fun lp ->
            Array.init lp.Period id |> Array.forall (fun j ->
                let q = g.Guards[lp.First + j]
                within q.SlotA lp.Stride0[j] lp.Trips && within q.SlotB lp.Stride1[j] lp.Trips))

    /// Emits (`emit`) with the inputs' slots of V, A and S redirected to arguments toV, toA, toS
    /// (when `on`).
    let private inPlace (g: Graph) (on: bool) (struct (toV: int16, toA: int16, toS: int16)) (emit: unit -> 'T) : 'T =
        InPlace.Inputs <- (if on then g.N else 0)
        InPlace.Set(toV, toA, toS)
        try emit () finally InPlace.Inputs <- 0

    /// `forwardLean` reading the inputs' values through argument S (when `on`: `inPlaceOk`).
    let forwardLeanInPlace (g: Graph) (loops: Loop[]) (on: bool) = inPlace g on (struct (S, AT, S)) (fun () -> forwardLean g loops)
    /// The lean `reverse` reading the inputs' values through argument S and adding their adjoints
    /// into argument AT (when `on`).
    let reverseInPlace (g: Graph) (loops: Loop[]) (on: bool) = inPlace g on (struct (S, AT, S)) (fun () -> reverse g loops false)
    /// `guards` reading the inputs' values through the second argument (when `on`).
    let guardsInPlace (g: Graph) (loops: Loop[]) (on: bool) : GuardInPlaceFn[] =
        inPlace g on (struct (A, A, S)) (fun () -> guardsAs<GuardInPlaceFn> [| typeof<nativeint>; typeof<nativeint> |] g loops)

    /// Loops of g that run in lanes (of width w) in the lean passes (for tests and benchmarks).
    let laneLoopsAt (w: int) (g: Graph) (loops: Loop[]) = (lanePlans w g loops).Count
    let laneLoops (g: Graph) (loops: Loop[]) = laneLoopsAt (widthOf Lanes) g loops

    /// Per loop, the offsets of the overlapping slices whose adjoints pass through registers, at
    /// width w (for tests).
    let laneShiftsAt (w: int) (g: Graph) (loops: Loop[]) : int[][] =
        let plans = lanePlans w g loops
        loops |> Array.map (fun lp ->
            match plans.TryGetValue lp.First with
            | true, pl -> pl.Shifts |> List.map (fun sh -> sh.DMax) |> Array.ofList
            | _ -> [||])

    /// Per loop, why it stays scalar (null: it runs in lanes). For tests and benchmarks.
    let laneReasons (g: Graph) (loops: Loop[]) : string[] =
        let reads = memReads g loops
        let last = lastReaders g
        loops |> Array.map (fun lp -> match lanePlan (widthOf Lanes) g reads last lp with Choice1Of2 _ -> null | Choice2Of2 why -> why)

    /// Node n's tangent, on the stack: its first partials (values through cv) times its operands'
    /// tangents (through cs), summed; 0 for a constant. Shared by the tangent and Jvp passes.
    let private tangentOf (il: ILGenerator) (l: Locals) (cv: Ctx) (cs: Ctx) (g: Graph) (n: Site) =
        let i = n.I
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

    /// The tangent pass, pieces in order (tangents of a chunk's or a trip's own nodes held in locals).
    let tangent (g: Graph) (loops: Loop[]) : PassFn[] =
        let node (il: ILGenerator) (l: Locals) (c: Ctx) (n: Site) =
            let i = n.I
            address il c S i n.Stride
            tangentOf il l c c g n
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
            (fun m -> PassFn(fun pv _ ps _ -> m.TangentAt(pv, ps)))

    /// Node n's terms into its operands' adjoint tangents in memory (as Interpreter.reverseTangent):
    /// at[j] + d0·gt + h00·s[j] + h01·s[k] and at[k] + d1·gt + h01·s[j] + h11·s[k], the partials in
    /// D0, D1, the second partials times the adjoint in H00 … H11, the adjoint tangent in Gt.
    let private adjointTangentTerms (il: ILGenerator) (l: Locals) (c: Ctx) (g: Graph) (n: Site) =
        let i = n.I
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
                adjointTangentTerms il l c g n
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
            (fun m -> PassFn(fun pv pa ps pat -> m.ReverseTangentAt(pv, pa, ps, pat)))

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
    /// outputs and the guards are read: `memReads`, with a loop body node kept when any of its
    /// trips is (one store serves every trip).
    let private readFromMemory (g: Graph) (loops: Loop[]) : bool[] =
        let need = memReads g loops
        for lp in loops do
            for jj in 0 .. lp.Period - 1 do
                let mutable any = false
                for t in 0 .. lp.Trips - 1 do
                    if need[lp.First + jj + lp.Period * t] then any <- true
                if any then
                    for t in 0 .. lp.Trips - 1 do need[lp.First + jj + lp.Period * t] <- true
        need

    /// Jvp's pass: values and tangents in one pass, pieces in order (the forward pass and the
    /// tangent pass fused): each node's value, then its tangent from its first partials (the row's
    /// own code), both held in locals for the rest of the chunk or trip — one visit per node, the
    /// same numbers as `forward` then `tangent`; and only the values and tangents read afterwards
    /// are stored (`readFromMemory`: the outputs', the guards' operands, what other pieces read).
    /// A loop that runs in lanes (of width w, as the lean passes') takes W trips at once, values and
    /// tangents, storing neither but the last lane trip's carried ones. s[0 .. N−1] seeded by the caller.
    /// With `joint` (Hvp's forward pass, for `reverseJoint`): every value and tangent stored but
    /// the lane trips' (which the joint sweep recomputes), their chain nodes' tangents stored.
    let forwardTangentAt (w: int) (joint: bool) (g: Graph) (loops: Loop[]) : PassFn[] =
        let stored = if joint then Array.create g.Count true else readFromMemory g loops
        let plans = lanePlans w g loops
        let node (il: ILGenerator) (l: Locals) (cv: Ctx) (cs: Ctx) (n: Site) =
            let i = n.I
            let keep = stored[i]
            if keep then address il cv V i n.Stride
            valueOf il cv g n
            if keep then il.Emit(OpCodes.Dup)
            il.Emit(OpCodes.Stloc, cv.Held[i - cv.HFirst])
            if keep then il.Emit(OpCodes.Stind_R8)
            if keep then address il cs S i n.Stride
            tangentOf il l cv cs g n
            if keep then il.Emit(OpCodes.Dup)
            il.Emit(OpCodes.Stloc, cs.Held[i - cs.HFirst])
            if keep then il.Emit(OpCodes.Stind_R8)
        let pair (il: ILGenerator) (first: int) (count: int) (stride: int) =
            let cv = { straight V first (heldLocals il count) with HStride = stride }
            cv, { cv with HArg = S; Held = heldLocals il count; Carry = Collections.Generic.Dictionary() }
        let scalarLoop (il: ILGenerator) (lp: Loop) =
            let l = locals il
            let cv, cs = pair il lp.First lp.Period lp.Period
            forwardLoopOf il [ cv; cs ] g lp (fun j -> node il l cv cs (bodySite lp j))
        build "Hybrid.Compiled.ForwardTangent" g loops 104
            (fun il first last ->
                let l = locals il
                let cv, cs = pair il first (last - first + 1) 0
                for i in first .. last do node il l cv cs (site i))
            (fun il lp ->
                if lp.Data then
                    // a data block: its values copied (as `forward`), its tangents zero
                    scalarForwardLoop g il lp
                    address il (straight S 0 [||]) S lp.First 0
                    il.Emit(OpCodes.Ldc_I4_0)
                    il.Emit(OpCodes.Ldc_I4, lp.Trips * 8)
                    il.Emit(OpCodes.Initblk)
                else
                    match plans.TryGetValue lp.First with
                    | true, pl -> laneForwardWith g il pl true joint (scalarLoop il)
                    | _ -> scalarLoop il lp)
            (fun m -> PassFn(fun pv _ ps _ -> m.ForwardAt pv; m.TangentAt(pv, ps)))

    /// Jvp's pass reading the inputs' values and tangents from the caller's x and v: arguments (v,
    /// x, s, dx) — slot i < N of x at byte 8i of x, its tangent of dx (the workspace's v and s when
    /// x and v were copied there: `jvpAt` then equals `forwardTangentAt` bit for bit). Nothing is
    /// stored below N. Only code that reads the inputs through the pass's own loads takes them from
    /// there: where `inputsDirect` is false, x and v must also be in v and s.
    let jvpAt (w: int) (g: Graph) (loops: Loop[]) : PassFn[] =
        inPlace g true (struct (A, A, AT)) (fun () -> forwardTangentAt w false g loops)

    /// True when every read of an input slot by Jvp's pass and the guards goes through `jvpAt`'s
    /// x and dx: no matrix node reads an input (its rules read the workspace), no guard compares
    /// one, and no loop operand's slots run across N (each operand's trips read inputs only, or
    /// nodes only: its base decides where it reads).
    let inputsDirect (g: Graph) (loops: Loop[]) =
        let n = g.N
        let side (b: int) = b < n
        let loopOk (lp: Loop) =
            Seq.forall (fun j ->
                [ struct (g.A0[lp.First + j], lp.Stride0[j]); struct (g.A1[lp.First + j], lp.Stride1[j]) ]
                |> List.forall (fun (struct (b, s)) -> b < 0 || s = 0 || side b = side (b + s * (lp.Trips - 1))))
                (seq { 0 .. lp.Period - 1 })
        g.Mats |> Array.forall (fun m -> m.Operands |> Array.forall (fun o -> o.First < 0 || o.First >= n))
        && g.Guards |> Seq.forall (fun q -> not (q.SlotA >= 0 && q.SlotA < n) && not (q.SlotB >= 0 && q.SlotB < n))
        && Array.forall loopOk loops

    /// `forwardTangentAt` at the machine's width with lanes on, none with them off.
    let forwardTangentWith (lanes: bool) (joint: bool) g loops = forwardTangentAt (widthOf lanes) joint g loops
    /// `forwardTangentWith` (not joint) with lanes where `Lanes` allows them.
    let forwardTangent (g: Graph) (loops: Loop[]) = forwardTangentWith Lanes false g loops
    /// `jvpAt` with lanes where `Lanes` allows them.
    let jvp (g: Graph) (loops: Loop[]) = jvpAt (widthOf Lanes) g loops

    /// A node of the joint second-order sweep (`reverseJoint`): the adjoint sweep's node (its adjoint
    /// w held; its terms into the operands' adjoints, held or cached) and the adjoint-tangent pass's
    /// (gt from memory; its terms into memory, reading the values and tangents there), skipped where
    /// both are zero — the same sums in the same order as `reverse` then `reverseTangent`.
    let private jointNode (g: Graph) (il: ILGenerator) (l: Locals) (c: Ctx) (n: Site) =
        let i = n.I
        let code = g.Code[i]
        if code <> IrLog.ConstantCode then
            let skip = il.DefineLabel()
            let go = il.DefineLabel()
            let noAdjoint = il.DefineLabel()
            il.Emit(OpCodes.Ldloc, c.Held[i - c.HFirst])
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
            // a zero adjoint is a symbolic zero (the sweep's test; +, − and copies add an exact 0)
            if not (code = IrLog.CopyCode || code = IrLog.Binary + int16 Fun2.Add || code = IrLog.Binary + int16 Fun2.Sub) then
                il.Emit(OpCodes.Ldloc, l.W)
                il.Emit(OpCodes.Ldc_R8, 0.0)
                il.Emit(OpCodes.Beq, noAdjoint)
            accumulate il l c g.A0[i] n.S0 l.D0
            accumulate il l c g.A1[i] n.S1 l.D1
            il.MarkLabel noAdjoint
            hessian il l c g n
            adjointTangentTerms il l c g n
            il.MarkLabel skip

    /// Hvp's joint sweep: adjoints and adjoint tangents in one pass, pieces in reverse order (run them
    /// from the last), after `forwardTangentWith _ true`: chunks and scalar trips keep their nodes'
    /// adjoints in registers (as the lean `reverse`), loops in lanes run four trips at once (the
    /// lane nodes' values and tangents recomputed). Only the inputs' adjoints and adjoint tangents
    /// are left complete in memory; memory zero where `leanClear` says, for both.
    let reverseJointAt (w: int) (g: Graph) (loops: Loop[]) : PassFn[] =
        let plans = lanePlans w g loops
        let scalarLoop (il: ILGenerator) (lp: Loop) = scalarReverseLoopOf g (jointNode g) il lp
        build "Hybrid.Compiled.ReverseJoint" g loops 220
            (fun il first last ->
                let l = locals il
                let c = straight A first (heldLocals il (last - first + 1))
                loadHeldAdjoints il c 0
                for i = last downto first do jointNode g il l c (site i))
            (fun il lp ->
                match plans.TryGetValue lp.First with
                | true, pl -> laneReverseOf g il pl true (scalarLoop il)
                | _ -> scalarLoop il lp)
            (fun m -> PassFn(fun pv pa ps pat -> m.ReverseAt(pv, pa); m.ReverseTangentAt(pv, pa, ps, pat)))

    /// `reverseJointAt` at the machine's width with lanes on, none with them off.
    let reverseJointWith (lanes: bool) g loops = reverseJointAt (widthOf lanes) g loops
    /// Hvp's two passes with lanes where `Lanes` allows them.
    let forwardJoint (g: Graph) (loops: Loop[]) = forwardTangentWith Lanes true g loops
    let reverseJoint (g: Graph) (loops: Loop[]) = reverseJointWith Lanes g loops
