#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Asks the OS to back one of the simulator's own arrays with 2 MiB pages (Linux's
/// transparent huge pages, `madvise(MADV_HUGEPAGE)`), which changes nothing simulated.
///
/// The access path reads per-frame fields at random frames of gigabytes of guest memory. With
/// 4 KiB pages nearly every such read also misses the TLB, and the page walk itself misses the
/// cache once the process's page tables outgrow it (a 2.3 GB process has 4.6 MB of them); a
/// 2 MiB page needs one TLB entry for 512 of those pages. Most distributions ship THP in
/// `madvise` mode, so a buffer gets huge pages only when asked.
///
/// The cost is memory: the OS backs a whole 2 MiB page at its first write, so a buffer that is
/// only partly written holds up to 2 MiB more than its written pages. Only fields that are
/// read on every reference and filled densely (the guest's buddy allocator hands out never-used
/// frames in address order) are worth it.
public enum HugePages {
    /// The huge-page size the advice is aligned to.
    public static let size = 2 << 20

    /// Advises the 2 MiB-aligned part of the `bytes` bytes at `base`. Nothing is read or
    /// written; a region smaller than a huge page is left alone, and where THP is missing or
    /// disabled the call fails and only speed differs.
    public static func advise(_ base: UnsafeMutableRawPointer, bytes: Int) {
        #if os(Linux)
        guard let r = alignedRange(UInt(bitPattern: base), bytes: bytes), let p = UnsafeMutableRawPointer(bitPattern: r.lowerBound)
        else { return }
        _ = madvise(p, Int(r.upperBound - r.lowerBound), MADV_HUGEPAGE)
        #endif
    }

    /// The whole 2 MiB pages inside the `bytes` bytes at `address`, nil if there are none.
    static func alignedRange(_ address: UInt, bytes: Int) -> Range<UInt>? {
        let first = roundUp(address)
        let end = (address + UInt(bytes)) & ~UInt(size - 1)
        return end > first ? first..<end : nil
    }

    /// `n` rounded up to a multiple of 2 MiB (0 stays 0).
    static func roundUp(_ n: UInt) -> UInt { (n + UInt(size - 1)) & ~UInt(size - 1) }
    static func roundUp(_ n: Int) -> Int { Int(roundUp(UInt(n))) }
}

/// Address space reserved for a table that grows at its end, which can be put on 2 MiB pages
/// (`HugePages`) once it is large: a private anonymous mapping, zero-filled, that the OS backs
/// only where written, so reserving ahead costs nothing until the table grows into it.
///
/// `realloc` cannot keep a growing table on huge pages: the C library moves a block of up to
/// 32 MiB within its heap, into memory already backed by 4 KiB pages. This mapping starts on a
/// 2 MiB boundary and moves only when the table outgrows the reservation (to twice its size,
/// copying the part in use).
public final class HugePageRegion {
    /// The start of the region, 2 MiB-aligned.
    public private(set) var base: UnsafeMutableRawPointer
    /// Bytes of address space reserved (a multiple of 2 MiB).
    public private(set) var reserved: Int
    /// The offset (a multiple of 2 MiB) from which the region is advised onto huge pages; nil
    /// while it is not.
    public private(set) var hugeFrom: Int?

    /// A region of at least `bytes` bytes (at least one huge page), on 4 KiB pages.
    public init(reserving bytes: Int) {
        reserved = HugePages.roundUp(Swift.max(1, bytes))
        base = HugePageRegion.map(reserved)
    }

    deinit { munmap(base, reserved) }

    /// Makes the region at least `bytes` long; when it must move, the first `used` bytes are
    /// copied and `base` changes.
    public func reserve(_ bytes: Int, preserving used: Int) {
        guard bytes > reserved else { return }
        let size = HugePages.roundUp(Swift.max(bytes, 2 * reserved))
        let moved = HugePageRegion.map(size)
        if let h = hugeFrom { HugePageRegion.advise(moved, from: h, to: size) }
        moved.copyMemory(from: base, byteCount: used)
        munmap(base, reserved)
        base = moved
        reserved = size
    }

    /// Advises the region from the first 2 MiB boundary at or after `offset` to its end (and
    /// wherever it moves): pages written there from now on are huge. Once only.
    public func adviseHugePages(from offset: Int) {
        guard hugeFrom == nil else { return }
        let h = Swift.min(reserved, HugePages.roundUp(offset))
        hugeFrom = h
        HugePageRegion.advise(base, from: h, to: reserved)
    }

    /// Bytes the OS backs when the first `used` bytes have been written: 4 KiB pages before
    /// `hugeFrom`, whole 2 MiB pages after it.
    public func residentBytes(used: Int) -> Int {
        let small = 4096
        guard let h = hugeFrom, used > h else { return (used + small - 1) / small * small }
        return h + HugePages.roundUp(used - h)
    }

    static func advise(_ p: UnsafeMutableRawPointer, from: Int, to end: Int) {
        #if os(Linux)
        if end > from { _ = madvise(p + from, end - from, MADV_HUGEPAGE) }
        #endif
    }

    /// A fresh mapping of `bytes` (a multiple of 2 MiB) at a 2 MiB boundary.
    static func map(_ bytes: Int) -> UnsafeMutableRawPointer {
        let span = bytes + HugePages.size
        guard let raw = mmap(nil, span, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0), raw != MAP_FAILED
        else { fatalError("out of address space reserving \(bytes) bytes") }
        let start = UInt(bitPattern: raw)
        let head = Int(HugePages.roundUp(start) - start)
        if head > 0 { munmap(raw, head) }
        let tail = span - head - bytes
        if tail > 0 { munmap(raw + head + bytes, tail) }
        return raw + head
    }
}
