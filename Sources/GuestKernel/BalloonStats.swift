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
