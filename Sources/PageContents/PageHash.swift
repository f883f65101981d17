import CXXHash
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// 64-bit hashes of 4 KiB pages, as a page-sharing scanner computes them.
///
/// VMware ESX hashes each candidate page with a 64-bit hash and looks it up in a global
/// table (Waldspurger, OSDI 2002); Linux KSM uses xxhash since 5.x for its checksum. Here
/// the hash is XXH3-64 (runtime-dispatched to AVX2 on x86-64). Since ESXi 5.5 U2/6.0 the
/// hash is salted per VM by default (`Mem.ShareForceSalting = 2`), so equal pages of two
/// VMs with different salts never meet: `xxh3(_:salt:)` models that salt as the XXH3 seed.
public enum PageHash {
    /// XXH3-64 of the 4096 bytes at `p`.
    public static func xxh3(_ p: UnsafeRawPointer) -> UInt64 {
        oc_xxh3_64(p, pageSize)
    }

    /// Seeded XXH3-64 of the 4096 bytes at `p`: ESX's per-VM salted page hash.
    ///
    /// A salt of 0 gives the same value as the unsalted hash (XXH3's seed 0 is its default).
    public static func xxh3(_ p: UnsafeRawPointer, salt: UInt64) -> UInt64 {
        oc_xxh3_64_seeded(p, pageSize, salt)
    }
}

/// Byte-level tests on 4 KiB pages: full comparison, zero and same-filled detection.
///
/// Page sharing only merges pages after a full 4096-byte comparison on a hash match (ESX,
/// KSM's `pages_identical`); zswap stores "same-filled" pages (every word equal) as the
/// word alone (`zswap_is_page_same_filled` in mm/zswap.c) and ESX shares zero pages first.
public enum PageCompare {
    /// True iff the 4096 bytes at `a` and `b` are equal (`memcmp`).
    public static func equal(_ a: UnsafeRawPointer, _ b: UnsafeRawPointer) -> Bool {
        a == b || memcmp(a, b, pageSize) == 0
    }

    /// True iff all 4096 bytes at `p` are zero, checked a 64-byte block of words at a time.
    public static func isZero(_ p: UnsafeRawPointer) -> Bool {
        var offset = 0
        while offset < pageSize {
            var acc: UInt64 = 0
            for k in 0..<8 { acc |= p.loadUnaligned(fromByteOffset: offset + 8 * k, as: UInt64.self) }
            if acc != 0 { return false }
            offset += 64
        }
        return true
    }

    /// The repeated word if every 8-byte word of the page equals the first one, else nil.
    ///
    /// Follows zswap's same-filled page detection (mm/zswap.c): such a page is stored as
    /// one word instead of a compressed buffer. A zero page returns 0. The word is returned
    /// as loaded in host byte order (little-endian on every supported host).
    public static func isSameFilled(_ p: UnsafeRawPointer) -> UInt64? {
        let first = p.loadUnaligned(as: UInt64.self)
        // zswap checks the last word first: most pages differ there already.
        if p.loadUnaligned(fromByteOffset: pageSize - 8, as: UInt64.self) != first { return nil }
        var offset = 0
        while offset < pageSize {
            var diff: UInt64 = 0
            for k in 0..<8 { diff |= p.loadUnaligned(fromByteOffset: offset + 8 * k, as: UInt64.self) ^ first }
            if diff != 0 { return nil }
            offset += 64
        }
        return first
    }
}
