/// Pool of 512-entry page-table leaves shared by every process of one guest.
///
/// Each process keeps a directory (`[Int32]`, one entry per 2 MiB of its address space)
/// pointing at leaves in this pool; every leaf is backed by one guest frame
/// (`FrameUse.pageTable`), so page tables cost guest memory and count in the OOM badness,
/// as they do in Linux.
public struct PageTablePool {
    public static let entriesPerLeaf = 512
    /// All leaves, back to back.
    public var entries: [UInt32] = []
    /// The guest frame backing each leaf.
    public var leafFrame: [PFN] = []
    /// Leaves returned by exiting processes, reused first (lowest index last-in-first-out).
    public var freeLeaves: [Int32] = []

    public init() {}

    /// Number of leaves in use.
    public var leavesInUse: Int { leafFrame.count - freeLeaves.count }

    public mutating func allocateLeaf(frame: PFN) -> Int32 {
        if let l = freeLeaves.popLast() {
            leafFrame[Int(l)] = frame
            return l
        }
        let l = Int32(leafFrame.count)
        leafFrame.append(frame)
        // Grow by an eighth (at least 64 leaves), not by doubling: the pool is the largest
        // per-page structure after the frame table, and doubling would leave up to half of it
        // unused; an eighth wastes at most 12.5 % and copies each entry about 8 times in all
        // (a fixed step of 64 leaves made a large process's page tables quadratic to build:
        // 16 % of a 1 TiB host's first seconds went to copying the pool).
        if entries.capacity < entries.count + PageTablePool.entriesPerLeaf {
            let step = max(64, leafFrame.count / 8)
            entries.reserveCapacity(entries.count + step * PageTablePool.entriesPerLeaf)
        }
        entries.append(contentsOf: repeatElement(0, count: PageTablePool.entriesPerLeaf))
        return l
    }

    public mutating func freeLeaf(_ l: Int32) -> PFN {
        let base = Int(l) << 9
        for i in base..<(base + PageTablePool.entriesPerLeaf) { entries[i] = 0 }
        let f = leafFrame[Int(l)]
        leafFrame[Int(l)] = nilFrame
        freeLeaves.append(l)
        return f
    }
}
