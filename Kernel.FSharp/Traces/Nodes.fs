namespace Hybrid.Kernel

open System
open System.Buffers
open System.Threading

/// What a trace records: tangents (forward mode) or a tape of partials (reverse mode).
type internal TraceKind =
    | Forward = 0
    | Reverse = 1

/// Node kinds on a trace. Every node owns one slot (its index) in the trace's derivative arrays.
type internal NodeKind =
    /// A scalar operation: up to two argument slots with their partials.
    | Scalar = 0uy
    /// An input: no arguments; its lower-level primal is where it came from.
    | Input = 1uy
    /// One element of a vector op's output: argument is (op, offset).
    | Element = 2uy
    /// A vector primitive: the op index is in Arg0; the op object holds its own rules.
    | Vector = 3uy
    // The compact scalar nodes of a Plain trace (`Trace.Plain`: the hot path of `Real`'s operators).
    // Their operands and partials are not in Arg0/Arg1/D0/D1 but in the trace's `Tape`, one record per
    // node in node order, of the size its kind says (4-byte units): the sweep reads them back to front.
    // A partial that the node's shape fixes (±1) is not stored: the sweep forms the same products.
    /// One operand and its partial: [a0; d0] (3 units).
    | Unary = 4uy
    /// Two operands and their partials: [a0; a1; d0; d1] (6 units).
    | Binary = 5uy
    /// a0 + a1: [a0; a1] (2 units; partials 1, 1).
    | Add = 6uy
    /// a0 − a1: [a0; a1] (2 units; partials 1, −1).
    | Sub = 7uy
    /// a0 + c (or a0 − c): [a0] (1 unit; partial 1).
    | Plus = 8uy
    /// c − a0 (or −a0): [a0] (1 unit; partial −1).
    | Minus = 9uy

/// Where a vector's per-element derivatives live on its trace: `Slot` ≥ 0 means consecutive scalar
/// slots starting there; otherwise `Op` ≥ 0 names a vector op whose own buffer holds them from `Offset`.
/// A length-1 ref broadcasts against longer vectors.
[<Struct>]
type internal VecRef =
    { Slot: int; Op: int; Offset: int; Length: int }
    static member Slots(slot, length) = { Slot = slot; Op = -1; Offset = 0; Length = length }
    static member OfOp(op, offset, length) = { Slot = -1; Op = op; Offset = offset; Length = length }
    /// A constant operand: no derivatives.
    static member None = { Slot = -1; Op = -1; Offset = 0; Length = 0 }
    member r.IsNone = r.Slot < 0 && r.Op < 0
    /// The sub-range [start, start + length).
    member r.Slice(start, length) =
        if r.Slot >= 0 then { Slot = r.Slot + start; Op = -1; Offset = 0; Length = length }
        elif r.Op >= 0 then { Slot = -1; Op = r.Op; Offset = r.Offset + start; Length = length }
        else r
