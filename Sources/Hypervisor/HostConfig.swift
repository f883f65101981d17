import HostPolicies
import OvercommitSupport

/// The physical host: its RAM, what the hypervisor keeps, and how it overcommits memory.
///
/// Follows ESXi's host model: machine memory backs guest-physical memory lazily, on the
/// first touch of each guest page (2 MiB large pages by default); each powered-on VM costs a
/// fixed overhead; page sharing, ballooning, compression and host swap are coordinated by the
/// reclaim scheduler's free-memory states.
public struct HostConfig: ParameterTable, Equatable {
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
    public var balloon_policy: BalloonPolicySpec = BalloonPolicyKind.esx.defaultSpec

    public init() {}

    public static let tableName = "host"
    public static let tableSummary = "The physical host: machine memory, hypervisor overhead and the memory-overcommit techniques (ESXi-like)."
    public static var parameters: [ParameterInfo] { [
        .init("name", .string, default: "host", "host name shown in reports"),
        .init("memory", .bytes, default: "64GiB", "machine memory (RAM) of the host"),
        .init("hypervisor_reserved", .bytes, default: "512MiB", "memory the hypervisor keeps for itself"),
        .init("vm_overhead", .bytes, default: "64MiB", "per-VM overhead memory reserved at power-on"),
        .init("large_pages", .bool, default: "true", "back guest memory with 2 MiB pages while in the high state (ESXi default); never shared"),
        .init("sharing", .table(SharingConfig.self), default: "", "transparent page sharing (TPS / KSM)"),
        .init("compression", .table(CompressionConfig.self), default: "", "compression cache for pages bound to host swap"),
        .init("swap", .table(HostSwapConfig.self), default: "", "host swap files (one per VM)"),
        .init("states", .table(HostStateConfig.self), default: "", "free-memory states (thresholds in percent of minFree) and their techniques"),
        .init("scheduler", .table(SchedulerConfig.self), default: "", "the reclaim scheduler: period, idle memory tax, rates"),
        .init("active_sampling", .table(ActiveMemoryEstimatorConfig.self), default: "", "statistical active-memory estimation"),
        .init("balloon_policy", BalloonPolicySpec.parameterKind, default: "esx", "the balloon policy setting each VM's balloon target"),
    ] }

    enum CodingKeys: String, CodingKey {
        case name, memory, hypervisor_reserved, vm_overhead, large_pages, sharing, compression, swap, states, scheduler, active_sampling, balloon_policy
    }

    public init(from decoder: Decoder) throws {
        let d = try ParameterDecoder(decoder)
        var h = HostConfig()
        try d.get("name", &h.name); try d.get("memory", &h.memory)
        try d.get("hypervisor_reserved", &h.hypervisor_reserved); try d.get("vm_overhead", &h.vm_overhead)
        try d.get("large_pages", &h.large_pages); try d.get("sharing", &h.sharing)
        try d.get("compression", &h.compression); try d.get("swap", &h.swap)
        try d.get("states", &h.states); try d.get("scheduler", &h.scheduler)
        try d.get("active_sampling", &h.active_sampling); try d.get("balloon_policy", &h.balloon_policy)
        self = h
    }

    public func encode(to encoder: Encoder) throws {
        var e = ParameterEncoder(encoder)
        try e.set("name", name); try e.set("memory", memory)
        try e.set("hypervisor_reserved", hypervisor_reserved); try e.set("vm_overhead", vm_overhead)
        try e.set("large_pages", large_pages); try e.set("sharing", sharing)
        try e.set("compression", compression); try e.set("swap", swap)
        try e.set("states", states); try e.set("scheduler", scheduler)
        try e.set("active_sampling", active_sampling); try e.set("balloon_policy", balloon_policy)
    }

    public func validationProblems() -> [(key: String, message: String)] {
        var p: [(String, String)] = []
        if memory.bytes < 64 << 20 { p.append(("memory", "must be at least 64MiB; got \(memory)")) }
        if memory.bytes > 1 << 42 { p.append(("memory", "must be at most 4TiB; got \(memory)")) }
        if hypervisor_reserved >= memory { p.append(("hypervisor_reserved", "must be smaller than host memory (\(memory)); got \(hypervisor_reserved)")) }
        if hypervisor_reserved.pages < 1 { p.append(("hypervisor_reserved", "must be at least one page (it holds the host zero frame); got \(hypervisor_reserved)")) }
        for (k, m) in sharing.validationProblems() { p.append(("sharing.\(k)", m)) }
        for (k, m) in compression.validationProblems() { p.append(("compression.\(k)", m)) }
        for (k, m) in swap.validationProblems() { p.append(("swap.\(k)", m)) }
        for (k, m) in states.validationProblems() { p.append(("states.\(k)", m)) }
        for (k, m) in scheduler.validationProblems() { p.append(("scheduler.\(k)", m)) }
        for (k, m) in active_sampling.validationProblems() { p.append(("active_sampling.\(k)", m)) }
        for (k, m) in balloon_policy.validationProblems() { p.append(("balloon_policy.\(k)", m)) }
        return p
    }
}

/// The reclaim scheduler's own settings (ESXi's memory scheduler, Waldspurger's allocation).
public struct SchedulerConfig: ParameterTable, Equatable {
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
    public static let parameters: [ParameterInfo] = [
        .init("interval", .duration, default: "100ms", "how often the state, the reclaim targets and host paging are re-evaluated"),
        .init("idle_memory_tax", .percent, default: "75%", "ESX Mem.IdleTax tau: idle pages cost k = 1/(1-tau) times an active one"),
        .init("break_batch", .int, default: "64", "large pages broken per VM per run while breaking is enabled"),
        .init("reclaim_rate", .bytes, default: "512MiB", "bytes per second the host can compress or swap out, all VMs together"),
    ]

    enum CodingKeys: String, CodingKey { case interval, idle_memory_tax, break_batch, reclaim_rate }
    public init(from decoder: Decoder) throws {
        let d = try ParameterDecoder(decoder)
        var s = SchedulerConfig()
        try d.get("interval", &s.interval); try d.get("idle_memory_tax", &s.idle_memory_tax)
        try d.get("break_batch", &s.break_batch); try d.get("reclaim_rate", &s.reclaim_rate)
        self = s
    }
    public func encode(to encoder: Encoder) throws {
        var e = ParameterEncoder(encoder)
        try e.set("interval", interval); try e.set("idle_memory_tax", idle_memory_tax)
        try e.set("break_batch", break_batch); try e.set("reclaim_rate", reclaim_rate)
    }

    public func validationProblems() -> [(key: String, message: String)] {
        var p: [(String, String)] = []
        if interval.nanoseconds < 1_000_000 { p.append(("interval", "must be at least 1ms; got \(interval)")) }
        if !(idle_memory_tax.fraction >= 0 && idle_memory_tax.fraction <= 0.99) { p.append(("idle_memory_tax", "must be between 0% and 99% (ESX allows 0-99); got \(idle_memory_tax)")) }
        if !(1...100_000).contains(break_batch) { p.append(("break_batch", "must be between 1 and 100000; got \(break_batch)")) }
        if reclaim_rate.bytes < 4096 { p.append(("reclaim_rate", "must be at least one page per second; got \(reclaim_rate)")) }
        return p
    }
}
