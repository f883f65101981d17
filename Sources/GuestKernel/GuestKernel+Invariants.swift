extension GuestKernel {
    /// Checks every structural invariant of the guest's memory manager; returns the problems
    /// found (empty when consistent). O(frames + mapped pages): run every tick in tests and
    /// with `--check`, never in normal runs.
    ///
    /// - Frames are conserved: each is free (in the buddy), on one LRU list, unevictable,
    ///   kernel, a page-table page or ballooned or offline (not yet
    ///   hot-added, all above the online memory), and the per-use counters agree.
    /// - Page tables agree with frames (map counts, reverse maps, RSS) and with swap slots
    ///   (swap_map counts equal the references), and the swap cache is consistent both ways.
    /// - Committed_AS equals the sum of accounted regions.
    public func checkInvariants() -> [String] {
        var problems: [String] = []
        func fail(_ s: String) { if problems.count < 50 { problems.append("\(name): \(s)") } }
        problems += buddy.checkInvariants().map { "\(name): buddy: \($0)" }
        problems += policy.checkInvariants().map { "\(name): \($0)" }
        problems += swap.checkInvariants().map { "\(name): \($0)" }
        checkHugePages(fail)
        // The balloon driver's stats read two /proc/meminfo fields without building the rest.
        let m = meminfo, b = balloonStats
        if b.freePages * 4 != m.MemFree || b.availablePages * 4 != m.MemAvailable {
            fail("balloon stats \(b.freePages) free, \(b.availablePages) available pages; meminfo MemFree \(m.MemFree) kB, MemAvailable \(m.MemAvailable) kB")
        }

        // 1. Frame conservation by use.
        var byUse = [Int](repeating: 0, count: 16)
        var anonResident = 0, dirtyFile = 0
        for i in 0..<totalPages {
            let u = Int(frames.flags[i] & FrameFlag.useMask)
            byUse[u] += 1
            if (FrameUse(rawValue: UInt16(u))?.isLRU ?? false) || u == Int(FrameUse.unevictable.rawValue) {
                if frames.flags[i] & FrameFlag.anon != 0 { anonResident += 1 } else if frames.flags[i] & FrameFlag.dirty != 0 { dirtyFile += 1 }
            }
        }
        if byUse[Int(FrameUse.free.rawValue)] != buddy.freePages { fail("free frames \(byUse[0]) != buddy.freePages \(buddy.freePages)") }
        if buddy.isNUMA {
            // Per node: the frames marked free in the node's range are the node's free pages,
            // and each process's node and host node agree with the layout.
            for k in 0..<buddy.nodeCount {
                var free = 0
                for i in buddy.nodeStart[k]..<buddy.nodeStart[k + 1] where frames.flags[i] & FrameFlag.useMask == FrameUse.free.rawValue { free += 1 }
                if free != buddy.nodes[k].freePages { fail("node \(k): \(free) free frames != its allocator's freePages \(buddy.nodes[k].freePages)") }
            }
            for case let p? in processes where p.node >= buddy.nodeCount || p.hostNodeTag != nodeHostTags[p.node] {
                fail("pid \(p.pid): node \(p.node) with host node tag \(p.hostNodeTag), layout \(nodeHostTags)")
            }
        }
        if byUse[Int(FrameUse.isolated.rawValue)] != 0 { fail("\(byUse[Int(FrameUse.isolated.rawValue)]) frames left isolated") }
        if byUse[Int(FrameUse.kernel.rawValue)] != kernelFrames { fail("kernel frames \(byUse[Int(FrameUse.kernel.rawValue)]) != \(kernelFrames)") }
        if byUse[Int(FrameUse.pageTable.rawValue)] != pageTableFrames {
            fail("page-table frames \(byUse[Int(FrameUse.pageTable.rawValue)]) != \(pageTableFrames)")
        }
        if byUse[Int(FrameUse.unevictable.rawValue)] != mlockedPages {
            fail("unevictable frames \(byUse[Int(FrameUse.unevictable.rawValue)]) != mlocked \(mlockedPages)")
        }
        let zpoolFrames = byUse[Int(FrameUse.zpool.rawValue)]
        if zpoolFrames != compressedSwap.frames.count || zpoolFrames != compressedSwap.pool.pages {
            fail("zpool frames \(zpoolFrames) != pool frames \(compressedSwap.frames.count) != zsmalloc pages \(compressedSwap.pool.pages)")
        }
        for f in compressedSwap.frames where frames.use(f) != .zpool { fail("pool frame \(f) is in use \(frames.use(f))") }
        if byUse[Int(FrameUse.balloon.rawValue)] != balloonPages { fail("balloon frames \(byUse[Int(FrameUse.balloon.rawValue)]) != \(balloonPages)") }
        if byUse[Int(FrameUse.offline.rawValue)] != offlinePages { fail("offline frames \(byUse[Int(FrameUse.offline.rawValue)]) != \(offlinePages)") }
        for i in (totalPages - offlinePages)..<totalPages where frames.flags[i] & FrameFlag.useMask != FrameUse.offline.rawValue {
            fail("frame \(i) in the offline range is \(FrameUse(rawValue: frames.flags[i] & FrameFlag.useMask).map { "\($0)" } ?? "?")")
            break
        }
        for u in [FrameUse.activeAnon, .inactiveAnon, .activeFile, .inactiveFile] where byUse[Int(u.rawValue)] != policy.count(u) {
            fail("\(u) frames \(byUse[Int(u.rawValue)]) != policy count \(policy.count(u))")
        }
        let total = byUse.reduce(0, +)
        if total != totalPages { fail("frames by use sum to \(total), not \(totalPages)") }
        if anonResident != anonPages { fail("anon frames \(anonResident) != anonPages \(anonPages)") }
        if dirtyFile != dirtyFilePages { fail("dirty page-cache frames \(dirtyFile) != Dirty \(dirtyFilePages)") }
        if pageTables.leavesInUse != pageTableFrames { fail("page-table leaves \(pageTables.leavesInUse) != frames \(pageTableFrames)") }

        // 2. Page tables against frames and swap.
        var mapCount = [Int32](repeating: 0, count: totalPages)
        var swapRefs = [Int32](repeating: 0, count: swap.slotCount)
        var committed = 0
        for case let p? in processes {
            var rssA = 0, rssF = 0, swapE = 0, pc = 0
            for r in p.regions where r.isAccounted { pc += r.pages }
            committed += pc
            if pc != p.committed { fail("pid \(p.pid): committed \(p.committed) != accounted regions \(pc)") }
            for (d, leaf) in p.directory.enumerated() where leaf >= 0 {
                for k in 0..<PageTablePool.entriesPerLeaf {
                    let e = PTE(raw: pageTables.entries[Int(leaf) << 9 | k])
                    if e.isNone { continue }
                    let vpn = VPN(d) << 9 | VPN(k)
                    guard let ri = p.regionIndex(vpn) else { fail("pid \(p.pid): PTE at vpn \(vpn) outside every region"); continue }
                    let r = p.regions[ri]
                    if e.isSwap {
                        let s = Int(e.slot)
                        if s >= swap.slotCount { fail("pid \(p.pid): swap PTE with slot \(s) out of range"); continue }
                        swapRefs[s] += 1; swapE += 1
                        continue
                    }
                    let f = Int(e.pfn)
                    if f >= totalPages { fail("pid \(p.pid): PTE to frame \(f) out of range"); continue }
                    if e.raw & PTE.hostBit != 0 && (ept[f] & 3 != 3 || e.pfn == zeroPFN) {
                        fail("pid \(p.pid): PTE at \(vpn) caches a host translation the EPT no longer grants")
                    }
                    if e.raw & PTE.hostBit != 0 && ept[f] & GuestKernel.eptAccessed == 0 {
                        // testAndClearAllEPTAccessed relies on it.
                        fail("pid \(p.pid): PTE at \(vpn) caches a host translation of frame \(f), whose EPT accessed bit is clear")
                    }
                    if e.pfn == zeroPFN {
                        if e.isWritable { fail("pid \(p.pid): zero page mapped writable at \(vpn)") }
                        continue
                    }
                    let u = frames.use(e.pfn)
                    if !(u.isLRU || u == .unevictable) { fail("pid \(p.pid): vpn \(vpn) maps frame \(f) in use \(u)"); continue }
                    if e.isWritable && !r.protection.contains(.write) { fail("pid \(p.pid): writable PTE in read-only region at \(vpn)") }
                    mapCount[f] += 1
                    if frames.flags[f] & FrameFlag.anon != 0 {
                        rssA += 1
                        if frames.rmapOwner[f] != p.family || VPN(frames.rmapIndex[f]) != vpn & 0xFFFF_FFFF {
                            fail("pid \(p.pid): anon frame \(f) rmap (\(frames.rmapOwner[f]), \(frames.rmapIndex[f])) != (\(p.family), \(vpn))")
                        }
                        if e.isWritable && frames.flags[f] & FrameFlag.swapCache != 0 && frames.mapCount[f] != 1 {
                            fail("frame \(f): writable while in the swap cache and mapped \(frames.mapCount[f]) times")
                        }
                    } else {
                        rssF += 1
                        if Int(frames.rmapOwner[f]) != Int(r.fileID ?? .max) || Int(frames.rmapIndex[f]) != r.fileIndex(vpn) {
                            fail("pid \(p.pid): file frame \(f) rmap does not match region at \(vpn)")
                        }
                    }
                }
            }
            if rssA != p.rssAnon || rssF != p.rssFile || swapE != p.swapEntries {
                fail("pid \(p.pid): rss anon/file/swap \(p.rssAnon)/\(p.rssFile)/\(p.swapEntries) != counted \(rssA)/\(rssF)/\(swapE)")
            }
        }
        if committed != committedAS { fail("Committed_AS \(committedAS) != sum of accounted regions \(committed)") }
        for i in 0..<totalPages where PFN(i) != zeroPFN {
            let u = frames.use(PFN(i))
            guard u.isLRU || u == .unevictable else { continue }
            if Int32(frames.mapCount[i]) != mapCount[i] { fail("frame \(i): mapcount \(frames.mapCount[i]) != \(mapCount[i]) PTEs") }
            if frames.flags[i] & FrameFlag.lazyfree != 0 && frames.flags[i] & (FrameFlag.anon | FrameFlag.swapCache) != FrameFlag.anon {
                fail("frame \(i): lazily freeable (MADV_FREE) but not an anonymous page outside the swap cache")
            }
            if frames.flags[i] & FrameFlag.anon != 0 && mapCount[i] == 0 && frames.flags[i] & FrameFlag.swapCache == 0 {
                fail("frame \(i): anonymous, unmapped and not in the swap cache (leaked)")
            }
        }

        // 3. Page cache.
        var cached = 0, shmem = 0
        for (fi, file) in files.enumerated() where !file.index.isEmpty {
            for (idx, e) in file.index.enumerated() {
                switch e & GuestFile.tagMask {
                case GuestFile.cachedTag:
                    let f = Int(e & GuestFile.valueMask)
                    cached += 1
                    if file.isShmem { shmem += 1 }
                    let u = frames.use(PFN(f))
                    if !(u.isLRU || u == .unevictable) || frames.flags[f] & FrameFlag.anon != 0
                        || Int(frames.rmapOwner[f]) != fi || Int(frames.rmapIndex[f]) != idx
                    {
                        fail("file \(file.path) page \(idx): cached frame \(f) does not point back")
                    }
                case GuestFile.swappedTag:
                    let s = Int(e & GuestFile.valueMask)
                    if s < swap.slotCount { swapRefs[s] += 1 } else { fail("shmem \(fi) page \(idx): slot out of range") }
                default: break
                }
            }
        }
        if cached != filePages { fail("page-cache entries \(cached) != filePages \(filePages)") }
        if shmem != shmemPages { fail("shmem entries \(shmem) != Shmem \(shmemPages)") }

        // 4. Swap map and swap cache; compressed copies only of used slots, zswap's only of
        // slots without a swap-cache page (a load frees the entry), zram's for every used slot
        // without one.
        var stored = 0, same = 0
        for s in 0..<swap.slotCount {
            if let n = compressedSwap.storedLength(s) {
                stored += 1
                if n == 0 { same += 1 }
                if swap.isFree(s) { fail("slot \(s): free but holds a compressed copy") }
                if compressedSwap.mode == .zswap && swap.slotFrame[s] != nilFrame { fail("slot \(s): in the swap cache and in zswap") }
            } else if compressedSwap.mode == .zram && !swap.isFree(s) && swap.slotFrame[s] == nilFrame {
                fail("slot \(s): used, not in the swap cache, and not on the zram device")
            }
            if Int32(swap.swapMap[s]) != swapRefs[s] { fail("slot \(s): swap_map \(swap.swapMap[s]) != \(swapRefs[s]) references") }
            let f = swap.slotFrame[s]
            if f != nilFrame && (frameSlot[f] != UInt32(s) || !frames.has(f, FrameFlag.swapCache)) {
                fail("slot \(s): swap-cache frame \(f) does not point back")
            }
        }
        if stored != compressedSwap.storedPages || same != compressedSwap.sameFilledPages || stored - same != compressedSwap.pool.count {
            fail(
                "compressed entries \(stored) (\(same) same-filled) != stored \(compressedSwap.storedPages) (\(compressedSwap.sameFilledPages)), pool objects \(compressedSwap.pool.count)"
            )
        }
        problems += compressionProblems
        if frameSlot.count != swapCachePages { fail("swap cache holds \(frameSlot.count) frames, SwapCached says \(swapCachePages)") }
        for (f, s) in frameSlot.sorted(by: { $0.key < $1.key }) where swap.slotFrame[Int(s)] != f {
            fail("frame \(f): swap cache slot \(s) does not point back")
        }
        return problems
    }
}
