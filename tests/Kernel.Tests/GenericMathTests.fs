/// The generic-math surface shared by Dual, HyperDual and Real: a C#-style generic method
/// (`static T F<T>(T x) where T : …`) at each number type, the interface members against the rule
/// table, composed members against finite differences, conversions, parsing and formatting.
module Hybrid.Kernel.Tests.GenericMathTests

open System
open System.Globalization
open System.Numerics
open Expecto
open Hybrid.Kernel
open Hybrid.Kernel.Tests.Check

/// What a C# programmer writes: a non-inline generic method constrained on the interfaces.
let expSin<'T when 'T :> IExponentialFunctions<'T> and 'T :> ITrigonometricFunctions<'T>> (x: 'T) : 'T =
    'T.op_Multiply('T.Exp x, 'T.Sin x)

/// A bigger one: every interface, constants, comparisons, conversions.
let everything<'T
    when 'T :> INumberBase<'T> and 'T :> IComparisonOperators<'T, 'T, bool> and 'T :> IFloatingPointConstants<'T>
    and 'T :> IExponentialFunctions<'T> and 'T :> ILogarithmicFunctions<'T> and 'T :> ITrigonometricFunctions<'T>
    and 'T :> IHyperbolicFunctions<'T> and 'T :> IPowerFunctions<'T> and 'T :> IRootFunctions<'T>> (x: 'T) : 'T =
    let two = 'T.CreateChecked 2
    let a = 'T.op_Addition('T.Pow(x, two), 'T.Sqrt('T.op_Addition(x, 'T.One)))
    let b = 'T.op_Multiply('T.Log2(a), 'T.Tanh(x))
    let c = 'T.op_Division('T.Hypot(x, 'T.Pi), 'T.Cbrt('T.op_Addition(a, 'T.E)))
    if 'T.op_GreaterThan(x, 'T.Zero) then 'T.op_Subtraction(b, 'T.Atan(c)) else 'T.op_Addition(b, 'T.Cosh(c))

/// A rule-table function called through the .NET interfaces (None where no interface has it).
let viaInterfaces<'T
    when 'T :> INumberBase<'T> and 'T :> IExponentialFunctions<'T> and 'T :> ILogarithmicFunctions<'T>
    and 'T :> ITrigonometricFunctions<'T> and 'T :> IHyperbolicFunctions<'T> and 'T :> IPowerFunctions<'T>
    and 'T :> IRootFunctions<'T>> (f: Fun1) (c: float) (x: 'T) : 'T option =
    match f with
    | Fun1.Neg -> Some('T.op_UnaryNegation x)
    | Fun1.Recip -> Some('T.op_Division('T.One, x))
    | Fun1.Square -> Some('T.op_Multiply(x, x))
    | Fun1.Sqrt -> Some('T.Sqrt x)
    | Fun1.Cbrt -> Some('T.Cbrt x)
    | Fun1.Exp -> Some('T.Exp x)
    | Fun1.Exp2 -> Some('T.Exp2 x)
    | Fun1.Log -> Some('T.Log x)
    | Fun1.Log2 -> Some('T.Log2 x)
    | Fun1.Log10 -> Some('T.Log10 x)
    | Fun1.Log1p -> Some('T.LogP1 x)
    | Fun1.Expm1 -> Some('T.ExpM1 x)
    | Fun1.Sin -> Some('T.Sin x)
    | Fun1.Cos -> Some('T.Cos x)
    | Fun1.Tan -> Some('T.Tan x)
    | Fun1.Asin -> Some('T.Asin x)
    | Fun1.Acos -> Some('T.Acos x)
    | Fun1.Atan -> Some('T.Atan x)
    | Fun1.Sinh -> Some('T.Sinh x)
    | Fun1.Cosh -> Some('T.Cosh x)
    | Fun1.Tanh -> Some('T.Tanh x)
    | Fun1.Asinh -> Some('T.Asinh x)
    | Fun1.Acosh -> Some('T.Acosh x)
    | Fun1.Atanh -> Some('T.Atanh x)
    | Fun1.Abs -> Some('T.Abs x)
    | Fun1.PowC -> Some('T.Pow(x, 'T.CreateChecked c))
    | _ -> None

let dualParts (x: Dual) = [| x.V; x.T |]
let hyperParts (x: HyperDual) = [| x.V; x.E1; x.E2; x.E12 |]

let closeAll what (a: float[]) (b: float[]) = Array.iteri2 (fun i u v -> close 1e-13 (sprintf "%s part %d" what i) u v) a b

[<Tests>]
let tests =
    testList "GenericMath" [
        test "a C#-style generic method at double, Dual, HyperDual and Real" {
            let x = 0.8
            let f = Math.Exp x * Math.Sin x
            let f' = Math.Exp x * (Math.Sin x + Math.Cos x)
            let f'' = 2.0 * Math.Exp x * Math.Cos x
            close 1e-15 "double" f (expSin x)
            closeAll "Dual" [| f; f' |] (dualParts (expSin (Dual(x, 1.0))))
            close 1e-15 "Real (a constant)" f (expSin (Real x)).V
            closeAll "HyperDual" [| f; f'; f'; f'' |] (hyperParts (expSin (HyperDual(x, 1.0, 1.0, 0.0))))
        }
        test "a generic method over every interface: Dual and HyperDual against finite differences" {
            for x in [ -0.7; -0.4; 0.6; 2.1 ] do
                close 1e-15 "Dual value" (everything x) (everything (Dual(x, 1.0))).V
                close 1e-7 (sprintf "f'(%g)" x) (fd everything x) (everything (Dual(x, 1.0))).T
                let h = everything (HyperDual(x, 1.0, 1.0, 0.0))
                close 1e-13 "HyperDual ε₁ = Dual" (everything (Dual(x, 1.0))).T h.E1
                close 1e-5 (sprintf "f''(%g)" x) (fd2 everything x) h.E12
        }
        testList "interface members = rule table" [
            for (f, name, lo, hi) in Rules.unary do
                test name {
                    for x in points lo hi 3 do
                        match viaInterfaces f 2.5 (Dual(x, 1.0)) with
                        | Some y -> closeAll (name + " Dual") (dualParts (Dual.Apply1(f, 2.5, Dual(x, 1.0)))) (dualParts y)
                        | None -> ()
                        let seed = HyperDual(x, 1.0, 0.5, 0.0)
                        match viaInterfaces f 2.5 seed with
                        | Some y -> closeAll (name + " HyperDual") (hyperParts (HyperDual.Apply1(f, 2.5, seed))) (hyperParts y)
                        | None -> ()
                        match viaInterfaces f 2.5 (Real x) with
                        | Some y -> close 1e-13 (name + " Real") (Real.Rule1(f, 2.5, Real x)).V y.V
                        | None -> ()
                }
        ]
        test "named members outside the interfaces = rule table" {
            let x, y = Dual(0.7, 1.0), Dual(1.9, -0.5)
            let same what (a: Dual) (b: Dual) = Expect.equal (a.V, a.T) (b.V, b.T) what
            same "Erf" (Dual.Erf x) (Dual.Apply1(Fun1.Erf, 0.0, x))
            same "Square" (Dual.Square x) (Dual.Apply1(Fun1.Square, 0.0, x))
            same "Reciprocal" (Dual.Reciprocal x) (Dual.Apply1(Fun1.Recip, 0.0, x))
            same "Pow(x, c)" (Dual.Pow(x, 1.5)) (Dual.Apply1(Fun1.PowC, 1.5, x))
            same "Pow(x, n)" (Dual.Pow(x, 3)) (Dual.Apply1(Fun1.PowC, 3.0, x))
            same "Pow(c, y)" (Dual.Pow(2.0, y)) (Dual.Apply2(Fun2.Pow, Dual.Const 2.0, y))
            same "Atan2" (Dual.Atan2(x, y)) (Dual.Apply2(Fun2.Atan2, x, y))
            same "Min" (Dual.Min(x, y)) (Dual.Apply2(Fun2.Min, x, y))
            same "Max" (Dual.Max(x, y)) (Dual.Apply2(Fun2.Max, x, y))
            same "Hypot" (Dual.Hypot(x, y)) (Dual.Apply2(Fun2.Hypot, x, y))
        }
        testList "composed members against central differences" [
            for (name, f, g, lo, hi) in
                [ "Exp10", Dual.Exp10, (fun x -> Math.Pow(10.0, x)), -1.0, 1.0
                  "Exp2M1", Dual.Exp2M1, (fun x -> Math.Pow(2.0, x) - 1.0), -1.0, 1.0
                  "Exp10M1", Dual.Exp10M1, (fun x -> Math.Pow(10.0, x) - 1.0), -1.0, 1.0
                  "Log2P1", Dual.Log2P1, (fun x -> Math.Log2(1.0 + x)), -0.5, 2.0
                  "Log10P1", Dual.Log10P1, (fun x -> Math.Log10(1.0 + x)), -0.5, 2.0
                  "Log(x, 3)", (fun x -> Dual.Log(x, Dual.Const 3.0)), (fun x -> Math.Log(x, 3.0)), 0.2, 3.0
                  "SinPi", Dual.SinPi, (fun x -> Math.Sin(Math.PI * x)), -1.0, 1.0
                  "CosPi", Dual.CosPi, (fun x -> Math.Cos(Math.PI * x)), -1.0, 1.0
                  "TanPi", Dual.TanPi, (fun x -> Math.Tan(Math.PI * x)), -0.4, 0.4
                  "AsinPi", Dual.AsinPi, (fun x -> Math.Asin x / Math.PI), -0.9, 0.9
                  "AcosPi", Dual.AcosPi, (fun x -> Math.Acos x / Math.PI), -0.9, 0.9
                  "AtanPi", Dual.AtanPi, (fun x -> Math.Atan x / Math.PI), -3.0, 3.0
                  "RootN(x, 3)", (fun x -> Dual.RootN(x, 3)), Math.Cbrt, -3.0, -0.1
                  "RootN(x, 4)", (fun x -> Dual.RootN(x, 4)), (fun x -> Math.Pow(x, 0.25)), 0.1, 3.0
                  "DegreesToRadians", Dual.DegreesToRadians, (fun x -> x * Math.PI / 180.0), -90.0, 90.0 ] do
                test name {
                    for x in points lo hi 5 do
                        let y = f (Dual(x, 1.0))
                        close 1e-13 (sprintf "%s(%g)" name x) (g x) y.V
                        close 1e-7 (sprintf "%s'(%g)" name x) (fd g x) y.T
                }
        ]
        test "Pow with a constant exponent and a negative base: no NaN from 0·log x" {
            let two = Dual.CreateChecked 2
            let y = Dual.Pow(Dual(-0.7, 1.0), two)
            close 1e-15 "Dual value" 0.49 y.V
            close 1e-15 "Dual tangent" -1.4 y.T
            let h = HyperDual.Pow(HyperDual(-0.7, 1.0, 1.0, 0.0), HyperDual.CreateChecked 2)
            close 1e-15 "HyperDual ε₁" -1.4 h.E1
            close 1e-15 "HyperDual ε₁ε₂" 2.0 h.E12
            let b = Dual.Pow(Dual.Const -2.0, Dual(3.0, 1.0))
            Expect.equal b.V -8.0 "constant negative base: value as double"
        }
        test "conversions go through the primal" {
            let d = Dual.CreateChecked 3
            Expect.equal (d.V, d.T) (3.0, 0.0) "from int"
            Expect.equal (Double.CreateChecked(Dual(2.0, 5.0))) 2.0 "to double"
            Expect.equal (Int32.CreateTruncating(Dual(2.7, 1.0))) 2 "to int, truncating"
            Expect.equal (Int32.CreateSaturating(HyperDual(1e20, 1.0, 0.0, 0.0))) Int32.MaxValue "to int, saturating"
            Expect.throwsT<OverflowException> (fun () -> Int32.CreateChecked(Dual(1e20, 0.0)) |> ignore) "to int, checked"
            Expect.equal (Decimal.CreateChecked(HyperDual(1.5, 1.0, 1.0, 0.0))) 1.5m "to decimal"
            Expect.equal (HyperDual.CreateChecked(Dual(2.0, 5.0))).V 2.0 "Dual to HyperDual keeps the value"
            let kept = Dual.CreateChecked(Dual(2.0, 5.0))
            Expect.equal (kept.V, kept.T) (2.0, 5.0) "Dual to Dual keeps the tangent"
            Expect.equal (Real.CreateTruncating 2.5f).V 2.5 "from float32"
            Expect.equal (Dual.op_Implicit 4.0).V 4.0 "implicit from double"
            Expect.equal (float (Dual(4.0, 1.0))) 4.0 "explicit to double"
        }
        test "parse and format" {
            let inv = CultureInfo.InvariantCulture
            Expect.equal (Dual.Parse("2.5", inv)).V 2.5 "Parse"
            let mutable r = Dual.Zero
            Expect.isTrue (Dual.TryParse("-1e3", inv, &r) && r.V = -1000.0) "TryParse"
            let mutable h = HyperDual.One
            Expect.isFalse (HyperDual.TryParse("x", inv, &h)) "TryParse rejects"
            Expect.equal (string (Dual(1.5, 2.0))) "1.5 + 2ε" "Dual"
            Expect.equal (string (HyperDual(1.0, 2.0, 3.0, 4.0))) "1 + 2ε₁ + 3ε₂ + 4ε₁ε₂" "HyperDual"
            Expect.equal (String.Format(inv, "{0:F2}", Dual(1.5, 2.0))) "1.50 + 2.00ε" "format string"
            Expect.equal $"{Dual(1.5, 2.0)}" "1.5 + 2ε" "interpolation"
        }
        test "constants and predicates" {
            Expect.equal (Dual.Pi.V, HyperDual.E.V, Real.Tau.V) (Math.PI, Math.E, Math.Tau) "constants"
            Expect.isTrue (Dual.IsFinite(Dual(1.0, nan))) "predicates see the primal"
            Expect.isTrue (HyperDual.IsInteger(HyperDual(3.0, 0.5, 0.0, 0.0))) "IsInteger"
            Expect.equal (Dual.MaxMagnitude(Dual(-3.0, 1.0), Dual(2.0, 0.0))).T 1.0 "MaxMagnitude picks an argument"
        }
    ]
