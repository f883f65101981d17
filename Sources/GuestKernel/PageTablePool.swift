#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Pool of 512-entry page-table leaves shared by every process of one guest.
///
/// Each process keeps a directory (`[Int32]`, one entry per 2 MiB of its address space)
/// pointing at leaves in this pool; every leaf is backed by one guest frame
/// (`FrameUse.pageTable`), so page tables cost guest memory and count in the OOM badness,
/// as they do in Linux.
///
/// The entries are one manually managed buffer, like the frame table's columns: the access
/// path reads an entry for every simulated reference, and the kernel holds the pool as a
/// `let`, so reading an entry takes no reference count (an `Array` in a mutable property
/// was retained and released around each prefetch hint: 10 % of a 256 GiB host's steady
/// state). Entries are addressed by `leaf << 9 | index`; nothing outside `0..<entryCount` is
/// ever read.
public final class PageTablePool {
    public static let entriesPerLeaf = 512
    /// All leaves, back to back (`entryCount` entries valid, `entryCapacity` allocated).
    public private(set) var entries: UnsafeMutablePointer<UInt32>
    public private(set) var entryCount = 0
    public private(set) var entryCapacity = 0
    /// The guest frame backing each leaf.
    public private(set) var leafFrame: [PFN] = []
    /// Leaves returned by exiting processes, reused first (lowest index last-in-first-out).
    public private(set) var freeLeaves: [Int32] = []

    public init() {
        entries = malloc(MemoryLayout<UInt32>.stride)!.bindMemory(to: UInt32.self, capacity: 1)
    }

    deinit { free(entries) }

    /// Number of leaves in use.
    public var leavesInUse: Int { leafFrame.count - freeLeaves.count }

    public func allocateLeaf(frame: PFN) -> Int32 {
        if let l = freeLeaves.popLast() {
            leafFrame[Int(l)] = frame
            return l
        }
        let l = Int32(leafFrame.count)
        leafFrame.append(frame)
        // Grow by an eighth (at least 64 leaves), not by doubling: the pool is the largest
        // per-page structure after the frame table, and doubling would leave up to half of it
        // unused; an eighth wastes at most 12.5 % (a fixed step of 64 leaves made a large
        // process's page tables quadratic to build: 16 % of a 1 TiB host's first seconds
        // went to copying the pool). `realloc` moves a large pool by remapping its pages
        // rather than copying them, and the part reserved but not yet used is never written,
        // so it costs no memory.
        if entryCapacity < entryCount + PageTablePool.entriesPerLeaf {
            let step = max(64, leafFrame.count / 8)
            let capacity = entryCount + step * PageTablePool.entriesPerLeaf
            guard let grown = realloc(entries, capacity * MemoryLayout<UInt32>.stride) else {
                fatalError("page-table pool: out of memory growing to \(capacity) entries")
            }
            entries = grown.bindMemory(to: UInt32.self, capacity: capacity)
            entryCapacity = capacity
        }
        (entries + entryCount).initialize(repeating: 0, count: PageTablePool.entriesPerLeaf)
        entryCount += PageTablePool.entriesPerLeaf
        return l
    }

    /// Clears `PTE.hostBit` in every present entry (INVEPT of every cached translation);
    /// other entries (swap entries use that bit for their slot) are left as they are.
    public func dropHostTranslations() {
        let e = entries
        for i in 0..<entryCount {
            let v = e[i]
            // All ones for a present entry, zero otherwise: branch-free, so the loop vectorises.
            let present = 0 &- (v >> 31)
            e[i] = v & ~(PTE.hostBit & present)
        }
    }

    public func freeLeaf(_ l: Int32) -> PFN {
        (entries + Int(l) << 9).update(repeating: 0, count: PageTablePool.entriesPerLeaf)
        let f = leafFrame[Int(l)]
        leafFrame[Int(l)] = nilFrame
        freeLeaves.append(l)
        return f
    }
}
