import GuestKernel
import Hypervisor
import OvercommitSupport
import PolicyLanguage

/// One row of `timeseries.csv`: a guest's state at a sampling instant and its activity
/// during the interval that ended there.
public struct GuestSample: Sendable, Equatable {
    public var timeNs: Int64
    public var guest: String
    public var meminfo: Meminfo
    /// Machine frames backing the guest (consumed memory), in pages.
    public var hostConsumedPages: Int
    public var accesses: Int
    public var faults: Int
    public var majorFaults: Int
    public var swapIns: Int
    public var swapOuts: Int
    public var refaults: Int
    public var oomKills: Int
    public var refusedAllocations: Int
    /// Effective access time over the interval (ns), and slowdown = EAT / memory_access.
    public var eatNs: Double
    public var slowdown: Double
    public var processes: Int
    public var thrashing: Bool
    /// What backs the guest's memory on the host.
    public var host: VMHostSnapshot
    /// Host swap-ins (host-level major faults) during the interval.
    public var hostSwapIns: Int

    /// Column names of `timeseries.csv`, in order.
    public static let csvHeader = [
        "time_s", "guest", "mem_free_kb", "cached_kb", "anon_kb", "active_kb", "inactive_kb", "swap_used_kb",
        "swap_cached_kb", "committed_as_kb", "commit_limit_kb", "page_tables_kb", "mlocked_kb", "host_consumed_kb",
        "accesses", "faults", "major_faults", "swap_ins", "swap_outs", "refaults", "oom_kills", "refused_allocations",
        "eat_ns", "slowdown", "processes", "thrashing",
        "private_kb", "shared_kb", "zero_shared_kb", "ballooned_kb", "balloon_target_kb", "compressed_kb", "compressed_bytes",
        "host_swapped_kb", "large_page_untouched_kb", "active_estimated_kb", "active_true_kb", "host_swap_ins", "cow_breaks",
    ]

    public var csvFields: [String] {
        let m = meminfo
        return [
            formatFixed(Double(timeNs) / 1e9, 3), guest, "\(m.MemFree)", "\(m.Cached)", "\(m.AnonPages)", "\(m.Active)",
            "\(m.Inactive)", "\(m.SwapTotal - m.SwapFree)", "\(m.SwapCached)", "\(m.Committed_AS)", "\(m.CommitLimit)",
            "\(m.PageTables)", "\(m.Mlocked)", "\(hostConsumedPages * 4)", "\(accesses)", "\(faults)", "\(majorFaults)",
            "\(swapIns)", "\(swapOuts)", "\(refaults)", "\(oomKills)", "\(refusedAllocations)", formatFixed(eatNs, 1),
            formatFixed(slowdown, 4), "\(processes)", thrashing ? "1" : "0",
            "\(host.privateFrames * 4)", "\(host.shared * 4)", "\(host.zeroShared * 4)", "\(host.ballooned * 4)",
            "\(host.balloonTarget * 4)", "\(host.compressed * 4)", "\(host.compressedBytes)", "\(host.hostSwapped * 4)",
            "\(host.largePageUntouched * 4)", "\(host.activeEstimated * 4)", "\(host.activeTrue * 4)", "\(hostSwapIns)",
            "\(host.stats.cowBreaks)",
        ]
    }
}

/// The host at a sampling instant.
public struct HostSample: Sendable, Equatable {
    public var timeNs: Int64
    public var freePages: Int
    public var consumedPages: Int
    public var overheadPages: Int
    public var host: HostSnapshot
}

/// End-of-run figures for one guest.
public struct GuestSummary: Sendable {
    public var name: String
    public var configuredPages: Int
    public var vcpus: Int
    public var poweredOn: Bool
    public var panicked: Bool
    public var meminfo: Meminfo
    public var vmstat: VMStat
    public var hostConsumedPages: Int
    public var peakHostConsumedPages: Int
    public var host: VMHostSnapshot
    /// EAT over the whole run (ns) and slowdown against a run with no faults (EAT / ma).
    public var eatNs: Double
    public var slowdown: Double
    public var processes: [ProcessInfo]
    public var workloads: [(kind: String, stats: StatisticsBlock)]
    public var buddyinfo: [Int]
}

/// Everything a run produced, before it is written anywhere.
public struct SimulationResult: Sendable {
    public var config: ScenarioConfig
    public var simulatedNs: Int64
    /// Why the run stopped before `duration`, if it did.
    public var endedEarly: String?
    public var guests: [GuestSummary]
    public var samples: [GuestSample]
    public var hostSamples: [HostSample]
    public var events: [SimulationEvent]
    public var hostTotalPages: Int
    public var hostFreePages: Int
    public var hostConsumedPages: Int
    public var hostOverheadPages: Int
    public var hostHypervisorPages: Int
    public var hostOutOfMemory: Bool
    public var host: HostSnapshot
    /// Invariant and content-check problems found in `--check` mode (empty when clean).
    public var checkProblems: [String]
    /// Number of invariant checks run.
    public var checksRun: Int
    /// Whether the run was stopped on request (SIGINT, SIGTERM) before its duration: the
    /// outputs cover `simulatedNs` only; `endedEarly` says why and when.
    public var partial: Bool = false
    /// The run-time error of the host's policy program that stopped the run (then `partial`
    /// is true and `endedEarly` names the place), with the simulated time set.
    public var policyError: PolicyError? = nil
    /// Each evaluation of the host's policy program and what the host applied.
    public var policyEvaluations: [PolicyEvaluationRecord] = []
}
