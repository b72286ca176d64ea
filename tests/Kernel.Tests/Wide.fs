/// Numbers with an exponent that cannot overflow, for exact derivatives at extreme magnitudes.
///
/// A `W` is m·2^e with 1 ≤ |m| < 2 (or m = 0) and e an int, so x², 1 + x², (x² + y²)^(3/2) or
/// 1/h³ at |x| = 1e±300 are ordinary values: the textbook formula of a derivative evaluates
/// without leaving the range, independently of the rule table's rescaled forms, and `toFloat`
/// rounds the result once to a double (±∞ or 0 only where the exact value is out of range).
module Hybrid.Kernel.Tests.Wide

open System

/// m·2^e, m normalised to 1 ≤ |m| < 2 (or 0). Finite values only.
[<Struct; NoEquality; NoComparison>]
type W =
    { M: float
      E: int }

    static member private Norm(m: float, e: int) =
        if m = 0.0 then { M = 0.0; E = 0 }
        else
            let k = Math.ILogB m
            { M = Math.ScaleB(m, -k); E = e + k }

    /// The exact value of a finite double.
    static member Of(x: float) =
        if not (Double.IsFinite x) then invalidArg "x" (sprintf "W holds finite values only, not %g" x)
        W.Norm(x, 0)

    /// The nearest double (±∞ or 0 where out of range), rounded once.
    member a.ToFloat() = if a.M = 0.0 then 0.0 else Math.ScaleB(a.M, Math.Clamp(a.E, -4000, 4000))

    static member (*)(a: W, b: W) = W.Norm(a.M * b.M, a.E + b.E)
    static member (*)(c: float, b: W) = W.Of c * b
    static member (/)(a: W, b: W) =
        if b.M = 0.0 then raise (DivideByZeroException "W: division by zero")
        W.Norm(a.M / b.M, a.E - b.E)
    static member (/)(c: float, b: W) = W.Of c / b
    static member (~-)(a: W) = { M = -a.M; E = a.E }
    static member (+)(a: W, b: W) =
        if a.M = 0.0 then b
        elif b.M = 0.0 then a
        else
            let big, small = if a.E >= b.E then a, b else b, a
            let d = small.E - big.E
            if d < -120 then big else W.Norm(big.M + Math.ScaleB(small.M, d), big.E)
    static member (+)(c: float, b: W) = W.Of c + b
    static member (-)(a: W, b: W) = a + -b
    static member (-)(c: float, b: W) = W.Of c - b
    static member (-)(a: W, c: float) = a - W.Of c

/// The exact value of x.
let w (x: float) = W.Of x

/// The nearest double.
let toFloat (a: W) = a.ToFloat()

/// √a for a ≥ 0.
let sqrtW (a: W) =
    if a.M < 0.0 then invalidArg "a" "sqrtW of a negative number"
    let e2 = if a.E % 2 = 0 then a.E else a.E - 1
    Math.Sqrt(Math.ScaleB(a.M, a.E - e2)) * { M = 1.0; E = e2 / 2 }

/// a^p for a > 0: m^p · 2^(e·p), the power of 2 split into its integer and fractional parts.
let powW (a: W) (p: float) =
    if a.M <= 0.0 then invalidArg "a" "powW of a non-positive number"
    let t = float a.E * p
    let n = Math.Floor t
    Math.Pow(a.M, p) * Math.Pow(2.0, t - n) * { M = 1.0; E = int n }

/// ln a for a > 0 (a double: logarithms of representable-exponent numbers are small).
let logW (a: W) = Math.Log a.M + float a.E * Math.Log 2.0

/// e^t for a double t of any size (0 or ∞-sized exponents are clamped by `toFloat` later).
let expW (t: float) =
    if Math.Abs t < 700.0 then w (Math.Exp t)
    elif t < -1e6 then w 0.0
    elif t > 1e6 then invalidArg "t" (sprintf "expW(%g) is beyond even W's range" t)
    else
        // e^t = 2^(t·log₂e): integer part to the exponent, the rest through Math.Exp
        let n = Math.Round(t / Math.Log 2.0)
        Math.Exp(t - n * Math.Log 2.0) * { M = 1.0; E = int n }
