import OvercommitSupport
import PageContents

/// Mapping and unmapping frames in page tables, the reverse-map bookkeeping that goes with it
/// (mm/rmap.c, the zap path of mm/memory.c), and putting new frames on the LRU (mm/swap.c).
extension GuestKernel {
    /// Puts a newly resident frame on the replacement policy's lists (`lru_cache_add`), or on
    /// the unevictable list when its region is mlocked.
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
                if swap.swapMap[Int(slot)] > 0 { return }  // others still need the data via the slot; keep the cache page
                removeFromSwapCache(f, slot: slot)
            }
            releaseFrame(f)
            anonPages -= 1
        }
    }

    /// Takes a resident frame off its list and returns it to the buddy allocator.
    func releaseFrame(_ f: PFN) {
        let u = frames.use(f)
        if u.isLRU { policy.remove(f) } else if u == .unevictable { mlockedPages -= 1 }
        freeFrame(f)
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

    /// Linux's page_referenced() + PG_referenced test: was the page accessed since the last
    /// check? Reads and clears the accessed bit of every PTE mapping it (through the rmap)
    /// and the frame's own accessed flag (set by read(2)/write(2) and fault paths).
    public func testAndClearReferenced(_ pfn: PFN) -> Bool {
        let i = Int(pfn)
        var referenced = frames.flags[i] & FrameFlag.accessed != 0
        frames.flags[i] &= ~FrameFlag.accessed
        forEachPTE(of: pfn) { idx in
            let e = pageTables.entries[idx]
            if e & PTE.youngBit != 0 {
                referenced = true
                pageTables.entries[idx] = e & ~PTE.youngBit
            }
        }
        return referenced
    }

    /// Calls `body` with the page-table pool index of every PTE mapping `pfn`.
    @inline(__always)
    func forEachPTE(of pfn: PFN, _ body: (Int) -> Void) {
        // Through the unretained process table, as `livePTE` (a mapping's leaf exists).
        forEachMapping(of: pfn) { pid, vpn in if let idx = entryIndex(pid, vpn) { body(idx) } }
    }

    /// Calls `body` for every (pid, vpn) whose PTE maps `pfn` (the reverse map walk). Inlined
    /// into its callers: called out of line, the closure that captures the kernel made every
    /// walk retain and release it (aging and reclaim walk once per page they look at).
    @inline(__always)
    func forEachMapping(of pfn: PFN, _ body: (PID, VPN) -> Void) {
        let i = Int(pfn)
        guard frames.mapCount[i] > 0 else { return }
        if frames.flags[i] & FrameFlag.anon != 0 {
            let vpn = VPN(frames.rmapIndex[i])
            // Borrowed in place: iterating a copy of the family's array retained it per walk.
            families[Int(frames.rmapOwner[i])].withUnsafeBufferPointer { family in
                for pid in family {
                    let e = livePTE(pid, vpn)
                    if e & PTE.presentBit != 0 && e & PTE.pfnMask == pfn { body(pid, vpn) }
                }
            }
        } else {
            let f = Int(frames.rmapOwner[i]), idx = Int(frames.rmapIndex[i])
            for m in files[f].mappers where idx >= m.offset && idx < m.offset + m.pages {
                let vpn = m.start + VPN(idx - m.offset)
                let e = livePTE(m.pid, vpn)
                if e & PTE.presentBit != 0 && e & PTE.pfnMask == pfn { body(m.pid, vpn) }
            }
        }
    }
}

extension GuestKernel {
    /// The page-table entry of `vpn` in `pid`, 0 when the process is gone or the leaf does not
    /// exist (read through the unretained process table: the reverse-map walk runs for every
    /// page reclaim and aging look at).
    @inline(__always)
    func livePTE(_ pid: PID, _ vpn: VPN) -> UInt32 {
        entryIndex(pid, vpn).map { pageTables.entries[$0] } ?? 0
    }
}
