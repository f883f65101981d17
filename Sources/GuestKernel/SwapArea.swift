import PageContents

/// A swap area: an array of page slots with per-slot reference counts (Linux's `swap_map`)
/// and the swap cache.
///
/// `swapMap[slot]` counts the page-table entries (and shmem page-cache entries) that hold
/// the slot. A slot is free when that count is zero and no frame is in the swap cache for
/// it. The swap cache keeps a swapped-in page attached to its slot until the page is written,
/// so a page that was only read can be evicted again without another write (seed 003).
///
/// The per-slot arrays grow to the highest slot ever allocated (`SlotArray`), not to the
/// configured size: a 1 TiB swap area that holds 2 GiB costs what 2 GiB of slots cost
/// (18 bytes per slot), as Linux's swap_map is only read for slots in use. Slots never
/// allocated read as free.
public struct SwapArea {
    public let slotCount: Int
    /// References to each slot from PTEs / shmem entries.
    public var swapMap: SlotArray<UInt16>
    /// What was written to each slot.
    public var slotContent: SlotArray<PageContent>
    /// The swap-cache frame of each slot, or `nilFrame`.
    public var slotFrame: SlotArray<PFN>
    /// Eviction stamp of the page written to the slot (for refault distance), Linux's shadow entry.
    public var slotShadow: SlotArray<UInt32>
    public private(set) var usedSlots = 0
    private var cursor = 0

    public init(slots: Int) {
        slotCount = slots
        swapMap = SlotArray(fill: 0)
        slotContent = SlotArray(fill: .zero)
        slotFrame = SlotArray(fill: nilFrame)
        slotShadow = SlotArray(fill: 0)
    }

    /// Bytes of simulator memory the slot arrays hold.
    public var capacityBytes: Int {
        swapMap.capacityBytes + slotContent.capacityBytes + slotFrame.capacityBytes + slotShadow.capacityBytes
    }

    public var freeSlots: Int { slotCount - usedSlots }

    @inline(__always) public func isFree(_ s: Int) -> Bool { swapMap[s] == 0 && slotFrame[s] == nilFrame }

    /// Takes a free slot (next-fit from a rotating cursor, like the kernel's cluster scan).
    public mutating func allocate() -> UInt32? {
        guard usedSlots < slotCount else { return nil }
        var i = cursor
        for _ in 0..<slotCount {
            if isFree(i) {
                cursor = i + 1 == slotCount ? 0 : i + 1
                usedSlots += 1
                return UInt32(i)
            }
            i += 1
            if i == slotCount { i = 0 }
        }
        return nil
    }

    /// Marks a slot free again if nothing refers to it. Call after dropping a reference.
    /// Returns whether the slot was freed.
    @discardableResult
    public mutating func releaseIfUnused(_ s: UInt32) -> Bool {
        let i = Int(s)
        guard swapMap[i] == 0 && slotFrame[i] == nilFrame else { return false }
        usedSlots -= 1
        slotContent[i] = .zero
        return true
    }

    /// Problems with the area's own bookkeeping (counts only; references are checked by the kernel).
    public func checkInvariants() -> [String] {
        var used = 0
        for i in 0..<slotCount where !isFree(i) { used += 1 }
        return used == usedSlots ? [] : ["swap: usedSlots \(usedSlots) but \(used) slots are referenced"]
    }
}

/// Per-slot storage that grows to the highest slot written: a slot never written reads as
/// `fill`. Reads beyond the end (swap read-ahead around a slot, the invariant checks) cost
/// nothing.
public struct SlotArray<Element> {
    private var storage: [Element] = []
    private let fill: Element

    public init(fill: Element) { self.fill = fill }

    @inline(__always)
    public subscript(i: Int) -> Element {
        get { i < storage.count ? storage[i] : fill }
        set {
            if i >= storage.count { storage.append(contentsOf: repeatElement(fill, count: i + 1 - storage.count)) }
            storage[i] = newValue
        }
    }

    /// Bytes of simulator memory held.
    public var capacityBytes: Int { storage.capacity * MemoryLayout<Element>.stride }
}
