namespace Hybrid.Kernel

open System
open System.Threading

/// What `Fn.Compile` needs from a recording beyond the tape: for every scalar node the rule it
/// applied (`Code`) and its constant operands (`K0`, `K1`; PowC's exponent in K0), and every
/// primal-dependent decision taken while recording (a guard). A reverse trace carries one only
/// while it records for the compiler (`Trace.Ir`); ordinary transforms never touch it.
///
/// Codes: 0 = not recorded (a node the compiler cannot replay), 1 = a copy (derivative 1),
/// 2 = a constant lifted onto the trace (its value in K0), `Unary + Fun1`, `Binary + Fun2`.
///
/// Vector primitives the compiler lowers to scalar nodes (elementwise maps and zips, Sum, Dot, the
/// structural gathers) are logged by op index (`Vec k`): rule, operands (their refs, or the values of
/// a constant operand) and length. An op without an entry is not lowered: a matrix primitive (a
/// product, a solve, Cholesky, LogDet), a custom rule or a linear map is kept as one node of the
/// compiled graph, read from the op itself (`MatNodes.ofOp`); any other is not compiled.
[<Sealed; AllowNullLiteral>]
type internal IrLog(traceId: int) =
    let mutable codes: int16[] = Array.zeroCreate 256
    let mutable k0: float[] = Array.zeroCreate 256
    let mutable k1: float[] = Array.zeroCreate 256
    let guards = ResizeArray<IrGuard>()
    let vecs = ResizeArray<IrVec>()
    let mutable unsupported: string = null

    static let mutable active = 0
    /// Recordings for the compiler under way in the process: while 0, a comparison of traced Reals
    /// costs one static read more than before.
    static member Active = Volatile.Read &active > 0
    static member Begin() = Interlocked.Increment &active |> ignore
    static member End() = Interlocked.Decrement &active |> ignore

    static member CopyCode = 1s
    static member ConstantCode = 2s
    static member Unary = 16s
    static member Binary = 64s

    /// The id of the trace this log belongs to.
    member _.TraceId = traceId
    member _.Codes = codes
    member _.K0 = k0
    member _.K1 = k1
    member _.Guards = guards
    /// The logged vector op of index k (Kind = None when op k was not logged).
    member _.Vec(k: int) = if k < vecs.Count then vecs[k] else Unchecked.defaultof<IrVec>
    /// Why the recording cannot be compiled (null when it can).
    member _.Unsupported = unsupported
    member _.MarkUnsupported(reason: string) = if isNull unsupported then unsupported <- reason

    member private _.Ensure(i: int) =
        if i >= codes.Length then
            let n = max (i + 1) (2 * codes.Length)
            let grow (a: 'a[]) = (let b = Array.zeroCreate n in Array.Copy(a, b, a.Length); b)
            codes <- grow codes
            k0 <- grow k0
            k1 <- grow k1

    /// Node i applied unary rule f (c: PowC's exponent).
    member l.Unary1(i: int, f: Fun1, c: float) =
        l.Ensure i
        codes[i] <- IrLog.Unary + int16 f
        k0[i] <- c
    /// Node i applied binary rule f; cx / cy are the operands' values (used where an operand is constant).
    member l.Binary2(i: int, f: Fun2, cx: float, cy: float) =
        l.Ensure i
        codes[i] <- IrLog.Binary + int16 f
        k0[i] <- cx
        k1[i] <- cy
    /// Node i copies its argument.
    member l.Copied(i: int) =
        l.Ensure i
        codes[i] <- IrLog.CopyCode
    /// Node i is an input slot standing for the constant c.
    member l.Constant(i: int, c: float) =
        l.Ensure i
        codes[i] <- IrLog.ConstantCode
        k0[i] <- c
    member private _.Op(op: int, v: IrVec) =
        while vecs.Count <= op do vecs.Add Unchecked.defaultof<IrVec>
        vecs[op] <- v
    /// Op `op` is elementwise f(x) (c: PowC's exponent) over n elements.
    member l.Map(op: int, f: Fun1, c: float, x: VecRef, n: int) =
        l.Op(op, { Kind = IrVecKind.Map; Rule = int16 f; C = c; X = x; XK = null; Y = VecRef.None; YK = null; N = n; Nnz = 0; OutIx = Unchecked.defaultof<_>; InIx = Unchecked.defaultof<_> })
    /// Op `op` is elementwise f(x, y) over n elements; a constant operand has ref None and its values
    /// in xk / yk (length 1 when it broadcasts).
    member l.Zip(op: int, f: Fun2, x: VecRef, xk: float[], y: VecRef, yk: float[], n: int) =
        l.Op(op, { Kind = IrVecKind.Zip; Rule = int16 f; C = 0.0; X = x; XK = xk; Y = y; YK = yk; N = n; Nnz = 0; OutIx = Unchecked.defaultof<_>; InIx = Unchecked.defaultof<_> })
    /// Op `op` is Σ x over n elements.
    member l.Sum(op: int, x: VecRef, n: int) =
        l.Op(op, { Kind = IrVecKind.Sum; Rule = 0s; C = 0.0; X = x; XK = null; Y = VecRef.None; YK = null; N = n; Nnz = 0; OutIx = Unchecked.defaultof<_>; InIx = Unchecked.defaultof<_> })
    /// Op `op` is x·y over n elements (constant operands as for Zip).
    member l.Dot(op: int, x: VecRef, xk: float[], y: VecRef, yk: float[], n: int) =
        l.Op(op, { Kind = IrVecKind.Dot; Rule = int16 Fun2.Mul; C = 0.0; X = x; XK = xk; Y = y; YK = yk; N = n; Nnz = 0; OutIx = Unchecked.defaultof<_>; InIx = Unchecked.defaultof<_> })
    /// Op `op` is the 0/1 linear map y[outIx p] += x[inIx p] for p = 0 … nnz−1 with n outputs
    /// (Transpose, row and column sums, Trace, Diag: `GatherSumOp`).
    member l.Gather(op: int, x: VecRef, n: int, nnz: int, outIx: int -> int, inIx: int -> int) =
        l.Op(op, { Kind = IrVecKind.Gather; Rule = 0s; C = 0.0; X = x; XK = null; Y = VecRef.None; YK = null; N = n; Nnz = nnz; OutIx = outIx; InIx = inIx })
    /// Op `op` is elementwise f⁽ᵐ⁾(x), m ≥ 1, over n elements (c: PowC's exponent): a partial of an
    /// inner transform on this trace (`Vec.MapDerivative`), kept as one node (`MatNodes.ofDerivative`).
    member l.MapDerivative(op: int, f: Fun1, c: float, m: int, x: VecRef, n: int) =
        l.Op(op, { Kind = IrVecKind.MapDerivative; Rule = int16 f; C = c; X = x; XK = null; Y = VecRef.None; YK = null; N = n; Nnz = m; OutIx = Unchecked.defaultof<_>; InIx = Unchecked.defaultof<_> })
    /// Op `op` is elementwise ∂ⁱ⁺ʲf/∂xⁱ∂yʲ(x, y), i + j ≥ 1, over n elements (constant operands as
    /// for Zip): a partial of an inner transform (`Vec.ZipDerivative`), kept as one node.
    member l.ZipDerivative(op: int, f: Fun2, i: int, j: int, x: VecRef, xk: float[], y: VecRef, yk: float[], n: int) =
        l.Op(op, { Kind = IrVecKind.ZipDerivative; Rule = int16 f; C = float j; X = x; XK = xk; Y = y; YK = yk; N = n; Nnz = i; OutIx = Unchecked.defaultof<_>; InIx = Unchecked.defaultof<_> })
    /// A decision taken at node count `at`: operand a is slot `sa` (or the constant ka when sa < 0), b likewise.
    member _.Guard(d: Decision, sa: int, ka: float, sb: int, kb: float, outcome: int, at: int) =
        guards.Add { Decision = d; SlotA = sa; ConstA = ka; SlotB = sb; ConstB = kb; Outcome = outcome; At = at }

/// What a logged vector op computes.
and internal IrVecKind =
    | None = 0
    | Map = 1
    | Zip = 2
    | Sum = 3
    | Dot = 4
    | Gather = 5
    | MapDerivative = 6
    | ZipDerivative = 7

/// A logged vector op: its kind, rule (a Fun1 or Fun2 as int16; C the constant of PowC), operands
/// (a ref, or None with the constant values XK / YK) and its length N (the operands' for Sum, Dot;
/// the outputs' for a gather, whose pairs are OutIx p ← InIx p, p < Nnz). A derivative map's order
/// m is Nnz; a derivative zip's orders (i, j) are Nnz and C.
and [<Struct>] internal IrVec =
    { Kind: IrVecKind; Rule: int16; C: float; X: VecRef; XK: float[]; Y: VecRef; YK: float[]; N: int
      Nnz: int; OutIx: int -> int; InIx: int -> int }

/// One guard: decision `Decision` on (a, b) gave `Outcome` while recording.
and [<Struct>] internal IrGuard =
    { Decision: Decision; SlotA: int; ConstA: float; SlotB: int; ConstB: float; Outcome: int; At: int }
