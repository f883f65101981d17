import GuestKernel
import OvercommitSupport

/// Something the host did that belongs in the event log.
public enum HostEvent: Sendable, Equatable {
    /// A VM powered on; `overheadPages` were reserved for it.
    case poweredOn(vm: String, overheadPages: Int)
    /// Admission control kept a VM off: its overhead (plus reservation) does not fit.
    case admissionRefused(vm: String, neededPages: Int, availablePages: Int)
    /// A guest touched a page and no machine frame was left.
    case hostOutOfMemory(vm: String, pfn: UInt32)
}

/// Machine memory of the host: frames handed to VMs on first touch.
///
/// Follows ESXi's model: guest-physical memory is backed lazily; a frame a guest has touched
/// stays backed until a host technique reclaims it (the guest freeing it does not tell the
/// host). Without such techniques, running out of machine frames is a host out-of-memory
/// event that ends the run.
public final class HostMemory {
    public let config: HostConfig
    public let costs: CostModel
    /// Machine frames of RAM.
    public let totalFrames: Int
    /// Frames the hypervisor keeps for itself.
    public let hypervisorFrames: Int
    /// Frames reserved as per-VM overhead.
    public private(set) var overheadFrames = 0
    /// Machine frames not backing anything.
    public private(set) var freeFrames: Int
    /// Frames never handed out yet are `nextFresh..<totalFrames`; returned frames are stacked.
    var nextFresh: UInt32
    var returned: [UInt32] = []
    public private(set) var vms: [VirtualMachine] = []
    public var events: [(vm: Int, event: HostEvent)] = []
    /// Set when a guest touched a page with no machine frame left.
    public private(set) var outOfMemory = false
    /// Pages the guests touched beyond machine memory after the out-of-memory event.
    public private(set) var overdraftPages = 0

    public init(config: HostConfig, costs: CostModel) {
        self.config = config
        self.costs = costs
        totalFrames = config.memory.pages
        hypervisorFrames = min(config.hypervisor_reserved.pages, totalFrames)
        freeFrames = totalFrames - hypervisorFrames
        nextFresh = UInt32(hypervisorFrames)
    }

    /// Adds a VM for a guest; it is powered off until `powerOn`.
    public func addVM(name: String, kernel: GuestKernel) -> VirtualMachine {
        let vm = VirtualMachine(host: self, index: vms.count, name: name, kernel: kernel)
        vms.append(vm)
        kernel.backing = vm
        return vm
    }

    /// Admission control and power-on: reserves the VM's overhead; false (with an event) if it does not fit.
    public func powerOn(_ vm: VirtualMachine) -> Bool {
        let need = config.vm_overhead.pages
        guard need <= freeFrames else {
            events.append((vm.index, .admissionRefused(vm: vm.name, neededPages: need, availablePages: freeFrames)))
            return false
        }
        freeFrames -= need
        overheadFrames += need
        vm.overheadPages = need
        vm.poweredOn = true
        events.append((vm.index, .poweredOn(vm: vm.name, overheadPages: need)))
        return true
    }

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

    func recordOutOfMemory(_ vm: VirtualMachine, pfn: UInt32) {
        overdraftPages += 1
        if !outOfMemory {
            outOfMemory = true
            events.append((vm.index, .hostOutOfMemory(vm: vm.name, pfn: pfn)))
        }
    }

    /// Frames backing guest memory, summed over VMs.
    public var consumedFrames: Int { vms.reduce(0) { $0 + $1.consumedPages } }

    /// Host frame conservation: free + consumed + overhead + hypervisor = RAM.
    public func checkInvariants() -> [String] {
        var p: [String] = []
        let sum = freeFrames + consumedFrames + overheadFrames + hypervisorFrames
        if sum != totalFrames { p.append("host: free \(freeFrames) + consumed \(consumedFrames) + overhead \(overheadFrames) + hypervisor \(hypervisorFrames) = \(sum) != RAM \(totalFrames)") }
        for vm in vms { p += vm.checkInvariants() }
        return p
    }
}

/// One VM's guest-physical memory as the host backs it (the p2m / EPT mapping).
public final class VirtualMachine: GuestPhysicalBacking {
    public unowned(unsafe) let host: HostMemory
    public let index: Int
    public let name: String
    public unowned(unsafe) let kernel: GuestKernel
    /// Guest-physical frame -> machine frame (`unbacked` when not backed).
    public private(set) var p2m: [UInt32]
    public static let unbacked: UInt32 = .max
    public static let overdraft: UInt32 = .max - 1
    public internal(set) var consumedPages = 0
    public internal(set) var overheadPages = 0
    public internal(set) var poweredOn = false
    /// Second-level faults handled, and their simulated time.
    public private(set) var eptFaults = 0
    public private(set) var hostTimeNs: Int64 = 0

    init(host: HostMemory, index: Int, name: String, kernel: GuestKernel) {
        self.host = host
        self.index = index
        self.name = name
        self.kernel = kernel
        p2m = Array(repeating: VirtualMachine.unbacked, count: kernel.totalPages)
    }

    /// First touch of a guest-physical page: back it with a machine frame and map it read/write.
    public func eptViolation(pfn: PFN, write: Bool) -> Int64 {
        eptFaults += 1
        let cost = host.costs.host_fault.nanoseconds
        hostTimeNs += cost
        let i = Int(pfn)
        if p2m[i] == VirtualMachine.unbacked {
            if let m = host.allocateFrame() {
                p2m[i] = m
                consumedPages += 1
            } else {
                host.recordOutOfMemory(self, pfn: pfn)
                p2m[i] = VirtualMachine.overdraft
            }
        }
        kernel.setEPT(pfn, 3)
        return cost
    }

    /// Problems with this VM's p2m (counts agree with the map).
    func checkInvariants() -> [String] {
        var n = 0
        for m in p2m where m != VirtualMachine.unbacked && m != VirtualMachine.overdraft { n += 1 }
        return n == consumedPages ? [] : ["vm \(name): p2m maps \(n) frames but consumed says \(consumedPages)"]
    }
}
