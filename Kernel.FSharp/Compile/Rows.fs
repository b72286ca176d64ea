namespace Hybrid.Kernel

open System
open System.Collections.Concurrent
open System.Reflection
open System.Runtime.CompilerServices

/// A rule-table function as a type: its code (the Fun1 or Fun2 value) spelled in binary by nested
/// structs, `One`/`Zero` wrapping the bits above them (`B1<B0<B1<Bits>>>` is 0b101 = 5), so a
/// row's code is a constant the JIT folds when it compiles a method for that type.
type internal IBits =
    static abstract Code: int

/// No more bits: 0.
[<Struct>]
type internal Bits =
    interface IBits with
        static member Code = 0

/// 2·(the bits of 'T) + 1.
[<Struct>]
type internal B1<'T when 'T :> IBits and 'T: struct> =
    interface IBits with
        static member Code = 2 * 'T.Code + 1

/// 2·(the bits of 'T).
[<Struct>]
type internal B0<'T when 'T :> IBits and 'T: struct> =
    interface IBits with
        static member Code = 2 * 'T.Code

/// A unary row of the table, specialised: the column accessors with f the constant 'F.Code. The
/// .NET JIT compiles these methods once per 'F (a struct) and folds the table's match on the
/// constant to the one row, so compiled code calls that row's own formulas directly — the table
/// stays the one definition (these are `Rules.value1`/`d1`/`d2`, not copies). Optimised at their
/// first call (no tier-0 code, which would run every row's arm): Row2<Mul>.Hessian is 29 bytes of
/// machine code, the three constants stored.
[<AbstractClass; Sealed>]
type internal Row1<'F when 'F :> IBits and 'F: struct> =
    [<MethodImpl(MethodImplOptions.AggressiveOptimization)>]
    static member Value(c: float, x: float) : float = Rules.value1 (enum<Fun1> 'F.Code) c x
    [<MethodImpl(MethodImplOptions.AggressiveOptimization)>]
    static member D1(c: float, x: float, fx: float) : float = Rules.d1<float> (enum<Fun1> 'F.Code) c x fx
    [<MethodImpl(MethodImplOptions.AggressiveOptimization)>]
    static member D2(c: float, x: float, fx: float, d: float) : float = Rules.d2 (enum<Fun1> 'F.Code) c x fx d

/// A binary row of the table, specialised (as Row1).
[<AbstractClass; Sealed>]
type internal Row2<'F when 'F :> IBits and 'F: struct> =
    [<MethodImpl(MethodImplOptions.AggressiveOptimization)>]
    static member Value(x: float, y: float) : float = Rules.value2 (enum<Fun2> 'F.Code) x y
    [<MethodImpl(MethodImplOptions.AggressiveOptimization)>]
    static member Partials(x: float, y: float, fz: float, dx: byref<float>, dy: byref<float>) =
        let struct (a, b) = Rules.partials2<float> (enum<Fun2> 'F.Code) x y fz
        dx <- a
        dy <- b
    [<MethodImpl(MethodImplOptions.AggressiveOptimization)>]
    static member Hessian(x: float, y: float, fz: float, dx: float, dy: float,
                          hxx: byref<float>, hxy: byref<float>, hyy: byref<float>) =
        let struct (a, b, c) = Rules.hessian2 (enum<Fun2> 'F.Code) x y fz dx dy
        hxx <- a
        hxy <- b
        hyy <- c

/// The specialised rows' methods, for emitted IL to call (made once per row and column).
module internal Rows =

    /// The type spelling code in bits.
    let rec private bits (code: int) : Type =
        if code = 0 then typeof<Bits>
        else (if code &&& 1 = 1 then typedefof<B1<Bits>> else typedefof<B0<Bits>>).MakeGenericType(bits (code >>> 1))

    let private cache = ConcurrentDictionary<struct (Type * int * string), MethodInfo>()

    let private methodOf (row: Type) (code: int) (name: string) =
        cache.GetOrAdd(struct (row, code, name), fun struct (row, code, name) ->
            row.MakeGenericType(bits code).GetMethod(name, BindingFlags.Static ||| BindingFlags.Public ||| BindingFlags.NonPublic))

    /// Row1<f>.Value(c, x): f(x).
    let value1 (f: Fun1) = methodOf typedefof<Row1<Bits>> (int f) "Value"
    /// Row1<f>.D1(c, x, fx): f'(x).
    let d1 (f: Fun1) = methodOf typedefof<Row1<Bits>> (int f) "D1"
    /// Row1<f>.D2(c, x, fx, dfx): f''(x).
    let d2 (f: Fun1) = methodOf typedefof<Row1<Bits>> (int f) "D2"
    /// Row2<f>.Value(x, y): f(x, y).
    let value2 (f: Fun2) = methodOf typedefof<Row2<Bits>> (int f) "Value"
    /// Row2<f>.Partials(x, y, fz, &dx, &dy).
    let partials2 (f: Fun2) = methodOf typedefof<Row2<Bits>> (int f) "Partials"
    /// Row2<f>.Hessian(x, y, fz, dx, dy, &hxx, &hxy, &hyy).
    let hessian2 (f: Fun2) = methodOf typedefof<Row2<Bits>> (int f) "Hessian"
