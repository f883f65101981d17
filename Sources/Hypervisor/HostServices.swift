import GuestKernel
import OvercommitSupport
import PageContents

/// What a VM may use of its host while it runs: the configuration and costs, the page-byte
/// generator, the machine-frame allocator, the shared frames, the host's event log and
/// out-of-memory state, and the synchronous reclaim behind a blocked allocation.
///
/// Every VM holds it strongly, and it holds no VM. The one path on which a VM's fault reaches
/// the other VMs is `stallForReclaim`: a VM that needs a frame while the host blocks
/// allocations (ESXi's low state) or has none free waits while the host reclaims from every
/// VM. That is a host synchronisation point; `reclaimer` (the host) is the only reference
/// from this side back to the host, unowned because the host owns its VMs.
final class HostServices {
    let config: HostConfig
    let costs: CostModel
    let generator: PageGenerator
    let frames: MachineMemory
    let sharedFrames: SharedFrames
    /// Verify decompressed bytes against what the page held (check mode).
    var verifyDecompressedBytes = false
    /// Compressed sizes of recently compressed contents, for every VM's host paging.
    let compressedSizes = CompressedSizeMemo()
    /// Events not yet drained by the engine, with the VM index (-1: the host itself).
    var events: [(vm: Int, event: HostEvent)] = []
    /// Set when a guest touched a page with no machine frame left and nothing to reclaim.
    private(set) var outOfMemory = false
    /// Touches that found no machine frame (after the out-of-memory event).
    private(set) var overdraftPages = 0
    /// Set while the host serves a VM's request at a parallel round's synchronisation point:
    /// the VMs' frees then go to the host, not to their round's grant.
    var serving = false
    /// Runs independent jobs on the simulation's helper threads (nil: one thread); host
    /// paging compresses its coming victims ahead with it (`CompressAhead`).
    var runJobs: ((Int, @escaping (Int) -> Void) -> Void)?
    /// The host's synchronous reclaim (installed by the host).
    unowned var reclaimer: (any AllocationReclaimer)?

    init(config: HostConfig, costs: CostModel, generator: PageGenerator, frames: MachineMemory) {
        self.config = config
        self.costs = costs
        self.generator = generator
        self.frames = frames
        sharedFrames = SharedFrames(frames: frames, maxPageSharing: config.sharing.max_page_sharing)
    }

    /// The VM waits while the host reclaims frames for it; returns how long it waited.
    func stallForReclaim(_ vm: VirtualMachine) -> Int64 {
        reclaimer?.reclaimForAllocation(requester: vm) ?? 0
    }

    /// A touch of `pfn` in `vm` found no machine frame and nothing to reclaim: the first one
    /// is the host's out-of-memory event.
    func recordOutOfMemory(_ vm: VirtualMachine, pfn: PFN) {
        overdraftPages += 1
        if !outOfMemory {
            outOfMemory = true
            events.append((vm.index, .hostOutOfMemory(vm: vm.name, pfn: pfn)))
        }
    }
}

/// The host's synchronous reclaim for a VM that needs a machine frame now.
protocol AllocationReclaimer: AnyObject {
    /// Frees machine frames (from every VM, the requester's own last); returns how long the
    /// requester waited.
    func reclaimForAllocation(requester: VirtualMachine) -> Int64
}
