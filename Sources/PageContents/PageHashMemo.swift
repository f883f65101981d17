#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

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
/// Direct-mapped, at most `maxSlots` entries of 24 bytes, allocated zeroed on first use (the
/// untouched part costs no memory). A hash of 0 marks an empty slot; a content whose hash is 0
/// is simply not remembered. Lookups from several threads are safe while nobody stores
/// (the sharing scanner hashes ahead on worker threads and stores afterwards, serially).
public final class PageHashMemo: @unchecked Sendable {
    struct Entry {
        var raw: UInt64
        var salt: UInt64
        var hash: UInt64
    }

    /// The most slots a memo takes (24 MiB).
    public static let maxSlots = 1 << 20
    /// The fewest slots.
    public static let minSlots = 1 << 12

    private var slots: UnsafeMutablePointer<Entry>?
    private var shift: UInt64 = 64
    public private(set) var capacity = 0

    public init() {}

    deinit { free(slots) }

    /// Sizes the memo for `pages` scanned pages (a power of two between `minSlots` and
    /// `maxSlots`); a memo already that large is kept with its entries, a smaller one is
    /// replaced by an empty larger one.
    public func reserve(pages: Int) {
        var n = PageHashMemo.minSlots
        while n < pages && n < PageHashMemo.maxSlots { n <<= 1 }
        guard n > capacity else { return }
        free(slots)
        slots = calloc(n, MemoryLayout<Entry>.stride)?.assumingMemoryBound(to: Entry.self)
        capacity = slots == nil ? 0 : n
        shift = UInt64(64 - n.trailingZeroBitCount)
    }

    @inline(__always)
    private func slot(_ raw: UInt64, _ salt: UInt64) -> Int {
        Int(truncatingIfNeeded: ((raw ^ (salt &* 0xC2B2_AE3D_27D4_EB4F)) &* 0x9E37_79B9_7F4A_7C15) >> shift)
    }

    /// The remembered hash of `content` under `salt`, or nil.
    @inline(__always)
    public func lookup(_ content: PageContent, salt: UInt64) -> UInt64? {
        guard let s = slots else { return nil }
        let e = s[slot(content.raw, salt)]
        return e.hash != 0 && e.raw == content.raw && e.salt == salt ? e.hash : nil
    }

    /// Remembers `hash` as the hash of `content` under `salt` (replacing the slot's entry).
    @inline(__always)
    public func store(_ content: PageContent, salt: UInt64, hash: UInt64) {
        guard let s = slots, hash != 0 else { return }
        s[slot(content.raw, salt)] = Entry(raw: content.raw, salt: salt, hash: hash)
    }
}
