import GuestKernel
import HostPolicies
import OvercommitSupport
import PageContents

/// Machine memory of the host and the VMs it backs.
///
/// Follows ESXi: guest-physical memory is backed lazily on first touch (2 MiB large pages
/// while the host is in the high state); page sharing, ballooning, compression and host swap
/// take machine frames back under the reclaim scheduler. Machine frames are conserved:
/// free + private + shared + compression caches + VM overhead + hypervisor = RAM.
///
/// Ownership: the host owns its VMs (each owns its guest and its backing state) and the
/// host-wide services: the machine frames, the shared frames and sharing scanner, the reclaim
/// scheduler with its free-memory state and balloon policy. VMs reach the host only through
/// `HostServices`; the services run at the host's synchronisation points (the engine's host
/// events, and an allocation that must wait for reclaim) and change a VM only through its
/// methods.
public final class HostMemory: AllocationReclaimer {
    public let config: HostConfig
    public let costs: CostModel
    public let generator: PageGenerator
    /// Frames reserved as per-VM overhead.
    public private(set) var overheadFrames = 0
    /// The same, per NUMA node (the overhead comes from the VM's home node first).
    var overheadByNode: [Int]
    /// VMs placed round robin so far (ESX's initial placement).
    var placedRoundRobin = 0
    /// Reservations of powered-on VMs (accounted by admission control, not allocated).
    public private(set) var reservedPages = 0
    public private(set) var vms: [VirtualMachine] = []
    /// Transparent page sharing: the shared frames and the scanner.
    public let sharing: PageSharing
    /// The reclaim scheduler (free-memory state, targets, balloon policy).
    public let scheduler: ReclaimScheduler
    /// The machine frames.
    let frames: MachineMemory
    /// What the VMs use of the host.
    let services: HostServices
    /// When and how much the sharing scanner scans.
    let sharingScanScheduler: SharingScanScheduler
    /// Which VM owns each 16 MiB chunk of the global page-reference space.
    var vmOfChunk: [Int32] = []
    /// Runs `count` independent jobs, `body(0)` ... `body(count - 1)`, on the simulation's
    /// helper threads and returns when all are done (nil: one thread). Host-wide services use
    /// it at synchronisation points for work whose result does not depend on the order: the
    /// sharing scanner hashes ahead with it, host paging compresses its coming victims ahead
    /// (`CompressAhead`), active-memory sampling counts each VM's touched pages.
    public var runJobs: ((Int, @escaping (Int) -> Void) -> Void)? {
        get { services.runJobs }
        set { services.runJobs = newValue }
    }
    var nextPageRef: UInt32 = 0
    var rng: Xoshiro256

    public init(config: HostConfig, costs: CostModel, generator: PageGenerator = PageGenerator(), seed: UInt64 = 1) {
        self.config = config
        self.costs = costs
        self.generator = generator
        let minFree = MinFree.pages(hostPages: config.memory.pages)
        frames = MachineMemory(
            totalFrames: config.memory.pages, hypervisorFrames: config.hypervisor_reserved.pages, minFreePages: minFree,
            topology: NUMATopology(config.numa, totalFrames: config.memory.pages))
        overheadByNode = Array(repeating: 0, count: frames.nodeCount)
        services = HostServices(config: config, costs: costs, generator: generator, frames: frames)
        sharing = PageSharing(config: config.sharing, shared: services.sharedFrames, costs: costs, generator: generator)
        scheduler = ReclaimScheduler(config: config, minFreePages: minFree)
        sharingScanScheduler = SharingScanScheduler(config: config.sharing, managed: config.policy.isProgram)
        rng = Xoshiro256(seed: seed, component: "host")
        services.reclaimer = self
        scheduler.publishState(to: frames)
    }

    /// Machine frames of RAM.
    public var totalFrames: Int { frames.totalFrames }
    /// Frames the hypervisor keeps for itself (the host zero frame is one of them).
    public var hypervisorFrames: Int { frames.hypervisorFrames }
    /// Machine frames not backing anything.
    public var freeFrames: Int { frames.freeFrames }
    /// Events since the engine last drained them (VM index, -1 for the host itself).
    public var events: [(vm: Int, event: HostEvent)] {
        get { services.events }
        set { services.events = newValue }
    }
    /// Set when a guest touched a page with no machine frame left and nothing to reclaim.
    public var outOfMemory: Bool { services.outOfMemory }
    /// Pages the guests touched beyond machine memory after the out-of-memory event.
    public var overdraftPages: Int { services.overdraftPages }
    /// Verify decompressed bytes against what the page held (check mode).
    public var verifyDecompressedBytes: Bool {
        get { services.verifyDecompressedBytes }
        set {
            services.verifyDecompressedBytes = newValue
            sharing.verifyMemo = newValue
        }
    }
    /// Memos shared with the other runs of an experiment (a consolidation search, a sweep):
    /// the sharing scanner's hashes and host paging's compressed sizes. It never changes a
    /// result (see `SharedContentMemo`). Set before the VMs are added.
    public var sharedContentMemo: SharedContentMemo? {
        get { sharing.hashMemo.shared }
        set {
            sharing.hashMemo.shared = newValue
            if let m = newValue { services.compressedSizes.share(m, codec: config.compression.codec) }
        }
    }
    /// Decompression problems found and not yet reported by `checkInvariants`.
    public var verificationProblems: [String] { vms.flatMap { $0.compressor.problems } }
    /// Compression and decompression CPU time (cost model), over all VMs.
    public var compressorNs: Int64 { vms.reduce(0) { $0 + $1.compressorNs } }
    /// Whether new first touches get 2 MiB pages: large pages on and the host in the high state.
    public var largePagesAllowed: Bool { frames.largePagesAllowed }

    /// Adds a VM for a guest; it is powered off until `powerOn`. The VM owns the guest.
    public func addVM(
        name: String, kernel guest: any GuestPhysicalMemory, settings: VMResourceSettings = VMResourceSettings(),
        balloon: BalloonVMSettings = BalloonVMSettings()
    ) -> VirtualMachine {
        let base = nextPageRef
        let n = guest.totalPages
        let chunks = (n + 4095) / 4096
        nextPageRef += UInt32(chunks * 4096)
        for _ in 0..<chunks { vmOfChunk.append(Int32(vms.count)) }
        let salt = HostMemory.salt(vmName: name, setting: settings.pshareSalt, mode: config.sharing.salting)
        // One stream per VM, drawn in a fixed order: the scanner's stride, the host-swap
        // victim order, the scanner's random start.
        var vrng = Xoshiro256(seed: rng.next())
        let scanStride = VirtualMachine.coprimeStride(n, &vrng)
        let vm = VirtualMachine(
            host: services, index: vms.count, name: name, guest: guest, settings: settings,
            balloon: balloon, pageRefBase: base, salt: salt, victimRNG: &vrng)
        let scanStart = config.sharing.scan_order == .random ? Int(vrng.next(below: UInt64(n))) : 0
        sharing.addCursor(ScanCursor(position: scanStart, stride: scanStride))
        sharingScanScheduler.addVM()
        vms.append(vm)
        let pages = vms.reduce(0) { $0 + $1.configuredPages }
        services.compressedSizes.reserve(pages: pages / 4)
        sharedContentMemo?.reserve(pages: pages)
        guest.attach(to: vm)
        return vm
    }

    /// The page-hash salt of a VM under ESX's Mem.ShareForceSalting: 0 ignores salts (all VMs
    /// share); 1 uses sched.mem.pshare.salt when set and a common salt otherwise; 2 uses
    /// pshare.salt when set and the VM's own identity otherwise (sharing only inside the VM).
    public static func salt(vmName: String, setting: String?, mode: Int) -> UInt64 {
        switch mode {
        case 0: return 0
        case 1: return setting.map { StableHash.fnv1a64("salt:" + $0) } ?? 0
        default: return StableHash.fnv1a64("salt:" + (setting ?? "vc.uuid:" + vmName))
        }
    }

    /// The VM and guest page a global page reference names.
    @inline(__always) func page(_ ref: UInt32) -> (VirtualMachine, Int) {
        let vm = vms[Int(vmOfChunk[Int(ref >> 12)])]
        return (vm, Int(ref - vm.pageRefBase))
    }

    /// Admission control and power-on: the VM's overhead is allocated and its reservation
    /// accounted; false (with an event) if they do not fit in unreserved memory.
    public func powerOn(_ vm: VirtualMachine) -> Bool {
        let overhead = config.vm_overhead.pages
        let need = overhead + vm.settings.reservationPages
        let unreserved = totalFrames - hypervisorFrames - overheadFrames - reservedPages
        guard need <= unreserved, overhead <= freeFrames else {
            events.append((vm.index, .admissionRefused(vm: vm.name, neededPages: need, availablePages: min(unreserved, freeFrames))))
            return false
        }
        placeOnNUMANodes(vm)
        for _ in 0..<overhead {
            if let m = frames.allocate(preferring: vm.numa.homeNode) { overheadByNode[frames.topology.node(of: m)] += 1 }
        }
        overheadFrames += overhead
        reservedPages += vm.settings.reservationPages
        vm.powerOn(overheadPages: overhead)
        events.append((vm.index, .poweredOn(vm: vm.name, overheadPages: overhead)))
        return true
    }

    // MARK: - Accounting

    /// Private frames backing guest memory, summed over VMs.
    public var privateFrames: Int { vms.reduce(0) { $0 + $1.privatePages } }
    /// Frames of the compression caches.
    public var cacheFrames: Int { vms.reduce(0) { $0 + $1.cacheFrames } }
    /// Frames backing guest memory: private, shared and compression caches.
    public var consumedFrames: Int { privateFrames + sharing.sharedFrames + cacheFrames }

    /// The bytes' hash of guest page `pfn` of `vm` wherever the host keeps it (see
    /// `VirtualMachine.hashOfPage`). Used to verify that nothing was lost.
    public func hashOfGuestPage(_ vm: VirtualMachine, _ pfn: PFN) -> UInt64 { vm.hashOfPage(pfn) }
}

// MARK: - Parallel rounds

extension HostMemory {
    /// Starts a parallel round for `vms` (the guests the engine runs at one instant): each
    /// takes its grant of free frames, at most an equal share of what is free, and large
    /// pages while the host allows them. `park(k)` is what `vms[k]` calls to wait for the
    /// round's next synchronisation point. See `VMRound`.
    ///
    /// On a NUMA host each node's free frames are shared between the VMs of the round whose
    /// pages prefer that node (a wide VM counts on each of its nodes), so a VM homed on a
    /// crowded node does not take a grant of another node's frames while its own has some.
    public func beginRound(_ vms: [VirtualMachine], park: (Int) -> () -> Void) {
        let share = vms.isEmpty ? 0 : frames.freeFrames / vms.count
        var nodeShare = [share]
        if frames.nodeCount > 1 {
            var wanting = Array(repeating: 0, count: frames.nodeCount)
            for vm in vms { for k in vm.numa.virtualNodes { wanting[k] += 1 } }
            nodeShare = (0..<frames.nodeCount).map { wanting[$0] == 0 ? 0 : frames.nodeFree[$0] / wanting[$0] }
        }
        for (k, vm) in vms.enumerated() {
            vm.beginRound(grant: min(vm.nextGrant, share), nodeShare: nodeShare, largePages: vm.nextLargeGrant, park: park(k))
        }
    }

    /// Serves the request `vm` waits on at a synchronisation point (the engine calls it for
    /// the waiting VMs in VM order, while every VM of the round waits or has finished).
    public func serveRound(_ vm: VirtualMachine) { vm.serveRoundRequest() }

    /// Ends the round: the VMs give back what they did not use and their deferred changes to
    /// the shared frames are applied, in VM order.
    public func endRound(_ vms: [VirtualMachine]) {
        for vm in vms { vm.endRound() }
    }
}
