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
/// A `ContentMemoTable` sized for the host's guest pages, keyed by the size limit. With
/// `shared` set (the runs of one experiment), a content the host does not know is looked up
/// there, under the codec's place in `PageCodecRegistry` and the limit, and what the codec
/// computes is added there too. Host paging is host-wide work done at synchronisation points,
/// one VM at a time, so only one thread of a run uses the memo at a time.
final class CompressedSizeMemo {
    static let maxSlots = 1 << 20
    /// A stored value meaning "not below the limit" (the page goes to swap); a size `n` is
    /// stored as `n + 1`, as the table keeps no 0.
    static let rejected: UInt64 = 1 << 32

    private let table = ContentMemoTable(maxSlots: CompressedSizeMemo.maxSlots)
    /// The memo of the other runs of the same experiment, and the host codec's tag there
    /// (nil: not shared).
    private(set) var shared: (memo: SharedContentMemo, codec: UInt64)?
    /// Lookups the memo answered, and those it did not (the codec then runs).
    private(set) var hits = 0
    private(set) var misses = 0

    var capacity: Int { table.capacity }

    /// Sizes the memo for `pages` guest pages; growing keeps the entries.
    func reserve(pages: Int) { table.reserve(entries: pages) }

    /// Shares answers with the other runs of an experiment, for the codec named `codec` (a
    /// codec not in the registry is not shared).
    func share(_ memo: SharedContentMemo, codec: String) {
        shared = PageCodecRegistry.codecs.firstIndex { $0.codecName == codec }.map { (memo, UInt64($0) << 32) }
    }

    /// The size `content` compresses to below `limit` bytes (nil: not below it), computing it
    /// with `compress` unless remembered.
    func size(of content: PageContent, limit: Int, compress: () -> Int?) -> Int? {
        if capacity == 0 { reserve(pages: 0) }
        let tag = UInt64(limit)
        if let v = table.lookup(content.raw, tag: tag) {
            hits += 1
            return CompressedSizeMemo.size(v)
        }
        if let (memo, codec) = shared, let v = memo.compressed(content, tag: codec | tag) {
            hits += 1
            table.store(content.raw, tag: tag, value: v)
            return CompressedSizeMemo.size(v)
        }
        misses += 1
        let n = compress()
        let v = n.map { UInt64($0) + 1 } ?? CompressedSizeMemo.rejected
        table.store(content.raw, tag: tag, value: v)
        if let (memo, codec) = shared { memo.storeCompressed(content, tag: codec | tag, value: v) }
        return n
    }

    /// Whether the size of `content` below `limit` is known, here or in the shared memo,
    /// without counting a lookup or storing anything: compressing ahead leaves known contents
    /// to the memo.
    func knows(_ content: PageContent, limit: Int) -> Bool {
        let tag = UInt64(limit)
        if table.lookup(content.raw, tag: tag) != nil { return true }
        if let (memo, codec) = shared, memo.compressed(content, tag: codec | tag) != nil { return true }
        return false
    }

    private static func size(_ v: UInt64) -> Int? { v == rejected ? nil : Int(v - 1) }
}
