import GuestKernel
import Hypervisor
import OvercommitSupport

/// A guest at one instant, as its output counters read it: the guest's own /proc files and
/// what backs its memory on the host.
public struct GuestState: Sendable, Equatable {
    public var configuredPages: Int
    public var vcpus: Int
    public var poweredOn: Bool
    public var panicked: Bool
    /// Live processes, and whether the guest is in a thrashing period.
    public var liveProcesses: Int
    public var thrashing: Bool
    public var meminfo: Meminfo
    public var vmstat: VMStat
    /// What backs the guest's memory on the host.
    public var host: VMHostSnapshot
    /// Most machine memory the guest consumed at any sample so far, pages.
    public var peakConsumedPages: Int
    /// `costs.memory_access` (ns): the plain access the slowdown compares with.
    public var memoryAccessNs: Double
    /// What the guest's workloads achieved and the steal time they lost.
    public var work = GuestThroughput()

    public init(
        configuredPages: Int, vcpus: Int, poweredOn: Bool, panicked: Bool, liveProcesses: Int, thrashing: Bool,
        meminfo: Meminfo, vmstat: VMStat, host: VMHostSnapshot, peakConsumedPages: Int, memoryAccessNs: Double
    ) {
        self.configuredPages = configuredPages; self.vcpus = vcpus; self.poweredOn = poweredOn; self.panicked = panicked
        self.liveProcesses = liveProcesses; self.thrashing = thrashing; self.meminfo = meminfo; self.vmstat = vmstat
        self.host = host; self.peakConsumedPages = peakConsumedPages; self.memoryAccessNs = memoryAccessNs
    }
}

public typealias GuestCounter = OutputCounter<GuestState>

/// Every output counter of a guest, declared once: `stats.txt` (`guest.NAME.<path>`),
/// `summary.json` (each guest's object, groups as nested objects), `timeseries.csv` (the
/// sampled ones, one column each), the HTML report and the sweep metrics all follow this list.
///
/// Event counts (`vmstat`, host techniques) are totals in stats.txt and summary.json, and
/// increases over the interval in `timeseries.csv`. Add a counter by adding a property here or
/// in one of the groups (`GuestCounters+Meminfo.swift`, `+VMStat`, `+Host`).
public struct GuestCounters: Sendable {
    /// The catalog's handles, e.g. `GuestCounters.handles.vmstat.pgfault`.
    public static let handles = GuestCounters()
    /// The counters in declaration order.
    public static let catalog = CounterCatalog<GuestState>(root: handles)

    public let configured = GuestCounter.memory("configured_kb", "configured guest memory", also: [.esxtop("MEMSZ")]) { $0.configuredPages }
    public let vcpus = GuestCounter.gauge("vcpus", .count, "virtual CPUs") { $0.vcpus }
    public let poweredOn = GuestCounter.flag("powered_on", "1 if the guest powered on (0: kept off by admission control)") { $0.poweredOn }
    public let panicked = GuestCounter.flag("panicked", "1 if the guest kernel panicked") { $0.panicked }
    public let liveProcesses = GuestCounter.gauge("live_processes", .count, sampled: true, "live processes") { $0.liveProcesses }
    public let thrashing = GuestCounter.flag(
        "thrashing", sampled: true,
        "1 while the guest is in a thrashing period (refault rate above its threshold)"
    ) { $0.thrashing }
    public let swapUsed = GuestCounter.kilobytes(
        "swap_used_kb", sampled: true, "guest swap in use (SwapTotal - SwapFree)",
        also: [.meminfo("SwapTotal - SwapFree")]
    ) {
        $0.meminfo.SwapTotal - $0.meminfo.SwapFree
    }
    public let eat = GuestCounter.derived(
        "eat_ns", .nanoseconds, decimals: 1, sampled: true,
        "effective access time (1-p)*ma + p*fault_time", GuestCounters.eatNs)
    public let slowdown = GuestCounter.derived(
        "slowdown", .ratio, decimals: 4, sampled: true,
        "EAT against a run with no faults (EAT / memory_access)"
    ) { w in
        GuestCounters.eatNs(w) / w.now.memoryAccessNs
    }
    public let meminfo = MeminfoGroup()
    public let vmstat = VMStatGroup()
    public let zswap = ZswapGroup()
    public let zram = ZramGroup()
    public let thp = THPGroup()
    public let host = HostGroup()
    public let throughput = ThroughputGroup()
    public let steal = GuestCounter.time(
        "steal_s", sampled: true,
        "vCPU time the host ran its own work instead of the guest (/proc/stat steal; host.cpu.charge_host_work: steal)"
    ) { $0.work.stealNs }
    public let throughputRatio = GuestCounter.derived(
        "throughput_ratio", .ratio, decimals: 4, sampled: true,
        "throughput achieved against unstalled: the workloads' vCPU time had every access hit and nothing been stolen, over what it was",
        GuestCounters.throughputRatio)

    /// Effective access time over the window: simulated time spent by accesses (hits and
    /// faults) per access; the plain access time when the guest made none.
    @Sendable static func eatNs(_ w: CounterWindow<GuestState>) -> Double {
        let accesses = w.increase { $0.vmstat.accesses }
        let time = w.increase { $0.vmstat.accessTimeNs }
        return accesses > 0 ? Double(time) / Double(accesses) : w.now.memoryAccessNs
    }
}
