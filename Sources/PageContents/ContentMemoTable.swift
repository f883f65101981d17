import CPrefetch

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// A direct-mapped table from a page content and a 64-bit tag to a 64-bit value: the storage
/// of the memos of pure functions of page bytes (a salted hash, a compressed size).
///
/// A slot holds the content's descriptor, the tag (the VM's salt; the codec and size limit)
/// and the value, 24 bytes; a value of 0 marks an empty slot, so callers never store 0. The
/// slots are allocated zeroed (`calloc`), so the part never written costs no memory. Growing
/// keeps the entries (they are placed again in the larger table); a collision replaces the
/// older entry. Not synchronised: lookups from several threads are safe while nobody stores.
///
/// A bit per 4 KiB page of the slots records whether anything was stored there. A lookup in a
/// page never stored to is a miss without reading it: reading it first would map the kernel's
/// shared zero page, and the first store there would then take a second, copy-on-write fault
/// whose TLB flush interrupts every other core running the process (on the consolidation
/// search, with two runs at once, those flushes were about 4 % of the CPU time).
public final class ContentMemoTable: @unchecked Sendable {
    struct Entry {
        var raw: UInt64
        var tag: UInt64
        var value: UInt64
    }

    /// The fewest slots a table takes once used.
    public static let minSlots = 1 << 12
    /// The most slots this table grows to.
    public let maxSlots: Int

    private var slots: UnsafeMutablePointer<Entry>?
    /// One bit per 4 KiB page of `slots`: set once a store wrote to that page.
    private var written: UnsafeMutablePointer<UInt64>?
    private var shift: UInt64 = 64
    /// Slots allocated (a power of two, or 0 before the first `reserve`).
    public private(set) var capacity = 0

    public init(maxSlots: Int) {
        precondition(maxSlots >= ContentMemoTable.minSlots && maxSlots & (maxSlots - 1) == 0, "maxSlots must be a power of two ≥ minSlots")
        self.maxSlots = maxSlots
    }

    deinit {
        free(slots)
        free(written)
    }

    /// Bytes a slot takes.
    public static var bytesPerSlot: Int { MemoryLayout<Entry>.stride }

    /// Grows the table to at least `entries` slots (a power of two between `minSlots` and
    /// `maxSlots`), keeping what it holds; a table already that large is left alone.
    public func reserve(entries: Int) {
        var n = ContentMemoTable.minSlots
        while n < entries && n < maxSlots { n <<= 1 }
        guard n > capacity else { return }
        guard let grown = calloc(n, MemoryLayout<Entry>.stride)?.assumingMemoryBound(to: Entry.self),
            let grownWritten = calloc(ContentMemoTable.bitmapWords(slots: n), 8)?.assumingMemoryBound(to: UInt64.self)
        else { fatalError("out of memory for a memo table of \(n) slots") }
        let old = slots, oldWritten = written, oldCapacity = capacity
        slots = grown
        written = grownWritten
        capacity = n
        shift = UInt64(64 - n.trailingZeroBitCount)
        if let old, let oldWritten {
            // Only the pages stored to can hold entries.
            let stride = MemoryLayout<Entry>.stride
            for page in 0..<ContentMemoTable.pages(slots: oldCapacity) where oldWritten[page >> 6] & (1 << (page & 63)) != 0 {
                // The slots with a byte in this page (one straddling two pages is seen twice).
                let first = (page << 12) / stride
                let last = min(oldCapacity - 1, ((page + 1) << 12 - 1) / stride)
                for k in first...last where old[k].value != 0 { put(old[k]) }
            }
            free(old)
            free(oldWritten)
        }
    }

    /// The 4 KiB pages of the slots marked as stored to, ascending (for the tests).
    func pagesStoredTo() -> [Int] {
        guard written != nil else { return [] }
        return (0..<ContentMemoTable.pages(slots: capacity)).filter { isStored(page: $0) }
    }

    /// 4 KiB pages that `slots` slots span.
    private static func pages(slots: Int) -> Int { (slots * MemoryLayout<Entry>.stride + 4095) >> 12 }
    private static func bitmapWords(slots: Int) -> Int { (pages(slots: slots) + 63) >> 6 }

    /// Whether slot `i`'s bytes all lie in pages stored to (else the slot is empty).
    @inline(__always)
    private func mayHold(_ i: Int) -> Bool {
        let (first, last) = ContentMemoTable.pageSpan(ofSlot: i)
        return isStored(page: first) && isStored(page: last)
    }

    /// The first and last 4 KiB page of slot `i`'s bytes.
    @inline(__always)
    private static func pageSpan(ofSlot i: Int) -> (first: Int, last: Int) {
        let start = i &* MemoryLayout<Entry>.stride
        return (start >> 12, (start &+ MemoryLayout<Entry>.stride &- 1) >> 12)
    }

    /// Whether a store wrote to 4 KiB page `page` of the slots.
    @inline(__always)
    private func isStored(page: Int) -> Bool { written.unsafelyUnwrapped[page >> 6] & (1 << (page & 63)) != 0 }

    /// Writes `e` into its slot, marking the pages it spans as stored to.
    @inline(__always)
    private func put(_ e: Entry) {
        let i = slot(e.raw, e.tag)
        let (first, last) = ContentMemoTable.pageSpan(ofSlot: i)
        let w = written.unsafelyUnwrapped
        w[first >> 6] |= 1 << (first & 63)
        w[last >> 6] |= 1 << (last & 63)
        slots.unsafelyUnwrapped[i] = e
    }

    @inline(__always)
    func slot(_ raw: UInt64, _ tag: UInt64) -> Int {
        Int(truncatingIfNeeded: ((raw ^ (tag &* 0xC2B2_AE3D_27D4_EB4F)) &* 0x9E37_79B9_7F4A_7C15) >> shift)
    }

    /// The value stored for `raw` under `tag`, or nil.
    @inline(__always)
    public func lookup(_ raw: UInt64, tag: UInt64) -> UInt64? {
        guard let s = slots else { return nil }
        let i = slot(raw, tag)
        guard mayHold(i) else { return nil }
        let e = s[i]
        return e.value != 0 && e.raw == raw && e.tag == tag ? e.value : nil
    }

    /// Looks up `count` keys under one `tag` at once: every slot's cache lines are requested
    /// before any is read, so that the misses of a batch overlap instead of following one
    /// another. `values[k]` is the value stored for `raws[k]`, or 0.
    public func lookup(_ raws: UnsafePointer<UInt64>, count: Int, tag: UInt64, into values: UnsafeMutablePointer<UInt64>) {
        guard let s = slots else {
            values.update(repeating: 0, count: count)
            return
        }
        for k in 0..<count {
            let i = slot(raws[k], tag)
            if mayHold(i) {
                oc_prefetch(s + i)
                oc_prefetch(UnsafeRawPointer(s + i) + (MemoryLayout<Entry>.stride - 1))
            }
        }
        for k in 0..<count {
            let i = slot(raws[k], tag)
            guard mayHold(i) else {
                values[k] = 0
                continue
            }
            let e = s[i]
            values[k] = e.value != 0 && e.raw == raws[k] && e.tag == tag ? e.value : 0
        }
    }

    /// Stores `value` (not 0) for `raw` under `tag`, replacing the slot's entry; does nothing
    /// before the first `reserve`.
    @inline(__always)
    public func store(_ raw: UInt64, tag: UInt64, value: UInt64) {
        guard slots != nil, value != 0 else { return }
        put(Entry(raw: raw, tag: tag, value: value))
    }
}
