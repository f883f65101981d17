import OvercommitSupport
import Simulation

/// The service level a consolidated host must keep, term by term, as a capacity planner
/// writes it down: no guest OOM kill, no refused allocation, per-VM overcommit penalty at most X,
/// host swap-in rate at most Y, never in ESXi's low state for more than Z seconds. Every
/// VM must also power on (admission control) and the host must not run out of memory;
/// these two always apply.
public struct ServiceLevel: Sendable, Equatable {
    /// Largest overcommit penalty of any VM: its EAT against the EAT of the same VM on a host
    /// with memory to spare (the cost of overcommitment alone; a guest's own page-cache misses
    /// are not counted). Not `slowdown`, which compares EAT with a plain memory access.
    public var maxOvercommitPenalty: Double = 1.10
    /// Guest OOM kills allowed (0 in a strict SLA).
    public var maxOOMKills: Int = 0
    /// Allocations refused by guest overcommit policies allowed.
    public var maxRefusedAllocations: Int = 0
    /// Host swap-ins per simulated second, nil: not part of the SLA (still reported).
    public var maxHostSwapInRate: Double? = nil
    /// Longest uninterrupted stretch in the low state (seconds), nil: not part of the SLA.
    public var maxLowStateSeconds: Double? = nil
    /// Largest throughput loss of any VM, 1 - `throughput_ratio` (the share of its workloads'
    /// vCPU time lost to faults, reclaim and steal), nil: not part of the SLA.
    public var maxThroughputLoss: Double? = nil

    public init() {}

    /// The terms in the order they are checked and reported.
    public static let termNames = [
        "vms_running", "host_memory", "oom_kills", "refused_allocations", "overcommit_penalty", "host_swap_in_rate",
        "low_state", "throughput_loss",
    ]

    /// Checks every term on a run, given the baseline run of the same VMs on an unconstrained host.
    public func evaluate(_ r: SimulationResult, baseline: SimulationResult) -> [SLATerm] {
        var terms: [SLATerm] = []
        let failed = r.guests.filter { !$0.poweredOn || $0.panicked }
        terms.append(
            SLATerm(
                name: "vms_running", measured: Double(failed.count), limit: 0, unit: "VMs", checked: true,
                detail: failed.first.map { "\($0.name) \($0.poweredOn ? "panicked" : "not powered on (admission control)")" } ?? ""))
        terms.append(
            SLATerm(
                name: "host_memory", measured: r.hostOutOfMemory ? 1 : 0, limit: 0, unit: "host OOM", checked: true,
                detail: r.endedEarly ?? ""))
        let kills = r.guests.map { ($0.name, $0.vmstat.oom_kill) }
        let worstKill = kills.max { $0.1 < $1.1 }
        terms.append(
            SLATerm(
                name: "oom_kills", measured: Double(kills.reduce(0) { $0 + $1.1 }), limit: Double(maxOOMKills), unit: "kills", checked: true,
                detail: worstKill.flatMap { $0.1 > 0 ? "most in \($0.0)" : nil } ?? ""))
        let refused = r.guests.map { ($0.name, $0.vmstat.refusedAllocations) }
        let worstRefused = refused.max { $0.1 < $1.1 }
        terms.append(
            SLATerm(
                name: "refused_allocations", measured: Double(refused.reduce(0) { $0 + $1.1 }), limit: Double(maxRefusedAllocations),
                unit: "allocations", checked: true, detail: worstRefused.flatMap { $0.1 > 0 ? "most in \($0.0)" : nil } ?? ""))
        var worst: (String, Double) = ("", 1)
        for g in r.guests where g.poweredOn {
            guard let b = baseline.guests.first(where: { $0.name == g.name }), b.eatNs > 0 else { continue }
            let s = g.eatNs / b.eatNs
            if s > worst.1 || worst.0.isEmpty { worst = (g.name, s) }
        }
        terms.append(
            SLATerm(
                name: "overcommit_penalty", measured: worst.1, limit: maxOvercommitPenalty, unit: "x", checked: true,
                detail: worst.0.isEmpty ? "" : "worst \(worst.0)"))
        let rate = RunMetrics.handles.hostSwapInRate.measure(r)
        terms.append(
            SLATerm(
                name: "host_swap_in_rate", measured: rate, limit: maxHostSwapInRate ?? .infinity, unit: "pages/s",
                checked: maxHostSwapInRate != nil, detail: ""))
        terms.append(
            SLATerm(
                name: "low_state", measured: RunMetrics.longestLowStretch(r), limit: maxLowStateSeconds ?? .infinity,
                unit: "s", checked: maxLowStateSeconds != nil, detail: "longest stretch"))
        let ratio = GuestCounters.handles.throughputRatio
        let losses = r.guests.filter(\.poweredOn).map { ($0.name, 1 - ratio.value(at: $0.state)) }
        let worstLoss = losses.max { $0.1 < $1.1 }
        terms.append(
            SLATerm(
                name: "throughput_loss", measured: max(0, worstLoss?.1 ?? 0), limit: maxThroughputLoss ?? .infinity, unit: "of unstalled",
                checked: maxThroughputLoss != nil, detail: worstLoss.map { "worst \($0.0)" } ?? ""))
        return terms
    }

    /// One line describing the SLA, e.g. `no OOM kill, no refused allocation, overcommit_penalty <= 1.10, ...`.
    public var description: String {
        var parts = [
            "every VM runs", "no host OOM",
            maxOOMKills == 0 ? "no OOM kill" : "OOM kills <= \(maxOOMKills)",
            maxRefusedAllocations == 0 ? "no refused allocation" : "refused allocations <= \(maxRefusedAllocations)",
            "overcommit_penalty <= \(formatFixed(maxOvercommitPenalty, 2))",
        ]
        if let y = maxHostSwapInRate { parts.append("host swap-in rate <= \(formatFixed(y, 1)) pages/s") }
        if let z = maxLowStateSeconds { parts.append("low state <= \(formatFixed(z, 3)) s at a stretch") }
        if let l = maxThroughputLoss { parts.append("throughput loss <= \(formatFixed(l * 100, 1))%") }
        return parts.joined(separator: ", ")
    }
}

/// One SLA term measured on a run.
public struct SLATerm: Sendable, Equatable {
    public var name: String
    public var measured: Double
    public var limit: Double
    public var unit: String
    /// False for a term the SLA does not include (measured and shown only).
    public var checked: Bool
    /// Which VM, or why, when it helps (`worst web-3`).
    public var detail: String

    public var passed: Bool { !checked || measured <= limit }

    /// How far the measured value is under the limit (negative: over it); nil for a term the
    /// SLA does not check or has no finite limit for.
    public var margin: Double? { checked && limit.isFinite ? limit - measured : nil }

    /// `overcommit_penalty 1.234 > 1.100 x (worst web-3)`.
    public var description: String {
        func f(_ v: Double) -> String {
            v.isInfinite ? "none" : (v == v.rounded() && abs(v) < 1e12 ? "\(Int(v))" : formatFixed(v, 3))
        }
        let d = detail.isEmpty ? "" : " (\(detail))"
        guard checked else { return "\(name) \(f(measured)) \(unit)\(d), not checked" }
        return "\(name) \(f(measured)) \(passed ? "<=" : ">") \(f(limit)) \(unit)\(d)"
    }
}
