import OvercommitSupport
import PageContents

extension GuestKernel {
    /// Linux's SWAP_CLUSTER_MAX: pages reclaimed per batch.
    static let reclaimBatch = 32

    /// Allocates one frame (alloc_pages order 0): the fast path above the min watermark,
    /// then direct reclaim, then the OOM killer. Wakes kswapd below the low watermark. On a
    /// NUMA guest the allocator walks the zonelist of the current task's node and wakes the
    /// kswapd of the nodes it finds low (`PageAllocator`); the slow path below runs when the
    /// whole zonelist is at its min watermarks (the summed marks), as before.
    func allocFrame(cost: inout Int64) -> PFN? {
        if !buddy.isNUMA && buddy.freePages <= watermarks.low { kswapdWoken = true }
        if buddy.freePages > watermarks.min, let f = buddy.allocate(order: 0) { return f }
        if panicked { return nil }
        // Slow path: direct reclaim, retried while it makes progress, then the OOM killer.
        for _ in 0..<16 {
            vmstat.allocstall += 1
            var sc = ReclaimControl(reason: .direct, nrToReclaim: GuestKernel.reclaimBatch)
            let freed = reclaim(&sc)
            cost += sc.stallNs
            if buddy.freePages > watermarks.min, let f = buddy.allocate(order: 0) { return f }
            if freed > 0 { continue }
            guard oomKill(trigger: "page allocation") else { break }
            if buddy.freePages > watermarks.min, let f = buddy.allocate(order: 0) { return f }
        }
        return nil
    }

    /// Returns a frame to the buddy allocator, clearing its per-frame state.
    func freeFrame(_ f: PFN) {
        let i = Int(f)
        if anonHugePages > 0 { hugeFrameFreed(f) }
        frames.flags[i] = frames.flags[i] & (FrameFlag.useMask | FrameFlag.eptMask)
        frames.mapCount[i] = 0
        frames.rmapOwner[i] = 0
        frames.rmapIndex[i] = 0
        // Linux does not zero freed pages: the stale contents stay in the frame.
        buddy.free(f, order: 0)
    }

    /// How many of `n` pages to take from anonymous memory, after get_scan_count():
    /// none without free swap, otherwise in proportion swappiness * anon : (200 - swappiness) * file.
    func anonShare(of n: Int) -> Int {
        let anon = policy.count(.activeAnon) + policy.count(.inactiveAnon)
        let file = policy.count(.activeFile) + policy.count(.inactiveFile)
        let canSwap = swap.freeSlots > 0 || swapCachePages > 0
        if !canSwap || anon == 0 { return 0 }
        if file == 0 { return n }
        let sw = Double(config.swappiness)
        let a = sw * Double(anon)
        let fw = (200 - sw) * Double(file)
        if a + fw == 0 { return 0 }
        return Int((Double(n) * a / (a + fw)).rounded())
    }

    /// Reclaims up to `sc.nrToReclaim` frames from the LRU lists (mm/vmscan.c `shrink_node`):
    /// batches of `SWAP_CLUSTER_MAX` victims, split between anonymous and file pages by
    /// swappiness, each isolated by the replacement policy and passed to `evict`; pages that
    /// cannot be written out are activated. Stops after three rounds without progress.
    /// Returns the pages freed (also in `sc.nrReclaimed`).
    @discardableResult
    public func reclaim(_ sc: inout ReclaimControl) -> Int {
        reclaim(&sc, eligible: nil)
    }

    /// `reclaim` of the frames of `eligible` only (one node's kswapd, `GuestKernel+NUMA.swift`):
    /// the replacement policy passes over the LRU pages of other nodes.
    func reclaim(_ sc: inout ReclaimControl, eligible: Range<Int>?) -> Int {
        var idleRounds = 0
        while sc.nrReclaimed < sc.nrToReclaim && idleRounds < 3 {
            let n = min(GuestKernel.reclaimBatch, sc.nrToReclaim - sc.nrReclaimed)
            var nAnon = anonShare(of: n)
            // swappiness 0 still swaps when the page cache is (nearly) gone, as Linux does.
            if nAnon == 0 && policy.count(.activeFile) + policy.count(.inactiveFile) < n && (swap.freeSlots > 0 || swapCachePages > 0) { nAnon = n }
            victimBuffer.removeAll(keepingCapacity: true)
            if let e = eligible {
                policy.isolateVictims(anon: nAnon, file: n - nAnon, eligible: e, into: &victimBuffer, stats: &vmstat)
            } else {
                policy.isolateVictims(anon: nAnon, file: n - nAnon, into: &victimBuffer, stats: &vmstat)
            }
            sc.nrScanned += victimBuffer.count
            if sc.reason == .kswapd { vmstat.pgscan_kswapd += victimBuffer.count } else { vmstat.pgscan_direct += victimBuffer.count }
            if victimBuffer.isEmpty { idleRounds += 1; if nAnon == 0 && (swap.freeSlots > 0) { continue } else { break } }
            var freedNow = 0
            for v in victimBuffer {
                switch evict(v) {
                case .reclaimed(let how):
                    freedNow += 1
                    if how.wroteSwap { sc.nrSwapWrites += 1 }
                    if how == .compressed { sc.nrCompressed += 1 }
                case .activate:
                    policy.putBack(v, anon: frames.has(v, FrameFlag.anon))
                }
            }
            sc.nrReclaimed += freedNow
            if freedNow == 0 { idleRounds += 1 }
        }
        if sc.reason == .kswapd {
            vmstat.pgsteal_kswapd += sc.nrReclaimed
        } else {
            vmstat.pgsteal_direct += sc.nrReclaimed
            // Direct reclaim waits for the batch it submitted to be written (one device latency).
            if sc.nrSwapWrites > 0 { sc.stallNs += swapConfig.effectiveWriteLatency.nanoseconds }
            // zswap and zram compress synchronously, in the reclaiming task.
            sc.stallNs += Int64(sc.nrCompressed) * costs.compress.nanoseconds
        }
        return sc.nrReclaimed
    }

    /// Tries to free one isolated frame (mm/vmscan.c `shrink_folio_list` for one page): an
    /// anonymous page gets a swap slot (or keeps its swap-cache slot), every PTE mapping it
    /// becomes the swap entry (`try_to_unmap`); a page-cache page is unmapped and, if dirty,
    /// written back (shmem: to swap); then the frame is freed.
    func evict(_ f: PFN) -> EvictOutcome {
        let i = Int(f)
        // A subpage of a huge page: the huge page is split first, then this page goes alone.
        if anonHugePages > 0 && isHugeFrame(f) { splitHugePage(f) }
        let fl = frames.flags[i]
        if fl & FrameFlag.lazyfree != 0 { return evictLazyFree(f) }
        if fl & FrameFlag.anon != 0 {
            var slot: UInt32
            let how: EvictOutcome.ReclaimedBy
            if fl & FrameFlag.swapCache != 0, let s = frameSlot[f], fl & FrameFlag.dirty == 0 {
                slot = s
                how = .swapCacheClean
                vmstat.swapWritesAvoided += 1
            } else if fl & FrameFlag.swapCache != 0, let s = frameSlot[f] {
                // Written since its swap-in (mapped writable by do_swap_page): pageout rewrites its slot.
                slot = s
                _ = touch(f, write: false, reason: .guestSwapOut)
                guard let to = writeSwapSlot(f, slot: s) else { return .activate }
                how = EvictOutcome.ReclaimedBy(anonymousTo: to)
                if to != .zswap {
                    vmstat.pswpout += 1
                    vmstat.pgpgout += 1
                }
            } else {
                guard let s = swap.allocate() else { return .activate }
                slot = s
                swap.slotFrame[Int(s)] = f
                frameSlot[f] = s
                frames.set(f, FrameFlag.swapCache)
                swapCachePages += 1
                // pageout: the device reads the frame (a DMA read the host sees) and writes the
                // slot; zswap and zram read it with the CPU to compress it.
                _ = touch(f, write: false, reason: .guestSwapOut)
                guard let to = writeSwapSlot(f, slot: s) else {
                    removeFromSwapCache(f, slot: s)
                    return .activate
                }
                how = EvictOutcome.ReclaimedBy(anonymousTo: to)
                if to != .zswap {
                    vmstat.pswpout += 1
                    vmstat.pgpgout += 1
                }
            }
            // try_to_unmap: every PTE mapping the frame becomes the swap entry. (The walk
            // visits each mapping once, so rewriting the PTE it just found is safe.)
            forEachMapping(of: f) { pid, vpn in
                let p = processes[Int(pid)]!
                setPTE(p, vpn, PTE.swap(slot).raw)
                swap.swapMap[Int(slot)] += 1
                frames.mapCount[i] -= 1
                p.rssAnon -= 1
                p.swapEntries += 1
            }
            precondition(frames.mapCount[i] == 0, "rmap walk missed \(frames.mapCount[i]) mappings of frame \(f)")
            swap.slotShadow[Int(slot)] = evictionClock
            swap.slotFrame[Int(slot)] = nilFrame
            frameSlot[f] = nil
            swapCachePages -= 1
            releaseSwapSlot(slot)
            anonPages -= 1
            evictionClock &+= 1
            freeFrame(f)
            return .reclaimed(how)
        }
        // Page cache.
        let fid = Int(frames.rmapOwner[i]), idx = Int(frames.rmapIndex[i])
        forEachMapping(of: f) { pid, vpn in
            let p = processes[Int(pid)]!
            setPTE(p, vpn, 0)
            frames.mapCount[i] -= 1
            p.rssFile -= 1
        }
        let how: EvictOutcome.ReclaimedBy
        if files[fid].isShmem {
            guard let s = swap.allocate() else {
                // Could not swap: leave it cached (PTEs refault as minor faults).
                return .activate
            }
            _ = touch(f, write: false, reason: .guestSwapOut)
            guard let to = writeSwapSlot(f, slot: s) else {
                releaseSwapSlot(s)
                return .activate
            }
            how = to == .disk ? .shmemSwapOut : .compressed
            swap.swapMap[Int(s)] = 1
            swap.slotShadow[Int(s)] = evictionClock
            files[fid].setEntry(idx, GuestFile.swappedTag | s)
            if to != .zswap { vmstat.pswpout += 1 }
            shmemPages -= 1
            if fl & FrameFlag.dirty != 0 { dirtyFilePages -= 1 }
        } else {
            how = fl & FrameFlag.dirty != 0 ? .writeBack : .dropClean
            if fl & FrameFlag.dirty != 0 {
                dirtyFilePages -= 1
                _ = touch(f, write: false, reason: .writeback)
                files[fid].written[idx] = frames.content[i]
                vmstat.writebacks += 1
                vmstat.pgpgout += 1
            }
            files[fid].setEntry(idx, GuestFile.shadowTag | (evictionClock & GuestFile.valueMask))
        }
        filePages -= 1
        evictionClock &+= 1
        freeFrame(f)
        return .reclaimed(how)
    }

    /// Whether `runKswapd` would do anything now: kswapd is awake, or free memory is at the
    /// low watermark (on a NUMA guest, some node's kswapd was woken). A kswapd that would
    /// find nothing to do is not worth a thread hand-off; the engine runs it in place.
    public var kswapdHasWork: Bool {
        guard !panicked else { return false }
        if buddy.isNUMA { return (0..<buddy.nodeCount).contains { buddy.kswapdWakeups[$0] } }
        return kswapdWoken || buddy.freePages <= watermarks.low
    }

    /// kswapd: when woken (free below low) reclaims until free reaches high, up to `kswapd_batch`
    /// pages per run (balance_pgdat). Returns the pages freed. Its time is its own, not the workloads'.
    @discardableResult
    public func runKswapd() -> Int {
        guard !panicked else { return 0 }
        if buddy.isNUMA { return runNodeKswapds() }
        if buddy.freePages <= watermarks.low { kswapdWoken = true }
        guard kswapdWoken else { return 0 }
        vmstat.kswapd_wakeups += 1
        var freed = 0
        while buddy.freePages < watermarks.high && freed < config.kswapd_batch {
            var sc = ReclaimControl(reason: .kswapd, nrToReclaim: min(GuestKernel.reclaimBatch * 4, watermarks.high - buddy.freePages))
            let got = reclaim(&sc)
            if got == 0 { break }
            freed += got
        }
        if buddy.freePages >= watermarks.high { kswapdWoken = false }
        return freed
    }

    /// One kswapd per node (mm/vmscan.c `kswapd()` per pgdat, `balance_pgdat`). A node's
    /// kswapd is woken by the allocator only, when an allocation found every node of its
    /// zonelist at its low watermark (`wake_all_kswapds`; a node that merely spills its
    /// allocations to another node is not reclaimed, zone_reclaim_mode 0). Woken, it reclaims
    /// that node's pages until the node is above its high watermark, up to `kswapd_batch`
    /// pages per run, and stays awake until then; one that finds its node balanced goes back to
    /// sleep (`prepare_kswapd_sleep`). Nodes run in order. Returns the pages freed on every node.
    func runNodeKswapds() -> Int {
        var total = 0
        for k in 0..<buddy.nodeCount where buddy.kswapdWakeups[k] {
            let a = buddy.nodes[k]
            let w = buddy.marks[k]
            guard a.freePages < w.high else {
                buddy.clearKswapdWakeup(k)
                continue
            }
            vmstat.kswapd_wakeups += 1
            nodeKswapd[k].wakeups += 1
            let eligible = a.managed
            var freed = 0
            withPreferredNode(k) {
                while buddy.nodes[k].freePages < w.high && freed < config.kswapd_batch {
                    var sc = ReclaimControl(reason: .kswapd, nrToReclaim: min(GuestKernel.reclaimBatch * 4, w.high - buddy.nodes[k].freePages))
                    let got = reclaim(&sc, eligible: eligible)
                    if got == 0 { break }
                    freed += got
                }
            }
            // kswapd sleeps again once its node is balanced; otherwise it stays awake.
            if buddy.nodes[k].freePages >= w.high { buddy.clearKswapdWakeup(k) }
            nodeKswapd[k].stolen += freed
            total += freed
        }
        return total
    }

    /// Periodic LRU aging and background writeback of dirty page-cache pages (the flusher).
    public func runPeriodicAging(dirtyExpired: Bool) {
        guard !panicked else { return }
        policy.age(stats: &vmstat)
        let dirtyLimit = (buddy.freePages + filePages) * config.dirty_background_ratio / 100
        if dirtyFilePages > 0 && (dirtyExpired || dirtyFilePages > dirtyLimit) { writebackDirty() }
    }

    /// Writes every dirty page-cache page back to its file (clean afterwards).
    func writebackDirty() {
        for i in 0..<totalPages where frames.flags[i] & (FrameFlag.dirty | FrameFlag.anon) == FrameFlag.dirty {
            let u = frames.use(PFN(i))
            guard u.isLRU || u == .unevictable else { continue }
            let fid = Int(frames.rmapOwner[i])
            if files[fid].isShmem {
                // shmem has no file to write to: it is "written" only when swapped out.
                frames.flags[i] &= ~FrameFlag.dirty
                dirtyFilePages -= 1
                continue
            }
            _ = touch(PFN(i), write: false, reason: .writeback)
            files[fid].written[Int(frames.rmapIndex[i])] = frames.content[i]
            frames.flags[i] &= ~FrameFlag.dirty
            dirtyFilePages -= 1
            vmstat.writebacks += 1
            vmstat.pgpgout += 1
        }
    }

    /// Reports thrashing transitions from the refault rate over the elapsed interval.
    public func checkThrashing(elapsedNs: Int64) {
        guard elapsedNs > 0 else { return }
        let refaults = vmstat.workingset_refault - lastRefaults
        lastRefaults = vmstat.workingset_refault
        let rate = Double(refaults) / (Double(elapsedNs) / 1e9)
        let now = rate > config.thrashing_refaults_per_second
        if now != thrashing {
            thrashing = now
            events.append(.thrashing(now, refaultsPerSecond: rate))
        }
    }
}
