import GuestKernel
import PageContents

extension VirtualMachine {
    /// The VM's host-side state now.
    public func snapshot() -> VMHostSnapshot {
        var s = VMHostSnapshot()
        s.configured = configuredPages
        s.online = guest.onlinePages
        s.memoryDemand = guest.memoryDemandPages
        s.smartPaging = smartPagingPages
        s.consumed = consumedPages
        s.privateFrames = privatePages
        s.shared = sharedPages
        s.zeroShared = zeroSharedPages
        s.ballooned = guest.balloonPages
        s.balloonTarget = balloonTarget
        s.compressed = cache.count
        s.compressedBytes = cache.bytes
        s.cacheFrames = cache.frames
        s.hostSwapped = swappedPages
        s.largePages = largePages
        s.largePageUntouched = untouchedLargePagePages
        s.activeEstimated = Int((activeEstimate * Double(configuredPages)).rounded())
        s.activeTrue = trueActivePages
        s.activePeriods = activePeriods
        s.stats = stats
        if numaActive { s.numa = numaSnapshot() }
        return s
    }

    /// The XXH3 hash of the bytes of guest page `pfn` wherever the host keeps them: in the
    /// guest frame (private), in the shared frame, in the compression cache (decompressed
    /// now) or in the swap file. Content verification compares it with what the guest wrote.
    public func hashOfPage(_ pfn: PFN) -> UInt64 {
        let generator = host.generator
        switch p2m[Int(pfn)] {
        case .shared(let node):
            return generator.withBytes(host.sharedFrames.content(of: node)) { PageHash.xxh3($0) }
        case .compressed(let e):
            // The bytes the cache entry stands for, through the real codec (compressed, then decompressed).
            guard let out = compressor.roundTrip(cache.content[Int(e)], generator: generator) else { return 0 }
            return PageHash.xxh3(out.bytes)
        case .swapped(let slot):
            return generator.withBytes(swapSlots[Int(slot)]) { PageHash.xxh3($0) }
        case .unbacked, .overdraft, .machine:
            return generator.withBytes(guest.content(of: pfn)) { PageHash.xxh3($0) }
        }
    }
}
