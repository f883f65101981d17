import HostPolicies

/// The host at one instant: free memory, state and what each technique holds.
public struct HostSnapshot: Sendable, Equatable {
    public var state: HostMemoryState = .high
    public var free = 0
    public var minFree = 0
    public var consumed = 0
    public var privateFrames = 0
    public var sharedFrames = 0
    public var overhead = 0
    public var pagesShared = 0
    public var pagesSharing = 0
    public var pagesUnshared = 0
    public var pagesVolatile = 0
    public var zeroPagesSharing = 0
    public var fullScans = 0
    public var pagesScanned = 0
    public var falseMatches = 0
    public var staleCandidates = 0
    public var largeSubpagesHashed = 0
    public var cowBreaks = 0
    public var ballooned = 0
    public var compressed = 0
    public var compressedBytes = 0
    public var cacheFrames = 0
    public var hostSwapped = 0
    public var largePages = 0
    public var largePagesBroken = 0
    public var sharedBeforeSwap = 0
    public var blockedAllocations = 0
    public var doublePaging = 0
    public var hostSwapIns = 0
    public var hostSwapOuts = 0
    public var compressions = 0
    public var decompressions = 0
    public var compressionRejects = 0
    /// Scanner and compressor CPU time (cost model), nanoseconds.
    public var scanCPUNs: Int64 = 0
    public var compressorCPUNs: Int64 = 0
    public var timeInStateNs: [Int64] = Array(repeating: 0, count: 5)
    /// Each NUMA node (empty on a one-node host).
    public var nodes: [NodeSnapshot] = []
    public init() {}
}
