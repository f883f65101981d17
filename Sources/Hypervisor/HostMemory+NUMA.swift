/// The host's NUMA nodes: home-node placement at power-on, and the per-node figures.
///
/// Follows ESXi's NUMA scheduler (vSphere Resource Management, "VMware NUMA Optimization
/// Algorithms and Settings"): a VM gets a home node when it powers on, new VMs going to the
/// nodes in turn ("round robin, with the first virtual machine going to the first node"), and
/// its memory comes from the home node first; a VM with more memory than its node becomes a
/// wide VM whose virtual nodes are backed by consecutive nodes. The free-memory state stays
/// host-wide, as ESXi computes it; free memory is reported per node, as ESXi's esxtop
/// (NUMA/MEM, `NMEM`/`NLMEM`) and Linux's `/sys/devices/system/node/nodeN/meminfo` and
/// `numastat` do. Dynamic rebalancing and memory migration between nodes are not modelled:
/// a VM keeps its home node.
extension HostMemory {
    /// Gives `vm` its home node and virtual nodes (at power-on): the VM's own setting, else the
    /// configured placement.
    func placeOnNUMANodes(_ vm: VirtualMachine) {
        let t = frames.topology
        let home: Int
        if let h = vm.settings.numaHomeNode {
            home = min(h, t.count - 1)
        } else if t.count == 1 {
            home = 0
        } else {
            switch config.numa.placement {
            case .round_robin:
                home = placedRoundRobin % t.count
                placedRoundRobin += 1
            case .most_free:
                var best = 0
                for k in 1..<t.count where frames.nodeFree[k] > frames.nodeFree[best] { best = k }
                home = best
            }
        }
        vm.numa = VMNUMAPlacement(pages: vm.configuredPages, home: home, topology: t)
    }

    /// The NUMA topology (node frame ranges).
    public var numaTopology: NUMATopology { frames.topology }

    /// Each node now (empty on a one-node host, whose figures are the host's own).
    public func nodeSnapshots() -> [NodeSnapshot] {
        let t = frames.topology
        guard t.count > 1 else { return [] }
        var out: [NodeSnapshot] = (0..<t.count).map { k in
            var n = NodeSnapshot()
            n.memory = t.frames(of: k)
            n.free = frames.nodeFree[k]
            n.hypervisor = max(0, min(t.start[k + 1], hypervisorFrames) - t.start[k])
            n.overhead = overheadByNode[k]
            n.consumed = n.memory - n.free - n.hypervisor - n.overhead
            n.pagesShared = sharing.shared.nodePagesShared[k]
            n.pagesSharing = sharing.shared.nodePagesSharing[k]
            return n
        }
        for vm in vms where vm.poweredOn {
            for k in 0..<t.count {
                out[k].numaHit += vm.numaStat[3 * k]
                out[k].numaMiss += vm.numaStat[3 * k + 1]
                out[k].numaForeign += vm.numaStat[3 * k + 2]
            }
            let home = vm.numa.homeNode
            out[home].homedVMs += 1
            let r = vm.guest.numaRemoteAccesses
            out[home].remoteAccesses += r.count
            out[home].remoteAccessNs += r.ns
        }
        return out
    }

    /// Frame conservation per node: free + private + shared + compression caches + overhead +
    /// hypervisor = the node's frames, with private, shared and cache frames found by walking
    /// every VM's p2m map and cache (O(guest pages)).
    func checkNUMAInvariants() -> [String] {
        let t = frames.topology
        guard t.count > 1 else { return [] }
        var used = Array(repeating: 0, count: t.count)
        for vm in vms { vm.countFramesPerNode(into: &used) }
        for n in 1..<sharing.shared.nodeRefs.count where sharing.shared.nodeRefs[n] > 0 {
            used[t.node(of: sharing.shared.frame(of: UInt32(n)))] += 1
        }
        var p: [String] = []
        for k in 0..<t.count {
            let hyp = max(0, min(t.start[k + 1], hypervisorFrames) - t.start[k])
            let sum = frames.nodeFree[k] + used[k] + overheadByNode[k] + hyp
            if sum != t.frames(of: k) {
                p.append(
                    "host: node \(k): free \(frames.nodeFree[k]) + backing guest memory \(used[k]) + overhead \(overheadByNode[k]) + hypervisor \(hyp) = \(sum) != node memory \(t.frames(of: k))"
                )
            }
        }
        return p
    }
}

/// One NUMA node at one instant, in pages (and counts): what `numastat` and the node's
/// `meminfo` show.
public struct NodeSnapshot: Sendable, Equatable {
    public var memory = 0
    public var free = 0
    /// Frames backing guest memory: private, shared and compression caches.
    public var consumed = 0
    public var overhead = 0
    public var hypervisor = 0
    /// Shared frames on the node (KSM pages_shared) and their extra mappings (pages_sharing).
    public var pagesShared = 0
    public var pagesSharing = 0
    /// Linux numastat: page allocations served by this node as preferred, served by this node
    /// for another, and meant for this node but served by another.
    public var numaHit = 0
    public var numaMiss = 0
    public var numaForeign = 0
    /// VMs whose home node this is, and their guests' accesses to remote frames.
    public var homedVMs = 0
    public var remoteAccesses = 0
    public var remoteAccessNs: Int64 = 0
    public init() {}
}
