/// Remembers the salted XXH3 hash of recently hashed page contents, so that a sharing
/// scanner that comes back to a page whose contents did not change takes the hash it computed
/// last time instead of generating and hashing the 4096 bytes again.
///
/// A page's bytes are a pure function of its `PageContent` descriptor, and its hash a pure
/// function of its bytes and the VM's salt, so the memo never changes a result: it answers
/// exactly what `PageHash.xxh3(bytes, salt:)` would. The scanner still counts the hash and
/// charges its CPU time (KSM's ksmd and ESX's scanner do hash every page they visit); a merge
/// still compares the real bytes. In check mode the scanner re-hashes every page the memo
/// answers and reports any difference.
///
/// A `ContentMemoTable` of at most `maxSlots` slots keyed by the salt. Lookups from several
/// threads are safe while nobody stores (the sharing scanner hashes ahead on worker threads and
/// stores afterwards, serially). With `shared` set (the runs of one experiment), a content this
/// memo does not know is looked up there, and what the scanner hashes is added there too.
public final class PageHashMemo: @unchecked Sendable {
    /// The most slots a memo takes (24 MiB).
    public static let maxSlots = 1 << 20
    /// The fewest slots.
    public static let minSlots = ContentMemoTable.minSlots

    private let table = ContentMemoTable(maxSlots: PageHashMemo.maxSlots)
    /// The memo of the other runs of the same experiment, if any.
    public var shared: SharedContentMemo?

    public init() {}

    /// Slots allocated.
    public var capacity: Int { table.capacity }

    /// Sizes the memo for `pages` scanned pages (a power of two between `minSlots` and
    /// `maxSlots`); growing keeps the entries.
    public func reserve(pages: Int) { table.reserve(entries: pages) }

    /// The remembered hash of `content` under `salt`, or nil (this memo only).
    @inline(__always)
    public func lookup(_ content: PageContent, salt: UInt64) -> UInt64? { table.lookup(content.raw, tag: salt) }

    /// Remembers `hash` as the hash of `content` under `salt` (replacing the slot's entry).
    @inline(__always)
    public func store(_ content: PageContent, salt: UInt64, hash: UInt64) { table.store(content.raw, tag: salt, value: hash) }

    /// The hash another run of the experiment computed for `content` under `salt`, or nil.
    public func lookupShared(_ content: PageContent, salt: UInt64) -> UInt64? { shared?.hash(of: content, salt: salt) }

    /// The hash this memo or the experiment's shared memo knows for `content` under `salt`;
    /// an answer from the shared memo is remembered here too. Not while others look up.
    @inline(__always)
    public func lookupOrAdopt(_ content: PageContent, salt: UInt64) -> UInt64? {
        if let h = lookup(content, salt: salt) { return h }
        guard let h = lookupShared(content, salt: salt) else { return nil }
        store(content, salt: salt, hash: h)
        return h
    }

    /// Takes from the experiment's shared memo, in one batch, the hashes under `salt` of those
    /// `contents` this memo does not know, so that the scan about to visit them finds them
    /// here (one lock and overlapped cache misses instead of one of each per page). Nothing
    /// without a shared memo. Not while others look up.
    public func adoptShared(_ contents: [PageContent], salt: UInt64) {
        guard let shared else { return }
        let unknown = contents.filter { SharedContentMemo.shares($0) && lookup($0, salt: salt) == nil }
        guard !unknown.isEmpty else { return }
        for (c, h) in zip(unknown, shared.hashes(of: unknown, salt: salt)) where h != 0 { store(c, salt: salt, hash: h) }
    }

    /// Remembers a hash this run computed, here and in the experiment's shared memo.
    @inline(__always)
    public func storeComputed(_ content: PageContent, salt: UInt64, hash: UInt64) {
        store(content, salt: salt, hash: hash)
        shared?.storeHashes(CollectionOfOne((content, salt, hash)))
    }

    /// Adds hashes this run computed to the experiment's shared memo (nothing without one).
    public func publish(_ entries: [(content: PageContent, salt: UInt64, hash: UInt64)]) { shared?.storeHashes(entries) }
}
