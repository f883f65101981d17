/// The balloon device a VM presents to its guest (virtio-balloon; VMware's vmmemctl talks to
/// its backdoor), as the guest's driver negotiated it at power-on.
public struct BalloonDevice: Sendable, Equatable {
    /// Pages the driver inflates or deflates per poll: its rate times its poll interval, at
    /// least one (vmw_balloon: 16384 pages per one-second cycle).
    public var pagesPerPoll: Int
    /// VIRTIO_BALLOON_F_DEFLATE_ON_OOM: the guest's OOM notifier releases 1 MiB of balloon
    /// instead of killing a process.
    public var deflateOnOOM: Bool

    public init(pagesPerPoll: Int, deflateOnOOM: Bool) {
        self.pagesPerPoll = max(1, pagesPerPoll)
        self.deflateOnOOM = deflateOnOOM
    }
}
