import HostPolicies
import OvercommitSupport
import OvercommitTestSupport
import PageContents
import Testing
@testable import GuestKernel
@testable import Hypervisor

/// Hyper-V Dynamic Memory's hot-add: a VM boots seeing its startup memory; hot-add onlines
/// 128 MiB chunks of the rest (up to its configured = maximum memory) into the guest's buddy
/// allocator; the host backs the new frames on first touch.
@Suite struct HotAddTests {
    static let chunk = GuestKernel.hotplugBlockPages

    /// A powered-on, booted 512 MiB (maximum) guest with 192 MiB of startup memory.
    func hyperVGuest(_ host: HostMemory, startup: ByteCount = .mib(192), minimum: ByteCount? = nil) -> (GuestKernel, VirtualMachine) {
        let k = makeTestKernel(name: "hv", memory: .mib(512), swap: .mib(64), kernelImageSeed: 99, kernelImagePages: 256)
        var s = VMResourceSettings()
        s.shares = 5120
        s.balloonMaxPages = 512 * 256 * 65 / 100
        var b = BalloonVMSettings()
        b.startup_memory = startup
        b.minimum = minimum
        let vm = host.addVM(name: "hv", kernel: k, settings: s, balloon: b)
        #expect(host.powerOn(vm))
        _ = k.boot()
        return (k, vm)
    }

    @Test func theGuestBootsWithItsStartupMemoryOnly() {
        let host = makeHost(mib: 1024)
        let (k, vm) = hyperVGuest(host)
        #expect(k.onlinePages == 192 * 256 && vm.onlinePages == 192 * 256)
        #expect(k.offlinePages == 320 * 256)
        #expect(k.meminfo.MemTotal == (192 - 4) * 1024, "MemTotal counts online memory only")
        #expect(k.buddy.freePages <= (192 - 4) * 256)
        #expect(k.watermarks == Watermarks(managedPages: (192 - 4) * 256, config: k.config))
        expectHostConsistent(host, "booted")
    }

    @Test func hotAddGrowsMemTotalInWholeChunksAndTheNewPagesWork() {
        let host = makeHost(mib: 1024) { $0.sharing.enabled = false }
        let (k, vm) = hyperVGuest(host)
        let memTotal = k.meminfo.MemTotal, free = k.buddy.freePages, limit = k.commitLimit
        #expect(vm.hotAdd(pages: 1) == Self.chunk, "one page asked: one whole 128 MiB chunk onlined")
        #expect(k.meminfo.MemTotal == memTotal + 128 * 1024)
        #expect(k.buddy.freePages == free + Self.chunk)
        #expect(k.commitLimit > limit, "CommitLimit follows totalram")
        #expect(k.watermarks == Watermarks(managedPages: k.managedPages, config: k.config), "watermarks recomputed")
        #expect(vm.stats.hotAdded == Self.chunk && vm.consumedPages < 100 * 256, "hot-added memory is not backed until touched")
        // Fill more than the startup memory: the guest must use the hot-added frames, and
        // every page keeps its bytes.
        let pid = k.spawn(name: "app")
        k.setAnonContentMix(pid, [(.sparse, 1), (.random, 1)])
        let pages = 250 * 256
        let v = k.mmap(pid, pages: pages).value!
        for i in 0..<pages { _ = k.access(pid, v + VPN(i), write: true) }
        let startupEnd = 192 * 256
        var above = 0
        for f in startupEnd..<(startupEnd + Self.chunk) where k.frames.use(PFN(f)).isLRU { above += 1 }
        #expect(above >= (250 - 192) * 256, "the buddy allocator hands out hot-added frames for what startup memory cannot hold")
        #expect(vm.consumedPages > 200 * 256, "the host backed them on first touch")
        for i in stride(from: 0, to: pages, by: 97) { _ = k.access(pid, v + VPN(i), write: false) }
        expectHostConsistent(host, "filled")
    }

    @Test func noHotAddBeyondTheMaximum() {
        let host = makeHost(mib: 1024)
        let (k, vm) = hyperVGuest(host, startup: .mib(200))
        // 200 MiB is on a 4 MiB boundary; 312 MiB offline = two chunks and a 56 MiB tail.
        #expect(k.offlinePages == 312 * 256)
        #expect(vm.hotAdd(pages: 1 << 30) == 312 * 256, "at most what is offline")
        #expect(k.offlinePages == 0 && vm.onlinePages == vm.configuredPages)
        #expect(k.meminfo.MemTotal == (512 - 4) * 1024)
        #expect(vm.hotAdd(pages: Self.chunk) == 0, "nothing past the maximum")
        expectHostConsistent(host, "all online")
    }

    @Test func aVMWithoutStartupMemorySeesAllOfItAndNeverHotAdds() {
        let host = makeHost(mib: 512)
        let (k, vm) = addGuest(host, "plain", mib: 64)
        #expect(k.offlinePages == 0 && vm.onlinePages == vm.configuredPages)
        #expect(vm.hotAdd(pages: Self.chunk) == 0)
    }

    @Test func theHyperVPolicyHotAddsAsDemandGrowsAndBalloonsBelowStartup() {
        let host = makeHost(mib: 2048) {
            $0.balloon_policy = BalloonPolicySpec(HyperVBalloonParameters())
            $0.sharing.enabled = false
        }
        let (k, vm) = hyperVGuest(host, startup: .mib(192), minimum: .mib(64))
        // Idle: demand is the balloon floor (plus little committed memory), under startup: balloon.
        host.runBalloonPolicy(now: 0)
        #expect(vm.balloonTarget > 0 && vm.stats.hotAdded == 0)
        #expect(vm.onlinePages - vm.balloonTarget >= 64 * 256, "never below the minimum")
        // A 200 MiB commitment: demand × 1.2 is above what the guest sees: hot-add in chunks.
        let pid = k.spawn(name: "app")
        _ = k.mmap(pid, pages: 200 * 256).value!
        let demand = k.memoryDemandPages
        host.runBalloonPolicy(now: 1_000_000_000)
        let wanted = min(512 * 256, Int((Double(demand) * 1.2).rounded(.up)))
        #expect(vm.stats.hotAdded > 0 && vm.stats.hotAdded % Self.chunk == 0 || vm.onlinePages == vm.configuredPages)
        #expect(vm.onlinePages >= wanted && vm.onlinePages - wanted < Self.chunk, "just enough whole chunks")
        #expect(vm.balloonTarget == vm.onlinePages - wanted, "the rest of the last chunk is ballooned")
        // Demand falls: memory goes back through the balloon, never by hot-remove.
        k.exit(pid)
        let online = vm.onlinePages
        host.runBalloonPolicy(now: 2_000_000_000)
        #expect(vm.onlinePages == online, "Linux guests are never hot-removed")
        #expect(vm.balloonTarget > online - 192 * 256)
        expectHostConsistent(host, "after the policy")
    }
}

/// Hyper-V Smart Paging: a Dynamic Memory VM started on a host that cannot back its startup
/// memory pages the shortfall to its own swap file until it has ballooned down.
@Suite struct SmartPagingTests {
    @Test func aVMStartedShortOfMemoryPagesTheShortfallUntilItBalloonsDown() {
        let host = makeHost(mib: 640) {
            $0.balloon_policy = BalloonPolicySpec(HyperVBalloonParameters())
            $0.sharing.enabled = false
        }
        // A plain VM that fills most of the host.
        let (big, _) = addGuest(host, "big", mib: 512)
        let pid = big.spawn(name: "fill")
        big.setAnonContentMix(pid, [(.random, 1)])
        let fill = big.mmap(pid, pages: 440 * 256).value!
        for i in 0..<(440 * 256) { _ = big.access(pid, fill + VPN(i), write: true) }
        // The Dynamic Memory VM: startup 256 MiB, minimum 64 MiB, maximum 512 MiB.
        let k = makeTestKernel(name: "hv", memory: .mib(512), swap: .mib(64), kernelImageSeed: 99, kernelImagePages: 256)
        var s = VMResourceSettings()
        s.shares = 5120
        s.balloonMaxPages = 512 * 256 * 65 / 100
        var b = BalloonVMSettings()
        b.startup_memory = .mib(256)
        b.minimum = .mib(64)
        let vm = host.addVM(name: "hv", kernel: k, settings: s, balloon: b)
        let available = host.frames.freeFrames - host.config.vm_overhead.pages - host.frames.minFreePages
        #expect(available < 256 * 256, "the host cannot back the startup memory")
        #expect(host.powerOn(vm))
        _ = k.boot()
        #expect(vm.smartPagingActive && vm.smartPagingLimit == available)
        // The guest touches 160 MiB while starting: what the host cannot back goes to the file.
        let app = k.spawn(name: "boot")
        k.setAnonContentMix(app, [(.sparse, 1), (.random, 1)])
        let v = k.mmap(app, pages: 160 * 256).value!
        for i in 0..<(160 * 256) { _ = k.access(app, v + VPN(i), write: true) }
        let before = vm.consumedPages
        #expect(before > available)
        host.runBalloonPolicy(now: 1_000_000_000)
        #expect(vm.stats.smartPagingOuts >= before - available && vm.consumedPages <= available)
        #expect(vm.smartPagingPages == vm.swappedPages && vm.smartPagingPages > 0)
        expectHostConsistent(host, "smart paging")
        // The boot burst ends; the policy balloons the VM down until it fits: Smart Paging ends.
        k.exit(app)
        for t in 2...40 where vm.smartPagingActive {
            host.runBalloonPolicy(now: Int64(t) * 1_000_000_000)
            k.runBalloonDriver()
        }
        #expect(!vm.smartPagingActive && vm.smartPagingPages == 0)
        #expect(vm.assignedPages <= available || vm.assignedPages <= vm.consumedPages + max(0, host.frames.freeFrames - host.frames.minFreePages))
        expectHostConsistent(host, "after smart paging")
    }

    @Test func aVMThatFitsOrHasNoLowerMinimumNeverSmartPages() {
        let host = makeHost(mib: 2048)
        let k = makeTestKernel(name: "hv", memory: .mib(512), swap: .mib(64))
        var b = BalloonVMSettings()
        b.startup_memory = .mib(256)
        let vm = host.addVM(name: "hv", kernel: k, settings: VMResourceSettings(), balloon: b)
        #expect(host.powerOn(vm))
        #expect(!vm.smartPagingActive, "room for the startup memory")
        #expect(vm.runSmartPaging() == 0)
    }
}
