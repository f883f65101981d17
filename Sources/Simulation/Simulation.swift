import Dispatch
import GuestKernel
import Hypervisor
import OvercommitSupport
import PageContents
import PolicyLanguage
import Workloads

/// Options of one run that are not part of the scenario.
public struct SimulationOptions: Sendable {
    /// Check mode (`run --check`): after each guest's tick that guest's invariants and the
    /// host's frame conservation; at every sample and at the end every invariant and the page
    /// contents.
    public var check: Bool = false
    /// With `check`, also check after every tick (the default). Off, checks run at every
    /// sample and at the end only: a check mode for many scenarios in little time (the test
    /// suite's slices of every shipped scenario).
    public var checkAfterEachTick: Bool = true
    /// Files the scenario refers to, already read by the caller (traces), by the path written in the scenario.
    public var textResources: [String: String] = [:]
    /// Raw memory images the scenario refers to, by the path written in the scenario.
    public var memoryImages: [String: [UInt8]] = [:]
    /// A cooperative stop request, asked between events: nil to go on, or why to stop (e.g.
    /// "interrupted by SIGINT"). The run then ends where it stands, as a partial result
    /// (`SimulationResult.partial`); the model keeps no global state, the caller decides.
    public var stop: (@Sendable () -> String?)? = nil
    /// The files of `host.policy` (MOM policy files), already read by the caller and in the
    /// order MOM joins them, by the `files` list the scenario names (sweep points may name
    /// different files).
    public var policySources: [[String]: [PolicySource]] = [:]
    /// Worker threads for the guests' ticks of one instant (`run --threads`). The results are
    /// byte-identical for every value: see `Simulation.runRound`.
    public var threads: Int = 1
    /// Memos of page-content hashes and compressed sizes shared by the runs of one
    /// experiment (`consolidate`, `sweep`); nil for a run on its own. Outputs are the same
    /// with it or without it (see `SharedContentMemo`).
    public var sharedContentMemo: SharedContentMemo? = nil
    public init() {}
}

/// Why a scenario cannot be set up (a problem found only when building it).
public struct SimulationSetupError: Error, CustomStringConvertible {
    /// The scenario key at fault, as the loader spells it (`guests[1].workloads[0]`).
    public var keyPath: String
    public var message: String
    /// The error behind the message (a `WorkloadError`, a `TraceParseError`), when there is one.
    public var underlying: (any Error)? = nil
    public var description: String { "\(keyPath): \(message)" }
}

/// The simulation engine: one host, its guests and their workloads, advanced in integer
/// nanoseconds by a deterministic event queue.
///
/// Each guest runs its workloads for `tick` of vCPU time per vCPU at each tick; kswapd,
/// LRU aging and the sampler are periodic services. Events at the same instant run in
/// priority order (power-on, workloads, kswapd, aging, sampling), then in scheduling order.
public final class Simulation {
    public let config: ScenarioConfig
    public let options: SimulationOptions
    public let host: HostMemory
    public let generator: PageGenerator
    var guests: [GuestInstance] = []
    var queue = EventQueue<Service>()
    var now: Int64 = 0
    var samples: [GuestSample] = []
    var hostSamples: [HostSample] = []
    /// The host at the previous sample: the start of the next sampling interval.
    var lastHostSample: HostState?
    var events: [SimulationEvent] = []
    var checkProblems: [String] = []
    var checksRun = 0
    var endedEarly: String?
    /// Whether the run was stopped on request (`SimulationOptions.stop`) before its duration.
    var stopped = false
    /// The worker threads of parallel rounds (started by the first round of two guests or more).
    var roundRunner: RoundRunner?
    /// The helper threads of the host's services (`HostMemory.runJobs`), with `threads > 1`.
    var jobPool: JobPool?
    /// Wall-clock nanoseconds each guest's last round job took: the next round starts the
    /// longest first, so the threads finish together. Read only to order the jobs' start, which
    /// never changes a result (see `RoundRunner`).
    var lastJobNs: UnsafeMutablePointer<UInt64>?
    /// The host's policy program (`host.policy`), when it runs one.
    var policy: PolicyBinding?
    /// The run-time error that stopped the policy program, and with it the run.
    var policyError: PolicyError?
    /// The CPU time of the host's background work and the steal it cost (Simulation+Steal.swift).
    var hostCPU = HostCPUAccount()
    /// When host work was last attributed to the guests' vCPUs.
    var lastStealAttribution: Int64 = 0
    /// Whether the host's background work is taken from the guests' vCPUs (`host.cpu`).
    var chargesSteal: Bool { config.host.cpu.charge_host_work == .steal }

    enum Service {
        case powerOn(Int), tick(Int), kswapd(Int), aging(Int), sample, scheduler, sharingScan, balloonPolicy, balloonDriver(Int), pageReporting(Int),
            balloonStats(Int), activeSampling, policy, khugepaged(Int)
    }
    static let prioPowerOn = 0, prioTick = 1, prioKswapd = 2, prioAging = 3, prioHost = 4, prioKhugepaged = 5, prioSample = 9

    /// A guest's own periodic work, which the guests at one instant do in a parallel round.
    enum GuestWork: Equatable { case tick, kswapd, aging, khugepaged }

    /// A guest and what runs in it.
    final class GuestInstance {
        let index: Int
        let config: GuestConfig
        let kernel: GuestKernel
        let vm: VirtualMachine
        var workloads: [(any Workload, WorkloadContext)] = []
        var lastWriteback: Int64 = 0
        /// The guest at the previous sample: the start of the next sampling interval.
        var lastSample: GuestState?
        var peakConsumed = 0
        /// Steal attributed to the guest's vCPUs and not yet taken from a tick.
        var stealOwedNs: Int64 = 0
        /// Steal taken from the current tick (set before the round, read by `runTick`).
        var stealThisTick: Int64 = 0
        /// Steal taken from the guest's ticks so far (its /proc/stat steal).
        var stealNs: Int64 = 0
        /// Balloon pages and free page reports the host's work was counted for so far.
        var balloonPagesSeen = 0
        /// khugepaged's sleep after its last wakeup (`GuestKernel.runKhugepaged`).
        var khugepagedSleepNs: Int64 = 0
        init(index: Int, config: GuestConfig, kernel: GuestKernel, vm: VirtualMachine) {
            self.index = index; self.config = config; self.kernel = kernel; self.vm = vm
        }
    }

    /// Builds the host and guests of a validated scenario.
    public init(config: ScenarioConfig, options: SimulationOptions = SimulationOptions()) throws {
        self.config = config
        self.options = options
        let images = config.resolvedImages
        let (memoryImages, imageIndex) = try Simulation.memoryImages(config, options)
        generator = PageGenerator(images: memoryImages)
        host = HostMemory(config: config.host, costs: config.costs, generator: generator, seed: config.seed)
        host.verifyDecompressedBytes = options.check
        host.sharedContentMemo = options.sharedContentMemo
        if options.threads > 1 {
            // The host's services split their work (hashing ahead for the sharing scanner,
            // compressing ahead for host paging) over helper threads, which run while the
            // guests' round jobs wait at a synchronisation point or between rounds.
            let pool = JobPool(threads: options.threads)
            jobPool = pool
            host.runJobs = { count, body in pool.run(count: count, body: body) }
        }
        // One parsed copy of each trace for every guest that replays it.
        let resources = WorkloadResources(options.textResources)

        let entryOf = config.guestEntryIndices
        for (gi, g) in config.expandedGuests.enumerated() {
            let img = images.first { $0.name == g.image }!
            let imageSeed = StableHash.fnv1a64("image:" + img.name)
            let guestSeed = StableHash.mix(config.seed, StableHash.fnv1a64("guest:" + g.name))
            let kernel = GuestKernel(
                name: g.name, memoryPages: g.memory.pages, config: g.kernel, swap: g.swap,
                costs: config.costs, seed: guestSeed, kernelImageSeed: imageSeed,
                kernelImagePages: img.kernel_size.pages, kernelRelocated: img.kernel_relocated.fraction, generator: generator)
            if options.check { kernel.enableContentShadow() }
            let stored = imageIndex[img.name].map { (index: $0, pages: memoryImages[$0].pageCount) }
            let bootFiles = Simulation.registerImageFiles(img, in: kernel, guestSeed: guestSeed, imageSeed: imageSeed, storedImage: stored)
            let vm = host.addVM(name: g.name, kernel: kernel, settings: g.resourceSettings, balloon: g.balloon)
            let inst = GuestInstance(index: gi, config: g, kernel: kernel, vm: vm)
            var rng = Xoshiro256(seed: config.seed, component: "workload:" + g.name)
            let boot = BootWorkload(files: bootFiles)
            inst.workloads.append((boot, WorkloadContext(rng: Xoshiro256(seed: rng.next()), costs: config.costs)))
            for (wi, spec) in g.workloads.enumerated() {
                inst.workloads.append(
                    try Simulation.makeWorkload(
                        spec, index: wi, entry: entryOf[gi], kernel: kernel, image: img,
                        resources: resources, rng: &rng, costs: config.costs))
            }
            guests.append(inst)
            queue.schedule(at: g.start_at.nanoseconds, priority: Simulation.prioPowerOn, .powerOn(gi))
        }
        if config.host.policy.isProgram {
            let (program, problems) = PolicyBinding.program(config.host.policy, sources: options.policySources[config.host.policy.files] ?? [])
            if let p = problems.first { throw p }
            policy = PolicyBinding(program: program!, config: config.host.policy, vms: guests.count)
        }
        queue.schedule(at: 0, priority: Simulation.prioSample, .sample)
        queue.schedule(at: 0, priority: Simulation.prioHost, .scheduler)
        // A policy program may start KSM (run 1) on a host configured with sharing off.
        if config.host.sharing.enabled || policy != nil { queue.schedule(at: 0, priority: Simulation.prioHost, .sharingScan) }
        // The policy program takes the built-in balloon policy's place (and its place in the queue).
        queue.schedule(at: 0, priority: Simulation.prioHost, policy != nil ? .policy : .balloonPolicy)
        queue.schedule(at: config.host.active_sampling.period.nanoseconds, priority: Simulation.prioHost, .activeSampling)
    }

    deinit {
        roundRunner?.shutdown()
        jobPool?.shutdown()
        lastJobNs?.deallocate()
    }

    /// Runs to the scenario's duration (or until the host runs out of memory).
    /// `progress` is called with the fraction of simulated time done, about every 0.1 %.
    public func run(progress: ((Double) -> Void)? = nil) -> SimulationResult {
        _ = runEvents(through: config.duration.nanoseconds, until: nil, progress: progress)
        return finish()
    }

    // MARK: - Running in steps (demos, interactive tools)

    /// Simulated time reached so far, in nanoseconds.
    public var currentTime: Int64 { now }

    /// Whether the run is over: the scenario's duration is reached or the host ran out of memory.
    public var hasEnded: Bool { endedEarly != nil || now >= config.duration.nanoseconds }

    /// Why the run stopped before its duration, if it did (host out of memory).
    public var endedEarlyReason: String? { endedEarly }

    /// Handles every event scheduled at or before `time` (capped at the scenario's duration);
    /// afterwards `currentTime` is `time` unless the run ended early. Running in steps and then
    /// calling `finish()` gives the same result as `run()`.
    public func advance(to time: Int64) {
        let end = min(time, config.duration.nanoseconds)
        _ = runEvents(through: end, until: nil, progress: nil)
        if endedEarly == nil { now = max(now, end) }
    }

    /// Handles events one by one until `condition` holds after one of them, the run ends, or
    /// the next event lies after `limit` (capped at the duration). Returns whether the condition held.
    @discardableResult
    public func advance(until condition: () -> Bool, notAfter limit: Int64) -> Bool {
        if condition() { return true }
        return withoutActuallyEscaping(condition) { c in
            runEvents(through: min(limit, config.duration.nanoseconds), until: c, progress: nil)
        }
    }

    /// The statistics of each workload of guest `index` so far (index 0 is the guest's boot).
    public func workloadStats(guest index: Int) -> [WorkloadStats] { guests[index].workloads.map { $0.1.stats } }

    /// The kernel of guest `index` (its /proc files, processes and watermarks).
    public func guestKernel(_ index: Int) -> GuestKernel { guests[index].kernel }

    /// Whether each workload of guest `index` has finished (index 0 is the guest's boot).
    public func workloadsFinished(guest index: Int) -> [Bool] { guests[index].workloads.map { $0.0.isFinished } }

    /// Guest `index` as its output counters read it, now.
    public func guestState(index: Int) -> GuestState { guestState(guests[index]) }

    /// Each evaluation of the host's policy program so far, and what the host applied.
    public var policyEvaluations: [PolicyEvaluationRecord] { policy?.evaluations ?? [] }

    /// Kernel and host events logged so far, in order.
    public var eventLog: [SimulationEvent] { events }

    /// Ends the run where it stands (at the duration unless it ended early) and returns the result.
    public func finish() -> SimulationResult {
        roundRunner?.shutdown()
        roundRunner = nil
        if endedEarly == nil { now = config.duration.nanoseconds }
        host.finish(now: now)
        drainEvents()
        if options.check { runChecks(contents: true) }
        return makeResult()
    }

    /// The event loop: handles events up to `end`; stops early when `condition` holds after an
    /// event or the host runs out of memory. Returns whether the condition held.
    func runEvents(through end: Int64, until condition: (() -> Bool)?, progress: ((Double) -> Void)?) -> Bool {
        guard endedEarly == nil else { return false }
        let duration = config.duration.nanoseconds
        var lastProgress = -1
        while let t = queue.nextTime, t <= end, let e = queue.pop() {
            now = t
            if let (kind, gi) = e.payload.guestWork {
                // The same guest-local work of every guest at this instant, in scheduling
                // order: one parallel round.
                var round = [gi]
                while let n = queue.peek, n.time == t, let (k, gj) = n.payload.guestWork, k == kind {
                    _ = queue.pop()
                    round.append(gj)
                }
                runRound(kind, round)
            } else {
                handle(e.payload)
            }
            if policyError != nil { return false }
            if let p = progress {
                let pct = Int(Double(t) * 1000 / Double(max(1, duration)))
                if pct != lastProgress { lastProgress = pct; p(Double(t) / Double(max(1, duration))) }
            }
            if host.outOfMemory && endedEarly == nil {
                endedEarly = "host out of memory at \(formatFixed(Double(now) / 1e9, 3)) s"
                drainEvents()
                takeSample()
                return condition?() ?? false
            }
            if let c = condition, c() { return true }
            if let stop = options.stop, let why = stop() {
                stopHere(why)
                return false
            }
        }
        return false
    }

    /// Ends the run at the current instant on a stop request: the state is sampled there
    /// (unless a sample was just taken), so the outputs cover the simulated time exactly.
    func stopHere(_ why: String) {
        stopped = true
        endedEarly = "\(why) at \(formatFixed(Double(now) / 1e9, 3)) s of \(config.duration)"
        drainEvents()
        if hostSamples.last?.timeNs != now { takeSample() }
    }

    /// Schedules the guest's free page reporting pass (Linux's delayed work) when a free of
    /// the reporting order requested one and none is pending.
    func requestPageReporting(_ g: GuestInstance) {
        if let t = g.kernel.takePageReportingRequest(now: now) {
            queue.schedule(at: t, priority: Simulation.prioHost, .pageReporting(g.index))
        }
    }

    func handle(_ s: Service) {
        switch s {
        case .powerOn(let gi):
            let g = guests[gi]
            if host.powerOn(g.vm) {
                _ = g.kernel.boot()
                queue.schedule(at: now, priority: Simulation.prioTick, .tick(gi))
                queue.schedule(at: now + g.config.kernel.kswapd_interval.nanoseconds, priority: Simulation.prioKswapd, .kswapd(gi))
                queue.schedule(at: now + g.config.kernel.lru_scan_interval.nanoseconds, priority: Simulation.prioAging, .aging(gi))
                let thp = g.config.kernel.transparent_hugepage
                if thp.enabled != .never {
                    // khugepaged starts with the first THP-enabled mm (start_stop_khugepaged).
                    let sleep = Int64(thp.khugepaged.scan_sleep_millisecs) * 1_000_000
                    queue.schedule(at: now + sleep, priority: Simulation.prioKhugepaged, .khugepaged(gi))
                }
                if g.config.balloon.driver {
                    queue.schedule(at: now + g.config.balloon.poll_interval.nanoseconds, priority: Simulation.prioHost, .balloonDriver(gi))
                    if let period = g.config.balloon.stats_period {
                        g.vm.pollGuestStats(now: now)
                        queue.schedule(at: now + period.nanoseconds, priority: Simulation.prioHost, .balloonStats(gi))
                    }
                }
                g.lastWriteback = now
            }
            drainEvents()
            requestPageReporting(g)
        case .tick, .kswapd, .aging, .khugepaged:
            let (kind, gi) = s.guestWork!
            runRound(kind, [gi])
        case .sample:
            takeSample()
            queue.schedule(at: now + config.sample_interval.nanoseconds, priority: Simulation.prioSample, .sample)
        case .scheduler:
            let meter = hostWorkMeter()
            host.runScheduler(now: now)
            recordHostWork(since: meter)
            drainEvents()
            for g in guests { requestPageReporting(g) }
            queue.schedule(at: now + config.host.scheduler.interval.nanoseconds, priority: Simulation.prioHost, .scheduler)
        case .sharingScan:
            let meter = hostWorkMeter()
            let next = host.runSharingScanner()
            recordHostWork(since: meter)
            queue.schedule(at: now + next, priority: Simulation.prioHost, .sharingScan)
        case .balloonPolicy:
            host.runBalloonPolicy(now: now)
            queue.schedule(at: now + host.balloonPolicyInterval, priority: Simulation.prioHost, .balloonPolicy)
        case .balloonDriver(let gi):
            let g = guests[gi]
            g.kernel.now = now
            g.kernel.runBalloonDriver()
            drainEvents()
            requestPageReporting(g)
            queue.schedule(at: now + g.config.balloon.poll_interval.nanoseconds, priority: Simulation.prioHost, .balloonDriver(gi))
        case .balloonStats(let gi):
            let g = guests[gi]
            g.vm.pollGuestStats(now: now)
            if let period = g.config.balloon.stats_period {
                queue.schedule(at: now + period.nanoseconds, priority: Simulation.prioHost, .balloonStats(gi))
            }
        case .pageReporting(let gi):
            let g = guests[gi]
            g.kernel.now = now
            g.kernel.runPageReporting()
            requestPageReporting(g)
        case .policy:
            guard let binding = policy else { return }
            do {
                try binding.run(host: host, guests: guests, now: now)
            } catch {
                policyError = error
                let place = error.location.map { " (\($0.fileAndLine))" } ?? ""
                stopHere("stopped by a policy error" + place)
                return
            }
            drainEvents()
            if let r = binding.evaluations.last, r.timeNs == now {
                for w in r.ksmWrites { events.append(SimulationEvent(time: now, ksmWrite: w)) }
            }
            queue.schedule(at: binding.nextDue, priority: Simulation.prioHost, .policy)
        case .activeSampling:
            host.sampleActiveMemory()
            queue.schedule(at: now + config.host.active_sampling.period.nanoseconds, priority: Simulation.prioHost, .activeSampling)
        }
    }

    /// The guest-local work `kind` of the guests `indices` at one instant. One guest works as
    /// any event runs, with the host's allocator at hand. Two or more work as one parallel
    /// round, the way a host runs its VMs on their own CPUs: each VM works from a grant of
    /// free machine frames taken at the round's start and defers its changes to host-wide
    /// state to the round's end; a VM that needs the host (its grant is spent, allocations
    /// block, a large page) waits for the round's synchronisation point, where the host serves
    /// the waiting VMs in VM order (`HostMemory.beginRound`, `VMRound`). The VMs run on up to
    /// `options.threads` threads; what each computes depends only on the round's start and its
    /// own work, so every thread count gives the same bytes. Events, checks and the next
    /// events follow in the guests' order.
    func runRound(_ kind: GuestWork, _ indices: [Int]) {
        let gs = indices.map { guests[$0] }
        if kind == .tick && chargesSteal {
            // The synchronisation point: the host's work up to now becomes steal, known
            // before the round starts, so every thread count gives the same slices.
            attributeHostWork()
            for g in gs where isRunnable(g) { takeSteal(g) }
        }
        if gs.count == 1 {
            work(kind, gs[0])
        } else {
            let vms = gs.map(\.vm)
            let runner = roundRunner ?? RoundRunner(threads: options.threads)
            roundRunner = runner
            let host = self.host
            if lastJobNs == nil {
                let p = UnsafeMutablePointer<UInt64>.allocate(capacity: guests.count * 4)
                p.initialize(repeating: 0, count: guests.count * 4)
                lastJobNs = p
            }
            // A kswapd with nothing to do only looks at its watermarks: it runs here, in the
            // round (its VM takes and gives back its grant as any other), without a job of its
            // own. Most of a host's 10 ms kswapd rounds are that: the hand-off to a thread cost
            // more than the work.
            let jobs = kind == .kswapd ? gs.indices.filter { gs[$0].kernel.kswapdHasWork } : Array(gs.indices)
            // One slot per guest and kind of work; longest last time first (ties in job order).
            let kindSlot = kind == .tick ? 0 : kind == .kswapd ? 1 : kind == .aging ? 2 : 3
            let jobNs = lastJobNs! + kindSlot * guests.count
            let order = jobs.indices.sorted {
                let a = jobNs[gs[jobs[$0]].index], b = jobNs[gs[jobs[$1]].index]
                return a > b || (a == b && $0 < $1)
            }
            // A VM waits as its job (quiet VMs never wait: they do not allocate).
            var jobOf = Array(repeating: -1, count: gs.count)
            for (j, k) in jobs.enumerated() { jobOf[k] = j }
            host.beginRound(vms, park: { k in { [jobOf] in runner.park(jobOf[k]) } })
            for k in gs.indices where jobOf[k] < 0 { work(kind, gs[k]) }
            runner.run(
                count: jobs.count, order: order,
                body: { [unowned self] j in
                    let g = gs[jobs[j]]
                    let start = DispatchTime.now().uptimeNanoseconds
                    work(kind, g)
                    jobNs[g.index] = DispatchTime.now().uptimeNanoseconds - start
                }, serve: { j in host.serveRound(vms[jobs[j]]) })
            host.endRound(vms)
        }
        // Aging's events wait for the next drain, as they always have.
        if kind != .aging { drainEvents() }
        for g in gs {
            requestPageReporting(g)
            switch kind {
            case .tick:
                if options.check && options.checkAfterEachTick { runChecks(afterTickOf: g) }
                queue.schedule(at: now + config.tick.nanoseconds, priority: Simulation.prioTick, .tick(g.index))
            case .kswapd:
                queue.schedule(at: now + g.config.kernel.kswapd_interval.nanoseconds, priority: Simulation.prioKswapd, .kswapd(g.index))
            case .aging:
                queue.schedule(at: now + g.config.kernel.lru_scan_interval.nanoseconds, priority: Simulation.prioAging, .aging(g.index))
            case .khugepaged:
                queue.schedule(at: now + g.khugepagedSleepNs, priority: Simulation.prioKhugepaged, .khugepaged(g.index))
            }
        }
    }

    /// A guest's own part of `kind`: what may run in parallel with the other guests'.
    func work(_ kind: GuestWork, _ g: GuestInstance) {
        switch kind {
        case .tick:
            runTick(g)
        case .kswapd:
            g.kernel.now = now
            g.kernel.runKswapd()
        case .aging:
            g.kernel.now = now
            let expire = Int64(g.config.kernel.dirty_expire_centisecs) * 10_000_000
            let expired = now - g.lastWriteback >= expire
            if expired { g.lastWriteback = now }
            g.kernel.runPeriodicAging(dirtyExpired: expired)
        case .khugepaged:
            g.kernel.now = now
            g.khugepagedSleepNs = g.kernel.runKhugepaged()
        }
    }

    /// One tick of a guest: each workload gets an equal share of the vCPU time.
    func runTick(_ g: GuestInstance) {
        let k = g.kernel
        k.now = now
        guard !k.panicked else { return }
        let active = g.workloads.indices.filter { !g.workloads[$0].0.isFinished }
        guard !active.isEmpty else { return }
        let share = config.tick.nanoseconds * Int64(g.config.vcpus) / Int64(active.count)
        // Steal time shrinks the slices evenly (the first workloads take the remainder).
        let steal = g.stealThisTick
        g.stealThisTick = 0
        let stealEach = steal / Int64(active.count)
        var stealRest = steal - stealEach * Int64(active.count)
        for i in active {
            var ctx = g.workloads[i].1
            ctx.now = now
            ctx.budget = min(ctx.budget, 0) + share  // carry overshoot debt into this slice
            if steal > 0 {
                let extra: Int64 = stealRest > 0 ? 1 : 0
                stealRest -= extra
                ctx.steal(stealEach + extra)
            }
            g.workloads[i].0.run(on: k, context: &ctx)
            g.workloads[i].1 = ctx
            if host.outOfMemory { break }
        }
    }

    /// Moves kernel and host events into the run's log, stamped with the current time.
    func drainEvents() {
        for (_, e) in host.events { events.append(SimulationEvent(time: now, host: e)) }
        host.events.removeAll()
        for g in guests where !g.kernel.events.isEmpty {
            for e in g.kernel.events { events.append(SimulationEvent(time: now, guest: g.config.name, kernel: e)) }
            g.kernel.events.removeAll()
        }
    }

    func takeSample() {
        let elapsed = config.sample_interval.nanoseconds
        for g in guests {
            if now > 0 { g.kernel.checkThrashing(elapsedNs: elapsed) }
            g.peakConsumed = max(g.peakConsumed, g.vm.consumedPages)
            let state = guestState(g)
            samples.append(
                GuestSample(
                    timeNs: now, guest: g.config.name,
                    values: GuestCounters.catalog.sample(CounterWindow(now: state, start: g.lastSample))))
            g.lastSample = state
        }
        drainEvents()
        recordBalloonWork()
        let h = hostState()
        var sample = HostSample(timeNs: now, values: HostCounters.catalog.sample(CounterWindow(now: h, start: lastHostSample)))
        sample.nodeValues = h.snapshot.nodes.indices.map { k in
            NodeCounters.catalog.sample(CounterWindow(now: h.snapshot.nodes[k], start: lastHostSample?.snapshot.nodes[k]))
        }
        hostSamples.append(sample)
        lastHostSample = h
        if options.check { runChecks(contents: true) }
    }

    /// A guest as its output counters read it, now.
    func guestState(_ g: GuestInstance) -> GuestState {
        let k = g.kernel
        var s = GuestState(
            configuredPages: k.totalPages, vcpus: g.config.vcpus, poweredOn: g.vm.poweredOn, panicked: k.panicked,
            liveProcesses: k.livePIDs.count, thrashing: k.thrashing, meminfo: k.meminfo, vmstat: k.vmstat,
            host: g.vm.snapshot(), peakConsumedPages: max(g.peakConsumed, g.vm.consumedPages),
            memoryAccessNs: Double(config.costs.memory_access.nanoseconds))
        s.work = guestThroughput(g)
        return s
    }

    /// The host as its output counters read it, now.
    func hostState() -> HostState {
        var h = HostState(totalPages: host.totalFrames, hypervisorPages: host.hypervisorFrames, outOfMemory: host.outOfMemory, snapshot: host.snapshot())
        h.cpu = hostCPU
        return h
    }

    /// After a guest's tick: that guest's structural invariants and the host's frame
    /// conservation (linear in the one guest's memory, so a check mode run stays linear in the
    /// number of guests; the per-VM host structures are checked at every sample).
    func runChecks(afterTickOf g: GuestInstance) {
        checksRun += 1
        guard checkProblems.count < 100 else { return }
        for p in g.kernel.checkInvariants() { checkProblems.append("t=\(now)ns \(p)") }
        for p in host.checkInvariants(full: false) { checkProblems.append("t=\(now)ns \(p)") }
    }

    /// Structural invariants of every guest and the host; with `contents`, also the host's
    /// per-VM structures and sharing, and that every recorded page reads back what was last
    /// written (hashing produced bytes).
    func runChecks(contents: Bool) {
        checksRun += 1
        guard checkProblems.count < 100 else { return }
        for g in guests {
            for p in g.kernel.checkInvariants() { checkProblems.append("t=\(now)ns \(p)") }
        }
        for p in host.checkInvariants(full: contents) { checkProblems.append("t=\(now)ns \(p)") }
        guard contents else { return }
        let gen = generator
        func hash(_ c: PageContent) -> UInt64 { gen.withBytes(c) { PageHash.xxh3($0) } }
        for g in guests {
            guard let shadow = g.kernel.shadow else { continue }
            let k = g.kernel
            let h = host, vm = g.vm
            let problems = shadow.verify(k, frameHash: { h.hashOfGuestPage(vm, $0) }, contentHash: hash)
            for p in problems { checkProblems.append("t=\(now)ns \(g.config.name): \(p)") }
        }
    }

    func makeResult() -> SimulationResult {
        recordBalloonWork()
        let gs: [GuestSummary] = guests.map { g in
            let k = g.kernel
            return GuestSummary(
                name: g.config.name, state: guestState(g), processes: k.processTable(),
                workloads: g.workloads.map { ($0.0.kind.rawValue, $0.1.stats.statistics) }, buddyinfo: k.buddy.buddyinfo,
                nodes: k.nodeStats)
        }
        var r = SimulationResult(
            config: config, simulatedNs: now, endedEarly: endedEarly, guests: gs, samples: samples, hostSamples: hostSamples,
            events: events, hostTotalPages: host.totalFrames, hostFreePages: host.freeFrames, hostConsumedPages: host.consumedFrames,
            hostOverheadPages: host.overheadFrames, hostHypervisorPages: host.hypervisorFrames, hostOutOfMemory: host.outOfMemory,
            host: host.snapshot(),
            checkProblems: checkProblems, checksRun: checksRun, partial: stopped,
            policyError: policyError, policyEvaluations: policy?.evaluations ?? [])
        r.hostCPU = hostCPU
        return r
    }
}

extension Simulation.Service {
    /// The guest-local work this event is, and whose, if it is one (parallel rounds).
    var guestWork: (Simulation.GuestWork, Int)? {
        switch self {
        case .tick(let g): return (.tick, g)
        case .kswapd(let g): return (.kswapd, g)
        case .aging(let g): return (.aging, g)
        case .khugepaged(let g): return (.khugepaged, g)
        default: return nil
        }
    }
}
