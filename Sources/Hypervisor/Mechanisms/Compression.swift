import HostPolicies

/// Memory compression alone (no swap): pages that compress below the threshold go to the
/// VM's compression cache; the others stay (ESX 4.1+ compression cache, zswap's accept rule).
/// Where swap is allowed too, compression is the first stage of `HostSwapping` instead.
public struct Compression: ReclaimMechanism {
    public init() {}
    public var technique: ReclaimTechnique { .compress }
    public var summary: String { "ESX memory compression: a page bound for swap is kept compressed if it fits below the threshold (LZ4)" }

    /// The VM's private pages.
    public func count(_ vm: VirtualMachine, on host: HostMemory) -> Int {
        host.config.compression.enabled ? vm.privatePages : 0
    }

    public func scan(_ control: HostReclaimControl, on host: HostMemory) -> ReclaimOutcome {
        guard host.config.compression.enabled && control.mayCompress else { return ReclaimOutcome() }
        return control.vm.pageOut(control.nrToScan, compress: true, swap: false)
    }
}
