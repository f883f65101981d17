import HostPolicies
import Hypervisor
import OvercommitSupport

/// The host at one instant, as its output counters read it.
public struct HostState: Sendable, Equatable {
    public var totalPages: Int
    public var hypervisorPages: Int
    public var outOfMemory: Bool
    /// Free, consumed and overhead memory, the free-memory state and what each technique holds.
    public var snapshot: HostSnapshot
    /// The CPU time of the host's background work and the steal time it cost the guests.
    public var cpu = HostCPUAccount()

    public init(totalPages: Int, hypervisorPages: Int, outOfMemory: Bool, snapshot: HostSnapshot) {
        self.totalPages = totalPages; self.hypervisorPages = hypervisorPages; self.outOfMemory = outOfMemory; self.snapshot = snapshot
    }
}

public typealias HostCounter = OutputCounter<HostState>

/// Every output counter of the host, declared once: `stats.txt` (`host.<name>`), the `host`
/// object of `summary.json`, `host_timeseries.csv` (the sampled ones), the HTML report and the
/// sweep metrics follow this list. Sharing counters carry KSM's sysfs names.
public struct HostCounters: Sendable {
    /// The catalog's handles, e.g. `HostCounters.handles.pagesSharing`.
    public static let handles = HostCounters()
    /// The counters in declaration order.
    public static let catalog = CounterCatalog<HostState>(root: handles)

    public let ram = HostCounter.memory("ram_kb", "host machine memory", also: [.meminfo("MemTotal (host)"), .esxtop("PMEM total")]) {
        $0.totalPages
    }
    public let free = HostCounter.memory(
        "free_kb", sampled: true, "host memory backing nothing",
        also: [.meminfo("MemFree (host)"), .esxtop("PMEM free")]
    ) { $0.snapshot.free }
    public let consumed = HostCounter.memory("consumed_kb", sampled: true, "host memory backing guest pages") { $0.snapshot.consumed }
    public let overhead = HostCounter.memory("overhead_kb", sampled: true, "per-VM overhead memory", also: [.esxtop("OVHD (summed)")]) {
        $0.snapshot.overhead
    }
    public let hypervisor = HostCounter.memory("hypervisor_kb", "memory the hypervisor keeps", also: [.esxtop("PMEM vmk")]) { $0.hypervisorPages }
    public let outOfMemory = HostCounter.flag("out_of_memory", "1 if a guest touched a page with no machine frame left") { $0.outOfMemory }
    public let state = HostCounter(
        "state", unit: .level, format: .label(HostMemoryState.allCases.map(\.rawValue)), kind: .gauge,
        sampled: true, "free-memory state: 0 high, 1 clear, 2 soft, 3 hard, 4 low",
        also: [.esxtop("VMKMEM state")]
    ) { Double($0.now.snapshot.state.level) }
    public let minFree = HostCounter.memory(
        "min_free_kb", sampled: true, "ESXi minFree (sliding scale of host memory)",
        also: [.esxtop("VMKMEM minfree")]
    ) { $0.snapshot.minFree }
    public let privateFrames = HostCounter.memory("private_kb", sampled: true, "machine memory backing guest pages privately") {
        $0.snapshot.privateFrames
    }
    public let sharedFrames = HostCounter.memory(
        "shared_frames_kb", sampled: true, "machine memory holding shared pages",
        also: [.ksm("pages_shared x 4"), .esxtop("PSHARE common")]
    ) { $0.snapshot.sharedFrames }
    public let pagesShared = HostCounter.gauge(
        "pages_shared", .pages, sampled: true, "KSM pages_shared: shared frames in use",
        also: [.ksm("pages_shared")]
    ) { $0.snapshot.pagesShared }
    public let pagesSharing = HostCounter.gauge(
        "pages_sharing", .pages, sampled: true,
        "KSM pages_sharing: extra mappings of shared frames (frames saved)",
        also: [.ksm("pages_sharing")]
    ) { $0.snapshot.pagesSharing }
    public let pagesUnshared = HostCounter.gauge(
        "pages_unshared", .pages, sampled: true, "KSM pages_unshared: candidates in the unstable table",
        also: [.ksm("pages_unshared")]
    ) { $0.snapshot.pagesUnshared }
    public let pagesVolatile = HostCounter.gauge(
        "pages_volatile", .pages, sampled: true,
        "KSM pages_volatile: pages that changed between scans (last full scan)",
        also: [.ksm("pages_volatile")]
    ) { $0.snapshot.pagesVolatile }
    public let ksmZeroPages = HostCounter.gauge(
        "ksm_zero_pages", .pages, sampled: true,
        "KSM ksm_zero_pages: pages mapped to the host zero frame (use_zero_pages)",
        also: [.ksm("ksm_zero_pages")]
    ) { $0.snapshot.zeroPagesSharing }
    public let savedBySharing = HostCounter.derived(
        "saved_by_sharing_kb", .kilobytes, sampled: true,
        "memory saved by sharing: (pages_sharing + ksm_zero_pages) x 4 kB",
        also: [.ksm("(pages_sharing + ksm_zero_pages) x 4; ≈ general_profit"), .esxtop("PSHARE saving")]
    ) { w in
        (w.now.snapshot.pagesSharing + w.now.snapshot.zeroPagesSharing) * 4
    }
    public let fullScans = HostCounter.events(
        "full_scans", sampled: true, "KSM full_scans: complete passes over all VMs",
        also: [.ksm("full_scans")]
    ) { $0.snapshot.fullScans }
    public let pagesScanned = HostCounter.events(
        "pages_scanned", unit: .pages, sampled: true, "pages hashed by the sharing scanner",
        also: [.ksm("pages_scanned")]
    ) { $0.snapshot.pagesScanned }
    public let falseMatches = HostCounter.events("false_matches", sampled: true, "hash matches whose 4096 bytes differed (never shared)") {
        $0.snapshot.falseMatches
    }
    public let staleCandidates = HostCounter.events("stale_candidates", sampled: true, "unstable candidates that changed after being hashed") {
        $0.snapshot.staleCandidates
    }
    public let largeSubpagesHashed = HostCounter.events(
        "large_subpages_hashed", sampled: true,
        "subpages of large pages hashed ahead of a break"
    ) { $0.snapshot.largeSubpagesHashed }
    public let cowBreaks = HostCounter.events(
        "cow_breaks", sampled: true, "copy-on-write breaks of shared pages",
        also: [.vmstat("cow_ksm (host)")]
    ) { $0.snapshot.cowBreaks }
    public let ballooned = HostCounter.memory("ballooned_kb", sampled: true, "memory held by balloon drivers", also: [.esxtop("MEMCTL curr")]) {
        $0.snapshot.ballooned
    }
    public let compressed = HostCounter.memory("compressed_kb", sampled: true, "guest memory held compressed", also: [.esxtop("ZIP zipped")]) {
        $0.snapshot.compressed
    }
    public let compressedBytes = HostCounter.gauge("compressed_bytes", .bytes, sampled: true, "compressed bytes in the caches") {
        $0.snapshot.compressedBytes
    }
    public let cache = HostCounter.memory("cache_kb", sampled: true, "machine memory of the compression caches") { $0.snapshot.cacheFrames }
    public let compressionSaved = HostCounter.derived(
        "compression_saved_kb", .kilobytes, sampled: true,
        "memory saved by compression: compressed_kb - cache_kb", also: [.esxtop("ZIP saved")]
    ) { w in
        (w.now.snapshot.compressed - w.now.snapshot.cacheFrames) * 4
    }
    public let hostSwapped = HostCounter.memory("host_swapped_kb", sampled: true, "guest memory in host swap files", also: [.esxtop("SWAP curr")]) {
        $0.snapshot.hostSwapped
    }
    public let largePages = HostCounter.gauge("large_pages", .count, sampled: true, "intact 2 MiB large pages") { $0.snapshot.largePages }
    public let largePagesBroken = HostCounter.events("large_pages_broken", sampled: true, "large pages broken into 4 KiB pages") {
        $0.snapshot.largePagesBroken
    }
    public let sharedBeforeSwap = HostCounter.events(
        "shared_before_swap", sampled: true,
        "subpages shared the moment their large page broke"
    ) { $0.snapshot.sharedBeforeSwap }
    public let blockedAllocations = HostCounter.events(
        "blocked_allocations", sampled: true,
        "allocations that waited for synchronous reclamation"
    ) { $0.snapshot.blockedAllocations }
    public let doublePaging = HostCounter.events(
        "double_paging", sampled: true,
        "guest swap-outs of pages the host had already swapped or compressed"
    ) { $0.snapshot.doublePaging }
    public let hostSwapIns = HostCounter.events(
        "host_swap_ins", sampled: true, "host-level major faults (swap file reads)",
        also: [.esxtop("SWAP r/s (a rate)")]
    ) { $0.snapshot.hostSwapIns }
    public let hostSwapOuts = HostCounter.events(
        "host_swap_outs", sampled: true, "pages written to host swap files",
        also: [.esxtop("SWAP w/s (a rate)")]
    ) { $0.snapshot.hostSwapOuts }
    public let compressions = HostCounter.events("compressions", sampled: true, "pages stored in compression caches") {
        $0.snapshot.compressions
    }
    public let compressionRejects = HostCounter.events(
        "compression_rejects", sampled: true,
        "pages that did not compress below the threshold"
    ) { $0.snapshot.compressionRejects }
    public let decompressions = HostCounter.events("decompressions", sampled: true, "pages decompressed on access") {
        $0.snapshot.decompressions
    }
    public let scanCPU = HostCounter.time("scan_cpu_s", sampled: true, "sharing scanner CPU time (cost model)") { $0.snapshot.scanCPUNs }
    public let compressCPU = HostCounter.time("compress_cpu_s", sampled: true, "compression and decompression CPU time (cost model)") {
        $0.snapshot.compressorCPUNs
    }
    public let timeInHigh = HostCounters.timeIn(.high)
    public let timeInClear = HostCounters.timeIn(.clear)
    public let timeInSoft = HostCounters.timeIn(.soft)
    public let timeInHard = HostCounters.timeIn(.hard)
    public let timeInLow = HostCounters.timeIn(.low)

    public let hostWorkCPU = HostCounter.time(
        "host_work_cpu_s", sampled: true,
        "CPU time of the host's background work: sharing scanner, host paging's compression and swap-out, balloon and free page reporting handling"
    ) { $0.cpu.totalNs }
    public let stealCharged = HostCounter.time(
        "steal_charged_s", sampled: true,
        "of host_work_cpu_s, vCPU time taken from the guests as steal (the guests' steal_s summed; host.cpu.charge_host_work: steal)"
    ) { $0.cpu.chargedNs }

    static func timeIn(_ s: HostMemoryState) -> HostCounter {
        .time("time_in_\(s.rawValue)_s", decimals: 3, sampled: true, "simulated time in the \(s.rawValue) state") {
            $0.snapshot.timeInStateNs[s.level]
        }
    }

    /// The counter of the time spent in a state.
    public func timeIn(_ s: HostMemoryState) -> HostCounter {
        switch s {
        case .high: timeInHigh
        case .clear: timeInClear
        case .soft: timeInSoft
        case .hard: timeInHard
        case .low: timeInLow
        }
    }
}
