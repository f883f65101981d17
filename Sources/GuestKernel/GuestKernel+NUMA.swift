import OvercommitSupport
import PageContents

/// The guest's NUMA nodes and remote-node accesses.
///
/// A VM larger than its home host node (ESXi's wide VM) presents one virtual NUMA node per
/// host node it spans, as the ACPI SRAT of a VM with virtual NUMA does: the guest then runs
/// one buddy allocator per node over exactly that node's guest-physical range
/// (`PageAllocator`), each with its own watermarks, and its own kswapd per node. Processes are
/// spread over the nodes round robin as they are created (fork and exec), as the scheduler's
/// fork and exec balancing spreads new tasks over the nodes' CPUs; a process's allocations
/// prefer its node (the default memory policy, local allocation, mm/mempolicy.c).
///
/// Remote accesses: the host tells the guest which host node backs each frame whenever it
/// changes what backs it (first touch, copy-on-write break, swap-in, merge); an access pays
/// `costs.remote_access` on top of `memory_access` when that node differs from the host node
/// of the accessing process's node (a remote DRAM access on a two-socket x86 host takes about
/// 1.5-2x a local one). Only an access found local caches the combined translation
/// (`PTE.hostBit`), so the access path's fast case stays as it is and every remote access
/// takes the branch that walks the EPT, where it is counted (`vmstat.numaRemoteAccesses`).
extension GuestKernel {
    /// The host describes the VM's NUMA layout at power-on (a host of several nodes):
    /// `hostNodes[v]` backs virtual node `v`, each virtual node holding `framesPerNode`
    /// guest-physical frames (the last the rest). With more than one virtual node the guest
    /// gets one node per virtual node; with one, its single node is backed by `hostNodes[0]`.
    ///
    /// A guest that already allocated memory keeps one node (the layout is fixed at boot).
    public func setNUMANodes(framesPerNode: Int, hostNodes: [Int]) {
        precondition(!hostNodes.isEmpty && hostNodes.allSatisfy { $0 >= 0 && $0 < 255 }, "bad host nodes \(hostNodes)")
        if frameHostNode == nil { frameHostNode = ZeroedBuffer<UInt8>(count: totalPages) }
        var tags = hostNodes.map { UInt8($0 + 1) }
        let pristine = buddy.freePages == totalPages - reservedPages - offlinePages && !buddy.isNUMA
        if hostNodes.count > 1 && pristine && framesPerNode > reservedPages && framesPerNode < totalPages {
            buddy = PageAllocator(
                frames: frames, managed: reservedPages..<totalPages, online: reservedPages..<(totalPages - offlinePages),
                framesPerNode: framesPerNode)
            tags = Array(tags.prefix(buddy.nodeCount))
            while tags.count < buddy.nodeCount { tags.append(tags.last!) }
        } else {
            tags = [tags[0]]
        }
        nodeHostTags = tags
        nodeKswapd = Array(repeating: (0, 0), count: buddy.nodeCount)
        setWatermarks()
        // Processes created before power-on are spread as if created now.
        nextProcessNode = 0
        for case let p? in processes { placeOnNode(p) }
    }

    /// Sets the watermarks: one zone as before on a one-node guest; per node, with
    /// min_free_kbytes split by managed pages, on a NUMA guest (`watermarks` is then their sum).
    func setWatermarks() {
        guard buddy.isNUMA else {
            watermarks = Watermarks(managedPages: managedPages, config: config)
            return
        }
        let managed = (0..<buddy.nodeCount).map(onlinePages(ofNode:))
        let marks = Watermarks.perNode(managedPages: managed, config: config)
        buddy.marks = marks
        watermarks = Watermarks(summing: marks)
    }

    /// The managed frames of `node` that are online (memory hotplug): its MemTotal.
    func onlinePages(ofNode node: Int) -> Int {
        let a = buddy.nodes[node].managed
        return max(0, min(a.upperBound, totalPages - offlinePages) - a.lowerBound)
    }

    /// Gives a new process its node: the next one round robin.
    func placeOnNode(_ p: GuestProcess) {
        let n = buddy.nodeCount
        p.node = n > 1 ? nextProcessNode % n : 0
        if n > 1 { nextProcessNode = (nextProcessNode + 1) % n }
        p.hostNodeTag = p.node < nodeHostTags.count ? nodeHostTags[p.node] : 0
    }

    /// The allocations that follow prefer the current task's node.
    func setPreferredNode() {
        let node = process(current)?.node ?? 0
        buddy.preferred = node
        buddy.localNode = node
    }

    /// Runs `body` with allocations preferring `node` (kernel threads bound to a node, such as
    /// that node's kswapd), then restores the current task's preference.
    func withPreferredNode<T>(_ node: Int, _ body: () -> T) -> T {
        guard buddy.isNUMA else { return body() }
        buddy.preferred = node
        buddy.localNode = node
        defer { setPreferredNode() }
        return body()
    }

    /// The host reports which of its nodes backs `pfn` now (nil: none, or a frame every node
    /// reads from its caches, such as the host zero frame). A change drops the cached
    /// translations of the PTEs mapping the frame, so the next access of each process is
    /// checked against its own node.
    public func setHostNode(_ pfn: PFN, _ node: Int?) {
        let i = Int(pfn)
        let r = frameHostNode ?? ZeroedBuffer<UInt8>(count: totalPages)
        frameHostNode = r
        let tag = node.map { UInt8($0 + 1) } ?? 0
        guard r[i] != tag else { return }
        r[i] = tag
        if tag != 0 { forEachPTE(of: pfn) { idx in pageTables.entries[idx] &= ~PTE.hostBit } }
    }

    /// The host node backing `pfn` as last reported (nil: none known).
    public func hostNode(of pfn: PFN) -> Int? {
        guard let r = frameHostNode, r[Int(pfn)] != 0 else { return nil }
        return Int(r[Int(pfn)]) - 1
    }

    /// Whether an access by `p` to frame `pfn` is remote: the frame's host node is known and is
    /// not the host node of `p`'s node.
    @inline(__always)
    func isRemote(_ pfn: Int, for p: GuestProcess) -> Bool {
        guard let r = frameHostNode else { return false }
        let t = r[pfn]
        return t != 0 && t != p.hostNodeTag
    }

    /// Accesses that paid the remote-access cost, and the time they added.
    public var numaRemoteAccesses: (count: Int, ns: Int64) { (vmstat.numaRemoteAccesses, vmstat.numaRemoteNs) }

    /// Counts one remote access; returns its extra time.
    @inline(__always)
    func remoteAccess() -> Int64 {
        let ns = costs.remote_access.nanoseconds
        vmstat.numaRemoteAccesses += 1
        vmstat.numaRemoteNs += ns
        return ns
    }

    // MARK: - Per-node figures

    /// Each node of a NUMA guest now (empty for a one-node guest): its meminfo
    /// (`/sys/devices/system/node/nodeN/meminfo`), numastat
    /// (`/sys/devices/system/node/nodeN/numastat`) and kswapd. The LRU figures walk the
    /// node's frames (O(node frames); outputs read them at the end of a run).
    public var nodeStats: [GuestNodeStats] {
        guard buddy.isNUMA else { return [] }
        var out: [GuestNodeStats] = []
        let onlineEnd = totalPages - offlinePages
        for k in 0..<buddy.nodeCount {
            var s = GuestNodeStats()
            let a = buddy.nodes[k]
            s.hostNode = Int(nodeHostTags[k]) - 1
            s.memTotal = onlinePages(ofNode: k)
            s.memFree = a.freePages
            s.watermarks = buddy.marks[k]
            var counts = [Int](repeating: 0, count: 16)
            for i in a.managed.lowerBound..<min(a.managed.upperBound, onlineEnd) {
                counts[Int(frames.flags[i] & FrameFlag.useMask) & 15] += 1
            }
            s.activeAnon = counts[Int(FrameUse.activeAnon.rawValue)]
            s.inactiveAnon = counts[Int(FrameUse.inactiveAnon.rawValue)]
            s.activeFile = counts[Int(FrameUse.activeFile.rawValue)]
            s.inactiveFile = counts[Int(FrameUse.inactiveFile.rawValue)]
            let st = buddy.numaStat
            s.numaHit = st[5 * k]; s.numaMiss = st[5 * k + 1]; s.numaForeign = st[5 * k + 2]
            s.localNode = st[5 * k + 3]; s.otherNode = st[5 * k + 4]
            if k < nodeKswapd.count { s.kswapdWakeups = nodeKswapd[k].wakeups; s.pgstealKswapd = nodeKswapd[k].stolen }
            s.processes = processes.reduce(0) { $0 + ($1?.node == k ? 1 : 0) }
            out.append(s)
        }
        return out
    }
}

/// One NUMA node of a guest: its meminfo, numastat and kswapd figures, in pages.
public struct GuestNodeStats: Sendable, Equatable {
    /// The host node backing this node.
    public var hostNode = 0
    /// Managed pages of the node (its MemTotal) and free ones (MemFree).
    public var memTotal = 0
    public var memFree = 0
    public var activeAnon = 0, inactiveAnon = 0, activeFile = 0, inactiveFile = 0
    public var numaHit = 0, numaMiss = 0, numaForeign = 0, localNode = 0, otherNode = 0
    /// kswapd runs woken for this node, and the pages they reclaimed (pgsteal_kswapd).
    public var kswapdWakeups = 0, pgstealKswapd = 0
    /// Live processes running on the node.
    public var processes = 0
    public var watermarks = Watermarks(min: 0, low: 0, high: 0, minFreeKbytes: 0)
    public init() {}
    /// MemUsed: MemTotal - MemFree.
    public var memUsed: Int { memTotal - memFree }
}
