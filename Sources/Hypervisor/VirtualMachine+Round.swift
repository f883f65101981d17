import GuestKernel

/// What a VM asks of its host at a round's synchronisation point.
enum RoundRequest {
    /// Machine frames: its grant ran out, or the host blocks allocations (every allocation
    /// then waits for the host's reclaim, as ESXi's low state makes VMs wait).
    case frames(pfn: Int)
    /// 2 MiB large pages for first touches while the host allows them, for page `pfn`.
    case largePages(pfn: Int)
}

/// A VM's view of the host while guests run in parallel between two synchronisation points.
///
/// Real hypervisors run each VM on its own physical CPUs; the VMs meet the host's memory
/// scheduler only when a VM needs more memory than it holds or at the scheduler's own
/// intervals (ESXi's per-VM allocation targets, KVM's page faults into a shared host
/// allocator under its locks). Here the engine's parallel round gives each VM a grant of free
/// machine frames at the round's start. The VM allocates from its grant, keeps the frames it
/// frees for reuse, and defers the changes to host-wide state (dropped shared-frame mappings)
/// to the round's end. A VM whose grant runs out, or that needs a frame while the host blocks
/// allocations, waits (`park`) until every VM of the round has finished or waits too; the host
/// then serves the waiting VMs in VM order. What each VM sees therefore depends only on the
/// round's start and its own work, never on the number of threads or their timing.
///
/// On a NUMA host the grant is kept per node: the VM asks for frames of each node its pages
/// prefer (its home node, or each virtual node's), and a page takes a frame of its own node.
/// When that node's frames run out the VM asks the host at the synchronisation point, which
/// serves from that node first and falls back to the others in node order, as the host's
/// allocator does outside rounds; once the host had none of a node left, the VM's pages of that
/// node take the VM's frames of the other nodes (a remote allocation) without asking again.
struct VMRound {
    /// Free machine frames the VM holds for the round, per host node: its grant and the frames
    /// it freed, taken last-in first-out.
    var frames: [[UInt32]]
    /// Frames of whole 2 MiB large pages granted, per host node (multiples of 512).
    var largeFrames: [[UInt32]]
    /// Per node: the host had no free frame of it when it last granted (fall back at once).
    var exhausted: [Bool]
    /// Shared frames this VM stopped mapping, applied to the host's tables at the round's end.
    var droppedNodes: [UInt32] = []
    /// The host blocked allocations when the round began (ESXi's low state).
    let allocationsBlock: Bool
    /// The host allowed large pages when the round began (ESXi's high state).
    var largePagesAllowed: Bool
    /// Frames and large pages taken this round (the next grant follows the use).
    var framesTaken = 0
    var largePagesTaken = 0
    /// The request the VM waits on, and the host's answer: how long the VM waited for reclaim.
    var request: RoundRequest?
    var waitNs: Int64 = 0
    /// Waits until the host has served `request` (installed by the engine).
    let park: () -> Void

    /// A round for a host of `nodes` nodes.
    init(nodes: Int, allocationsBlock: Bool, largePagesAllowed: Bool, park: @escaping () -> Void) {
        frames = Array(repeating: [], count: nodes)
        largeFrames = Array(repeating: [], count: nodes)
        exhausted = Array(repeating: false, count: nodes)
        self.allocationsBlock = allocationsBlock
        self.largePagesAllowed = largePagesAllowed
        self.park = park
    }

    /// A frame of node `k`, or with `fallback` of the next node in order that has one.
    @inline(__always)
    mutating func popFrame(preferring k: Int, fallback: Bool) -> UInt32? {
        if let m = frames[k].popLast() { return m }
        guard fallback else { return nil }
        var j = k
        for _ in 1..<frames.count {
            j = j + 1 == frames.count ? 0 : j + 1
            if let m = frames[j].popLast() { return m }
        }
        return nil
    }

    /// The 512 frames of a granted large page of node `k`, else of the next node that has one.
    mutating func popLargePage(preferring k: Int) -> [UInt32]? {
        var j = k
        for _ in 0..<largeFrames.count {
            if !largeFrames[j].isEmpty {
                let f = Array(largeFrames[j].suffix(512))
                largeFrames[j].removeLast(512)
                return f
            }
            j = j + 1 == largeFrames.count ? 0 : j + 1
        }
        return nil
    }

    /// Whether the VM holds no free frame at all.
    var holdsNoFrame: Bool { frames.allSatisfy(\.isEmpty) }
    /// Whether the VM holds no large page at all.
    var holdsNoLargePage: Bool { largeFrames.allSatisfy(\.isEmpty) }
}

extension VirtualMachine {
    /// Starts a parallel round: the VM takes up to `grant` frames (and `largePages` large
    /// pages) from the host's free frames and works from them until `endRound`; on a NUMA host
    /// the grant is split between the nodes of its virtual nodes, each at most `nodeShare` of
    /// that node. Called by the host.
    func beginRound(grant: Int, nodeShare: [Int], largePages: Int, park: @escaping () -> Void) {
        let nodes = host.frames.nodeCount
        var r = VMRound(nodes: nodes, allocationsBlock: host.frames.allocationsBlock, largePagesAllowed: host.frames.largePagesAllowed, park: park)
        let vnodes = numa.virtualNodes
        if !r.allocationsBlock {
            for (v, k) in vnodes.enumerated() {
                let part = grant / vnodes.count + (v == 0 ? grant % vnodes.count : 0)
                take(frames: min(part, nodeShare[k]), preferring: k, into: &r)
            }
        }
        if r.largePagesAllowed { take(largePages: largePages, preferring: numa.homeNode, into: &r) }
        if nodes > 1 { for k in 0..<nodes { r.exhausted[k] = host.frames.nodeFree[k] == 0 } }
        round = r
    }

    /// Ends the round: unused and freed frames go back to the host, deferred shared-frame
    /// drops are applied, and the next round's grant follows this round's use.
    func endRound() {
        guard let r = round else { return }
        round = nil
        for stack in r.frames { for m in stack { host.frames.release(m) } }
        for stack in r.largeFrames { for m in stack { host.frames.release(m) } }
        for node in r.droppedNodes { host.sharedFrames.dropMapping(node) }
        nextGrant = min(VirtualMachine.maximumGrant, max(VirtualMachine.minimumGrant, 2 * r.framesTaken))
        nextLargeGrant = min(VirtualMachine.maximumLargeGrant, 2 * r.largePagesTaken)
    }

    /// Serves the request the VM waits on (the host, at a synchronisation point): a VM that
    /// needs a frame while the host has none free or blocks allocations waits while the host
    /// reclaims, as a sequential allocation stall does; then it gets a new grant (one frame
    /// while allocations block, so each allocation waits as in ESXi's low state). A request
    /// nothing can satisfy is the host's out-of-memory event.
    func serveRoundRequest() {
        guard var r = round, let request = r.request else { return }
        r.request = nil
        r.waitNs = 0
        switch request {
        case .frames(let pfn):
            if host.frames.freeFrames == 0 || host.frames.allocationsBlock {
                // While the host serves, every VM's frees go to the host (`inRound` is false).
                host.serving = true
                r.waitNs = host.stallForReclaim(self)
                host.serving = false
            }
            let grant = min(VirtualMachine.maximumGrant, max(nextGrant, r.framesTaken))
            let k = preferredNode(pfn)
            take(frames: r.allocationsBlock ? 1 : grant, preferring: k, into: &r)
            r.exhausted[k] = host.frames.nodeFree[k] == 0
            if r.holdsNoFrame { host.recordOutOfMemory(self, pfn: PFN(pfn)) }
        case .largePages(let pfn):
            take(largePages: min(VirtualMachine.maximumLargeGrant, max(1, nextLargeGrant, r.largePagesTaken)), preferring: preferredNode(pfn), into: &r)
            if r.holdsNoLargePage { r.largePagesAllowed = false }
        }
        round = r
    }

    private func take(frames n: Int, preferring node: Int, into r: inout VMRound) {
        let topology = host.frames.topology
        var k = 0
        while k < n, let m = host.frames.allocate(preferring: node) {
            r.frames[topology.node(of: m)].append(m)
            k += 1
        }
    }

    private func take(largePages n: Int, preferring node: Int, into r: inout VMRound) {
        let topology = host.frames.topology
        var k = 0
        while k < n, let f = host.frames.allocateLargePage(preferring: node) {
            r.largeFrames[topology.node(of: f[0])].append(contentsOf: f.reversed())
            k += 1
        }
    }

    /// Whether the VM runs in a parallel round now (and not inside the host's service at a
    /// synchronisation point, where its frees go to the host).
    @inline(__always) var inRound: Bool { round != nil && !host.serving }

    /// A free machine frame for the VM's own use (its compression cache), of its home node
    /// first: from the round's grant, else from the host.
    @inline(__always) func takeFreeFrame() -> UInt32? {
        if inRound { return round!.popFrame(preferring: numa.homeNode, fallback: true) }
        return host.frames.allocate(preferring: numa.homeNode)
    }

    /// Gives a machine frame back: kept for the round (with its node's frames), else to the host.
    @inline(__always) func releaseFrame(_ m: UInt32) {
        if inRound { round!.frames[host.frames.topology.node(of: m)].append(m) } else { host.frames.release(m) }
    }

    /// A machine frame during a round; waits at the round's synchronisation point when the
    /// grant is spent or the host blocks allocations. nil when nothing could be found (the
    /// host recorded its out-of-memory event).
    func obtainFrameInRound(pfn: Int) -> (frame: UInt32, waitNs: Int64)? {
        let k = preferredNode(pfn)
        if !round!.allocationsBlock, let m = round!.popFrame(preferring: k, fallback: round!.exhausted[k]) {
            round!.framesTaken += 1
            return (m, 0)
        }
        round!.request = .frames(pfn: pfn)
        round!.park()
        let wait = round!.waitNs
        stats.blockedNs += wait
        guard let m = round!.popFrame(preferring: k, fallback: true) else { return nil }
        round!.framesTaken += 1
        return (m, wait)
    }

    /// The 512 frames of a large page during a round, if the host allowed large pages when the
    /// round began and still has one to grant.
    func largePageInRound(pfn: Int) -> [UInt32]? {
        guard round!.largePagesAllowed else { return nil }
        if round!.largeFrames[preferredNode(pfn)].isEmpty {
            round!.request = .largePages(pfn: pfn)
            round!.park()
            guard !round!.holdsNoLargePage else { return nil }
        }
        guard let f = round!.popLargePage(preferring: preferredNode(pfn)) else { return nil }
        round!.largePagesTaken += 1
        return f
    }
}
