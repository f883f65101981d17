import OvercommitSupport

/// How the CPU time of the host's own background work reaches the guests.
///
/// `none` (the default): the host's work is counted (`host.host_work_cpu_s`) but costs the
/// guests nothing, as if the host had CPUs to spare; every scenario written before this
/// table gives the same figures. `steal`: the work that does not fit on the cores the guests'
/// vCPUs leave idle is taken from the vCPUs, as KVM reports it to a guest through the steal
/// time MSR (`MSR_KVM_STEAL_TIME`, the `steal` column of the guest's /proc/stat).
public enum HostWorkCharge: String, Codable, Sendable, CaseIterable {
    case none, steal
}

extension HostWorkCharge: ParameterChoice {
    public static var choiceNoun: String { "host work charge" }
}

/// The host's CPU as the guests feel it: whether the CPU time of the host's background work
/// (the sharing scanner, compression and swap-out done by host paging, balloon page handling)
/// is stolen from the guests' vCPUs, and what the work without a `costs` key costs.
///
/// Follows KVM's steal time: a vCPU thread that is runnable while a host thread (ksmd,
/// kswapd, QEMU's balloon handler) runs on its CPU waits on the run queue, and that wait
/// (`sched_info.run_delay`) is what KVM's `record_steal_time()` writes into the guest's
/// `kvm_steal_time` area and the guest's `steal_account_process_time()`
/// (kernel/sched/cputime.c) accounts as steal. The host work fills the cores the vCPUs leave
/// idle first (`host.cpus` minus the runnable vCPUs); what is left is spread over the runnable
/// vCPUs evenly, as CFS shares a busy CPU. See docs/cost-model.md, "Host CPU and steal time".
public struct HostCPUConfig: ParameterTable {
    /// Whether the host's background work is taken from the guests' vCPUs.
    public var charge_host_work: HostWorkCharge = .none
    /// Host CPU per page written to a host swap file (reclaim bookkeeping, unmapping,
    /// block I/O submission); the device's latency is not CPU time.
    public var swap_out: SimDuration = .us(2)
    /// Host CPU per page the balloon inflates or deflates (the VMM's handler: dropping or
    /// re-enabling the page's backing, MADV_DONTNEED in QEMU's virtio-balloon).
    public var balloon_page: SimDuration = .us(1)

    public init() {}

    public static let tableName = "host.cpu"
    public static let tableSummary =
        "The host's CPU as the guests feel it: the CPU time of the host's background work (sharing scanner, host paging, balloon handling) charged to the guests' vCPUs as steal time (KVM's steal time, /proc/stat steal), or not at all."
    public static let fields: [ParameterField<Self>] = [
        .init(
            \.charge_host_work, "charge_host_work",
            "none: the host's background work is counted but free; steal: what does not fit on the cores the vCPUs leave idle (host.cpus) is taken from the runnable vCPUs as steal time"
        ),
        .init(\.swap_out, "swap_out", "host CPU per page written to a host swap file (reclaim, unmap, I/O submission)", .cost),
        .init(\.balloon_page, "balloon_page", "host CPU per page a balloon inflates or deflates (the VMM drops or restores its backing)", .cost),
    ]
}
