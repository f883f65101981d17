import OvercommitSupport
import PageContents

extension GuestKernel {
    // MARK: - Overcommit accounting (mm/util.c __vm_enough_memory)

    /// CommitLimit in pages, as `vm_commit_limit()` (mm/util.c): swap + RAM *
    /// overcommit_ratio / 100, or swap + overcommit_kbytes (no hugetlb pages here).
    public var commitLimit: Int {
        let ram = config.overcommit_kbytes > 0 ? Int(config.overcommit_kbytes / 4) : managedPages * config.overcommit_ratio / 100
        return ram + swap.slotCount
    }

    /// Free memory at boot in kB, the base of `init_admin_reserve()`/`init_user_reserve()`
    /// (mm/mmap.c: `K(global_zone_page_state(NR_FREE_PAGES))` when the initcalls run).
    var bootFreeKbytes: Int { managedPages * 4 }

    /// vm.admin_reserve_kbytes: as set, or `init_admin_reserve()`'s min(free_kbytes / 32, 8 MiB).
    public var adminReserveKbytes: Int {
        config.admin_reserve_kbytes.map { Int(clamping: $0) } ?? min(bootFreeKbytes / 32, 1 << 13)
    }

    /// vm.user_reserve_kbytes: as set, or `init_user_reserve()`'s min(free_kbytes / 32, 128 MiB).
    public var userReserveKbytes: Int {
        config.user_reserve_kbytes.map { Int(clamping: $0) } ?? min(bootFreeKbytes / 32, 1 << 17)
    }

    /// Whether `pages` more may be committed, as `__vm_enough_memory()` (mm/util.c) decides:
    /// mode 1 always; mode 0 refuses only a request larger than RAM + swap; mode 2 accounts the
    /// pages first and admits them only if Committed_AS is then strictly below CommitLimit
    /// less the admin reserve (guest processes run without CAP_SYS_ADMIN) and less
    /// min(total_vm / 32, user reserve) of the requesting process. Records refusals.
    func mayCommit(_ p: GuestProcess, _ pages: Int) -> Bool {
        guard pages > 0 else { return true }
        let ok: Bool
        switch config.overcommit_memory {
        case 1: ok = true
        case 2: ok = committedAS + pages < strictCommitAllowance(totalVM: p.virtualPages)
        default: ok = pages <= managedPages + swap.slotCount  // heuristic: refuse only absurd requests
        }
        if !ok {
            vmstat.refusedAllocations += 1
            events.append(
                .allocationRefused(pid: p.pid, name: p.name, pages: pages, committedAS: committedAS, commitLimit: commitLimit, mode: config.overcommit_memory))
        }
        return ok
    }

    /// `allowed` of `__vm_enough_memory()` under mode 2 for a process of `totalVM` pages
    /// (mm->total_vm) without CAP_SYS_ADMIN: CommitLimit - admin_reserve_kbytes / 4 -
    /// min(total_vm / 32, user_reserve_kbytes / 4).
    public func strictCommitAllowance(totalVM: Int) -> Int {
        commitLimit - (adminReserveKbytes >> 2) - min(totalVM / 32, userReserveKbytes >> 2)
    }

    func charge(_ p: GuestProcess, _ pages: Int) { committedAS += pages; p.committed += pages }

    // MARK: - mmap / munmap / brk / mlock

    /// Creates a mapping of `pages` pages (mmap). No frame is allocated: pages are faulted in
    /// on first access. Shared anonymous mappings are backed by a shmem object.
    public func mmap(
        _ pid: PID, pages: Int, protection: Protection = .readWrite, backing: MappingBacking = .anonymous,
        shared: Bool = false
    ) -> Result<VPN, Errno> {
        guard let p = process(pid) else { return .failure(.ESRCH) }
        guard pages > 0, pages < 1 << 30 else { return .failure(.EINVAL) }
        var b = backing
        if case .file(let f, let off) = backing {
            guard Int(f) < files.count, off >= 0, off + pages <= files[Int(f)].pages else { return .failure(.EINVAL) }
        }
        var start = p.mmapCursor
        if case .anonymous = backing, !shared, pages % GuestKernel.hugePagePages == 0, config.transparent_hugepage.enabled != .never {
            // An anonymous mapping whose length is a multiple of 2 MiB starts on a 2 MiB boundary,
            // so huge pages can back it (mm/mmap.c `__get_unmapped_area` through
            // `thp_get_unmapped_area`, Linux 6.7+, limited to PMD-multiple lengths in 6.12).
            start = GuestKernel.hugeBase(start + VPN(GuestKernel.hugePagePages - 1))
        }
        var region = Region(
            start: start, end: start + VPN(pages), protection: protection, backing: b,
            shared: shared, locked: false, isHeap: false)
        if shared, case .anonymous = backing { region.isShmem = true }
        let accounted = region.isAccounted ? pages : 0
        guard mayCommit(p, accounted) else { return .failure(.ENOMEM) }
        if shared, case .anonymous = backing {
            guard files.count < GuestKernel.maxFiles else { return .failure(.ENFILE) }
            let id = FileID(files.count)
            var f = GuestFile(path: "/dev/zero (deleted) #\(id)", pages: pages, style: .pointers, contentSeed: 0)
            f.isShmem = true
            files.append(f)
            b = .file(id, offset: 0)
            region.backing = b
        }
        charge(p, accounted)
        p.mmapCursor = region.end + 1  // one guard page between mappings
        p.insert(region)
        if case .file(let f, let off) = b { files[Int(f)].mappers.append((pid, region.start, off, pages)) }
        return .success(region.start)
    }

    /// Removes mappings in [start, start + pages) (munmap), splitting regions at the edges.
    public func munmap(_ pid: PID, start: VPN, pages: Int) -> Result<Void, Errno> {
        guard let p = process(pid) else { return .failure(.ESRCH) }
        guard pages > 0 else { return .failure(.EINVAL) }
        unmapRange(p, start, start + VPN(pages))
        return .success(())
    }

    /// Grows or shrinks the heap by `deltaPages` (brk); returns the new break.
    public func brk(_ pid: PID, deltaPages: Int) -> Result<VPN, Errno> {
        guard let p = process(pid) else { return .failure(.ESRCH) }
        let idx = p.regions.firstIndex { $0.isHeap }
        let end = idx.map { p.regions[$0].end } ?? p.heapStart
        if deltaPages == 0 { return .success(end) }
        if deltaPages < 0 {
            let newEnd = max(p.heapStart, end - VPN(min(-deltaPages, Int(end - p.heapStart))))
            if newEnd < end { unmapRange(p, newEnd, end) }
            return .success(newEnd)
        }
        let newEnd = end + VPN(deltaPages)
        // The heap may grow until it meets the mmap area.
        guard newEnd < GuestProcess.mmapBase else { return .failure(.ENOMEM) }
        guard mayCommit(p, deltaPages) else { return .failure(.ENOMEM) }
        charge(p, deltaPages)
        if let i = idx {
            p.regions[i].end = newEnd
        } else {
            p.insert(Region(start: p.heapStart, end: newEnd, protection: .readWrite, backing: .anonymous, shared: false, locked: false, isHeap: true))
        }
        return .success(newEnd)
    }

    /// The heap's current range [start, break).
    public func heapRange(_ pid: PID) -> Range<VPN> {
        guard let p = process(pid) else { return 0..<0 }
        if let r = p.regions.first(where: { $0.isHeap }) { return r.start..<r.end }
        return p.heapStart..<p.heapStart
    }

    /// Locks the pages of [start, start + pages) (mlock): resident pages move to the
    /// unevictable list, pages faulted later go there directly. Like the course notes, it
    /// does not fault pages in.
    public func mlock(_ pid: PID, start: VPN, pages: Int) -> Result<Void, Errno> {
        guard let p = process(pid) else { return .failure(.ESRCH) }
        let end = start + VPN(pages)
        guard pages > 0 else { return .failure(.EINVAL) }
        // Every page of the range must be mapped.
        var v = start
        while v < end {
            guard let ri = p.regionIndex(v) else { return .failure(.ENOMEM) }
            v = p.regions[ri].end
        }
        splitRegions(p, at: start); splitRegions(p, at: end)
        for ri in p.regions.indices where p.regions[ri].start >= start && p.regions[ri].end <= end {
            p.regions[ri].locked = true
            for vpn in p.regions[ri].start..<p.regions[ri].end {
                let e = PTE(raw: pteValue(p, vpn))
                guard e.isPresent, e.pfn != zeroPFN else { continue }
                let u = frames.use(e.pfn)
                if u.isLRU {
                    policy.remove(e.pfn)
                    frames.setUse(e.pfn, .unevictable)
                    frames.set(e.pfn, FrameFlag.mlocked)
                    mlockedPages += 1
                }
            }
        }
        return .success(())
    }

    /// Splits the region containing `vpn` so that a region starts at `vpn`.
    func splitRegions(_ p: GuestProcess, at vpn: VPN) {
        guard let ri = p.regionIndex(vpn), p.regions[ri].start < vpn else { return }
        // A huge page the new boundary cuts is split first (vma_adjust_trans_huge).
        if anonHugePages > 0 && vpn & VPN(GuestKernel.hugePagePages - 1) != 0 { splitHugePageMapped(p, at: vpn) }
        var left = p.regions[ri]
        var right = left
        left.end = vpn
        right.start = vpn
        if case .file(let f, let off) = left.backing {
            right.backing = .file(f, offset: off + Int(vpn - left.start))
            // Split the mapper record too.
            if let mi = files[Int(f)].mappers.firstIndex(where: { $0.pid == p.pid && $0.start == left.start }) {
                files[Int(f)].mappers[mi].pages = left.pages
                files[Int(f)].mappers.append((p.pid, right.start, off + Int(vpn - left.start), right.pages))
            }
        }
        p.regions[ri] = left
        p.regions.insert(right, at: ri + 1)
        p.lastRegion = 0
    }

    /// Unmaps [start, end): page-table entries released, regions trimmed, commit returned.
    func unmapRange(_ p: GuestProcess, _ start: VPN, _ end: VPN) {
        guard start < end else { return }
        shadow?.recordUnmap(p.pid, start, end)
        splitRegions(p, at: start); splitRegions(p, at: end)
        var ri = 0
        while ri < p.regions.count {
            let r = p.regions[ri]
            if r.start >= start && r.end <= end {
                clearPTEs(p, r)
                if r.isAccounted { committedAS -= r.pages; p.committed -= r.pages }
                if case .file(let f, _) = r.backing {
                    if let mi = files[Int(f)].mappers.firstIndex(where: { $0.pid == p.pid && $0.start == r.start }) {
                        files[Int(f)].mappers.remove(at: mi)
                    }
                    // The last mapping of anonymous shared memory gone: the object goes too.
                    if files[Int(f)].isShmem && files[Int(f)].mappers.isEmpty { dropShmem(f) }
                }
                p.regions.remove(at: ri)
                p.lastRegion = 0
            } else {
                ri += 1
            }
        }
    }

    /// Releases every PTE of a region (zap_page_range).
    func clearPTEs(_ p: GuestProcess, _ r: Region) {
        walkPTEs(p, from: r.start, to: r.end) { vpn, e in
            if e.isPresent {
                let f = e.pfn
                if r.locked && f != zeroPFN && frames.use(f) == .unevictable && frames.mapCount[Int(f)] > 1 {
                    // Still mapped elsewhere: back to the LRU (munlock_vma_page).
                    frames.clear(f, FrameFlag.mlocked)
                    mlockedPages -= 1
                    policy.add(f, anon: frames.has(f, FrameFlag.anon), activate: true)
                }
                unmapOne(p, vpn, e)
            } else if e.isSwap {
                setPTE(p, vpn, 0)
                dropSwapRef(p, e.slot)
            }
            return true
        }
    }

    // MARK: - fork / exit

    /// Duplicates a process (fork): the child shares every page copy-on-write.
    public func fork(_ pid: PID) -> Result<PID, Errno> {
        guard let parent = process(pid) else { return .failure(.ESRCH) }
        current = pid
        guard mayCommit(parent, parent.committed) else { return .failure(.ENOMEM) }
        let cpid = PID(processes.count)
        let child = GuestProcess(pid: cpid, name: parent.name, family: parent.family, writeStyles: parent.writeStyles)
        child.oomScoreAdj = parent.oomScoreAdj
        child.layoutSeed = parent.layoutSeed
        child.regions = parent.regions.map {
            var r = $0; r.locked = false; return r
        }  // mlock is not inherited
        child.mmapCursor = parent.mmapCursor
        register(child)
        families[Int(parent.family)].append(cpid)
        charge(child, parent.committed)
        for r in child.regions {
            if case .file(let f, let off) = r.backing { files[Int(f)].mappers.append((cpid, r.start, off, r.pages)) }
        }
        var cost: Int64 = 0
        // copy_page_range: duplicate PTEs, write-protecting private pages in both.
        for r in parent.regions {
            var vpn = r.start
            while vpn < r.end {
                let d = Int(truncatingIfNeeded: vpn >> 9)
                let leafEnd = min(r.end, (vpn | 511) + 1)
                guard d < parent.directory.count else { break }
                if parent.directory[d] < 0 { vpn = leafEnd; continue }
                guard ensureLeaf(child, vpn, cost: &cost) else {
                    // Out of memory while copying page tables: undo the child (fork fails with ENOMEM).
                    if process(cpid) != nil { exitProcess(child, killed: false, quiet: true) }
                    return .failure(.ENOMEM)
                }
                guard process(pid) != nil, process(cpid) != nil else { return .failure(.ENOMEM) }
                while vpn < leafEnd {
                    let e = PTE(raw: pteValue(parent, vpn))
                    if e.isPresent {
                        let f = e.pfn
                        if f == zeroPFN {
                            setPTE(child, vpn, e.raw)
                        } else {
                            let writable = r.shared && e.isWritable
                            if !r.shared { setPTE(parent, vpn, PTE.present(f, writable: false).raw) }
                            setPTE(child, vpn, PTE.present(f, writable: writable).raw)
                            frames.mapCount[Int(f)] += 1
                            if frames.has(f, FrameFlag.anon) { child.rssAnon += 1 } else { child.rssFile += 1 }
                            if frames.use(f) == .unevictable && !r.shared {
                                // The child does not inherit mlock; the page stays locked for the parent.
                            }
                        }
                    } else if e.isSwap {
                        setPTE(child, vpn, e.raw)
                        swap.swapMap[Int(e.slot)] += 1
                        child.swapEntries += 1
                    }
                    vpn += 1
                }
            }
        }
        shadow?.recordFork(parent: pid, child: cpid)
        return .success(cpid)
    }

    /// The process exits: its address space is torn down and its memory freed.
    public func exit(_ pid: PID) {
        guard let p = process(pid) else { return }
        exitProcess(p, killed: false, quiet: false)
    }

    /// Tears down a process; returns the frames freed.
    @discardableResult
    func exitProcess(_ p: GuestProcess, killed: Bool, quiet: Bool) -> Int {
        let freeBefore = buddy.freePages
        // Unmap everything first: several regions may share one shmem object (after a split).
        for r in p.regions { clearPTEs(p, r) }
        for r in p.regions {
            if case .file(let f, _) = r.backing {
                files[Int(f)].mappers.removeAll { $0.pid == p.pid }
                if files[Int(f)].isShmem && files[Int(f)].mappers.isEmpty { dropShmem(f) }
            }
        }
        committedAS -= p.committed
        p.committed = 0
        p.regions = []
        for (d, leaf) in p.directory.enumerated() where leaf >= 0 {
            let f = pageTables.freeLeaf(leaf)
            p.directory[d] = -1
            frames.setUse(f, .isolated)
            freeFrame(f)
            pageTableFrames -= 1
        }
        p.pageTablePages = 0
        unregister(p.pid)
        families[Int(p.family)].removeAll { $0 == p.pid }
        if families[Int(p.family)].isEmpty { freeFamilies.append(p.family) }
        shadow?.recordExit(p.pid)
        if !killed && !quiet { events.append(.exited(pid: p.pid, name: p.name)) }
        return buddy.freePages - freeBefore
    }

    /// Frees a shmem object nobody maps any more (its cached pages and swap slots).
    func dropShmem(_ f: FileID) {
        let fi = Int(f)
        guard !files[fi].index.isEmpty else { return }
        for idx in 0..<files[fi].pages {
            let e = files[fi].index[idx]
            switch e & GuestFile.tagMask {
            case GuestFile.cachedTag:
                let pfn = e & GuestFile.valueMask
                if frames.has(pfn, FrameFlag.dirty) { dirtyFilePages -= 1 }
                releaseFrame(pfn)
                filePages -= 1
                shmemPages -= 1
            case GuestFile.swappedTag:
                let slot = e & GuestFile.valueMask
                swap.swapMap[Int(slot)] -= 1
                releaseSwapSlot(slot)
            default: break
            }
            files[fi].index[idx] = 0
        }
    }
}
