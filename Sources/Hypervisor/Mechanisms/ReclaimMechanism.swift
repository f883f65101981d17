import HostPolicies

/// A host memory-reclamation mechanism, after Linux's shrinker interface (`count_objects`,
/// `scan_objects`): asked how much it could free from one VM, then to free up to a given
/// number of pages, it does what it can now and says what it did.
///
/// One implementation per technique, one file each; `ReclaimTechnique.mechanism` is the
/// registry. Three drivers call them, each in `ReclaimTechnique` order (cheapest first, as
/// ESXi does: break large pages, share, balloon, compress, swap) and only the techniques the
/// host's free-memory state enables: the reclaim scheduler's period (breaking, then host
/// paging toward the share-based targets, and limits in any state); an allocation that must
/// wait (breaking, then host paging, synchronously); and the paced services, the sharing
/// scanner at its scan rate and the balloon policy at its interval. Mechanisms hold no
/// state: what they change belongs to the VM (through its methods) or to the host.
public protocol ReclaimMechanism: Sendable {
    /// The technique this mechanism implements (its name in `host.states` technique lists).
    var technique: ReclaimTechnique { get }
    /// One line naming the real system the mechanism follows.
    var summary: String { get }
    /// Pages the mechanism could free (or ask for) from `vm` now (`count_objects`); the
    /// drivers skip a VM for which it is 0.
    func count(_ vm: VirtualMachine, on host: HostMemory) -> Int
    /// Frees (or asks for) up to `control.nrToScan` pages of `control.vm` (`scan_objects`).
    func scan(_ control: HostReclaimControl, on host: HostMemory) -> ReclaimOutcome
}

/// One call of a host reclaim mechanism: which VM, how much, and what the caller allows
/// (Linux's `struct shrink_control` with `scan_control`'s `may_*` flags).
public struct HostReclaimControl {
    /// The VM to reclaim from.
    public let vm: VirtualMachine
    /// Pages to free, scan or ask for (`nr_to_scan`).
    public var nrToScan: Int
    /// Host paging may keep pages compressed (the state enables `compress`; for limits and
    /// allocation stalls, compression is configured).
    public var mayCompress = false
    /// Host paging may write pages to the swap file.
    public var maySwap = false
    /// Subpages of a broken large page may be shared at once (the state enables `share`).
    public var mayShare = false

    public init(vm: VirtualMachine, nrToScan: Int, mayCompress: Bool = false, maySwap: Bool = false, mayShare: Bool = false) {
        self.vm = vm
        self.nrToScan = nrToScan
        self.mayCompress = mayCompress
        self.maySwap = maySwap
        self.mayShare = mayShare
    }
}

/// What a reclamation mechanism did in one call (after Linux's shrinker results, which report
/// the objects scanned and freed).
public struct ReclaimOutcome: Sendable, Equatable {
    /// Pages looked at.
    public var scanned = 0
    /// Pages whose machine frame was released now (merged, compressed or swapped out; the
    /// compression cache may take some frames back for the bytes it keeps).
    public var reclaimed = 0
    /// Pages asked for that come later (balloon targets raised; the guest's driver inflates).
    public var requested = 0
    /// Pages written to the host swap file (an allocation that waits for them waits for the device).
    public var swapWrites = 0
    /// 2 MiB large pages broken into 4 KiB pages.
    public var largePagesBroken = 0

    public init() {}
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
