extension DemoScripts {
    static let compression = lazyAllocation
    static let hostSwap = lazyAllocation
    static let reclaimCascade = lazyAllocation
}
