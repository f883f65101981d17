import GuestKernel
import Hypervisor
import OvercommitSupport

public typealias NodeCounter = OutputCounter<NodeSnapshot>

/// Every output counter of one NUMA node, declared once: `stats.txt` (`host.node<N>.<name>`),
/// the `nodes` array of summary.json's `host` and the `node<N>.<name>` columns of
/// `host_timeseries.csv` (the sampled ones) follow this list. They are written only for a host
/// of more than one node (a one-node host's figures are the host's own). Names follow Linux's
/// `/sys/devices/system/node/nodeN/meminfo` and `numastat`.
public struct NodeCounters: Sendable {
    /// The catalog's handles, e.g. `NodeCounters.handles.numaMiss`.
    public static let handles = NodeCounters()
    /// The counters in declaration order.
    public static let catalog = CounterCatalog<NodeSnapshot>(root: handles)

    public let memory = NodeCounter.memory("mem_total_kb", "machine memory of the node", also: [.meminfo("Node N MemTotal")]) { $0.memory }
    public let free = NodeCounter.memory(
        "free_kb", sampled: true, "node memory backing nothing", also: [.meminfo("Node N MemFree"), .esxtop("NUMA /MB (free)")]
    ) { $0.free }
    public let consumed = NodeCounter.memory("consumed_kb", sampled: true, "node memory backing guest pages (private, shared, compression caches)") {
        $0.consumed
    }
    public let overhead = NodeCounter.memory("overhead_kb", "per-VM overhead memory on the node") { $0.overhead }
    public let hypervisor = NodeCounter.memory("hypervisor_kb", "memory the hypervisor keeps on the node") { $0.hypervisor }
    public let pagesShared = NodeCounter.gauge(
        "pages_shared", .pages, sampled: true, "shared frames on the node (KSM pages_shared of the node's stable tree)",
        also: [.ksm("pages_shared")]
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
        "remote_accesses", sampled: true, "accesses by the guests homed here to frames on another node (each pays costs.remote_access)"
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
    public let remoteAccesses = VMNUMACounter.events("remote_accesses", "accesses to frames on another host node than the accessing process's") {
        $0.remoteAccesses
    }
    public let remoteAccessTime = VMNUMACounter.time(
        "remote_access_s", "time the remote accesses added (costs.remote_access each)", nanoseconds: { $0.remoteAccessNs })
}

public typealias GuestNodeCounter = OutputCounter<GuestNodeStats>

/// Every output counter of one NUMA node of a guest, declared once: `stats.txt`
/// (`guest.<guest>.node<N>.<name>`) and the `nodes` array of the guest's entry in
/// summary.json. Written only for a guest of more than one node (a wide VM's guest, whose
/// nodes are its virtual nodes). Names follow the guest's own
/// `/sys/devices/system/node/nodeN/meminfo` and `numastat`.
public struct GuestNodeCounters: Sendable {
    public static let handles = GuestNodeCounters()
    public static let catalog = CounterCatalog<GuestNodeStats>(root: handles)

    public let hostNode = GuestNodeCounter.gauge("host_node", .count, "the host node backing this guest node") { $0.hostNode }
    public let memTotal = GuestNodeCounter.memory("mem_total_kb", "memory the node's allocator manages", also: [.meminfo("Node N MemTotal")]) {
        $0.memTotal
    }
    public let memFree = GuestNodeCounter.memory("free_kb", "free memory of the node", also: [.meminfo("Node N MemFree")]) { $0.memFree }
    public let memUsed = GuestNodeCounter.memory("used_kb", "MemTotal - MemFree of the node", also: [.meminfo("Node N MemUsed")]) {
        $0.memUsed
    }
    public let active = GuestNodeCounter.memory("active_kb", "pages on the node's active lists", also: [.meminfo("Node N Active")]) {
        $0.activeAnon + $0.activeFile
    }
    public let inactive = GuestNodeCounter.memory("inactive_kb", "pages on the node's inactive lists", also: [.meminfo("Node N Inactive")]) {
        $0.inactiveAnon + $0.inactiveFile
    }
    public let activeAnon = GuestNodeCounter.memory("active_anon_kb", "anonymous pages on the active list", also: [.meminfo("Node N Active(anon)")]) {
        $0.activeAnon
    }
    public let inactiveAnon = GuestNodeCounter.memory(
        "inactive_anon_kb", "anonymous pages on the inactive list", also: [.meminfo("Node N Inactive(anon)")]
    ) { $0.inactiveAnon }
    public let activeFile = GuestNodeCounter.memory("active_file_kb", "page-cache pages on the active list", also: [.meminfo("Node N Active(file)")]) {
        $0.activeFile
    }
    public let inactiveFile = GuestNodeCounter.memory(
        "inactive_file_kb", "page-cache pages on the inactive list", also: [.meminfo("Node N Inactive(file)")]
    ) { $0.inactiveFile }
    public let watermarkMin = GuestNodeCounter.gauge("watermark_min", .pages, "the node's min watermark (/proc/zoneinfo min)") { $0.watermarks.min }
    public let watermarkLow = GuestNodeCounter.gauge("watermark_low", .pages, "the node's low watermark (/proc/zoneinfo low)") { $0.watermarks.low }
    public let watermarkHigh = GuestNodeCounter.gauge("watermark_high", .pages, "the node's high watermark (/proc/zoneinfo high)") {
        $0.watermarks.high
    }
    public let numaHit = GuestNodeCounter.events(
        "numa_hit", unit: .pages, "pages allocated on this node for tasks that prefer it", also: [.vmstat("numa_hit (numastat)")]
    ) { $0.numaHit }
    public let numaMiss = GuestNodeCounter.events(
        "numa_miss", unit: .pages, "pages allocated on this node for tasks that prefer another (fallback)", also: [.vmstat("numa_miss (numastat)")]
    ) { $0.numaMiss }
    public let numaForeign = GuestNodeCounter.events(
        "numa_foreign", unit: .pages, "pages that preferred this node but were allocated on another", also: [.vmstat("numa_foreign (numastat)")]
    ) { $0.numaForeign }
    public let localNode = GuestNodeCounter.events(
        "local_node", unit: .pages, "pages allocated on this node by a task running on it", also: [.vmstat("local_node (numastat)")]
    ) { $0.localNode }
    public let otherNode = GuestNodeCounter.events(
        "other_node", unit: .pages, "pages allocated on this node by a task running on another node", also: [.vmstat("other_node (numastat)")]
    ) { $0.otherNode }
    public let kswapdWakeups = GuestNodeCounter.events("kswapd_wakeups", "runs of this node's kswapd (kswapdN)") { $0.kswapdWakeups }
    public let pgstealKswapd = GuestNodeCounter.events(
        "pgsteal_kswapd", unit: .pages, "pages this node's kswapd reclaimed", also: [.vmstat("pgsteal_kswapd (per node)")]
    ) { $0.pgstealKswapd }
    public let processes = GuestNodeCounter.gauge("processes", .count, "live processes running on the node") { $0.processes }
}
