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
    private var shift: UInt64 = 64
    /// Slots allocated (a power of two, or 0 before the first `reserve`).
    public private(set) var capacity = 0

    public init(maxSlots: Int) {
        precondition(maxSlots >= ContentMemoTable.minSlots && maxSlots & (maxSlots - 1) == 0, "maxSlots must be a power of two ≥ minSlots")
        self.maxSlots = maxSlots
    }

    deinit { free(slots) }

    /// Bytes a slot takes.
    public static var bytesPerSlot: Int { MemoryLayout<Entry>.stride }

    /// Grows the table to at least `entries` slots (a power of two between `minSlots` and
    /// `maxSlots`), keeping what it holds; a table already that large is left alone.
    public func reserve(entries: Int) {
        var n = ContentMemoTable.minSlots
        while n < entries && n < maxSlots { n <<= 1 }
        guard n > capacity else { return }
        guard let grown = calloc(n, MemoryLayout<Entry>.stride)?.assumingMemoryBound(to: Entry.self) else { return }
        let old = slots, oldCapacity = capacity
        slots = grown
        capacity = n
        shift = UInt64(64 - n.trailingZeroBitCount)
        if let old {
            for k in 0..<oldCapacity where old[k].value != 0 { grown[slot(old[k].raw, old[k].tag)] = old[k] }
            free(old)
        }
    }

    @inline(__always)
    private func slot(_ raw: UInt64, _ tag: UInt64) -> Int {
        Int(truncatingIfNeeded: ((raw ^ (tag &* 0xC2B2_AE3D_27D4_EB4F)) &* 0x9E37_79B9_7F4A_7C15) >> shift)
    }

    /// The value stored for `raw` under `tag`, or nil.
    @inline(__always)
    public func lookup(_ raw: UInt64, tag: UInt64) -> UInt64? {
        guard let s = slots else { return nil }
        let e = s[slot(raw, tag)]
        return e.value != 0 && e.raw == raw && e.tag == tag ? e.value : nil
    }

    /// Stores `value` (not 0) for `raw` under `tag`, replacing the slot's entry; does nothing
    /// before the first `reserve`.
    @inline(__always)
    public func store(_ raw: UInt64, tag: UInt64, value: UInt64) {
        guard let s = slots, value != 0 else { return }
        s[slot(raw, tag)] = Entry(raw: raw, tag: tag, value: value)
    }
}
