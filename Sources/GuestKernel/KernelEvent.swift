import OvercommitSupport
import PageContents

/// Something that happened in a guest that a user wants in the event log.
public enum KernelEvent: Sendable, Equatable {
    /// The OOM killer killed `pid`; `badness` is the points it scored, `freedPages` what it released.
    case oomKill(pid: PID, name: String, badness: Int, oomScore: Int, rssPages: Int, swapPages: Int, freedPages: Int, trigger: String)
    /// An allocation was refused by the overcommit policy (ENOMEM at mmap/brk/fork time).
    case allocationRefused(pid: PID, name: String, pages: Int, committedAS: Int, commitLimit: Int, mode: Int)
    /// An access outside any region, or violating its protection.
    case segfault(pid: PID, name: String, vpn: VPN, write: Bool)
    /// The guest panicked (vm.panic_on_oom, or no process left to kill).
    case panic(reason: String)
    /// Refaults crossed the thrashing threshold (`true`) or fell back under it (`false`).
    case thrashing(Bool, refaultsPerSecond: Double)
    /// A process exited (by itself).
    case exited(pid: PID, name: String)
    /// The OOM notifier deflated the balloon instead of killing (virtio-balloon DEFLATE_ON_OOM).
    case balloonDeflateOnOOM(pages: Int)
}
