import OvercommitSupport

/// The advice of madvise(2) the guest kernel models, with Linux's names (include/uapi/asm-generic/mman-common.h).
public enum MemoryAdvice: String, CaseIterable, Sendable {
    /// MADV_NORMAL: default read-ahead (clears SEQUENTIAL and RANDOM).
    case normal
    /// MADV_RANDOM: no read-ahead on faults in the range (VM_RAND_READ).
    case random
    /// MADV_SEQUENTIAL: read-ahead of a full window on every fault miss (VM_SEQ_READ).
    case sequential
    /// MADV_WILLNEED: read the range into the page cache (file) or swap cache (anonymous) now.
    case willneed
    /// MADV_DONTNEED: zap the range now (anonymous pages freed, file pages unmapped).
    case dontneed
    /// MADV_FREE: clean private anonymous pages become lazily freeable (Linux 4.5+).
    case free
    /// MADV_MERGEABLE / MADV_UNMERGEABLE: the KSM flag of the range (VM_MERGEABLE).
    case mergeable
    case unmergeable
    /// MADV_HUGEPAGE / MADV_NOHUGEPAGE: the transparent huge page flag of the range
    /// (VM_HUGEPAGE / VM_NOHUGEPAGE, mm/khugepaged.c `hugepage_madvise`).
    case hugepage
    case nohugepage

    /// The Linux constant's name, e.g. `MADV_DONTNEED`.
    public var linuxName: String { "MADV_" + rawValue.uppercased() }

    /// Parses `dontneed` or `MADV_DONTNEED` (any case).
    public init?(name: String) {
        var s = name.lowercased()
        if s.hasPrefix("madv_") { s.removeFirst(5) }
        self.init(rawValue: s)
    }

    /// The names accepted, for error messages.
    public static var allowedNames: String { allCases.map(\.rawValue).joined(separator: ", ") }
}

/// The read-ahead hint of a mapping, set by MADV_NORMAL, MADV_RANDOM and MADV_SEQUENTIAL.
public enum ReadAheadHint: UInt8, Sendable {
    case normal, random, sequential
}

/// The transparent huge page flag of a mapping, set by MADV_HUGEPAGE and MADV_NOHUGEPAGE
/// (VM_HUGEPAGE / VM_NOHUGEPAGE: each clears the other).
public enum HugepageHint: UInt8, Sendable {
    case normal, hugepage, nohugepage
}
