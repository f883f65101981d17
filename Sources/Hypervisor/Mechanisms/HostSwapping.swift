import HostPolicies

/// Host swap: victims (random, as ESX, or by EPT accessed bits) go to the VM's swap file;
/// when compression is allowed too each is first offered to the compression cache.
public struct HostSwapping: ReclaimMechanism {
    public init() {}
    public var technique: ReclaimTechnique { .swap }
    public var summary: String { "ESX host swap (.vswp per VM): random victims, compressed first when compression is on; double paging counted" }

    /// The VM's private pages.
    public func count(_ vm: VirtualMachine, on host: HostMemory) -> Int {
        host.config.swap.enabled ? vm.privatePages : 0
    }

    public func scan(_ control: HostReclaimControl, on host: HostMemory) -> ReclaimOutcome {
        guard host.config.swap.enabled && control.maySwap else { return ReclaimOutcome() }
        let compress = host.config.compression.enabled && control.mayCompress
        return control.vm.pageOut(control.nrToScan, compress: compress, swap: true)
    }
}
