namespace Hybrid.Kernel

open System

/// The k partials (tangents) of a chunked dual number `DualN<'P>`: ForwardDiff's `Partials{N}`.
///
/// Why a type parameter and not an array or a k-sized buffer: each `PartialsK` is a plain struct of
/// k doubles, so `DualN<PartialsK>` is a struct of k + 1 doubles that lives in registers or on the
/// stack. The runtime compiles a separate body of every generic method for each struct type
/// argument, so `'P.Axpby` becomes k straight-line multiply-adds with k a compile-time constant:
/// no loop, no bounds check, no allocation per operation. A caller picks the chunk width k by
/// picking the type (2, 4 or 8; 1 is `Dual`), and a Jacobian over n inputs takes ⌈n/k⌉ passes.
type IPartials<'P when 'P :> IPartials<'P>> =
    /// The chunk width k.
    static abstract Count: int
    /// All slots 0.
    static abstract Zero: 'P
    /// The unit vector eᵢ (slot i is 1, the others 0); all 0 when i is outside 0..k−1.
    static abstract Unit: i: int -> 'P
    /// Slot i.
    abstract Item: i: int -> float with get
    /// a·p.
    static abstract Scale: a: float * p: 'P -> 'P
    /// a·p + b·q, slot by slot.
    static abstract Axpby: a: float * p: 'P * b: float * q: 'P -> 'P
    /// Are all slots 0?
    static abstract IsZero: p: 'P -> bool

/// 2 partials stored inline (no heap allocation): the tangent part of `DualN<Partials2>`.
[<Struct; NoEquality; NoComparison>]
type Partials2 =
    /// Slot 0.
    val A0: float
    /// Slot 1.
    val A1: float
    /// The partials (a0, a1).
    new(a0, a1) = { A0 = a0; A1 = a1 }
    interface IPartials<Partials2> with
        static member Count = 2
        static member Zero = Partials2(0.0, 0.0)
        static member Unit i =
            Partials2((if i = 0 then 1.0 else 0.0), (if i = 1 then 1.0 else 0.0))
        member p.Item
            with get i =
                match i with
                | 0 -> p.A0
                | 1 -> p.A1
                | _ -> raise (ArgumentOutOfRangeException(nameof i, i, "slot outside 0..1"))
        static member Scale(a, p) = Partials2(a * p.A0, a * p.A1)
        static member IsZero p = p.A0 = 0.0 && p.A1 = 0.0
        static member Axpby(a, p, b, q) =
            Partials2(a * p.A0 + b * q.A0, a * p.A1 + b * q.A1)

/// 4 partials stored inline (no heap allocation): the tangent part of `DualN<Partials4>`.
[<Struct; NoEquality; NoComparison>]
type Partials4 =
    /// Slot 0.
    val A0: float
    /// Slot 1.
    val A1: float
    /// Slot 2.
    val A2: float
    /// Slot 3.
    val A3: float
    /// The partials (a0, a1, a2, a3).
    new(a0, a1, a2, a3) = { A0 = a0; A1 = a1; A2 = a2; A3 = a3 }
    interface IPartials<Partials4> with
        static member Count = 4
        static member Zero = Partials4(0.0, 0.0, 0.0, 0.0)
        static member Unit i =
            Partials4((if i = 0 then 1.0 else 0.0), (if i = 1 then 1.0 else 0.0), (if i = 2 then 1.0 else 0.0), (if i = 3 then 1.0 else 0.0))
        member p.Item
            with get i =
                match i with
                | 0 -> p.A0
                | 1 -> p.A1
                | 2 -> p.A2
                | 3 -> p.A3
                | _ -> raise (ArgumentOutOfRangeException(nameof i, i, "slot outside 0..3"))
        static member Scale(a, p) = Partials4(a * p.A0, a * p.A1, a * p.A2, a * p.A3)
        static member IsZero p = p.A0 = 0.0 && p.A1 = 0.0 && p.A2 = 0.0 && p.A3 = 0.0
        static member Axpby(a, p, b, q) =
            Partials4(a * p.A0 + b * q.A0, a * p.A1 + b * q.A1, a * p.A2 + b * q.A2, a * p.A3 + b * q.A3)

/// 8 partials stored inline (no heap allocation): the tangent part of `DualN<Partials8>`.
[<Struct; NoEquality; NoComparison>]
type Partials8 =
    /// Slot 0.
    val A0: float
    /// Slot 1.
    val A1: float
    /// Slot 2.
    val A2: float
    /// Slot 3.
    val A3: float
    /// Slot 4.
    val A4: float
    /// Slot 5.
    val A5: float
    /// Slot 6.
    val A6: float
    /// Slot 7.
    val A7: float
    /// The partials (a0, a1, a2, a3, a4, a5, a6, a7).
    new(a0, a1, a2, a3, a4, a5, a6, a7) = { A0 = a0; A1 = a1; A2 = a2; A3 = a3; A4 = a4; A5 = a5; A6 = a6; A7 = a7 }
    interface IPartials<Partials8> with
        static member Count = 8
        static member Zero = Partials8(0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0)
        static member Unit i =
            Partials8((if i = 0 then 1.0 else 0.0), (if i = 1 then 1.0 else 0.0), (if i = 2 then 1.0 else 0.0), (if i = 3 then 1.0 else 0.0), (if i = 4 then 1.0 else 0.0), (if i = 5 then 1.0 else 0.0), (if i = 6 then 1.0 else 0.0), (if i = 7 then 1.0 else 0.0))
        member p.Item
            with get i =
                match i with
                | 0 -> p.A0
                | 1 -> p.A1
                | 2 -> p.A2
                | 3 -> p.A3
                | 4 -> p.A4
                | 5 -> p.A5
                | 6 -> p.A6
                | 7 -> p.A7
                | _ -> raise (ArgumentOutOfRangeException(nameof i, i, "slot outside 0..7"))
        static member Scale(a, p) = Partials8(a * p.A0, a * p.A1, a * p.A2, a * p.A3, a * p.A4, a * p.A5, a * p.A6, a * p.A7)
        static member IsZero p = p.A0 = 0.0 && p.A1 = 0.0 && p.A2 = 0.0 && p.A3 = 0.0 && p.A4 = 0.0 && p.A5 = 0.0 && p.A6 = 0.0 && p.A7 = 0.0
        static member Axpby(a, p, b, q) =
            Partials8(a * p.A0 + b * q.A0, a * p.A1 + b * q.A1, a * p.A2 + b * q.A2, a * p.A3 + b * q.A3, a * p.A4 + b * q.A4, a * p.A5 + b * q.A5, a * p.A6 + b * q.A6, a * p.A7 + b * q.A7)
