import OvercommitSupport

/// A VM's host-paging candidates: the guest pages that became private since they were last
/// picked, from which host paging draws its victims at random (ESX picks swap victims at
/// random: the host cannot know which pages the guest values).
///
/// A page enters when the p2m map backs it with a private frame (`P2MMap` inserts it) and
/// leaves when it is drawn. Pages that stopped being private meanwhile (shared, ballooned,
/// already paged out) stay in the set until drawn, then are dropped: each entry is drawn at
/// most once per insertion, so choosing a victim costs amortised O(1) whatever the VM's size
/// or how few private pages it has left. Memory: one bit per configured page and 4 bytes per
/// candidate. The order depends only on the insertions and the VM's own seeded stream.
struct HostVictimSet {
    /// The candidates (guest page numbers), in no meaningful order.
    private(set) var pages: [UInt32] = []
    /// One bit per guest page: the page is in `pages`.
    private var member: [UInt64]
    private var rng: Xoshiro256

    init(pages n: Int, rng: Xoshiro256) {
        member = Array(repeating: 0, count: (n + 63) / 64)
        self.rng = rng
    }

    var count: Int { pages.count }
    /// Bytes of simulator memory the set holds.
    var capacityBytes: Int { pages.capacity * 4 + member.capacity * 8 }

    /// Adds page `i` unless it is already a candidate.
    @inline(__always)
    mutating func insert(_ i: Int) {
        let bit: UInt64 = 1 << UInt64(i & 63)
        if member[i >> 6] & bit != 0 { return }
        member[i >> 6] |= bit
        pages.append(UInt32(i))
    }

    /// Removes and returns a candidate drawn uniformly at random; nil when there is none.
    mutating func draw() -> Int? {
        guard !pages.isEmpty else { return nil }
        let k = Int(rng.next(below: UInt64(pages.count)))
        let i = Int(pages[k])
        pages[k] = pages[pages.count - 1]
        pages.removeLast()
        member[i >> 6] &= ~(1 << UInt64(i & 63))
        return i
    }

    /// Whether page `i` is a candidate (for the invariant checks).
    func contains(_ i: Int) -> Bool { member[i >> 6] & (1 << UInt64(i & 63)) != 0 }
}
