namespace Hybrid.Kernel

open System

/// A decision on primal values: what a comparison or predicate of the generic-math surface asks.
/// Every number type answers it the same way (`Decisions.eval`); a traced `Real` recorded for
/// `Fn.Compile` also writes it down as a guard, which the compiled code re-evaluates at a new point.
type internal Decision =
    | Lt = 0uy
    | Le = 1uy
    | Gt = 2uy
    | Ge = 3uy
    | Eq = 4uy
    | Ne = 5uy
    /// Double.Equals (NaN equals NaN): Equals, and the guard of a `.Value` read (the value itself).
    | Same = 6uy
    /// Double.CompareTo: −1, 0 or 1.
    | CompareTo = 7uy
    /// |a| > |b| and |a| < |b| (MaxMagnitude, MinMagnitude).
    | AbsGt = 8uy
    | AbsLt = 9uy
    // predicates of a alone (b is ignored)
    | IsNaN = 10uy
    | IsFinite = 11uy
    | IsInfinity = 12uy
    | IsPositiveInfinity = 13uy
    | IsNegativeInfinity = 14uy
    | IsNegative = 15uy
    | IsPositive = 16uy
    | IsZero = 17uy
    | IsNormal = 18uy
    | IsSubnormal = 19uy
    | IsInteger = 20uy
    | IsEvenInteger = 21uy
    | IsOddInteger = 22uy

module internal Decisions =
    let inline private b2i (b: bool) = if b then 1 else 0

    /// The outcome of decision d on primal values a and b (1/0 for true/false; CompareTo's sign).
    let eval (d: Decision) (a: float) (b: float) : int =
        match d with
        | Decision.Lt -> b2i (a < b)
        | Decision.Le -> b2i (a <= b)
        | Decision.Gt -> b2i (a > b)
        | Decision.Ge -> b2i (a >= b)
        | Decision.Eq -> b2i (a = b)
        | Decision.Ne -> b2i (a <> b)
        | Decision.Same -> b2i (a.Equals b)
        | Decision.CompareTo -> a.CompareTo b
        | Decision.AbsGt -> b2i (Math.Abs a > Math.Abs b)
        | Decision.AbsLt -> b2i (Math.Abs a < Math.Abs b)
        | Decision.IsNaN -> b2i (Double.IsNaN a)
        | Decision.IsFinite -> b2i (Double.IsFinite a)
        | Decision.IsInfinity -> b2i (Double.IsInfinity a)
        | Decision.IsPositiveInfinity -> b2i (Double.IsPositiveInfinity a)
        | Decision.IsNegativeInfinity -> b2i (Double.IsNegativeInfinity a)
        | Decision.IsNegative -> b2i (Double.IsNegative a)
        | Decision.IsPositive -> b2i (Double.IsPositive a)
        | Decision.IsZero -> b2i (a = 0.0)
        | Decision.IsNormal -> b2i (Double.IsNormal a)
        | Decision.IsSubnormal -> b2i (Double.IsSubnormal a)
        | Decision.IsInteger -> b2i (Double.IsInteger a)
        | Decision.IsEvenInteger -> b2i (Double.IsEvenInteger a)
        | Decision.IsOddInteger -> b2i (Double.IsOddInteger a)
        | _ -> raise (ArgumentOutOfRangeException(nameof d, d, "not a decision"))
