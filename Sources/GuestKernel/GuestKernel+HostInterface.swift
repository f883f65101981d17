import OvercommitSupport
import PageContents

/// The boundary between the guest and its host. Guest→host: `touch` makes sure the EPT
/// grants an access and traps to the VM (`GuestPhysicalBacking.eptViolation`) when it does
/// not. Host→guest: the `GuestPhysicalMemory` conformance, the only part of the kernel the
/// hypervisor calls.
extension GuestKernel: GuestPhysicalMemory {
    /// Makes sure the host maps `pfn` for the access; returns the host's time.
    @inline(__always)
    func touch(_ pfn: PFN, write: Bool, reason: GuestAccessReason = .access) -> Int64 {
        let need: UInt8 = write ? 2 : 1
        let e = ept[Int(pfn)]
        if e & need != 0 { ept[Int(pfn)] = e | GuestKernel.eptAccessed; return 0 }
        return touchSlow(pfn, write: write, reason: reason)
    }

    @inline(never)
    func touchSlow(_ pfn: PFN, write: Bool, reason: GuestAccessReason = .access) -> Int64 {
        guard let b = backing else { ept[Int(pfn)] = 3 | GuestKernel.eptAccessed; return 0 }
        let cost = b.eptViolation(pfn: pfn, write: write, reason: reason)
        ept[Int(pfn)] |= GuestKernel.eptAccessed
        return cost
    }

    /// The host changes the EPT permissions of a frame (0 none, 1 read, 3 read/write).
    /// Taking a permission away invalidates the cached combined translations of every PTE
    /// mapping the frame (INVEPT, reached through the reverse map).
    @inline(__always)
    public func setEPT(_ pfn: PFN, _ bits: UInt8) {
        let old = ept[Int(pfn)]
        ept[Int(pfn)] = bits | (old & GuestKernel.eptAccessed)
        if bits & 3 != 3 { forEachPTE(of: pfn) { idx in pageTables.entries[idx] &= ~PTE.hostBit } }
    }

    /// The host reads and clears the EPT accessed bit of `pfn` (as ESX samples active memory);
    /// cached translations are invalidated so the next access sets the bit again.
    public func testAndClearEPTAccessed(_ pfn: PFN) -> Bool {
        let e = ept[Int(pfn)]
        guard e & GuestKernel.eptAccessed != 0 else { return false }
        ept[Int(pfn)] = e & ~GuestKernel.eptAccessed
        forEachPTE(of: pfn) { idx in pageTables.entries[idx] &= ~PTE.hostBit }
        return true
    }

    /// Every frame's `testAndClearEPTAccessed` at once, in two sequential passes instead of a
    /// reverse-map walk per accessed frame: the accessed bits over the frame table, then the
    /// cached translations over the page-table pool. Only a frame whose accessed bit is set
    /// can have cached translations (the access path sets the bit before it caches one, and
    /// only `testAndClearEPTAccessed` clears the bit, dropping them), so dropping every cached
    /// translation drops exactly those the per-frame walks would. The invariant check verifies
    /// that precondition.
    public func testAndClearAllEPTAccessed() -> Int {
        let n = ept.clearAccessed(GuestKernel.eptAccessed, count: frames.count)
        pageTables.dropHostTranslations()
        return n
    }

    /// The descriptor of what guest-physical frame `pfn` holds (for the host to produce bytes).
    @inline(__always)
    public func content(of pfn: PFN) -> PageContent { frames.content[Int(pfn)] }

    /// The host takes a page's contents out of guest-physical memory (swap-out or compression):
    /// it returns them and leaves a marker behind, so that any read of the frame before the host
    /// puts them back is detected by content verification.
    public func hostTakeContent(_ pfn: PFN) -> PageContent {
        let c = frames.content[Int(pfn)]
        frames.content[Int(pfn)] = .hostHeld
        return c
    }

    /// The host puts a page's contents back (swap-in, decompression) or fills a fresh frame
    /// (`.zero`: a host frame given to a VM for the first time is zero-filled).
    public func hostPutContent(_ pfn: PFN, _ c: PageContent) { frames.content[Int(pfn)] = c }

    /// Whether the balloon driver holds `pfn`.
    public func isBallooned(_ pfn: PFN) -> Bool { frames.use(pfn) == .balloon }

    /// Connects the guest to its VM.
    public func attach(to backing: any GuestPhysicalBacking) { self.backing = backing }

    /// The host plugs the balloon device in (power-on).
    public func plugBalloonDevice(_ device: BalloonDevice) {
        balloonDevice = device
        // page_reporting_register(): the allocator starts notifying frees of that order, and
        // a first pass is requested at once ("begin initial flush of zones").
        if let r = device.freePageReporting {
            buddy.reportingOrder = r.order
            buddy.reportingRequested = true
        }
    }

    /// The stats virtqueue's answer (virtio_balloon.c `stats_handle_request`): meminfo and vmstat now.
    public func statsReport(now: Int64) -> GuestStatsReport {
        GuestStatsReport(timeNs: now, meminfo: meminfo, vmstat: vmstat)
    }

    /// MemFree and MemAvailable in pages, from /proc/meminfo.
    public var balloonStats: BalloonStats {
        // The two /proc/meminfo fields alone: the whole of it walks the swap cache and the
        // processes, and the balloon policy asks every VM at every tick.
        BalloonStats(freePages: buddy.freePages, availablePages: memAvailablePages)
    }
}
