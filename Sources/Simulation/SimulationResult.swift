import GuestKernel
import Hypervisor
import OvercommitSupport
import PolicyLanguage

/// One row of `timeseries.csv`: a guest's sampled counters at a sampling instant (levels)
/// and over the interval that ended there (event counts, EAT).
public struct GuestSample: Sendable, Equatable {
    public var timeNs: Int64
    public var guest: String
    /// The values of `GuestCounters.catalog.sampled`, in that order.
    public var values: [Double]

    /// The value of a sampled counter (nil for a counter that is not sampled).
    public subscript(_ c: GuestCounter) -> Double? { GuestCounters.catalog.sampledPosition(c).map { values[$0] } }
}

/// One row of `host_timeseries.csv`: the host's sampled counters at a sampling instant.
public struct HostSample: Sendable, Equatable {
    public var timeNs: Int64
    /// The values of `HostCounters.catalog.sampled`, in that order.
    public var values: [Double]
    /// On a host of several nodes, per node the values of `NodeCounters.catalog.sampled`
    /// (empty on a one-node host).
    public var nodeValues: [[Double]] = []

    /// The value of a sampled counter (nil for a counter that is not sampled).
    public subscript(_ c: HostCounter) -> Double? { HostCounters.catalog.sampledPosition(c).map { values[$0] } }
}

/// End-of-run figures for one guest: its counters' state, its process table, its
/// workloads' statistics and /proc/buddyinfo.
public struct GuestSummary: Sendable {
    public var name: String
    public var state: GuestState
    public var processes: [ProcessInfo]
    public var workloads: [(kind: String, stats: StatisticsBlock)]
    public var buddyinfo: [Int]
    /// Each node of a NUMA guest (empty for a guest of one node).
    public var nodes: [GuestNodeStats] = []

    public var configuredPages: Int { state.configuredPages }
    public var vcpus: Int { state.vcpus }
    public var poweredOn: Bool { state.poweredOn }
    public var panicked: Bool { state.panicked }
    public var meminfo: Meminfo { state.meminfo }
    public var vmstat: VMStat { state.vmstat }
    public var host: VMHostSnapshot { state.host }
    /// EAT over the whole run (ns) and slowdown against a run with no faults (EAT / ma).
    public var eatNs: Double { GuestCounters.handles.eat.value(at: state) }
    public var slowdown: Double { GuestCounters.handles.slowdown.value(at: state) }
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
    /// The CPU time of the host's background work and the steal time it cost the guests.
    public var hostCPU = HostCPUAccount()
}

extension SimulationResult {
    /// The host at the end of the run, as the host counters read it.
    public var hostState: HostState {
        var h = HostState(totalPages: hostTotalPages, hypervisorPages: hostHypervisorPages, outOfMemory: hostOutOfMemory, snapshot: host)
        h.cpu = hostCPU
        return h
    }
}
