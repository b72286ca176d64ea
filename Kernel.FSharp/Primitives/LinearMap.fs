namespace Hybrid.Kernel

open System

/// y = A·u for a constant linear map A given only by its action and its transpose's (JAX's
/// `deflinear`): what a recorded pullback (A = Jᵀ) or a linearisation (A = J) is, applied to a
/// cotangent or tangent that is itself differentiable. A linear map is its own derivative:
/// ẏ = A·u̇; its reverse rule is the transpose, ū += Aᵀ·ȳ; and since A is constant its second-order
/// rule is the same transpose on the adjoint tangent, ū̇ += Aᵀ·ȳ̇.
[<Sealed>]
type internal LinearOp(u: VecRef, apply: float[] -> float[], applyT: float[] -> float[], out: VecRef) =
    inherit VecOp(out)
    override _.Jvp(tan) = tan.Write(out, apply (tan.Read u))
    override _.Vjp(adj) = adj.AddInto(u, applyT (adj.Read out))
    override _.VjpTangent(_, _, adjT) = adjT.AddInto(u, applyT (adjT.Read out))

[<AbstractClass; Sealed>]
type internal LinearMap =
    /// A·u with A of shape outLen × u.Length: plain doubles for a constant u; one tape node on a
    /// bottom-level trace; on a nested trace A is formed (u.Length applications) and multiplied in
    /// the arithmetic of u's level, so the result stays differentiable there.
    static member Apply(u: Vec, outLen: int, apply: float[] -> float[], applyT: float[] -> float[]) : Vec =
        let values = apply (u.ToArray())
        if u.IsConstant then Vec values
        else
            let t = Vec.FastTrace(u.Tid, 0)
            if not (isNull t) then Dense.record t values outLen (fun o -> LinearOp(u.Ref, apply, applyT, o) :> VecOp)
            else
                let n = u.Length
                let a = Array.zeroCreate (outLen * n)
                let e = Array.zeroCreate n
                for j in 0 .. n - 1 do
                    e[j] <- 1.0
                    Array.blit (apply e) 0 a (j * outLen) outLen
                    e[j] <- 0.0
                GemmOp.Record("LinearMap", Vec a, false, outLen, n, u, false, n, 1)
