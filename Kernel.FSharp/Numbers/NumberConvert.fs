namespace Hybrid.Kernel

open System
open System.Numerics

/// Conversions shared by the number types' INumberBase implementations: everything goes through
/// the primal `double`, so a Dual converts to and from any .NET number that double converts to.
module internal NumberConvert =

    /// result ← create v; false (and default) when `create` does not support the source type.
    /// An OverflowException (a checked conversion out of range) propagates, as for double.
    let inline tryFrom (create: 'O -> 'T, v: 'O, result: byref<'T>) =
        try
            result <- create v
            true
        with :? NotSupportedException ->
            result <- Unchecked.defaultof<'T>
            false

    /// result ← 'O.CreateChecked(primal); false when 'O cannot be made from a double.
    let tryToChecked<'O when 'O :> INumberBase<'O>> (primal: float, result: byref<'O>) =
        tryFrom ('O.CreateChecked<float>, primal, &result)

    /// result ← 'O.CreateSaturating(primal); false when 'O cannot be made from a double.
    let tryToSaturating<'O when 'O :> INumberBase<'O>> (primal: float, result: byref<'O>) =
        tryFrom ('O.CreateSaturating<float>, primal, &result)

    /// result ← 'O.CreateTruncating(primal); false when 'O cannot be made from a double.
    let tryToTruncating<'O when 'O :> INumberBase<'O>> (primal: float, result: byref<'O>) =
        tryFrom ('O.CreateTruncating<float>, primal, &result)
