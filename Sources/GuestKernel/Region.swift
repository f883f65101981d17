import PageContents

/// A virtual memory area (Linux's `vm_area_struct`): a contiguous range with one protection
/// and one backing.
public struct Region: Sendable, Equatable {
    public var start: VPN
    public var end: VPN
    public var protection: Protection
    public var backing: MappingBacking
    /// MAP_SHARED (writes visible to every mapper, no copy-on-write).
    public var shared: Bool
    /// mlocked: resident pages are never reclaimed.
    public var locked: Bool
    /// The brk heap.
    public var isHeap: Bool
    /// Anonymous shared memory (backed by a shmem object).
    public var isShmem: Bool = false
    /// Read-ahead hint from madvise (VM_SEQ_READ / VM_RAND_READ).
    public var readAhead: ReadAheadHint = .normal
    /// VM_MERGEABLE (MADV_MERGEABLE): only recorded; the host's KSM scans all guest RAM, as
    /// QEMU marks all of it MADV_MERGEABLE, and there is no KSM inside the guest.
    public var mergeable: Bool = false
    /// VM_HUGEPAGE / VM_NOHUGEPAGE (MADV_HUGEPAGE / MADV_NOHUGEPAGE): whether transparent huge
    /// pages may back the range (`TransparentHugepageMode`).
    public var hugepage: HugepageHint = .normal

    public var pages: Int { Int(end - start) }
    public func contains(_ vpn: VPN) -> Bool { vpn >= start && vpn < end }

    /// Private writable mappings are what Linux charges to Committed_AS (VM_ACCOUNT).
    public var isAccounted: Bool {
        if shared { return isShmem }
        return protection.contains(.write)
    }
    /// Page index in the backing file for `vpn` (file mappings only).
    public func fileIndex(_ vpn: VPN) -> Int {
        if case .file(_, let off) = backing { return off + Int(vpn - start) }
        return 0
    }
    public var fileID: FileID? {
        if case .file(let f, _) = backing { return f }
        return nil
    }
}
