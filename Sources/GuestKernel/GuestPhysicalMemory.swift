import PageContents

/// A guest as its host sees it: the host→guest half of the boundary (the guest→host half is
/// `GuestPhysicalBacking`).
///
/// A real hypervisor reaches a guest only through the VM's memory and virtual devices: the
/// second-level page tables (EPT/NPT) it keeps for the guest's frames, the bytes in those
/// frames, and devices such as the balloon. The hypervisor model reaches its guests only
/// through this protocol, never through the guest kernel's own API.
public protocol GuestPhysicalMemory: AnyObject {
    /// Frames of guest-physical memory the VM was configured with.
    var totalPages: Int { get }

    // MARK: EPT

    /// The EPT entry of every frame (bits 0-1 the permissions the host granted, bit 2 the
    /// accessed bit the hardware sets). Read it once per loop over frames.
    var ept: EPTEntries { get }
    /// Grants or revokes permissions on `pfn` (0 none, 1 read, 3 read/write); revoking
    /// invalidates the guest's cached translations of the frame (INVEPT).
    func setEPT(_ pfn: PFN, _ bits: UInt8)
    /// Reads and clears the accessed bit of `pfn` (active-memory sampling, accessed-bit victim
    /// selection).
    func testAndClearEPTAccessed(_ pfn: PFN) -> Bool
    /// Reads and clears the accessed bit of every frame at once, and invalidates every cached
    /// translation (ESX's true count of the pages touched in a sampling period); returns how
    /// many bits were set. The same as `testAndClearEPTAccessed` on each frame.
    func testAndClearAllEPTAccessed() -> Int
    /// The VM's virtual NUMA layout, at power-on on a host of several nodes: `hostNodes[v]`
    /// backs virtual node `v` of `framesPerNode` frames (the SRAT the guest reads).
    func setNUMANodes(framesPerNode: Int, hostNodes: [Int])
    /// Tells the guest which host node backs `pfn` now (nil: none, or read from every node's
    /// caches): accesses from processes of other nodes pay the remote-access cost.
    func setHostNode(_ pfn: PFN, _ node: Int?)
    /// Accesses that paid the remote-access cost, and the time they added.
    var numaRemoteAccesses: (count: Int, ns: Int64) { get }

    // MARK: Frame contents

    /// What frame `pfn` holds (the host produces the bytes from it).
    func content(of pfn: PFN) -> PageContent
    /// Takes the contents out of the frame (host swap-out, compression), leaving a marker
    /// that content verification catches if the guest reads the frame before they are back.
    func hostTakeContent(_ pfn: PFN) -> PageContent
    /// Puts contents back into the frame (host swap-in, decompression) or fills a frame the
    /// host backed for the first time (`.zero`).
    func hostPutContent(_ pfn: PFN, _ c: PageContent)

    // MARK: Devices

    /// Connects the guest's second-level faults and balloon driver to `backing` (its VM).
    func attach(to backing: any GuestPhysicalBacking)
    /// Plugs the balloon device in at power-on; the guest's driver polls it from then on.
    func plugBalloonDevice(_ device: BalloonDevice)
    /// Pages the balloon driver holds (virtio-balloon's `actual`).
    var balloonPages: Int { get }
    /// Whether `pfn` is pinned by the balloon driver (the host dropped what backed it).
    func isBallooned(_ pfn: PFN) -> Bool
    /// Guest memory statistics as the balloon driver reports them.
    var balloonStats: BalloonStats { get }
    /// The balloon driver's answer to a stats request on the stats virtqueue, at `now`.
    func statsReport(now: Int64) -> GuestStatsReport

    // MARK: Memory hotplug (Hyper-V Dynamic Memory)

    /// Boots the guest with only `pages` of its memory online; the rest waits for hot-add.
    func bootWithStartupMemory(pages: Int)
    /// Memory the guest sees (online frames); `totalPages` is the most it can grow to.
    var onlinePages: Int { get }
    /// Hot-adds at least `pages` in whole 128 MiB chunks (at most the offline memory);
    /// returns the pages onlined.
    func hotAddMemory(pages: Int) -> Int
    /// Memory demand as the Dynamic Memory driver reports it (hv_balloon's committed pages).
    var memoryDemandPages: Int { get }
}
