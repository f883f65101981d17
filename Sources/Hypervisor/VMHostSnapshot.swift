/// A VM as the host sees it at one instant (pages unless noted): what backs its memory.
///
/// The names follow vSphere's memory counters: consumed, shared, ballooned, compressed,
/// swapped, active; `sharedSaved` is this VM's pages mapped to shared frames minus the frames
/// it would hold alone (ESX "shared" vs "shared common" per VM is approximated by mappings).
public struct VMHostSnapshot: Sendable, Equatable {
    public var configured = 0
    /// Memory the guest sees (startup memory plus hot-added; configured memory without
    /// Dynamic Memory's startup memory), and the memory demand its driver reports.
    public var online = 0
    public var memoryDemand = 0
    /// Guest memory in the Smart Paging file (0 when Smart Paging is not in use).
    public var smartPaging = 0
    /// Machine frames: private frames plus compression-cache frames.
    public var consumed = 0
    public var privateFrames = 0
    /// Guest pages mapped to shared frames (the zero frame included), and to the zero frame.
    public var shared = 0
    public var zeroShared = 0
    public var ballooned = 0
    public var balloonTarget = 0
    public var compressed = 0
    public var compressedBytes = 0
    public var cacheFrames = 0
    public var hostSwapped = 0
    public var largePages = 0
    public var largePageUntouched = 0
    /// Estimated active pages (sampling) and pages truly touched in the last period.
    public var activeEstimated = 0
    public var activeTrue = 0
    /// Sampling periods completed (0: the active figures are not measured yet).
    public var activePeriods = 0
    public var stats = VMHostStats()
    /// Where the VM lives on a NUMA host (nil on a one-node host).
    public var numa: VMNUMASnapshot? = nil
    public init() {}
}

/// A VM on a NUMA host at one instant: its home node and virtual nodes, how its page
/// allocations were served, and its guest's remote accesses.
public struct VMNUMASnapshot: Sendable, Equatable {
    public var homeNode = 0
    public var virtualNodes = 1
    /// Frames given to its pages on the node they prefer (numa_hit) and on another (numa_miss).
    public var localAllocations = 0
    public var remoteAllocations = 0
    /// Its guest's accesses to frames on another host node than the accessing process's, and their time.
    public var remoteAccesses = 0
    public var remoteAccessNs: Int64 = 0
    public init() {}
}
