#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif
import PageContents

/// The sizes the host's codec gave for recently compressed page contents, host-wide, so that
/// a content compressed before (by this VM, or by another VM holding the same bytes: clones of
/// one image, the same file cached in several guests) is not compressed again.
///
/// The codec is deterministic and the host has one, so a content's compressed size is a pure
/// function of its descriptor and the size limit: the memo never changes a result. The
/// compressing VM still charges the compression's CPU time (ESX and zswap compress every page
/// they store), and in check mode every decompression recompresses the page and compares the
/// size the cache kept (`PageCompressor.restore`).
///
/// Direct-mapped, sized for the host's guest pages (a power of two between `minSlots` and
/// `maxSlots`, 10 bytes a slot, allocated zeroed: the untouched part costs no memory). A key is
/// stored XOR-ed with `PageContent.hostHeld`, which is never compressed, so a zeroed slot is
/// empty. Host paging is host-wide work done at synchronisation points, one VM at a time,
/// so only one thread uses the memo at a time.
final class CompressedSizeMemo {
    static let minSlots = 1 << 12
    static let maxSlots = 1 << 20
    /// A stored size meaning "not below the limit" (the page goes to swap).
    static let rejected = UInt16.max

    private var keys: UnsafeMutablePointer<UInt64>?
    private var sizes: UnsafeMutablePointer<UInt16>?
    private var shift: UInt64 = 64
    private(set) var capacity = 0
    /// The limit the stored sizes were computed for.
    private var limit = -1
    /// Lookups the memo answered, and those it did not (the codec then runs).
    private(set) var hits = 0
    private(set) var misses = 0

    deinit {
        free(keys)
        free(sizes)
    }

    /// Sizes the memo for `pages` guest pages; a larger memo is kept with its entries.
    func reserve(pages: Int) {
        var n = CompressedSizeMemo.minSlots
        while n < pages && n < CompressedSizeMemo.maxSlots { n <<= 1 }
        guard n > capacity else { return }
        free(keys)
        free(sizes)
        keys = calloc(n, MemoryLayout<UInt64>.stride)?.assumingMemoryBound(to: UInt64.self)
        sizes = calloc(n, MemoryLayout<UInt16>.stride)?.assumingMemoryBound(to: UInt16.self)
        capacity = keys == nil || sizes == nil ? 0 : n
        shift = UInt64(64 - n.trailingZeroBitCount)
    }

    @inline(__always)
    private func slot(_ raw: UInt64) -> Int {
        Int(truncatingIfNeeded: (raw &* 0x9E37_79B9_7F4A_7C15) >> shift)
    }

    /// The size `content` compresses to below `limit` bytes (nil: not below it), computing it
    /// with `compress` unless remembered.
    func size(of content: PageContent, limit: Int, compress: () -> Int?) -> Int? {
        if capacity == 0 { reserve(pages: 0) }
        guard let keys, let sizes else { return compress() }
        if limit != self.limit {
            memset(keys, 0, capacity * MemoryLayout<UInt64>.stride)
            self.limit = limit
        }
        let s = slot(content.raw)
        let key = content.raw ^ PageContent.hostHeld.raw
        if keys[s] == key {
            hits += 1
            return sizes[s] == CompressedSizeMemo.rejected ? nil : Int(sizes[s])
        }
        misses += 1
        let n = compress()
        keys[s] = key
        sizes[s] = n.map { UInt16($0) } ?? CompressedSizeMemo.rejected
        return n
    }
}
