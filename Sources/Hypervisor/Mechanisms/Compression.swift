import HostPolicies

/// Memory compression alone (no swap): pages that compress below the threshold go to the
/// VM's compression cache; the others stay (ESX 4.1+ compression cache, zswap's accept rule).
public struct Compression: ReclaimMechanism {
    public init() {}
    public var technique: ReclaimTechnique { .compress }
    public var summary: String { "ESX memory compression: a page bound for swap is kept compressed if it fits below the threshold (LZ4)" }

    public func reclaim(_ pages: Int, from vm: VirtualMachine) -> ReclaimOutcome {
        guard vm.host.config.compression.enabled else { return .exhausted }
        let n = vm.reclaimByPaging(pages, compress: true, swap: false)
        return n > 0 ? .reclaimed(n) : .exhausted
    }
}
