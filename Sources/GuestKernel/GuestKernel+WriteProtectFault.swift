import OvercommitSupport
import PageContents

/// Writes to pages mapped read-only: the zero page, copy-on-write after fork or for private
/// file mappings, pages just read back from swap (mm/memory.c `do_wp_page`).
extension GuestKernel {
    /// A write to a present, read-only PTE (mm/memory.c `do_wp_page`): the zero page gets a
    /// fresh frame; a shared file mapping is made writable in place; an exclusive anonymous
    /// page is reused (leaving the swap cache, `wp_can_reuse_anon_folio`); anything else is
    /// copied into a new private anonymous frame (copy-on-write, `wp_page_copy`). `result` is
    /// what the fault was so far (major if the page was just read in).
    func doWPPage(_ p: GuestProcess, _ vpn: VPN, _ e: PTE, region: Region, result: AccessResult, cost: inout Int64) -> AccessResult {
        let pfn = e.pfn
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
        // Copy-on-write of a huge page: split it, then copy the one page (do_huge_pmd_wp_page
        // falls back to small pages when the huge page is not exclusive).
        if isAnon && anonHugePages > 0 && isHugeFrame(pfn) { splitHugePage(pfn) }
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

    /// If the frame is in the swap cache and no other swap entry refers to its slot, removes
    /// it from the swap cache so it can be written (reuse_swap_page). False if it must be copied.
    func reuseSwapCache(_ pfn: PFN) -> Bool {
        guard frames.flags[Int(pfn)] & FrameFlag.swapCache != 0, let slot = frameSlot[pfn] else { return true }
        if swap.swapMap[Int(slot)] != 0 { return false }
        removeFromSwapCache(pfn, slot: slot)
        return true
    }
}
