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
                        if isRemote(pfn, for: p) {
                            // On another host node than this process's node: the translation
                            // is not cached, so every access comes back here and pays.
                            cost += remoteAccess()
                        } else if ept[pfn] & 3 == 3 && PFN(pfn) != zeroPFN {
                            ne |= PTE.hostBit
                        }
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

    /// The page fault handler (mm/memory.c `handle_mm_fault`, `handle_pte_fault`): checks the
    /// region and its protection (SIGSEGV otherwise), makes sure the page-table leaf exists,
    /// then dispatches on the PTE. No entry: `doAnonymousPage` (private anonymous memory) or
    /// `doFileFault` (file and shmem pages, through the page cache); a swap entry:
    /// `doSwapPage`; present: either the PTE allowed the access and only the host's part of
    /// the translation was missing, or it is a write to a read-only PTE: `doWPPage`. A write to
    /// a page the first two map read-only continues as a write-protect fault, as in Linux.
    /// On return the access has been performed (content written).
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
            if case .anonymous = region.backing, !region.shared {
                if write && hugePagesAllowed(region), let r = doHugeAnonymousPage(p, vpn, region: region, cost: &cost) { return r }
                return doAnonymousPage(p, vpn, region: region, write: write, cost: &cost)
            }
            switch doFileFault(p, vpn, region: region, write: write, cost: &cost) {
            case .done(let r): return r
            case .writeProtected(let r): result = r; e = PTE(raw: pteValue(p, vpn))
            }
        } else if e.isSwap {
            switch doSwapPage(p, vpn, slot: e.slot, region: region, write: write, cost: &cost) {
            case .done(let r): return r
            case .writeProtected(let r): result = r; e = PTE(raw: pteValue(p, vpn))
            }
        }

        // Present: a read that faulted only because of the host, or a write to a read-only PTE.
        let pfn = e.pfn
        if !write || e.isWritable {
            cost += touch(pfn, write: write)
            if write { performWrite(p, vpn, pfn) } else { frames.flags[Int(pfn)] |= FrameFlag.accessed }
            return result
        }
        return doWPPage(p, vpn, e, region: region, result: result, cost: &cost)
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
}

/// Where one step of the fault handler left the access.
enum FaultStep {
    /// The access is done, with this result.
    case done(AccessResult)
    /// The page is mapped read-only and the access is a write: it continues as a write-protect
    /// fault (`doWPPage`), which reports this result unless it copies or zero-fills.
    case writeProtected(AccessResult)
}
