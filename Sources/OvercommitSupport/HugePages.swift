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
        let mask = UInt(size - 1)
        let first = (address + mask) & ~mask
        let end = (address + UInt(bytes)) & ~mask
        return end > first ? first..<end : nil
    }
}
