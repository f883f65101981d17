import OvercommitSupport

/// The machine frames one NUMA node got back after use, as a three-level bitmap: a bit per
/// frame, a bit per 64-frame word that has one set, a bit per 64 such words. Taken lowest
/// first.
///
/// A stack of returned frame numbers (what this replaced) cost 4 bytes per frame free at its
/// peak, up to 8 with its doubling growth, and never shrank. The bitmap costs an eighth of a byte per frame of the node, in a zeroed
/// allocation the OS backs only where frames were returned, and finds the lowest free frame
/// by three `trailingZeroBitCount`s from a cursor over the top level (Linux's free lists are
/// lists; what the simulation needs is only which frames are free, and no output depends on
/// which free frame of a node a VM gets).
struct FreeFrameSet {
    /// The node's first frame.
    let first: Int
    /// A bit per frame of the node: set while the frame is in the set.
    private let frames: ZeroedBuffer<UInt64>
    /// A bit per word of `frames`: set while that word is not zero.
    private var words: [UInt64]
    /// A bit per word of `words`: set while that word is not zero.
    private var groups: [UInt64]
    /// No word of `groups` below this one is non-zero.
    private var lowestGroup = 0
    /// Frames in the set.
    private(set) var count = 0

    /// An empty set for the `frameCount` frames from `first`.
    init(first: Int, frameCount: Int) {
        self.first = first
        let w0 = (frameCount + 63) >> 6
        let w1 = (w0 + 63) >> 6
        frames = ZeroedBuffer(count: w0)
        words = Array(repeating: 0, count: w1)
        groups = Array(repeating: 0, count: (w1 + 63) >> 6)
    }

    /// Adds `frame` (of this node, not in the set).
    mutating func insert(_ frame: UInt32) {
        let i = Int(frame) - first
        let w = i >> 6
        let old = frames[w]
        assert(old & (1 << UInt64(i & 63)) == 0, "machine frame \(frame) returned twice")
        frames[w] = old | 1 << UInt64(i & 63)
        count += 1
        guard old == 0 else { return }
        let v = w >> 6
        let oldWord = words[v]
        words[v] = oldWord | 1 << UInt64(w & 63)
        guard oldWord == 0 else { return }
        let g = v >> 6
        groups[g] |= 1 << UInt64(v & 63)
        if g < lowestGroup { lowestGroup = g }
    }

    /// Removes and returns the lowest frame in the set, nil when it is empty.
    mutating func popLowest() -> UInt32? {
        guard count > 0 else { return nil }
        var g = lowestGroup
        while groups[g] == 0 { g += 1 }
        lowestGroup = g
        let v = g << 6 | groups[g].trailingZeroBitCount
        let w = v << 6 | words[v].trailingZeroBitCount
        let bits = frames[w]
        let i = w << 6 | bits.trailingZeroBitCount
        // Clearing the lowest set bit of each level clears exactly the one taken.
        frames[w] = bits & (bits - 1)
        count -= 1
        if frames[w] == 0 {
            words[v] &= words[v] - 1
            if words[v] == 0 { groups[g] &= groups[g] - 1 }
        }
        return UInt32(first + i)
    }

    /// Whether `frame` (of this node) is in the set.
    func contains(_ frame: UInt32) -> Bool {
        let i = Int(frame) - first
        return frames[i >> 6] & 1 << UInt64(i & 63) != 0
    }

    /// Bytes of simulator memory (address space: the frame bits are backed only where written).
    var bytes: Int { frames.bytes + (words.count + groups.count) * MemoryLayout<UInt64>.stride }
}
