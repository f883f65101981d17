import GuestKernel

/// Hyper-V Dynamic Memory's hot-add, the VM's side: the guest boots seeing its startup memory
/// (`guests[].balloon.startup_memory`) of a guest-physical space as large as its configured
/// memory (Hyper-V's Maximum RAM); hot-add makes more of that space visible, in the guest's
/// 128 MiB chunks (`GuestKernel.hotAddMemory`). The p2m map covers the whole space from the
/// start, so a hot-added page is backed lazily on its first touch like any guest page, and
/// every host technique (sharing, compression, swap, balloon) applies to it.
extension VirtualMachine {
    /// Memory the guest sees: startup memory plus what was hot-added (Hyper-V's "Guest Visible
    /// Physical Memory").
    public var onlinePages: Int { guest.onlinePages }

    /// Memory assigned to the VM: what the guest sees less its balloon (Hyper-V's "Physical
    /// Memory" counter of the Hyper-V Dynamic Memory VM object).
    public var assignedPages: Int { guest.onlinePages - guest.balloonPages }

    /// Hot-adds at least `pages` of memory (whole 128 MiB chunks, never past the maximum);
    /// returns the pages the guest onlined, 0 for a VM with nothing offline or powered off.
    @discardableResult
    public func hotAdd(pages: Int) -> Int {
        guard poweredOn, pages > 0 else { return 0 }
        let n = guest.hotAddMemory(pages: pages)
        stats.hotAdded += n
        return n
    }
}
