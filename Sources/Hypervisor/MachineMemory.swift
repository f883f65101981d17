/// The host's machine frames: the allocator every VM takes frames from, and the pressure
/// flags the reclaim scheduler publishes when the free-memory state changes.
///
/// Frames `0..<hypervisorFrames` are the hypervisor's own (the host zero frame is one of
/// them). Frames never handed out yet are `nextFresh..<totalFrames`; returned frames are
/// stacked and reused last-returned first, so the allocation order is deterministic. It holds
/// no VM: VMs, the sharing tables and the scheduler all call it.
final class MachineMemory {
    let totalFrames: Int
    let hypervisorFrames: Int
    /// Free machine memory in ESX's sliding scale (`MinFree`), pages.
    let minFreePages: Int
    /// Frames not backing anything.
    private(set) var freeFrames: Int
    private(set) var nextFresh: UInt32
    private(set) var returned: [UInt32] = []
    /// The state enables `block`: a VM that needs a new frame waits while the host reclaims
    /// (ESXi's low state). Set by the reclaim scheduler.
    var allocationsBlock = false
    /// First touches get 2 MiB pages: large pages configured and the host in the high state.
    /// Set by the reclaim scheduler.
    var largePagesAllowed = false

    init(totalFrames: Int, hypervisorFrames: Int, minFreePages: Int) {
        self.totalFrames = totalFrames
        self.hypervisorFrames = min(hypervisorFrames, totalFrames)
        self.minFreePages = minFreePages
        freeFrames = totalFrames - self.hypervisorFrames
        nextFresh = UInt32(self.hypervisorFrames)
    }

    /// One free frame, or nil when none is left.
    func allocate() -> UInt32? {
        guard freeFrames > 0 else { return nil }
        freeFrames -= 1
        if let f = returned.popLast() { return f }
        let f = nextFresh
        nextFresh += 1
        return f
    }

    /// Gives a frame back.
    func release(_ m: UInt32) {
        returned.append(m)
        freeFrames += 1
    }

    /// 512 frames for a large page, if more than that plus minFree are free.
    func allocateLargePage() -> [UInt32]? {
        guard freeFrames >= 512 + minFreePages else { return nil }
        var out: [UInt32] = []
        out.reserveCapacity(512)
        for _ in 0..<512 { out.append(allocate()!) }
        return out
    }

    /// Problems with the free count against the free frames.
    func checkInvariants() -> [String] {
        let free = returned.count + (totalFrames - Int(nextFresh))
        return freeFrames == free ? [] : ["host: free count \(freeFrames) != free frames \(free)"]
    }

    /// Bytes of simulator memory the free-frame stack holds.
    var footprintBytes: Int { returned.capacity * 4 }
}
