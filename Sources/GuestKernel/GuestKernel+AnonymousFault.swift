import OvercommitSupport
import PageContents

/// Faults on private anonymous memory that has never been touched (mm/memory.c).
extension GuestKernel {
    /// First touch of private anonymous memory (mm/memory.c `do_anonymous_page`): a read maps
    /// the shared zero page read-only; a write gets a fresh zero-filled frame, mapped writable.
    func doAnonymousPage(_ p: GuestProcess, _ vpn: VPN, region: Region, write: Bool, cost: inout Int64) -> AccessResult {
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
}
