import HostPolicies
import OvercommitSupport

/// The physical host: its RAM, what the hypervisor keeps, and how it overcommits memory.
///
/// Follows ESXi's host model: machine memory backs guest-physical memory lazily, on the
/// first touch of each guest page (2 MiB large pages by default); each powered-on VM costs a
/// fixed overhead; page sharing, ballooning, compression and host swap are coordinated by the
/// reclaim scheduler's free-memory states.
public struct HostConfig: ParameterTable {
    /// Host name shown in reports.
    public var name: String = "host"
    /// Machine memory (RAM) of the host.
    public var memory: ByteCount = .gib(64)
    /// Memory the hypervisor itself uses (vmkernel), not available to guests.
    public var hypervisor_reserved: ByteCount = .mib(512)
    /// Per-VM overhead memory (page tables, device state, frame buffer), reserved at power-on.
    public var vm_overhead: ByteCount = .mib(64)
    /// Back guest memory with 2 MiB large pages while the host is in the high state (ESXi default).
    public var large_pages: Bool = true
    /// NUMA nodes and the home-node placement of VMs.
    public var numa: NUMAConfig = NUMAConfig()
    /// Transparent page sharing.
    public var sharing: SharingConfig = SharingConfig()
    /// Compression cache.
    public var compression: CompressionConfig = CompressionConfig()
    /// Host swap files.
    public var swap: HostSwapConfig = HostSwapConfig()
    /// Free-memory states and the techniques each enables.
    public var states: HostStateConfig = HostStateConfig()
    /// The reclaim scheduler.
    public var scheduler: SchedulerConfig = SchedulerConfig()
    /// Active-memory sampling.
    public var active_sampling: ActiveMemoryEstimatorConfig = ActiveMemoryEstimatorConfig()
    /// The balloon policy setting each VM's balloon target.
    public var balloon_policy = BalloonPolicySpec()
    /// A policy program (MOM policy files) managing balloons and KSM instead.
    public var policy = HostPolicyConfig()
    /// Logical processors of the host (MOM's `Host.cpu_count`), shared by the guests' vCPUs
    /// and the host's own threads (`cpu`).
    public var cpus: Int = 32
    /// The host's CPU as the guests feel it: steal time from the host's own work.
    public var cpu = HostCPUConfig()

    public init() {}

    public static let tableName = "host"
    public static let tableSummary = "The physical host: machine memory, hypervisor overhead and the memory-overcommit techniques (ESXi-like)."
    public static let fields: [ParameterField<Self>] = [
        .init(\.name, "name", "host name shown in reports"),
        .init(\.memory, "memory", "machine memory (RAM) of the host", .range(.mib(64)...ByteCount.largestHost)),
        .init(
            \.hypervisor_reserved, "hypervisor_reserved", "memory the hypervisor keeps for itself",
            .range(.kib(4)...ByteCount.largestHost, because: "at least the page holding the host zero frame")),
        .init(\.vm_overhead, "vm_overhead", "per-VM overhead memory reserved at power-on", .upToLargestHost),
        .init(\.large_pages, "large_pages", "back guest memory with 2 MiB pages while in the high state (ESXi default); never shared"),
        .init(\.numa, "numa", "NUMA nodes of the host, their sizes and how VMs get a home node"),
        .init(\.sharing, "sharing", "transparent page sharing (TPS / KSM)"),
        .init(\.compression, "compression", "compression cache for pages bound to host swap"),
        .init(\.swap, "swap", "host swap files (one per VM)"),
        .init(\.states, "states", "free-memory states (thresholds in percent of minFree) and their techniques"),
        .init(\.scheduler, "scheduler", "the reclaim scheduler: period, idle memory tax, rates"),
        .init(\.active_sampling, "active_sampling", "statistical active-memory estimation"),
        .init(\.balloon_policy, "balloon_policy", "the balloon policy setting each VM's balloon target (not run when `policy` runs a program)"),
        .init(\.policy, "policy", "a policy program (oVirt MOM policy files) setting balloon targets and KSM tunables in place of balloon_policy"),
        .init(
            \.cpus, "cpus", "logical processors of the host, as MOM's Host.cpu_count reports them; the vCPUs and the host's own work share them (cpu)",
            .range(1...4096), unit: "CPUs"),
        .init(\.cpu, "cpu", "the host's background work charged to the guests' vCPUs as steal time, or not"),
    ]

    public func consistencyProblems() -> [ParameterProblem] {
        var p: [ParameterProblem] = []
        if hypervisor_reserved >= memory {
            p.append(("hypervisor_reserved", "must be smaller than host memory (\(memory)); got \(hypervisor_reserved)"))
        }
        for (k, m) in numa.problems(hostMemory: memory) { p.append(("numa." + k, m)) }
        if policy.isProgram {
            let kind = balloon_policy.kindName
            if kind != BalloonPolicyRegistry.defaultPolicy.kindName && kind != NoBalloonParameters.kindName {
                p.append(
                    (
                        "balloon_policy",
                        "the policy program (policy.kind \(policy.kind.rawValue)) sets the balloon targets in place of balloon policy '\(kind)': use one or the other"
                    ))
            }
            if sharing.usesESXRates {
                p.append(
                    (
                        "sharing",
                        "the policy program drives KSM's pages_to_scan and sleep_millisecs: use KSM's vocabulary, not the ESX rates (scan_rate_per_vm, scan_rate_total, share_scan_time)"
                    ))
            }
        }
        return p
    }
}

/// The reclaim scheduler's own settings (ESXi's memory scheduler, Waldspurger's allocation).
public struct SchedulerConfig: ParameterTable {
    /// How often the scheduler re-evaluates the state, targets and reclamation.
    public var interval: SimDuration = .ms(100)
    /// Idle memory tax (ESX Mem.IdleTax): share of idle memory that may be taken from a VM.
    public var idle_memory_tax: Percentage = Percentage(percent: 75)
    /// Large pages broken per VM per run in states that break them.
    public var break_batch: Int = 64
    /// Pages compressed or swapped out per second, all VMs together (the swap device's
    /// write throughput bounds it).
    public var reclaim_rate: ByteCount = .mib(512)

    public init() {}

    public static let tableName = "host.scheduler"
    public static let tableSummary = "The reclaim scheduler: period, idle memory tax (Waldspurger 2002), large-page breaking and paging rates."
    public static let fields: [ParameterField<Self>] = [
        .init(\.interval, "interval", "how often the state, the reclaim targets and host paging are re-evaluated", .period),
        .init(
            \.idle_memory_tax, "idle_memory_tax", "ESX Mem.IdleTax tau: idle pages cost k = 1/(1-tau) times an active one",
            .range(.percent(0) ... .percent(99), because: "ESX allows 0-99")),
        .init(
            \.break_batch, "break_batch", "large pages broken per VM per run while breaking is enabled",
            .range(1...100_000), unit: "large pages"),
        .init(
            \.reclaim_rate, "reclaim_rate", "bytes per second the host can compress or swap out, all VMs together",
            .atLeastOnePage, unit: "per second"),
    ]
}
