import GuestKernel
import HostPolicies
import OvercommitSupport
import PageContents

/// What a reclamation mechanism achieved in one call (after Linux's shrinker results).
public enum ReclaimOutcome: Sendable, Equatable {
    /// Frames freed now.
    case reclaimed(Int)
    /// The mechanism is on its way (balloon targets raised); frames come later.
    case requested(Int)
    /// Nothing left to take with this mechanism.
    case exhausted
}

/// The host memory scheduler: free-memory state, share-based reclaim targets, large-page
/// breaking, host paging (compression, then swap) and the balloon policy.
///
/// Follows ESXi 6.x: minFree from the sliding scale, states high/clear/soft/hard/low with
/// hysteresis, each enabling its techniques; what to take from each VM follows Waldspurger's
/// allocation (shares per page adjusted by the idle memory tax, never below a reservation,
/// everything above a limit first); active memory is estimated by sampling EPT accessed bits.
public final class ReclaimScheduler {
    unowned(unsafe) let host: HostMemory
    public private(set) var machine: HostStateMachine
    public var state: HostMemoryState { machine.state }
    public let minFreePages: Int
    var policy: any BalloonPolicy
    var estimators: [ActiveMemoryEstimator] = []
    /// The latest per-VM reclaim targets (pages) from the share-based allocation.
    public private(set) var reclaimTargets: [Int] = []
    /// Simulated time spent in each state (index = state level).
    public private(set) var timeInState: [Int64] = Array(repeating: 0, count: 5)
    var lastUpdate: Int64 = 0
    /// Pages freed by each technique, over the run.
    public private(set) var largePagesBroken = 0
    public private(set) var sharedBeforeSwap = 0
    public private(set) var pagedOutByScheduler = 0
    /// Allocations that had to wait for synchronous reclamation (low state or no free frame).
    public private(set) var blockedAllocations = 0
    var rng: Xoshiro256

    init(host: HostMemory) {
        self.host = host
        minFreePages = MinFree.pages(hostPages: host.totalFrames)
        machine = HostStateMachine(config: host.config.states, minFreePages: minFreePages)
        policy = host.config.balloon_policy.make()
        rng = Xoshiro256(seed: StableHash.fnv1a64("scheduler"), component: "active-sampling")
    }

    /// Whether VMs that need new frames are blocked until reclamation frees some.
    var blocking: Bool { machine.isEnabled(.block) }

    public var balloonPolicyInterval: SimDuration { policy.interval }

    /// Re-evaluates the state; logs a change.
    func updateState(now: Int64) {
        timeInState[state.level] += now - lastUpdate
        lastUpdate = now
        let before = state
        let after = machine.update(freePages: host.freeFrames)
        if after != before { host.events.append((-1, .stateChanged(from: before, to: after, freePages: host.freeFrames))) }
    }

    /// One scheduler period: state, targets, large-page breaking and host paging.
    func run(now: Int64) {
        updateState(now: now)
        let vms = host.vms
        // Pages to free to get back above the clear threshold, split by shares and idle tax.
        let goal = machine.risePages(.clear)
        let need = state >= .soft ? max(0, goal - host.freeFrames) : 0
        let allocs = vms.map { vm -> AllocationVM in
            AllocationVM(shares: vm.settings.shares, allocatedPages: vm.poweredOn ? vm.consumedPages : 0,
                         activeFraction: activeFractionOfAllocated(vm), reservationPages: vm.settings.reservationPages,
                         limitPages: vm.settings.limitPages)
        }
        reclaimTargets = ShareAllocation.reclaimTargets(allocs, pagesToReclaim: need, tau: host.config.scheduler.idle_memory_tax.fraction)

        if machine.isEnabled(.break_large_pages) {
            let breaking = LargePageBreaking()
            for vm in vms where vm.poweredOn && vm.largePages > 0 { _ = breaking.reclaim(host.config.scheduler.break_batch * 512, from: vm) }
        }
        // Host paging: in states that enable it, each VM's target through the state's paging
        // mechanism; in any state, what a VM holds above its limit that its balloon cannot take
        // (ESX enforces limits with the balloon first, then compression and swap).
        let paging: (any ReclaimMechanism)? = machine.isEnabled(.swap) ? HostSwapping() : machine.isEnabled(.compress) ? Compression() : nil
        // What the host can page out this period: the scheduler's rate, and when swapping, the
        // swap device's write bandwidth.
        var rate = Double(host.config.scheduler.reclaim_rate.pages)
        if machine.isEnabled(.swap) && host.config.swap.enabled { rate = min(rate, host.config.swap.pagesPerSecond) }
        var budget = max(1, Int(rate * Double(host.config.scheduler.interval.nanoseconds) / 1e9))
        for (i, vm) in vms.enumerated() where vm.poweredOn && budget > 0 {
            if let m = paging, reclaimTargets[i] > 0 {
                if case .reclaimed(let n) = m.reclaim(min(reclaimTargets[i], budget), from: vm) { pagedOutByScheduler += n; budget -= n }
            }
            let excess = vm.consumedPages - vm.settings.limitPages
            let balloonCanTake = vm.settings.balloonDriver && vm.kernel.balloonPages < vm.settings.balloonMaxPages
            if excess > 0 && !balloonCanTake && budget > 0 {
                let n = vm.reclaimByPaging(min(excess, budget), compress: host.config.compression.enabled, swap: host.config.swap.enabled)
                pagedOutByScheduler += n
                budget -= n
            }
        }
    }

    /// Counts large pages broken and the frames sharing freed at once.
    func noteLargePagesBroken(_ broken: Int, sharedAtOnce: Int) {
        largePagesBroken += broken
        sharedBeforeSwap += sharedAtOnce
    }

    /// Synchronous reclamation for a VM that needs a frame now (the low state blocks such VMs;
    /// with no free frame at all every state does). Returns how long the VM waited.
    func reclaimForAllocation(requester: VirtualMachine) -> Int64 {
        blockedAllocations += 1
        var wait: Int64 = 0
        let batch = 32
        // Break a large page first (cheap), then page out: the requester's own pages last.
        let order = host.vms.filter { $0.poweredOn && $0 !== requester } + [requester]
        for vm in order where vm.largePages > 0 && host.config.large_pages {
            _ = LargePageBreaking().reclaim(512, from: vm)
            if host.freeFrames >= batch { return wait }
        }
        let compress = host.config.compression.enabled
        let swap = host.config.swap.enabled
        guard compress || swap else { return wait }
        for vm in order {
            let before = vm.stats.swapOuts
            let got = vm.reclaimByPaging(batch, compress: compress, swap: swap)
            pagedOutByScheduler += got
            wait += Int64(got) * host.costs.compress.nanoseconds
            if vm.stats.swapOuts > before { wait += host.config.swap.writeLatency.nanoseconds }
            if host.freeFrames > 0 { break }
        }
        return wait
    }

    // MARK: - Balloon policy and drivers

    /// Runs the balloon policy: new targets for every VM with a driver.
    func runBalloonPolicy(now: Int64) {
        let vms = host.vms
        let views = vms.enumerated().map { (i, vm) -> BalloonVMView in
            let m = vm.kernel.meminfo
            var s = vm.balloonSettings
            s.driver = vm.settings.balloonDriver
            return BalloonVMView(
                name: vm.name, configuredPages: vm.configuredPages, consumedPages: vm.consumedPages,
                balloonPages: vm.kernel.balloonPages, targetPages: vm.balloonTarget,
                maxBalloonPages: vm.settings.balloonMaxPages, hasDriver: vm.settings.balloonDriver && vm.poweredOn,
                guestFreePages: m.MemFree / 4, guestAvailablePages: m.MemAvailable / 4,
                reservationPages: vm.settings.reservationPages, limitPages: vm.settings.limitPages,
                shares: vm.settings.shares, activeFraction: activeFractionOfAllocated(vm),
                reclaimTargetPages: i < reclaimTargets.count ? reclaimTargets[i] : 0, settings: s)
        }
        let view = BalloonHostView(timeNs: now, usablePages: host.totalFrames - host.hypervisorFrames,
                                   freePages: host.freeFrames, minFreePages: minFreePages, state: state,
                                   ballooningEnabled: machine.isEnabled(.balloon), vms: views)
        let targets = policy.targets(view)
        for (i, vm) in vms.enumerated() where vm.settings.balloonDriver && vm.poweredOn && i < targets.count {
            vm.balloonTarget = max(0, min(vm.settings.balloonMaxPages, targets[i]))
        }
    }

    /// The driver in `vm` polls its target and moves toward it at its rate.
    func runBalloonDriver(_ vm: VirtualMachine) {
        guard vm.poweredOn, vm.settings.balloonDriver else { return }
        let k = vm.kernel
        let step = max(1, Int(Double(vm.balloonSettings.rate.pages) * Double(vm.balloonSettings.poll_interval.nanoseconds) / 1e9))
        let diff = vm.balloonTarget - k.balloonPages
        if diff > 0 { k.balloonInflate(pages: min(diff, step)) }
        else if diff < 0 { k.balloonDeflate(pages: min(-diff, step)) }
    }

    // MARK: - Active memory

    /// The estimated active share of what the VM has been allocated (the f of the idle tax).
    func activeFractionOfAllocated(_ vm: VirtualMachine) -> Double {
        let alloc = max(1, vm.consumedPages)
        return min(1, vm.activeEstimate * Double(vm.configuredPages) / Double(alloc))
    }

    /// End of a sampling period: ESX's estimate from `sample_pages` random pages, and the true
    /// share of pages touched (every EPT accessed bit, read and cleared for the next period).
    func sampleActiveMemory() {
        let n = host.config.active_sampling.sample_pages
        while estimators.count < host.vms.count { estimators.append(ActiveMemoryEstimator(config: host.config.active_sampling)) }
        for (vi, vm) in host.vms.enumerated() where vm.poweredOn {
            let k = vm.kernel
            let pages = vm.configuredPages
            var touched = 0
            for _ in 0..<n {
                let pfn = Int(rng.next(below: UInt64(pages)))
                if k.ept[pfn] & GuestKernel.eptAccessed != 0 { touched += 1 }
            }
            var all = 0
            for pfn in 0..<pages where k.ept[pfn] & GuestKernel.eptAccessed != 0 {
                if k.testAndClearEPTAccessed(PFN(pfn)) { all += 1 }
            }
            estimators[vi].addPeriod(touched: touched, sampled: n)
            vm.activeEstimate = estimators[vi].estimate
            vm.sampledTouched = touched
            vm.trueActivePages = all
            vm.activePeriods += 1
        }
    }

    /// Adds the time since the last update to the current state (end of run).
    func finish(now: Int64) {
        timeInState[state.level] += now - lastUpdate
        lastUpdate = now
    }
}
