/// What a guest's balloon driver reports about its memory, in pages (virtio-balloon's stats
/// virtqueue: VIRTIO_BALLOON_S_MEMFREE and VIRTIO_BALLOON_S_AVAIL; VMware Tools report the
/// same figures).
public struct BalloonStats: Sendable, Equatable {
    /// /proc/meminfo MemFree.
    public var freePages: Int
    /// /proc/meminfo MemAvailable.
    public var availablePages: Int

    public init(freePages: Int, availablePages: Int) {
        self.freePages = freePages
        self.availablePages = availablePages
    }
}

/// One answer on virtio-balloon's stats virtqueue: the figures the guest's driver gathered
/// (`update_balloon_stats`: si_meminfo, all_vm_events, si_mem_available) when the host last
/// polled it (QEMU `guest-stats-polling-interval`, libvirt `<stats period='N'/>`). The
/// VIRTIO_BALLOON_S_* fields are derived from /proc/meminfo and /proc/vmstat, kept whole here.
public struct GuestStatsReport: Sendable, Equatable {
    /// When the guest answered (simulated nanoseconds).
    public var timeNs: Int64
    public var meminfo: Meminfo
    public var vmstat: VMStat

    public init(timeNs: Int64, meminfo: Meminfo, vmstat: VMStat) {
        self.timeNs = timeNs
        self.meminfo = meminfo
        self.vmstat = vmstat
    }

    /// VIRTIO_BALLOON_S_MEMFREE and VIRTIO_BALLOON_S_AVAIL, in pages.
    public var balloonStats: BalloonStats { BalloonStats(freePages: meminfo.MemFree / 4, availablePages: meminfo.MemAvailable / 4) }
}
