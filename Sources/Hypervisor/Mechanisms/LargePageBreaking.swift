import HostPolicies

/// Breaks 2 MiB large pages into 4 KiB pages (ESXi from the clear state on), offering the
/// subpages whose hashes the scanner precomputed for sharing at once ("share before swap").
public struct LargePageBreaking: ReclaimMechanism {
    public init() {}
    public var technique: ReclaimTechnique { .break_large_pages }
    public var summary: String { "ESXi: break 2 MiB large pages into 4 KiB pages; subpages with precomputed hashes are shared at once" }

    /// The subpages of the VM's intact large pages.
    public func count(_ vm: VirtualMachine, on host: HostMemory) -> Int { vm.largePages * 512 }

    /// Breaks enough intact large pages (in address order) to cover `nrToScan` pages, at
    /// least one; `reclaimed` is the frames sharing freed at once.
    public func scan(_ control: HostReclaimControl, on host: HostMemory) -> ReclaimOutcome {
        let vm = control.vm
        var out = ReclaimOutcome()
        let wanted = max(1, (control.nrToScan + 511) / 512)
        var r = 0
        while out.largePagesBroken < wanted, let next = vm.nextIntactLargePage(from: r) {
            out.reclaimed += breakLargePage(next, of: vm, shareFirst: control.mayShare, on: host)
            out.largePagesBroken += 1
            r = next + 1
        }
        return out
    }

    /// Breaks the large page of region `r`; with `shareFirst` (and sharing configured) each
    /// subpage with a precomputed hash is matched at once. Returns the frames that freed.
    func breakLargePage(_ r: Int, of vm: VirtualMachine, shareFirst: Bool, on host: HostMemory) -> Int {
        guard vm.breakLargePage(r), shareFirst && host.config.sharing.enabled else { return 0 }
        var freed = 0
        for i in vm.pages(ofRegion: r) where host.sharing.shareBeforeSwap(vm, i, on: host) { freed += 1 }
        return freed
    }
}
