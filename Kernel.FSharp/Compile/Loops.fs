namespace Hybrid.Kernel

open System

/// A periodic run of a flat graph (or of its guards): a recorded loop, as an annotation on the
/// graph, which stays flat. For trip t in 0 .. Trips − 1 and body item j in 0 .. Period − 1, item
/// `First + t·Period + j` has the code and constants of item `First + j`, and its operand k is slot
/// `base + Stride_k[j]·t`, base being item `First + j`'s operand k. Stride 0: the same slot every
/// trip (a constant or a value computed before the loop); stride = Period: the corresponding node
/// of the previous trip (a carried accumulator) or of the same trip (an operand inside the body);
/// stride 1: x[i], x[i + 1], ….
type internal Loop =
    { First: int
      Period: int
      Trips: int
      /// Per body item, the stride of operand 0 (0 where the item has no operand 0).
      Stride0: int[]
      /// Per body item, the stride of operand 1.
      Stride1: int[]
      /// A data block: a run of constant nodes (Period 1) whose values differ trip to trip — a data
      /// vector of a loss, lifted by Lower — written by the forward pass from the graph's K0.
      Data: bool }

    /// Items the loop covers.
    member l.Length = l.Period * l.Trips
    /// One past its last item.
    member l.End = l.First + l.Period * l.Trips

/// Finds the loops of a graph: the maximal periodic runs of its nodes and of its guards.
module internal Loops =

    /// Fewest trips worth a loop, and fewest items it must cover (below them, straight-line code:
    /// a loop costs a call and its set-up, and its body's code is emitted once whatever the trips).
    let mutable MinTrips = 3
    let mutable MinItems = 24
    /// The longest body tried.
    let mutable MaxPeriod = 2048
    /// Candidate periods tried at each position (the distances to the next occurrences of its code).
    let Candidates = 24

    let inline private bits (x: float) = BitConverter.DoubleToInt64Bits x

    /// Nodes i and j apply the same rule to the same constants, with operands present alike.
    let inline sameNode (g: Graph) (i: int) (j: int) =
        let c = g.Code[i]
        c = g.Code[j]
        && (g.A0[i] >= 0) = (g.A0[j] >= 0)
        && (g.A1[i] >= 0) = (g.A1[j] >= 0)
        && (if c >= IrLog.Binary then
                (g.A0[i] >= 0 || bits g.K0[i] = bits g.K0[j]) && (g.A1[i] >= 0 || bits g.K1[i] = bits g.K1[j])
            elif c >= IrLog.Unary || c = IrLog.ConstantCode then bits g.K0[i] = bits g.K0[j]
            else true)

    /// A hash of what `sameNode` compares: equal for nodes alike.
    let inline nodeKey (g: Graph) (i: int) =
        let c = g.Code[i]
        let k (x: float) = let b = bits x in int b ^^^ int (b >>> 32)
        let konst =
            if c >= IrLog.Binary then (if g.A0[i] >= 0 then 1 else k g.K0[i]) * 7 + (if g.A1[i] >= 0 then 3 else k g.K1[i])
            elif c >= IrLog.Unary || c = IrLog.ConstantCode then k g.K0[i]
            else 0
        ((int c * 4 + (if g.A0[i] >= 0 then 2 else 0) + (if g.A1[i] >= 0 then 1 else 0)) * 1_000_003 + konst) &&& Int32.MaxValue

    /// Guards i and j take the same decision with the same outcome, on the same constants.
    let inline sameGuard (q: IrGuard[]) (i: int) (j: int) =
        let a = q[i]
        let b = q[j]
        a.Decision = b.Decision && a.Outcome = b.Outcome
        && (a.SlotA >= 0) = (b.SlotA >= 0) && (a.SlotB >= 0) = (b.SlotB >= 0)
        && (a.SlotA >= 0 || bits a.ConstA = bits b.ConstA)
        && (a.SlotB >= 0 || bits a.ConstB = bits b.ConstB)

    /// Items a key window covers (`runs`): every loop worth taking — t ≥ MinTrips trips of period p
    /// with t·p ≥ MinItems — has items s + j alike s + p + j for j < (t − 1)·p, so two positions p
    /// apart are both in such a loop only if the windows of this many items from them are alike
    /// (at most 16; 1 where a loop of one trip is allowed).
    let windowItems (minTrips: int) =
        let mutable w = Int32.MaxValue
        for p in 1 .. max 1 MinItems do
            let t = max minTrips ((MinItems + p - 1) / p)
            w <- min w ((t - 1) * p)
        max 1 (min 16 w)

    /// The maximal periodic runs of items [first, count): `key` a small hash of an item's code,
    /// `same` the comparison of codes and constants, `op0`/`op1` the operand slots (−1: none).
    /// Greedy from the left: at each position the candidate periods are the distances to the next
    /// items whose window of `windowItems` keys is the same; the one covering most items is taken
    /// (ties: the shortest period) if it is worth a loop, and the scan goes on after it. Linear in
    /// practice: a failing candidate fails at its first differing item, an accepted loop is passed
    /// over, and a graph with nothing to roll (nodes differing in their constants within every
    /// window) has almost no candidates at all.
    let inline runs (first: int) (count: int) ([<InlineIfLambda>] key: int -> int) ([<InlineIfLambda>] same: int -> int -> bool) (op0: int[]) (op1: int[]) : Loop[] =
        let found = ResizeArray<Loop>()
        let minTrips = min (max 1 MinTrips) (count + 1) // (no overflow below)
        if count - first >= 2 * minTrips then
            // next[i]: the next item after i whose window key is i's (−1: none). The window of w
            // items is a rolling hash of their keys; a candidate failing within a trip's first w
            // items is never tried (a graph with no loop, whose nodes differ in their constants, was
            // 24 failing candidates per node with windows of two items, 2 · 10⁻⁷ s per node)
            let items = count - first
            let w = windowItems minTrips
            // each key scrambled first (murmur3's finaliser): keys that differ only in high bits — the
            // constants 0.0 and 1.0 of a 0/1 data vector, 0 and 0x3FF00000 — left the windows' rolling
            // hash 2¹¹ values and every bucket index the same, a walk of MaxPeriod items per position
            // (0.3–0.8 s over the logistic loss's 20 000 labels)
            let nk = Array.zeroCreate<int> items
            for i in 0 .. items - 1 do
                let mutable h = uint32 (key (first + i))
                h <- (h ^^^ (h >>> 16)) * 0x85EBCA6Bu
                h <- (h ^^^ (h >>> 13)) * 0xC2B2AE35u
                nk[i] <- int (h ^^^ (h >>> 16))
            let B = 1_000_003
            let mutable bw = 1 // B^(w − 1)
            for _ in 2 .. w do bw <- bw * B
            let wk = Array.zeroCreate<int> items
            let mutable h = 0
            for i in 0 .. min w items - 1 do h <- h * B + nk[i]
            for i in 0 .. items - w do
                wk[i] <- h &&& Int32.MaxValue
                if i + w < items then h <- (h - nk[i] * bw) * B + nk[i + w]
            let size = let mutable z = 4096 in (while z < items && z < (1 <<< 18) do z <- z * 2); z
            let next = Array.create items -1
            let last = Array.create size -1
            let bucketShift = 32 - Numerics.BitOperations.Log2(uint32 size)
            for i = items - w downto 0 do
                // (the high bits of a multiplicative hash: the low bits of wk alone may all agree)
                let k = int ((uint32 wk[i] * 0x9E3779B1u) >>> bucketShift)
                next[i] <- last[k]
                last[k] <- i
            let s0 = Array.zeroCreate<int> (MaxPeriod + 1)
            let s1 = Array.zeroCreate<int> (MaxPeriod + 1)
            /// Trips of period p from s (at least 1).
            let trips (s: int) (p: int) =
                let mutable ok = s + 2 * p <= count
                let mutable j = 0
                while ok && j < p do
                    let a = s + j
                    let b = a + p
                    if same a b then
                        s0[j] <- (if op0[a] >= 0 then op0[b] - op0[a] else 0)
                        s1[j] <- (if op1[a] >= 0 then op1[b] - op1[a] else 0)
                    else ok <- false
                    j <- j + 1
                if not ok then 1
                else
                    let mutable t = 2
                    let mutable go = true
                    while go && s + (t + 1) * p <= count do
                        let o = s + t * p
                        let mutable j = 0
                        while go && j < p do
                            let a = s + j
                            let b = o + j
                            go <- same a b
                                  && (op0[a] < 0 || op0[b] - op0[b - p] = s0[j])
                                  && (op1[a] < 0 || op1[b] - op1[b - p] = s1[j])
                            j <- j + 1
                        if go then t <- t + 1
                    t
            let mutable s = first
            while s + 2 * minTrips <= count do
                let mutable bestP = 0
                let mutable bestT = 1
                let mutable okP = 0
                let r = s - first
                let key = if r <= items - w then wk[r] else -1
                let mutable nx = if key >= 0 then next[r] else -1
                let mutable c = 0
                while nx >= 0 && c < Candidates && nx - r <= MaxPeriod && s + 2 * (nx - r) <= count do
                    let p = nx - r
                    // (a bucket's other keys are no candidates)
                    if wk[nx] = key && (okP = 0 || p % okP <> 0) then
                        c <- c + 1
                        let t = trips s p
                        // only periods worth a loop compete: a long period repeated twice covers more
                        // items than a short one repeated often, but is no loop
                        if t >= minTrips && t * p >= MinItems then
                            // its multiples cover no more (their trips are its trips, grouped)
                            if okP = 0 then okP <- p
                            if t * p > bestT * bestP then
                                bestP <- p
                                bestT <- t
                    elif wk[nx] = key then c <- c + 1
                    nx <- next[nx]
                if bestP > 0 && bestT >= minTrips && bestT * bestP >= MinItems then
                    for j in 0 .. bestP - 1 do // the strides of the chosen period, from its second trip
                        let a = s + j
                        s0[j] <- (if op0[a] >= 0 then op0[a + bestP] - op0[a] else 0)
                        s1[j] <- (if op1[a] >= 0 then op1[a + bestP] - op1[a] else 0)
                    found.Add
                        { First = s; Period = bestP; Trips = bestT
                          Stride0 = Array.sub s0 0 bestP; Stride1 = Array.sub s1 0 bestP; Data = false }
                    s <- s + bestT * bestP
                else s <- s + 1
        found.ToArray()

    /// `runs` over closures (for tests: `runs` is inline).
    let runsOf (first: int) (count: int) (key: int -> int) (same: int -> int -> bool) (op0: int[]) (op1: int[]) =
        runs first count (fun i -> key i) (fun i j -> same i j) op0 op1

    /// The trips t at which an operand of a trip is one of the same trip's own nodes through a
    /// stride other than Period (slot base + s·t = First + t·Period + k): the emitter keeps a trip's
    /// own nodes in locals and reaches them at stride Period only.
    let private selfTrips (g: Graph) (l: Loop) =
        let p = l.Period
        [ for j in 0 .. p - 1 do
            for struct (b, st) in [ struct (g.A0[l.First + j], l.Stride0[j]); struct (g.A1[l.First + j], l.Stride1[j]) ] do
                if b >= 0 && st <> p then
                    for k in 0 .. p - 1 do
                        let d = b - (l.First + k)
                        if d % (p - st) = 0 then
                            let t = d / (p - st)
                            if t >= 0 && t < l.Trips then yield t ]

    /// Trip t of l matches its first trip (codes, constants, operand strides), within the graph.
    let private continues (g: Graph) (l: Loop) (t: int) =
        let p = l.Period
        let mutable ok = l.First + (t + 1) * p <= g.Count
        let mutable q = 0
        while ok && q < p do
            let a = l.First + q
            let b = a + t * p
            ok <- sameNode g a b
                  && (g.A0[a] < 0 || g.A0[b] - g.A0[b - p] = l.Stride0[q])
                  && (g.A1[a] < 0 || g.A1[b] - g.A1[b - p] = l.Stride1[q])
            q <- q + 1
        ok

    /// l rotated to the phase where the fewest body nodes are read by the next trip — a trip as the
    /// user's loop has it, whose carried values are its running sums (a run found from the left may
    /// start in the middle of a trip, where values of the trip's first half are carried into the
    /// second: then no node can run in SIMD lanes). The nodes before the new start stay straight-line;
    /// the loop takes the nodes after its end when they continue it. Bodies longer than 256 stay.
    let private rotate (g: Graph) (l: Loop) : Loop =
        let p = l.Period
        if p > 256 || l.Trips < 3 then l
        else
            let carriedAt (r: int) =
                let first = l.First + r
                let prev = Collections.Generic.HashSet<int>()
                for q in 0 .. p - 1 do
                    let i = first + q
                    let j = (r + q) % p
                    for struct (b, st) in [ struct (g.A0[i], l.Stride0[j]); struct (g.A1[i], l.Stride1[j]) ] do
                        if b >= 0 && st = p && b >= first - p && b < first then prev.Add b |> ignore
                prev.Count
            let mutable best = 0
            let mutable fewest = carriedAt 0
            for r in 1 .. p - 1 do
                let k = carriedAt r
                if k < fewest then
                    best <- r
                    fewest <- k
            if best = 0 then l
            else
                let r0 =
                    { First = l.First + best; Period = p; Trips = l.Trips - 1
                      Stride0 = Array.init p (fun q -> l.Stride0[(best + q) % p])
                      Stride1 = Array.init p (fun q -> l.Stride1[(best + q) % p]); Data = false }
                let mutable t = r0.Trips
                while continues g r0 t do t <- t + 1
                let r1 = { r0 with Trips = t }
                if r1.Trips >= max 2 MinTrips && List.isEmpty (selfTrips g r1) then r1 else l

    /// The loops among g's nodes (in order, disjoint). In each, a trip reaches its own nodes at
    /// stride Period only: a loop where some trip's operand is one of that trip's own nodes by
    /// another stride (a slot fixed in an early trip, read by every later trip: stride 0) starts
    /// after the last such trip (the trips before it stay straight-line), if two trips are left.
    /// Each is rotated to a trip's natural phase (`rotate`).
    let find (g: Graph) : Loop[] =
        let loops =
            runs g.N g.Count (nodeKey g) (fun i j -> sameNode g i j) g.A0 g.A1
            |> Array.choose (fun l ->
                match selfTrips g l with
                | [] -> Some l
                | ts ->
                    // a later trip reaches the same absolute slots, so no trip after these is self-reaching
                    let skip = List.max ts + 1
                    if l.Trips - skip >= 2 then Some { l with First = l.First + skip * l.Period; Trips = l.Trips - skip }
                    else None)
        // a rotated loop may take nodes up to the next loop's start, never past it
        let loops =
            loops |> Array.mapi (fun k l ->
                let r = rotate g l
                if k + 1 < loops.Length && r.End > loops[k + 1].First then l else r)
        // data blocks: runs of constant nodes outside the loops, at least MinItems long
        let all = ResizeArray<Loop>()
        let block (first: int) (last: int) =
            let mutable i = first
            while i <= last do
                if g.Code[i] = IrLog.ConstantCode then
                    let mutable j = i
                    while j + 1 <= last && g.Code[j + 1] = IrLog.ConstantCode do j <- j + 1
                    if j - i + 1 >= max MinItems 2 then
                        all.Add { First = i; Period = 1; Trips = j - i + 1; Stride0 = [| 0 |]; Stride1 = [| 0 |]; Data = true }
                    i <- j + 1
                else i <- i + 1
        let mutable s = g.N
        for l in loops do
            block s (l.First - 1)
            all.Add l
            s <- l.End
        block s (g.Count - 1)
        all.ToArray()

    /// The loops among g's guards (items are guard indices).
    let findGuards (g: Graph) : Loop[] =
        let q = g.Guards
        runs 0 q.Length (fun i -> int q[i].Decision * 7 + q[i].Outcome) (fun i j -> sameGuard q i j)
            (q |> Array.map (fun x -> x.SlotA)) (q |> Array.map (fun x -> x.SlotB))

    let private describesItems (count: int) (same: int -> int -> bool) (op0: int[]) (op1: int[]) (l: Loop) =
        l.First >= 0 && l.Period >= 1 && l.Trips >= 1 && l.End <= count
        && l.Stride0.Length = l.Period && l.Stride1.Length = l.Period
        && Seq.forall (fun t ->
            Seq.forall (fun j ->
                let a = l.First + j
                let b = a + t * l.Period
                same a b
                && (op0[a] < 0 || op0[b] = op0[a] + l.Stride0[j] * t)
                && (op1[a] < 0 || op1[b] = op1[a] + l.Stride1[j] * t)) (seq { 0 .. l.Period - 1 })) (seq { 0 .. l.Trips - 1 })

    /// Every trip of the node loop l matches g's flat arrays (for tests); a data block is constant nodes.
    let describes (g: Graph) (l: Loop) =
        if l.Data then
            l.First >= g.N && l.Period = 1 && l.End <= g.Count
            && Seq.forall (fun i -> g.Code[i] = IrLog.ConstantCode) (seq { l.First .. l.End - 1 })
        else l.First >= g.N && describesItems g.Count (sameNode g) g.A0 g.A1 l

    /// Every trip of the guard loop l matches g's guards (for tests).
    let describesGuards (g: Graph) (l: Loop) =
        let q = g.Guards
        describesItems q.Length (sameGuard q) (q |> Array.map (fun x -> x.SlotA)) (q |> Array.map (fun x -> x.SlotB)) l

    /// Nodes emitted as code: the nodes outside loops plus one body per loop.
    let straightNodes (g: Graph) (loops: Loop[]) =
        let mutable m = g.Count - g.N
        for l in loops do m <- m - (l.Trips - 1) * l.Period
        m

    /// [first, last] ranges and loops in order over [from, count): the pieces a pass runs.
    let pieces (from: int) (count: int) (loops: Loop[]) : Choice<struct (int * int), Loop>[] =
        let r = ResizeArray()
        let mutable s = from
        for l in loops do
            if l.First > s then r.Add(Choice1Of2(struct (s, l.First - 1)))
            r.Add(Choice2Of2 l)
            s <- l.End
        if s < count then r.Add(Choice1Of2(struct (s, count - 1)))
        r.ToArray()
