import OvercommitSupport

/// A VM's host-paging candidates: the guest pages that became private since they were last
/// picked, from which host paging draws its victims at random (ESX picks swap victims at
/// random: the host cannot know which pages the guest values).
///
/// A page enters when the p2m map backs it with a private frame (`P2MMap` inserts it) and
/// leaves when it is drawn. Pages that stopped being private meanwhile (shared, ballooned,
/// already paged out) stay in the set until drawn, then are dropped: each entry is drawn at
/// most once per insertion, so choosing a victim costs O(log n) whatever the VM's size or how
/// few private pages it has left.
///
/// Memory: one membership bit per configured page (zeroed, resident only where pages were
/// backed: `ZeroedBuffer`) and, per block of 512 pages, a count in a
/// Fenwick tree (4 bytes), about 0.13 bytes per page. A draw picks the k-th member for a
/// uniform k: the tree finds the block, the block's eight bitmap words the page. The order
/// depends only on the insertions and the VM's own seeded stream.
struct HostVictimSet {
    /// One bit per guest page: the page is a candidate.
    private let member: ZeroedBuffer<UInt64>
    /// Fenwick tree (1-based) over blocks of `blockPages` pages: members per block.
    private var tree: [Int32]
    private(set) var count = 0
    /// The largest power of two not above the number of blocks (the Fenwick descent's first step).
    private let topStep: Int
    private var rng: Xoshiro256
    static let blockShift = 9, blockPages = 1 << blockShift, wordsPerBlock = blockPages / 64

    init(pages n: Int, rng: Xoshiro256) {
        let blocks = (n + HostVictimSet.blockPages - 1) / HostVictimSet.blockPages
        member = ZeroedBuffer(count: max(1, blocks) * HostVictimSet.wordsPerBlock)
        tree = Array(repeating: 0, count: blocks + 1)
        var step = 1
        while step * 2 < blocks + 1 { step *= 2 }
        topStep = step
        self.rng = rng
    }

    /// Bytes of simulator memory the set holds.
    var capacityBytes: Int { member.bytes + tree.capacity * 4 }

    /// Adds page `i` unless it is already a candidate.
    @inline(__always)
    mutating func insert(_ i: Int) {
        let bit: UInt64 = 1 << UInt64(i & 63)
        if member[i >> 6] & bit != 0 { return }
        member[i >> 6] |= bit
        count += 1
        add(block: i >> HostVictimSet.blockShift, 1)
    }

    /// Removes and returns a candidate drawn uniformly at random; nil when there is none.
    mutating func draw() -> Int? {
        guard count > 0 else { return nil }
        var k = Int32(rng.next(below: UInt64(count)))
        // Fenwick descent: the block holding the k-th member (0-based).
        var pos = 0
        var step = topStep
        while step > 0 {
            let nextPos = pos + step
            if nextPos < tree.count && tree[nextPos] <= k {
                pos = nextPos
                k -= tree[nextPos]
            }
            step >>= 1
        }
        let block = pos  // 0-based block index
        var w = block * HostVictimSet.wordsPerBlock
        while true {
            let c = Int32(member[w].nonzeroBitCount)
            if k < c { break }
            k -= c
            w += 1
        }
        var bits = member[w]
        for _ in 0..<Int(k) { bits &= bits - 1 }
        let i = w * 64 + bits.trailingZeroBitCount
        member[w] &= ~(1 << UInt64(i & 63))
        count -= 1
        add(block: block, -1)
        return i
    }

    /// The state of the set's random stream, to undo tentative draws with `undo(draws:to:)`.
    var drawState: Xoshiro256 { rng }

    /// Puts back `drawn`, every page drawn since `drawState` was `state`, and rewinds the
    /// stream to `state`: the set is as it was then, and draws again what it drew since.
    mutating func undo(draws drawn: [Int], to state: Xoshiro256) {
        for i in drawn { insert(i) }
        rng = state
    }

    /// Whether page `i` is a candidate (for the invariant checks).
    func contains(_ i: Int) -> Bool { member[i >> 6] & (1 << UInt64(i & 63)) != 0 }

    @inline(__always)
    private mutating func add(block b: Int, _ d: Int32) {
        var j = b + 1
        while j < tree.count {
            tree[j] += d
            j += j & -j
        }
    }
}
