import GuestKernel
import OvercommitSupport
import PageContents

/// Second-level faults: a guest access the EPT does not allow traps to the VM, which backs
/// the page (first touch), breaks sharing (write to a shared page), decompresses it or reads
/// it back from the swap file, and grants the access.
extension VirtualMachine {
    /// A guest access without a valid EPT entry: back, un-share, decompress or swap in.
    public func eptViolation(pfn: PFN, write: Bool, reason: GuestAccessReason) -> Int64 {
        let i = Int(pfn)
        var cost: Int64 = host.costs.host_fault.nanoseconds
        var bits: UInt8 = 3
        switch p2m[i] {
        case .unbacked:
            cost += backFresh(i)
        case .overdraft:
            // Touched after a host out-of-memory: the page stays in overdraft (the run is ending).
            break
        case .machine:
            if guest.ept[i] & 3 == 0 {
                // First touch of a subpage of a large page: the 2 MiB EPT entry already maps it.
                guest.setEPT(pfn, 3)
                return 0
            }
        case .shared:
            if write { cost += breakCOW(i) } else { bits = 1 }
        case .compressed:
            if reason == .guestSwapOut { stats.doublePaging += 1 }
            cost += decompressIn(i)
        case .swapped:
            if reason == .guestSwapOut { stats.doublePaging += 1 }
            cost += swapIn(i)
        }
        stats.eptFaults += 1
        stats.hostTimeNs += cost
        if case .shared = p2m[i] { bits = 1 }
        guest.setEPT(pfn, bits)
        updateRemote(i)
        return cost
    }

    /// First touch of a page: a large page if the region is empty and the host is in the high
    /// state, else one zero-filled machine frame.
    func backFresh(_ i: Int) -> Int64 {
        let r = i >> 9
        var cost: Int64 = 0
        if (inRound ? round!.largePagesAllowed : host.frames.largePagesAllowed) && regionBacked[r] == 0 && (r + 1) * 512 <= p2m.count,
            let frames = inRound ? largePageInRound(pfn: i) : host.frames.allocateLargePage(preferring: preferredNode(i))
        {
            let start = r * 512
            for k in 0..<512 {
                p2m[start + k] = .machine(frames[k])
                guest.hostPutContent(PFN(start + k), .zero)
            }
            if numaActive {
                let node = host.frames.topology.node(of: frames[0])
                countNUMAAllocation(node: node, preferred: preferredNode(i), count: 512)
                // The other subpages get their EPT entries on their first touch (below).
                for k in 0..<512 { guest.setHostNode(PFN(start + k), node) }
            }
            regionBacked[r] = 512
            largeRegion[r] = 1
            largePages += 1
            privatePages += 512
            stats.largePagesBacked += 1
            // The host zeroes the whole 2 MiB page.
            cost += host.costs.zero_fill.nanoseconds * 512
            return cost
        }
        guard let (m, wait) = obtainFrame(pfn: i) else {
            // No frame and nothing left to reclaim: the page is touched in overdraft. It
            // counts as touched in its region (as `dropBacking` and the invariants count it).
            outOfFrames(pfn: i)
            p2m[i] = .overdraft
            regionBacked[r] += 1
            overdraftPages += 1
            return 0
        }
        cost += wait
        p2m[i] = .machine(m)
        regionBacked[r] += 1
        privatePages += 1
        guest.hostPutContent(PFN(i), .zero)
        cost += host.costs.zero_fill.nanoseconds
        return cost
    }

    /// A machine frame for this VM. When the host blocks allocations (the low state) or has no
    /// free frame, the VM first waits while the host reclaims synchronously (the time is
    /// counted in `stats.blockedNs`). nil when nothing could be reclaimed.
    func obtainFrame(pfn: Int) -> (frame: UInt32, waitNs: Int64)? {
        let got = obtainFrameUncounted(pfn: pfn)
        if numaActive, let (m, _) = got { countNUMAAllocation(node: host.frames.topology.node(of: m), preferred: preferredNode(pfn)) }
        return got
    }

    private func obtainFrameUncounted(pfn: Int) -> (frame: UInt32, waitNs: Int64)? {
        if inRound { return obtainFrameInRound(pfn: pfn) }
        var wait: Int64 = 0
        if host.frames.freeFrames == 0 || host.frames.allocationsBlock {
            wait = host.stallForReclaim(self)
            stats.blockedNs += wait
        }
        guard let m = host.frames.allocate(preferring: preferredNode(pfn)) else { return nil }
        return (m, wait)
    }

    /// No frame could be found for page `pfn`: the host's out-of-memory event (in a parallel
    /// round the host recorded it when it served the request).
    func outOfFrames(pfn: Int) {
        if !inRound { host.recordOutOfMemory(self, pfn: PFN(pfn)) }
    }

    /// A guest write to a shared page: copy it into a private frame (copy-on-write break).
    func breakCOW(_ i: Int) -> Int64 {
        guard let (m, wait) = obtainFrame(pfn: i) else {
            outOfFrames(pfn: i)
            return 0
        }
        guard case .shared(let node) = p2m[i] else { preconditionFailure("pfn \(i) of \(name) is not shared") }
        p2m[i] = .machine(m)
        privatePages += 1
        dropSharedMapping(node)
        stats.cowBreaks += 1
        return wait + host.costs.cow_break.nanoseconds
    }

    /// Access to a compressed page: a frame, decompression (verified in check mode), the
    /// cache entry freed.
    func decompressIn(_ i: Int) -> Int64 {
        guard let (m, wait) = obtainFrame(pfn: i) else {
            outOfFrames(pfn: i)
            return 0
        }
        guard case .compressed(let entry) = p2m[i] else {
            // While the VM waited for a frame, the host's reclaim moved the entry from the
            // full cache to the swap file: read it from there into the frame.
            return wait + swapIn(i, into: m)
        }
        let e = Int(entry)
        let content = cache.content[e]
        compressor.restore(
            content, size: Int(cache.size[e]), generator: host.generator,
            verify: host.verifyDecompressedBytes, costNs: host.costs.decompress.nanoseconds,
            page: "vm \(name) pfn \(i)")
        cache.remove(e)
        resizeCacheFrames()
        guest.hostPutContent(PFN(i), content)
        p2m[i] = .machine(m)
        privatePages += 1
        stats.decompressions += 1
        return wait + host.costs.decompress.nanoseconds
    }

    /// Access to a host-swapped page: a host-level major fault reading the swap file.
    func swapIn(_ i: Int) -> Int64 {
        guard let (m, wait) = obtainFrame(pfn: i) else {
            outOfFrames(pfn: i)
            return 0
        }
        return wait + swapIn(i, into: m)
    }

    /// Reads swapped page `i` into machine frame `m`; returns the device's read time.
    private func swapIn(_ i: Int, into m: UInt32) -> Int64 {
        guard case .swapped(let slot) = p2m[i] else { preconditionFailure("pfn \(i) of \(name) is not swapped") }
        guest.hostPutContent(PFN(i), swapSlots[Int(slot)])
        freeSlot(slot)
        p2m[i] = .machine(m)
        privatePages += 1
        stats.swapIns += 1
        return host.config.swap.readLatency.nanoseconds
    }
}
