extension DemoScripts {
    static let hostSwap = lazyAllocation
    static let reclaimCascade = lazyAllocation
}
