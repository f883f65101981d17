import OvercommitSupport
import PageContents

/// khugepaged's position in its round-robin scan of the address spaces (Linux's
/// `khugepaged_scan`: the mm slot and the address in it).
struct KhugepagedScan {
    /// The process scanned next (an index into the process table) and the address in it.
    var pid = 1
    var vpn: VPN = 0
}

/// Why khugepaged left a 2 MiB range as it was, or that it collapsed it.
enum CollapseResult {
    case collapsed
    /// The range does not qualify (Linux's SCAN_* results: too many empty, swapped or shared
    /// PTEs, no referenced page, already huge, not anonymous).
    case skipped
    /// No free order-9 block (thp_collapse_alloc_failed): khugepaged sleeps
    /// `alloc_sleep_millisecs`.
    case allocationFailed
}

/// khugepaged, the guest kernel thread that collapses small pages into transparent huge pages
/// (Linux mm/khugepaged.c).
///
/// Every `scan_sleep_millisecs` it wakes and examines up to `pages_to_scan` page-table
/// entries, continuing where it stopped, process after process in pid order, VMA after VMA;
/// each 2 MiB-aligned range fully inside a VMA that allows huge pages counts 512, any other
/// VMA 1 (`khugepaged_scan_mm_slot`). Passing the last process is a full scan (full_scans). A
/// range is collapsed (`hpage_collapse_scan_pmd`, `collapse_huge_page`) when at most
/// `max_ptes_none` of its PTEs are empty or map the zero page, at most `max_ptes_swap` are
/// swapped out (they are swapped in first, and then at least half the range must have been
/// referenced), at most `max_ptes_shared` map a page another process maps, every present
/// page is an anonymous page on an LRU list, and at least one was referenced (a young PTE
/// or PG_referenced). A fresh order-9 block is taken (thp_collapse_alloc; on failure
/// thp_collapse_alloc_failed and a sleep of `alloc_sleep_millisecs`), every present page's
/// bytes are copied into it, empty and zero-page entries become zero-filled memory, the old
/// pages are unmapped (freed unless another process still maps them) and the range is
/// mapped by the new huge page (pages_collapsed). Allocation takes a free block above the
/// low watermark only (khugepaged's `defrag` is not modelled).
extension GuestKernel {
    /// One wakeup of khugepaged; returns the nanoseconds it sleeps until the next one.
    public func runKhugepaged() -> Int64 {
        let cfg = config.transparent_hugepage.khugepaged
        let sleep = Int64(cfg.scan_sleep_millisecs) * 1_000_000
        guard !panicked, config.transparent_hugepage.enabled != .never else { return sleep }
        var scan = khugepagedScan
        var progress = 0
        var wraps = 0
        let hugeRange = VPN(GuestKernel.hugePagePages)
        defer { khugepagedScan = scan }
        while progress < cfg.pages_to_scan {
            guard scan.pid < processes.count else {
                // Past the last address space: one full scan done, start again.
                if processes.contains(where: { $0 != nil }) { vmstat.khugepaged_full_scans += 1 }
                scan = KhugepagedScan()
                wraps += 1
                if wraps > 1 { break }
                continue
            }
            guard let p = processes[scan.pid], let r = p.regions.first(where: { $0.end > scan.vpn }) else {
                scan.pid += 1
                scan.vpn = 0
                continue
            }
            let base = (max(r.start, scan.vpn) + hugeRange - 1) & ~(hugeRange - 1)
            guard hugePagesAllowed(r), base + hugeRange <= r.end else {
                progress += 1
                scan.vpn = r.end
                continue
            }
            progress += GuestKernel.hugePagePages
            scan.vpn = base + hugeRange
            current = p.pid
            if collapseHugePage(p, base, r, swapIn: true) == .allocationFailed {
                return Int64(cfg.alloc_sleep_millisecs) * 1_000_000
            }
        }
        return sleep
    }

    /// Collapses [base, base + 512) of `p`, inside region `r`, into a new huge page if it
    /// qualifies (`hpage_collapse_scan_pmd`, then `collapse_huge_page`).
    func collapseHugePage(_ p: GuestProcess, _ base: VPN, _ r: Region, swapIn: Bool) -> CollapseResult {
        let cfg = config.transparent_hugepage.khugepaged
        let d = Int(truncatingIfNeeded: base >> 9)
        // No page table: nothing was ever mapped here (SCAN_PMD_NULL).
        guard d < p.directory.count, p.directory[d] >= 0 else { return .skipped }
        var none = 0, swapped = 0, shared = 0, referenced = 0
        for i in 0..<VPN(GuestKernel.hugePagePages) {
            let e = PTE(raw: pteValue(p, base + i))
            if e.isNone || (e.isPresent && e.pfn == zeroPFN) {
                none += 1
                if none > cfg.max_ptes_none { return .skipped }
                continue
            }
            if e.isSwap {
                swapped += 1
                if swapped > cfg.max_ptes_swap || !swapIn { return .skipped }
                continue
            }
            guard e.isPresent else { return .skipped }
            let f = e.pfn, fi = Int(f)
            // Already a huge page (SCAN_PMD_MAPPED), or not an anonymous page on an LRU list
            // (SCAN_PAGE_ANON, SCAN_PAGE_LRU).
            if isHugeFrame(f) || frames.flags[fi] & FrameFlag.anon == 0 { return .skipped }
            let u = frames.use(f)
            guard u.isLRU || u == .unevictable else { return .skipped }
            if frames.mapCount[fi] > 1 {
                shared += 1
                if shared > cfg.max_ptes_shared { return .skipped }
            }
            if e.raw & PTE.youngBit != 0 || frames.flags[fi] & (FrameFlag.referenced | FrameFlag.accessed) != 0 { referenced += 1 }
        }
        // SCAN_LACK_REFERENCED_PAGE: nothing referenced, or too little to be worth swapping in.
        if referenced == 0 || (swapped > 0 && referenced < GuestKernel.hugePagePages / 2) { return .skipped }
        if swapped > 0 {
            // __collapse_huge_page_swapin: read the swapped pages back, then look again.
            for i in 0..<VPN(GuestKernel.hugePagePages) where PTE(raw: pteValue(p, base + i)).isSwap {
                var cost: Int64 = 0
                _ = handleFault(p, base + i, write: false, cost: &cost)
                guard alive(p) else { return .skipped }
            }
            guard let ri = p.regionIndex(base), p.regions[ri].start <= base, p.regions[ri].end >= base + VPN(GuestKernel.hugePagePages) else {
                return .skipped
            }
            return collapseHugePage(p, base, p.regions[ri], swapIn: false)
        }
        guard mayTakeHugeBlock(), let head = buddy.allocate(order: GuestKernel.hugePageOrder) else {
            vmstat.thp_collapse_alloc_failed += 1
            return .allocationFailed
        }
        vmstat.thp_collapse_alloc += 1
        // __collapse_huge_page_copy: read every present page, then release the old mappings.
        var contents = [PageContent](repeating: .zero, count: GuestKernel.hugePagePages)
        for i in 0..<GuestKernel.hugePagePages {
            let e = PTE(raw: pteValue(p, base + VPN(i)))
            guard e.isPresent, e.pfn != zeroPFN else { continue }
            _ = touch(e.pfn, write: false)
            contents[i] = frames.content[Int(e.pfn)]
        }
        for i in 0..<GuestKernel.hugePagePages {
            let vpn = base + VPN(i)
            let e = PTE(raw: pteValue(p, vpn))
            if e.isPresent { unmapOne(p, vpn, e) }
        }
        mapNewHugePage(p, base, head, locked: r.locked, writable: r.protection.contains(.write)) { contents[$0] }
        vmstat.khugepaged_pages_collapsed += 1
        return .collapsed
    }
}
