namespace Hybrid.Kernel

open System

/// The passes over a recorded reverse trace: the adjoint sweep (doubles at the bottom level,
/// differentiable lower-level values when nested) and, for traces recorded with second partials,
/// the forward-over-reverse replay that gives Hessian-vector products without re-running f.
module Sweep =

    /// A fresh adjoint store for t (scalars zeroed).
    let store (t: Trace) = Store(Buffers.RentZeroed t.Count, t.OpLengths, true)

    /// Reverse sweep on a bottom-level trace: `adj` holds the seeds (e.g. 1 at the output's slot);
    /// afterwards it holds ∂output/∂slot for every slot. No allocation beyond touched op buffers.
    let reverse (t: Trace) (adj: Store) =
        let a = adj.Scalars
        let kinds = t.Kinds
        let arg0 = t.Arg0
        let arg1 = t.Arg1
        let d0 = t.D0
        let d1 = t.D1
        for i = t.Count - 1 downto 0 do
            match kinds[i] with
            | NodeKind.Scalar ->
                let g = a[i]
                // a zero adjoint is a symbolic zero: a node that does not reach the seeded outputs
                // contributes nothing, even when its partial is NaN or ±∞ (e.g. the unused ∂/∂y of
                // x^y = x^y·log x at x < 0, recorded here by a nested level's rule)
                if g <> 0.0 then
                    let j = arg0[i]
                    if j >= 0 then a[j] <- a[j] + d0[i] * g
                    let k = arg1[i]
                    if k >= 0 then a[k] <- a[k] + d1[i] * g
            | NodeKind.Element ->
                let g = a[i]
                if g <> 0.0 then
                    let b = adj.Buffer arg0[i]
                    b[arg1[i]] <- b[arg1[i]] + g
            | NodeKind.Vector ->
                let op = t.Ops[arg0[i]]
                if not (adj.Untouched op.Out) then op.Vjp adj
            | _ -> ()

    /// Reverse sweep on any trace, in the arithmetic of the level below, so the adjoints are
    /// themselves differentiable there. `adj` and `touched` are seeded by the caller.
    let reverseNested (t: Trace) (adj: Real[]) (touched: bool[]) =
        let inline acc (j: int) (v: Real) =
            if touched[j] then adj[j] <- adj[j] + v
            else
                adj[j] <- v
                touched[j] <- true
        for i = t.Count - 1 downto 0 do
            if touched[i] then
                match t.Kinds[i] with
                | NodeKind.Scalar ->
                    let g = adj[i]
                    let j = t.Arg0[i]
                    if j >= 0 then acc j (Real.Partial0(t, i) * g)
                    let k = t.Arg1[i]
                    if k >= 0 then acc k (Real.Partial1(t, i) * g)
                | NodeKind.Input -> ()
                | kind -> invalidOp (sprintf "Hybrid internal error: %A node on a nested trace" kind)

    /// The tangent pass of the Hvp replay: `tan` holds the input slots' tangents; afterwards every
    /// slot's tangent.
    let forwardTangents (t: Trace) (tan: Store) =
        let s = tan.Scalars
        let kinds = t.Kinds
        let arg0 = t.Arg0
        let arg1 = t.Arg1
        let d0 = t.D0
        let d1 = t.D1
        for i = 0 to t.Count - 1 do
            match kinds[i] with
            | NodeKind.Scalar ->
                let j = arg0[i]
                let k = arg1[i]
                s[i] <- (if j >= 0 then d0[i] * s[j] else 0.0) + (if k >= 0 then d1[i] * s[k] else 0.0)
            | NodeKind.Element -> s[i] <- (tan.Buffer arg0[i])[arg1[i]]
            | NodeKind.Vector -> t.Ops[arg0[i]].Jvp tan
            | _ -> ()

    /// The adjoint-tangent pass of the Hvp replay (the tangent of `reverse` along `tan`): with `adj`
    /// from `reverse` seeded at the output, `adjT` ends holding H·v at the input slots.
    let reverseTangents (t: Trace) (adj: Store) (tan: Store) (adjT: Store) =
        let a = adj.Scalars
        let s = tan.Scalars
        let at = adjT.Scalars
        let kinds = t.Kinds
        let arg0 = t.Arg0
        let arg1 = t.Arg1
        for i = t.Count - 1 downto 0 do
            match kinds[i] with
            | NodeKind.Scalar ->
                let g = a[i]
                let gt = at[i]
                if g <> 0.0 || gt <> 0.0 then // symbolic zeros, as in `reverse`
                    let j = arg0[i]
                    let k = arg1[i]
                    let tj = if j >= 0 then s[j] else 0.0
                    let tk = if k >= 0 then s[k] else 0.0
                    if j >= 0 then at[j] <- at[j] + t.D0[i] * gt + (t.H00[i] * tj + t.H01[i] * tk) * g
                    if k >= 0 then at[k] <- at[k] + t.D1[i] * gt + (t.H01[i] * tj + t.H11[i] * tk) * g
            | NodeKind.Element ->
                let g = at[i]
                if g <> 0.0 then
                    let b = adjT.Buffer arg0[i]
                    b[arg1[i]] <- b[arg1[i]] + g
            | NodeKind.Vector ->
                let op = t.Ops[arg0[i]]
                if not (adj.Untouched op.Out && adjT.Untouched op.Out) then op.VjpTangent(adj, tan, adjT)
            | _ -> ()
