import GuestKernel

/// Hyper-V Smart Paging: while a Dynamic Memory VM starts and the host cannot give it its
/// startup memory (its minimum being lower), Hyper-V makes up the difference with a paging
/// file on disk, used only until the guest has ballooned down to what the host can give
/// (Microsoft documents it with Dynamic Memory in Windows Server 2012; Smart Paging is never
/// used for a running VM that merely wants more memory).
///
/// Modelled with the VM's own host swap file as the Smart Paging file: at power-on the host
/// records what it could back then (free memory above minFree); from then on, at every run
/// of the balloon policy, the VM's machine memory above that limit is paged out to its swap
/// file (`pageOut`, swap only), so the shortfall is paid by the starting VM and not by the
/// others, and the pages come back on their next touch like any host-swapped page. Smart
/// Paging ends once the memory the guest sees less its balloon fits in the limit, or the host
/// can back all of it again. Needs the host swap file (`host.swap.enabled`). Not modelled:
/// VM restarts (a VM powers on once, at `start_at`), and the paging file's own location,
/// size limit and deletion (pages left in it come back only when touched).
extension VirtualMachine {
    /// Machine memory the host could back now beyond what the VM holds: free above minFree.
    var smartPagingAvailablePages: Int { max(0, host.frames.freeFrames - host.frames.minFreePages) }

    /// At power-on: a Dynamic Memory VM (startup memory set, minimum below it) whose startup
    /// memory the host cannot back starts Smart Paging with the memory the host can give.
    func startSmartPagingIfShort() {
        guard balloonSettings.startup_memory != nil else { return }
        let minimum = balloonSettings.hyperVMinimumPages(configuredPages: configuredPages)
        let available = smartPagingAvailablePages
        guard minimum < guest.onlinePages, available < guest.onlinePages else { return }
        smartPagingLimit = available
    }

    /// One Smart Paging step (each balloon-policy run): ends Smart Paging when the guest's
    /// memory fits (in the limit, or in what the host can back now); otherwise pages the VM's
    /// machine memory above the limit out to its swap file. Returns the pages written.
    @discardableResult
    public func runSmartPaging() -> Int {
        guard let limit = smartPagingLimit, poweredOn else { return 0 }
        if assignedPages <= limit || assignedPages <= consumedPages + smartPagingAvailablePages {
            smartPagingLimit = nil
            return 0
        }
        let excess = consumedPages - limit
        guard excess > 0 else { return 0 }
        let out = pageOut(excess, compress: false, swap: true)
        stats.smartPagingOuts += out.reclaimed
        return out.reclaimed
    }

    /// Whether Smart Paging is in use.
    public var smartPagingActive: Bool { smartPagingLimit != nil }

    /// Guest memory in the Smart Paging file: the VM's host-swapped pages while Smart Paging
    /// is in use (Hyper-V's "Smart Paging Working Set Size"), 0 otherwise.
    public var smartPagingPages: Int { smartPagingActive ? swappedPages : 0 }
}
