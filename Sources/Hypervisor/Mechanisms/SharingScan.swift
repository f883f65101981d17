import HostPolicies

/// Transparent page sharing as a reclaim mechanism: scans `nrToScan` pages of the VM from
/// its cursor (`PageSharing`); the sharing scan scheduler calls it at the configured rate.
public struct SharingScan: ReclaimMechanism {
    public init() {}
    public var technique: ReclaimTechnique { .share }
    public var summary: String { "VMware TPS / Linux KSM: xxh3 hash, full byte comparison, copy-on-write shared frames" }

    /// The VM's private pages (each a candidate for a merge) on a host that has a scanner:
    /// sharing is enabled, or a policy program manages KSM and may start it.
    public func count(_ vm: VirtualMachine, on host: HostMemory) -> Int {
        host.config.sharing.enabled || host.config.policy.isProgram ? vm.privatePages : 0
    }

    /// `scanned` is the pages visited, `reclaimed` the frames merges freed. The caller (the
    /// sharing scan scheduler, or a test waking it by hand) decides whether ksmd runs: KSM's
    /// `run` tunable, the host state's techniques; the mechanism scans whenever called.
    public func scan(_ control: HostReclaimControl, on host: HostMemory) -> ReclaimOutcome {
        host.sharing.scan(control.vm, budget: control.nrToScan, on: host)
    }
}
