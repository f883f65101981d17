import GuestKernel
import HostPolicies
import OvercommitSupport
import PageContents

/// The host memory scheduler: free-memory state, share-based reclaim targets, and the drivers
/// of the reclaim mechanisms (its period, allocation stalls, the balloon policy).
///
/// Follows ESXi 6.x: minFree from the sliding scale, states high/clear/soft/hard/low with
/// hysteresis, each enabling its techniques; what to take from each VM follows Waldspurger's
/// allocation (shares per page adjusted by the idle memory tax, never below a reservation,
/// everything above a limit first); active memory is estimated by sampling EPT accessed bits.
/// It runs at host synchronisation points and is given the host (`on host:`) each time; it
/// changes VMs only through the mechanisms and the VMs' own methods.
public final class ReclaimScheduler {
    let config: HostConfig
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
    /// Large pages the scheduler broke, and the frames sharing freed at once when it did.
    public private(set) var largePagesBroken = 0
    public private(set) var sharedBeforeSwap = 0
    /// Allocations that had to wait for synchronous reclamation (low state or no free frame).
    public private(set) var blockedAllocations = 0
    var rng: Xoshiro256

    init(config: HostConfig, minFreePages: Int) {
        self.config = config
        self.minFreePages = minFreePages
        machine = HostStateMachine(config: config.states, minFreePages: minFreePages)
        policy = config.balloon_policy.make()
        rng = Xoshiro256(seed: StableHash.fnv1a64("scheduler"), component: "active-sampling")
    }

    public var balloonPolicyInterval: SimDuration { policy.interval }

    /// Tells the machine memory what the current state means for allocations: blocked (the
    /// state enables `block`), backed with large pages (high state, large pages configured).
    func publishState(to frames: MachineMemory) {
        frames.allocationsBlock = machine.isEnabled(.block)
        frames.largePagesAllowed = config.large_pages && state == .high
    }

    /// Re-evaluates the state; logs a change.
    func updateState(now: Int64, on host: HostMemory) {
        timeInState[state.level] += now - lastUpdate
        lastUpdate = now
        let before = state
        let after = machine.update(freePages: host.freeFrames)
        publishState(to: host.frames)
        if after != before { host.events.append((-1, .stateChanged(from: before, to: after, freePages: host.freeFrames))) }
    }

    /// The control of a host-paging call for the techniques `compress` and `swap` allow.
    static func pagingControl(_ vm: VirtualMachine, _ pages: Int, compress: Bool, swap: Bool) -> HostReclaimControl {
        HostReclaimControl(vm: vm, nrToScan: pages, mayCompress: compress, maySwap: swap)
    }

    /// The host-paging mechanism for what `control` allows: host swap (compressing each victim
    /// first when compression is allowed too: ESX compresses a page chosen for swap-out), or
    /// compression alone.
    static func pagingMechanism(for control: HostReclaimControl) -> (any ReclaimMechanism)? {
        control.maySwap ? HostSwapping() : control.mayCompress ? Compression() : nil
    }

    /// One scheduler period: the state, the targets, then the mechanisms the state enables:
    /// large pages broken (`break_batch` per VM), host paging toward each VM's target, and in
    /// any state what a VM holds above its limit that its balloon cannot take (ESX enforces
    /// limits with the balloon first, then compression and swap).
    func run(now: Int64, on host: HostMemory) {
        updateState(now: now, on: host)
        let vms = host.vms
        // Pages to free to get back above the clear threshold, split by shares and idle tax.
        let goal = machine.risePages(.clear)
        let need = state >= .soft ? max(0, goal - host.freeFrames) : 0
        let allocs = vms.map { vm -> AllocationVM in
            AllocationVM(
                shares: vm.settings.shares, allocatedPages: vm.poweredOn ? vm.consumedPages : 0,
                activeFraction: activeFractionOfAllocated(vm), reservationPages: vm.settings.reservationPages,
                limitPages: vm.settings.limitPages)
        }
        reclaimTargets = ShareAllocation.reclaimTargets(allocs, pagesToReclaim: need, tau: config.scheduler.idle_memory_tax.fraction)

        if machine.isEnabled(.break_large_pages) {
            let breaking = LargePageBreaking()
            for vm in vms where vm.poweredOn && breaking.count(vm, on: host) > 0 {
                let control = HostReclaimControl(vm: vm, nrToScan: config.scheduler.break_batch * 512, mayShare: machine.isEnabled(.share))
                record(breaking.scan(control, on: host))
            }
        }
        // What the host can page out this period: the scheduler's rate, and when swapping, the
        // swap device's write bandwidth.
        var rate = Double(config.scheduler.reclaim_rate.pages)
        if machine.isEnabled(.swap) && config.swap.enabled { rate = min(rate, config.swap.pagesPerSecond) }
        var budget = max(1, Int(rate * Double(config.scheduler.interval.nanoseconds) / 1e9))
        let compress = machine.isEnabled(.compress), swap = machine.isEnabled(.swap)
        for (i, vm) in vms.enumerated() where vm.poweredOn && budget > 0 {
            if reclaimTargets[i] > 0 {
                let control = ReclaimScheduler.pagingControl(vm, min(reclaimTargets[i], budget), compress: compress, swap: swap)
                if let m = ReclaimScheduler.pagingMechanism(for: control), m.count(vm, on: host) > 0 {
                    budget -= m.scan(control, on: host).reclaimed
                }
            }
            let excess = vm.consumedPages - vm.settings.limitPages
            let balloonCanTake = vm.settings.balloonDriver && vm.balloonPages < vm.settings.balloonMaxPages
            if excess > 0 && !balloonCanTake && budget > 0 {
                let control = ReclaimScheduler.pagingControl(
                    vm, min(excess, budget), compress: config.compression.enabled,
                    swap: config.swap.enabled)
                if let m = ReclaimScheduler.pagingMechanism(for: control), m.count(vm, on: host) > 0 {
                    budget -= m.scan(control, on: host).reclaimed
                }
            }
        }
    }

    /// Counts large pages broken and the frames sharing freed at once.
    func record(_ breaking: ReclaimOutcome) {
        largePagesBroken += breaking.largePagesBroken
        sharedBeforeSwap += breaking.reclaimed
    }

    /// Synchronous reclamation for a VM that needs a frame now (the low state blocks such VMs;
    /// with no free frame at all every state does): a large page broken, else 32 pages paged
    /// out of the VM that should lose memory first, as ESX's share-based allocation picks it:
    /// a VM above its limit, else the one with the fewest adjusted shares per page
    /// (`victimVM`), the requester included. Returns how long the VM waited.
    func reclaimForAllocation(requester: VirtualMachine, on host: HostMemory) -> Int64 {
        blockedAllocations += 1
        var wait: Int64 = 0
        let batch = 32
        if config.large_pages {
            let breaking = LargePageBreaking()
            let order = host.vms.filter { $0.poweredOn && $0 !== requester } + [requester]
            for vm in order where breaking.count(vm, on: host) > 0 {
                record(breaking.scan(HostReclaimControl(vm: vm, nrToScan: 512, mayShare: machine.isEnabled(.share)), on: host))
                if host.freeFrames >= batch { return wait }
            }
        }
        let compress = config.compression.enabled, swap = config.swap.enabled
        // One batch at least (the low state blocks allocations while frames are free, and
        // the batch is what moves the host back up); more VMs only while no frame is free.
        var tried = Set<Int>()
        repeat {
            guard let vm = victimVM(on: host, excluding: tried) else { break }
            tried.insert(vm.index)
            let control = ReclaimScheduler.pagingControl(vm, batch, compress: compress, swap: swap)
            guard let m = ReclaimScheduler.pagingMechanism(for: control) else { return wait }
            let out = m.scan(control, on: host)
            wait += Int64(out.reclaimed) * host.costs.compress.nanoseconds
            if out.swapWrites > 0 { wait += config.swap.writeLatency.nanoseconds }
        } while host.freeFrames == 0
        return wait
    }

    /// The VM an allocation stall pages out, after Waldspurger (OSDI 2002, 5.1-5.3): among the
    /// powered-on VMs with private pages above their reservation, one above its limit first,
    /// else the one with the lowest rho = S / (P · (f + k · (1 − f))), ties to the lowest index.
    /// O(VMs) per 32-page batch, independent of their sizes.
    func victimVM(on host: HostMemory, excluding tried: Set<Int>) -> VirtualMachine? {
        let tau = config.scheduler.idle_memory_tax.fraction
        var best: VirtualMachine?
        var bestKey = (over: false, rho: Double.infinity)
        for vm in host.vms where vm.poweredOn && vm.privatePages > 0 && !tried.contains(vm.index) {
            let pages = vm.consumedPages
            if pages <= vm.settings.reservationPages { continue }
            let over = pages > vm.settings.limitPages
            let rho = ShareAllocation.adjustedSharesPerPage(
                shares: vm.settings.shares, pages: pages,
                activeFraction: activeFractionOfAllocated(vm), tau: tau)
            if best == nil || (over && !bestKey.over) || (over == bestKey.over && rho < bestKey.rho) {
                best = vm
                bestKey = (over, rho)
            }
        }
        return best
    }

    // MARK: - Balloon policy

    /// Runs the balloon policy: a new target for every VM with a driver. A higher target is
    /// asked of the VM through the balloon mechanism; a lower one gives memory back.
    func runBalloonPolicy(now: Int64, on host: HostMemory) {
        let vms = host.vms
        for vm in vms { vm.runSmartPaging() }  // Hyper-V Smart Paging of VMs started short of memory
        let views = vms.enumerated().map { (i, vm) -> BalloonVMView in
            let stats = vm.policyBalloonStats
            var s = vm.balloonSettings
            s.driver = vm.settings.balloonDriver
            return BalloonVMView(
                name: vm.name, configuredPages: vm.configuredPages, consumedPages: vm.consumedPages,
                balloonPages: vm.balloonPages, targetPages: vm.balloonTarget,
                maxBalloonPages: vm.settings.balloonMaxPages, hasDriver: vm.settings.balloonDriver && vm.poweredOn,
                guestFreePages: stats.freePages, guestAvailablePages: stats.availablePages,
                reservationPages: vm.settings.reservationPages, limitPages: vm.settings.limitPages,
                shares: vm.settings.shares, activeFraction: activeFractionOfAllocated(vm),
                reclaimTargetPages: i < reclaimTargets.count ? reclaimTargets[i] : 0, settings: s,
                onlinePages: vm.onlinePages, memoryDemandPages: vm.guest.memoryDemandPages)
        }
        let view = BalloonHostView(
            timeNs: now, usablePages: host.totalFrames - host.hypervisorFrames,
            freePages: host.freeFrames, minFreePages: minFreePages, state: state,
            ballooningEnabled: machine.isEnabled(.balloon), vms: views)
        let targets = policy.targets(view)
        for (i, vm) in vms.enumerated() where i < targets.count {
            // A negative target asks for memory the guest does not see yet: hot-add it (Hyper-V).
            let added = targets[i] < 0 && vm.settings.balloonDriver ? vm.hotAdd(pages: -targets[i]) : 0
            applyBalloonTarget(targets[i] + added, to: vm, on: host)
        }
    }

    /// Sets a VM's balloon target as every balloon policy's result is applied: clamped to
    /// 0...the balloon's maximum; a higher target is asked of the VM through the balloon
    /// mechanism, a lower one gives memory back. A VM without a driver or powered off is left
    /// alone. Returns the target now in force.
    @discardableResult
    func applyBalloonTarget(_ pages: Int, to vm: VirtualMachine, on host: HostMemory) -> Int {
        guard vm.settings.balloonDriver && vm.poweredOn else { return vm.balloonTarget }
        let target = max(0, min(vm.settings.balloonMaxPages, pages))
        if target > vm.balloonTarget {
            _ = BalloonRequest().scan(HostReclaimControl(vm: vm, nrToScan: target - vm.balloonTarget), on: host)
        } else {
            vm.lowerBalloonTarget(to: target)
        }
        return vm.balloonTarget
    }

    // MARK: - Active memory

    /// The estimated active share of what the VM has been allocated (the f of the idle tax).
    func activeFractionOfAllocated(_ vm: VirtualMachine) -> Double {
        let alloc = max(1, vm.consumedPages)
        return min(1, vm.activeEstimate * Double(vm.configuredPages) / Double(alloc))
    }

    /// End of a sampling period: ESX's estimate from `sample_pages` random pages, and the true
    /// share of pages touched (every EPT accessed bit, read and cleared for the next period).
    func sampleActiveMemory(on host: HostMemory) {
        let n = config.active_sampling.sample_pages
        while estimators.count < host.vms.count { estimators.append(ActiveMemoryEstimator(config: config.active_sampling)) }
        let vms = host.vms.filter(\.poweredOn)
        // ESX's samples first, in VM order (one random stream), then the true counts, each
        // VM's on its own (in parallel when the host has worker threads).
        let touched = vms.map { $0.sampleAccessedPages(n, rng: &rng) }
        let all = UnsafeMutablePointer<Int>.allocate(capacity: max(1, vms.count))
        defer { all.deallocate() }
        if let run = host.runJobs, vms.count > 1 {
            run(vms.count) { k in all[k] = vms[k].clearAccessedPages() }
        } else {
            for (k, vm) in vms.enumerated() { all[k] = vm.clearAccessedPages() }
        }
        for (k, vm) in vms.enumerated() {
            estimators[vm.index].addPeriod(touched: touched[k], sampled: n)
            vm.recordActivePeriod(estimate: estimators[vm.index].estimate, sampledTouched: touched[k], trueActive: all[k])
        }
    }

    /// Adds the time since the last update to the current state (end of run).
    func finish(now: Int64) {
        timeInState[state.level] += now - lastUpdate
        lastUpdate = now
    }
}
