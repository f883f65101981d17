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
    private(set) var nodeFrame: [UInt32] = [0]
    private(set) var nodeRefs: [Int] = [0]
    private(set) var nodeContent: [PageContent] = [.zero]
    private(set) var nodeHash: [UInt64] = [0]
    private(set) var nodeSalt: [UInt64] = [0]
    private(set) var freeNodes: [UInt32] = []
    /// Salted hash -> the newest shared frame with that content and room for more mappings.
    private(set) var stableIndex: [UInt64: UInt32] = [:]
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
    var zeroPagesSharing: Int { nodeRefs[0] }

    /// The shared frame the index names for `hash`, if any.
    func lookup(_ hash: UInt64) -> UInt32? { stableIndex[hash] }

    /// The salt of the VM whose page made node `n` (only pages with that salt may map it).
    func salt(of n: UInt32) -> UInt64 { nodeSalt[Int(n)] }
    /// What node `n` holds.
    func content(of n: UInt32) -> PageContent { nodeContent[Int(n)] }

    /// A new shared frame made of a guest page's private `frame` (KSM's stable node from an
    /// unstable-tree match), with one mapping.
    func create(frame: UInt32, content: PageContent, hash: UInt64, salt: UInt64) -> UInt32 {
        let node: UInt32
        if let f = freeNodes.popLast() {
            node = f
            nodeFrame[Int(f)] = frame; nodeRefs[Int(f)] = 1; nodeContent[Int(f)] = content
            nodeHash[Int(f)] = hash; nodeSalt[Int(f)] = salt
        } else {
            node = UInt32(nodeFrame.count)
            nodeFrame.append(frame); nodeRefs.append(1); nodeContent.append(content)
            nodeHash.append(hash); nodeSalt.append(salt)
        }
        pages_shared += 1
        if !nodePagesShared.isEmpty { nodePagesShared[numaNode(Int(node))] += 1 }
        stableIndex[hash] = node
        return node
    }

    /// One more guest page maps `node`; a frame that reaches `max_page_sharing` leaves the
    /// index (the next match starts another copy).
    func addMapping(_ node: UInt32) {
        let n = Int(node)
        nodeRefs[n] += 1
        guard node != SharedFrames.zeroNode else { return }
        pages_sharing += 1
        if !nodePagesSharing.isEmpty { nodePagesSharing[numaNode(n)] += 1 }
        if nodeRefs[n] >= maxPageSharing && stableIndex[nodeHash[n]] == node {
            stableIndex[nodeHash[n]] = nil
        }
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
            if stableIndex[nodeHash[n]] == node { stableIndex[nodeHash[n]] = nil }
            nodeContent[n] = .zero
            freeNodes.append(node)
        } else {
            pages_sharing -= 1
            if !nodePagesSharing.isEmpty { nodePagesSharing[numaNode(n)] -= 1 }
        }
    }

    /// Problems with the nodes against `mappings`, the count of guest pages mapping each node
    /// found in the VMs' p2m maps.
    func checkInvariants(mappings: [Int]) -> [String] {
        var p: [String] = []
        if mappings != nodeRefs { p.append("sharing: mapping counts of shared frames disagree with the p2m maps") }
        let live = (1..<nodeRefs.count).filter { nodeRefs[$0] > 0 }.count
        if live != pages_shared { p.append("sharing: \(live) live shared frames, pages_shared \(pages_shared)") }
        let sharing = (1..<nodeRefs.count).reduce(0) { $0 + max(0, nodeRefs[$1] - 1) }
        if sharing != pages_sharing { p.append("sharing: pages_sharing \(pages_sharing) != \(sharing)") }
        if !nodePagesShared.isEmpty {
            var shared = Array(repeating: 0, count: nodePagesShared.count)
            var sharingPerNode = shared
            for n in 1..<nodeRefs.count where nodeRefs[n] > 0 {
                shared[numaNode(n)] += 1
                sharingPerNode[numaNode(n)] += nodeRefs[n] - 1
            }
            if shared != nodePagesShared { p.append("sharing: pages_shared per node \(nodePagesShared) != \(shared)") }
            if sharingPerNode != nodePagesSharing { p.append("sharing: pages_sharing per node \(nodePagesSharing) != \(sharingPerNode)") }
        }
        return p
    }

    /// Bytes of simulator memory held by the nodes and the index.
    var footprintBytes: Int {
        let nodes =
            nodeFrame.capacity * 4 + nodeRefs.capacity * 8 + nodeContent.capacity * 8
            + nodeHash.capacity * 8 + nodeSalt.capacity * 8 + freeNodes.capacity * 4
        // A Dictionary<UInt64, UInt32> entry: key, value and about a byte of metadata per bucket.
        return nodes + stableIndex.capacity * 13
    }
}
