namespace Hybrid.Kernel

open System
open System.Buffers
open System.Threading

/// A vector primitive on a trace at the bottom level: its value is already computed; it owns its
/// derivative rules. `Out` is where its output's derivatives live.
[<AbstractClass>]
type internal VecOp(outRef: VecRef) =
    member _.Out = outRef
    /// Forward rule: writes the tangent of `Out` from the tangents of the inputs.
    abstract Jvp: tan: Store -> unit
    /// Reverse rule: adds Jᵀ·adj[Out] into the inputs' adjoints.
    abstract Vjp: adj: Store -> unit
    /// Forward-over-reverse rule (for Hvp on a recorded tape): the tangent of the reverse rule,
    /// adding J'ᵀ·adj[Out] + Jᵀ·adjTan[Out] into the inputs' adjoint tangents, where J' is
    /// the derivative of J along `tan`.
    abstract VjpTangent: adj: Store * tan: Store * adjTan: Store -> unit
    /// True when Jvp and VjpTangent handle every direction of a multi-direction replay at once
    /// (`Store.Width` > 1). Otherwise the sweep calls them once per direction, with
    /// `Store.Direction` set, and they must use Read / Write / AddInto.
    abstract Batched: bool
    default _.Batched = false
