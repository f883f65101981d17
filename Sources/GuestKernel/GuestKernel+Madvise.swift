import OvercommitSupport
import PageContents

/// madvise(2), after Linux's mm/madvise.c.
///
/// - MADV_DONTNEED (`madvise_dontneed_single_vma`, `zap_page_range_single`): every PTE of the
///   range is zapped now. Private anonymous pages nobody else maps are freed (RSS and
///   AnonPages drop) and their swap entries released; the next read maps the zero page.
///   File pages are only unmapped and stay in the page cache; a private file page reads the
///   file again. Refused (EINVAL) on mlocked ranges, as `can_madv_lru_vma` does.
/// - MADV_FREE (Linux 4.5+, `madvise_free_pte_range`): only on private anonymous memory
///   (EINVAL otherwise). Swap entries are freed at once (the page reads zero). A resident
///   page mapped once is taken out of the swap cache, cleaned and marked lazily freeable
///   (`folio_mark_lazyfree`: off PG_swapbacked, onto the inactive file list since Linux
///   4.12, pglazyfree). Reclaim discards a lazily freeable page that was not written since,
///   without swapping (pglazyfreed), and the next read maps the zero page; a write before
///   reclaim keeps the page and its new data: reclaim sees it dirty, makes it swap-backed
///   again and activates it. Pages mapped by several processes are skipped.
/// - MADV_WILLNEED (`madvise_willneed`): file ranges are read into the page cache now (as
///   `vfs_fadvise(POSIX_FADV_WILLNEED)`), anonymous ranges read their swapped pages into the
///   swap cache (`swapin_walk_pmd_entry`); either way only while free memory is above the low
///   watermark (read-ahead allocations do not reclaim here). The later fault is minor.
/// - MADV_SEQUENTIAL / MADV_RANDOM / MADV_NORMAL set the mapping's read-ahead hint
///   (VM_SEQ_READ / VM_RAND_READ): a page-cache miss in a SEQUENTIAL mapping reads ahead
///   `read_ahead_kb` every time, in a RANDOM one never, in a NORMAL one after a cached
///   predecessor. Not modelled: Linux also ignores PTE references of VM_SEQ_READ mappings
///   in `folio_referenced` (drop-behind), and fadvise's doubled window.
/// - MADV_HUGEPAGE / MADV_NOHUGEPAGE set VM_HUGEPAGE / VM_NOHUGEPAGE (`hugepage_madvise`):
///   under `transparent_hugepage.enabled: madvise` only VM_HUGEPAGE ranges get huge pages,
///   under `always` every range but VM_NOHUGEPAGE ones (`GuestKernel+THP.swift`). Huge pages
///   already in the range stay. MADV_DONTNEED and MADV_FREE of part of a huge page split it.
/// - MADV_MERGEABLE / MADV_UNMERGEABLE set VM_MERGEABLE on private mappings (ignored on
///   shared ones, as `ksm_madvise`). There is no KSM inside the guest: the host's page
///   sharing scans all guest RAM, as QEMU marks the whole of it MADV_MERGEABLE.
///
/// Like Linux, the advice applies to the mapped parts of the range and the call returns
/// ENOMEM if part of the range was unmapped. Checks that Linux makes per VMA (EINVAL for
/// locked or non-anonymous ranges) are made for the whole range before anything changes.
extension GuestKernel {
    /// Gives `advice` for the pages [start, start + pages) of `pid`.
    public func madvise(_ pid: PID, start: VPN, pages: Int, advice: MemoryAdvice) -> Result<Void, Errno> {
        guard let p = process(pid) else { return .failure(.ESRCH) }
        guard pages > 0, pages < 1 << 30 else { return .failure(.EINVAL) }
        let end = start + VPN(pages)
        // The mapped parts, and whether there is a hole.
        var hole = false
        var v = start
        while v < end {
            if let ri = p.regionIndex(v) {
                let r = p.regions[ri]
                switch advice {
                case .dontneed, .free: if r.locked { return .failure(.EINVAL) }
                default: break
                }
                if advice == .free && (r.shared || r.fileID != nil) { return .failure(.EINVAL) }
                v = r.end
            } else {
                hole = true
                v = p.regions.first(where: { $0.start > v })?.start ?? end
            }
        }
        switch advice {
        case .normal, .random, .sequential:
            let hint: ReadAheadHint = advice == .normal ? .normal : advice == .random ? .random : .sequential
            setRegionFlags(p, start, end) { $0.readAhead = hint }
        case .mergeable, .unmergeable:
            setRegionFlags(p, start, end) { if !$0.shared { $0.mergeable = advice == .mergeable } }
        case .hugepage, .nohugepage:
            // hugepage_madvise: only the flag changes; huge pages already there stay.
            setRegionFlags(p, start, end) { $0.hugepage = advice == .hugepage ? .hugepage : .nohugepage }
        case .dontneed:
            // zap_pmd_range zaps a whole huge page only; part of one is split first.
            splitHugePagesAtEdges(p, start, end)
            forEachMappedPart(p, start, end) { r in dontNeed(p, r) }
        case .free:
            // madvise_free_huge_pmd frees a whole huge page only; part of one is split first.
            splitHugePagesAtEdges(p, start, end)
            forEachMappedPart(p, start, end) { r in lazyFree(p, r) }
        case .willneed:
            forEachMappedPart(p, start, end) { r in willNeed(p, r) }
        }
        vmstat.madvise_calls += 1
        return hole ? .failure(.ENOMEM) : .success(())
    }

    /// Calls `body` with each region clipped to [start, end).
    func forEachMappedPart(_ p: GuestProcess, _ start: VPN, _ end: VPN, _ body: (Region) -> Void) {
        let parts = p.regions.compactMap { r -> Region? in
            guard r.end > start && r.start < end else { return nil }
            var c = r
            c.start = max(r.start, start)
            c.end = min(r.end, end)
            // Keep the file offset right for clipped file regions.
            if case .file(let f, let off) = r.backing { c.backing = .file(f, offset: off + Int(c.start - r.start)) }
            return c
        }
        for r in parts where process(p.pid) != nil { body(r) }
    }

    /// Sets flags on the regions inside [start, end), splitting at the edges, then merges the
    /// changed regions with neighbours they no longer differ from (Linux's madvise_update_vma:
    /// vma_modify_flags splits, vma_merge joins), so advice undone leaves one region again.
    func setRegionFlags(_ p: GuestProcess, _ start: VPN, _ end: VPN, _ change: (inout Region) -> Void) {
        splitRegions(p, at: start)
        splitRegions(p, at: end)
        for ri in p.regions.indices where p.regions[ri].start >= start && p.regions[ri].end <= end { change(&p.regions[ri]) }
        mergeRegions(p, start, end)
    }

    /// Joins each region touching [start, end] with the next one when they are adjacent and
    /// differ in nothing but their bounds (a file mapping's offsets must continue). Mappings
    /// are never created adjacent (mmap leaves a guard page), so adjacent regions are pieces
    /// of one mapping, as vma_merge requires (the same anon_vma or file).
    func mergeRegions(_ p: GuestProcess, _ start: VPN, _ end: VPN) {
        var ri = 0
        while ri + 1 < p.regions.count {
            let l = p.regions[ri], r = p.regions[ri + 1]
            guard l.end >= start, r.start <= end, l.end == r.start, Self.sameExceptBounds(l, r) else {
                ri += 1
                continue
            }
            if case .file(let f, _) = l.backing {
                let fi = Int(f)
                if let li = files[fi].mappers.firstIndex(where: { $0.pid == p.pid && $0.start == l.start }),
                    let rj = files[fi].mappers.firstIndex(where: { $0.pid == p.pid && $0.start == r.start })
                {
                    files[fi].mappers[li].pages += files[fi].mappers[rj].pages
                    files[fi].mappers.remove(at: rj)
                }
            }
            p.regions[ri].end = r.end
            p.regions.remove(at: ri + 1)
            p.lastRegion = 0
        }
    }

    /// Whether `r`, which starts where `l` ends, could be part of the same region as `l`.
    static func sameExceptBounds(_ l: Region, _ r: Region) -> Bool {
        var a = l, b = r
        switch (l.backing, r.backing) {
        case (.anonymous, .anonymous): break
        case (.file(let f, let lo), .file(let g, let ro)):
            guard f == g, ro == lo + l.pages else { return false }
            b.backing = a.backing
        default: return false
        }
        a.start = 0; a.end = 0; b.start = 0; b.end = 0
        return a == b
    }

    /// MADV_DONTNEED on one clipped region: zap every PTE.
    func dontNeed(_ p: GuestProcess, _ r: Region) {
        if let s = shadow, !r.shared {
            if r.fileID == nil { s.recordZeroed(p.pid, r.start, r.end) } else { s.recordUnmap(p.pid, r.start, r.end) }
        }
        clearPTEs(p, r)
    }

    /// MADV_FREE on one clipped private anonymous region.
    func lazyFree(_ p: GuestProcess, _ r: Region) {
        walkPTEs(p, from: r.start, to: r.end) { vpn, e in
            if e.isSwap {
                // The data is discarded with the slot: the page reads zero.
                setPTE(p, vpn, 0)
                dropSwapRef(p, e.slot)
                shadow?.recordZeroed(p.pid, vpn, vpn + 1)
                return true
            }
            guard e.isPresent, e.pfn != zeroPFN else { return true }
            let f = e.pfn, i = Int(f)
            guard frames.flags[i] & FrameFlag.anon != 0, frames.mapCount[i] == 1 else { return true }
            if frames.flags[i] & FrameFlag.swapCache != 0, let slot = frameSlot[f] {
                // folio_free_swap: only when no swap entry still names the slot.
                if swap.swapMap[Int(slot)] > 0 { return true }
                removeFromSwapCache(f, slot: slot)
            }
            // Clean: a later write sets PG_dirty again and cancels the lazy free.
            frames.flags[i] &= ~(FrameFlag.dirty | FrameFlag.accessed | FrameFlag.referenced)
            setPTE(p, vpn, e.raw & ~PTE.youngBit)
            shadow?.recordLazyFree(p.pid, vpn)
            guard frames.flags[i] & FrameFlag.lazyfree == 0 else { return true }
            frames.flags[i] |= FrameFlag.lazyfree
            if frames.use(f).isLRU {
                policy.remove(f)
                policy.add(f, anon: false, activate: false)
            }
            vmstat.pglazyfree += 1
            return true
        }
    }

    /// Reclaim of a lazily freeable page (the MADV_FREE path of `shrink_folio_list` and
    /// `try_to_unmap_one`): written since, it becomes swap-backed again and is activated;
    /// otherwise every PTE mapping it is cleared (the page reads zero) and the frame freed.
    func evictLazyFree(_ f: PFN) -> EvictOutcome {
        let i = Int(f)
        if frames.flags[i] & (FrameFlag.dirty | FrameFlag.swapCache) != 0 {
            frames.flags[i] &= ~FrameFlag.lazyfree
            return .activate
        }
        forEachMapping(of: f) { pid, vpn in
            let p = processes[Int(pid)]!
            setPTE(p, vpn, 0)
            frames.mapCount[i] -= 1
            p.rssAnon -= 1
        }
        precondition(frames.mapCount[i] == 0, "rmap walk missed \(frames.mapCount[i]) mappings of frame \(f)")
        anonPages -= 1
        vmstat.pglazyfreed += 1
        freeFrame(f)
        return .reclaimed(.lazyFreeDiscard)
    }

    /// MADV_WILLNEED on one clipped region: file pages into the page cache, swapped
    /// anonymous pages into the swap cache, while memory is above the low watermark.
    func willNeed(_ p: GuestProcess, _ r: Region) {
        if let fid = r.fileID {
            guard !files[Int(fid)].isShmem else { return }
            for vpn in r.start..<r.end {
                guard readAheadPage(fid, r.fileIndex(vpn)) else { return }
            }
            return
        }
        walkPTEs(p, from: r.start, to: r.end) { _, e in
            guard e.isSwap, swap.slotFrame[Int(e.slot)] == nilFrame else { return true }
            guard buddy.freePages > watermarks.low, let f = buddy.allocate(order: 0) else { return false }
            _ = touch(f, write: true)
            if readSwapSlot(e.slot, into: f).from != .zswap {
                vmstat.pswpin += 1
                vmstat.pgpgin += 1
            }
            policy.add(f, anon: true, activate: false)
            return true
        }
    }
}
