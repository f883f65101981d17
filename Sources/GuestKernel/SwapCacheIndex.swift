/// The swap cache's frame → slot map: which swap slot a swap-cache frame is attached to.
///
/// Linux keeps the slot in the folio itself (`folio->swap`, set by `add_to_swap_cache`); the
/// guest's frame table has no spare field for it, so this index holds the frames that are in
/// the swap cache (a small part of memory) in an open-addressed table: one 8-byte slot per
/// entry (frame and swap slot), linear probing from a multiplicative hash of the frame,
/// backward-shift deletion (no tombstones), doubled when it would pass 3/4 full. A guest
/// swapping hard looks a frame up on every swap-in, write-protect fault and eviction of a
/// swap-cache page; a `Dictionary` spent most of that in hashing and probing.
///
/// Iteration visits the entries in table order, which depends on the order of insertions and
/// removals only (no per-process hash seed); every caller's result is independent of it.
struct SwapCacheIndex: Sequence {
    private var table: [UInt64]
    private var shift: UInt64
    private(set) var count = 0
    private static let empty = UInt64.max
    private static let initialSlots = 64

    init() {
        table = Array(repeating: SwapCacheIndex.empty, count: SwapCacheIndex.initialSlots)
        shift = UInt64(64 - SwapCacheIndex.initialSlots.trailingZeroBitCount)
    }

    /// Slots allocated.
    var capacity: Int { table.count }

    /// Bytes of simulator memory the table holds.
    var footprintBytes: Int { table.count * MemoryLayout<UInt64>.stride }

    @inline(__always) private func home(_ frame: PFN) -> Int { Int(truncatingIfNeeded: (UInt64(frame) &* 0x9E37_79B9_7F4A_7C15) >> shift) }
    @inline(__always) private func next(_ k: Int) -> Int { (k + 1) & (table.count - 1) }
    @inline(__always) private static func frame(of entry: UInt64) -> PFN { PFN(truncatingIfNeeded: entry >> 32) }

    /// The table position holding `frame`, or nil.
    @inline(__always) private func position(of frame: PFN) -> Int? {
        var k = home(frame)
        while true {
            let e = table[k]
            if e == SwapCacheIndex.empty { return nil }
            if SwapCacheIndex.frame(of: e) == frame { return k }
            k = next(k)
        }
    }

    /// The slot `frame` is attached to; setting nil detaches it.
    subscript(frame: PFN) -> UInt32? {
        get { position(of: frame).map { UInt32(truncatingIfNeeded: table[$0]) } }
        set {
            precondition(frame != nilFrame, "nilFrame cannot be in the swap cache")
            if let slot = newValue {
                let entry = UInt64(frame) << 32 | UInt64(slot)
                // One probe: the frame's entry if it has one, else the empty position ending its run.
                var k = home(frame)
                while table[k] != SwapCacheIndex.empty {
                    if SwapCacheIndex.frame(of: table[k]) == frame {
                        table[k] = entry
                        return
                    }
                    k = next(k)
                }
                if (count + 1) * 4 > table.count * 3 {
                    grow()
                    k = home(frame)
                    while table[k] != SwapCacheIndex.empty { k = next(k) }
                }
                table[k] = entry
                count += 1
            } else if let k = position(of: frame) {
                remove(at: k)
            }
        }
    }

    /// Empties position `start`, moving back each later entry of its run whose home is not in
    /// (hole, entry].
    private mutating func remove(at start: Int) {
        let mask = table.count - 1
        var hole = start
        var k = next(hole)
        while table[k] != SwapCacheIndex.empty {
            let h = home(SwapCacheIndex.frame(of: table[k]))
            if (k - h) & mask >= (k - hole) & mask {
                table[hole] = table[k]
                hole = k
            }
            k = next(k)
        }
        table[hole] = SwapCacheIndex.empty
        count -= 1
    }

    private mutating func grow() {
        let old = table
        table = Array(repeating: SwapCacheIndex.empty, count: old.count * 2)
        shift -= 1
        for e in old where e != SwapCacheIndex.empty {
            var k = home(SwapCacheIndex.frame(of: e))
            while table[k] != SwapCacheIndex.empty { k = next(k) }
            table[k] = e
        }
    }

    /// The entries as (frame, slot), in table order.
    struct Iterator: IteratorProtocol {
        fileprivate let table: [UInt64]
        fileprivate var k = 0

        mutating func next() -> (key: PFN, value: UInt32)? {
            while k < table.count {
                let e = table[k]
                k += 1
                if e != SwapCacheIndex.empty { return (SwapCacheIndex.frame(of: e), UInt32(truncatingIfNeeded: e)) }
            }
            return nil
        }
    }

    func makeIterator() -> Iterator { Iterator(table: table) }
}
