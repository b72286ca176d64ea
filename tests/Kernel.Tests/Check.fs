/// The one checking helper: central differences, tolerances, random points.
module Hybrid.Kernel.Tests.Check

open System
open Expecto

/// Central difference f'(x) with a step scaled to x (error O(h²) ≈ 1e-10 relative).
let fd (f: float -> float) (x: float) =
    let h = 1e-5 * Math.Max(1.0, Math.Abs x)
    (f (x + h) - f (x - h)) / (2.0 * h)

/// Central second difference f''(x).
let fd2 (f: float -> float) (x: float) =
    let h = 1e-4 * Math.Max(1.0, Math.Abs x)
    (f (x + h) - 2.0 * f x + f (x - h)) / (h * h)

/// |a − b| ≤ tol · max(1, |a|, |b|), with a message naming what was compared.
let close (tol: float) (what: string) (expected: float) (actual: float) =
    let scale = Math.Max(1.0, Math.Max(Math.Abs expected, Math.Abs actual))
    if not (Math.Abs(expected - actual) <= tol * scale) then
        failtestf "%s: expected %.15g, got %.15g (|diff| %.3g > tol %.1g)" what expected actual (Math.Abs(expected - actual)) (tol * scale)

/// Evenly spaced sample points strictly inside (lo, hi).
let points (lo: float) (hi: float) (count: int) =
    [ for i in 1..count -> lo + (hi - lo) * float i / float (count + 1) ]
