namespace Hybrid.Kernel

/// The Fn.Compile recording open on this thread, if any: where a guard on a traced value is written.
[<AbstractClass; Sealed>]
type internal IrRecording =
    [<System.ThreadStatic; DefaultValue>] static val mutable private log: IrLog
    [<System.ThreadStatic; DefaultValue>] static val mutable private trace: Trace
    static member Current = IrRecording.log
    /// The recording trace's node count (where a guard is taken).
    static member Count = if isNull IrRecording.trace then 0 else IrRecording.trace.Count

    /// Opens a reverse trace on this thread that records for the compiler (rules, constants, guards,
    /// and second partials). Close it with `Stop`.
    static member Start(owner: string) : Trace =
        if not (isNull IrRecording.log) then
            invalidOp (sprintf "%s: the function started another compilation while it was being recorded; call Fn.Compile outside the compiled function." owner)
        let t = Traces.Open(TraceKind.Reverse, owner)
        t.EnableSecondOrder()
        let l = IrLog(t.Id)
        t.Ir <- l
        t.Refresh()
        IrRecording.log <- l
        IrRecording.trace <- t
        IrLog.Begin()
        t

    /// The recording (if any) read primal values in a way no guard can express: it is not compiled.
    static member Unguarded(reason: string) =
        let l = IrRecording.log
        if not (isNull l) then l.MarkUnsupported reason

    /// Ends this thread's recording (the trace itself is closed by the caller).
    static member Stop() =
        if not (isNull IrRecording.log) then
            IrRecording.log <- null
            IrRecording.trace <- null
            IrLog.End()
