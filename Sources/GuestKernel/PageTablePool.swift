#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import OvercommitSupport

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
///
/// The buffer is a `HugePageRegion`: address space reserved ahead, backed by the OS only as
/// the pool grows into it, and put on 2 MiB pages once the pool holds two of them. The entry
/// is the first thing a reference loads, at a random place of megabytes of page tables, and
/// with 4 KiB pages that load waited on a page walk (a 256 GiB host's steady state: 30 % of
/// the samples on the prefetch hint of the entry). A small pool stays on 4 KiB pages, so a
/// small guest does not hold a mostly empty 2 MiB page.
public final class PageTablePool {
    public static let entriesPerLeaf = 512
    /// All leaves, back to back (`entryCount` entries valid, `entryCapacity` reserved).
    public private(set) var entries: UnsafeMutablePointer<UInt32>
    public private(set) var entryCount = 0
    /// Entries the reserved address space holds.
    public var entryCapacity: Int { region.reserved / PageTablePool.entryBytes }
    /// The guest frame backing each leaf.
    public private(set) var leafFrame: [PFN] = []
    /// Leaves returned by exiting processes, reused first (lowest index last-in-first-out).
    public private(set) var freeLeaves: [Int32] = []

    /// The reserved address space `entries` points into.
    private let region: HugePageRegion

    /// A pool with address space reserved for `reserveEntries` entries (at least one huge
    /// page's worth); it moves to twice its reservation if it ever outgrows it.
    public init(reserveEntries: Int = 0) {
        region = HugePageRegion(reserving: reserveEntries * PageTablePool.entryBytes)
        entries = region.base.bindMemory(to: UInt32.self, capacity: region.reserved / PageTablePool.entryBytes)
    }

    /// Bytes the OS backs for the leaves written so far (entries are written from the start of
    /// the region, and a freed leaf stays written).
    public var residentBytes: Int { region.residentBytes(used: entryCount * PageTablePool.entryBytes) }

    /// Bytes per entry: the run-cost estimate counts the slack of the pool's last huge page.
    public static let entryBytes = MemoryLayout<UInt32>.stride
    /// The pool goes on huge pages once its entries fill this many bytes (two huge pages, as
    /// for the frame table's fields: `FrameTable.onHugePages`).
    public static let hugePagesFromBytes = 2 * HugePages.size

    /// Number of leaves in use.
    public var leavesInUse: Int { leafFrame.count - freeLeaves.count }

    public func allocateLeaf(frame: PFN) -> Int32 {
        if let l = freeLeaves.popLast() {
            leafFrame[Int(l)] = frame
            return l
        }
        let l = Int32(leafFrame.count)
        leafFrame.append(frame)
        // The reservation (two entries per guest frame from the kernel) is address space only,
        // so outgrowing it, which moves the pool, is rare and doubling it costs no memory.
        if entryCapacity < entryCount + PageTablePool.entriesPerLeaf {
            region.reserve((entryCount + PageTablePool.entriesPerLeaf) * PageTablePool.entryBytes, preserving: entryCount * PageTablePool.entryBytes)
            entries = region.base.bindMemory(to: UInt32.self, capacity: entryCapacity)
        }
        (entries + entryCount).initialize(repeating: 0, count: PageTablePool.entriesPerLeaf)
        entryCount += PageTablePool.entriesPerLeaf
        if entryCount * PageTablePool.entryBytes >= PageTablePool.hugePagesFromBytes {
            region.adviseHugePages(from: entryCount * PageTablePool.entryBytes)
        }
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
