import Testing
import OvercommitTestSupport
@testable import GuestKernel
@testable import Hypervisor
import OvercommitSupport
import PageContents

@Suite struct PageSharingTests {
    /// Frames of the common file's pages in a guest.
    func fileFrames(_ k: GuestKernel, _ f: FileID, _ n: Int) -> [PFN] { (0..<n).compactMap { k.files[Int(f)].cachedFrame($0) } }

    @Test func identicalPagesOfTwoVMsAreSharedAfterTwoScansWithoutSalting() {
        let host = makeHost {
            $0.sharing.salting = 0; $0.sharing.pages_to_scan = 5000
        }
        let (k1, vm1) = addGuest(host, "a")
        let (k2, vm2) = addGuest(host, "b")
        let (_, f1) = readCommonFile(k1, pages: 200)
        let (_, f2) = readCommonFile(k2, pages: 200)
        let before = host.freeFrames
        runScans(host, 1)
        // KSM: a page enters the unstable table only when its checksum is unchanged since its previous scan.
        #expect(host.sharing.pages_sharing == 0 || host.sharing.full_scans < 2)
        runScans(host, 2)
        let shared1 = fileFrames(k1, f1, 200).filter { location(vm1, $0) == "shared" }.count
        let shared2 = fileFrames(k2, f2, 200).filter { location(vm2, $0) == "shared" }.count
        #expect(shared1 == 200 && shared2 == 200)
        #expect(host.sharing.pages_sharing >= 200, "pages_sharing \(host.sharing.pages_sharing)")
        #expect(host.sharing.pages_shared >= 200)
        #expect(host.freeFrames - before >= 200, "sharing freed \(host.freeFrames - before) frames")
        // Zero pages (the guests' free memory the boot zeroed) go to the host zero frame.
        #expect(host.sharing.zero_pages_sharing > 0)
        #expect(host.sharing.comparisons >= 200)
        expectHostConsistent(host, "after sharing")
    }

    /// Two hosts that differ only as `variant` makes them (false for the first, true for the
    /// second), each with guests a and b holding the same file and c another, scanned side by
    /// side until the first has made `fullScans` full scans. Every sharing counter, the CPU
    /// charged, the free frames and every page's location must be equal.
    func scanSideBySide(
        fullScans: Int, _ tweak: @escaping (inout HostConfig) -> Void, variant: (HostMemory, Bool) -> Void
    ) -> (plain: HostMemory, fast: HostMemory) {
        func build(_ v: Bool) -> (HostMemory, [VirtualMachine]) {
            let host = makeHost(tweak)
            variant(host, v)
            var vms: [VirtualMachine] = []
            for (name, seed) in [("a", UInt64(42)), ("b", 42), ("c", 7)] {
                let (k, vm) = addGuest(host, name)
                _ = readCommonFile(k, pages: 300, seed: seed)
                vms.append(vm)
            }
            return (host, vms)
        }
        let (plain, pv) = build(false)
        let (fast, fv) = build(true)
        var wakes = 0
        while plain.sharing.full_scans < fullScans && wakes < 5_000 {
            _ = plain.runSharingScanner()
            _ = fast.runSharingScanner()
            wakes += 1
        }
        let s = (plain.sharing, fast.sharing)
        #expect(s.0.pages_scanned > 2000, "the scans must cover the guests: \(s.0.pages_scanned)")
        #expect(s.0.pages_sharing > 0 && s.0.full_scans >= fullScans - 1)
        #expect(
            [s.0.pages_scanned, s.0.hashes, s.0.comparisons, s.0.pages_sharing, s.0.pages_shared, s.0.full_scans, s.0.pages_volatile, s.0.false_matches]
                == [s.1.pages_scanned, s.1.hashes, s.1.comparisons, s.1.pages_sharing, s.1.pages_shared, s.1.full_scans, s.1.pages_volatile, s.1.false_matches])
        #expect(s.0.cpuNs == s.1.cpuNs && plain.freeFrames == fast.freeFrames)
        for (a, b) in zip(pv, fv) {
            #expect((0..<a.configuredPages).allSatisfy { location(a, PFN($0)) == location(b, PFN($0)) }, "\(a.name)")
        }
        return (plain, fast)
    }

    /// Worker threads that run jobs in reverse order (the results must not depend on it).
    static func reversedJobs(_ n: Int, _ body: @escaping (Int) -> Void) { for k in (0..<n).reversed() { body(k) } }

    /// Hashing ahead (the scanner's hashes computed first, in chunks, on worker threads)
    /// changes no result: the same merges, counters and page locations as hashing in the scan,
    /// in KSM's vocabulary and in ESX's, and the scan uses the hashes computed ahead.
    @Test(arguments: [false, true])
    func hashingAheadChangesNoResult(esxRates: Bool) {
        let (plain, fast) = scanSideBySide(fullScans: 3) {
            $0.sharing.salting = 0
            if esxRates { $0.sharing.scan_rate_per_vm = 200_000 } else { $0.sharing.pages_to_scan = 7_000 }
        } variant: { host, ahead in
            if ahead { host.runJobs = Self.reversedJobs }
        }
        #expect(fast.sharing.aheadUsed > 0 && plain.sharing.aheadUsed == 0, "the scan takes the hashes computed ahead: \(fast.sharing.aheadUsed)")
        expectHostConsistent(fast, "after scanning with hashes computed ahead")
    }

    /// The hash memo (the hash of a content scanned before, taken instead of hashing its bytes
    /// again) changes no result, with and without hashing ahead, and in check mode finds its
    /// answers equal to the bytes' hashes.
    @Test(arguments: [false, true])
    func theHashMemoChangesNoResult(ahead: Bool) {
        let (plain, fast) = scanSideBySide(fullScans: 4) {
            $0.sharing.salting = 0; $0.sharing.pages_to_scan = 7_000
        } variant: { host, memo in
            host.sharing.memoEnabled = memo
            host.verifyDecompressedBytes = true
            if ahead { host.runJobs = Self.reversedJobs }
        }
        let s = (plain.sharing, fast.sharing)
        // Rescans of unchanged pages are answered by the memo (ahead, the jobs take them too).
        if ahead {
            #expect(s.1.aheadUsed > 0)
        } else {
            #expect(s.1.memoUsed > s.1.pages_scanned / 3, "memo answered \(s.1.memoUsed) of \(s.1.pages_scanned)")
        }
        #expect(s.0.memoUsed == 0)
        #expect(fast.checkInvariants().isEmpty, "\(fast.checkInvariants())")
        expectHostConsistent(fast, "after scanning with the hash memo")
    }

    @Test func theESXRatesArePaidOutAtEveryScanTick() {
        for (tick, perWakeUp) in [(SimDuration.ms(20), 20), (.ms(50), 50)] {
            let host = makeHost {
                $0.sharing.scan_rate_per_vm = 1000; $0.sharing.scan_tick = tick
            }
            addGuest(host, "a")
            addGuest(host, "b")
            #expect(host.runSharingScanner() == tick.nanoseconds, "the next wake-up is one tick away")
            #expect(host.sharing.pages_scanned <= 2 * perWakeUp)
            let visited = (0..<2).map { host.sharing.cursors[$0].steps }
            #expect(visited == [perWakeUp, perWakeUp], "1000 pages/s per VM for \(tick): \(visited)")
        }
    }

    @Test func saltingKeepsSharingInsideEachVM() {
        for (mode, salts, expectShared) in [
            (2, (nil, nil) as (String?, String?), false), (2, ("grp", "grp"), true),
            (1, (nil, nil), true), (1, ("x", "y"), false), (0, ("x", "y"), true),
        ] {
            let host = makeHost {
                $0.sharing.salting = mode; $0.sharing.pages_to_scan = 5000
            }
            let (k1, vm1) = addGuest(host, "a") { $0.pshareSalt = salts.0 }
            let (k2, _) = addGuest(host, "b") { $0.pshareSalt = salts.1 }
            let (_, f1) = readCommonFile(k1, pages: 100)
            _ = readCommonFile(k2, pages: 100)
            runScans(host, 3)
            let shared = fileFrames(k1, f1, 100).filter { location(vm1, $0) == "shared" }.count
            #expect(shared == (expectShared ? 100 : 0), "ShareForceSalting \(mode) salts \(salts): \(shared) shared")
            expectHostConsistent(host, "salting \(mode)")
        }
    }

    @Test func aWriteToASharedPageBreaksCopyOnWriteAndKeepsBothVersions() {
        let host = makeHost {
            $0.sharing.salting = 0; $0.sharing.pages_to_scan = 5000
        }
        let (k1, vm1) = addGuest(host, "a")
        let (k2, vm2) = addGuest(host, "b")
        let (p1, f1) = readCommonFile(k1, pages: 50)
        let (_, f2) = readCommonFile(k2, pages: 50)
        runScans(host, 3)
        let frame = k1.files[Int(f1)].cachedFrame(7)!
        #expect(location(vm1, frame) == "shared")
        #expect(k1.ept[Int(frame)] & 2 == 0, "a shared page is read-only in the EPT")
        let sharingBefore = host.sharing.pages_sharing
        _ = k1.fileWrite(p1, file: f1, page: 7)
        #expect(vm1.stats.cowBreaks == 1)
        #expect(location(vm1, frame) == "private")
        #expect(host.sharing.pages_sharing == sharingBefore - 1)
        // The other VM still maps the old bytes; the writer sees its new bytes.
        #expect(location(vm2, k2.files[Int(f2)].cachedFrame(7)!) == "shared")
        expectHostConsistent(host, "after COW break")
    }

    @Test func changedPagesAreVolatileAndNotShared() {
        let host = makeHost {
            $0.sharing.salting = 0; $0.sharing.pages_to_scan = 1000; $0.sharing.use_zero_pages = false
        }
        let (k1, vm1) = addGuest(host, "a")
        let pid = k1.spawn(name: "writer")
        k1.setAnonContentMix(pid, [(.pattern, 1)])
        let v = k1.mmap(pid, pages: 300).value!
        // The writer rewrites its pages between every two wake-ups of the scanner: each pass
        // finds their checksums changed, so they never enter the unstable table.
        for _ in 0..<60 {
            for i in 0..<300 { _ = k1.access(pid, v + VPN(i), write: true) }
            _ = host.runSharingScanner()
        }
        #expect(host.sharing.full_scans >= 4)
        #expect(host.sharing.pages_volatile >= 300, "pages_volatile \(host.sharing.pages_volatile)")
        let p = k1.process(pid)!
        let shared = (0..<300).filter { i -> Bool in
            let e = PTE(raw: k1.pteValue(p, v + VPN(i)))
            return e.isPresent && location(vm1, e.pfn) != "private"
        }.count
        #expect(shared == 0, "\(shared) volatile pages were shared")
        expectHostConsistent(host)
    }

    @Test func maxPageSharingStartsANewSharedFrame() {
        let host = makeHost(mib: 512) {
            $0.sharing.salting = 0; $0.sharing.pages_to_scan = 20000; $0.sharing.max_page_sharing = 3
        }
        var files: [(GuestKernel, FileID)] = []
        for n in 0..<5 {
            let (k, _) = addGuest(host, "g\(n)")
            files.append((k, readCommonFile(k, pages: 4).1))
        }
        runScans(host, 3)
        // 5 identical copies of each of 4 pages with at most 3 mappings per frame: 2 frames per page.
        #expect(host.sharing.pages_shared >= 8, "pages_shared \(host.sharing.pages_shared)")
        expectHostConsistent(host)
    }

    @Test func largePagesAreNeverSharedButTheirSubpagesShareWhenBroken() {
        let host = makeHost {
            $0.large_pages = true; $0.sharing.salting = 0; $0.sharing.pages_to_scan = 5000
        }
        let (k1, vm1) = addGuest(host, "a")
        let (k2, vm2) = addGuest(host, "b")
        #expect(vm1.largePages > 0 && vm2.largePages > 0, "boot touched whole 2 MiB regions")
        let (_, f1) = readCommonFile(k1, pages: 100)
        _ = readCommonFile(k2, pages: 100)
        runScans(host, 3)
        let frames = (0..<100).compactMap { k1.files[Int(f1)].cachedFrame($0) }
        let inLarge = frames.filter { vm1.largeRegion[Int($0) >> 9] != 0 }
        #expect(!inLarge.isEmpty)
        #expect(inLarge.allSatisfy { location(vm1, $0) == "private" }, "pages of intact large pages are never shared")
        #expect(host.sharing.large_subpages_hashed > 0)
        #expect(vm1.untouchedLargePagePages > 0, "large pages back memory the guest never touched")
        // Break every large page: subpages with precomputed hashes are shared at once.
        var freed = 0
        for vm in [vm2, vm1] { for r in 0..<vm.largeRegion.count { freed += breakLargePage(host, vm, r, shareFirst: true) } }
        #expect(freed > 0, "share before swap freed frames")
        #expect(inLarge.contains { location(vm1, $0) != "private" })
        expectHostConsistent(host, "after breaking")
    }
}
