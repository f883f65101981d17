import OvercommitSupport
import PageContents

/// The host's shared machine frames: KSM's stable tree, ESX's shared pages.
///
/// Each shared frame is a node: its machine frame, how many guest pages map it, its content,
/// its salted hash and the salt. Node 0 is the host zero frame (one of the hypervisor's own
/// frames, never freed). A hash index names the newest frame with room for more mappings
/// (KSM `max_page_sharing`). VMs call it when a mapping goes away (copy-on-write break,
/// balloon); the sharing scanner creates nodes and adds mappings. It holds no VM.
///
/// Counters follow `/sys/kernel/mm/ksm`: pages_shared (shared frames, the zero frame
/// excluded), pages_sharing (mappings beyond the first = frames saved).
final class SharedFrames {
    // Per node, in parallel arrays (28 bytes a node): machine frame, mappings, content, salted
    // hash, and the salt as an index into `salts` (a VM's salt is one of few values).
    private(set) var nodeFrame: [UInt32] = [0]
    private(set) var nodeRefs: [UInt32] = [0]
    private(set) var nodeContent: [PageContent] = [.zero]
    private(set) var nodeHash: [UInt64] = [0]
    private(set) var nodeSalt: [UInt32] = [0]
    private(set) var freeNodes: [UInt32] = []
    /// The distinct salts of the nodes (`nodeSalt` indexes it); 0 first.
    private(set) var salts: [UInt64] = [0]
    /// Salted hash -> the newest shared frame with that content and room for more mappings:
    /// open addressing with linear probing on node numbers, keyed by the node's hash.
    private(set) var index = StableIndex()
    private(set) var pages_shared = 0
    private(set) var pages_sharing = 0
    /// pages_shared and pages_sharing per NUMA node of the shared frame (empty on a one-node
    /// host).
    private(set) var nodePagesShared: [Int]
    private(set) var nodePagesSharing: [Int]
    let maxPageSharing: Int
    let frames: MachineMemory

    init(frames: MachineMemory, maxPageSharing: Int) {
        self.frames = frames
        self.maxPageSharing = maxPageSharing
        let n = frames.nodeCount > 1 ? frames.nodeCount : 0
        nodePagesShared = Array(repeating: 0, count: n)
        nodePagesSharing = Array(repeating: 0, count: n)
    }

    /// The machine frame of node `n`.
    func frame(of n: UInt32) -> UInt32 { nodeFrame[Int(n)] }

    /// The NUMA node of shared frame `n`'s machine frame (index into the per-node counters).
    @inline(__always) private func numaNode(_ n: Int) -> Int { frames.topology.node(of: nodeFrame[n]) }

    /// The host zero frame's node.
    static let zeroNode: UInt32 = 0

    /// Guest pages mapped to the host zero frame.
    var zeroPagesSharing: Int { Int(nodeRefs[0]) }

    /// Guest pages mapping each node (node 0 the zero frame), as the invariant check counts them.
    var mappingCounts: [Int] { nodeRefs.map { Int($0) } }
    /// Node numbers in use or free (the zero frame's included).
    var nodeSlots: Int { nodeRefs.count }

    /// The shared frame the index names for `hash`, if any.
    func lookup(_ hash: UInt64) -> UInt32? { index.find(hash, nodeHash) }

    /// The salt of the VM whose page made node `n` (only pages with that salt may map it).
    func salt(of n: UInt32) -> UInt64 { salts[Int(nodeSalt[Int(n)])] }
    /// What node `n` holds.
    func content(of n: UInt32) -> PageContent { nodeContent[Int(n)] }

    /// A new shared frame made of a guest page's private `frame` (KSM's stable node from an
    /// unstable-tree match), with one mapping.
    func create(frame: UInt32, content: PageContent, hash: UInt64, salt: UInt64) -> UInt32 {
        let saltIndex: UInt32
        if let k = salts.firstIndex(of: salt) {
            saltIndex = UInt32(k)
        } else {
            saltIndex = UInt32(salts.count)
            salts.append(salt)
        }
        let node: UInt32
        if let f = freeNodes.popLast() {
            node = f
            nodeFrame[Int(f)] = frame; nodeRefs[Int(f)] = 1; nodeContent[Int(f)] = content
            nodeHash[Int(f)] = hash; nodeSalt[Int(f)] = saltIndex
        } else {
            node = UInt32(nodeFrame.count)
            if nodeFrame.count == nodeFrame.capacity { reserveNodes(nodeFrame.count + nodeFrame.count / 8 + 1024) }
            nodeFrame.append(frame); nodeRefs.append(1); nodeContent.append(content)
            nodeHash.append(hash); nodeSalt.append(saltIndex)
        }
        pages_shared += 1
        if !nodePagesShared.isEmpty { nodePagesShared[numaNode(Int(node))] += 1 }
        index.insert(node, hash: hash, nodeHash)
        return node
    }

    /// Grows the node arrays by an eighth, not twofold: they hold one entry per shared frame,
    /// hundreds of thousands on a large host (a copy per growth, amortised O(1) per node).
    private func reserveNodes(_ n: Int) {
        nodeFrame.reserveCapacity(n); nodeRefs.reserveCapacity(n); nodeContent.reserveCapacity(n)
        nodeHash.reserveCapacity(n); nodeSalt.reserveCapacity(n)
    }

    /// One more guest page maps `node`; a frame that reaches `max_page_sharing` leaves the
    /// index (the next match starts another copy).
    func addMapping(_ node: UInt32) {
        let n = Int(node)
        nodeRefs[n] += 1
        guard node != SharedFrames.zeroNode else { return }
        pages_sharing += 1
        if !nodePagesSharing.isEmpty { nodePagesSharing[numaNode(n)] += 1 }
        if Int(nodeRefs[n]) >= maxPageSharing { index.remove(node, hash: nodeHash[n], nodeHash) }
    }

    /// A guest page stops mapping `node` (copy-on-write break, balloon); the last mapping
    /// frees the frame back to the host.
    func dropMapping(_ node: UInt32) {
        let n = Int(node)
        nodeRefs[n] -= 1
        guard node != SharedFrames.zeroNode else { return }
        if nodeRefs[n] == 0 {
            if !nodePagesShared.isEmpty { nodePagesShared[numaNode(n)] -= 1 }
            frames.release(nodeFrame[n])
            pages_shared -= 1
            index.remove(node, hash: nodeHash[n], nodeHash)
            nodeContent[n] = .zero
            freeNodes.append(node)
        } else {
            pages_sharing -= 1
            if !nodePagesSharing.isEmpty { nodePagesSharing[numaNode(n)] -= 1 }
        }
    }

    /// Problems with the nodes against `mappings`, the count of guest pages mapping each node
    /// found in the VMs' p2m maps, and with the stable index.
    func checkInvariants(mappings: [Int]) -> [String] {
        var p: [String] = []
        if mappings != mappingCounts { p.append("sharing: mapping counts of shared frames disagree with the p2m maps") }
        let live = (1..<nodeRefs.count).filter { nodeRefs[$0] > 0 }.count
        if live != pages_shared { p.append("sharing: \(live) live shared frames, pages_shared \(pages_shared)") }
        let sharing = (1..<nodeRefs.count).reduce(0) { $0 + max(0, Int(nodeRefs[$1]) - 1) }
        if sharing != pages_sharing { p.append("sharing: pages_sharing \(pages_sharing) != \(sharing)") }
        for node in index.entries {
            let n = Int(node)
            if n == 0 || n >= nodeRefs.count || nodeRefs[n] == 0 {
                p.append("sharing: the stable index names node \(node), which is not a live shared frame")
            } else if Int(nodeRefs[n]) >= maxPageSharing {
                p.append("sharing: the stable index names node \(node), which has max_page_sharing mappings")
            } else if index.find(nodeHash[n], nodeHash) != node {
                p.append("sharing: node \(node) is in the stable index but not found by its hash")
            }
        }
        if !nodePagesShared.isEmpty {
            var shared = Array(repeating: 0, count: nodePagesShared.count)
            var sharingPerNode = shared
            for n in 1..<nodeRefs.count where nodeRefs[n] > 0 {
                shared[numaNode(n)] += 1
                sharingPerNode[numaNode(n)] += Int(nodeRefs[n]) - 1
            }
            if shared != nodePagesShared { p.append("sharing: pages_shared per node \(nodePagesShared) != \(shared)") }
            if sharingPerNode != nodePagesSharing { p.append("sharing: pages_sharing per node \(nodePagesSharing) != \(sharingPerNode)") }
        }
        return p
    }

    /// Bytes of simulator memory held by the nodes and the index.
    var footprintBytes: Int {
        nodeFrame.capacity * 4 + nodeRefs.capacity * 4 + nodeContent.capacity * 8 + nodeHash.capacity * 8
            + nodeSalt.capacity * 4 + freeNodes.capacity * 4 + salts.capacity * 8 + index.footprintBytes
    }
}

/// KSM's stable tree as a hash index: salted page hash -> the shared frame (node) to map,
/// one node per hash, in a `ProbeTable` of node numbers whose keys are the nodes' own hashes
/// (4 bytes a slot; a `Dictionary` entry costs about 13, plus its power-of-two slack). At
/// most 75 % full.
struct StableIndex {
    private(set) var table = ProbeTable(slots: 64, maxLoadPer20: 15)
    var count: Int { table.count }

    /// The node whose hash is `hash`, if any.
    func find(_ hash: UInt64, _ nodeHash: [UInt64]) -> UInt32? {
        var k = table.home(hash)
        while true {
            let n = table.slots[k]
            if n == ProbeTable.empty { return nil }
            if nodeHash[Int(n)] == hash { return n }
            k = table.next(k)
        }
    }

    /// Makes `node` the one `hash` names (replacing an older node with the same hash).
    mutating func insert(_ node: UInt32, hash: UInt64, _ nodeHash: [UInt64]) {
        var k = table.home(hash)
        while table.slots[k] != ProbeTable.empty {
            if nodeHash[Int(table.slots[k])] == hash {
                table.replace(at: k, with: node)
                return
            }
            k = table.next(k)
        }
        table.insert(node, key: hash) { nodeHash[Int($0)] }
    }

    /// Removes `node` if the index names it for `hash`.
    mutating func remove(_ node: UInt32, hash: UInt64, _ nodeHash: [UInt64]) {
        var k = table.home(hash)
        while table.slots[k] != node {
            if table.slots[k] == ProbeTable.empty { return }
            k = table.next(k)
        }
        table.remove(at: k) { nodeHash[Int($0)] }
    }

    /// The nodes in the index, in slot order.
    var entries: [UInt32] { table.entries }

    var footprintBytes: Int { table.slots.capacity * 4 }
}
