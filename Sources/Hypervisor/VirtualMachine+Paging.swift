import GuestKernel
import OvercommitSupport
import PageContents

/// Why host paging passes over a candidate (`VirtualMachine.skip`).
enum VictimSkip { case notPrivate, largePage, accessed }

/// Host paging: the VM's private pages taken out of memory into its compression cache (ESX
/// memory compression, 4.1+) or its swap file (ESX `.vswp`), victims chosen as ESX does.
extension VirtualMachine {
    /// Takes up to `pages` private pages out of memory, compressing each first when `compress`
    /// (a page that fits below the threshold stays in the cache), else (or when it does not
    /// fit) writing it to the swap file when `swap`. Victims are drawn at random from the VM's
    /// candidates (`HostVictimSet`; ESX: the host cannot know which pages the guest values),
    /// or with the `accessed` selection only those whose EPT accessed bit is clear, clearing it
    /// on the way (a randomised CLOCK: a page skipped for its bit is retried once the other
    /// candidates have been seen). Untouched subpages of an intact large page are left for
    /// breaking and sharing, which is cheaper than swapping them.
    ///
    /// Cost: amortised O(1) per page reclaimed; a candidate that is no longer private is
    /// dropped when drawn, and the pages skipped in one call are at most
    /// `16 * pages + 512`. `scanned` counts the candidates drawn,
    /// `reclaimed` the pages taken out, `swapWrites` the pages written to the swap file (cache
    /// evictions included).
    @discardableResult
    public func pageOut(_ pages: Int, compress: Bool, swap: Bool) -> ReclaimOutcome {
        // Host paging is host-wide work at a synchronisation point (the host's memo of
        // compressed sizes is shared by every VM), never inside a VM's parallel round.
        precondition(!inRound, "vm \(name): host paging inside the VM's round")
        var out = ReclaimOutcome()
        let useAccessed = host.config.swap.victim_selection == .accessed
        let ept = guest.ept
        // Candidates kept in this call: skipped for their accessed bit or a large page, or
        // that could not be paged out. They go back into the set at the end.
        var kept: [UInt32] = []
        var retried = false
        let allowance = pages * 16 + 512
        defer { for i in kept { p2m.victims.insert(Int(i)) } }
        // With worker threads, the coming victims are compressed ahead, in parallel.
        let runJobs = compress ? host.runJobs : nil
        // Plans double from `firstPlan`: a call that stops early (an incompressible page with
        // swap off, a full swap file) wastes at most what it used.
        var ahead = CompressAhead()
        var planSize = CompressAhead.firstPlan
        defer { compressedAhead += ahead.taken }
        while out.reclaimed < pages && out.scanned < allowance {
            if let runJobs, out.scanned >= ahead.covers, pages - out.reclaimed >= CompressAhead.minimumPlan {
                let plan = upcomingVictims(
                    min(pages - out.reclaimed, planSize), draws: allowance - out.scanned, useAccessed: useAccessed)
                planSize = min(2 * planSize, CompressAhead.maximumPlan)
                ahead.covers = out.scanned + plan.draws
                ahead.compute(
                    plan.pages.map { guest.content(of: PFN($0)) }, limit: compressionLimit, codec: compressor.codec,
                    generator: host.generator, memo: host.compressedSizes, runJobs: runJobs)
            }
            guard let i = p2m.victims.draw() else {
                // CLOCK's second hand: the pages skipped for their accessed bit, bits now clear.
                guard useAccessed && !retried && !kept.isEmpty else { break }
                retried = true
                for k in kept { p2m.victims.insert(Int(k)) }
                kept.removeAll()
                continue
            }
            out.scanned += 1
            switch skip(i, ept: ept, useAccessed: useAccessed, clearing: true) {
            case .notPrivate: continue
            case .largePage, .accessed:
                kept.append(UInt32(i))
                continue
            case nil: break
            }
            if pageOutOne(i, compress: compress, swap: swap, ahead: &ahead, swapWrites: &out.swapWrites) {
                out.reclaimed += 1
            } else {
                kept.append(UInt32(i))
                if (!compress || !swap) && swappedPages >= swapCapacity { break }
            }
        }
        return out
    }

    /// Why host paging passes over candidate `i`, or nil when it takes it: no longer private
    /// (dropped), an untouched subpage of an intact large page (left for breaking and
    /// sharing), or, with the `accessed` selection, accessed since last seen. The accessed bit
    /// is cleared when `clearing` (CLOCK's hand), only read otherwise (`upcomingVictims`
    /// leaves no trace).
    func skip(_ i: Int, ept: EPTEntries, useAccessed: Bool, clearing: Bool) -> VictimSkip? {
        guard p2m.isPrivate(i) else { return .notPrivate }
        if ept[i] & 3 == 0 && largeRegion[i >> 9] != 0 { return .largePage }
        if useAccessed && (clearing ? guest.testAndClearEPTAccessed(PFN(i)) : ept[i] & GuestKernel.eptAccessed != 0) {
            return .accessed
        }
        return nil
    }

    /// The size a page must compress below to stay in the compression cache (ESX: half a page).
    var compressionLimit: Int { Int(Double(pageSize) * host.config.compression.threshold.fraction) }

    /// Takes private page `i` out of memory: into the compression cache if it compresses below
    /// the threshold (and `compress`), else into the swap file (if `swap`). Returns false if it
    /// could not (the page does not compress and swap is off, or no free slot).
    func pageOutOne(_ i: Int, compress: Bool, swap: Bool, ahead: inout CompressAhead, swapWrites: inout Int) -> Bool {
        guard case .machine(let frame) = p2m[i] else { preconditionFailure("pfn \(i) of \(name) is not private") }
        if largeRegion[i >> 9] != 0 { breakLargePage(i >> 9) }
        let pfn = PFN(i)
        let content = guest.content(of: pfn)
        if compress {
            let stored = compressor.compressedSize(
                of: content, generator: host.generator, limit: compressionLimit,
                costNs: host.costs.compress.nanoseconds, memo: host.compressedSizes, computed: ahead.take(content))
            if let size = stored {
                // Make room by moving the oldest entries to swap (ESX evicts cold compressed pages).
                while cache.bytes + CompressionCache.stride(size) > cache.limitBytes, let old = cache.oldest() {
                    if !evictFromCache(old) { break }
                    swapWrites += 1
                }
                if cache.bytes + CompressionCache.stride(size) <= cache.limitBytes {
                    let e = cache.insert(size: size, pfn: UInt32(i), content: content)
                    _ = guest.hostTakeContent(pfn)
                    p2m[i] = .compressed(entry: UInt32(e))
                    releaseFrame(frame)
                    privatePages -= 1
                    resizeCacheFrames()
                    stats.compressions += 1
                    guest.setEPT(pfn, 0)
                    return true
                }
            } else {
                stats.compressionRejects += 1
            }
        }
        guard swap, let slot = allocateSlot() else { if swap { stats.swapFull += 1 }; return false }
        swapSlots[Int(slot)] = guest.hostTakeContent(pfn)
        p2m[i] = .swapped(slot: slot)
        releaseFrame(frame)
        privatePages -= 1
        swappedPages += 1
        stats.swapOuts += 1
        swapWrites += 1
        guest.setEPT(pfn, 0)
        return true
    }

    /// Moves cache entry `e` to the swap file (decompressing it first, as the data must be
    /// written whole). False if the swap file is full.
    func evictFromCache(_ e: Int) -> Bool {
        guard host.config.swap.enabled, let slot = allocateSlot() else { return false }
        let i = Int(cache.owner[e])
        let content = cache.content[e]
        compressor.restore(
            content, size: Int(cache.size[e]), generator: host.generator,
            verify: host.verifyDecompressedBytes, costNs: 0, page: "vm \(name) pfn \(i)")
        cache.remove(e)
        resizeCacheFrames()
        swapSlots[Int(slot)] = content
        p2m[i] = .swapped(slot: slot)
        swappedPages += 1
        stats.cacheEvictions += 1
        stats.swapOuts += 1
        return true
    }

    /// Keeps the machine frames of the compression cache equal to what its bytes need.
    func resizeCacheFrames() {
        let need = CompressionCache.framesFor(bytes: cache.bytes)
        while cache.machineFrames.count < need, let m = takeFreeFrame() { cache.machineFrames.append(m) }
        while cache.machineFrames.count > need { releaseFrame(cache.machineFrames.removeLast()) }
        cache.frames = cache.machineFrames.count
    }

    func allocateSlot() -> UInt32? {
        if let s = swapFreeSlots.popLast() { return s }
        guard swapSlots.count < swapCapacity, swapSlots.count < P2MMap.maxValue else { return nil }
        swapSlots.append(.zero)
        return UInt32(swapSlots.count - 1)
    }

    func freeSlot(_ s: UInt32) {
        swapSlots[Int(s)] = .zero
        swapFreeSlots.append(s)
        swappedPages -= 1
    }
}
