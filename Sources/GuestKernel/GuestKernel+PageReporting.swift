import OvercommitSupport

/// Free page reporting, after Linux's mm/page_reporting.c as virtio-balloon uses it
/// (VIRTIO_BALLOON_F_REPORTING).
///
/// Freeing a block of order `page_reporting_order` or more requests a pass
/// (`page_reporting_notify_free`); the pass runs PAGE_REPORTING_DELAY later
/// (`page_reporting_process`) unless one is already pending. A pass does nothing while free
/// memory is below the low watermark plus one full request of blocks of the reporting order
/// (`page_reporting_process_zone`); otherwise, for each order from the reporting order up,
/// it walks the free list (`page_reporting_cycle`), collects unreported blocks into a
/// scatterlist of `capacity` entries and sends each full list to the device; the entries
/// left at the end of the pass go in one last request. Each order has a budget of
/// ceil(nr_free / (16 x capacity)) requests; a pass that runs out of budget requests another.
/// Reported blocks keep PG_reported (`FrameFlag.reported`) and sit at the tail of their
/// free list until they are allocated or merged. The host discards their backing, so the
/// guest reads zeroes there.
extension GuestKernel {
    /// Whether the balloon device negotiated free page reporting.
    public var freePageReporting: FreePageReporting? { balloonDevice?.freePageReporting }

    /// When a reporting pass is wanted and none is pending: marks one pending and returns
    /// the simulated time it should run (`now` + the delay); nil otherwise. The engine
    /// schedules the pass (Linux's delayed work) and then calls `runPageReporting()`.
    public func takePageReportingRequest(now: Int64) -> Int64? {
        guard let r = freePageReporting, buddy.reportingRequested, !pageReportingPending else { return nil }
        pageReportingPending = true
        return now + r.delayNs
    }

    /// One reporting pass; returns the pages it reported. A free of the reporting order
    /// during or a budget running out in the pass leaves a request for the next one.
    @discardableResult
    public func runPageReporting() -> Int {
        pageReportingPending = false
        guard let r = freePageReporting, !panicked else { return 0 }
        buddy.reportingRequested = false
        // page_reporting_process_zone(): leave room for allocations before handing memory away.
        guard buddy.freePages >= watermarks.low + (r.capacity << r.order) else { return 0 }
        var batch: [(pfn: PFN, order: Int)] = []
        batch.reserveCapacity(r.capacity)
        var reported = 0
        func send() {
            guard !batch.isEmpty else { return }
            for (pfn, order) in batch {
                let start = Int(pfn), size = 1 << order
                // The host discards the pages: from now on they read as zero.
                for i in start..<(start + size) { frames.content[i] = .zero }
                if let b = backing { b.freePagesReported(pfn: pfn, order: order) }
                buddy.markReported(pfn, order: order)
                reported += size
            }
            vmstat.free_page_reports += 1
            batch.removeAll(keepingCapacity: true)
        }
        for order in r.order...BuddyAllocator.maxOrder {
            let nrFree = buddy.freeBlocks(order: order)
            guard nrFree > 0 else { continue }
            var budget = (nrFree + 16 * r.capacity - 1) / (16 * r.capacity)
            for pfn in buddy.unreportedBlocks(order: order) {
                if budget <= 0 { buddy.reportingRequested = true; break }
                batch.append((pfn, order))
                if batch.count == r.capacity { send(); budget -= 1 }
            }
        }
        send()
        vmstat.free_pages_reported += reported
        return reported
    }
}
