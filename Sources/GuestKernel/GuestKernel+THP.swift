import OvercommitSupport
import PageContents

/// Transparent huge pages of private anonymous memory (Linux mm/huge_memory.c,
/// Documentation/admin-guide/mm/transhuge.rst).
///
/// A huge page is an aligned order-9 block of the buddy allocator (512 frames, 2 MiB) that one
/// 2 MiB-aligned range of a process maps whole. Linux maps it with one PMD entry; here the
/// range's page-table leaf holds its 512 entries, in order (Linux deposits that leaf with the
/// huge PMD anyway, `pgtable_trans_huge_deposit`, so the guest memory is the same), and
/// `hugeBlocks` marks the block as one compound page. An access that hits costs what it cost
/// before: nothing on the access path looks at the mark.
///
/// - Fault (`do_huge_pmd_anonymous_page`): a write to an untouched range whose page-table
///   leaf is empty (`pmd_none`), fully inside a VMA that allows huge pages
///   (`enabled: always` without MADV_NOHUGEPAGE, or `madvise` with MADV_HUGEPAGE), takes an
///   order-9 block if one is free above the low watermark and zero-fills all of it
///   (`clear_huge_page`): the 512 guest-physical frames are written, so the host backs every
///   one (one large page when it can). Otherwise the fault falls back to a small page
///   (thp_fault_fallback). A read maps the small zero page: Linux maps the huge zero page,
///   which a later write splits back into small pages (`do_huge_pmd_wp_page` falls back), so
///   the memory that results is the same.
/// - Split (`split_huge_pmd`, `split_huge_page`): copy-on-write of a huge page after fork,
///   munmap, MADV_DONTNEED or MADV_FREE of part of it, a VMA boundary inside it, and reclaim
///   of any subpage split the huge page into 512 small pages, which keep their frames,
///   contents and PTEs (thp_split_page once, thp_split_pmd once per process mapping it).
///   Linux splits the PMD at once and the page later (deferred split queue); both happen at
///   once here. Swap-out splits and then swaps subpages one by one, as Linux did before 4.13
///   (and does when no free swap cluster is found, thp_swpout_fallback); whole-THP swap-out
///   (thp_swpout) is not modelled. Zero-filled subpages stay mapped after a split: the 6.12+
///   `thp_underused` shrinker, which maps them to the zero page, is not modelled.
/// - The LRU keeps one entry per subpage (Linux keeps one per folio), and the accessed bits
///   are per subpage; reclaim picking any subpage splits the huge page first.
/// - Freed whole (munmap or exit of every mapping), the 512 frames go back to the buddy
///   allocator and merge again into an order-9 block.
extension GuestKernel {
    /// HPAGE_PMD_ORDER and HPAGE_PMD_NR on x86-64.
    public static let hugePageOrder = 9
    public static let hugePagePages = 1 << hugePageOrder

    /// Whether `f` is a frame of a transparent huge page.
    @inline(__always)
    public func isHugeFrame(_ f: PFN) -> Bool {
        let b = Int(f) >> GuestKernel.hugePageOrder
        return hugeBlocks[b >> 6] & (1 << UInt64(b & 63)) != 0
    }

    func markHugeBlock(_ head: PFN, _ on: Bool) {
        let b = Int(head) >> GuestKernel.hugePageOrder
        if on {
            hugeBlocks[b >> 6] |= 1 << UInt64(b & 63)
            anonHugePages += 1
        } else {
            hugeBlocks[b >> 6] &= ~(1 << UInt64(b & 63))
            anonHugePages -= 1
        }
    }

    /// Whether the VMA may be backed by huge pages (`thp_vma_allowable_order`, `hugepage_vma_check`):
    /// private anonymous memory under `always` unless MADV_NOHUGEPAGE, under `madvise` only
    /// with MADV_HUGEPAGE.
    func hugePagesAllowed(_ r: Region) -> Bool {
        guard case .anonymous = r.backing, !r.shared else { return false }
        switch config.transparent_hugepage.enabled {
        case .never: return false
        case .always: return r.hugepage != .nohugepage
        case .madvise: return r.hugepage == .hugepage
        }
    }

    /// The first frame of the huge page whose block holds `f`.
    @inline(__always) static func hugeHead(_ f: PFN) -> PFN { f & ~PFN(hugePagePages - 1) }
    /// The first page of the 2 MiB range holding `vpn`.
    @inline(__always) static func hugeBase(_ vpn: VPN) -> VPN { vpn & ~VPN(hugePagePages - 1) }

    /// Whether a free order-9 block can be taken without going below the low watermark (the
    /// first attempt of `__alloc_pages`, ALLOC_WMARK_LOW; no compaction, no reclaim).
    func mayTakeHugeBlock() -> Bool {
        buddy.freePages - GuestKernel.hugePagePages > watermarks.low
    }

    /// A write fault on untouched private anonymous memory with huge pages allowed
    /// (`do_huge_pmd_anonymous_page`). Returns nil when the range cannot have one (the caller
    /// maps a small page).
    func doHugeAnonymousPage(_ p: GuestProcess, _ vpn: VPN, region: Region, cost: inout Int64) -> AccessResult? {
        let base = GuestKernel.hugeBase(vpn)
        guard base >= region.start, base + VPN(GuestKernel.hugePagePages) <= region.end else { return nil }
        // pmd_none: the range's page-table leaf maps nothing yet.
        let leaf = Int(p.directory[Int(truncatingIfNeeded: vpn >> 9)]) << 9
        for i in leaf..<(leaf + GuestKernel.hugePagePages) where pageTables.entries[i] != 0 { return nil }
        guard mayTakeHugeBlock(), let head = buddy.allocate(order: GuestKernel.hugePageOrder) else {
            vmstat.thp_fault_fallback += 1
            return nil
        }
        mapNewHugePage(p, base, head, locked: region.locked, writable: true) { _ in .zero }
        // clear_huge_page: all 2 MiB are zeroed by the faulting task.
        cost += costs.zero_fill.nanoseconds * Int64(GuestKernel.hugePagePages)
        vmstat.zeroFills += 1
        vmstat.thp_fault_alloc += 1
        performWrite(p, vpn, head + PFN(vpn - base))
        return .zeroFill
    }

    /// Maps the fresh order-9 block `head` at [base, base + 512) of `p`: every frame is
    /// written (`content` of its index: zero for a fault, the old page's bytes for a collapse),
    /// so the host backs each one; each is anonymous, mapped once and on the LRU.
    func mapNewHugePage(_ p: GuestProcess, _ base: VPN, _ head: PFN, locked: Bool, writable: Bool, content: (Int) -> PageContent) {
        for i in 0..<GuestKernel.hugePagePages {
            let f = head + PFN(i)
            _ = touch(f, write: true)
            initFrame(
                f, flags: FrameFlag.anon, owner: p.family, index: UInt32(truncatingIfNeeded: base + VPN(i)), mapCount: 1,
                content: content(i))
            putOnLRU(f, anon: true, locked: locked, activate: false)
            setPTE(p, base + VPN(i), PTE.present(f, writable: writable).raw)
        }
        p.rssAnon += GuestKernel.hugePagePages
        anonPages += GuestKernel.hugePagePages
        markHugeBlock(head, true)
    }

    /// Splits the huge page holding frame `f` into 512 small pages (`split_huge_page`, after
    /// `split_huge_pmd` in every process mapping it). Its frames, contents, PTEs and LRU
    /// entries stay as they are.
    func splitHugePage(_ f: PFN) {
        let head = GuestKernel.hugeHead(f)
        guard isHugeFrame(head) else { return }
        vmstat.thp_split_pmd += Int(frames.mapCount[Int(head)])
        vmstat.thp_split_page += 1
        markHugeBlock(head, false)
    }

    /// Splits the huge page `p` maps over the 2 MiB range holding `vpn`, if any.
    func splitHugePageMapped(_ p: GuestProcess, at vpn: VPN) {
        let e = PTE(raw: pteValue(p, GuestKernel.hugeBase(vpn)))
        guard e.isPresent, e.pfn != zeroPFN, isHugeFrame(e.pfn) else { return }
        splitHugePage(e.pfn)
    }

    /// Splits the huge pages that [start, end) of `p` covers only in part (`zap_pmd_range`,
    /// `madvise_free_pmd_range`: a whole huge page is handled as one, part of one is split).
    func splitHugePagesAtEdges(_ p: GuestProcess, _ start: VPN, _ end: VPN) {
        guard anonHugePages > 0 else { return }
        let mask = VPN(GuestKernel.hugePagePages - 1)
        if start & mask != 0 { splitHugePageMapped(p, at: start) }
        if end & mask != 0 { splitHugePageMapped(p, at: end) }
    }

    /// A frame of a huge page goes back to the buddy allocator: the whole huge page is being
    /// freed (every partial path splits it first), so it is no longer one.
    func hugeFrameFreed(_ f: PFN) {
        let head = GuestKernel.hugeHead(f)
        if isHugeFrame(head) { markHugeBlock(head, false) }
    }

    /// Checks every huge page: an aligned block of 512 anonymous frames on an LRU or
    /// unevictable list, outside the swap cache, with one owner and one map count, mapped whole
    /// and in order at a 2 MiB-aligned range by every process that maps it.
    func checkHugePages(_ fail: (String) -> Void) {
        var count = 0
        for (w, word) in hugeBlocks.enumerated() where word != 0 {
            for bit in 0..<64 where word & (1 << UInt64(bit)) != 0 {
                count += 1
                let head = PFN((w * 64 + bit) << GuestKernel.hugePageOrder)
                let h = Int(head)
                guard h + GuestKernel.hugePagePages <= frames.count else { fail("huge page at frame \(head) beyond memory"); continue }
                let base = VPN(frames.rmapIndex[h])
                if base & VPN(GuestKernel.hugePagePages - 1) != 0 { fail("huge page at frame \(head): virtual page \(base) not 2 MiB-aligned") }
                for i in h..<(h + GuestKernel.hugePagePages) {
                    let u = frames.use(PFN(i))
                    if !(u.isLRU || u == .unevictable) || frames.flags[i] & FrameFlag.anon == 0 || frames.flags[i] & FrameFlag.swapCache != 0 {
                        fail("huge page at frame \(head): frame \(i) is \(u), not an anonymous page off the swap cache"); break
                    }
                    if frames.mapCount[i] != frames.mapCount[h] || frames.rmapOwner[i] != frames.rmapOwner[h] || VPN(frames.rmapIndex[i]) != base + VPN(i - h) {
                        fail("huge page at frame \(head): frame \(i) has another owner, index or map count"); break
                    }
                }
                var mappings = 0
                forEachMapping(of: head) { pid, vpn in
                    mappings += 1
                    let p = processes[Int(pid)]!
                    for i in 0..<GuestKernel.hugePagePages where PTE(raw: pteValue(p, vpn + VPN(i))).pfn != head + PFN(i) {
                        fail("huge page at frame \(head): pid \(pid) does not map it whole at vpn \(vpn)"); break
                    }
                }
                if mappings != Int(frames.mapCount[h]) || mappings == 0 {
                    fail("huge page at frame \(head): \(mappings) mappings, map count \(frames.mapCount[h])")
                }
            }
        }
        if count != anonHugePages { fail("\(count) huge pages marked, AnonHugePages counts \(anonHugePages)") }
    }
}
