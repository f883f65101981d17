import Testing
import OvercommitTestSupport
@testable import GuestKernel
@testable import Hypervisor
import HostPolicies
import OvercommitSupport
import PageContents

/// The host's reclaim mechanisms through their shrinker contract (`count`, `scan` ->
/// `ReclaimOutcome`), the drivers that call them, and what each outcome claims against what
/// the host and the VM actually did.
@Suite struct ReclaimMechanismTests {
    /// A process that wrote `pages` anonymous pages of one content style.
    func writer(_ k: GuestKernel, pages: Int, style: ContentStyle) -> (PID, VPN) {
        let pid = k.spawn(name: "w-\(style)")
        k.setAnonContentMix(pid, [(style, 1)])
        let v = k.mmap(pid, pages: pages).value!
        for i in 0..<pages { _ = k.access(pid, v + VPN(i), write: true) }
        return (pid, v)
    }

    @Test func everyTechniqueButBlockHasAMechanismThatNamesIt() {
        for t in ReclaimTechnique.allCases {
            if t == .block { #expect(t.mechanism == nil); continue }
            #expect(t.mechanism?.technique == t, "\(t)")
            #expect(t.summary.count > 20, "\(t): a one-line summary for `overcommit policies`")
        }
    }

    @Test func hostSwappingReportsThePagesItTookAndWrote() {
        let host = makeHost { $0.sharing.enabled = false }
        let (k, vm) = addGuest(host, "a")
        _ = writer(k, pages: 300, style: .sparse)
        _ = writer(k, pages: 300, style: .random)
        let m = HostSwapping()
        #expect(m.count(vm, on: host) == vm.privatePages)
        let before = vm.stats, privateBefore = vm.privatePages
        let out = m.scan(HostReclaimControl(vm: vm, nrToScan: 500, mayCompress: true, maySwap: true), on: host)
        #expect(out.reclaimed == 500)
        #expect(out.reclaimed == privateBefore - vm.privatePages)
        #expect(out.reclaimed == (vm.stats.compressions - before.compressions) + (vm.stats.swapOuts - before.swapOuts))
        #expect(out.swapWrites == vm.stats.swapOuts - before.swapOuts && out.swapWrites > 0, "random pages do not compress: swapped")
        #expect(out.scanned >= out.reclaimed)
        // Not allowed to swap: the mechanism does nothing.
        #expect(m.scan(HostReclaimControl(vm: vm, nrToScan: 100, mayCompress: true, maySwap: false), on: host) == ReclaimOutcome())
        expectHostConsistent(host)
    }

    @Test func compressionAloneKeepsWhatFitsAndLeavesTheRest() {
        let host = makeHost {
            $0.sharing.enabled = false; $0.compression.cache_size = Percentage(percent: 100)
        }
        let (k, vm) = addGuest(host, "a")
        _ = writer(k, pages: 200, style: .random)
        let out = Compression().scan(HostReclaimControl(vm: vm, nrToScan: 200, mayCompress: true), on: host)
        #expect(out.swapWrites == 0 && vm.swappedPages == 0, "compression alone never swaps")
        #expect(out.reclaimed == vm.stats.compressions)
        #expect(vm.stats.compressionRejects > 0, "random pages stay in memory")
        expectHostConsistent(host)
    }

    @Test func sharingScanCountsTheFramesItsMergesFreed() {
        let host = makeHost { $0.sharing.salting = 0 }
        let (k1, vm1) = addGuest(host, "a")
        let (k2, vm2) = addGuest(host, "b")
        _ = readCommonFile(k1, pages: 200)
        _ = readCommonFile(k2, pages: 200)
        let scan = SharingScan()
        var freed = 0
        for _ in 0..<3 {
            for vm in [vm1, vm2] {
                let free = host.freeFrames
                let out = scan.scan(HostReclaimControl(vm: vm, nrToScan: vm.configuredPages), on: host)
                #expect(out.reclaimed == host.freeFrames - free, "frames freed by merges")
                #expect(out.scanned <= vm.configuredPages)
                freed += out.reclaimed
            }
            host.sharing.endFullScanIfDone(on: host)
        }
        #expect(freed >= 200, "the common file's pages were merged")
        expectHostConsistent(host)
    }

    @Test func aStateWithoutShareStopsTheScanner() {
        func scanned(_ techniques: [ReclaimTechnique]) -> Int {
            let host = makeHost { $0.states.high_techniques = techniques }
            let (k, _) = addGuest(host, "a")
            _ = readCommonFile(k, pages: 100)
            for _ in 0..<20 { _ = host.runSharingScanner() }
            #expect(host.scheduler.state == .high)
            return host.sharing.pages_scanned
        }
        #expect(scanned([.share]) > 0)
        #expect(scanned([]) == 0, "high without share: the scanner sleeps")
    }

    @Test func largePageBreakingBreaksWhatItWasAskedForAndSaysSo() {
        let host = makeHost {
            $0.large_pages = true; $0.sharing.enabled = false
        }
        let (k, vm) = addGuest(host, "a")
        _ = writer(k, pages: 3000, style: .sparse)
        let intact = vm.largePages
        #expect(intact >= 3, "boot touched whole 2 MiB regions")
        let m = LargePageBreaking()
        #expect(m.count(vm, on: host) == intact * 512)
        let out = m.scan(HostReclaimControl(vm: vm, nrToScan: 2 * 512), on: host)
        #expect(out.largePagesBroken == 2 && vm.largePages == intact - 2)
        #expect(out.reclaimed == 0, "without sharing nothing is freed at once")
        expectHostConsistent(host)
    }

    @Test func balloonRequestRaisesTheTargetUpToTheMaximumAndTheGuestDriverFollows() {
        let host = makeHost { $0.sharing.enabled = false }
        let (k, vm) = addGuest(host, "a", mib: 64)
        let m = BalloonRequest()
        let room = vm.settings.balloonMaxPages
        #expect(m.count(vm, on: host) == room)
        let first = m.scan(HostReclaimControl(vm: vm, nrToScan: 1000), on: host)
        #expect(first.requested == 1000 && first.reclaimed == 0 && vm.balloonTarget == 1000)
        let second = m.scan(HostReclaimControl(vm: vm, nrToScan: 10 * room), on: host)
        #expect(second.requested == room - 1000 && vm.balloonTarget == room)
        #expect(m.count(vm, on: host) == 0)
        // The driver in the guest polls the target and moves by its rate per poll.
        let perPoll = k.balloonDevice!.pagesPerPoll
        #expect(perPoll == 64 * 256, "64 MiB/s polled once a second")
        k.runBalloonDriver()
        #expect(k.balloonPages == min(perPoll, room))
        expectHostConsistent(host)
    }

    @Test func theSchedulerPagesOutAVMAboveItsLimitThroughTheMechanisms() {
        let host = makeHost(mib: 512) {
            $0.sharing.enabled = false; $0.compression.enabled = false
        }
        let (k, vm) = addGuest(host, "a", mib: 64) {
            $0.limitPages = 40 * 256; $0.balloonDriver = false
        }
        _ = writer(k, pages: 12000, style: .pointers)
        for s in 0..<30 { host.runScheduler(now: Int64(s) * 100_000_000) }
        #expect(vm.consumedPages <= 40 * 256)
        #expect(vm.stats.swapOuts > 0 && vm.stats.compressions == 0, "compression is off: host swap only")
        expectHostConsistent(host)
    }

    @Test func theP2MEntryRoundTripsThroughItsFourBytes() {
        let values: [UInt32] = [0, 1, 12345, UInt32(P2MMap.maxValue)]
        var entries: [P2MEntry] = [.unbacked, .overdraft]
        for v in values { entries += [.machine(v), .shared(node: v), .compressed(entry: v), .swapped(slot: v)] }
        for e in entries { #expect(P2MMap.decode(P2MMap.encode(e)) == e, "\(e)") }
        #expect(Set(entries.map(P2MMap.encode)).count == entries.count, "distinct entries encode differently")
        var map = P2MMap(pages: 4)
        #expect(map[3] == .unbacked && !map.isPrivate(3))
        map[3] = .machine(7)
        #expect(map.isPrivate(3) && map[3] == .machine(7))
        #expect(!P2MMap(pages: 1).isPrivate(0), "unbacked is not private")
    }
}
