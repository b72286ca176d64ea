namespace Hybrid.Kernel

open System

/// y = A·u for a constant linear map A given only by its action and its transpose's (JAX's
/// `deflinear`): what a recorded pullback (A = Jᵀ) or a linearisation (A = J) is, applied to a
/// cotangent or tangent that is itself differentiable. A linear map is its own derivative,
/// ẏ = A·u̇, and its reverse rule is the transpose, ū = Aᵀ·ȳ: both are this primitive again, so it
/// is one node at every level (A is never formed).
[<Sealed>]
type internal LinearPrim(inLen: int, outLen: int, apply: float[] -> float[], applyT: float[] -> float[]) =
    inherit Prim("LinearMap", false)
    override _.Eval xs = struct (apply (xs[0].ToArray()), null)
    /// Its jvp rule is the map itself: k directions are k applications.
    override _.DeriveJvp = false
    override _.Jvp(_, _, _, dxs) = LinearMap.Apply(dxs[0], outLen, apply, applyT)
    override _.Vjp(_, _, _, g, _) = [| LinearMap.Apply(g, inLen, applyT, apply) |]

and [<AbstractClass; Sealed>] internal LinearMap =
    /// A·u with A of shape outLen × u.Length (one node on u's trace at every level).
    static member Apply(u: Vec, outLen: int, apply: float[] -> float[], applyT: float[] -> float[]) : Vec =
        if isNull u then nullArg "u"
        Prim.Apply(LinearPrim(u.Length, outLen, apply, applyT), [| u |])
