import PageContents

/// The compressed copies of swapped pages a guest keeps in its own RAM: zswap's entries
/// (Linux mm/zswap.c, one per swap slot, in front of the swap device) or a zram device's
/// table (drivers/block/zram, one per sector of the device), with the zsmalloc pool that
/// holds them and the guest frames that pool occupies.
///
/// An entry records the length the real codec gave (or that the page was same-filled), not
/// the compressed bytes: the slot's content descriptor (`SwapArea.slotContent`) regenerates
/// them, and with `--check` every load compresses and decompresses them again and compares
/// length and bytes. A guest uses one kind at a time (`mode`).
public struct CompressedSwap {
    /// What the store is.
    public enum Mode: Sendable { case none, zswap, zram }
    public let mode: Mode

    /// Per slot: 0 no entry, 1 same-filled (no pool memory), otherwise the stored length + 2
    /// (a zram huge page is stored as 4096 bytes).
    var entry: SlotArray<UInt16>
    /// zswap's LRU (store order): slots with the sequence number they were stored with; an
    /// element whose number no longer matches `entrySeq` is stale and skipped.
    var lru: [(slot: UInt32, seq: UInt32)] = []
    var lruHead = 0
    var entrySeq: SlotArray<UInt32>
    var nextSeq: UInt32 = 1
    /// The zsmalloc pool's page accounting.
    public internal(set) var pool = ZsmallocPool()
    /// The guest frames the pool occupies (`pool.pages` of them), most recently added last.
    public internal(set) var frames: [PFN] = []
    /// Entries (same-filled ones included): zswap's stored_pages, zram's pages_stored.
    public internal(set) var storedPages = 0
    /// Same-filled entries: zswap's same_filled_pages, zram's same_pages.
    public internal(set) var sameFilledPages = 0
    /// Compressed bytes stored (zram's compr_data_size).
    public internal(set) var compressedBytes = 0
    /// Pages zram stores uncompressed (huge_pages).
    public internal(set) var hugePages = 0
    /// zswap_pool_reached_full: stores are refused until the pool drops to the accept threshold.
    var reachedFull = false

    init(mode: Mode) {
        self.mode = mode
        entry = SlotArray(fill: 0)
        entrySeq = SlotArray(fill: 0)
    }

    /// Whether `slot` has an entry.
    @inline(__always) public func has(_ slot: Int) -> Bool { entry[slot] != 0 }

    /// The stored length of `slot`'s entry (0 for a same-filled page); nil without one.
    public func storedLength(_ slot: Int) -> Int? {
        let e = Int(entry[slot])
        return e == 0 ? nil : e == 1 ? 0 : e - 2
    }

    /// Records an entry of `length` bytes (nil: same-filled) for `slot`. The pool's frames
    /// are the caller's.
    mutating func insert(_ slot: Int, length: Int?) {
        precondition(entry[slot] == 0, "slot \(slot) already has a compressed entry")
        storedPages += 1
        if let n = length {
            entry[slot] = UInt16(n + 2)
            pool.add(length: n)
            compressedBytes += n
            if n >= pageSize { hugePages += 1 }
        } else {
            entry[slot] = 1
            sameFilledPages += 1
        }
        if mode == .zswap {
            entrySeq[slot] = nextSeq
            lru.append((UInt32(slot), nextSeq))
            nextSeq &+= 1
        }
    }

    /// Frees `slot`'s entry if it has one; returns whether it had.
    @discardableResult
    mutating func remove(_ slot: Int) -> Bool {
        guard let n = storedLength(slot) else { return false }
        storedPages -= 1
        if entry[slot] == 1 {
            sameFilledPages -= 1
        } else {
            pool.remove(length: n)
            compressedBytes -= n
            if n >= pageSize { hugePages -= 1 }
        }
        entry[slot] = 0
        entrySeq[slot] = 0
        if lruHead > 4096 && lruHead * 2 > lru.count {
            lru.removeFirst(lruHead)
            lruHead = 0
        }
        return true
    }

    /// The least recently stored entry (zswap's LRU tail), if any.
    mutating func oldest() -> Int? {
        while lruHead < lru.count {
            let (s, q) = lru[lruHead]
            if entrySeq[Int(s)] == q && entry[Int(s)] != 0 { return Int(s) }
            lruHead += 1
        }
        return nil
    }

    /// Bytes of simulator memory held.
    public var capacityBytes: Int {
        entry.capacityBytes + entrySeq.capacityBytes + lru.capacity * MemoryLayout<(UInt32, UInt32)>.stride + frames.capacity * MemoryLayout<PFN>.stride
    }
}
