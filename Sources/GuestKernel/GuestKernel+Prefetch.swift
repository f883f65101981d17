import CPrefetch

/// Prefetch hints for references a workload is about to issue: they make the simulator
/// faster and change nothing it simulates.
///
/// A workload's references land on random pages of working sets of gigabytes, so the
/// access path (`access`) waits for main memory on the page-table entry and then on the
/// frame's state: on the 64 GiB scale rung that wait was most of the run. A workload that
/// knows its coming references (drawn ahead on a copy of its random stream, see
/// `ReferenceLookahead`) hands them here a few references early, in two stages as software
/// pipelining does: first the page-table entry, then, once that entry is in the cache, the
/// frame's flags (and its content descriptor for a write). Nothing is read that the access
/// would not read, nothing is written, and a hint for a page that is not mapped does nothing.
extension GuestKernel {
    /// Stage one: starts loading the page-table entry of `vpn` in `pid`.
    @inline(__always)
    public func prefetchEntry(_ pid: PID, _ vpn: VPN) {
        guard let i = entryIndex(pid, vpn) else { return }
        oc_prefetch(pageTables.entries + i)
    }

    /// Stage two: when the entry (loaded by stage one) maps a frame, starts loading what the
    /// access will read of that frame: its flags (which hold the EPT bits) unless the entry
    /// caches the host's translation, and for a write the flags and the content descriptor. A
    /// read through a cached translation reads nothing of the frame (`accessMapped`), so its
    /// hint loads nothing: on a large host most references are such reads, and a needless
    /// line fill competes with the ones that are needed.
    @inline(__always)
    public func prefetchFrame(_ pid: PID, _ vpn: VPN, write: Bool) {
        guard let i = entryIndex(pid, vpn) else { return }
        let e = pageTables.entries[i]
        guard e & PTE.presentBit != 0 else { return }
        let pfn = Int(e & PTE.pfnMask)
        if write {
            oc_prefetch(frames.flags + pfn)
            oc_prefetch_write(frames.content + pfn)
        } else if e & PTE.hostBit == 0 || policyWantsAccessHook {
            oc_prefetch(frames.flags + pfn)
        }
    }

    /// Where the page-table entry of `vpn` in `pid` is, if its page-table leaf exists.
    @inline(__always)
    func entryIndex(_ pid: PID, _ vpn: VPN) -> Int? {
        let ipid = Int(pid)
        guard ipid > 0 && ipid < fastProcesses.count, let u = fastProcesses[ipid] else { return nil }
        return u._withUnsafeGuaranteedRef { pteIndex($0, vpn) }
    }
}
