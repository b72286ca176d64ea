/// Comparison helpers for the F# surface tests.
module Hybrid.FSharp.Tests.Check

open System
open Expecto

/// |a − b| ≤ tol · max(1, |a|, |b|), with a message naming what was compared.
let close (tol: float) (what: string) (expected: float) (actual: float) =
    let scale = Math.Max(1.0, Math.Max(Math.Abs expected, Math.Abs actual))
    if not (Math.Abs(expected - actual) <= tol * scale) then
        failtestf "%s: expected %.15g, got %.15g (|diff| %.3g > tol %.1g)" what expected actual (Math.Abs(expected - actual)) (tol * scale)

/// Element-wise `close` of two arrays of the same length.
let closeAll (tol: float) (what: string) (expected: float[]) (actual: float[]) =
    Expect.equal actual.Length expected.Length (sprintf "%s: length" what)
    Array.iteri2 (fun i e a -> close tol (sprintf "%s[%d]" what i) e a) expected actual

/// Element-wise `close` of two 2-D arrays of the same shape.
let closeMat (tol: float) (what: string) (expected: float[,]) (actual: float[,]) =
    Expect.equal (Array2D.length1 actual, Array2D.length2 actual) (Array2D.length1 expected, Array2D.length2 expected) (sprintf "%s: shape" what)
    expected |> Array2D.iteri (fun i j e -> close tol (sprintf "%s[%d, %d]" what i j) e actual[i, j])

/// Expects `f` to throw an exception of type 'E whose message contains every one of `parts`.
let throwsWith<'E when 'E :> exn> (parts: string list) (what: string) (f: unit -> unit) =
    try
        f ()
        failtestf "%s: expected %s, nothing was thrown" what typeof<'E>.Name
    with
    | :? 'E as e ->
        for p in parts do
            Expect.stringContains e.Message p (sprintf "%s: the message names %s" what p)
    | :? AssertException -> reraise ()
    | e -> failtestf "%s: expected %s, got %s: %s" what typeof<'E>.Name (e.GetType().Name) e.Message
