import GuestKernel

/// Where a VM lives on a NUMA host: its home node and, for a VM larger than a node (ESXi's
/// wide VM), the host node backing each of its virtual nodes.
///
/// The guest-physical space is split into equal ranges of whole 2 MiB regions, one per virtual
/// node (vNUMA: the guest sees them as its nodes, as the ACPI SRAT of a VM with virtual NUMA
/// describes them); virtual node `v` is backed by host node `(home + v) % nodes`. A VM that
/// fits in its home node has one virtual node.
public struct VMNUMAPlacement: Sendable, Equatable {
    /// The node the VM's memory comes from first (ESX's home node).
    public var homeNode = 0
    /// The host node backing each virtual node (one entry: the VM fits in its home node).
    public var virtualNodes: [Int] = [0]
    /// Guest pages per virtual node (the last may hold fewer).
    public var pagesPerVirtualNode = Int.max

    public init() {}

    /// `pages` of guest memory homed on `home` of `topology`: as many virtual nodes as it
    /// takes for the nodes from `home` on to hold the memory.
    public init(pages: Int, home: Int, topology: NUMATopology) {
        homeNode = home
        var v = 1
        var room = topology.frames(of: home)
        while room < pages && v < topology.count {
            room += topology.frames(of: (home + v) % topology.count)
            v += 1
        }
        virtualNodes = (0..<v).map { (home + $0) % topology.count }
        pagesPerVirtualNode = v == 1 ? Int.max : ((pages + v - 1) / v + 511) / 512 * 512
    }

    /// The host node the guest page `i` should be backed on: its virtual node's.
    @inline(__always)
    public func node(ofPage i: Int) -> Int {
        virtualNodes.count == 1 ? homeNode : virtualNodes[min(i / pagesPerVirtualNode, virtualNodes.count - 1)]
    }
}

extension VirtualMachine {
    /// The host has more than one node (otherwise no NUMA bookkeeping runs).
    @inline(__always) var numaActive: Bool { host.frames.nodeCount > 1 }

    /// The host node page `i` prefers (its virtual node's).
    @inline(__always) func preferredNode(_ i: Int) -> Int { numa.node(ofPage: i) }

    /// The node holding what backs page `i` now: its private frame, or its shared frame (nil
    /// for the host zero frame, which every node reads from its caches, and for a page not in
    /// a machine frame).
    func backingNode(_ i: Int) -> Int? {
        switch p2m[i] {
        case .machine(let m): return host.frames.topology.node(of: m)
        case .shared(let n):
            return n == SharedFrames.zeroNode ? nil : host.frames.topology.node(of: host.sharedFrames.frame(of: n))
        default: return nil
        }
    }

    /// Counts `count` frames of `node` given to pages that prefer `preferred`, as Linux's
    /// numastat counts page allocations: numa_hit on the node when it is the preferred one,
    /// otherwise numa_miss on the node and numa_foreign on the preferred one.
    @inline(__always)
    func countNUMAAllocation(node: Int, preferred: Int, count: Int = 1) {
        guard numaActive else { return }
        if node == preferred {
            numaStat[3 * node] += count
        } else {
            numaStat[3 * node + 1] += count
            numaStat[3 * preferred + 2] += count
        }
    }

    /// Tells the guest which host node backs page `i` now, after the host changed what backs
    /// it. The guest's accesses from a process whose node is backed by another host node pay
    /// `costs.remote_access` (see `GuestKernel.setHostNode`).
    @inline(__always)
    func updateRemote(_ i: Int) {
        guard numaActive else { return }
        guest.setHostNode(PFN(i), backingNode(i))
    }

    /// Describes the VM's virtual nodes to the guest (power-on on a NUMA host); without
    /// virtual NUMA the guest sees one node, local to the home node's vCPUs.
    func presentNUMANodes() {
        guard numaActive else { return }
        guest.setNUMANodes(framesPerNode: numa.pagesPerVirtualNode, hostNodes: settings.virtualNUMA ? numa.virtualNodes : [numa.homeNode])
    }
}

extension VirtualMachine {
    /// Adds, per NUMA node, the machine frames this VM holds privately (its p2m's private
    /// frames and its compression cache's frames) to `counts`.
    func countFramesPerNode(into counts: inout [Int]) {
        let t = host.frames.topology
        for i in 0..<p2m.count {
            if case .machine(let m) = p2m[i] { counts[t.node(of: m)] += 1 }
        }
        for m in cache.machineFrames { counts[t.node(of: m)] += 1 }
    }
}

extension VirtualMachine {
    /// The VM's NUMA figures now (a host of several nodes).
    func numaSnapshot() -> VMNUMASnapshot {
        var n = VMNUMASnapshot()
        n.homeNode = numa.homeNode
        n.virtualNodes = numa.virtualNodes.count
        for k in 0..<numaStat.count / 3 {
            n.localAllocations += numaStat[3 * k]
            n.remoteAllocations += numaStat[3 * k + 1]
        }
        let r = guest.numaRemoteAccesses
        n.remoteAccesses = r.count
        n.remoteAccessNs = r.ns
        return n
    }
}
