import Testing
import OvercommitTestSupport
@testable import GuestKernel
import OvercommitSupport
import PageContents

@Suite struct ReclaimTests {
    @Test func watermarksFollowLinux() {
        // 1 GiB managed: min_free_kbytes = sqrt(1048576 * 16) = 4096 kB -> min 1024 pages;
        // gap = max(256, 262144 * 10 / 10000 = 262) = 262.
        var c = GuestKernelConfig()
        let w = Watermarks(managedPages: 262_144, config: c)
        #expect(w.minFreeKbytes == 4096)
        #expect(w.min == 1024 && w.low == 1286 && w.high == 1548)
        // Tiny guests clamp at 128 kB, huge ones at 256 MiB (calculate_min_free_kbytes).
        #expect(Watermarks(managedPages: 256, config: c).minFreeKbytes == 128)
        #expect(Watermarks(managedPages: 1 << 28, config: c).minFreeKbytes == 131072)
        #expect(Watermarks(managedPages: 1 << 31, config: c).minFreeKbytes == 262144)
        c.watermark_scale_factor = 100
        let w2 = Watermarks(managedPages: 262_144, config: c)
        #expect(w2.low - w2.min == 2621)
    }

    @Test func kswapdReclaimsToHighAndSwapsAnon() {
        let k = makeTestKernel(memory: .mib(64), swap: .mib(64))
        let pid = k.spawn(name: "big")
        let n = 16000  // more than the 60 MiB managed
        let base = k.mmap(pid, pages: n).value!
        for i in 0..<n { _ = k.access(pid, base + VPN(i), write: true) }
        // Direct reclaim had to run (the allocations went below min), swapping anon pages.
        #expect(k.vmstat.pswpout > 0)
        #expect(k.buddy.freePages >= k.watermarks.min)
        _ = k.runKswapd()
        #expect(k.buddy.freePages >= k.watermarks.high)
        expectConsistent(k, "after reclaim")
        // Everything is still readable with the contents last written.
        var major = 0
        for i in 0..<n where k.access(pid, base + VPN(i), write: false).result == .majorFault { major += 1 }
        #expect(major > 0)
        expectConsistent(k, "after swap-in")
    }

    @Test func swapCacheAvoidsRewritingCleanPages() {
        let k = makeTestKernel(memory: .mib(32), swap: .mib(64))
        let pid = k.spawn(name: "a")
        let n = 9000
        let base = k.mmap(pid, pages: n).value!
        for i in 0..<n { _ = k.access(pid, base + VPN(i), write: true) }
        // Read everything back (swap-ins keep their slots in the swap cache), then push it out again.
        for i in 0..<n { _ = k.access(pid, base + VPN(i), write: false) }
        let outBefore = k.vmstat.pswpout
        let avoidedBefore = k.vmstat.swapWritesAvoided
        var sc = ReclaimControl(reason: .direct, nrToReclaim: 2000)
        k.reclaim(&sc)
        #expect(k.vmstat.swapWritesAvoided > avoidedBefore)
        #expect(k.vmstat.pswpout - outBefore < 2000)
        expectConsistent(k)
        // A read swap-in of an exclusive page maps it writable (do_swap_page, Linux >= 5.19):
        // writing it faults no more and keeps its slot; the page is dirty, so the next
        // reclaim writes it to its slot again instead of dropping it.
        let used = k.swap.usedSlots
        var written: [VPN] = []
        for i in 0..<n {
            let v = base + VPN(i)
            let e = PTE(raw: k.pteValue(k.process(pid)!, v))
            if e.isPresent && k.frames.has(e.pfn, FrameFlag.swapCache) {
                #expect(e.isWritable)
                #expect(k.access(pid, v, write: true).result == .hit)
                written.append(v)
                if written.count == 10 { break }
            }
        }
        #expect(written.count == 10)
        #expect(k.swap.usedSlots == used)
        for v in written {
            let e = PTE(raw: k.pteValue(k.process(pid)!, v))
            #expect(k.frames.has(e.pfn, FrameFlag.dirty) && k.frames.has(e.pfn, FrameFlag.swapCache))
        }
        expectConsistent(k, "after writes")
    }

    @Test func theReclaimControlCarriesWhatThePassDid() {
        let k = makeTestKernel(memory: .mib(32), swap: .mib(64))
        let pid = k.spawn(name: "a")
        let base = k.mmap(pid, pages: 6000).value!
        for i in 0..<6000 { _ = k.access(pid, base + VPN(i), write: true) }
        let v = k.vmstat
        var direct = ReclaimControl(reason: .direct, nrToReclaim: 500)
        let freed = k.reclaim(&direct)
        #expect(freed == 500 && direct.nrReclaimed == 500)
        #expect(k.vmstat.pgsteal_direct - v.pgsteal_direct == 500)
        #expect(direct.nrScanned == k.vmstat.pgscan_direct - v.pgscan_direct && direct.nrScanned >= 500)
        #expect(direct.nrSwapWrites == k.vmstat.pswpout - v.pswpout && direct.nrSwapWrites > 0, "anonymous pages went to new swap slots")
        #expect(direct.stallNs == k.swapConfig.effectiveWriteLatency.nanoseconds, "direct reclaim waits once for its writes")
        var kswapd = ReclaimControl(reason: .kswapd, nrToReclaim: 300)
        k.reclaim(&kswapd)
        #expect(kswapd.nrReclaimed == 300 && kswapd.nrSwapWrites > 0)
        #expect(kswapd.stallNs == 0, "kswapd's time is its own")
        #expect(k.vmstat.pgsteal_kswapd - v.pgsteal_kswapd == 300)
        expectConsistent(k)
    }

    @Test func pageCacheIsReclaimedBeforeAnonymousMemory() {
        let k = makeTestKernel(memory: .mib(64), swap: .mib(64)) { $0.swappiness = 10 }
        let f = k.registerFile(path: "/data", pages: 8000, style: .text, contentSeed: 1)
        let pid = k.spawn(name: "a")
        for i in 0..<8000 { _ = k.fileRead(pid, file: f, page: i) }
        let base = k.mmap(pid, pages: 4000).value!
        for i in 0..<4000 { _ = k.access(pid, base + VPN(i), write: true) }
        var sc = ReclaimControl(reason: .kswapd, nrToReclaim: 2000)
        k.reclaim(&sc)
        #expect(k.vmstat.pswpout < 200)
        #expect(k.filePages < 8000 - 1500)
        expectConsistent(k)
    }

    @Test func secondAccessPromotesToActive() {
        let k = makeTestKernel()
        let f = k.registerFile(path: "/data", pages: 10, style: .text, contentSeed: 1)
        let pid = k.spawn(name: "a")
        _ = k.fileRead(pid, file: f, page: 0)
        let pfn = k.files[Int(f)].cachedFrame(0)!
        #expect(k.frames.use(pfn) == .inactiveFile)
        _ = k.fileRead(pid, file: f, page: 0)  // referenced
        #expect(k.frames.use(pfn) == .inactiveFile)
        #expect(k.frames.has(pfn, FrameFlag.referenced))
        _ = k.fileRead(pid, file: f, page: 0)  // second sighting: activate
        #expect(k.frames.use(pfn) == .activeFile)
        expectConsistent(k)
    }

    @Test func refaultsAreDetected() {
        let k = makeTestKernel(memory: .mib(32), swap: .mib(0))
        let f = k.registerFile(path: "/data", pages: 12000, style: .text, contentSeed: 1)
        let pid = k.spawn(name: "a")
        for _ in 0..<3 { for i in 0..<12000 { _ = k.fileRead(pid, file: f, page: i) } }
        #expect(k.vmstat.workingset_refault > 1000)
        k.checkThrashing(elapsedNs: 1_000_000_000)
        #expect(k.thrashing)
        expectConsistent(k)
    }

    @Test func mlockedPagesAreNeverReclaimed() {
        let k = makeTestKernel(memory: .mib(32), swap: .mib(64))
        let pid = k.spawn(name: "a")
        let base = k.mmap(pid, pages: 1000).value!
        for i in 0..<1000 { _ = k.access(pid, base + VPN(i), write: true) }
        #expect(k.mlock(pid, start: base, pages: 1000).value != nil)
        #expect(k.mlockedPages == 1000)
        let other = k.spawn(name: "b")
        let ob = k.mmap(other, pages: 7000).value!
        for i in 0..<7000 { _ = k.access(other, ob + VPN(i), write: true) }
        #expect(k.vmstat.pswpout > 0)
        for i in 0..<1000 { #expect(PTE(raw: k.pteValue(k.process(pid)!, base + VPN(i))).isPresent) }
        #expect(k.meminfo.Mlocked == 4000)
        expectConsistent(k)
    }
}

@Suite struct OvercommitTests {
    @Test func strictModeRefusesBeyondCommitLimit() {
        let k = makeTestKernel(memory: .mib(64), swap: .mib(16)) { $0.overcommit_memory = 2 }
        // CommitLimit = swap + MemTotal * 50 % = 4096 + 15360 / 2 = 11776 pages.
        #expect(k.commitLimit == 4096 + k.managedPages / 2)
        let pid = k.spawn(name: "a")
        #expect(k.mmap(pid, pages: 10000).value != nil)
        #expect(k.mmap(pid, pages: 2000).value == nil)
        #expect(k.vmstat.refusedAllocations == 1)
        guard case .allocationRefused(_, _, let pages, _, _, let mode)? = k.events.last else { Issue.record("no event"); return }
        #expect(pages == 2000 && mode == 2)
        // Read-only mappings are not charged.
        #expect(k.mmap(pid, pages: 5000, protection: .read).value != nil)
        // fork must commit the child's private writable memory too.
        #expect(k.fork(pid).value == nil)
        expectConsistent(k)
    }

    @Test func overcommitKbytesReplacesTheRatio() {
        let k = makeTestKernel(memory: .mib(64), swap: .mib(0)) {
            $0.overcommit_memory = 2; $0.overcommit_kbytes = 8192
        }
        #expect(k.commitLimit == 2048)
    }

    @Test func heuristicModeRefusesOnlyAbsurdRequests() {
        let k = makeTestKernel(memory: .mib(64), swap: .mib(16))
        let pid = k.spawn(name: "a")
        #expect(k.mmap(pid, pages: 15000).value != nil)
        #expect(k.mmap(pid, pages: 15000).value != nil)  // overcommitted, but each request is sane
        #expect(k.mmap(pid, pages: 30000).value == nil)  // larger than RAM + swap
        let k1 = makeTestKernel(memory: .mib(64), swap: .mib(16)) { $0.overcommit_memory = 1 }
        #expect(k1.mmap(k1.spawn(name: "a"), pages: 1 << 24).value != nil)
    }
}

@Suite struct OOMTests {
    /// Fills memory with no swap until the OOM killer runs.
    func fill(_ k: GuestKernel, _ pid: PID, pages: Int) -> [AccessResult] {
        guard let base = k.mmap(pid, pages: pages).value else { return [] }
        return (0..<pages).map { k.access(pid, base + VPN($0), write: true).result }
    }

    @Test func killsTheProcessWithTheHighestBadness() {
        let k = makeTestKernel(memory: .mib(32), swap: .mib(0))
        let small = k.spawn(name: "small"), big = k.spawn(name: "big")
        _ = fill(k, small, pages: 500)
        _ = fill(k, big, pages: 4000)
        let rs = fill(k, small, pages: 4000)
        #expect(k.vmstat.oom_kill >= 1)
        #expect(!k.isAlive(big))
        #expect(k.isAlive(small))
        guard
            case .oomKill(let pid, let name, let badness, let score, let rss, _, let freed, _)? = k.events.first(where: {
                if case .oomKill = $0 { true } else { false }
            })
        else {
            Issue.record("no OOM event"); return
        }
        #expect(pid == big && name == "big")
        #expect(badness >= rss && rss >= 4000)
        #expect(freed >= 4000)
        #expect(score > 1000 && score <= 2000)
        #expect(rs.allSatisfy { $0 == .zeroFill })
        expectConsistent(k)
    }

    @Test func oomScoreAdjustmentsAreRespected() {
        let k = makeTestKernel(memory: .mib(32), swap: .mib(0))
        let a = k.spawn(name: "protected", oomScoreAdj: -1000), b = k.spawn(name: "victim", oomScoreAdj: 500)
        _ = fill(k, a, pages: 4000)
        _ = fill(k, b, pages: 2000)
        // oom_badness: rss + swap + page tables + adj * (totalpages / 1000)
        let pb = k.process(b)!
        #expect(k.badness(pb) == pb.rssAnon + pb.rssFile + pb.swapEntries + pb.pageTablePages + 500 * (k.managedPages / 1000))
        #expect(k.badness(k.process(a)!) == nil)
        #expect(k.oomScore(k.process(a)!) == 0)
        _ = fill(k, a, pages: 2000)
        #expect(k.isAlive(a) && !k.isAlive(b))
        expectConsistent(k)
    }

    @Test func killAllocatingTaskAndPanicOnOOM() {
        let k = makeTestKernel(memory: .mib(32), swap: .mib(0)) { $0.oom_kill_allocating_task = 1 }
        let big = k.spawn(name: "big"), small = k.spawn(name: "small")
        _ = fill(k, big, pages: 5000)
        let rs = fill(k, small, pages: 4000)
        #expect(!k.isAlive(small) && k.isAlive(big))
        #expect(rs.contains(.noProcess))
        expectConsistent(k)

        let p = makeTestKernel(memory: .mib(32), swap: .mib(0)) { $0.panic_on_oom = 1 }
        let x = p.spawn(name: "x")
        _ = fill(p, x, pages: 5000)
        _ = fill(p, x, pages: 5000)
        #expect(p.panicked)
        #expect(p.events.contains { if case .panic = $0 { true } else { false } })
        #expect(p.livePIDs.isEmpty)
    }

    @Test func meminfoAndProcessTable() {
        let k = makeTestKernel(memory: .mib(64), swap: .mib(16))
        let pid = k.spawn(name: "db", oomScoreAdj: 100)
        let base = k.mmap(pid, pages: 1000).value!
        for i in 0..<1000 { _ = k.access(pid, base + VPN(i), write: true) }
        let m = k.meminfo
        #expect(m.MemTotal == k.managedPages * 4)
        #expect(m.AnonPages == 4000)
        #expect(m.SwapTotal == 16384)
        #expect(m.Committed_AS == 4000)
        #expect(m.MemFree == k.buddy.freePages * 4)
        #expect(m.text.contains("Committed_AS:"))
        let row = k.processTable().first { $0.pid == pid }!
        #expect(row.rssPages == 1000 && row.oomScoreAdj == 100 && row.name == "db")
        #expect(row.oomScore == k.oomScore(k.process(pid)!))
    }
}
