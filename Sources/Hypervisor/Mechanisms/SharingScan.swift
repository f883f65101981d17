import HostPolicies

/// Transparent page sharing as a reclaim mechanism: scans `pages` of the VM at once (the
/// periodic scanner, `PageSharing`, does the same at its configured rate).
public struct SharingScan: ReclaimMechanism {
    public init() {}
    public var technique: ReclaimTechnique { .share }
    public var summary: String { "VMware TPS / Linux KSM: xxh3 hash, full byte comparison, copy-on-write shared frames" }

    public func reclaim(_ pages: Int, from vm: VirtualMachine) -> ReclaimOutcome {
        guard vm.host.config.sharing.enabled else { return .exhausted }
        let before = vm.privatePages
        _ = vm.host.sharing.scan(vm, budget: pages)
        return .reclaimed(max(0, before - vm.privatePages))
    }
}
