import HostPolicies

/// A host memory-reclamation mechanism, after Linux's shrinker interface: asked to free
/// pages from one VM, it does what it can now and says what it did.
///
/// One implementation per technique (one file each); the reclaim scheduler calls those its
/// free-memory state enables, in `ReclaimTechnique` order (cheapest first, as ESXi does:
/// break large pages, share, balloon, compress, swap).
public protocol ReclaimMechanism: Sendable {
    /// The technique this mechanism implements (its name in `host.states` technique lists).
    var technique: ReclaimTechnique { get }
    /// One line naming the real system the mechanism follows.
    var summary: String { get }
    /// Frees up to `pages` machine frames backing `vm`, or asks for them.
    func reclaim(_ pages: Int, from vm: VirtualMachine) -> ReclaimOutcome
}

extension ReclaimTechnique {
    /// The mechanism behind the technique (nil for `block`, which stalls allocations instead).
    public var mechanism: (any ReclaimMechanism)? {
        switch self {
        case .break_large_pages: LargePageBreaking()
        case .share: SharingScan()
        case .balloon: BalloonRequest()
        case .compress: Compression()
        case .swap: HostSwapping()
        case .block: nil
        }
    }

    /// One line for `overcommit policies` and the documentation.
    public var summary: String {
        mechanism?.summary ?? "ESXi low state: a VM that needs a new machine frame waits while the host reclaims synchronously"
    }
}
