import OvercommitSupport
import PageContents

/// Faults on swapped-out anonymous pages (mm/memory.c `do_swap_page`, mm/swap_state.c
/// `swapin_readahead`).
extension GuestKernel {
    /// Access to a page whose PTE holds a swap entry (mm/memory.c `do_swap_page`): the page
    /// comes back from the swap cache (minor) or the swap device (major), mapped read-only. A
    /// write continues as a write-protect fault, which reuses the page if it is exclusive.
    func doSwapPage(_ p: GuestProcess, _ vpn: VPN, slot: UInt32, region: Region, write: Bool, cost: inout Int64) -> FaultStep {
        var major = false
        guard let f = swapIn(p, vpn, slot: slot, major: &major, locked: region.locked, cost: &cost) else {
            return .done(alive(p) ? .outOfMemory : .noProcess)
        }
        guard alive(p) else { return .done(.noProcess) }
        let result: AccessResult = major ? .majorFault : .minorFault
        if !write {
            frames.flags[Int(f)] |= FrameFlag.accessed
            if let s = frameSlot[f], swap.swapMap[Int(s)] == 0 {
                // do_swap_page (Linux >= 5.19): should_try_to_free_swap() drops the slot when
                // swap is over half full or the VMA is locked; an exclusive page of a writable
                // VMA is mapped writable at once, so its first write does not fault again.
                // A zram slot is freed at once (the SWP_SYNCHRONOUS_IO path skips the swap
                // cache), so the device does not keep a copy of a page in memory.
                if swap.freeSlots * 2 < swap.slotCount || region.locked || swapConfig.kind == .zram {
                    removeFromSwapCache(f, slot: s)
                    frames.flags[Int(f)] |= FrameFlag.dirty
                }
                if region.protection.contains(.write) && frames.mapCount[Int(f)] == 1 { setPTE(p, vpn, PTE.present(f, writable: true).raw) }
            }
            cost += touch(f, write: false)
            return .done(result)
        }
        return .writeProtected(result)
    }

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
            // zram is a synchronous device: a slot only this PTE names is read alone, with
            // no read-ahead (do_swap_page's SWP_SYNCHRONOUS_IO path).
            let synchronous = swapConfig.kind == .zram && swap.swapMap[s] == 1
            let read = readSwapSlot(slot, into: f)
            major = true
            if read.from != .zswap { vmstat.pswpin += 1 }
            cost += read.costNs
            let activate = refault(shadow: swap.slotShadow[s], anon: true)
            putOnLRU(f, anon: true, locked: locked, activate: activate)
            if !synchronous { swapReadahead(around: slot) }
        }
        let i = Int(f)
        frames.rmapOwner[i] = p.family
        frames.rmapIndex[i] = UInt32(truncatingIfNeeded: vpn)
        swap.swapMap[s] -= 1
        p.swapEntries -= 1
        mapPage(p, vpn, f, writable: false, anon: true)
        return f
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
            if readSwapSlot(UInt32(s), into: f).from != .zswap { vmstat.pswpin += 1 }
            policy.add(f, anon: true, activate: false)
        }
    }
}
