import HostPolicies

/// Host swap: victims (random, as ESX, or by EPT accessed bits) go to the VM's swap file;
/// when compression is enabled in the state each is first offered to the compression cache.
public struct HostSwapping: ReclaimMechanism {
    public init() {}
    public var technique: ReclaimTechnique { .swap }
    public var summary: String { "ESX host swap (.vswp per VM): random victims, compressed first when compression is on; double paging counted" }

    public func reclaim(_ pages: Int, from vm: VirtualMachine) -> ReclaimOutcome {
        let host = vm.host
        guard host.config.swap.enabled else { return .exhausted }
        let compress = host.config.compression.enabled && host.scheduler.machine.isEnabled(.compress)
        let n = vm.reclaimByPaging(pages, compress: compress, swap: true)
        return n > 0 ? .reclaimed(n) : .exhausted
    }
}
