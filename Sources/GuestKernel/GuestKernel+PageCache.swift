import OvercommitSupport
import PageContents

/// The page cache (mm/filemap.c, mm/readahead.c, mm/workingset.c): file pages looked up or
/// read in, read-ahead, refault detection with shadow entries, and read(2)/write(2).
extension GuestKernel {
    /// Finds or reads page `idx` of file `fid` into the page cache (find_get_page / filemap_fault).
    /// `hint` is the mapping's madvise read-ahead hint: SEQUENTIAL reads ahead on every miss,
    /// RANDOM never (mm/filemap.c `do_sync_mmap_readahead`, VM_SEQ_READ / VM_RAND_READ).
    func pageCacheGet(
        _ fid: FileID, _ idx: Int, forWrite: Bool, major: inout Bool, locked: Bool, cost: inout Int64, hint: ReadAheadHint = .normal
    ) -> PFN? {
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
            let read = loadSwapSlot(slot)
            swap.swapMap[Int(slot)] -= 1
            releaseSwapSlot(slot)
            if read.from != .zswap { vmstat.pswpin += 1 }
            cost += read.costNs
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
        if major && !files[fi].isShmem {
            switch hint {
            case .normal: if idx > 0 && files[fi].cachedFrame(idx - 1) != nil { readAhead(fid, after: idx) }
            case .sequential: readAhead(fid, after: idx)
            case .random: break
            }
        }
        return f
    }

    /// On-demand read-ahead (mm/readahead.c): a miss right after a cached page is a sequential
    /// read, so the following `read_ahead_kb` of the file come in with the same I/O, as long as
    /// memory is above the low watermark. The pages go to the inactive list unreferenced.
    func readAhead(_ fid: FileID, after idx: Int) {
        let window = config.read_ahead_kb / 4
        guard window > 1 else { return }
        for j in (idx + 1)..<min(files[Int(fid)].pages, idx + window) {
            guard readAheadPage(fid, j) else { return }
        }
    }

    /// Reads page `idx` of file `fid` into the page cache ahead of use, unreferenced on the
    /// inactive list (nothing if it is cached). False when memory is at the low watermark or
    /// no frame is free: the read-ahead stops there.
    func readAheadPage(_ fid: FileID, _ idx: Int) -> Bool {
        let fi = Int(fid)
        guard buddy.freePages > watermarks.low else { return false }
        if files[fi].entry(idx) & GuestFile.tagMask == GuestFile.cachedTag { return true }
        guard let f = buddy.allocate(order: 0) else { return false }
        _ = touch(f, write: true)
        initFrame(f, flags: 0, owner: fid, index: UInt32(idx), mapCount: 0, content: files[fi].diskContent(idx))
        files[fi].setEntry(idx, GuestFile.cachedTag | f)
        filePages += 1
        vmstat.pgpgin += 1
        vmstat.readahead += 1
        policy.add(f, anon: false, activate: false)
        return true
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
}
