import GuestKernel

/// What a VM asks of its host at a round's synchronisation point.
enum RoundRequest {
    /// Machine frames: its grant ran out, or the host blocks allocations (every allocation
    /// then waits for the host's reclaim, as ESXi's low state makes VMs wait).
    case frames(pfn: Int)
    /// 2 MiB large pages for first touches while the host allows them.
    case largePages
}

/// A VM's view of the host while guests run in parallel between two synchronisation points.
///
/// Real hypervisors run each VM on its own physical CPUs; the VMs meet the host's memory
/// scheduler only when a VM needs more memory than it holds or at the scheduler's own
/// intervals (ESXi's per-VM allocation targets, KVM's page faults into a shared host
/// allocator under its locks). Here the engine's parallel round gives each VM a grant of free
/// machine frames at the round's start. The VM allocates from its grant, keeps the frames it
/// frees for reuse, and defers the changes to host-wide state (dropped shared-frame mappings)
/// to the round's end. A VM whose grant runs out, or that needs a frame while the host blocks
/// allocations, waits (`park`) until every VM of the round has finished or waits too; the host
/// then serves the waiting VMs in VM order. What each VM sees therefore depends only on the
/// round's start and its own work, never on the number of threads or their timing.
struct VMRound {
    /// Free machine frames the VM holds for the round: its grant and the frames it freed,
    /// taken last-in first-out.
    var frames: [UInt32] = []
    /// Frames of whole 2 MiB large pages granted (a multiple of 512).
    var largeFrames: [UInt32] = []
    /// Shared frames this VM stopped mapping, applied to the host's tables at the round's end.
    var droppedNodes: [UInt32] = []
    /// The host blocked allocations when the round began (ESXi's low state).
    let allocationsBlock: Bool
    /// The host allowed large pages when the round began (ESXi's high state).
    var largePagesAllowed: Bool
    /// Frames and large pages taken this round (the next grant follows the use).
    var framesTaken = 0
    var largePagesTaken = 0
    /// The request the VM waits on, and the host's answer: how long the VM waited for reclaim.
    var request: RoundRequest?
    var waitNs: Int64 = 0
    /// Waits until the host has served `request` (installed by the engine).
    let park: () -> Void
}

extension VirtualMachine {
    /// Starts a parallel round: the VM takes `grant` frames (and `largePages` large pages)
    /// from the host's free frames and works from them until `endRound`. Called by the host.
    func beginRound(grant: Int, largePages: Int, park: @escaping () -> Void) {
        var r = VMRound(allocationsBlock: host.frames.allocationsBlock, largePagesAllowed: host.frames.largePagesAllowed, park: park)
        if !r.allocationsBlock { take(frames: grant, into: &r) }
        if r.largePagesAllowed { take(largePages: largePages, into: &r) }
        round = r
    }

    /// Ends the round: unused and freed frames go back to the host, deferred shared-frame
    /// drops are applied, and the next round's grant follows this round's use.
    func endRound() {
        guard let r = round else { return }
        round = nil
        for m in r.frames { host.frames.release(m) }
        for m in r.largeFrames { host.frames.release(m) }
        for node in r.droppedNodes { host.sharedFrames.dropMapping(node) }
        nextGrant = min(VirtualMachine.maximumGrant, max(VirtualMachine.minimumGrant, 2 * r.framesTaken))
        nextLargeGrant = min(VirtualMachine.maximumLargeGrant, 2 * r.largePagesTaken)
    }

    /// Serves the request the VM waits on (the host, at a synchronisation point): a VM that
    /// needs a frame while the host has none free or blocks allocations waits while the host
    /// reclaims, as a sequential allocation stall does; then it gets a new grant (one frame
    /// while allocations block, so each allocation waits as in ESXi's low state). A request
    /// nothing can satisfy is the host's out-of-memory event.
    func serveRoundRequest() {
        guard var r = round, let request = r.request else { return }
        r.request = nil
        r.waitNs = 0
        switch request {
        case .frames(let pfn):
            if host.frames.freeFrames == 0 || host.frames.allocationsBlock {
                // While the host serves, every VM's frees go to the host (`inRound` is false).
                host.serving = true
                r.waitNs = host.stallForReclaim(self)
                host.serving = false
            }
            let grant = min(VirtualMachine.maximumGrant, max(nextGrant, r.framesTaken))
            take(frames: r.allocationsBlock ? 1 : grant, into: &r)
            if r.frames.isEmpty { host.recordOutOfMemory(self, pfn: PFN(pfn)) }
        case .largePages:
            take(largePages: min(VirtualMachine.maximumLargeGrant, max(1, nextLargeGrant, r.largePagesTaken)), into: &r)
            if r.largeFrames.isEmpty { r.largePagesAllowed = false }
        }
        round = r
    }

    private func take(frames n: Int, into r: inout VMRound) {
        var k = 0
        while k < n, let m = host.frames.allocate() {
            r.frames.append(m)
            k += 1
        }
    }

    private func take(largePages n: Int, into r: inout VMRound) {
        var k = 0
        while k < n, let f = host.frames.allocateLargePage() {
            r.largeFrames.append(contentsOf: f.reversed())
            k += 1
        }
    }

    /// Whether the VM runs in a parallel round now (and not inside the host's service at a
    /// synchronisation point, where its frees go to the host).
    @inline(__always) var inRound: Bool { round != nil && !host.serving }

    /// A free machine frame: from the round's grant, else from the host.
    @inline(__always) func takeFreeFrame() -> UInt32? {
        if inRound { return round!.frames.popLast() }
        return host.frames.allocate()
    }

    /// Gives a machine frame back: kept for the round, else to the host.
    @inline(__always) func releaseFrame(_ m: UInt32) {
        if inRound { round!.frames.append(m) } else { host.frames.release(m) }
    }

    /// A machine frame during a round; waits at the round's synchronisation point when the
    /// grant is spent or the host blocks allocations. nil when nothing could be found (the
    /// host recorded its out-of-memory event).
    func obtainFrameInRound(pfn: Int) -> (frame: UInt32, waitNs: Int64)? {
        if !round!.allocationsBlock, let m = round!.frames.popLast() {
            round!.framesTaken += 1
            return (m, 0)
        }
        round!.request = .frames(pfn: pfn)
        round!.park()
        let wait = round!.waitNs
        stats.blockedNs += wait
        guard let m = round!.frames.popLast() else { return nil }
        round!.framesTaken += 1
        return (m, wait)
    }

    /// The 512 frames of a large page during a round, if the host allowed large pages when the
    /// round began and still has one to grant.
    func largePageInRound() -> [UInt32]? {
        guard round!.largePagesAllowed else { return nil }
        if round!.largeFrames.isEmpty {
            round!.request = .largePages
            round!.park()
            guard !round!.largeFrames.isEmpty else { return nil }
        }
        let f = Array(round!.largeFrames.suffix(512))
        round!.largeFrames.removeLast(512)
        round!.largePagesTaken += 1
        return f
    }
}
