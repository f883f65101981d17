/// Open addressing with linear probing over 32-bit values whose keys are kept elsewhere
/// (a page reference's checksum, a shared frame's hash): the sharing scanner's unstable
/// table and its stable index. A slot costs 4 bytes; the key of a value is asked for only
/// to move entries (deletion, growth). Deletion shifts later entries back (no tombstones);
/// the table grows by half when it would pass `maxLoadPer20` entries per 20 slots.
struct ProbeTable {
    private(set) var slots: [UInt32]
    private(set) var count = 0
    /// Most entries per 20 slots before growing (17: 85 %; 15: 75 %).
    let maxLoadPer20: Int
    static let empty: UInt32 = .max

    init(slots: Int, maxLoadPer20: Int) {
        self.slots = Array(repeating: ProbeTable.empty, count: slots)
        self.maxLoadPer20 = maxLoadPer20
    }

    /// Home slot of a key: the key is mixed, then mapped onto the table's size by
    /// multiply-shift (any size, so the table can grow by half rather than doubling).
    @inline(__always) func home(_ key: UInt64) -> Int {
        let mixed = (key &* 0x9E37_79B9_7F4A_7C15) >> 32
        return Int(truncatingIfNeeded: (mixed &* UInt64(slots.count)) >> 32)
    }

    /// The slot after `slot`, wrapping around.
    @inline(__always) func next(_ slot: Int) -> Int { slot + 1 == slots.count ? 0 : slot + 1 }

    /// Puts `value` in the first empty slot from its key's home (growing first if needed).
    mutating func insert(_ value: UInt32, key: UInt64, keyOf: (UInt32) -> UInt64) {
        if (count + 1) * 20 > slots.count * maxLoadPer20 { grow(keyOf: keyOf) }
        var slot = home(key)
        while slots[slot] != ProbeTable.empty { slot = next(slot) }
        slots[slot] = value
        count += 1
    }

    /// Replaces the value at an occupied `slot`.
    mutating func replace(at slot: Int, with value: UInt32) { slots[slot] = value }

    /// Empties `slot`, moving back each later entry of the run whose home is not in
    /// (hole, entry] (backward-shift deletion).
    mutating func remove(at start: Int, keyOf: (UInt32) -> UInt64) {
        let n = slots.count
        var hole = start
        var k = next(hole)
        while slots[k] != ProbeTable.empty {
            let h = home(keyOf(slots[k]))
            if (k - h + n) % n >= (k - hole + n) % n {
                slots[hole] = slots[k]
                hole = k
            }
            k = next(k)
        }
        slots[hole] = ProbeTable.empty
        count -= 1
    }

    /// Empties every slot (the size stays).
    mutating func removeAll() {
        for k in slots.indices { slots[k] = ProbeTable.empty }
        count = 0
    }

    private mutating func grow(keyOf: (UInt32) -> UInt64) {
        let old = slots
        slots = Array(repeating: ProbeTable.empty, count: old.count + old.count / 2)
        for v in old where v != ProbeTable.empty {
            var slot = home(keyOf(v))
            while slots[slot] != ProbeTable.empty { slot = next(slot) }
            slots[slot] = v
        }
    }

    /// The values in slot order.
    var entries: [UInt32] { slots.filter { $0 != ProbeTable.empty } }
}
