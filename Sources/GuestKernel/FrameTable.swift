#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
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
    //
    // Untouched memory costs nothing: every field is allocated zeroed (`calloc`: the C library
    // maps fresh zero pages, which the OS backs only when written) and a frame's initial state,
    // a tail frame of a free block never allocated, is all zeros: the links and `rmapIndex` are
    // stored XOR-ed with their initial values (`nilFrame`, `BuddyAllocator.tailMarker`), and the
    // buddy allocator keeps never-used maximal blocks out of its lists (`BuddyAllocator`).
    /// Doubly linked list links (buddy free list or LRU list).
    public let next: EncodedFrameField<PFN>
    public let prev: EncodedFrameField<PFN>
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
    public let rmapIndex: EncodedFrameField<UInt32>
    /// What the frame holds (bytes are produced from it on demand).
    public let content: UnsafeMutablePointer<PageContent>

    /// The zeroed allocations the fields point into (kept alive with the table).
    private var buffers: [AnyObject] = []

    public init(count: Int) {
        self.count = count
        var buffers: [AnyObject] = []
        func make<T>(_: T.Type, hugePages: Bool = false) -> UnsafeMutablePointer<T> {
            let b = ZeroedBuffer<T>(count: count, hugePages: hugePages)
            buffers.append(b)
            return b.base
        }
        next = EncodedFrameField(make(PFN.self), initial: nilFrame)
        prev = EncodedFrameField(make(PFN.self), initial: nilFrame)
        // The two fields every reference reads or writes at a random frame (the flags hold
        // the EPT bits; a write replaces the content descriptor) on 2 MiB pages: on a 256 GiB
        // host their 4 KiB pages missed the TLB on most references (see `HugePages`).
        flags = make(UInt16.self, hugePages: FrameTable.onHugePages)
        mapCount = make(UInt16.self)
        rmapOwner = make(RmapOwner.self)
        rmapIndex = EncodedFrameField(make(UInt32.self), initial: FrameTable.tailMarker)
        content = make(PageContent.self, hugePages: FrameTable.onHugePages)
        self.buffers = buffers
        precondition(PageContent.zero.raw == 0 && FrameUse.free.rawValue == 0, "a zeroed frame must read as a free tail frame")
    }

    /// `rmapIndex` of a free block's tail frame (`BuddyAllocator.tailMarker`).
    public static let tailMarker: UInt32 = 0xF

    /// Bytes of simulator memory per frame held by this table.
    public static let bytesPerFrame = 4 + 4 + 2 + 2 + 2 + 4 + 8
    /// Whether the hot fields (`flags`, `content`) are advised onto 2 MiB pages.
    static let onHugePages = true
    /// Bytes per frame of each field on 2 MiB pages (`flags`, `content`): the run-cost
    /// estimate counts the slack of their last, partly written huge page.
    public static let hugePageFieldBytes = onHugePages ? [MemoryLayout<UInt16>.stride, MemoryLayout<PageContent>.stride] : []

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

/// A per-frame field stored XOR-ed with its initial value, so that a zeroed allocation reads as
/// every frame holding `initial` (see `FrameTable`); reads and writes look like a pointer's.
public struct EncodedFrameField<Value: FixedWidthInteger> {
    public let storage: UnsafeMutablePointer<Value>
    public let initial: Value
    init(_ storage: UnsafeMutablePointer<Value>, initial: Value) {
        self.storage = storage
        self.initial = initial
    }
    @inlinable @inline(__always)
    public subscript(i: Int) -> Value {
        get { storage[i] ^ initial }
        nonmutating set { storage[i] = newValue ^ initial }
    }
}
