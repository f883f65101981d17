extension DemoScripts {
    static let cowFork = lazyAllocation
    static let lruSwap = lazyAllocation
    static let overcommitOOM = lazyAllocation
    static let pageSharing = lazyAllocation
    static let ballooning = lazyAllocation
    static let compression = lazyAllocation
    static let hostSwap = lazyAllocation
    static let reclaimCascade = lazyAllocation
}
