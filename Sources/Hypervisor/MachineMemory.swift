/// The host's machine frames: the allocator every VM takes frames from, and the pressure
/// flags the reclaim scheduler publishes when the free-memory state changes.
///
/// Frames belong to NUMA nodes in contiguous ranges (`NUMATopology`); each node keeps its own
/// free frames, as Linux keeps a free area per node (`pglist_data`). An allocation names the
/// node it prefers and falls back to the other nodes in order when that one has none free (the
/// zonelist fallback of `__alloc_pages`). Frames `0..<hypervisorFrames` are the hypervisor's
/// own (the host zero frame is one of them), taken from the lowest nodes. In each node, frames
/// never handed out yet are `nextFresh[k]..<end of node k`; returned frames are kept in a
/// bitmap per node (`FreeFrameSet`) and reused lowest first, before fresh ones, so the
/// allocation order is deterministic. It holds no VM: VMs, the sharing tables and the
/// scheduler all call it.
final class MachineMemory {
    let totalFrames: Int
    let hypervisorFrames: Int
    /// Free machine memory in ESX's sliding scale (`MinFree`), pages.
    let minFreePages: Int
    /// The nodes' frame ranges.
    let topology: NUMATopology
    /// Frames not backing anything, all nodes together.
    private(set) var freeFrames: Int
    /// Frames not backing anything, per node.
    private(set) var nodeFree: [Int]
    private var nextFresh: [UInt32]
    private var returned: [FreeFrameSet]
    /// The state enables `block`: a VM that needs a new frame waits while the host reclaims
    /// (ESXi's low state). Set by the reclaim scheduler.
    var allocationsBlock = false
    /// First touches get 2 MiB pages: large pages configured and the host in the high state.
    /// Set by the reclaim scheduler.
    var largePagesAllowed = false

    init(totalFrames: Int, hypervisorFrames: Int, minFreePages: Int, topology: NUMATopology? = nil) {
        self.totalFrames = totalFrames
        let hyp = min(hypervisorFrames, totalFrames)
        self.hypervisorFrames = hyp
        self.minFreePages = minFreePages
        let t = topology ?? NUMATopology(totalFrames: totalFrames)
        self.topology = t
        freeFrames = totalFrames - hyp
        // The hypervisor's frames come first, from node 0 up.
        let firstFree = (0..<t.count).map { min(t.start[$0 + 1], max(t.start[$0], hyp)) }
        nextFresh = firstFree.map { UInt32($0) }
        nodeFree = (0..<t.count).map { t.start[$0 + 1] - firstFree[$0] }
        returned = (0..<t.count).map { FreeFrameSet(first: t.start[$0], frameCount: t.start[$0 + 1] - t.start[$0]) }
    }

    /// Number of NUMA nodes.
    var nodeCount: Int { nodeFree.count }

    /// One free frame, from node 0 first.
    func allocate() -> UInt32? { allocate(preferring: 0) }

    /// One free frame from `node`, or from the next node in order with one free; nil when
    /// none is left anywhere.
    @inline(__always)
    func allocate(preferring node: Int) -> UInt32? {
        guard freeFrames > 0 else { return nil }
        var k = node
        while nodeFree[k] == 0 { k = k + 1 == nodeFree.count ? 0 : k + 1 }
        return take(from: k)
    }

    /// One free frame of node `k` only, nil when it has none.
    func allocate(onNode k: Int) -> UInt32? { nodeFree[k] > 0 ? take(from: k) : nil }

    @inline(__always)
    private func take(from k: Int) -> UInt32 {
        freeFrames -= 1
        nodeFree[k] -= 1
        if let f = returned[k].popLowest() { return f }
        let f = nextFresh[k]
        nextFresh[k] += 1
        return f
    }

    /// Gives a frame back to its node.
    func release(_ m: UInt32) {
        let k = topology.node(of: m)
        returned[k].insert(m)
        nodeFree[k] += 1
        freeFrames += 1
    }

    /// 512 frames of one node for a large page, if more than that plus minFree are free on the
    /// host: from `node` if it has 512 free, else from the next node in order that has.
    func allocateLargePage(preferring node: Int = 0) -> [UInt32]? {
        guard freeFrames >= 512 + minFreePages else { return nil }
        var k = node
        var tried = 0
        while nodeFree[k] < 512 {
            tried += 1
            if tried == nodeFree.count { return nil }
            k = k + 1 == nodeFree.count ? 0 : k + 1
        }
        var out: [UInt32] = []
        out.reserveCapacity(512)
        for _ in 0..<512 { out.append(take(from: k)) }
        return out
    }

    /// Problems with the free counts against the free frames, per node.
    func checkInvariants() -> [String] {
        var p: [String] = []
        var total = 0
        for k in 0..<nodeFree.count {
            let free = returned[k].count + (topology.start[k + 1] - Int(nextFresh[k]))
            total += free
            if free != nodeFree[k] { p.append("host: node \(k) free count \(nodeFree[k]) != free frames \(free)") }
        }
        if freeFrames != total { p.append("host: free count \(freeFrames) != free frames \(total)") }
        return p
    }

    /// Bytes of simulator memory the free-frame bitmaps hold.
    var footprintBytes: Int { returned.reduce(0) { $0 + $1.bytes } }
}
