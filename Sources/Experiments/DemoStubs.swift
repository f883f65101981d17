extension DemoScripts {
    static let reclaimCascade = lazyAllocation
}
