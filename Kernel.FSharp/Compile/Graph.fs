namespace Hybrid.Kernel

open System

/// One recorded path of a function, as the compiler sees it: the scalar primitives in order, each
/// with its rule, operand slots and constant operands, the outputs, and the guards (the decisions
/// on primal values the path depends on). Slots 0 .. N−1 are the inputs; only nodes that reach an
/// output or a guard are kept (dead code cannot change a value or a derivative: a reverse sweep
/// skips its zero adjoints, and no output reads its tangent).
[<Sealed; AllowNullLiteral>]
type internal Graph
    internal (n: int, count: int, code: int16[], a0: int[], a1: int[], k0: float[], k1: float[],
              outputs: int[], outConst: float[], guards: IrGuard[], mats: MatNode[]) =
    let pieces = MatNodes.split mats n (count - 1)
    let mutable pinned: float[] = null
    /// Node codes (IrLog's, plus Input and `MatNode.Code`).
    static member Input = 3s
    member _.N = n
    member _.Count = count
    member _.Code = code
    member _.A0 = a0
    member _.A1 = a1
    member _.K0 = k0
    member _.K1 = k1
    /// Output slots (−1: a constant output, its value in OutConst).
    member _.Outputs = outputs
    member _.OutConst = outConst
    member _.Guards = guards
    /// The matrix nodes (by Out, ascending): each a piece of every pass, its output slots coded
    /// `MatNode.Code` with no scalar operands.
    member _.Mats = mats
    /// The pieces of a pass over nodes N … Count − 1: scalar ranges [first, last] and matrix nodes.
    member _.Pieces = pieces
    /// K0 in a pinned copy (made on first use), which compiled code reads by address: the values of
    /// data blocks (`Loop.Data`). (Two threads may each make one; either copy serves.)
    member _.PinnedK0 =
        if isNull pinned then
            let a = GC.AllocateArray<float>(max 1 count, true)
            Array.Copy(k0, a, count)
            pinned <- a
        pinned

/// A recording that the compiler cannot replay, and why.
type internal Unsupported = { Reason: string }

module internal GraphRecorder =

    /// Records f once at x on a trace that keeps rules, constants and guards, and returns the path's
    /// graph, or the reason it cannot be compiled (a read of a traced vector's values, …). Vector
    /// primitives it can express in scalar nodes are lowered first (`Lower`).
    /// Exceptions of f (and escaped values, `(double)` of a traced Real) propagate.
    let record (owner: string) (f: Func<Vec, Real[]>) (x: float[]) : Choice<Graph, Unsupported> =
        if Traces.Depth <> 0 then
            invalidOp (sprintf "%s: the function must be recorded outside every other transform (a compiled function called inside Fn.Grad, Fn.Jvp, … re-records there when its guards fail); call it on plain doubles at the top level." owner)
        let t = IrRecording.Start owner
        try
            let n = x.Length
            let xt = Vec.Input(t, Vec x, null)
            if xt.Ref.Slot <> 0 then invalidOp "Hybrid internal error: compiled inputs must start at slot 0."
            let ys = f.Invoke xt
            if isNull ys then invalidOp (sprintf "%s: the function returned null; return its result." owner)
            for r in ys do Ad.CheckResult(t, r)
            let log = t.Ir
            // vector primitives become scalar nodes first (Lower.fs; t's own nodes when there are none).
            // A primitive it cannot lower is named first: its own rules may read values (ToArray).
            match Lower.run t log with
            | Choice2Of2 reason -> Choice2Of2 { Reason = reason }
            | Choice1Of2 _ when not (isNull log.Unsupported) -> Choice2Of2 { Reason = log.Unsupported }
            | Choice1Of2 low ->
                let count = low.Count
                let live = Array.zeroCreate<bool> count
                let slotOf (r: Real) = if r.Tid = t.Id then low.Slot r.I else -1
                for r in ys do
                    let s = slotOf r
                    if s >= 0 then live[s] <- true
                let guards =
                    log.Guards.ToArray() |> Array.map (fun g ->
                        { g with SlotA = (if g.SlotA >= 0 then low.Slot g.SlotA else -1)
                                 SlotB = (if g.SlotB >= 0 then low.Slot g.SlotB else -1) })
                for g in guards do
                    if g.SlotA >= 0 then live[g.SlotA] <- true
                    if g.SlotB >= 0 then live[g.SlotB] <- true
                let mutable reason: string = null
                // a matrix node is live whole (its output range and operand ranges stay contiguous),
                // marked once: at its first live output slot (not once per slot: that is OutLen² work)
                let matOf = if low.Mats.Length = 0 then null else Array.create count -1
                let matLive = Array.zeroCreate<bool> low.Mats.Length
                for q in 0 .. low.Mats.Length - 1 do
                    let m = low.Mats[q]
                    for s in m.Out .. m.Out + m.OutLen - 1 do matOf[s] <- q
                for i = count - 1 downto n do
                    if live[i] then
                        match low.Kinds[i] with
                        | NodeKind.Scalar when not (isNull matOf) && matOf[i] >= 0 ->
                            if not matLive[matOf[i]] then
                                matLive[matOf[i]] <- true
                                let m = low.Mats[matOf[i]]
                                for s in m.Out .. m.Out + m.OutLen - 1 do live[s] <- true
                                for o in m.Operands do
                                    if o.First >= 0 then
                                        for s in o.First .. o.First + o.Length - 1 do live[s] <- true
                        | NodeKind.Scalar ->
                            if low.Codes.Length <= i || low.Codes[i] = 0s then
                                if isNull reason then reason <- "it applies a primitive the compiler cannot replay"
                            if low.Arg0[i] >= 0 then live[low.Arg0[i]] <- true
                            if low.Arg1[i] >= 0 then live[low.Arg1[i]] <- true
                        | NodeKind.Input ->
                            if (low.Codes.Length <= i || low.Codes[i] <> IrLog.ConstantCode) && isNull reason then
                                reason <- "it applies a primitive the compiler cannot replay"
                        | _ ->
                            if isNull reason then
                                reason <- "Hybrid internal error: a vector node was left in the lowered graph"
                if not (isNull reason) then Choice2Of2 { Reason = reason }
                else
                    let index = Array.create count -1
                    let mutable m = 0
                    for i in 0 .. count - 1 do
                        if i < n || live[i] then
                            index[i] <- m
                            m <- m + 1
                    let code = Array.zeroCreate<int16> m
                    let a0 = Array.create m -1
                    let a1 = Array.create m -1
                    let k0 = Array.zeroCreate<float> m
                    let k1 = Array.zeroCreate<float> m
                    for i in 0 .. count - 1 do
                        let j = index[i]
                        if j >= 0 then
                            if i < n then code[j] <- Graph.Input
                            else
                                code[j] <- low.Codes[i]
                                k0[j] <- low.K0[i]
                                k1[j] <- low.K1[i]
                                if low.Kinds[i] = NodeKind.Scalar then
                                    if low.Arg0[i] >= 0 then a0[j] <- index[low.Arg0[i]]
                                    if low.Arg1[i] >= 0 then a1[j] <- index[low.Arg1[i]]
                    let outputs = ys |> Array.map (fun r -> let s = slotOf r in if s >= 0 then index[s] else -1)
                    let outConst = ys |> Array.map (fun r -> r.V)
                    let guards =
                        guards |> Array.map (fun g ->
                            { g with SlotA = (if g.SlotA >= 0 then index[g.SlotA] else -1)
                                     SlotB = (if g.SlotB >= 0 then index[g.SlotB] else -1) })
                    let mats = low.Mats |> Array.filter (fun q -> live[q.Out]) |> Array.map (fun q -> q.Remap(fun s -> index[s]))
                    Choice1Of2(Graph(n, m, code, a0, a1, k0, k1, outputs, outConst, guards, mats))
        finally
            IrRecording.Stop()
            Traces.Close(t, false)
