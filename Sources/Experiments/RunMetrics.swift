import HostPolicies
import Hypervisor
import OvercommitSupport
import Simulation

/// A named scalar measured from one run: a column of `sweep.csv` and `runs.csv`, and what an
/// SLA term reads. Each is a formula over one counter (its value at the end, its extreme over
/// the samples, a rate, or a sum, maximum or mean over the guests), named after it.
public struct RunMetric: Sendable {
    /// Column name: the counter's stats.txt name and the aggregation, e.g. `host.free_kb.min`.
    public var name: String
    public var unit: CounterUnit
    public var summary: String
    /// Decimals written in CSV files (fixed, so output is byte-stable).
    public var decimals: Int
    public var measure: @Sendable (SimulationResult) -> Double

    public init(_ name: String, _ unit: CounterUnit, decimals: Int, _ summary: String, _ measure: @escaping @Sendable (SimulationResult) -> Double) {
        self.name = name; self.unit = unit; self.decimals = decimals; self.summary = summary; self.measure = measure
    }

    static func decimals<S>(_ c: OutputCounter<S>) -> Int {
        if case .decimals(let d) = c.format { return d }
        return 0
    }

    /// A host counter at the end of the run: `host.<name>`.
    public static func end(_ c: HostCounter) -> RunMetric {
        RunMetric("host." + c.name, c.unit, decimals: decimals(c), c.summary + ", at the end") { c.value(at: $0.hostState) }
    }

    /// The least value of a host level at any sample: `host.<name>.min`.
    public static func minimum(_ c: HostCounter) -> RunMetric {
        RunMetric("host.\(c.name).min", c.unit, decimals: decimals(c), "least \(c.summary) at any sample") { r in
            r.hostSamples.compactMap { $0[c] }.min() ?? c.value(at: r.hostState)
        }
    }

    /// The greatest value of a host level at any sample or at the end: `host.<name>.peak`.
    public static func peak(_ c: HostCounter) -> RunMetric {
        RunMetric("host.\(c.name).peak", c.unit, decimals: decimals(c), "most \(c.summary) at any sample") { r in
            max(c.value(at: r.hostState), r.hostSamples.compactMap { $0[c] }.max() ?? 0)
        }
    }

    /// A host event count per simulated second over the run: `host.<name>.rate`.
    public static func rate(_ c: HostCounter) -> RunMetric {
        RunMetric("host.\(c.name).rate", .perSecond, decimals: 1, "\(c.summary), per simulated second") { r in
            c.value(at: r.hostState) / max(1e-9, Double(r.simulatedNs) / 1e9)
        }
    }

    /// A guest counter summed over the guests: `guests.<path>.sum`.
    public static func sum(_ c: GuestCounter) -> RunMetric {
        let path = GuestCounters.catalog.entry(c).path
        return RunMetric("guests.\(path).sum", c.unit, decimals: decimals(c), "\(c.summary), all guests") { r in
            r.guests.reduce(0) { $0 + c.value(at: $1.state) }
        }
    }

    /// The largest value of a guest counter over the guests: `guests.<path>.max`.
    public static func maximum(_ c: GuestCounter, ifNone: Double) -> RunMetric {
        let path = GuestCounters.catalog.entry(c).path
        return RunMetric("guests.\(path).max", c.unit, decimals: decimals(c), "largest \(c.summary) of any guest") { r in
            r.guests.map { c.value(at: $0.state) }.max() ?? ifNone
        }
    }

    /// The least value of a guest counter over the guests: `guests.<path>.min`.
    public static func minimum(_ c: GuestCounter, ifNone: Double) -> RunMetric {
        let path = GuestCounters.catalog.entry(c).path
        return RunMetric("guests.\(path).min", c.unit, decimals: decimals(c), "least \(c.summary) of any guest") { r in
            r.guests.map { c.value(at: $0.state) }.min() ?? ifNone
        }
    }

    /// The mean of a guest counter over the guests: `guests.<path>.mean`.
    public static func mean(_ c: GuestCounter, ifNone: Double) -> RunMetric {
        let path = GuestCounters.catalog.entry(c).path
        return RunMetric("guests.\(path).mean", c.unit, decimals: decimals(c), "mean \(c.summary) over the guests") { r in
            r.guests.isEmpty ? ifNone : r.guests.reduce(0) { $0 + c.value(at: $1.state) } / Double(r.guests.count)
        }
    }
}

/// The metrics every sweep records per run, in column order, declared once each (the
/// properties; `all` enumerates them in declaration order, as the counter catalogs do).
///
/// Memory is in kB and times in seconds, as in every machine-readable output. "End" figures
/// are the host's view when the run stopped (vSphere's counters at that instant); "min" and
/// "peak" figures are over the samples taken every `sample_interval`.
public struct RunMetrics: Sendable {
    public static let handles = RunMetrics()
    /// Every metric, in column order.
    public static let all: [RunMetric] = Mirror(reflecting: handles).children.compactMap { $0.value as? RunMetric }

    public let freeMin = RunMetric.minimum(HostCounters.handles.free)
    public let freeEnd = RunMetric.end(HostCounters.handles.free)
    public let consumedEnd = RunMetric.end(HostCounters.handles.consumed)
    public let timeInHigh = RunMetric.end(HostCounters.handles.timeInHigh)
    public let timeInClear = RunMetric.end(HostCounters.handles.timeInClear)
    public let timeInSoft = RunMetric.end(HostCounters.handles.timeInSoft)
    public let timeInHard = RunMetric.end(HostCounters.handles.timeInHard)
    public let timeInLow = RunMetric.end(HostCounters.handles.timeInLow)
    public let lowLongest = RunMetric(
        "host.low_longest_s", .seconds, decimals: 3,
        "longest uninterrupted stretch in the low state (from host_state events)"
    ) { RunMetrics.longestLowStretch($0) }
    public let savedBySharing = RunMetric.end(HostCounters.handles.savedBySharing)
    public let ballooned = RunMetric.end(HostCounters.handles.ballooned)
    public let balloonedPeak = RunMetric.peak(HostCounters.handles.ballooned)
    public let compressed = RunMetric.end(HostCounters.handles.compressed)
    public let compressionSaved = RunMetric.end(HostCounters.handles.compressionSaved)
    public let hostSwapped = RunMetric.end(HostCounters.handles.hostSwapped)
    public let hostSwapInRate = RunMetric.rate(HostCounters.handles.hostSwapIns)
    public let largePagesBroken = RunMetric.end(HostCounters.handles.largePagesBroken)
    public let cowBreaks = RunMetric.end(HostCounters.handles.cowBreaks)
    public let guestSwapUsed = RunMetric.sum(GuestCounters.handles.swapUsed)
    public let guestSwapIns = RunMetric.sum(GuestCounters.handles.vmstat.pswpin)
    public let slowdownMax = RunMetric.maximum(GuestCounters.handles.slowdown, ifNone: 1)
    public let slowdownMean = RunMetric.mean(GuestCounters.handles.slowdown, ifNone: 1)
    public let oomKills = RunMetric.sum(GuestCounters.handles.vmstat.oomKill)
    public let refusedAllocations = RunMetric.sum(GuestCounters.handles.vmstat.refusedAllocations)
    public let failedVMs = RunMetric("guests.failed", .count, decimals: 0, "guests not powered on (admission control) or panicked") { r in
        Double(r.guests.filter { !$0.poweredOn || $0.panicked }.count)
    }
    public let outOfMemory = RunMetric.end(HostCounters.handles.outOfMemory)
    public let requestsRate = RunMetric.sum(GuestCounters.handles.throughput.requestsRate)
    public let transactionsRate = RunMetric.sum(GuestCounters.handles.throughput.transactionsRate)
    public let pagesSweptRate = RunMetric.sum(GuestCounters.handles.throughput.pagesSweptRate)
    public let referencesRate = RunMetric.sum(GuestCounters.handles.throughput.referencesRate)
    public let throughputRatioMin = RunMetric.minimum(GuestCounters.handles.throughputRatio, ifNone: 1)
    public let stealSum = RunMetric.sum(GuestCounters.handles.steal)
    public let stealMax = RunMetric.maximum(GuestCounters.handles.steal, ifNone: 0)
    public let hostWorkCPU = RunMetric.end(HostCounters.handles.hostWorkCPU)

    /// The metrics `overcommit sweep` prints per point on the console.
    public static let headline = [
        handles.freeMin, handles.savedBySharing, handles.ballooned, handles.hostSwapped, handles.slowdownMax,
        handles.timeInLow,
    ]

    /// A value of this metric for people: memory and times in human units, others with
    /// three significant digits.
    public static func human(_ m: RunMetric, _ v: Double) -> String {
        switch m.unit {
        case .kilobytes: HumanUnits.memory(kilobytes: v)
        case .seconds: HumanUnits.duration(seconds: v)
        default: m.decimals == 0 && v == v.rounded() && abs(v) < 1e15 ? "\(Int64(v))" : HumanUnits.significant(v)
        }
    }

    /// The metric named `name`.
    public static func named(_ name: String) -> RunMetric? { all.first { $0.name == name } }

    /// Every metric of one run, in `all` order.
    public static func values(_ r: SimulationResult) -> [Double] { all.map { $0.measure(r) } }

    /// The longest stretch between entering and leaving the low state (ESXi's state where
    /// the host swaps and blocks allocating VMs), read from the `host_state` events; a stretch
    /// still open at the end runs to the end of the run.
    public static func longestLowStretch(_ r: SimulationResult) -> Double {
        var enteredAt: Int64? = nil
        var longest: Int64 = 0
        for e in r.events where e.guest == nil && e.is(.hostState) {
            if e.field("to") == .text(HostMemoryState.low.rawValue) {
                if enteredAt == nil { enteredAt = e.timeNs }
            } else if let t = enteredAt {
                longest = max(longest, e.timeNs - t)
                enteredAt = nil
            }
        }
        if let t = enteredAt { longest = max(longest, r.simulatedNs - t) }
        return Double(longest) / 1e9
    }
}
