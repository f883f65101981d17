import Synchronization

/// Memos of pure functions of page contents shared by the simulations of one experiment (the
/// runs of a consolidation search or of a sweep), so that a content one run hashed or
/// compressed is not generated, hashed or compressed again by the next.
///
/// Each host keeps its own memos (`PageHashMemo`, the host's compressed-size memo) and asks
/// this one only when they miss; what it computes it adds here. A content's bytes are a pure
/// function of its descriptor (contents of stored memory images, which depend on the images a
/// scenario loads, are never shared), its salted hash a pure function of the bytes and the
/// salt, and its compressed size a pure function of the bytes, the codec and the size limit:
/// so a shared answer is exactly what the run would have computed, whichever run computed it
/// first and however the runs are spread over threads. The runs still count and charge every
/// hash and compression (ksmd and ESX hash every page they visit, ESX compresses every page it
/// swaps out), and check mode verifies every answer against the bytes.
///
/// Two `ContentMemoTable`s (hashes keyed by salt, compressed sizes keyed by codec and limit)
/// behind one lock, grown to the largest host attached, at most `maxSlots` slots each (24
/// bytes a slot, allocated zeroed: the part never written costs no memory).
public final class SharedContentMemo: Sendable {
    /// The most slots each table grows to (48 MiB each).
    public static let maxSlots = 1 << 21

    private struct Tables: ~Copyable {
        let hashes = ContentMemoTable(maxSlots: SharedContentMemo.maxSlots)
        let sizes = ContentMemoTable(maxSlots: SharedContentMemo.maxSlots)
        var hits = 0
        var stores = 0
    }

    private let tables = Mutex(Tables())

    public init() {}

    /// Whether `content`'s answers may be shared between runs (not a stored image page).
    @inline(__always)
    public static func shares(_ content: PageContent) -> Bool { content.style != .stored }

    /// Grows the tables for a host of `pages` guest pages (entries are kept).
    public func reserve(pages: Int) {
        tables.withLock {
            $0.hashes.reserve(entries: pages)
            $0.sizes.reserve(entries: pages)
        }
    }

    /// The value stored for `content` under `tag` in the table `hashes` or `sizes`, or nil.
    private func lookup(_ content: PageContent, tag: UInt64, hashes: Bool) -> UInt64? {
        guard SharedContentMemo.shares(content) else { return nil }
        return tables.withLock { t in
            let v = (hashes ? t.hashes : t.sizes).lookup(content.raw, tag: tag)
            if v != nil { t.hits += 1 }
            return v
        }
    }

    /// The salted hash another run stored for `content`, or nil.
    public func hash(of content: PageContent, salt: UInt64) -> UInt64? { lookup(content, tag: salt, hashes: true) }

    /// The salted hashes other runs stored for `contents` under `salt`, 0 where none: one lock
    /// for the batch, the lookups' memory loads overlapped (`ContentMemoTable.lookup(_:count:tag:into:)`).
    public func hashes(of contents: [PageContent], salt: UInt64) -> [UInt64] {
        var values = [UInt64](repeating: 0, count: contents.count)
        guard !contents.isEmpty else { return values }
        let raws = contents.map(\.raw)
        tables.withLock { t in
            raws.withUnsafeBufferPointer { r in
                values.withUnsafeMutableBufferPointer { v in t.hashes.lookup(r.baseAddress!, count: r.count, tag: salt, into: v.baseAddress!) }
            }
            // A stored image page is never shared (as in `lookup`): its slot, if any, answers
            // for another run's images.
            for (k, c) in contents.enumerated() where values[k] != 0 {
                if SharedContentMemo.shares(c) { t.hits += 1 } else { values[k] = 0 }
            }
        }
        return values
    }

    /// Stores salted hashes (a hash of 0 is not stored).
    public func storeHashes(_ entries: some Collection<(content: PageContent, salt: UInt64, hash: UInt64)>) {
        guard !entries.isEmpty else { return }
        tables.withLock { t in
            for e in entries where SharedContentMemo.shares(e.content) {
                t.hashes.store(e.content.raw, tag: e.salt, value: e.hash)
                t.stores += 1
            }
        }
    }

    /// The value another run stored for `content` under the compression tag `tag`, or nil.
    public func compressed(_ content: PageContent, tag: UInt64) -> UInt64? { lookup(content, tag: tag, hashes: false) }

    /// Stores a compression result (`value` not 0) for `content` under `tag`.
    public func storeCompressed(_ content: PageContent, tag: UInt64, value: UInt64) {
        guard SharedContentMemo.shares(content) else { return }
        tables.withLock { t in
            t.sizes.store(content.raw, tag: tag, value: value)
            t.stores += 1
        }
    }

    /// Answers given and entries stored so far (a check that sharing works; not an output).
    public var counts: (hits: Int, stores: Int) { tables.withLock { ($0.hits, $0.stores) } }
}
