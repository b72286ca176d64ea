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
    let private value1 = kern "Value1"
    let private d1 = kern "D1"
    let private d2 = kern "D2"
    let private value2 = kern "Value2"
    let private partials2 = kern "Partials2"
    let private hessian2 = kern "Hessian2"
    let private decide = kern "Decide"
    let private ptrs = [| typeof<nativeint>; typeof<nativeint>; typeof<nativeint>; typeof<nativeint> |]

    // arguments of a pass
    let [<Literal>] private V = 0s
    let [<Literal>] private A = 1s
    let [<Literal>] private S = 2s
    let [<Literal>] private AT = 3s

    type private Locals = { W: LocalBuilder; Gt: LocalBuilder; D0: LocalBuilder; D1: LocalBuilder; H00: LocalBuilder; H01: LocalBuilder; H11: LocalBuilder }

    let private address (il: ILGenerator) (arg: int16) (slot: int) =
        il.Emit(OpCodes.Ldarg, arg)
        if slot > 0 then
            il.Emit(OpCodes.Ldc_I4, slot * 8)
            il.Emit(OpCodes.Add)
    let private load (il: ILGenerator) (arg: int16) (slot: int) =
        address il arg slot
        il.Emit(OpCodes.Ldind_R8)
    let private operand (il: ILGenerator) (slot: int) (k: float) =
        if slot >= 0 then load il V slot else il.Emit(OpCodes.Ldc_R8, k)

    /// The chunk's values (and adjoints) kept in locals, so the JIT can hold them in registers
    /// instead of reloading what was just stored: slot i of [First, First + Locals.Length) is Locals[i − First].
    type private Held = { First: int; Locals: LocalBuilder[] }
    let private isHeld (h: Held) (slot: int) = slot >= h.First && slot < h.First + h.Locals.Length && not (isNull h.Locals[slot - h.First])

    /// Operand `slot` (or the constant k), from the chunk's locals when held there.
    let private operandHeld (il: ILGenerator) (h: Held) (slot: int) (k: float) =
        if slot >= 0 && isHeld h slot then il.Emit(OpCodes.Ldloc, h.Locals[slot - h.First])
        elif slot >= 0 then load il V slot
        else il.Emit(OpCodes.Ldc_R8, k)

    let private newMethod (name: string) (ret: Type) (args: Type[]) =
        DynamicMethod(name, ret, args, typeof<Kern>.Module, true)

    let private locals (il: ILGenerator) =
        let d () = il.DeclareLocal(typeof<float>)
        { W = d (); Gt = d (); D0 = d (); D1 = d (); H00 = d (); H01 = d (); H11 = d () }

    /// First partials of node i into D0, D1 (as Interpreter.partials).
    let private partials (il: ILGenerator) (l: Locals) (g: Graph) (i: int) =
        let c = g.Code[i]
        let set (loc: LocalBuilder) (x: float) =
            il.Emit(OpCodes.Ldc_R8, x)
            il.Emit(OpCodes.Stloc, loc)
        if c = IrLog.CopyCode then
            set l.D0 1.0
            set l.D1 0.0
        elif c >= IrLog.Binary then
            let f = enum<Fun2> (int (c - IrLog.Binary))
            match f with
            | Fun2.Add -> set l.D0 1.0; set l.D1 1.0
            | Fun2.Sub -> set l.D0 1.0; set l.D1 -1.0
            | Fun2.Mul ->
                operand il g.A1[i] g.K1[i]
                il.Emit(OpCodes.Stloc, l.D0)
                operand il g.A0[i] g.K0[i]
                il.Emit(OpCodes.Stloc, l.D1)
            | _ ->
                il.Emit(OpCodes.Ldc_I4, int f)
                operand il g.A0[i] g.K0[i]
                operand il g.A1[i] g.K1[i]
                load il V i
                il.Emit(OpCodes.Ldloca, l.D0)
                il.Emit(OpCodes.Ldloca, l.D1)
                il.Emit(OpCodes.Call, partials2)
        else
            il.Emit(OpCodes.Ldc_I4, int (c - IrLog.Unary))
            il.Emit(OpCodes.Ldc_R8, g.K0[i])
            load il V g.A0[i]
            load il V i
            il.Emit(OpCodes.Call, d1)
            il.Emit(OpCodes.Stloc, l.D0)
            set l.D1 0.0

    /// Second partials of node i, times the adjoint W, into H00, H01, H11 (as Interpreter.hessian).
    let private hessian (il: ILGenerator) (l: Locals) (g: Graph) (i: int) =
        let c = g.Code[i]
        let zero (loc: LocalBuilder) =
            il.Emit(OpCodes.Ldc_R8, 0.0)
            il.Emit(OpCodes.Stloc, loc)
        zero l.H00
        zero l.H01
        zero l.H11
        if c >= IrLog.Binary then
            il.Emit(OpCodes.Ldc_I4, int (c - IrLog.Binary))
            operand il g.A0[i] g.K0[i]
            operand il g.A1[i] g.K1[i]
            load il V i
            il.Emit(OpCodes.Ldloc, l.D0)
            il.Emit(OpCodes.Ldloc, l.D1)
            il.Emit(OpCodes.Ldloca, l.H00)
            il.Emit(OpCodes.Ldloca, l.H01)
            il.Emit(OpCodes.Ldloca, l.H11)
            il.Emit(OpCodes.Call, hessian2)
        elif c >= IrLog.Unary then
            il.Emit(OpCodes.Ldc_I4, int (c - IrLog.Unary))
            il.Emit(OpCodes.Ldc_R8, g.K0[i])
            load il V g.A0[i]
            load il V i
            il.Emit(OpCodes.Ldloc, l.D0)
            il.Emit(OpCodes.Call, d2)
            il.Emit(OpCodes.Stloc, l.H00)
        for h in [ l.H00; l.H01; l.H11 ] do
            il.Emit(OpCodes.Ldloc, h)
            il.Emit(OpCodes.Ldloc, l.W)
            il.Emit(OpCodes.Mul)
            il.Emit(OpCodes.Stloc, h)

    let private valueOf (il: ILGenerator) (h: Held) (g: Graph) (i: int) =
        let c = g.Code[i]
        let arg0 () = operandHeld il h g.A0[i] g.K0[i]
        if c >= IrLog.Binary then
            let f = enum<Fun2> (int (c - IrLog.Binary))
            let ops () =
                arg0 ()
                operandHeld il h g.A1[i] g.K1[i]
            match f with
            | Fun2.Add -> ops (); il.Emit(OpCodes.Add)
            | Fun2.Sub -> ops (); il.Emit(OpCodes.Sub)
            | Fun2.Mul -> ops (); il.Emit(OpCodes.Mul)
            | Fun2.Div -> ops (); il.Emit(OpCodes.Div)
            | _ ->
                il.Emit(OpCodes.Ldc_I4, int f)
                ops ()
                il.Emit(OpCodes.Call, value2)
        elif c >= IrLog.Unary then
            let f = enum<Fun1> (int (c - IrLog.Unary))
            match f with
            | Fun1.Neg ->
                arg0 ()
                il.Emit(OpCodes.Neg)
            | Fun1.Square ->
                arg0 ()
                il.Emit(OpCodes.Dup)
                il.Emit(OpCodes.Mul)
            | _ ->
                il.Emit(OpCodes.Ldc_I4, int f)
                il.Emit(OpCodes.Ldc_R8, g.K0[i])
                arg0 ()
                il.Emit(OpCodes.Call, value1)
        elif c = IrLog.CopyCode then arg0 ()
        else il.Emit(OpCodes.Ldc_R8, g.K0[i])

    let private pass (name: string) (g: Graph) (first: int) (last: int) (body: ILGenerator -> Locals -> int -> unit) (descending: bool) : PassFn =
        let m = newMethod name null ptrs
        let il = m.GetILGenerator((last - first + 1) * 64 + 16)
        let l = locals il
        if descending then for i = last downto first do body il l i
        else for i in first .. last do body il l i
        il.Emit(OpCodes.Ret)
        m.CreateDelegate(typeof<PassFn>) :?> PassFn

    let private chunks (g: Graph) =
        [| for first in g.N .. ChunkNodes .. g.Count - 1 -> first, min (g.Count - 1) (first + ChunkNodes - 1) |]

    /// The values of every node, chunk by chunk in order.
    let forward (g: Graph) : PassFn[] =
        chunks g |> Array.map (fun (first, last) ->
            let m = newMethod "Hybrid.Compiled.Forward" null ptrs
            let il = m.GetILGenerator((last - first + 1) * 40 + 16)
            let h = { First = first; Locals = Array.init (last - first + 1) (fun _ -> il.DeclareLocal(typeof<float>)) }
            for i in first .. last do
                address il V i
                valueOf il h g i
                il.Emit(OpCodes.Dup)
                il.Emit(OpCodes.Stloc, h.Locals[i - first])
                il.Emit(OpCodes.Stind_R8)
            il.Emit(OpCodes.Ret)
            m.CreateDelegate(typeof<PassFn>) :?> PassFn)

    /// The guards, in chunks; each returns false at the first that fails.
    let guards (g: Graph) : GuardFn[] =
        [| for first in 0 .. ChunkGuards .. g.Guards.Length - 1 ->
            let m = newMethod "Hybrid.Compiled.Guards" typeof<bool> [| typeof<nativeint> |]
            let il = m.GetILGenerator()
            let fail = il.DefineLabel()
            for k in first .. min (g.Guards.Length - 1) (first + ChunkGuards - 1) do
                let q = g.Guards[k]
                il.Emit(OpCodes.Ldc_I4, int q.Decision)
                operand il q.SlotA q.ConstA
                operand il q.SlotB q.ConstB
                il.Emit(OpCodes.Call, decide)
                il.Emit(OpCodes.Ldc_I4, q.Outcome)
                il.Emit(OpCodes.Bne_Un, fail)
            il.Emit(OpCodes.Ldc_I4_1)
            il.Emit(OpCodes.Ret)
            il.MarkLabel fail
            il.Emit(OpCodes.Ldc_I4_0)
            il.Emit(OpCodes.Ret)
            m.CreateDelegate(typeof<GuardFn>) :?> GuardFn |]

    /// The adjoint sweep, chunks in reverse order (run them from the last). A chunk keeps its own
    /// nodes' adjoints in locals (loaded once: what later chunks and the seed put there), writes each
    /// back when its node's turn comes (the Hessian's tape reads them), and adds into earlier slots in memory.
    let reverse (g: Graph) : PassFn[] =
        chunks g |> Array.map (fun (first, last) ->
            let m = newMethod "Hybrid.Compiled.Reverse" null ptrs
            let il = m.GetILGenerator((last - first + 1) * 96 + 16)
            let l = locals il
            let h = { First = first; Locals = Array.init (last - first + 1) (fun _ -> il.DeclareLocal(typeof<float>)) }
            for i in first .. last do
                load il A i
                il.Emit(OpCodes.Stloc, h.Locals[i - first])
            for i = last downto first do
                let c = g.Code[i]
                let held = h.Locals[i - first]
                address il A i
                il.Emit(OpCodes.Ldloc, held)
                il.Emit(OpCodes.Stind_R8)
                if c <> IrLog.ConstantCode then
                    let skip = il.DefineLabel()
                    il.Emit(OpCodes.Ldloc, held)
                    il.Emit(OpCodes.Stloc, l.W)
                    // a zero adjoint is a symbolic zero (it must not meet an infinite partial); where the
                    // partials are the constants 1 and ±1 (+, −, copies) 0·d adds exactly 0, so no test
                    if not (c = IrLog.CopyCode || c = IrLog.Binary + int16 Fun2.Add || c = IrLog.Binary + int16 Fun2.Sub) then
                        il.Emit(OpCodes.Ldloc, l.W)
                        il.Emit(OpCodes.Ldc_R8, 0.0)
                        il.Emit(OpCodes.Beq, skip)
                    partials il l g i
                    let accumulate (j: int) (d: LocalBuilder) =
                        if j >= 0 then
                            if j >= first then
                                // a[j] + d·w, held
                                let lj = h.Locals[j - first]
                                il.Emit(OpCodes.Ldloc, lj)
                                il.Emit(OpCodes.Ldloc, d)
                                il.Emit(OpCodes.Ldloc, l.W)
                                il.Emit(OpCodes.Mul)
                                il.Emit(OpCodes.Add)
                                il.Emit(OpCodes.Stloc, lj)
                            else
                                address il A j
                                load il A j
                                il.Emit(OpCodes.Ldloc, d)
                                il.Emit(OpCodes.Ldloc, l.W)
                                il.Emit(OpCodes.Mul)
                                il.Emit(OpCodes.Add)
                                il.Emit(OpCodes.Stind_R8)
                    accumulate g.A0[i] l.D0
                    accumulate g.A1[i] l.D1
                    il.MarkLabel skip
            il.Emit(OpCodes.Ret)
            m.CreateDelegate(typeof<PassFn>) :?> PassFn)

    /// The tangent pass, chunks in order.
    let tangent (g: Graph) : PassFn[] =
        chunks g |> Array.map (fun (first, last) ->
            pass "Hybrid.Compiled.Tangent" g first last (fun il l i ->
                address il S i
                if g.Code[i] = IrLog.ConstantCode then il.Emit(OpCodes.Ldc_R8, 0.0)
                else
                    partials il l g i
                    let term (j: int) (d: LocalBuilder) =
                        if j >= 0 then
                            il.Emit(OpCodes.Ldloc, d)
                            load il S j
                            il.Emit(OpCodes.Mul)
                        else il.Emit(OpCodes.Ldc_R8, 0.0)
                    term g.A0[i] l.D0
                    term g.A1[i] l.D1
                    il.Emit(OpCodes.Add)
                il.Emit(OpCodes.Stind_R8)) false)

    /// The adjoint-tangent pass, chunks in reverse order (run them from the last).
    let reverseTangent (g: Graph) : PassFn[] =
        chunks g |> Array.map (fun (first, last) ->
            pass "Hybrid.Compiled.ReverseTangent" g first last (fun il l i ->
                if g.Code[i] <> IrLog.ConstantCode then
                    let skip = il.DefineLabel()
                    let go = il.DefineLabel()
                    load il A i
                    il.Emit(OpCodes.Stloc, l.W)
                    load il AT i
                    il.Emit(OpCodes.Stloc, l.Gt)
                    il.Emit(OpCodes.Ldloc, l.W)
                    il.Emit(OpCodes.Ldc_R8, 0.0)
                    il.Emit(OpCodes.Bne_Un, go)
                    il.Emit(OpCodes.Ldloc, l.Gt)
                    il.Emit(OpCodes.Ldc_R8, 0.0)
                    il.Emit(OpCodes.Beq, skip)
                    il.MarkLabel go
                    partials il l g i
                    hessian il l g i
                    let j = g.A0[i]
                    let k = g.A1[i]
                    let product (h: LocalBuilder) (slot: int) =
                        il.Emit(OpCodes.Ldloc, h)
                        load il S slot
                        il.Emit(OpCodes.Mul)
                    let cross (other: int) =
                        if other >= 0 then product l.H01 other else il.Emit(OpCodes.Ldc_R8, 0.0)
                    let start (slot: int) (d: LocalBuilder) =
                        address il AT slot
                        load il AT slot
                        il.Emit(OpCodes.Ldloc, d)
                        il.Emit(OpCodes.Ldloc, l.Gt)
                        il.Emit(OpCodes.Mul)
                        il.Emit(OpCodes.Add)
                    if j >= 0 then
                        // at[j] + d0·gt + h00·s[j] + cross
                        start j l.D0
                        product l.H00 j
                        il.Emit(OpCodes.Add)
                        cross k
                        il.Emit(OpCodes.Add)
                        il.Emit(OpCodes.Stind_R8)
                    if k >= 0 then
                        // at[k] + d1·gt + cross + h11·s[k]
                        start k l.D1
                        cross j
                        il.Emit(OpCodes.Add)
                        product l.H11 k
                        il.Emit(OpCodes.Add)
                        il.Emit(OpCodes.Stind_R8)
                    il.MarkLabel skip) true)
