/// Per-VM settings the host enforces (ESX `sched.mem.min`, `sched.mem.max`,
/// `sched.mem.shares`, `sched.mem.pshare.salt`).
public struct VMResourceSettings: Sendable, Equatable {
    /// Machine memory guaranteed to the VM (admission control reserves it at power-on).
    public var reservationPages = 0
    /// Most machine memory the VM may consume (Int.max: unlimited).
    public var limitPages = Int.max
    /// Proportional-share weight.
    public var shares: Double = 0
    /// Salt of page hashes (nil: decided by `salting`).
    public var pshareSalt: String? = nil
    /// Host balloon driver settings: whether the guest has one, its cap, DEFLATE_ON_OOM.
    public var balloonDriver = true
    public var balloonMaxPages = 0
    public var balloonDeflateOnOOM = false
    /// The NUMA node the VM's memory comes from first (nil: the host's placement decides;
    /// ESX numa.nodeAffinity with one node).
    public var numaHomeNode: Int? = nil
    /// A VM spanning nodes presents them to its guest (vNUMA).
    public var virtualNUMA = true
    public init() {}
}
