import Testing
import OvercommitTestSupport
@testable import GuestKernel
@testable import Hypervisor
import HostPolicies
import OvercommitSupport
import PageContents

/// The host side of free page reporting (QEMU virtio-balloon `free-page-reporting=on`): the VM
/// drops what backs a reported block, and the guest's next touch backs it with zeroes.
@Suite struct PageReportingHostTests {
    /// A booted 256 MiB guest whose balloon device negotiated free page reporting (a pass
    /// needs free memory above the low watermark plus 32 blocks of 2 MiB).
    func reportingGuest(_ host: HostMemory) -> (GuestKernel, VirtualMachine) {
        let k = makeTestKernel(name: "a", memory: .mib(256), swap: .mib(32), kernelImageSeed: 99, kernelImagePages: 256)
        var s = VMResourceSettings()
        s.shares = 2560
        s.balloonMaxPages = 256 * 256 * 65 / 100
        var b = BalloonVMSettings()
        b.free_page_reporting = true
        let vm = host.addVM(name: "a", kernel: k, settings: s, balloon: b)
        #expect(host.powerOn(vm))
        _ = k.boot()
        #expect(k.freePageReporting == FreePageReporting(order: 9, delayNs: 2_000_000_000, capacity: 32))
        return (k, vm)
    }

    /// Runs reporting passes until none is requested; returns the pages reported.
    func reportAll(_ k: GuestKernel) -> Int {
        var n = 0, now: Int64 = 0
        while let t = k.takePageReportingRequest(now: now), n < 1 << 30 {
            now = t
            n += k.runPageReporting()
        }
        return n
    }

    @Test func reportedPagesLeaveTheHostWhateverBacksThemAndComeBackAsZeroes() {
        let host = makeHost(mib: 1024) { $0.sharing.enabled = false }
        let (k, vm) = reportingGuest(host)
        let pid = k.spawn(name: "app")
        k.setAnonContentMix(pid, [(.sparse, 1), (.random, 1)])
        let v = k.mmap(pid, pages: 8000).value!
        for i in 0..<8000 { _ = k.access(pid, v + VPN(i), write: true) }
        // Some of the app's pages end up compressed or in the host swap file.
        _ = vm.pageOut(3000, compress: true, swap: true)
        #expect(vm.compressedPages > 0 && vm.swappedPages > 0)
        expectHostConsistent(host, "paged out")
        let consumed = vm.consumedPages, hostFree = host.frames.freeFrames
        let compressed = vm.compressedPages, swapped = vm.swappedPages
        k.exit(pid)
        let reported = reportAll(k)
        #expect(reported >= 6000, "most of the 8000 freed pages are in blocks of 2 MiB or more")
        #expect(k.vmstat.free_pages_reported == reported)
        #expect(vm.stats.reportedFreed > 4000 && vm.stats.reportedFreed <= reported)
        #expect(vm.consumedPages < consumed - 4000, "the host no longer backs the reported pages")
        #expect(host.frames.freeFrames > hostFree + 4000, "their frames are back in the host's free pool")
        #expect(vm.compressedPages < compressed && vm.swappedPages < swapped, "compressed and swapped copies were released too")
        expectHostConsistent(host, "reported")

        // Every reported page is unbacked with no EPT entry; a touch backs it with zeroes.
        var reportedFrames: [Int] = []
        for order in 9...BuddyAllocator.maxOrder {
            var p = k.buddy.freeLists[order].head
            while p != nilFrame {
                if k.buddy.isReported(p) { reportedFrames += Array(Int(p)..<(Int(p) + (1 << order))) }
                p = k.frames.next[Int(p)]
            }
        }
        #expect(reportedFrames.count == k.buddy.reportedPages)
        #expect(reportedFrames.allSatisfy { vm.p2m[$0] == .unbacked && k.ept[$0] & 3 == 0 })
        let probe = PFN(reportedFrames[reportedFrames.count / 2])
        _ = vm.eptViolation(pfn: probe, write: false, reason: .access)
        if case .machine = vm.p2m[Int(probe)] {} else { Issue.record("the touched page is backed again") }
        #expect(k.content(of: probe) == .zero)
        let zeroHash = host.generator.withBytes(PageContent.zero) { PageHash.xxh3($0) }
        #expect(vm.hashOfPage(probe) == zeroHash)
        expectHostConsistent(host, "probed")

        // A new process reuses the reported memory: its pages are backed again, bytes exact.
        let pid2 = k.spawn(name: "again")
        let w = k.mmap(pid2, pages: 6000).value!
        for i in 0..<6000 { _ = k.access(pid2, w + VPN(i), write: true) }
        #expect(k.buddy.reportedPages < reportedFrames.count, "allocations took reported blocks")
        expectHostConsistent(host, "reused")
    }

    @Test func withoutReportingTheHostKeepsBackingFreedMemory() {
        let host = makeHost { $0.sharing.enabled = false }
        let (k, vm) = addGuest(host, "b", mib: 64)
        #expect(k.freePageReporting == nil, "off by default, as in QEMU")
        let pid = k.spawn(name: "app")
        let v = k.mmap(pid, pages: 8000).value!
        for i in 0..<8000 { _ = k.access(pid, v + VPN(i), write: true) }
        let consumed = vm.consumedPages
        k.exit(pid)
        #expect(k.takePageReportingRequest(now: 0) == nil)
        #expect(k.runPageReporting() == 0)
        #expect(vm.consumedPages == consumed && vm.stats.reportedFreed == 0)
    }

    @Test func reportingNeedsTheBalloonDriver() {
        var b = BalloonVMSettings()
        b.free_page_reporting = true
        #expect(b.consistencyProblems().isEmpty)
        b.driver = false
        #expect(b.consistencyProblems().map(\.0) == ["free_page_reporting"])
    }
}
