import GuestKernel
import HostPolicies
import OvercommitSupport
import PageContents

/// Something the host did that belongs in the event log.
public enum HostEvent: Sendable, Equatable {
    /// A VM powered on; `overheadPages` were reserved for it.
    case poweredOn(vm: String, overheadPages: Int)
    /// Admission control kept a VM off: its overhead plus reservation does not fit.
    case admissionRefused(vm: String, neededPages: Int, availablePages: Int)
    /// A guest touched a page and no machine frame was left (nothing could be reclaimed).
    case hostOutOfMemory(vm: String, pfn: UInt32)
    /// The free-memory state changed.
    case stateChanged(from: HostMemoryState, to: HostMemoryState, freePages: Int)
}

/// Machine memory of the host and the VMs it backs.
///
/// Follows ESXi: guest-physical memory is backed lazily on first touch (2 MiB large pages
/// while the host is in the high state); page sharing, ballooning, compression and host swap
/// take machine frames back under the reclaim scheduler. Machine frames are conserved:
/// free + private + shared + compression caches + VM overhead + hypervisor = RAM.
public final class HostMemory {
    public let config: HostConfig
    public let costs: CostModel
    public let generator: PageGenerator
    /// Machine frames of RAM.
    public let totalFrames: Int
    /// Frames the hypervisor keeps for itself (the host zero frame is one of them).
    public let hypervisorFrames: Int
    /// Frames reserved as per-VM overhead.
    public private(set) var overheadFrames = 0
    /// Reservations of powered-on VMs (accounted by admission control, not allocated).
    public private(set) var reservedPages = 0
    /// Machine frames not backing anything.
    public private(set) var freeFrames: Int
    /// Frames never handed out yet are `nextFresh..<totalFrames`; returned frames are stacked.
    var nextFresh: UInt32
    var returned: [UInt32] = []
    public private(set) var vms: [VirtualMachine] = []
    public var events: [(vm: Int, event: HostEvent)] = []
    /// Set when a guest touched a page with no machine frame left and nothing to reclaim.
    public private(set) var outOfMemory = false
    /// Pages the guests touched beyond machine memory after the out-of-memory event.
    public private(set) var overdraftPages = 0
    public private(set) var sharing: PageSharing!
    let compressor: PageCompressor
    /// Compression and decompression CPU time (cost model).
    public internal(set) var compressorNs: Int64 = 0
    /// The reclaim scheduler (free-memory state, targets, balloon policy).
    public private(set) var scheduler: ReclaimScheduler!
    /// Verify decompressed bytes against what the page held (check mode).
    public var verifyDecompressedBytes = false
    public private(set) var verificationProblems: [String] = []
    /// Which VM owns each 16 MiB chunk of the global page-reference space.
    var vmOfChunk: [Int32] = []
    var nextPageRef: UInt32 = 0
    var rng: Xoshiro256

    public init(config: HostConfig, costs: CostModel, generator: PageGenerator = PageGenerator(), seed: UInt64 = 1) {
        self.config = config
        self.costs = costs
        self.generator = generator
        totalFrames = config.memory.pages
        hypervisorFrames = min(config.hypervisor_reserved.pages, totalFrames)
        freeFrames = totalFrames - hypervisorFrames
        nextFresh = UInt32(hypervisorFrames)
        compressor = PageCompressor(codec: (CodecKind(rawValue: config.compression.codec) ?? .lz4).make())
        rng = Xoshiro256(seed: seed, component: "host")
        sharing = PageSharing(host: self, config: config.sharing)
        scheduler = ReclaimScheduler(host: self)
    }

    /// Adds a VM for a guest; it is powered off until `powerOn`.
    public func addVM(name: String, kernel: GuestKernel, settings: VMResourceSettings = VMResourceSettings(),
                      balloon: BalloonVMSettings = BalloonVMSettings()) -> VirtualMachine {
        let base = nextPageRef
        let chunks = (kernel.totalPages + 4095) / 4096
        nextPageRef += UInt32(chunks * 4096)
        for _ in 0..<chunks { vmOfChunk.append(Int32(vms.count)) }
        let salt = HostMemory.salt(vmName: name, setting: settings.pshareSalt, mode: config.sharing.salting)
        var vrng = Xoshiro256(seed: rng.next())
        let vm = VirtualMachine(host: self, index: vms.count, name: name, kernel: kernel, settings: settings,
                                balloon: balloon, pageRefBase: base, salt: salt, rng: &vrng)
        vms.append(vm)
        kernel.backing = vm
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

    /// The VM and guest frame a global page reference names.
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
        for _ in 0..<overhead { _ = allocateFrame() }
        overheadFrames += overhead
        reservedPages += vm.settings.reservationPages
        vm.overheadPages = overhead
        vm.poweredOn = true
        vm.kernel.balloonDeflateOnOOM = vm.settings.balloonDeflateOnOOM
        events.append((vm.index, .poweredOn(vm: vm.name, overheadPages: overhead)))
        return true
    }

    // MARK: - Machine frames

    func allocateFrame() -> UInt32? {
        guard freeFrames > 0 else { return nil }
        freeFrames -= 1
        if let f = returned.popLast() { return f }
        let f = nextFresh
        nextFresh += 1
        return f
    }

    func releaseFrame(_ m: UInt32) {
        returned.append(m)
        freeFrames += 1
    }

    /// Whether new first touches get 2 MiB pages: large pages on and the host in the high state.
    public var largePagesAllowed: Bool { config.large_pages && scheduler.state == .high }

    /// 512 frames for a large page, if more than that plus minFree are free.
    func allocateLargePage(for vm: VirtualMachine) -> [UInt32]? {
        guard freeFrames >= 512 + scheduler.minFreePages else { return nil }
        var out: [UInt32] = []
        out.reserveCapacity(512)
        for _ in 0..<512 { out.append(allocateFrame()!) }
        return out
    }

    /// A frame for `vm`; in the low state (block) or with no free frame, the host first
    /// reclaims synchronously and the guest waits. nil when nothing can be reclaimed.
    func obtainFrame(for vm: VirtualMachine) -> (UInt32, Int64)? {
        var wait: Int64 = 0
        if freeFrames == 0 || scheduler.blocking {
            wait = scheduler.reclaimForAllocation(requester: vm)
            vm.stats.blockedNs += wait
        }
        guard let m = allocateFrame() else { return nil }
        return (m, wait)
    }

    /// Keeps a VM's compression-cache frame count equal to what its bytes need.
    func adjustCacheFrames(_ vm: VirtualMachine) {
        let need = CompressionCache.framesFor(bytes: vm.cache.bytes)
        while vm.cache.machineFrames.count < need, let m = allocateFrame() { vm.cache.machineFrames.append(m) }
        while vm.cache.machineFrames.count > need { releaseFrame(vm.cache.machineFrames.removeLast()) }
        vm.cache.frames = vm.cache.machineFrames.count
    }

    /// Decompresses cache entry `e` (real codec work) and, in check mode, compares the bytes
    /// with what the page held when it was compressed.
    func verifyDecompression(_ cache: CompressionCache, _ e: Int, expected: PageContent, vm: VirtualMachine, pfn: Int) {
        guard let out = compressor.decompress(cache.data[e]) else {
            verificationProblems.append("vm \(vm.name) pfn \(pfn): the codec rejected the compressed bytes")
            return
        }
        if verifyDecompressedBytes {
            let same = generator.withBytes(expected) { PageCompare.equal(out, $0) }
            if !same { verificationProblems.append("vm \(vm.name) pfn \(pfn): decompressed bytes differ from the page") }
        }
    }

    func recordOutOfMemory(_ vm: VirtualMachine, pfn: PFN) {
        overdraftPages += 1
        if !outOfMemory {
            outOfMemory = true
            events.append((vm.index, .hostOutOfMemory(vm: vm.name, pfn: pfn)))
        }
    }

    // MARK: - Accounting

    /// Private frames backing guest memory, summed over VMs.
    public var privateFrames: Int { vms.reduce(0) { $0 + $1.privatePages } }
    /// Frames of the compression caches.
    public var cacheFrames: Int { vms.reduce(0) { $0 + $1.cache.frames } }
    /// Frames backing guest memory: private, shared and compression caches.
    public var consumedFrames: Int { privateFrames + sharing.sharedFrames + cacheFrames }

    /// Host frame conservation and, with `full`, every VM's p2m map and the sharing tables
    /// walked entry by entry (O(guest pages)).
    public func checkInvariants(full: Bool = true) -> [String] {
        var p: [String] = []
        let sum = freeFrames + privateFrames + sharing.sharedFrames + cacheFrames + overheadFrames + hypervisorFrames
        if sum != totalFrames {
            p.append("host: free \(freeFrames) + private \(privateFrames) + shared \(sharing.sharedFrames) + cache \(cacheFrames) + overhead \(overheadFrames) + hypervisor \(hypervisorFrames) = \(sum) != RAM \(totalFrames)")
        }
        if freeFrames != returned.count + (totalFrames - Int(nextFresh)) { p.append("host: free count \(freeFrames) != free frames \(returned.count + totalFrames - Int(nextFresh))") }
        p += verificationProblems
        verificationProblems.removeAll()
        guard full else { return p }
        for vm in vms { p += vm.checkInvariants() }
        p += sharing.checkInvariants(vms)
        return p
    }

    /// The bytes' hash of guest page `pfn` of `vm` wherever the host keeps it: resident (the
    /// guest frame), shared (the shared frame's bytes), compressed (decompressed now) or in the
    /// swap file. Used to verify that nothing was lost.
    public func hashOfGuestPage(_ vm: VirtualMachine, _ pfn: PFN) -> UInt64 {
        let i = Int(pfn)
        let v = vm.p2m[i]
        if v != P2M.unbacked && v != P2M.overdraft {
            switch v & P2M.tagMask {
            case P2M.sharedTag:
                return generator.withBytes(sharing.nodeContent[Int(v & P2M.valueMask)]) { PageHash.xxh3($0) }
            case P2M.compressedTag:
                let e = Int(v & P2M.valueMask)
                guard let out = compressor.decompress(vm.cache.data[e]) else { return 0 }
                return PageHash.xxh3(out)
            case P2M.swappedTag:
                return generator.withBytes(vm.swapSlots[Int(v & P2M.valueMask)]) { PageHash.xxh3($0) }
            default: break
            }
        }
        return generator.withBytes(vm.kernel.content(of: pfn)) { PageHash.xxh3($0) }
    }
}
