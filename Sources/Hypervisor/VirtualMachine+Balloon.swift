import GuestKernel

/// The VM's side of ballooning: the target the guest's driver polls, and the inflate and
/// deflate notifications (VMware vmmemctl, virtio-balloon). The host frees what backs a
/// ballooned page; the next touch after a deflate backs it again.
extension VirtualMachine {
    /// The balloon size the driver reads.
    public var balloonTargetPages: Int { balloonTarget }

    /// Polls the stats virtqueue (QEMU's stats timer, every `balloon.stats_period`): keeps
    /// the guest's answer for the balloon policies. Nothing without a driver or before power-on.
    public func pollGuestStats(now: Int64) {
        guard settings.balloonDriver && poweredOn else { return }
        lastStatsReport = guest.statsReport(now: now)
    }

    /// The guest statistics a balloon policy sees: with a stats period, the last report on
    /// the stats virtqueue; without one (or before the first poll), the guest's meminfo now.
    public var policyStatsReport: GuestStatsReport? {
        balloonSettings.stats_period == nil ? nil : lastStatsReport
    }

    /// MemFree and MemAvailable as the balloon policies see them (`policyStatsReport`).
    public var policyBalloonStats: BalloonStats { policyStatsReport?.balloonStats ?? guest.balloonStats }

    public func balloonInflated(pfn: PFN) {
        let i = Int(pfn)
        if p2m[i] != .unbacked { stats.balloonReclaimed += 1 }
        dropBacking(i)
        guest.setEPT(pfn, 0)
    }

    public func balloonDeflated(pfn: PFN) {
        stats.balloonReturned += 1
    }

    /// The guest reported the free block of 2^order pages at `pfn` (virtio-balloon free page
    /// reporting): like QEMU's virtio-balloon with `free-page-reporting=on`, which discards
    /// the range with MADV_DONTNEED, the host drops whatever backs each page (a private
    /// frame, a share, a compressed copy or a swap slot) and removes its EPT entry; the
    /// guest's next touch backs it again with a zero-filled frame.
    public func freePagesReported(pfn: PFN, order: Int) {
        let start = Int(pfn), end = min(start + (1 << order), p2m.count)
        // A large page wholly inside the block is discarded whole, not split (MADV_DONTNEED
        // of a whole 2 MiB THP frees it without splitting): its frames go back one by one
        // below, without counting a break.
        var r = (start + 511) >> 9
        while (r + 1) << 9 <= end {
            if largeRegion[r] != 0 { largeRegion[r] = 0; largePages -= 1 }
            r += 1
        }
        for i in start..<end {
            if p2m[i] != .unbacked { stats.reportedFreed += 1 }
            dropBacking(i)
            guest.setEPT(PFN(i), 0)
        }
    }

    /// Raises the balloon target by up to `pages` without passing the balloon's maximum;
    /// returns the raise (the `BalloonRequest` mechanism).
    func raiseBalloonTarget(by pages: Int) -> Int {
        let n = min(max(0, settings.balloonMaxPages - balloonTarget), max(0, pages))
        balloonTarget += n
        return n
    }

    /// Lowers the balloon target to `pages` (the balloon policy gives memory back).
    func lowerBalloonTarget(to pages: Int) {
        balloonTarget = max(0, min(balloonTarget, pages))
    }

    /// Drops whatever backs page `i` (balloon inflation): frees a private frame, a share, a
    /// cache entry or a swap slot. The contents are discarded (the guest gave the page away).
    func dropBacking(_ i: Int) {
        switch p2m[i] {
        case .unbacked:
            return
        case .overdraft:
            overdraftPages -= 1
        case .machine(let frame):
            if largeRegion[i >> 9] != 0 { breakLargePage(i >> 9) }
            releaseFrame(frame)
            privatePages -= 1
        case .shared(let node):
            dropSharedMapping(node)
        case .compressed(let e):
            cache.remove(Int(e))
            resizeCacheFrames()
        case .swapped(let slot):
            freeSlot(slot)
        }
        p2m[i] = .unbacked
        regionBacked[i >> 9] -= 1
    }
}
