/// The hypervisor side of guest-physical memory, as the guest's hardware sees it: the
/// guest→host half of the boundary (the host→guest half is `GuestPhysicalMemory`).
///
/// A guest access to a frame whose second-level translation (EPT/NPT entry) is missing or
/// read-only traps to the host. The kernel keeps the per-frame EPT permission bits it was
/// given (`GuestKernel.ept`) so that accesses with a valid translation never leave the guest.
/// The balloon driver talks to its device through the same object.
public protocol GuestPhysicalBacking: AnyObject {
    /// An EPT violation on `pfn`; the host maps it (allocating, copying a shared page,
    /// decompressing or swapping in) and returns the simulated nanoseconds that took.
    /// `reason` says what the guest was doing (the host uses it only to count double paging).
    func eptViolation(pfn: PFN, write: Bool, reason: GuestAccessReason) -> Int64
    /// The balloon driver pinned `pfn` and told the host (VMware's "lock page", virtio-balloon's
    /// inflate queue): the host may drop whatever backs it.
    func balloonInflated(pfn: PFN)
    /// The balloon driver gave `pfn` back to the guest (deflate); the host backs it again on the
    /// next touch.
    func balloonDeflated(pfn: PFN)
    /// Free page reporting handed the free block of 2^order frames at `pfn` to the host
    /// (virtio-balloon's reporting virtqueue): the host discards what backs it (QEMU:
    /// MADV_DONTNEED), so the guest reads zeroes there and the next touch backs it again.
    func freePagesReported(pfn: PFN, order: Int)
    /// The balloon size the host asks for, in pages, as the driver reads it at each poll
    /// (virtio-balloon's `num_pages` configuration field; vmmemctl's GET_TARGET).
    var balloonTargetPages: Int { get }
}
