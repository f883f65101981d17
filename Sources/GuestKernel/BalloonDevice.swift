/// The balloon device a VM presents to its guest (virtio-balloon; VMware's vmmemctl talks to
/// its backdoor), as the guest's driver negotiated it at power-on.
public struct BalloonDevice: Sendable, Equatable {
    /// Pages the driver inflates or deflates per poll: its rate times its poll interval, at
    /// least one (vmw_balloon: 16384 pages per one-second cycle).
    public var pagesPerPoll: Int
    /// VIRTIO_BALLOON_F_DEFLATE_ON_OOM: the guest's OOM notifier releases 1 MiB of balloon
    /// instead of killing a process.
    public var deflateOnOOM: Bool
    /// VIRTIO_BALLOON_F_REPORTING (QEMU `free-page-reporting=on`): the guest's page_reporting
    /// hands free blocks to the host, which discards them; nil when not negotiated.
    public var freePageReporting: FreePageReporting?

    public init(pagesPerPoll: Int, deflateOnOOM: Bool, freePageReporting: FreePageReporting? = nil) {
        self.pagesPerPoll = max(1, pagesPerPoll)
        self.deflateOnOOM = deflateOnOOM
        self.freePageReporting = freePageReporting
    }
}

/// The parameters of Linux's free page reporting (mm/page_reporting.c) as the virtio-balloon
/// driver registers it (drivers/virtio/virtio_balloon.c).
public struct FreePageReporting: Sendable, Equatable {
    /// Lowest order reported (`page_reporting_order`; default `pageblock_order`, 9 on
    /// x86-64: 2 MiB blocks).
    public var order: Int
    /// Nanoseconds between a free of that order and the pass that reports it
    /// (PAGE_REPORTING_DELAY, 2 s).
    public var delayNs: Int64
    /// Most blocks per report request (PAGE_REPORTING_CAPACITY, 32: the scatterlist the
    /// driver puts on the reporting virtqueue).
    public var capacity: Int

    public init(order: Int = 9, delayNs: Int64 = 2_000_000_000, capacity: Int = 32) {
        precondition(order >= 0 && order <= BuddyAllocator.maxOrder, "reporting order \(order) out of 0...\(BuddyAllocator.maxOrder)")
        self.order = order
        self.delayNs = max(0, delayNs)
        self.capacity = max(1, capacity)
    }
}
