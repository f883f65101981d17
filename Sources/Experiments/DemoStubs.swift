extension DemoScripts {
    static let ballooning = lazyAllocation
    static let compression = lazyAllocation
    static let hostSwap = lazyAllocation
    static let reclaimCascade = lazyAllocation
}
