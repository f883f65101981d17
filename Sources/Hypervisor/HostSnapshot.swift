import HostPolicies

/// A VM as the host sees it at one instant (pages unless noted): what backs its memory.
///
/// The names follow vSphere's memory counters: consumed, shared, ballooned, compressed,
/// swapped, active; `sharedSaved` is this VM's pages mapped to shared frames minus the frames
/// it would hold alone (ESX "shared" vs "shared common" per VM is approximated by mappings).
public struct VMHostSnapshot: Sendable, Equatable {
    public var configured = 0
    /// Machine frames: private frames plus compression-cache frames.
    public var consumed = 0
    public var privateFrames = 0
    /// Guest pages mapped to shared frames (the zero frame included), and to the zero frame.
    public var shared = 0
    public var zeroShared = 0
    public var ballooned = 0
    public var balloonTarget = 0
    public var compressed = 0
    public var compressedBytes = 0
    public var cacheFrames = 0
    public var hostSwapped = 0
    public var largePages = 0
    public var largePageUntouched = 0
    /// Estimated active pages (sampling) and pages truly touched in the last period.
    public var activeEstimated = 0
    public var activeTrue = 0
    /// Sampling periods completed (0: the active figures are not measured yet).
    public var activePeriods = 0
    public var stats = VMHostStats()
    public init() {}
}

/// The host at one instant: free memory, state and what each technique holds.
public struct HostSnapshot: Sendable, Equatable {
    public var state: HostMemoryState = .high
    public var free = 0
    public var minFree = 0
    public var consumed = 0
    public var privateFrames = 0
    public var sharedFrames = 0
    public var overhead = 0
    public var pagesShared = 0
    public var pagesSharing = 0
    public var pagesUnshared = 0
    public var pagesVolatile = 0
    public var zeroPagesSharing = 0
    public var fullScans = 0
    public var pagesScanned = 0
    public var falseMatches = 0
    public var staleCandidates = 0
    public var largeSubpagesHashed = 0
    public var cowBreaks = 0
    public var ballooned = 0
    public var compressed = 0
    public var compressedBytes = 0
    public var cacheFrames = 0
    public var hostSwapped = 0
    public var largePages = 0
    public var largePagesBroken = 0
    public var sharedBeforeSwap = 0
    public var blockedAllocations = 0
    public var doublePaging = 0
    public var hostSwapIns = 0
    public var hostSwapOuts = 0
    public var compressions = 0
    public var decompressions = 0
    public var compressionRejects = 0
    /// Scanner and compressor CPU time (cost model), nanoseconds.
    public var scanCPUNs: Int64 = 0
    public var compressorCPUNs: Int64 = 0
    public var timeInStateNs: [Int64] = Array(repeating: 0, count: 5)
    public init() {}
}

extension VirtualMachine {
    /// The VM's host-side state now.
    public func snapshot() -> VMHostSnapshot {
        var s = VMHostSnapshot()
        s.configured = configuredPages
        s.consumed = consumedPages
        s.privateFrames = privatePages
        s.shared = sharedPages
        s.zeroShared = zeroSharedPages
        s.ballooned = kernel.balloonPages
        s.balloonTarget = balloonTarget
        s.compressed = cache.count
        s.compressedBytes = cache.bytes
        s.cacheFrames = cache.frames
        s.hostSwapped = swappedPages
        s.largePages = largePages
        s.largePageUntouched = untouchedLargePagePages
        s.activeEstimated = Int((activeEstimate * Double(configuredPages)).rounded())
        s.activeTrue = trueActivePages
        s.activePeriods = activePeriods
        s.stats = stats
        return s
    }
}

extension HostMemory {
    /// The host's state now.
    public func snapshot() -> HostSnapshot {
        var h = HostSnapshot()
        h.state = scheduler.state
        h.free = freeFrames
        h.minFree = scheduler.minFreePages
        h.consumed = consumedFrames
        h.privateFrames = privateFrames
        h.sharedFrames = sharing.sharedFrames
        h.overhead = overheadFrames
        h.pagesShared = sharing.pages_shared
        h.pagesSharing = sharing.pages_sharing
        h.pagesUnshared = sharing.pages_unshared
        h.pagesVolatile = sharing.pages_volatile
        h.zeroPagesSharing = sharing.zero_pages_sharing
        h.fullScans = sharing.full_scans
        h.pagesScanned = sharing.pages_scanned
        h.falseMatches = sharing.false_matches
        h.staleCandidates = sharing.stale_candidates
        h.largeSubpagesHashed = sharing.large_subpages_hashed
        h.largePagesBroken = scheduler.largePagesBroken
        h.sharedBeforeSwap = scheduler.sharedBeforeSwap
        h.blockedAllocations = scheduler.blockedAllocations
        for vm in vms {
            h.cowBreaks += vm.stats.cowBreaks
            h.ballooned += vm.kernel.balloonPages
            h.compressed += vm.cache.count
            h.compressedBytes += vm.cache.bytes
            h.cacheFrames += vm.cache.frames
            h.hostSwapped += vm.swappedPages
            h.largePages += vm.largePages
            h.doublePaging += vm.stats.doublePaging
            h.hostSwapIns += vm.stats.swapIns
            h.hostSwapOuts += vm.stats.swapOuts
            h.compressions += vm.stats.compressions
            h.decompressions += vm.stats.decompressions
            h.compressionRejects += vm.stats.compressionRejects
        }
        h.scanCPUNs = sharing.cpuNs
        h.compressorCPUNs = compressorNs
        h.timeInStateNs = scheduler.timeInState
        return h
    }

    // MARK: - Periodic services the engine calls

    /// The reclaim scheduler's period.
    public func runScheduler(now: Int64) { scheduler.run(now: now) }

    /// One wake-up of the sharing scanner: scans the VMs at the configured rate.
    /// Returns the interval until the next wake-up.
    public func runSharingScanner() -> Int64 {
        let cfg = config.sharing
        let on = vms.filter(\.poweredOn)
        if cfg.usesESXRates {
            let interval: Int64 = 20_000_000
            let seconds = Double(interval) / 1e9
            var rates = on.map { vm -> Double in
                if let r = cfg.scan_rate_per_vm { return r }
                if let t = cfg.share_scan_time { return Double(vm.configuredPages) / (Double(t.nanoseconds) / 1e9) }
                return cfg.scan_rate_total.map { $0 / Double(max(1, on.count)) } ?? 0
            }
            if let total = cfg.scan_rate_total {
                let sum = rates.reduce(0, +)
                if sum > total { rates = rates.map { $0 * total / sum } }
            }
            for (vm, r) in zip(on, rates) {
                vm.scanCredit += r * seconds
                let n = Int(vm.scanCredit)
                vm.scanCredit -= Double(n)
                if n > 0 { _ = sharing.scan(vm, budget: n) }
            }
            sharing.endFullScanIfDone(vms)
            return interval
        }
        // KSM: pages_to_scan per wake-up, one VM after the other.
        var budget = cfg.pages_to_scan ?? SharingConfig.defaultPagesToScan
        var guardCount = 0
        while budget > 0 && guardCount < 2 * max(1, on.count) + 2 {
            guard let vm = on.first(where: { $0.scanPasses <= sharing.full_scans }) else {
                sharing.endFullScanIfDone(vms)
                guardCount += 1
                continue
            }
            budget -= sharing.scan(vm, budget: budget)
            sharing.endFullScanIfDone(vms)
        }
        return Int64(cfg.sleep_millisecs ?? SharingConfig.defaultSleepMillisecs) * 1_000_000
    }

    /// The balloon policy's period.
    public func runBalloonPolicy(now: Int64) { scheduler.runBalloonPolicy(now: now) }
    public var balloonPolicyInterval: Int64 { scheduler.balloonPolicyInterval.nanoseconds }
    /// One poll of `vm`'s balloon driver.
    public func runBalloonDriver(_ vm: VirtualMachine) { scheduler.runBalloonDriver(vm) }
    /// End of an active-memory sampling period.
    public func sampleActiveMemory() { scheduler.sampleActiveMemory() }
    /// Closes the state-time accounting at the end of a run.
    public func finish(now: Int64) { scheduler.finish(now: now) }
}
