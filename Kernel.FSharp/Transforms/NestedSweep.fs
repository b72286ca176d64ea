namespace Hybrid.Kernel

open System

/// The reverse sweep of a nested trace, in the arithmetic of the level below, so every adjoint is
/// itself differentiable there. Scalar nodes push `Real` adjoints through their lower-level
/// partials; a primitive's node runs its vjp rule once on lower-level vectors (BLAS-speed work
/// there, one node per primitive), instead of element by element.
module internal NestedSweep =

    /// `adj` and `touched` are seeded by the caller (e.g. 1 at the output's slot); afterwards
    /// adj[i] holds ∂output/∂slot i wherever touched[i], and the result the adjoint of each op's
    /// output (null where none reached it) — read them with `adjointOf`.
    let reverse (t: Trace) (adj: Real[]) (touched: bool[]) : Vec[] =
        let ops = t.Ops.Count
        // per op: the adjoint of its whole output (a vector below), and of single elements read
        let opAdj: Vec[] = Array.zeroCreate ops
        let elemAdj: Real[][] = Array.zeroCreate ops
        let elemSet: bool[][] = Array.zeroCreate ops
        let acc (j: int) (v: Real) =
            if touched[j] then adj[j] <- adj[j] + v
            else
                adj[j] <- v
                touched[j] <- true
        let accRef (r: VecRef) (v: Vec) =
            if r.Slot >= 0 then for e in 0 .. r.Length - 1 do acc (r.Slot + e) v[e]
            elif r.Op >= 0 then
                let full = t.OpLengths[r.Op]
                // a slice's adjoint is embedded in zeros (a linear gather: one node below)
                let v = if r.Offset = 0 && r.Length = full then v else GatherSumOp.Record(v, full, r.Length, (fun p -> r.Offset + p), id)
                opAdj[r.Op] <- if isNull opAdj[r.Op] then v else opAdj[r.Op] + v
        for i = t.Count - 1 downto 0 do
            match t.Kinds[i] with
            | NodeKind.Scalar ->
                if touched[i] then
                    let g = adj[i]
                    let j = t.Arg0[i]
                    if j >= 0 then acc j (Real.Partial0(t, i) * g)
                    let k = t.Arg1[i]
                    if k >= 0 then acc k (Real.Partial1(t, i) * g)
            | NodeKind.Element ->
                if touched[i] then
                    let k = t.Arg0[i]
                    let e = t.Arg1[i]
                    if isNull elemAdj[k] then
                        elemAdj[k] <- Array.create t.OpLengths[k] (Real 0.0)
                        elemSet[k] <- Array.zeroCreate t.OpLengths[k]
                    elemAdj[k][e] <- (if elemSet[k][e] then elemAdj[k][e] + adj[i] else adj[i])
                    elemSet[k][e] <- true
            | NodeKind.Vector ->
                let k = t.Arg0[i]
                let node = t.Ops[k] :?> PrimNode
                let ybar =
                    if node.Prim.Scalar then (if touched[i] then Vec.OfReals [| adj[i] |] else null)
                    else
                        let e = if isNull elemAdj[k] then null else Vec.OfReals elemAdj[k]
                        let w = opAdj[k]
                        if isNull w then e elif isNull e then w else w + e
                if not node.Prim.Scalar then opAdj[k] <- ybar
                if not (isNull ybar) then
                    let xbar = node.Prim.Vjp(node.Inputs, node.Lower, null, ybar, node.Need)
                    for q in 0 .. node.Refs.Length - 1 do
                        if node.Need[q] && not (isNull xbar[q]) then accRef node.Refs[q] xbar[q]
            | _ -> ()
        opAdj

    /// The adjoint of x (a vector recorded on the trace with id `tid`, e.g. its input) after
    /// `reverse`, as a vector of the level below. (A kept recording's trace has closed, so the id
    /// is the one it had while recording.)
    let adjointOf (tid: int) (x: Vec) (adj: Real[]) (touched: bool[]) (opAdj: Vec[]) : Vec =
        let r = x.Ref
        if x.Tid <> tid then Vec(Array.zeroCreate x.Length)
        elif r.Slot >= 0 then Vec.OfReals(Array.init x.Length (fun i -> if touched[r.Slot + i] then adj[r.Slot + i] else Real 0.0))
        else
            let a = opAdj[r.Op]
            if isNull a then Vec(Array.zeroCreate x.Length) else a.Slice(r.Offset, r.Length)
