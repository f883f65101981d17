import OvercommitSupport
import PageContents

/// Guest-physical frame number (Linux's pfn), an index into the guest's `FrameTable`.
public typealias PFN = UInt32
/// Guest virtual page number (address >> 12) inside one process.
public typealias VPN = UInt64

/// "No frame" / end of a list.
public let nilFrame: PFN = .max

/// The reverse-map owner of a frame: an anon_vma family id or a file id (16 bits, so at most
/// 65536 of each live at once; ids are recycled).
public typealias RmapOwner = UInt16

/// What a guest-physical frame is used for. Values are stored in the low 4 bits of
/// `FrameTable.flags`; they follow the lists of Linux's `struct lruvec` plus the buddy.
public enum FrameUse: UInt16, CaseIterable, Sendable, CustomStringConvertible {
    /// In the buddy allocator's free lists.
    case free = 0
    case activeAnon = 1
    case inactiveAnon = 2
    case activeFile = 3
    case inactiveFile = 4
    /// mlocked (Linux's unevictable list).
    case unevictable = 5
    /// Pinned by the balloon driver.
    case balloon = 6
    /// Kernel memory: the zero page, kernel text/data, slab.
    case kernel = 7
    /// A page-table page (a 512-entry PTE leaf).
    case pageTable = 8
    /// Allocated and not yet on a list (being faulted in or isolated by reclaim).
    case isolated = 9

    public var description: String {
        switch self {
        case .free: "free"; case .activeAnon: "active_anon"; case .inactiveAnon: "inactive_anon"
        case .activeFile: "active_file"; case .inactiveFile: "inactive_file"; case .unevictable: "unevictable"
        case .balloon: "balloon"; case .kernel: "kernel"; case .pageTable: "page_table"; case .isolated: "isolated"
        }
    }
    /// True for the four LRU lists.
    public var isLRU: Bool { (1...4).contains(rawValue) }
}

/// Per-frame flags, after Linux's `page->flags` (PG_referenced, PG_dirty, PG_swapcache...).
public enum FrameFlag {
    /// Low 4 bits: `FrameUse`.
    public static let useMask: UInt16 = 0x000F
    /// Bits 4-6: the frame's EPT entry, which belongs to the host, not to the guest: read and
    /// write permission granted by the hypervisor, and the hardware accessed bit (see
    /// `GuestKernel.ept`). Kept in the same word to save a byte per frame; every guest-side
    /// update of the flags preserves these bits. Bit 7 is unused.
    public static let eptShift: UInt16 = 4
    public static let eptMask: UInt16 = 0x0070
    /// PG_referenced: seen accessed once by the LRU scan; a second sighting promotes.
    public static let referenced: UInt16 = 1 << 8
    /// The hardware accessed (young) bit, aggregated over all mappings of the frame.
    public static let accessed: UInt16 = 1 << 9
    /// PG_dirty: the contents differ from the backing store (file or swap slot).
    public static let dirty: UInt16 = 1 << 10
    /// PG_swapcache: the frame is in the swap cache (has a swap slot).
    public static let swapCache: UInt16 = 1 << 11
    /// Anonymous memory (otherwise page cache).
    public static let anon: UInt16 = 1 << 12
    /// PG_writeback: being written to its backing store.
    public static let writeback: UInt16 = 1 << 13
    /// PG_mlocked.
    public static let mlocked: UInt16 = 1 << 14
    /// Mapped by at least one shared (MAP_SHARED) mapping.
    public static let sharedMapping: UInt16 = 1 << 15
}

/// Compact per-frame state of one guest's physical memory, one flat array per field.
///
/// Linux keeps a 64-byte `struct page` per frame; this keeps 26 bytes in seven parallel
/// arrays indexed by PFN. As in Linux, fields are reused by state: the `next`/`prev` links
/// serve the buddy free lists while a frame is free and the LRU lists while it is in use
/// (`page->lru`), and `rmapIndex` holds the buddy order of a free block's head while the
/// frame is free (`page->private`, `set_buddy_order()`).
public final class FrameTable {
    /// Number of guest-physical frames.
    public let count: Int
    // Each field is one flat allocation indexed by PFN. Raw pointers rather than arrays: the
    // access path writes these on every reference, and array writes through a class pay a
    // uniqueness check each time (measured ~5 % of the access path with perf).
    /// Doubly linked list links (buddy free list or LRU list).
    public let next: UnsafeMutablePointer<PFN>
    public let prev: UnsafeMutablePointer<PFN>
    /// `FrameFlag` bits and the `FrameUse` in the low bits.
    public let flags: UnsafeMutablePointer<UInt16>
    /// Number of page-table entries mapping the frame (Linux's `_mapcount` + 1).
    public let mapCount: UnsafeMutablePointer<UInt16>
    /// Reverse map: for anonymous frames the anon_vma (process family) id; for page-cache
    /// frames the file id.
    public let rmapOwner: UnsafeMutablePointer<RmapOwner>
    /// Reverse map: for anonymous frames the virtual page number inside the family's
    /// address spaces; for page-cache frames the page index in the file. For free frames,
    /// the buddy order of a block head (`BuddyAllocator.tailMarker` on its tail frames).
    public let rmapIndex: UnsafeMutablePointer<UInt32>
    /// What the frame holds (bytes are produced from it on demand).
    public let content: UnsafeMutablePointer<PageContent>

    public init(count: Int) {
        self.count = count
        func make<T>(_ v: T) -> UnsafeMutablePointer<T> {
            let p = UnsafeMutablePointer<T>.allocate(capacity: Swift.max(1, count))
            p.initialize(repeating: v, count: Swift.max(1, count))
            return p
        }
        next = make(nilFrame)
        prev = make(nilFrame)
        flags = make(0)
        mapCount = make(0)
        rmapOwner = make(0)
        rmapIndex = make(0)
        content = make(PageContent.zero)
    }

    deinit {
        next.deallocate(); prev.deallocate(); flags.deallocate(); mapCount.deallocate()
        rmapOwner.deallocate(); rmapIndex.deallocate(); content.deallocate()
    }

    /// Bytes of simulator memory per frame held by this table.
    public static let bytesPerFrame = 4 + 4 + 2 + 2 + 2 + 4 + 8

    @inlinable @inline(__always)
    public func use(_ pfn: PFN) -> FrameUse {
        FrameUse(rawValue: flags[Int(pfn)] & FrameFlag.useMask) ?? .isolated
    }
    /// Replaces every guest-owned flag (use included) and keeps the host's EPT bits.
    @inlinable @inline(__always)
    public func resetFlags(_ pfn: PFN, _ value: UInt16) {
        let i = Int(pfn)
        flags[i] = (flags[i] & FrameFlag.eptMask) | value
    }
    @inlinable @inline(__always)
    public func setUse(_ pfn: PFN, _ use: FrameUse) {
        let i = Int(pfn)
        flags[i] = (flags[i] & ~FrameFlag.useMask) | use.rawValue
    }
    @inlinable @inline(__always)
    public func has(_ pfn: PFN, _ flag: UInt16) -> Bool { flags[Int(pfn)] & flag != 0 }
    @inlinable @inline(__always)
    public func set(_ pfn: PFN, _ flag: UInt16) { flags[Int(pfn)] |= flag }
    @inlinable @inline(__always)
    public func clear(_ pfn: PFN, _ flag: UInt16) { flags[Int(pfn)] &= ~flag }
}

/// An intrusive doubly linked list threaded through a `FrameTable`'s `next`/`prev` arrays.
///
/// Used for the buddy free lists and the LRU lists. The head is the most recently added
/// end (Linux adds to the head of the LRU and scans from the tail).
public struct FrameList: Sendable {
    public private(set) var head: PFN = nilFrame
    public private(set) var tail: PFN = nilFrame
    public private(set) var count: Int = 0
    public init() {}

    /// Adds at the head.
    @inline(__always)
    public mutating func pushHead(_ pfn: PFN, in t: FrameTable) {
        let i = Int(pfn)
        t.prev[i] = nilFrame
        t.next[i] = head
        if head != nilFrame { t.prev[Int(head)] = pfn } else { tail = pfn }
        head = pfn
        count += 1
    }

    /// Adds at the tail.
    @inline(__always)
    public mutating func pushTail(_ pfn: PFN, in t: FrameTable) {
        let i = Int(pfn)
        t.next[i] = nilFrame
        t.prev[i] = tail
        if tail != nilFrame { t.next[Int(tail)] = pfn } else { head = pfn }
        tail = pfn
        count += 1
    }

    /// Unlinks a frame that is on this list.
    @inline(__always)
    public mutating func remove(_ pfn: PFN, in t: FrameTable) {
        let i = Int(pfn)
        let n = t.next[i], p = t.prev[i]
        if p != nilFrame { t.next[Int(p)] = n } else { head = n }
        if n != nilFrame { t.prev[Int(n)] = p } else { tail = p }
        t.next[i] = nilFrame; t.prev[i] = nilFrame
        count -= 1
    }

    /// Removes and returns the tail (the coldest end), or nil when empty.
    @inline(__always)
    public mutating func popTail(in t: FrameTable) -> PFN? {
        guard tail != nilFrame else { return nil }
        let p = tail
        remove(p, in: t)
        return p
    }

    /// Removes and returns the head, or nil when empty.
    @inline(__always)
    public mutating func popHead(in t: FrameTable) -> PFN? {
        guard head != nilFrame else { return nil }
        let p = head
        remove(p, in: t)
        return p
    }

    /// The frames from head to tail (for checks and tests; O(n)).
    public func frames(in t: FrameTable) -> [PFN] {
        var out: [PFN] = []
        out.reserveCapacity(count)
        var p = head
        while p != nilFrame { out.append(p); p = t.next[Int(p)] }
        return out
    }
}

/// The EPT entries of a guest's frames, as 3-bit values (bit 0 read, bit 1 write, bit 2
/// accessed) read from and written to `FrameFlag.eptMask` of the frame table's flags.
///
/// The EPT (Intel's extended page tables; AMD's nested page tables) is the hypervisor's
/// guest-physical to machine translation: the hardware walks it on a TLB miss and sets the
/// accessed bit; the host grants and revokes permissions. The guest kernel never reads it.
public struct EPTEntries {
    @usableFromInline let flags: UnsafeMutablePointer<UInt16>
    @inlinable init(flags: UnsafeMutablePointer<UInt16>) { self.flags = flags }

    @inlinable
    public subscript(pfn: Int) -> UInt8 {
        @inline(__always) get { UInt8(truncatingIfNeeded: (flags[pfn] & FrameFlag.eptMask) >> FrameFlag.eptShift) }
        @inline(__always) nonmutating set {
            flags[pfn] = (flags[pfn] & ~FrameFlag.eptMask) | (UInt16(newValue & 7) << FrameFlag.eptShift)
        }
    }
}
