import Hypervisor
import OvercommitSupport

public typealias NodeCounter = OutputCounter<NodeSnapshot>

/// Every output counter of one NUMA node, declared once: `stats.txt` (`host.node<N>.<name>`)
/// and the `nodes` array of summary.json's `host` follow this list. They are written only for
/// a host of more than one node (a one-node host's figures are the host's own). Names follow
/// Linux's `/sys/devices/system/node/nodeN/meminfo` and `numastat`.
public struct NodeCounters: Sendable {
    /// The catalog's handles, e.g. `NodeCounters.handles.numaMiss`.
    public static let handles = NodeCounters()
    /// The counters in declaration order.
    public static let catalog = CounterCatalog<NodeSnapshot>(root: handles)

    public let memory = NodeCounter.memory("mem_total_kb", "machine memory of the node", also: [.meminfo("Node N MemTotal")]) { $0.memory }
    public let free = NodeCounter.memory(
        "free_kb", "node memory backing nothing", also: [.meminfo("Node N MemFree"), .esxtop("NUMA /MB (free)")]
    ) { $0.free }
    public let consumed = NodeCounter.memory("consumed_kb", "node memory backing guest pages (private, shared, compression caches)") {
        $0.consumed
    }
    public let overhead = NodeCounter.memory("overhead_kb", "per-VM overhead memory on the node") { $0.overhead }
    public let hypervisor = NodeCounter.memory("hypervisor_kb", "memory the hypervisor keeps on the node") { $0.hypervisor }
    public let pagesShared = NodeCounter.gauge(
        "pages_shared", .pages, "shared frames on the node (KSM pages_shared of the node's stable tree)", also: [.ksm("pages_shared")]
    ) { $0.pagesShared }
    public let pagesSharing = NodeCounter.gauge(
        "pages_sharing", .pages, "extra mappings of the node's shared frames (frames saved on the node)", also: [.ksm("pages_sharing")]
    ) { $0.pagesSharing }
    public let numaHit = NodeCounter.events(
        "numa_hit", unit: .pages, "frames this node gave to guest pages that prefer it", also: [.vmstat("numa_hit (numastat)")]
    ) { $0.numaHit }
    public let numaMiss = NodeCounter.events(
        "numa_miss", unit: .pages, "frames this node gave to guest pages that prefer another node (remote allocations)",
        also: [.vmstat("numa_miss (numastat)")]
    ) { $0.numaMiss }
    public let numaForeign = NodeCounter.events(
        "numa_foreign", unit: .pages, "guest pages that prefer this node but got a frame of another",
        also: [.vmstat("numa_foreign (numastat)")]
    ) { $0.numaForeign }
    public let homedVMs = NodeCounter.gauge("vms", .count, "VMs whose home node this is") { $0.homedVMs }
    public let remoteAccesses = NodeCounter.events(
        "remote_accesses", "accesses by the guests homed here to frames on another node (each pays costs.remote_access)"
    ) { $0.remoteAccesses }
    public let remoteAccessTime = NodeCounter.time(
        "remote_access_s", "time those remote accesses added (cost model)",
        nanoseconds: {
            $0.remoteAccessNs
        })
}

public typealias VMNUMACounter = OutputCounter<VMNUMASnapshot>

/// Every NUMA counter of one guest, declared once: `stats.txt` (`guest.<guest>.numa.<name>`)
/// and the `numa` object of the guest's entry in summary.json. Written only on a host of more
/// than one node.
public struct VMNUMACounters: Sendable {
    public static let handles = VMNUMACounters()
    public static let catalog = CounterCatalog<VMNUMASnapshot>(root: handles)

    public let homeNode = VMNUMACounter.gauge("home_node", .count, "the host node the VM's memory comes from first (ESX home node)") {
        $0.homeNode
    }
    public let virtualNodes = VMNUMACounter.gauge("virtual_nodes", .count, "virtual NUMA nodes (more than 1: a wide VM spanning host nodes)") {
        $0.virtualNodes
    }
    public let localAllocations = VMNUMACounter.events(
        "local_allocations", unit: .pages, "frames given to its pages on the node they prefer (its numa_hit)"
    ) { $0.localAllocations }
    public let remoteAllocations = VMNUMACounter.events(
        "remote_allocations", unit: .pages, "frames given to its pages on another node (its numa_miss)"
    ) { $0.remoteAllocations }
    public let remoteAccesses = VMNUMACounter.events("remote_accesses", "accesses to frames on another node than the page's own") {
        $0.remoteAccesses
    }
    public let remoteAccessTime = VMNUMACounter.time(
        "remote_access_s", "time the remote accesses added (costs.remote_access each)", nanoseconds: { $0.remoteAccessNs })
}
