import OvercommitSupport

/// The host's NUMA topology as a scenario gives it: how many nodes, how much memory each
/// has, and how VMs get their home node.
///
/// Follows ESXi's NUMA scheduler (vSphere Resource Management, "Using NUMA Systems with
/// ESXi", "VMware NUMA Optimization Algorithms"): each VM gets a home node at power-on, its
/// memory comes from the home node first, and a VM larger than a node is split across nodes
/// (a wide VM, presented to the guest as virtual NUMA nodes). One node (the default) is a
/// uniform-memory host: every output stays as without NUMA.
public struct NUMAConfig: ParameterTable {
    /// NUMA nodes (sockets) of the host.
    public var nodes: Int = 1
    /// Memory of each node, in node order; empty: host memory split equally.
    public var node_memory: [ByteCount] = []
    /// How a VM without `guests[].numa.home_node` gets its home node.
    public var placement: NUMAPlacement = .round_robin

    public init() {}

    public static let tableName = "host.numa"
    public static let tableSummary =
        "NUMA nodes of the host (ESXi's NUMA scheduler, Linux's per-node page allocator): node sizes, home-node placement of VMs."
    public static let fields: [ParameterField<Self>] = [
        .init(\.nodes, "nodes", "NUMA nodes of the host (1: uniform memory, no NUMA effects)", .range(1...64), unit: "nodes"),
        .init(
            \.node_memory, "node_memory",
            "memory of each node in node order, summing to host memory; empty: host memory split equally (the remainder on the last node)"),
        .init(
            \.placement, "placement",
            "initial placement of a VM's home node: round_robin (ESX: first VM on node 0, the next on node 1, ...) or most_free (the node with most free memory)"
        ),
    ]

    /// Node sizes: the explicit list, whole pages, node memory summing to host memory.
    public func problems(hostMemory: ByteCount) -> [ParameterProblem] {
        guard !node_memory.isEmpty else {
            if hostMemory.pages / nodes < 512 {
                return [("nodes", "\(nodes) nodes leave less than 2MiB per node of \(hostMemory) host memory")]
            }
            return []
        }
        var p: [ParameterProblem] = []
        if node_memory.count != nodes {
            p.append(("node_memory", "lists \(node_memory.count) node sizes for \(nodes) nodes: give one size per node"))
        }
        for (i, m) in node_memory.enumerated() where m.bytes % (2 << 20) != 0 || m.bytes == 0 {
            p.append(("node_memory[\(i)]", "must be a positive whole number of 2MiB large pages; got \(m)"))
        }
        let sum = node_memory.reduce(UInt64(0)) { $0 &+ $1.bytes }
        if sum != hostMemory.bytes {
            p.append(("node_memory", "node sizes sum to \(ByteCount(sum)), host memory is \(hostMemory): they must be equal"))
        }
        return p
    }
}

/// How the host chooses a VM's home node at power-on.
public enum NUMAPlacement: String, Codable, Sendable, CaseIterable {
    /// ESX's documented initial placement: VMs go to nodes in turn, the first to node 0.
    case round_robin
    /// The node with the most free machine memory (ties: the lowest node).
    case most_free
}

extension NUMAPlacement: ParameterChoice {
    public static var choiceNoun: String { "NUMA placement" }
}

/// The host's nodes as machine-frame ranges: node `k` holds frames `start[k]..<start[k+1]`
/// (contiguous, as a physical address map interleaves nothing by default).
public struct NUMATopology: Sendable, Equatable {
    /// First frame of each node, and the total frame count at the end.
    public let start: [Int]

    /// One node holding `totalFrames`.
    public init(totalFrames: Int) { start = [0, totalFrames] }

    /// The nodes `config` describes over `totalFrames` frames.
    public init(_ config: NUMAConfig, totalFrames: Int) {
        var s = [0]
        if config.node_memory.count == config.nodes {
            for m in config.node_memory { s.append(s.last! + m.pages) }
            s[s.count - 1] = totalFrames
        } else {
            let each = totalFrames / config.nodes
            for k in 1..<config.nodes { s.append(k * each) }
            s.append(totalFrames)
        }
        start = s
    }

    /// Number of nodes.
    public var count: Int { start.count - 1 }
    /// Frames of node `k`.
    public func frames(of k: Int) -> Int { start[k + 1] - start[k] }

    /// The node machine frame `m` belongs to.
    @inline(__always)
    public func node(of m: UInt32) -> Int {
        if start.count == 2 { return 0 }
        var k = 0
        while Int(m) >= start[k + 1] { k += 1 }
        return k
    }
}

/// A guest's NUMA placement (ESX `numa.nodeAffinity` restricted to one node; libvirt's
/// `<numatune><memory mode="preferred" nodeset="N"/>`) and whether a VM spanning nodes shows
/// them to its guest (virtual NUMA).
public struct GuestNUMAConfig: ParameterTable {
    /// The node the guest's memory comes from first; nil: `host.numa.placement` decides.
    public var home_node: Int? = nil
    /// A VM larger than its home node presents its virtual nodes to the guest, which then
    /// allocates per node (ESXi exposes vNUMA to VMs of `numa.vcpu.min` = 9 vCPUs or more;
    /// libvirt when the domain has `<cpu><numa><cell>` elements). false: the guest sees one
    /// node over all its memory, as a VM without vNUMA does.
    public var virtual_numa = true

    public init() {}

    public static let tableName = "guest.numa"
    public static let tableSummary =
        "A guest's NUMA placement: its home node (memory comes from it first and falls back to the other nodes) and virtual NUMA."
    public static let fields: [ParameterField<Self>] = [
        .init(
            \.home_node, "home_node",
            "the host node the guest's memory comes from first (a guest larger than the node spans the next nodes too)",
            .range(0...63), unit: "node", unset: "(host.numa.placement)"),
        .init(
            \.virtual_numa, "virtual_numa",
            "a VM spanning host nodes shows them to its guest (vNUMA: one guest node per virtual node, local allocation); false: one guest node"),
    ]
}
