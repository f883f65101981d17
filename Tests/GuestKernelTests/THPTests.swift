import Testing
@testable import GuestKernel
import OvercommitSupport
import OvercommitTestSupport
import PageContents

/// A host that only records which guest frames the guest touched for a write.
final class RecordingBacking: GuestPhysicalBacking {
    var written = Set<PFN>()
    func eptViolation(pfn: PFN, write: Bool, reason: GuestAccessReason) -> Int64 {
        if write { written.insert(pfn) }
        return 0
    }
    func balloonInflated(pfn: PFN) {}
    func balloonDeflated(pfn: PFN) {}
    func freePagesReported(pfn: PFN, order: Int) {}
    var balloonTargetPages: Int { 0 }
}

/// Transparent huge pages and khugepaged after Linux's mm/huge_memory.c and mm/khugepaged.c.
@Suite struct THPTests {
    static let huge = GuestKernel.hugePagePages

    func kernel(_ mode: TransparentHugepageMode, memory: ByteCount = .mib(64), _ tweak: (inout KhugepagedConfig) -> Void = { _ in }) -> GuestKernel {
        makeTestKernel(memory: memory) {
            $0.transparent_hugepage.enabled = mode
            tweak(&$0.transparent_hugepage.khugepaged)
        }
    }

    func pte(_ k: GuestKernel, _ pid: PID, _ vpn: VPN) -> PTE { PTE(raw: k.pteValue(k.process(pid)!, vpn)) }

    /// The first 2 MiB-aligned page inside [start, start + pages).
    func alignedBase(_ start: VPN) -> VPN { (start + VPN(THPTests.huge) - 1) & ~VPN(THPTests.huge - 1) }

    /// A process with an anonymous mapping holding at least two aligned 2 MiB ranges.
    func mapping(_ k: GuestKernel) -> (PID, VPN) {
        let pid = k.spawn(name: "app")
        let start = k.mmap(pid, pages: 4 * THPTests.huge).value!
        return (pid, alignedBase(start))
    }

    @Test func aWriteFaultInAnAlignedEligibleRangeMapsAWholeHugePage() {
        let k = kernel(.always)
        let (pid, base) = mapping(k)
        let data = PageContent(style: .text, seed: 9)
        #expect(k.access(pid, base + 7, storing: data).result == .zeroFill)
        #expect(k.vmstat.thp_fault_alloc == 1)
        #expect(k.anonHugePages == 1)
        #expect(k.meminfo.AnonHugePages == 2048)
        #expect(k.process(pid)!.rssAnon == THPTests.huge)
        let head = pte(k, pid, base).pfn
        #expect(Int(head) % THPTests.huge == 0)
        for i in 0..<VPN(THPTests.huge) {
            let e = pte(k, pid, base + i)
            #expect(e.isPresent && e.isWritable && e.pfn == head + PFN(i))
        }
        #expect(k.isHugeFrame(head + 300))
        // The other subpages read zero, the written one its data; a second write hits.
        #expect(k.content(of: head + 8) == .zero)
        #expect(k.content(of: head + 7) == data)
        #expect(k.access(pid, base + 8, write: true).result == .hit)
        expectConsistent(k, "after a huge page fault")
    }

    @Test func anonymousMappingsOfWhole2MiBMultiplesAreAlignedOnlyWithTHP() {
        for mode in [TransparentHugepageMode.never, .always] {
            let k = kernel(mode)
            let pid = k.spawn(name: "app")
            _ = k.mmap(pid, pages: 3)
            let aligned = k.mmap(pid, pages: 2 * THPTests.huge).value!
            let odd = k.mmap(pid, pages: THPTests.huge + 1).value!
            #expect((aligned % VPN(THPTests.huge) == 0) == (mode == .always))
            #expect(odd % VPN(THPTests.huge) != 0)
        }
    }

    @Test func noHugePageWhenNeverOrNotAdvisedOrNotFullyInside() {
        let never = kernel(.never)
        let (p1, b1) = mapping(never)
        _ = never.access(p1, b1, write: true)
        #expect(never.anonHugePages == 0 && never.process(p1)!.rssAnon == 1)

        let madvise = kernel(.madvise)
        let (p2, b2) = mapping(madvise)
        _ = madvise.access(p2, b2, write: true)
        #expect(madvise.anonHugePages == 0)
        #expect(madvise.madvise(p2, start: b2 + VPN(THPTests.huge), pages: THPTests.huge, advice: .hugepage).value != nil)
        _ = madvise.access(p2, b2 + VPN(THPTests.huge) + 3, write: true)
        #expect(madvise.anonHugePages == 1)
        // MADV_NOHUGEPAGE under always.
        let always = kernel(.always)
        let (p3, b3) = mapping(always)
        #expect(always.madvise(p3, start: b3, pages: THPTests.huge, advice: .nohugepage).value != nil)
        _ = always.access(p3, b3, write: true)
        #expect(always.anonHugePages == 0)
        // A range not fully inside the VMA: a small page, and no fallback counted.
        let small = always.mmap(p3, pages: 100).value!
        _ = always.access(p3, small, write: true)
        #expect(always.anonHugePages == 0 && always.vmstat.thp_fault_fallback == 0)
        // A read maps the zero page.
        _ = always.access(p3, b3 + VPN(THPTests.huge), write: false)
        #expect(pte(always, p3, b3 + VPN(THPTests.huge)).pfn == always.zeroPFN)
        expectConsistent(madvise, "madvise")
        expectConsistent(always, "always")
    }

    @Test func aFaultFallsBackToASmallPageWithoutAFreeOrder9Block() {
        let k = kernel(.always)
        let (pid, base) = mapping(k)
        // Leave no free block of order 9: take each, give its lower half back.
        while let head = k.buddy.allocate(order: GuestKernel.hugePageOrder) { k.buddy.free(head, order: 8) }
        #expect(k.buddy.freePages > k.watermarks.high)
        #expect(k.access(pid, base, write: true).result == .zeroFill)
        #expect(k.vmstat.thp_fault_fallback == 1)
        #expect(k.vmstat.thp_fault_alloc == 0)
        #expect(k.anonHugePages == 0 && k.process(pid)!.rssAnon == 1)
    }

    @Test func theHostSeesAll512FramesWritten() {
        let k = kernel(.always)
        let host = RecordingBacking()
        k.attach(to: host)
        let (pid, base) = mapping(k)
        host.written.removeAll()
        _ = k.access(pid, base, write: true)
        let head = pte(k, pid, base).pfn
        let block = Set((0..<PFN(THPTests.huge)).map { head + $0 })
        #expect(block.isSubset(of: host.written))
        // Without THP one write touches one frame (plus a page-table page).
        let small = kernel(.never)
        let host2 = RecordingBacking()
        small.attach(to: host2)
        let (p2, b2) = mapping(small)
        host2.written.removeAll()
        _ = small.access(p2, b2, write: true)
        #expect(host2.written.count <= 2)
    }

    /// Writes distinct data to a few subpages of a huge page at `base`.
    func fillHugePage(_ k: GuestKernel, _ pid: PID, _ base: VPN) {
        for i in stride(from: 0, to: THPTests.huge, by: 37) {
            _ = k.access(pid, base + VPN(i), storing: PageContent(style: .text, seed: UInt64(100 + i)))
        }
        #expect(k.anonHugePages == 1)
    }

    @Test func copyOnWriteAfterForkSplitsAndKeepsBytes() {
        let k = kernel(.always)
        let (pid, base) = mapping(k)
        fillHugePage(k, pid, base)
        let child = k.fork(pid).value!
        #expect(k.anonHugePages == 1)
        expectConsistent(k, "after fork")
        _ = k.access(child, base + 37, storing: PageContent(style: .text, seed: 1))
        #expect(k.anonHugePages == 0)
        #expect(k.vmstat.thp_split_page == 1)
        #expect(k.vmstat.thp_split_pmd == 2)
        #expect(k.vmstat.cowCopies == 1)
        expectConsistent(k, "after COW of a huge page")
    }

    @Test func partialMunmapAndMadviseSplitWholeUnmapFrees() {
        let k = kernel(.always)
        let (pid, base) = mapping(k)
        fillHugePage(k, pid, base)
        _ = k.access(pid, base + VPN(THPTests.huge), write: true)
        #expect(k.anonHugePages == 2)
        #expect(k.munmap(pid, start: base + 10, pages: 20).value != nil)
        #expect(k.anonHugePages == 1 && k.vmstat.thp_split_page == 1)
        expectConsistent(k, "after partial munmap")
        #expect(k.madvise(pid, start: base + VPN(THPTests.huge) + 1, pages: 3, advice: .dontneed).value != nil)
        #expect(k.anonHugePages == 0 && k.vmstat.thp_split_page == 2)
        expectConsistent(k, "after partial MADV_DONTNEED")
        // A whole huge page unmapped is freed whole, not split.
        _ = k.access(pid, base + VPN(2 * THPTests.huge), write: true)
        let free = k.buddy.freePages
        #expect(k.munmap(pid, start: base + VPN(2 * THPTests.huge), pages: THPTests.huge).value != nil)
        #expect(k.anonHugePages == 0 && k.vmstat.thp_split_page == 2)
        #expect(k.buddy.freePages == free + THPTests.huge)
        expectConsistent(k, "after whole munmap")
    }

    @Test func aRegionBoundaryOrMadvFreeInsideAHugePageSplitsIt() {
        let k = kernel(.always)
        let (pid, base) = mapping(k)
        fillHugePage(k, pid, base)
        // MADV_NOHUGEPAGE on half of it splits the VMA there, and the huge page with it.
        #expect(k.madvise(pid, start: base + 256, pages: 256, advice: .nohugepage).value != nil)
        #expect(k.anonHugePages == 0 && k.vmstat.thp_split_page == 1 && k.vmstat.thp_split_pmd == 1)
        expectConsistent(k, "after a VMA split inside a huge page")
        // MADV_FREE of part of another one splits it; of a whole one does not.
        _ = k.access(pid, base + VPN(THPTests.huge), write: true)
        _ = k.access(pid, base + VPN(2 * THPTests.huge), write: true)
        #expect(k.anonHugePages == 2)
        #expect(k.madvise(pid, start: base + VPN(THPTests.huge) + 8, pages: 8, advice: .free).value != nil)
        #expect(k.anonHugePages == 1 && k.vmstat.thp_split_page == 2)
        #expect(k.madvise(pid, start: base + VPN(2 * THPTests.huge), pages: THPTests.huge, advice: .free).value != nil)
        #expect(k.anonHugePages == 1 && k.vmstat.thp_split_page == 2)
        expectConsistent(k, "after MADV_FREE")
    }

    @Test func khugepagedRespectsMaxPtesShared() {
        // After fork the 10 present pages are shared by parent and child (both keep the
        // MADV_HUGEPAGE range). Limit 9: neither range qualifies. Limit 10: the parent's
        // range is collapsed into its own copy, after which the child's pages are its alone
        // and its range is collapsed too.
        for (limit, collapsed) in [(9, 0), (10, 2)] {
            let k = kernel(.madvise) { $0.max_ptes_shared = limit }
            let (pid, _) = smallPages(k, present: 10)
            _ = k.fork(pid).value!
            _ = k.runKhugepaged()
            #expect(k.vmstat.khugepaged_pages_collapsed == collapsed, "max_ptes_shared \(limit)")
            expectConsistent(k, "max_ptes_shared \(limit)")
        }
    }

    @Test func swapOutSplitsAndSwapInReadsTheBytesBack() {
        let k = kernel(.always)
        let (pid, base) = mapping(k)
        fillHugePage(k, pid, base)
        var sc = ReclaimControl(reason: .direct, nrToReclaim: 4 * THPTests.huge)
        k.reclaim(&sc)
        #expect(k.vmstat.thp_split_page == 1)
        #expect(k.process(pid)!.swapEntries > 0)
        expectConsistent(k, "after swap-out")
        for i in stride(from: 0, to: THPTests.huge, by: 37) { _ = k.access(pid, base + VPN(i), write: false) }
        expectConsistent(k, "after swap-in")
    }

    /// A range of small pages: `present` pages written before MADV_HUGEPAGE.
    func smallPages(_ k: GuestKernel, present: Int, stride: Int = 3) -> (PID, VPN) {
        let (pid, base) = mapping(k)
        for i in 0..<present { _ = k.access(pid, base + VPN(i * stride), storing: PageContent(style: .pointers, seed: UInt64(i))) }
        #expect(k.madvise(pid, start: base, pages: THPTests.huge, advice: .hugepage).value != nil)
        return (pid, base)
    }

    @Test func khugepagedCollapsesAndKeepsBytes() {
        let k = kernel(.madvise)
        let (pid, base) = smallPages(k, present: 10)
        // A zero-page read in the range: it counts as empty and becomes zero-filled memory.
        _ = k.access(pid, base + 200, write: false)
        #expect(k.anonHugePages == 0)
        let sleep = k.runKhugepaged()
        #expect(sleep == 10_000_000_000)
        #expect(k.vmstat.khugepaged_pages_collapsed == 1)
        #expect(k.vmstat.thp_collapse_alloc == 1)
        #expect(k.anonHugePages == 1)
        #expect(k.process(pid)!.rssAnon == THPTests.huge)
        #expect(k.vmstat.khugepaged_full_scans >= 1)
        let head = pte(k, pid, base).pfn
        #expect(Int(head) % THPTests.huge == 0 && pte(k, pid, base + 200).pfn == head + 200)
        expectConsistent(k, "after collapse")
        // Already huge: a second pass leaves it.
        _ = k.runKhugepaged()
        #expect(k.vmstat.khugepaged_pages_collapsed == 1)
    }

    @Test func khugepagedRespectsMaxPtesNone() {
        // 10 present pages leave 502 empty PTEs: above 500, not collapsed.
        let strict = kernel(.madvise) { $0.max_ptes_none = 500 }
        _ = smallPages(strict, present: 10)
        _ = strict.runKhugepaged()
        #expect(strict.vmstat.khugepaged_pages_collapsed == 0)
        // 12 present pages leave exactly 500: collapsed.
        let enough = kernel(.madvise) { $0.max_ptes_none = 500 }
        _ = smallPages(enough, present: 12)
        _ = enough.runKhugepaged()
        #expect(enough.vmstat.khugepaged_pages_collapsed == 1)
        expectConsistent(enough, "after collapse")
    }

    @Test func khugepagedSwapsInThenCollapses() {
        let k = kernel(.madvise)
        let (pid, base) = smallPages(k, present: 300, stride: 1)
        var sc = ReclaimControl(reason: .direct, nrToReclaim: 20)
        k.reclaim(&sc)
        let swapped = k.process(pid)!.swapEntries
        #expect(swapped > 0 && swapped <= 64)
        // Recent accesses to the resident pages (reclaim cleared their referenced bits).
        for i in 0..<VPN(300) where pte(k, pid, base + i).isPresent { _ = k.access(pid, base + i, write: false) }
        #expect(k.process(pid)!.swapEntries == swapped)
        let swapIns = k.vmstat.pswpin
        _ = k.runKhugepaged()
        #expect(k.vmstat.khugepaged_pages_collapsed == 1)
        #expect(k.process(pid)!.swapEntries == 0)
        #expect(k.vmstat.pswpin > swapIns)
        expectConsistent(k, "after collapse with swap-in")
    }

    @Test func collapseFailsWithoutAnOrder9BlockAndSleepsLonger() {
        let k = kernel(.madvise)
        _ = smallPages(k, present: 10)
        while let head = k.buddy.allocate(order: GuestKernel.hugePageOrder) { k.buddy.free(head, order: 8) }
        let sleep = k.runKhugepaged()
        #expect(k.vmstat.thp_collapse_alloc_failed == 1)
        #expect(sleep == 60_000_000_000)
        #expect(k.vmstat.khugepaged_pages_collapsed == 0)
    }
}
