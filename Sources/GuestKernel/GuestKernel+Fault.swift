import OvercommitSupport
import PageContents

extension GuestKernel {
    /// One memory reference by `pid` to virtual page `vpn`.
    ///
    /// A hit with a valid translation costs `memory_access`; anything else goes to the page
    /// fault handler (mm/memory.c `handle_mm_fault`): zero page for a first read, a fresh
    /// zero-filled frame for a first write, copy-on-write, swap-in (through the swap cache),
    /// or a page-cache lookup for file mappings.
    @inline(__always)
    public func access(_ pid: PID, _ vpn: VPN, write: Bool) -> AccessOutcome {
        let ipid = Int(pid)
        guard ipid > 0 && ipid < fastProcesses.count, let u = fastProcesses[ipid] else { return AccessOutcome(.noProcess, cost: 0) }
        // Borrow the process without retaining it: the table keeps it alive.
        return u._withUnsafeGuaranteedRef { p in accessMapped(p, vpn, write: write) }
    }

    @inline(__always)
    func accessMapped(_ p: GuestProcess, _ vpn: VPN, write: Bool) -> AccessOutcome {
        vmstat.accesses += 1
        let d = Int(truncatingIfNeeded: vpn >> 9)
        if d < p.directory.count {
            let leaf = p.directory[d]
            if leaf >= 0 {
                let idx = Int(leaf) << 9 | Int(vpn & 511)
                let e = pageTables.entries[idx]
                let perm = write ? PTE.presentBit | PTE.writableBit : PTE.presentBit
                if e & perm == perm {
                    let pfn = Int(e & PTE.pfnMask)
                    var cost = costs.memory_access.nanoseconds
                    if e & PTE.hostBit == 0 {
                        // The host part of the translation is not cached: walk the EPT (which
                        // sets its accessed bit).
                        if ept[pfn] & (write ? 2 : 1) == 0 { cost += touchSlow(PFN(pfn), write: write) }
                        ept[pfn] |= GuestKernel.eptAccessed
                        var ne = e | PTE.youngBit
                        if ept[pfn] & 3 == 3 && PFN(pfn) != zeroPFN { ne |= PTE.hostBit }
                        pageTables.entries[idx] = ne
                    } else if e & PTE.youngBit == 0 {
                        pageTables.entries[idx] = e | PTE.youngBit
                    }
                    if write {
                        let fl = frames.flags[pfn]
                        if fl & (FrameFlag.dirty | FrameFlag.anon) == 0 { dirtyFilePages += 1 }
                        frames.flags[pfn] = fl | FrameFlag.dirty
                        let c = writtenContent(p, pfn)
                        frames.content[pfn] = c
                        if let s = shadow { s.recordWrite(self, p, vpn, c) }
                    }
                    if policyWantsAccessHook { policy.accessed(PFN(pfn)) }
                    vmstat.accessTimeNs += cost
                    return AccessOutcome(.hit, cost: cost)
                }
            }
        }
        return faultingAccess(p, vpn, write: write)
    }

    @inline(never)
    func faultingAccess(_ borrowed: GuestProcess, _ vpn: VPN, write: Bool) -> AccessOutcome {
        // The fault path may OOM-kill this very process: hold a strong reference throughout.
        let p = processes[Int(borrowed.pid)]!
        return withExtendedLifetime(p) { faultingAccessRetained(p, vpn, write: write) }
    }

    func faultingAccessRetained(_ p: GuestProcess, _ vpn: VPN, write: Bool) -> AccessOutcome {
        current = p.pid
        var cost = costs.memory_access.nanoseconds
        let r = handleFault(p, vpn, write: write, cost: &cost)
        // Exact LRU counts the faulting access too (the page was referenced).
        if policyWantsAccessHook && r.isFault, case let e = PTE(raw: pteValue(p, vpn)), e.isPresent, e.pfn != zeroPFN { policy.accessed(e.pfn) }
        vmstat.accessTimeNs += cost
        vmstat.stallNs += cost - costs.memory_access.nanoseconds
        switch r {
        case .minorFault, .zeroFill, .cowCopy: vmstat.pgfault += 1
        case .majorFault: vmstat.pgfault += 1; vmstat.pgmajfault += 1
        case .segv:
            vmstat.segfaults += 1
            events.append(.segfault(pid: p.pid, name: p.name, vpn: vpn, write: write))
        default: break
        }
        return AccessOutcome(r, cost: cost)
    }

    /// The page fault handler. On return the access has been performed (content written).
    func handleFault(_ p: GuestProcess, _ vpn: VPN, write: Bool, cost: inout Int64) -> AccessResult {
        guard let ri = p.regionIndex(vpn) else { return .segv }
        let region = p.regions[ri]
        if write && !region.protection.contains(.write) { return .segv }
        if !write && region.protection.isEmpty { return .segv }
        guard ensureLeaf(p, vpn, cost: &cost) else { return alive(p) ? .outOfMemory : .noProcess }
        guard alive(p) else { return .noProcess }
        var e = PTE(raw: pteValue(p, vpn))
        var result: AccessResult = .minorFault
        cost += costs.minor_fault.nanoseconds

        if e.isNone {
            switch region.backing {
            case .anonymous where !region.shared:
                if !write {
                    // First read of untouched anonymous memory: map the shared zero page read-only.
                    setPTE(p, vpn, PTE.present(zeroPFN, writable: false).raw)
                    vmstat.zeroPageMaps += 1
                    cost += touch(zeroPFN, write: false)
                    return .minorFault
                }
                guard let f = newAnonFrame(p, vpn, locked: region.locked, cost: &cost) else { return alive(p) ? .outOfMemory : .noProcess }
                cost += costs.zero_fill.nanoseconds
                vmstat.zeroFills += 1
                setPTE(p, vpn, PTE.present(f, writable: true).raw)
                performWrite(p, vpn, f)
                return .zeroFill
            case .anonymous, .file:
                let fid = region.fileID!
                let idx = region.fileIndex(vpn)
                var major = false
                guard let f = pageCacheGet(fid, idx, forWrite: false, major: &major, locked: region.locked, cost: &cost) else {
                    return alive(p) ? .outOfMemory : .noProcess
                }
                guard alive(p) else { return .noProcess }
                if major { result = .majorFault }
                let writable = region.shared && region.protection.contains(.write)
                mapPage(p, vpn, f, writable: writable, anon: false)
                if !write {
                    frames.flags[Int(f)] |= FrameFlag.accessed
                    cost += touch(f, write: false)
                    return result
                }
                if region.shared {
                    cost += touch(f, write: true)
                    performWrite(p, vpn, f)
                    return result
                }
                e = PTE(raw: pteValue(p, vpn))
                // Private file mapping written: fall through to copy-on-write below.
            }
        }

        if e.isSwap {
            var major = false
            guard let f = swapIn(p, vpn, slot: e.slot, major: &major, locked: region.locked, cost: &cost) else {
                return alive(p) ? .outOfMemory : .noProcess
            }
            guard alive(p) else { return .noProcess }
            if major { result = .majorFault }
            if !write {
                frames.flags[Int(f)] |= FrameFlag.accessed
                if let s = frameSlot[f], swap.swapMap[Int(s)] == 0 {
                    // do_swap_page (Linux >= 5.19): should_try_to_free_swap() drops the slot when
                    // swap is over half full or the VMA is locked; an exclusive page of a writable
                    // VMA is mapped writable at once, so its first write does not fault again.
                    if swap.freeSlots * 2 < swap.slotCount || region.locked { removeFromSwapCache(f, slot: s); frames.flags[Int(f)] |= FrameFlag.dirty }
                    if region.protection.contains(.write) && frames.mapCount[Int(f)] == 1 { setPTE(p, vpn, PTE.present(f, writable: true).raw) }
                }
                cost += touch(f, write: false)
                return result
            }
            e = PTE(raw: pteValue(p, vpn))
        }

        // Present: a read that faulted only because of the host, or a write to a read-only PTE.
        let pfn = e.pfn
        if !write || e.isWritable {
            cost += touch(pfn, write: write)
            if write { performWrite(p, vpn, pfn) } else { frames.flags[Int(pfn)] |= FrameFlag.accessed }
            return result
        }
        // Write-protect fault (do_wp_page).
        if pfn == zeroPFN {
            guard let f = newAnonFrame(p, vpn, locked: region.locked, cost: &cost) else { return alive(p) ? .outOfMemory : .noProcess }
            guard alive(p) else { return .noProcess }
            cost += costs.zero_fill.nanoseconds
            vmstat.zeroFills += 1
            setPTE(p, vpn, PTE.present(f, writable: true).raw)
            performWrite(p, vpn, f)
            return result == .majorFault ? result : .zeroFill
        }
        let i = Int(pfn)
        let isAnon = frames.flags[i] & FrameFlag.anon != 0
        if region.shared && !isAnon {
            setPTE(p, vpn, PTE.present(pfn, writable: true).raw)
            cost += touch(pfn, write: true)
            performWrite(p, vpn, pfn)
            return result
        }
        if isAnon && frames.mapCount[i] == 1 && reuseSwapCache(pfn) {
            // Exclusive page: reuse it (the first write frees its swap slot).
            setPTE(p, vpn, PTE.present(pfn, writable: true).raw)
            cost += touch(pfn, write: true)
            performWrite(p, vpn, pfn)
            return result
        }
        // Copy-on-write: copy into a new private anonymous frame.
        cost += touch(pfn, write: false)
        let oldContent = frames.content[i]
        guard let f = newAnonFrame(p, vpn, locked: region.locked, cost: &cost) else { return alive(p) ? .outOfMemory : .noProcess }
        guard alive(p) else { return .noProcess }
        // The old frame may have moved (reclaimed) during allocation: re-read the PTE.
        let now = PTE(raw: pteValue(p, vpn))
        var source = oldContent
        if now.isPresent {
            cost += touch(now.pfn, write: false)
            source = frames.content[Int(now.pfn)]
        }
        frames.content[Int(f)] = source
        cost += costs.page_copy.nanoseconds
        vmstat.cowCopies += 1
        if now.isPresent { unmapOne(p, vpn, now) } else if now.isSwap { dropSwapRef(p, now.slot) }
        setPTE(p, vpn, PTE.present(f, writable: true).raw)
        performWrite(p, vpn, f)
        return result == .majorFault ? result : .cowCopy
    }

    @inline(__always) func alive(_ p: GuestProcess) -> Bool { processes[Int(p.pid)] != nil }

    /// Writes new contents into a mapped, writable page.
    func performWrite(_ p: GuestProcess, _ vpn: VPN, _ pfn: PFN) {
        let i = Int(pfn)
        let fl = frames.flags[i]
        if fl & (FrameFlag.dirty | FrameFlag.anon) == 0 { dirtyFilePages += 1 }
        frames.flags[i] = fl | FrameFlag.accessed | FrameFlag.dirty
        let c = writtenContent(p, i)
        frames.content[i] = c
        shadow?.recordWrite(self, p, vpn, c)
    }

    /// If the frame is in the swap cache and no other swap entry refers to its slot, removes
    /// it from the swap cache so it can be written (reuse_swap_page). False if it must be copied.
    func reuseSwapCache(_ pfn: PFN) -> Bool {
        guard frames.flags[Int(pfn)] & FrameFlag.swapCache != 0, let slot = frameSlot[pfn] else { return true }
        if swap.swapMap[Int(slot)] != 0 { return false }
        removeFromSwapCache(pfn, slot: slot)
        return true
    }

    func removeFromSwapCache(_ pfn: PFN, slot: UInt32) {
        swap.slotFrame[Int(slot)] = nilFrame
        frameSlot[pfn] = nil
        frames.clear(pfn, FrameFlag.swapCache)
        swapCachePages -= 1
        swap.releaseIfUnused(slot)
    }

    /// A fresh private anonymous frame for (p, vpn), zero-filled, on the LRU.
    func newAnonFrame(_ p: GuestProcess, _ vpn: VPN, locked: Bool, cost: inout Int64) -> PFN? {
        guard let f = allocFrame(cost: &cost) else { return nil }
        guard alive(p) else { freeFrame(f); return nil }
        cost += touch(f, write: true)
        initFrame(f, flags: FrameFlag.anon, owner: p.family, index: UInt32(truncatingIfNeeded: vpn), mapCount: 1, content: .zero)
        p.rssAnon += 1
        anonPages += 1
        putOnLRU(f, anon: true, locked: locked, activate: false)
        return f
    }

    func putOnLRU(_ f: PFN, anon: Bool, locked: Bool, activate: Bool) {
        if locked {
            frames.setUse(f, .unevictable)
            frames.set(f, FrameFlag.mlocked)
            mlockedPages += 1
        } else {
            policy.add(f, anon: anon, activate: activate)
        }
    }

    /// Maps an existing frame (page cache or swap cache) at (p, vpn).
    func mapPage(_ p: GuestProcess, _ vpn: VPN, _ f: PFN, writable: Bool, anon: Bool) {
        setPTE(p, vpn, PTE.present(f, writable: writable).raw)
        frames.mapCount[Int(f)] += 1
        if anon { p.rssAnon += 1 } else { p.rssFile += 1 }
    }

    /// Removes one present mapping; frees an anonymous frame nobody maps any more.
    func unmapOne(_ p: GuestProcess, _ vpn: VPN, _ e: PTE) {
        setPTE(p, vpn, 0)
        let f = e.pfn
        if f == zeroPFN { return }
        let i = Int(f)
        frames.mapCount[i] -= 1
        let isAnon = frames.flags[i] & FrameFlag.anon != 0
        if isAnon { p.rssAnon -= 1 } else { p.rssFile -= 1 }
        if !isAnon && frames.mapCount[i] == 0 && frames.use(f) == .unevictable {
            // A locked page-cache page nobody maps any more goes back to the LRU.
            frames.clear(f, FrameFlag.mlocked)
            mlockedPages -= 1
            policy.add(f, anon: false, activate: false)
        }
        if isAnon && frames.mapCount[i] == 0 {
            if frames.flags[i] & FrameFlag.swapCache != 0, let slot = frameSlot[f] {
                if swap.swapMap[Int(slot)] > 0 { return } // others still need the data via the slot; keep the cache page
                removeFromSwapCache(f, slot: slot)
            }
            releaseFrame(f)
            anonPages -= 1
        }
    }

    /// Takes a resident frame off its list and returns it to the buddy allocator.
    func releaseFrame(_ f: PFN) {
        let u = frames.use(f)
        if u.isLRU { policy.remove(f) }
        else if u == .unevictable { mlockedPages -= 1 }
        freeFrame(f)
    }

    func dropSwapRef(_ p: GuestProcess, _ slot: UInt32) {
        swap.swapMap[Int(slot)] -= 1
        p.swapEntries -= 1
        swap.releaseIfUnused(slot)
    }

    // MARK: - Page cache

    /// Finds or reads page `idx` of file `fid` into the page cache (find_get_page / filemap_fault).
    func pageCacheGet(_ fid: FileID, _ idx: Int, forWrite: Bool, major: inout Bool, locked: Bool, cost: inout Int64) -> PFN? {
        let fi = Int(fid)
        let e = files[fi].entry(idx)
        if e & GuestFile.tagMask == GuestFile.cachedTag { return e & GuestFile.valueMask }
        guard let f = allocFrame(cost: &cost) else { return nil }
        let i = Int(f)
        // The read (or the zeroing) writes the frame: the host backs it first.
        cost += touch(f, write: true)
        initFrame(f, flags: 0, owner: fid, index: UInt32(idx), mapCount: 0, content: .zero)
        var activate = false
        if e & GuestFile.tagMask == GuestFile.swappedTag {
            // shmem page living in swap.
            let slot = e & GuestFile.valueMask
            frames.content[i] = swap.slotContent[Int(slot)]
            swap.swapMap[Int(slot)] -= 1
            swap.releaseIfUnused(slot)
            vmstat.pswpin += 1
            cost += swapConfig.effectiveReadLatency.nanoseconds
            major = true
            activate = refault(shadow: swap.slotShadow[Int(slot)], anon: true)
        } else if !forWrite || files[fi].isShmem {
            if e & GuestFile.tagMask == GuestFile.shadowTag { activate = refault(shadow: e & GuestFile.valueMask, anon: false) }
            frames.content[i] = files[fi].diskContent(idx)
            if !files[fi].isShmem || files[fi].written[idx] != nil {
                vmstat.fileReads += 1
                vmstat.pgpgin += 1
                cost += costs.file_read.nanoseconds
                major = true
            }
        } else {
            frames.content[i] = files[fi].diskContent(idx)
        }
        files[fi].setEntry(idx, GuestFile.cachedTag | f)
        filePages += 1
        if files[fi].isShmem { shmemPages += 1 }
        putOnLRU(f, anon: false, locked: locked, activate: activate)
        if major && !files[fi].isShmem && idx > 0 && files[fi].cachedFrame(idx - 1) != nil { readAhead(fid, after: idx) }
        return f
    }

    /// On-demand read-ahead (mm/readahead.c): a miss right after a cached page is a sequential
    /// read, so the following `read_ahead_kb` of the file come in with the same I/O, as long as
    /// memory is above the low watermark. The pages go to the inactive list unreferenced.
    func readAhead(_ fid: FileID, after idx: Int) {
        let fi = Int(fid)
        let window = config.read_ahead_kb / 4
        guard window > 1 else { return }
        for j in (idx + 1)..<min(files[fi].pages, idx + window) {
            guard buddy.freePages > watermarks.low else { return }
            let e = files[fi].entry(j)
            if e & GuestFile.tagMask == GuestFile.cachedTag { continue }
            guard let f = buddy.allocate(order: 0) else { return }
            _ = touch(f, write: true)
            initFrame(f, flags: 0, owner: fid, index: UInt32(j), mapCount: 0, content: files[fi].diskContent(j))
            files[fi].setEntry(j, GuestFile.cachedTag | f)
            filePages += 1
            vmstat.pgpgin += 1
            vmstat.readahead += 1
            policy.add(f, anon: false, activate: false)
        }
    }

    /// Refault detection with the workingset shadow (mm/workingset.c): a page evicted fewer
    /// evictions ago than the active list is long would have stayed resident with a bigger
    /// inactive list, so it is activated at once.
    func refault(shadow: UInt32, anon: Bool) -> Bool {
        vmstat.workingset_refault += 1
        let distance = Int(evictionClock &- shadow)
        let active = policy.count(anon ? .activeAnon : .activeFile)
        if distance <= active {
            vmstat.workingset_activate += 1
            return true
        }
        return false
    }

    /// read(2) of one page of a file through the page cache.
    public func fileRead(_ pid: PID, file: FileID, page: Int) -> AccessOutcome {
        fileIO(pid, file: file, page: page, write: false)
    }

    /// write(2) of one whole page of a file through the page cache (dirtying it).
    public func fileWrite(_ pid: PID, file: FileID, page: Int) -> AccessOutcome {
        fileIO(pid, file: file, page: page, write: true)
    }

    func fileIO(_ pid: PID, file: FileID, page: Int, write: Bool) -> AccessOutcome {
        guard let p = process(pid) else { return AccessOutcome(.noProcess, cost: 0) }
        guard Int(file) < files.count, page >= 0, page < files[Int(file)].pages else { return AccessOutcome(.segv, cost: 0) }
        current = pid
        vmstat.accesses += 1
        var cost = costs.memory_access.nanoseconds
        var major = false
        let cached = files[Int(file)].cachedFrame(page) != nil
        guard let f = pageCacheGet(file, page, forWrite: write, major: &major, locked: false, cost: &cost) else {
            vmstat.accessTimeNs += cost
            return AccessOutcome(alive(p) ? .outOfMemory : .noProcess, cost: cost)
        }
        cost += touch(f, write: write)
        if cached { policy.markAccessed(f) }
        let i = Int(f)
        if write {
            if frames.flags[i] & FrameFlag.dirty == 0 { dirtyFilePages += 1 }
            frames.flags[i] |= FrameFlag.dirty
            writeCounter &+= 1
            let c = PageContent(style: files[Int(file)].style, seed: StableHash.mix(contentSeed, writeCounter) >> 8)
            frames.content[i] = c
            shadow?.recordFileWrite(file, page, c)
        }
        let r: AccessResult = major ? .majorFault : (cached ? .hit : .minorFault)
        if r != .hit { vmstat.pgfault += 1; cost += costs.minor_fault.nanoseconds }
        if major { vmstat.pgmajfault += 1 }
        vmstat.accessTimeNs += cost
        vmstat.stallNs += cost - costs.memory_access.nanoseconds
        return AccessOutcome(r, cost: cost)
    }

    // MARK: - Swap-in

    /// Brings the page in `slot` back for (p, vpn): from the swap cache (minor) or the device
    /// (major, with readahead of the slot's cluster, vm.page-cluster). Maps it read-only.
    func swapIn(_ p: GuestProcess, _ vpn: VPN, slot: UInt32, major: inout Bool, locked: Bool, cost: inout Int64) -> PFN? {
        let s = Int(slot)
        var f = swap.slotFrame[s]
        if f != nilFrame {
            vmstat.swapCacheHits += 1
        } else {
            guard let nf = allocFrame(cost: &cost) else { return nil }
            guard alive(p) else { freeFrame(nf); return nil }
            // The slot may have been dropped meanwhile (the OOM killer freed its owner): re-check.
            if PTE(raw: pteValue(p, vpn)).raw != PTE.swap(slot).raw { freeFrame(nf); return nil }
            f = nf
            cost += touch(f, write: true)
            readSwapSlot(slot, into: f)
            major = true
            vmstat.pswpin += 1
            cost += swapConfig.effectiveReadLatency.nanoseconds
            let activate = refault(shadow: swap.slotShadow[s], anon: true)
            putOnLRU(f, anon: true, locked: locked, activate: activate)
            swapReadahead(around: slot)
        }
        let i = Int(f)
        frames.rmapOwner[i] = p.family
        frames.rmapIndex[i] = UInt32(truncatingIfNeeded: vpn)
        swap.swapMap[s] -= 1
        p.swapEntries -= 1
        mapPage(p, vpn, f, writable: false, anon: true)
        return f
    }

    /// Sets up a frame fresh from the buddy allocator: its flags (keeping its use), reverse
    /// map, map count and contents.
    @inline(__always)
    func initFrame(_ f: PFN, flags: UInt16, owner: RmapOwner, index: UInt32, mapCount: UInt16, content: PageContent) {
        let i = Int(f)
        frames.flags[i] = (frames.flags[i] & (FrameFlag.useMask | FrameFlag.eptMask)) | flags
        frames.rmapOwner[i] = owner
        frames.rmapIndex[i] = index
        frames.mapCount[i] = mapCount
        frames.content[i] = content
    }

    /// Fills a new frame from a slot and adds it to the swap cache.
    func readSwapSlot(_ slot: UInt32, into f: PFN) {
        // Unmapped until a fault maps it; the reverse map is set then.
        initFrame(f, flags: FrameFlag.anon | FrameFlag.swapCache, owner: 0, index: 0, mapCount: 0, content: swap.slotContent[Int(slot)])
        swap.slotFrame[Int(slot)] = f
        frameSlot[f] = slot
        swapCachePages += 1
        anonPages += 1
    }

    /// Reads the other used slots of the faulting slot's aligned cluster into the swap cache
    /// (swapin_readahead), only while memory is above the low watermark.
    func swapReadahead(around slot: UInt32) {
        let n = 1 << config.page_cluster
        guard n > 1 else { return }
        let base = Int(slot) & ~(n - 1)
        for s in base..<min(base + n, swap.slotCount) where s != Int(slot) {
            guard buddy.freePages > watermarks.low else { return }
            guard swap.swapMap[s] > 0, swap.slotFrame[s] == nilFrame else { continue }
            guard let f = buddy.allocate(order: 0) else { return }
            _ = touch(f, write: true)
            readSwapSlot(UInt32(s), into: f)
            vmstat.pswpin += 1
            policy.add(f, anon: true, activate: false)
        }
    }
}
