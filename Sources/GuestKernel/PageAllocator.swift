import OvercommitSupport

/// The guest's page allocator: one buddy allocator per NUMA node of the guest, each one zone
/// (ZONE_NORMAL) with its own watermarks, and the zonelist walk between them (Linux
/// mm/page_alloc.c `get_page_from_freelist` over `ac->zonelist`).
///
/// A guest with one node (every VM that fits in a host node, and every guest on a one-node
/// host) has one buddy allocator and every call goes straight to it: no zonelist, no
/// per-node counters, nothing more per allocation than a branch. A guest whose VM spans host
/// nodes (ESXi's wide VM with virtual NUMA) has one node per virtual node, whose
/// guest-physical range is exactly that virtual node's range (`nodeStart`).
///
/// With several nodes an allocation prefers `preferred` (the allocating task's node: the
/// default memory policy is local allocation, mm/mempolicy.c) and walks the zonelist: the
/// preferred node, then the others in distance order. The first pass takes a node only while
/// it stays above its low watermark (`ALLOC_WMARK_LOW`; `zone_reclaim_mode` 0, so a node at
/// its low watermark is skipped rather than reclaimed locally); when every node failed it,
/// the kswapd of each node below its high watermark is woken (`wake_all_kswapds` ->
/// `wakeup_kswapd`, which leaves a balanced node alone) and a second pass takes a node above
/// its min watermark (`ALLOC_WMARK_MIN`). The watermark test is `__zone_watermark_ok`'s: the
/// node's free pages minus 2^order - 1 must stay above the mark.
///
/// Every allocation is counted as `/sys/devices/system/node/nodeN/numastat` counts it
/// (Documentation/admin-guide/numastat.rst; `zone_statistics`, in pages): `numa_hit` on the
/// node that served when it is the preferred one, otherwise `numa_miss` there and
/// `numa_foreign` on the preferred node; `local_node` or `other_node` on the node that served
/// as the allocating CPU's node (`localNode`) is that node or not.
public struct PageAllocator {
    /// One buddy allocator per node, in node order.
    public private(set) var nodes: [BuddyAllocator]
    /// The first frame of each node, and the end of the last: node `k` holds the
    /// guest-physical frames `nodeStart[k]..<nodeStart[k + 1]` (node 0 includes the kernel's
    /// reserved frames, which its allocator does not manage).
    public let nodeStart: [Int]
    /// Frames per node (all but the last, which may hold fewer): the node of a frame is one
    /// division away.
    let framesPerNode: Int
    /// More than one node.
    public let isNUMA: Bool
    /// Each node's watermarks (`GuestKernel.watermarks` is their sum).
    public internal(set) var marks: [Watermarks] = []
    /// The node the next allocations prefer (the current task's node; mempolicy local).
    public var preferred = 0
    /// The node of the CPU that allocates (local_node / other_node); the same as `preferred`
    /// under the default (local) memory policy.
    public var localNode = 0
    /// Per node: numa_hit, numa_miss, numa_foreign, local_node, other_node (pages).
    public private(set) var numaStat: [Int]
    /// Per node: the allocator woke its kswapd (cleared when kswapd runs).
    public internal(set) var kswapdWakeups: [Bool]

    /// One node: `range` managed (of which `online`, memory hotplug) by one buddy allocator.
    public init(frames: FrameTable, managed range: Range<Int>, online: Range<Int>? = nil) {
        nodes = [BuddyAllocator(frames: frames, managed: range, online: online)]
        nodeStart = [0, frames.count]
        framesPerNode = Int.max
        isNUMA = false
        numaStat = []
        kswapdWakeups = [false]
    }

    /// Nodes of `framesPerNode` frames each (the last holds the rest), the managed frames of
    /// each given to that node's allocator (`online` as in `BuddyAllocator.init`).
    public init(frames: FrameTable, managed range: Range<Int>, online: Range<Int>? = nil, framesPerNode: Int) {
        let n = max(1, min((frames.count + framesPerNode - 1) / framesPerNode, 64))
        var starts = (0..<n).map { $0 * framesPerNode }
        starts.append(frames.count)
        precondition(range.lowerBound < starts[1], "node 0 must hold managed memory")
        let online = online ?? range
        nodes = (0..<n).map { k in
            let lo = max(range.lowerBound, starts[k]), hi = min(range.upperBound, starts[k + 1])
            let on = max(lo, online.lowerBound)..<max(max(lo, online.lowerBound), min(hi, online.upperBound))
            return BuddyAllocator(frames: frames, managed: lo..<hi, online: on)
        }
        nodeStart = n > 1 ? starts : [0, frames.count]
        self.framesPerNode = n > 1 ? framesPerNode : Int.max
        isNUMA = n > 1
        numaStat = n > 1 ? Array(repeating: 0, count: 5 * n) : []
        kswapdWakeups = Array(repeating: false, count: n)
    }

    /// Number of nodes.
    @inline(__always) public var nodeCount: Int { nodes.count }

    /// The node frame `pfn` belongs to.
    @inline(__always)
    public func node(of pfn: Int) -> Int { isNUMA ? min(pfn / framesPerNode, nodes.count - 1) : 0 }

    /// The zonelist of `node`: itself, then the other nodes in distance order. The guest's
    /// virtual SLIT puts every other node at the same distance; among equals Linux's
    /// `find_next_best_node` prefers the nodes after the local one, then those before it.
    @inline(__always)
    public func zonelist(_ node: Int, _ i: Int) -> Int { (node + i) % nodes.count }

    // MARK: - Free memory

    /// Free frames of every node (`NR_FREE_PAGES`).
    public var freePages: Int {
        if !isNUMA { return nodes[0].freePages }
        var s = 0
        for n in nodes { s += n.freePages }
        return s
    }

    /// Frames managed by every node's allocator.
    public var managedPages: Int { nodes.reduce(0) { $0 + $1.managedPages } }

    /// `__zone_watermark_ok` for an allocation of 2^order frames against `mark` on `node`.
    @inline(__always)
    func watermarkOK(_ node: Int, order: Int, mark: Int) -> Bool {
        nodes[node].freePages - (1 << order) + 1 > mark
    }

    // MARK: - Allocation

    /// Allocates 2^order frames: with one node, from it; with several, along the zonelist of
    /// `preferred` as described above. Nil when no node can serve (callers check the total
    /// against the summed watermarks first, so with free memory above the summed min
    /// watermark some node is above its own).
    @inline(__always)
    public mutating func allocate(order: Int) -> PFN? {
        if !isNUMA { return nodes[0].allocate(order: order) }
        return allocateOnNodes(order: order)
    }

    @inline(never)
    mutating func allocateOnNodes(order: Int) -> PFN? {
        let n = nodes.count, pref = min(preferred, n - 1)
        precondition(marks.count == n, "per-node watermarks are not set")
        /// One pass along the zonelist, taking the first node that `admits` the allocation.
        func walk(_ admits: (Int) -> Bool) -> PFN? {
            for i in 0..<n {
                let k = zonelist(pref, i)
                if admits(k), let f = nodes[k].allocate(order: order) {
                    count(served: k, preferred: pref, pages: 1 << order)
                    return f
                }
            }
            return nil
        }
        // Fast path: ALLOC_WMARK_LOW along the zonelist.
        if let f = walk({ watermarkOK($0, order: order, mark: marks[$0].low) }) { return f }
        // Slow path: wake the kswapd of every node not balanced, then ALLOC_WMARK_MIN.
        for k in 0..<n where !watermarkOK(k, order: order, mark: marks[k].high) { kswapdWakeups[k] = true }
        if let f = walk({ watermarkOK($0, order: order, mark: marks[$0].min) }) { return f }
        // Below every min watermark: what is left (the callers decided the allocation may dip
        // into the reserves, as ALLOC_HARDER / ALLOC_OOM allocations do).
        return walk { _ in true }
    }

    /// Allocates 2^order frames from `node` alone (`__GFP_THISNODE`), without a watermark
    /// test; counted like any allocation preferring that node.
    public mutating func allocate(order: Int, onNode node: Int) -> PFN? {
        guard let f = nodes[node].allocate(order: order) else { return nil }
        if isNUMA { count(served: node, preferred: node, pages: 1 << order) }
        return f
    }

    /// numastat for one allocation.
    @inline(__always)
    mutating func count(served k: Int, preferred p: Int, pages: Int) {
        if k == p {
            numaStat[5 * k] += pages
        } else {
            numaStat[5 * k + 1] += pages
            numaStat[5 * p + 2] += pages
        }
        numaStat[5 * k + (k == localNode ? 3 : 4)] += pages
    }

    /// Frees 2^order frames to the node they belong to.
    @inline(__always)
    public mutating func free(_ pfn: PFN, order: Int) {
        if !isNUMA { nodes[0].free(pfn, order: order); return }
        nodes[node(of: Int(pfn))].free(pfn, order: order)
    }

    /// Onlines `range` (memory hotplug), each part on its node.
    public mutating func online(_ range: Range<Int>) {
        for k in 0..<nodes.count {
            let lo = max(range.lowerBound, nodes[k].managed.lowerBound), hi = min(range.upperBound, nodes[k].managed.upperBound)
            if lo < hi { nodes[k].online(lo..<hi) }
        }
    }

    /// Clears the kswapd wakeup of `node` (its kswapd ran).
    mutating func clearKswapdWakeup(_ node: Int) { kswapdWakeups[node] = false }

    // MARK: - Free page reporting (per zone in Linux: every node's allocator)

    /// The lowest order free page reporting reports, on every node.
    public var reportingOrder: Int {
        get { nodes[0].reportingOrder }
        set { for k in nodes.indices { nodes[k].reportingOrder = newValue } }
    }

    /// A block of the reporting order was freed on some node since the last pass began.
    public var reportingRequested: Bool {
        get { nodes.contains { $0.reportingRequested } }
        set { for k in nodes.indices { nodes[k].reportingRequested = newValue } }
    }

    /// Frames in free blocks marked reported, on every node.
    public var reportedPages: Int { nodes.reduce(0) { $0 + $1.reportedPages } }

    public func isReported(_ pfn: PFN) -> Bool { nodes[node(of: Int(pfn))].isReported(pfn) }

    /// The unreported free blocks of `order`, node by node (`page_reporting_process` walks
    /// every zone).
    public mutating func unreportedBlocks(order: Int) -> [PFN] {
        if !isNUMA { return nodes[0].unreportedBlocks(order: order) }
        var out: [PFN] = []
        for k in nodes.indices { out += nodes[k].unreportedBlocks(order: order) }
        return out
    }

    public mutating func markReported(_ pfn: PFN, order: Int) { nodes[node(of: Int(pfn))].markReported(pfn, order: order) }

    // MARK: - Statistics

    /// Free blocks of `order` on every node.
    public func freeBlocks(order: Int) -> Int { nodes.reduce(0) { $0 + $1.freeBlocks(order: order) } }

    /// Free blocks per order 0...10, summed over the nodes (each node's line of
    /// /proc/buddyinfo is `nodes[k].buddyinfo`).
    public var buddyinfo: [Int] { (0...BuddyAllocator.maxOrder).map(freeBlocks) }

    /// The free lists of a one-node guest (tests walk them).
    var freeLists: [FrameList] { nodes[0].freeLists }

    /// Problems of every node's allocator, and of the frames' split between them.
    public func checkInvariants() -> [String] {
        var problems: [String] = []
        for (k, n) in nodes.enumerated() {
            problems += n.checkInvariants().map { isNUMA ? "node \(k): \($0)" : $0 }
            if isNUMA && (n.managed.lowerBound < nodeStart[k] || n.managed.upperBound > nodeStart[k + 1]) {
                problems.append("node \(k): managed range \(n.managed) is outside the node's frames \(nodeStart[k])..<\(nodeStart[k + 1])")
            }
        }
        if isNUMA {
            for k in nodes.indices where numaStat[5 * k] + numaStat[5 * k + 1] != numaStat[5 * k + 3] + numaStat[5 * k + 4] {
                problems.append("node \(k): numa_hit + numa_miss != local_node + other_node")
            }
            let miss = (0..<nodes.count).reduce(0) { $0 + numaStat[5 * $1 + 1] }
            let foreign = (0..<nodes.count).reduce(0) { $0 + numaStat[5 * $1 + 2] }
            if miss != foreign { problems.append("numa_miss \(miss) != numa_foreign \(foreign) over the nodes") }
        }
        return problems
    }
}
