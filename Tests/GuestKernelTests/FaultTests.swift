import Testing
import OvercommitTestSupport
@testable import GuestKernel
import OvercommitSupport
import PageContents

@Suite struct FaultTests {
    @Test func mmapAllocatesNothingUntilTouched() {
        let k = makeTestKernel()
        let pid = k.spawn(name: "a")
        let free0 = k.buddy.freePages
        let base = k.mmap(pid, pages: 1000).value!
        #expect(k.buddy.freePages == free0)
        #expect(k.committedAS == 1000)
        // First read maps the zero page: minor fault, no frame (beyond one page-table page).
        let r = k.access(pid, base, write: false)
        #expect(r.result == .minorFault)
        #expect(k.buddy.freePages == free0 - 1)  // the page-table leaf
        #expect(k.vmstat.zeroPageMaps == 1)
        #expect(k.access(pid, base, write: false).result == .hit)
        // First write: a fresh zero-filled frame (COW from the zero page).
        #expect(k.access(pid, base, write: true).result == .zeroFill)
        #expect(k.buddy.freePages == free0 - 2)
        #expect(k.access(pid, base, write: true).result == .hit)
        // A write to an untouched page allocates directly.
        #expect(k.access(pid, base + 1, write: true).result == .zeroFill)
        #expect(k.process(pid)!.rssAnon == 2)
        expectConsistent(k)
    }

    @Test func accessOutsideRegionsIsSegv() {
        let k = makeTestKernel()
        let pid = k.spawn(name: "a")
        let base = k.mmap(pid, pages: 10, protection: .read).value!
        #expect(k.access(pid, base + 10, write: false).result == .segv)
        #expect(k.access(pid, base, write: true).result == .segv)  // protection violation
        #expect(k.vmstat.segfaults == 2)
        #expect(k.events.contains { if case .segfault = $0 { true } else { false } })
        #expect(k.access(999, base, write: false).result == .noProcess)
    }

    @Test func forkSharesCopyOnWrite() {
        let k = makeTestKernel()
        let parent = k.spawn(name: "p")
        let base = k.mmap(parent, pages: 64).value!
        for i in 0..<64 { _ = k.access(parent, base + VPN(i), write: true) }
        let before = k.buddy.freePages
        let child = k.fork(parent).value!
        // Only page tables are copied.
        #expect(before - k.buddy.freePages == 1)
        let pfnParent = PTE(raw: k.pteValue(k.process(parent)!, base)).pfn
        let pfnChild = PTE(raw: k.pteValue(k.process(child)!, base)).pfn
        #expect(pfnParent == pfnChild)
        #expect(k.frames.mapCount[Int(pfnParent)] == 2)
        // Reads are hits; the first write by either side copies.
        #expect(k.access(child, base, write: false).result == .hit)
        #expect(k.access(child, base, write: true).result == .cowCopy)
        #expect(k.frames.mapCount[Int(pfnParent)] == 1)
        // The parent is now the only mapper: its write reuses the page without copying.
        #expect(k.access(parent, base, write: true).result == .minorFault)
        #expect(k.vmstat.cowCopies == 1)
        #expect(k.committedAS == 128)
        expectConsistent(k, "after COW")
        k.exit(child)
        #expect(k.committedAS == 64)
        expectConsistent(k, "after exit")
    }

    @Test func exitFreesEverything() {
        let k = makeTestKernel()
        let free0 = k.buddy.freePages
        let pid = k.spawn(name: "a")
        let base = k.mmap(pid, pages: 3000).value!
        for i in 0..<3000 { _ = k.access(pid, base + VPN(i), write: i % 3 != 0) }
        #expect(k.buddy.freePages < free0 - 1900)
        k.exit(pid)
        #expect(k.buddy.freePages == free0)
        #expect(k.committedAS == 0)
        #expect(k.anonPages == 0)
        expectConsistent(k)
    }

    /// anon_vma family ids live in the frames' 16-bit reverse map, so they are recycled when
    /// a family's last process exits: a long run of short-lived processes (with swap-cache
    /// frames of dead families left behind) must keep a valid reverse map.
    @Test func familyIdsAreRecycledAfterExit() {
        let k = makeTestKernel(memory: .mib(16), swap: .mib(16))
        let keeper = k.spawn(name: "keeper")
        let kb = k.mmap(keeper, pages: 64).value!
        for i in 0..<64 { _ = k.access(keeper, kb + VPN(i), write: true) }
        var families = Set<RmapOwner>()
        for round in 0..<120 {
            let p = k.spawn(name: "short")
            families.insert(k.process(p)!.family)
            let base = k.mmap(p, pages: 4000).value!
            for i in 0..<4000 { _ = k.access(p, base + VPN(i), write: true) }
            if round % 3 == 0, case .success(let c) = k.fork(p) { _ = k.access(c, base, write: true); k.exit(c) }
            k.exit(p)
            if round % 50 == 0 { expectConsistent(k, "round \(round)") }
        }
        #expect(k.vmstat.pswpout > 0, "the runs pushed pages through swap")
        #expect(families.count <= 3, "ids of exited families are reused: \(families.sorted())")
        #expect(k.families.count <= 4)
        for i in 0..<64 { #expect(k.access(keeper, kb + VPN(i), write: false).result != .segv) }
        expectConsistent(k, "end")
    }

    @Test func sharedAnonymousMappingsStopAtTheFileTableLimit() {
        let k = makeTestKernel()
        let pid = k.spawn(name: "a")
        while k.files.count < GuestKernel.maxFiles - 1 {
            _ = k.registerFile(path: "/f\(k.files.count)", pages: 1, style: .text, contentSeed: 1)
        }
        #expect(k.mmap(pid, pages: 1, shared: true).value != nil, "the last free file id")
        #expect(k.files.count == GuestKernel.maxFiles)
        let last = k.mmap(pid, pages: 1, shared: true)
        if case .failure(let e) = last { #expect(e == .ENFILE) } else { Issue.record("expected ENFILE, got \(last)") }
    }

    @Test func brkGrowsAndShrinksTheHeap() {
        let k = makeTestKernel()
        let pid = k.spawn(name: "a")
        let end = k.brk(pid, deltaPages: 100).value!
        let heap = k.heapRange(pid)
        #expect(heap.count == 100 && heap.upperBound == end)
        for v in heap { _ = k.access(pid, v, write: true) }
        #expect(k.process(pid)!.rssAnon == 100)
        _ = k.brk(pid, deltaPages: -60)
        #expect(k.heapRange(pid).count == 40)
        #expect(k.process(pid)!.rssAnon == 40)
        #expect(k.committedAS == 40)
        #expect(k.access(pid, heap.lowerBound + 50, write: false).result == .segv)
        expectConsistent(k)
    }

    @Test func pageCacheReadsAndSharedFileMappings() {
        let k = makeTestKernel()
        let f = k.registerFile(path: "/lib/libc.so", pages: 100, style: .code, contentSeed: 42)
        let a = k.spawn(name: "a"), b = k.spawn(name: "b")
        #expect(k.fileRead(a, file: f, page: 3).result == .majorFault)
        #expect(k.fileRead(b, file: f, page: 3).result == .hit)
        #expect(k.filePages == 1)
        let va = k.mmap(a, pages: 100, protection: .readExec, backing: .file(f, offset: 0)).value!
        let vb = k.mmap(b, pages: 100, protection: .readExec, backing: .file(f, offset: 0)).value!
        #expect(k.access(a, va + 3, write: false).result == .minorFault)  // already cached
        #expect(k.access(b, vb + 3, write: false).result == .minorFault)
        #expect(k.access(b, vb + 4, write: false).result == .majorFault)
        let pa = PTE(raw: k.pteValue(k.process(a)!, va + 3)).pfn
        #expect(k.frames.mapCount[Int(pa)] == 2)
        // Read-only executable mappings are not committed.
        #expect(k.committedAS == 0)
        // A private writable file mapping copies on write.
        let vp = k.mmap(a, pages: 10, protection: .readWrite, backing: .file(f, offset: 0)).value!
        #expect(k.access(a, vp + 3, write: true).result == .cowCopy)
        expectConsistent(k)
        // Shared writable mapping: the write dirties the page cache, visible to read(2).
        let vs = k.mmap(b, pages: 10, protection: .readWrite, backing: .file(f, offset: 10), shared: true).value!
        _ = k.access(b, vs, write: true)
        #expect(k.dirtyFilePages == 1)
        expectConsistent(k, "after shared write")
    }

    @Test func sharedAnonymousMemoryIsSharedAfterFork() {
        let k = makeTestKernel()
        let p = k.spawn(name: "p")
        let v = k.mmap(p, pages: 8, shared: true).value!
        _ = k.access(p, v, write: true)
        let c = k.fork(p).value!
        // No copy-on-write on MAP_SHARED: the child's write goes to the same frame.
        #expect(k.access(c, v, write: true).result == .hit || k.access(c, v, write: true).result == .minorFault)
        let fp = PTE(raw: k.pteValue(k.process(p)!, v)).pfn
        let fc = PTE(raw: k.pteValue(k.process(c)!, v)).pfn
        #expect(fp == fc)
        #expect(k.shmemPages == 1)
        expectConsistent(k)
        k.exit(p); k.exit(c)
        #expect(k.shmemPages == 0)
        expectConsistent(k, "after exit")
    }
}
