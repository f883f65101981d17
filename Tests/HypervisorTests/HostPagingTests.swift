import Testing
import OvercommitTestSupport
@testable import GuestKernel
@testable import Hypervisor
import HostPolicies
import OvercommitSupport
import PageContents

@Suite struct HostPagingTests {
    /// A process that wrote `pages` anonymous pages of one content style.
    func writer(_ k: GuestKernel, pages: Int, style: ContentStyle) -> (PID, VPN) {
        let pid = k.spawn(name: "w-\(style)")
        k.setAnonContentMix(pid, [(style, 1)])
        let v = k.mmap(pid, pages: pages).value!
        for i in 0..<pages { _ = k.access(pid, v + VPN(i), write: true) }
        return (pid, v)
    }

    @Test func compressiblePagesGoToTheCacheOthersToSwapAndAllComeBackExact() {
        let host = makeHost { $0.sharing.enabled = false }
        let (k, vm) = addGuest(host, "a")
        let (ps, vs) = writer(k, pages: 400, style: .sparse)
        let (pr, vr) = writer(k, pages: 400, style: .random)
        let consumed = vm.consumedPages
        let n = vm.pageOut(3000, compress: true, swap: true).reclaimed
        #expect(n > 800)
        #expect(vm.stats.compressions >= 400, "sparse pages compress far below half a page")
        #expect(vm.stats.compressionRejects >= 400, "random pages do not compress")
        #expect(vm.swappedPages >= 400)
        #expect(vm.compressedBytes < vm.compressedPages * 2048, "every cached page is under half a page")
        #expect(vm.consumedPages < consumed - 700)
        expectHostConsistent(host, "paged out")
        // Touch everything again: decompression and host swap-in give back the exact bytes.
        for i in 0..<400 { _ = k.access(ps, vs + VPN(i), write: false); _ = k.access(pr, vr + VPN(i), write: false) }
        #expect(vm.stats.decompressions >= 400)
        #expect(vm.stats.swapIns >= 400)
        #expect(host.verificationProblems.isEmpty)
        expectHostConsistent(host, "paged back in")
    }

    /// The host remembers compressed sizes across VMs: the same file pages paged out by a
    /// second VM are not compressed again, and they take the sizes the first VM's got.
    @Test func aContentCompressedByOneVMIsNotCompressedAgainForAnother() {
        let host = makeHost {
            $0.sharing.enabled = false; $0.compression.cache_size = Percentage(percent: 100)
        }
        let (k1, vm1) = addGuest(host, "a")
        let (k2, vm2) = addGuest(host, "b")
        _ = readCommonFile(k1, pages: 300, seed: 5)
        let (p2, f2) = readCommonFile(k2, pages: 300, seed: 5)
        let memo = host.services.compressedSizes
        vm1.pageOut(100_000, compress: true, swap: false)
        let (hits, misses) = (memo.hits, memo.misses)
        #expect(misses >= 300 && vm1.stats.compressions >= 300)
        vm2.pageOut(100_000, compress: true, swap: false)
        #expect(memo.hits - hits >= 300, "the common file's 300 pages come from the memo: \(memo.hits - hits)")
        #expect(vm2.stats.compressions >= 300)
        // Reading the file back with verification recompresses each page and finds the size
        // the memo gave, and the bytes the page held.
        host.verifyDecompressedBytes = true
        for i in 0..<300 { _ = k2.fileRead(p2, file: f2, page: i) }
        #expect(vm2.stats.decompressions > 100, "reading the file decompresses its pages: \(vm2.stats.decompressions)")
        #expect(host.checkInvariants().isEmpty, "\(host.checkInvariants())")
        expectHostConsistent(host, "after paging out both VMs")
    }

    @Test func aThresholdOfOneHundredPercentKeepsTextPagesThatFiftyRejects() {
        func compressed(_ threshold: Double) -> Int {
            let host = makeHost {
                $0.sharing.enabled = false; $0.compression.threshold = Percentage(percent: threshold); $0.compression.cache_size = Percentage(percent: 100)
            }
            let (k, vm) = addGuest(host, "a")
            _ = writer(k, pages: 300, style: .code)
            vm.pageOut(300, compress: true, swap: true)
            expectHostConsistent(host, "threshold \(threshold)")
            return vm.stats.compressions
        }
        let strict = compressed(50), lax = compressed(100)
        #expect(lax > strict, "code pages compress to 53-69 %: kept at 100 % (\(lax)), mostly rejected at 50 % (\(strict))")
    }

    @Test func theCacheLimitMovesOldestEntriesToSwap() {
        let host = makeHost {
            $0.sharing.enabled = false; $0.compression.cache_size = Percentage(percent: 0.1)
        }
        let (k, vm) = addGuest(host, "a")
        _ = writer(k, pages: 600, style: .sparse)
        vm.pageOut(600, compress: true, swap: true)
        #expect(vm.compressedBytes <= vm.cacheLimitBytes)
        #expect(vm.stats.cacheEvictions > 0)
        expectHostConsistent(host)
    }

    @Test func theGuestSwappingAPageTheHostSwappedIsDoublePaging() {
        let host = makeHost {
            $0.sharing.enabled = false; $0.compression.enabled = false
        }
        let (k, vm) = addGuest(host, "a", mib: 32, swapMiB: 64)
        _ = writer(k, pages: 4000, style: .pointers)
        vm.pageOut(100_000, compress: false, swap: true)
        #expect(vm.swappedPages > 3000)
        // New demand makes the guest reclaim: its pageout reads pages the host swapped out.
        _ = writer(k, pages: 4000, style: .pointers)
        #expect(k.vmstat.pswpout > 0)
        #expect(vm.stats.doublePaging > 0, "double paging \(vm.stats.doublePaging)")
        expectHostConsistent(host)
    }

    @Test func aCompressedPageMovedToSwapWhileItsVMWaitedIsReadFromSwap() {
        // The VM touches its oldest compressed page with no free machine frame: it waits
        // while the host pages out its own pages, which evicts that very cache entry to the
        // swap file. The access must then read the page from swap.
        let host = makeHost {
            $0.sharing.enabled = false; $0.compression.cache_size = Percentage(percent: 1)
        }
        let (k, vm) = addGuest(host, "a")
        _ = writer(k, pages: 3000, style: .sparse)
        vm.pageOut(3000, compress: true, swap: true)
        #expect(vm.stats.cacheEvictions > 0, "the cache is full")
        let entry = vm.cache.oldest()!
        let pfn = PFN(vm.cache.owner[entry])
        let content = vm.cache.content[entry]
        var taken: [UInt32] = []
        while let f = host.frames.allocate() { taken.append(f) }
        let blocked = host.scheduler.blockedAllocations, stats = vm.stats
        _ = vm.eptViolation(pfn: pfn, write: false, reason: .access)
        #expect(host.scheduler.blockedAllocations == blocked + 1, "the VM waited for reclaim")
        #expect(
            vm.stats.swapIns == stats.swapIns + 1 && vm.stats.decompressions == stats.decompressions,
            "read from the swap file, not decompressed")
        #expect(location(vm, pfn) == "private")
        #expect(k.content(of: pfn) == content, "the page's contents came back from the swap file")
        for f in taken { host.frames.release(f) }
        expectHostConsistent(host)
    }

    @Test func theVictimSetDrawsEachCandidateOnceAndSkipsDuplicates() {
        var set = HostVictimSet(pages: 200, rng: Xoshiro256(seed: 3))
        for i in [5, 70, 199, 5, 70, 0] { set.insert(i) }
        #expect(set.count == 4, "a page already in the set is not added twice")
        var drawn: [Int] = []
        while let i = set.draw() { drawn.append(i) }
        #expect(drawn.sorted() == [0, 5, 70, 199])
        #expect(!set.contains(5) && set.count == 0)
        set.insert(5)
        #expect(set.contains(5), "a drawn page can come back")
    }

    @Test func undoingDrawsLeavesTheSetDrawingWhatItWouldHave() {
        // The set's bitmap is a buffer, not a value: two sets built alike, not a copy.
        func filled() -> HostVictimSet {
            var set = HostVictimSet(pages: 5000, rng: Xoshiro256(seed: 9))
            for i in stride(from: 0, to: 5000, by: 3) { set.insert(i) }
            return set
        }
        var (a, b) = (filled(), filled())
        let state = b.drawState
        let tentative = (0..<400).compactMap { _ in b.draw() }
        #expect(tentative.count == 400 && b.count == a.count - 400)
        b.undo(draws: tentative, to: state)
        #expect(b.count == a.count)
        var (da, db): ([Int], [Int]) = ([], [])
        while let i = a.draw() { da.append(i) }
        while let i = b.draw() { db.append(i) }
        let same = da == db, next = Array(da.prefix(400)) == tentative
        #expect(same, "after the undo the set draws the same pages in the same order")
        #expect(next, "and the tentative draws were its next ones")
    }

    /// Worker threads that run jobs in reverse order (the results must not depend on it).
    static func reversedJobs(_ n: Int, _ body: @escaping (Int) -> Void) { for k in (0..<n).reversed() { body(k) } }

    /// Compressing ahead (the coming victims compressed first, in jobs) changes no result:
    /// the same victims in the same places (p2m entries, cache entries, swap slots), the same
    /// counters and memo answers, and the same draws afterwards; with the random and the
    /// CLOCK selections, with swap and without (where an incompressible page ends the call).
    @Test(arguments: [(HostSwapConfig.VictimSelection.random, true), (.random, false), (.accessed, true)])
    func compressingAheadChangesNoResult(selection: HostSwapConfig.VictimSelection, swap: Bool) {
        func run(ahead: Bool) -> (HostMemory, VirtualMachine, [ReclaimOutcome]) {
            let host = makeHost {
                $0.sharing.enabled = false; $0.swap.victim_selection = selection
                $0.compression.cache_size = Percentage(percent: 5)
            }
            if ahead { host.runJobs = Self.reversedJobs }
            let (k, vm) = addGuest(host, "a")
            _ = writer(k, pages: 500, style: .sparse)
            let (pr, vr) = writer(k, pages: 300, style: .random)
            let (pt, vt) = writer(k, pages: 900, style: .text)
            var outs: [ReclaimOutcome] = []
            for (round, n) in [40, 200, 7, 33, 1000, 300].enumerated() {
                outs.append(vm.pageOut(n, compress: true, swap: swap))
                // The guest touches some pages between calls (accessed bits, swap-ins).
                for i in stride(from: round, to: 900, by: 11) { _ = k.access(pt, vt + VPN(i), write: i % 2 == 0) }
                for i in stride(from: round, to: 300, by: 13) { _ = k.access(pr, vr + VPN(i), write: false) }
            }
            return (host, vm, outs)
        }
        let (h0, vm0, o0) = run(ahead: false)
        let (h1, vm1, o1) = run(ahead: true)
        #expect(vm1.compressedAhead > 100 && vm0.compressedAhead == 0, "sizes taken from the plan: \(vm1.compressedAhead)")
        #expect(o0 == o1)
        #expect(vm0.stats == vm1.stats)
        #expect(vm0.stats.compressions > 300 && vm0.stats.compressionRejects > 0)
        let m = (h0.services.compressedSizes, h1.services.compressedSizes)
        #expect(m.0.hits == m.1.hits && m.0.misses == m.1.misses, "the memo answers the same lookups")
        let differing = (0..<vm0.configuredPages).filter { vm0.p2m[$0] != vm1.p2m[$0] }
        #expect(differing.isEmpty, "p2m entries differ at \(differing.prefix(5))")
        #expect(h0.freeFrames == h1.freeFrames && vm0.compressedBytes == vm1.compressedBytes)
        expectHostConsistent(h1, "after paging out with sizes computed ahead")
        var (d0, d1): ([Int], [Int]) = ([], [])
        while let i = vm0.p2m.victims.draw() { d0.append(i) }
        while let i = vm1.p2m.victims.draw() { d1.append(i) }
        let same = d0 == d1
        #expect(same && d0.count > 100, "the victim sets draw the same afterwards (\(d0.count) and \(d1.count) pages)")
    }

    @Test func pagingADrainedVMCostsNothingAndHostPagingStaysProportional() {
        // A VM with 64 MiB configured and a handful of private pages: the old cursor visited
        // up to twice the configured pages per call; candidates make it the pages drawn.
        let host = makeHost { $0.sharing.enabled = false }
        let (k, vm) = addGuest(host, "a", mib: 64)
        _ = writer(k, pages: 2000, style: .sparse)
        let first = vm.pageOut(10_000, compress: true, swap: true)
        #expect(first.reclaimed == vm.stats.compressions + vm.stats.swapOuts - vm.stats.cacheEvictions)
        let again = vm.pageOut(32, compress: true, swap: true)
        #expect(again.reclaimed == 0)
        #expect(again.scanned <= 16 * 32 + 512, "scanned \(again.scanned) of \(vm.configuredPages) configured pages")
        expectHostConsistent(host, "drained")
    }

    @Test func anAllocationStallPagesOutTheVMWithTheFewestSharesPerPage() {
        // Two VMs with the same memory in use; the low-shares one loses pages when a third
        // VM's allocation finds no free frame, whatever their order on the host.
        for lowFirst in [true, false] {
            let host = makeHost(mib: 96) { $0.sharing.enabled = false }
            let names = lowFirst ? ["low", "high"] : ["high", "low"]
            var vms: [String: (GuestKernel, VirtualMachine)] = [:]
            for n in names {
                vms[n] = addGuest(host, n, mib: 32) { $0.shares = n == "low" ? 100 : 10_000 }
                _ = writer(vms[n]!.0, pages: 3000, style: .sparse)
            }
            let (_, requester) = addGuest(host, "req", mib: 32)
            var taken: [UInt32] = []
            while let f = host.frames.allocate() { taken.append(f) }
            let lowBefore = vms["low"]!.1.consumedPages, highBefore = vms["high"]!.1.consumedPages
            _ = host.scheduler.reclaimForAllocation(requester: requester, on: host)
            #expect(vms["low"]!.1.consumedPages < lowBefore, "low shares pays (order low first: \(lowFirst))")
            #expect(vms["high"]!.1.consumedPages == highBefore, "high shares keeps its pages (order low first: \(lowFirst))")
            for f in taken { host.frames.release(f) }
            expectHostConsistent(host)
        }
    }

    @Test func theSwapFileIsSizedConfiguredMinusReservation() {
        let host = makeHost { $0.sharing.enabled = false }
        let (_, vm) = addGuest(host, "a", mib: 32) { $0.reservationPages = 2048 }
        #expect(vm.swapCapacity == 32 * 256 - 2048)
    }
}

@Suite struct BalloonTests {
    @Test func inflatingFreesHostFramesAndDeflatingGivesPagesBack() {
        let host = makeHost { $0.sharing.enabled = false }
        let (k, vm) = addGuest(host, "a", mib: 64)
        let pid = k.spawn(name: "app")
        let v = k.mmap(pid, pages: 8000).value!
        for i in 0..<8000 { _ = k.access(pid, v + VPN(i), write: true) }
        _ = k.munmap(pid, start: v, pages: 8000)  // freed in the guest, still backed on the host
        let backed = vm.privatePages
        let got = k.balloonInflate(pages: 6000)
        #expect(got == 6000)
        #expect(k.balloonPages == 6000 && k.meminfo.Balloon == 6000 * 4)
        #expect(vm.privatePages <= backed - 5000, "the host freed the frames behind the balloon")
        #expect(vm.stats.balloonReclaimed >= 5000)
        expectHostConsistent(host, "inflated")
        #expect(k.balloonDeflate(pages: 6000) == 6000)
        #expect(k.balloonPages == 0 && k.buddy.freePages > 6000)
        expectHostConsistent(host, "deflated")
    }

    @Test func aBalloonPushesTheGuestToReclaimByItsOwnRules() {
        let host = makeHost { $0.sharing.enabled = false }
        let (k, _) = addGuest(host, "a", mib: 32, swapMiB: 64)
        let pid = k.spawn(name: "app")
        let v = k.mmap(pid, pages: 5000).value!
        for i in 0..<5000 { _ = k.access(pid, v + VPN(i), write: true) }
        var got = 0
        for _ in 0..<200 where got < 5000 { got += k.balloonInflate(pages: 100); _ = k.runKswapd() }
        #expect(got > 3000)
        #expect(k.vmstat.pswpout > 0, "the guest swapped to make room for the balloon")
        #expect(k.vmstat.oom_kill == 0, "a balloon allocation never OOM-kills (__GFP_NORETRY)")
        expectHostConsistent(host)
    }

    @Test func deflateOnOOMReleasesOneMiBInsteadOfKilling() {
        let host = makeHost { $0.sharing.enabled = false }
        let (k, _) = addGuest(host, "a", mib: 32, swapMiB: 0) { $0.balloonDeflateOnOOM = true }
        #expect(k.balloonDeflateOnOOM, "power-on plugs in a balloon device with DEFLATE_ON_OOM")
        var got = 0
        for _ in 0..<100 { got += k.balloonInflate(pages: 100) }
        #expect(got > 3000)
        let pid = k.spawn(name: "hog")
        let v = k.mmap(pid, pages: 4000).value!
        for i in 0..<4000 { _ = k.access(pid, v + VPN(i), write: true) }
        #expect(k.vmstat.balloon_oom_deflates > 0)
        #expect(
            k.events.contains {
                if case .balloonDeflateOnOOM(256) = $0 { return true }; return false
            })
        expectHostConsistent(host)
    }
}

@Suite struct ReclaimSchedulerTests {
    @Test func minFreeAndTheStatesFollowESXi() {
        let host = makeHost(mib: 28 * 1024)
        #expect(host.scheduler.minFreePages == MinFree.pages(hostPages: 28 * 1024 * 256))
        #expect(host.scheduler.state == .high)
    }

    @Test func fallingFreeMemoryWalksDownTheStatesAndEachEnablesItsTechniques() {
        // 160 MiB host: minFree = 6 % = 9.6 MiB; three 64 MiB guests writing 55 MiB each overfill it.
        let host = makeHost(mib: 160) {
            $0.sharing.enabled = false; $0.scheduler.reclaim_rate = .mib(4096)
        }
        var seen: Set<HostMemoryState> = [host.scheduler.state]
        var guests: [(GuestKernel, VirtualMachine, PID, VPN)] = []
        for n in 0..<3 {
            let (k, vm) = addGuest(host, "g\(n)", mib: 64, swapMiB: 32)
            let pid = k.spawn(name: "app")
            k.setAnonContentMix(pid, [(.sparse, 0.5), (.random, 0.5)])
            guests.append((k, vm, pid, k.mmap(pid, pages: 14000).value!))
        }
        var t: Int64 = 0
        for i in 0..<14000 {
            for (k, _, pid, v) in guests { _ = k.access(pid, v + VPN(i), write: true) }
            if i % 100 == 0 {
                t += 100_000_000
                host.runScheduler(now: t)
                seen.insert(host.scheduler.state)
                if i % 2000 == 0 { expectHostConsistent(host, "step \(i)") }
            }
        }
        #expect(seen.contains(.hard) || seen.contains(.low), "states seen: \(seen)")
        let vms = host.vms
        #expect(vms.reduce(0) { $0 + $1.stats.compressions } > 0, "hard state compresses")
        #expect(vms.reduce(0) { $0 + $1.stats.swapOuts } > 0, "hard state swaps")
        #expect(
            host.events.contains {
                if case .stateChanged = $0.event { return true }; return false
            })
        #expect(!host.outOfMemory)
    }

    @Test func aLimitBelowConfiguredMemoryReclaimsEvenWithFreeHostMemory() {
        let host = makeHost(mib: 512) { $0.sharing.enabled = false }
        let (k, vm) = addGuest(host, "a", mib: 64) {
            $0.limitPages = 32 * 256; $0.balloonDriver = false
        }
        let pid = k.spawn(name: "app")
        let v = k.mmap(pid, pages: 12000).value!
        for i in 0..<12000 { _ = k.access(pid, v + VPN(i), write: true) }
        #expect(vm.consumedPages > 32 * 256)
        for s in 0..<50 { host.runScheduler(now: Int64(s) * 100_000_000) }
        #expect(host.scheduler.state == .high)
        #expect(vm.consumedPages <= 32 * 256, "consumed \(vm.consumedPages) pages over a limit of \(32 * 256)")
        expectHostConsistent(host)
    }

    @Test func activeSamplingEstimatesTheTouchedShare() {
        let host = makeHost {
            $0.sharing.enabled = false; $0.active_sampling.sample_pages = 2000
        }
        let (k, vm) = addGuest(host, "a", mib: 64)
        let pid = k.spawn(name: "app")
        let v = k.mmap(pid, pages: 8000).value!
        for i in 0..<8000 { _ = k.access(pid, v + VPN(i), write: true) }
        host.sampleActiveMemory()
        // Next period: touch a quarter of the guest (4096 of 16384 pages).
        for round in 0..<3 {
            for i in 0..<4096 { _ = k.access(pid, v + VPN(i), write: round % 2 == 0) }
            host.sampleActiveMemory()
        }
        let truth = Double(vm.trueActivePages) / Double(vm.configuredPages)
        #expect(abs(truth - 0.25) < 0.03, "true active share \(truth)")
        let sampled = Double(vm.sampledTouched) / 2000
        #expect(abs(sampled - truth) < 0.06, "sampled \(sampled) vs true \(truth)")
    }

    @Test func admissionControlCountsReservations() {
        let host = makeHost(mib: 128)
        let (_, vm1) = addGuest(host, "a", mib: 32) { $0.reservationPages = 64 * 256 }
        #expect(vm1.poweredOn)
        var c = GuestKernelConfig(); c.kernel_reserved = .mib(4)
        let k2 = GuestKernel(name: "b", memoryPages: 32 * 256, config: c, swap: SwapDeviceConfig(), costs: CostModel(), seed: 1)
        var s = VMResourceSettings(); s.reservationPages = 64 * 256
        let vm2 = host.addVM(name: "b", kernel: k2, settings: s)
        #expect(!host.powerOn(vm2), "64 + 64 MiB reserved + overheads exceed 112 MiB usable")
        #expect(
            host.events.contains {
                if case .admissionRefused = $0.event { return true }; return false
            })
    }
}

@Suite struct CodecChoiceTests {
    @Test func zstdKeepsMorePagesUnderHalfAPageThanLZ4() {
        func kept(_ codec: String) -> Int {
            let host = makeHost {
                $0.sharing.enabled = false; $0.compression.codec = codec; $0.compression.cache_size = Percentage(percent: 100)
            }
            let (k, vm) = addGuest(host, "a")
            let pid = k.spawn(name: "w")
            k.setAnonContentMix(pid, [(.text, 0.5), (.pointers, 0.5)])
            let v = k.mmap(pid, pages: 600).value!
            for i in 0..<600 { _ = k.access(pid, v + VPN(i), write: true) }
            vm.pageOut(600, compress: true, swap: true)
            for i in 0..<600 { _ = k.access(pid, v + VPN(i), write: false) }
            #expect(host.verificationProblems.isEmpty)
            expectHostConsistent(host, codec)
            return vm.stats.compressions
        }
        let lz4 = kept("lz4"), zstd = kept("zstd")
        #expect(zstd > lz4, "pages kept under 2 KiB: zstd \(zstd), lz4 \(lz4)")
    }
}

@Suite struct HostSwapDeviceTests {
    @Test func aPageCostsLatencyPlusTransferAndBandwidthCapsTheRate() {
        var s = HostSwapConfig()
        s.device = .ssd
        // 100 us latency + 4096 B / 500 MiB/s = 7.8 us.
        #expect(s.readLatency.nanoseconds == 100_000 + 7_812)
        #expect(abs(s.pagesPerSecond - 128_000) < 1)
        s.device = .hdd
        #expect(s.writeLatency.nanoseconds == 5_000_000 + 26_041)
        s.bandwidth = .mib(4)
        #expect(s.pagesPerSecond == 1024)
        #expect(s.validationProblems().isEmpty)
        s.bandwidth = ByteCount(100)
        #expect(s.validationProblems().first?.key == "bandwidth")
    }
}
