/// What the host did to one VM, by technique (pages and simulated time).
public struct VMHostStats: Sendable, Equatable {
    /// Second-level (EPT) faults taken, and the host time they cost.
    public var eptFaults = 0
    public var hostTimeNs: Int64 = 0
    /// Copy-on-write breaks of shared pages on guest writes.
    public var cowBreaks = 0
    /// Pages this VM merged into shared frames (one per merge).
    public var merges = 0
    /// Pages compressed into the cache, and pages rejected as not compressible enough.
    public var compressions = 0
    public var compressionRejects = 0
    /// Pages decompressed on access, and pages moved from the cache to swap when it was full.
    public var decompressions = 0
    public var cacheEvictions = 0
    /// Host swap-outs and swap-ins (a swap-in is a host-level major fault).
    public var swapOuts = 0
    public var swapIns = 0
    /// The guest swapped out a page the host had already swapped or compressed.
    public var doublePaging = 0
    /// Large pages that backed a 2 MiB region, and those broken into 4 KiB pages.
    public var largePagesBacked = 0
    public var largePagesBroken = 0
    /// Pages released to the host by the balloon, and given back on deflate.
    public var balloonReclaimed = 0
    public var balloonReturned = 0
    /// Guest pages whose backing the host dropped because free page reporting reported them.
    public var reportedFreed = 0
    /// Pages hot-added to the guest (Hyper-V Dynamic Memory's "Added Memory").
    public var hotAdded = 0
    /// Pages written to the Smart Paging file (the VM's swap file while Smart Paging is in use).
    public var smartPagingOuts = 0
    /// Host swap-outs the VM's swap file had no room for.
    public var swapFull = 0
    /// Time guest accesses waited for the host in the low state (blocked allocations).
    public var blockedNs: Int64 = 0
    public init() {}
}
