extension HostMemory {
    /// The host's state now.
    public func snapshot() -> HostSnapshot {
        var h = HostSnapshot()
        h.state = scheduler.state
        h.free = freeFrames
        h.minFree = scheduler.minFreePages
        h.consumed = consumedFrames
        h.privateFrames = privateFrames
        h.sharedFrames = sharing.sharedFrames
        h.overhead = overheadFrames
        h.pagesShared = sharing.pages_shared
        h.pagesSharing = sharing.pages_sharing
        h.pagesUnshared = sharing.pages_unshared
        h.pagesVolatile = sharing.pages_volatile
        h.zeroPagesSharing = sharing.zero_pages_sharing
        h.fullScans = sharing.full_scans
        h.pagesScanned = sharing.pages_scanned
        h.falseMatches = sharing.false_matches
        h.staleCandidates = sharing.stale_candidates
        h.largeSubpagesHashed = sharing.large_subpages_hashed
        h.largePagesBroken = scheduler.largePagesBroken
        h.sharedBeforeSwap = scheduler.sharedBeforeSwap
        h.blockedAllocations = scheduler.blockedAllocations
        for vm in vms {
            h.cowBreaks += vm.stats.cowBreaks
            h.ballooned += vm.balloonPages
            h.compressed += vm.compressedPages
            h.compressedBytes += vm.compressedBytes
            h.cacheFrames += vm.cacheFrames
            h.hostSwapped += vm.swappedPages
            h.largePages += vm.largePages
            h.doublePaging += vm.stats.doublePaging
            h.hostSwapIns += vm.stats.swapIns
            h.hostSwapOuts += vm.stats.swapOuts
            h.compressions += vm.stats.compressions
            h.decompressions += vm.stats.decompressions
            h.compressionRejects += vm.stats.compressionRejects
        }
        h.scanCPUNs = sharing.cpuNs
        h.compressorCPUNs = compressorNs
        h.timeInStateNs = scheduler.timeInState
        h.nodes = nodeSnapshots()
        return h
    }
}
