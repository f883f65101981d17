import HostPolicies
import Hypervisor
import OvercommitSupport
import Simulation

/// A named scalar measured from one run: a column of `sweep.csv` and `runs.csv`, and what an
/// SLA term reads.
public struct RunMetric: Sendable {
    /// Column name, e.g. `host_free_min_mib`.
    public var name: String
    public var unit: String
    public var summary: String
    /// Decimals written in CSV files (fixed, so output is byte-stable).
    public var decimals: Int
    public var measure: @Sendable (SimulationResult) -> Double

    public init(_ name: String, _ unit: String, decimals: Int, _ summary: String, _ measure: @escaping @Sendable (SimulationResult) -> Double) {
        self.name = name; self.unit = unit; self.decimals = decimals; self.summary = summary; self.measure = measure
    }
}

/// The metrics every sweep records per run, in column order.
///
/// Memory figures are MiB (pages / 256). "End" figures are the host's view when the run
/// stopped (vSphere's counters at that instant); "peak"/"min" figures are over the samples
/// taken every `sample_interval`.
public enum RunMetrics {
    public static let all: [RunMetric] = [
        RunMetric("host_free_min_mib", "MiB", decimals: 1, "least free host memory at any sample") { r in
            (r.hostSamples.compactMap { $0[HostCounters.handles.free] }.min() ?? Double(r.hostFreePages * 4)) / 1024
        },
        RunMetric("host_free_end_mib", "MiB", decimals: 1, "free host memory at the end") { Double($0.hostFreePages) / 256 },
        RunMetric("host_consumed_end_mib", "MiB", decimals: 1, "machine memory backing guest pages at the end") { Double($0.hostConsumedPages) / 256 },
        RunMetric("time_high_s", "s", decimals: 3, "simulated time in ESXi's high state") { timeIn(.high, $0) },
        RunMetric("time_clear_s", "s", decimals: 3, "simulated time in the clear state") { timeIn(.clear, $0) },
        RunMetric("time_soft_s", "s", decimals: 3, "simulated time in the soft state") { timeIn(.soft, $0) },
        RunMetric("time_hard_s", "s", decimals: 3, "simulated time in the hard state") { timeIn(.hard, $0) },
        RunMetric("time_low_s", "s", decimals: 3, "simulated time in the low state") { timeIn(.low, $0) },
        RunMetric("low_longest_s", "s", decimals: 3, "longest uninterrupted stretch in the low state (from host_state events)") { longestLowStretch($0) },
        RunMetric("tps_saved_mib", "MiB", decimals: 1, "memory saved by page sharing at the end (KSM pages_sharing + zero pages)") { r in
            Double(r.host.pagesSharing + r.host.zeroPagesSharing) / 256
        },
        RunMetric("ballooned_mib", "MiB", decimals: 1, "memory held by balloon drivers at the end") { Double($0.host.ballooned) / 256 },
        RunMetric("ballooned_peak_mib", "MiB", decimals: 1, "most memory held by balloon drivers at any sample") { r in
            max(Double(r.host.ballooned * 4), r.hostSamples.compactMap { $0[HostCounters.handles.ballooned] }.max() ?? 0) / 1024
        },
        RunMetric("compressed_mib", "MiB", decimals: 1, "guest memory held compressed at the end") { Double($0.host.compressed) / 256 },
        RunMetric("compression_saved_mib", "MiB", decimals: 1, "compressed guest memory minus the cache frames holding it") { r in
            Double(r.host.compressed - r.host.cacheFrames) / 256
        },
        RunMetric("host_swapped_mib", "MiB", decimals: 1, "guest memory in host swap files at the end") { Double($0.host.hostSwapped) / 256 },
        RunMetric("host_swap_in_rate", "pages/s", decimals: 1, "host swap-ins per simulated second") { r in
            Double(r.host.hostSwapIns) / max(1e-9, Double(r.simulatedNs) / 1e9)
        },
        RunMetric("large_pages_broken", "count", decimals: 0, "2 MiB large pages broken into 4 KiB pages") { Double($0.host.largePagesBroken) },
        RunMetric("cow_breaks", "count", decimals: 0, "copy-on-write breaks of shared pages") { Double($0.host.cowBreaks) },
        RunMetric("guest_swap_used_mib", "MiB", decimals: 1, "guest swap in use at the end, all guests") { r in
            Double(r.guests.reduce(0) { $0 + $1.meminfo.SwapTotal - $1.meminfo.SwapFree }) / 1024
        },
        RunMetric("guest_swap_ins", "pages", decimals: 0, "pages read from guest swap, all guests") { r in
            Double(r.guests.reduce(0) { $0 + $1.vmstat.pswpin })
        },
        RunMetric("slowdown_max", "x", decimals: 4, "largest guest slowdown (EAT / memory access time)") { r in
            r.guests.map(\.slowdown).max() ?? 1
        },
        RunMetric("slowdown_mean", "x", decimals: 4, "mean guest slowdown") { r in
            r.guests.isEmpty ? 1 : r.guests.reduce(0) { $0 + $1.slowdown } / Double(r.guests.count)
        },
        RunMetric("oom_kills", "count", decimals: 0, "processes killed by guest OOM killers") { r in
            Double(r.guests.reduce(0) { $0 + $1.vmstat.oom_kill })
        },
        RunMetric("refused_allocations", "count", decimals: 0, "allocations refused by guest overcommit policies") { r in
            Double(r.guests.reduce(0) { $0 + $1.vmstat.refusedAllocations })
        },
        RunMetric("failed_vms", "count", decimals: 0, "guests not powered on (admission control) or panicked") { r in
            Double(r.guests.filter { !$0.poweredOn || $0.panicked }.count)
        },
        RunMetric("host_out_of_memory", "0/1", decimals: 0, "1 when the host ran out of memory") { $0.hostOutOfMemory ? 1 : 0 },
    ]

    /// The metric named `name`.
    public static func named(_ name: String) -> RunMetric? { all.first { $0.name == name } }

    /// Every metric of one run, in `all` order.
    public static func values(_ r: SimulationResult) -> [Double] { all.map { $0.measure(r) } }

    static func timeIn(_ s: HostMemoryState, _ r: SimulationResult) -> Double {
        Double(r.host.timeInStateNs[s.level]) / 1e9
    }

    /// The longest stretch between entering and leaving the low state (ESXi's state where
    /// the host swaps and blocks allocating VMs), read from the `host_state` events; a stretch
    /// still open at the end runs to the end of the run.
    public static func longestLowStretch(_ r: SimulationResult) -> Double {
        var enteredAt: Int64? = nil
        var longest: Int64 = 0
        for e in r.events where e.guest == nil && e.kind == "host_state" {
            let to = e.fields.first { $0.0 == "to" }?.1
            if to == HostMemoryState.low.rawValue {
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
