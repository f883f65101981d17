import OvercommitSupport

extension GuestKernel {
    /// Pages a DEFLATE_ON_OOM balloon releases per OOM notification (virtio-balloon: 1 MiB).
    public static let oomDeflatePages = 256

    /// Inflates the balloon by up to `pages` and returns how many it got.
    ///
    /// Follows Linux's balloon drivers (virtio_balloon, vmw_balloon): each page is allocated
    /// through the guest's own allocator with `__GFP_NORETRY` — below the min watermark one
    /// round of direct reclaim is tried (dropping cache, swapping, as the guest's own LRU
    /// decides), the OOM killer never — then pinned (use `.balloon`) and handed to the host,
    /// which frees the machine frame behind it. The driver's simulated time is its own.
    @discardableResult
    public func balloonInflate(pages: Int) -> Int {
        guard !panicked else { return 0 }
        var got = 0
        while got < pages {
            if buddy.freePages <= watermarks.low { kswapdWoken = true }
            var f: PFN? = nil
            if buddy.freePages > watermarks.min { f = buddy.allocate(order: 0) }
            if f == nil {
                vmstat.allocstall += 1
                var sc = ReclaimControl(reason: .direct, nrToReclaim: GuestKernel.reclaimBatch)
                reclaim(&sc)
                if buddy.freePages > watermarks.min { f = buddy.allocate(order: 0) }
            }
            guard let frame = f else { vmstat.balloon_inflate_failed += 1; break }
            frames.setUse(frame, .balloon)
            frames.content[Int(frame)] = .zero
            balloonPages += 1
            balloonFrames.append(frame)
            if let b = backing { b.balloonInflated(pfn: frame) } else { ept[Int(frame)] = 0 }
            got += 1
        }
        vmstat.balloon_inflate += got
        return got
    }

    /// Deflates the balloon by up to `pages` (most recently inflated first): the frames go back
    /// to the buddy allocator; the host backs each again when the guest next touches it.
    @discardableResult
    public func balloonDeflate(pages: Int) -> Int {
        var n = 0
        while n < pages, let f = balloonFrames.popLast() {
            balloonPages -= 1
            frames.setUse(f, .isolated)
            freeFrame(f)
            backing?.balloonDeflated(pfn: f)
            n += 1
        }
        vmstat.balloon_deflate += n
        return n
    }

    /// One poll of the balloon driver (vmw_balloon's work item, virtio-balloon's
    /// config-change handler): reads the host's target and inflates or deflates toward it by
    /// at most the device's `pagesPerPoll`. The driver's time is its own, not the workloads'.
    public func runBalloonDriver() {
        guard let device = balloonDevice, let host = backing else { return }
        let diff = host.balloonTargetPages - balloonPages
        if diff > 0 { balloonInflate(pages: min(diff, device.pagesPerPoll)) } else if diff < 0 { balloonDeflate(pages: min(-diff, device.pagesPerPoll)) }
    }
}
