import OvercommitSupport

/// Memory hotplug as a Linux guest on Hyper-V sees it (drivers/hv/hv_balloon.c with
/// mm/memory_hotplug.c): the VM boots with its startup memory online and the rest of its
/// guest-physical space up to its maximum present but offline; Dynamic Memory's hot-add
/// onlines that space in blocks, and the guest's buddy allocator gains the new frames.
///
/// hv_balloon hot-adds in chunks of `HA_CHUNK` = 128 MiB (in current kernels one memory
/// block, `memory_block_size_bytes()`, 128 MiB on x86-64); `online_pages` frees each onlined
/// range to the buddy allocator (`generic_online_page` -> `__free_pages_core`), grows
/// totalram_pages (MemTotal, CommitLimit, the OOM killer's totalram) and recomputes the zone
/// watermarks (`init_per_zone_wmark_min`). Linux guests on Hyper-V never hot-remove memory:
/// Microsoft lists hot-add and ballooning as their Dynamic Memory features ("Feature
/// Descriptions for Linux and FreeBSD virtual machines on Hyper-V",
/// https://learn.microsoft.com/en-us/windows-server/virtualization/hyper-v/feature-descriptions-for-linux-and-freebsd-virtual-machines-on-hyper-v),
/// hv_balloon implements no hot-remove, and memory goes back through the balloon, so offline
/// memory only ever shrinks.
///
/// Simplification: hv_balloon onlines only the part of a 128 MiB chunk the host asked for
/// (`hv_online_page` checks the covered range) and onlines the rest on later requests; here
/// a hot-add onlines whole chunks, so MemTotal grows in 128 MiB steps (the last chunk below
/// the maximum may be shorter), and the surplus is free guest memory.
extension GuestKernel {
    /// Pages of one hot-add chunk: hv_balloon's HA_CHUNK, 128 MiB.
    public static let hotplugBlockPages = 32768

    /// Takes every frame from `pfn` up (rounded up to a 4 MiB boundary, the largest buddy
    /// block, so onlined ranges never need merging with free memory below them) offline: the
    /// VM boots with only its startup memory visible. Must run before the guest allocates
    /// anything (right after `init`); a boundary at or above `totalPages` changes nothing.
    ///
    /// - Precondition: no managed frame has been allocated yet.
    public func bootWithStartupMemory(pages startup: Int) {
        let align = 1 << BuddyAllocator.maxOrder
        let minimumOnline = reservedPages + 4096
        let start = min(totalPages, max(minimumOnline, (startup + align - 1) / align * align))
        guard start < totalPages else { return }
        precondition(offlinePages == 0 && buddy.freePages == managedPages, "startup memory must be set before the guest allocates")
        buddy = PageAllocator(frames: frames, managed: reservedPages..<totalPages, online: reservedPages..<start)
        for i in start..<totalPages { frames.resetFlags(PFN(i), FrameUse.offline.rawValue) }
        offlinePages = totalPages - start
        setWatermarks()
    }

    /// Memory visible to the guest: online frames, the kernel's reserved ones included (what
    /// Hyper-V shows as the VM's guest-visible physical memory).
    public var onlinePages: Int { totalPages - offlinePages }

    /// Hot-adds at least `pages` pages in whole 128 MiB chunks, lowest first, without passing
    /// the VM's maximum (the offline memory); returns the pages onlined (0 when nothing is
    /// offline). The frames go to the buddy allocator; MemTotal and the watermarks follow. The
    /// host backs them on first touch like any guest page.
    @discardableResult
    public func hotAddMemory(pages: Int) -> Int {
        guard pages > 0, offlinePages > 0, !panicked else { return 0 }
        let chunks = (pages + GuestKernel.hotplugBlockPages - 1) / GuestKernel.hotplugBlockPages
        let n = min(offlinePages, chunks * GuestKernel.hotplugBlockPages)
        let start = totalPages - offlinePages
        buddy.online(start..<(start + n))
        offlinePages -= n
        hotAddedPages += n
        setWatermarks()
        return n
    }

    /// Memory demand as hv_balloon's status report gives it (`post_status` ->
    /// `get_pages_committed`, once a second): Committed_AS (`vm_memory_committed`) plus
    /// `compute_balloon_floor()`, the piecewise-linear floor below which the driver will not
    /// balloon. The report also adds the ballooned pages; the host knows those, so the
    /// demand here leaves them out. In pages.
    public var memoryDemandPages: Int { committedAS + GuestKernel.balloonFloorPages(totalRAM: managedPages) }

    /// hv_balloon's `compute_balloon_floor()`: 8 MiB + 1/2 of totalram below 128 MiB,
    /// 40 MiB + 1/4 below 512 MiB, 104 MiB + 1/8 below 2 GiB, 232 MiB + 1/16 below 8 GiB,
    /// 488 MiB + 1/32 above (MiB at 4 KiB pages = 256 pages).
    public static func balloonFloorPages(totalRAM n: Int) -> Int {
        let mib = 256
        if n < 128 * mib { return 8 * mib + (n >> 1) }
        if n < 512 * mib { return 40 * mib + (n >> 2) }
        if n < 2048 * mib { return 104 * mib + (n >> 3) }
        if n < 8192 * mib { return 232 * mib + (n >> 4) }
        return 488 * mib + (n >> 5)
    }
}
