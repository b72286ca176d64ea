module Hybrid.Kernel.Tests.RulesTests

open Expecto
open Hybrid.Kernel
open Hybrid.Kernel.Tests.Check

let private powExponent = 2.5

[<Tests>]
let tests =
    testList "Rules" [
        for (f, name, lo, hi) in Rules.unary do
            test (sprintf "%s: d1 and d2 against central differences" name) {
                for x in points lo hi 7 do
                    let v = Rules.value1 f powExponent x
                    let d = Rules.d1<float> f powExponent x v
                    close 1e-7 (sprintf "%s'(%g)" name x) (fd (Rules.value1 f powExponent) x) d
                    let dd = Rules.d2 f powExponent x v d
                    close 1e-5 (sprintf "%s''(%g)" name x) (fd2 (Rules.value1 f powExponent) x) dd
            }
    ]
