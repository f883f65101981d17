import OvercommitSupport
import PageContents

/// A guest process id.
public typealias PID = Int32
/// A file in the guest's file system (an index into the kernel's file table).
public typealias FileID = UInt16

/// Error numbers a system call returns, as Linux's errno values.
public enum Errno: String, Error, Sendable, CustomStringConvertible {
    /// Out of memory: refused by the overcommit policy, or no address space left.
    case ENOMEM
    /// Invalid argument (zero length, unaligned range, unknown file).
    case EINVAL
    /// No such process (killed or exited).
    case ESRCH
    /// Locking more than allowed.
    case EAGAIN
    /// Too many files (the guest's file table of `GuestKernel.maxFiles` is full).
    case ENFILE
    public var description: String { rawValue }
}

/// Memory protection of a region (PROT_READ, PROT_WRITE, PROT_EXEC).
public struct Protection: OptionSet, Sendable, Hashable {
    public let rawValue: UInt8
    public init(rawValue: UInt8) { self.rawValue = rawValue }
    public static let read = Protection(rawValue: 1)
    public static let write = Protection(rawValue: 2)
    public static let exec = Protection(rawValue: 4)
    public static let readWrite: Protection = [.read, .write]
    public static let readExec: Protection = [.read, .exec]
}

/// What backs a region: anonymous memory or a file (through the page cache).
public enum MappingBacking: Sendable, Hashable {
    case anonymous
    /// A file mapping starting at `offset` pages into the file.
    case file(FileID, offset: Int)
}

/// The result of one memory access or file I/O call, as the page-fault handler saw it.
public enum AccessResult: UInt8, Sendable, CaseIterable, CustomStringConvertible {
    /// Mapped with the right permission: no fault.
    case hit
    /// Minor fault: zero page mapped, page-cache or swap-cache page mapped, no I/O.
    case minorFault
    /// First write to anonymous memory: a fresh frame zero-filled (or copied from the zero page).
    case zeroFill
    /// Write to a copy-on-write page shared after fork: the page was copied.
    case cowCopy
    /// Major fault: the page was read from swap or from the file.
    case majorFault
    /// The address is outside every region or the access violates its protection (SIGSEGV).
    case segv
    /// The process no longer exists (it was OOM-killed, possibly by this very access).
    case noProcess
    /// No memory could be found even after reclaim and the OOM killer (or the guest panicked).
    case outOfMemory

    public var description: String {
        switch self {
        case .hit: "hit"; case .minorFault: "minor_fault"; case .zeroFill: "zero_fill"; case .cowCopy: "cow_copy"
        case .majorFault: "major_fault"; case .segv: "segv"; case .noProcess: "no_process"; case .outOfMemory: "out_of_memory"
        }
    }
    /// True for every fault kind (minor or major).
    public var isFault: Bool { self == .minorFault || self == .zeroFill || self == .cowCopy || self == .majorFault }
}

/// An access result and the simulated time it took, including any reclaim it had to do.
public struct AccessOutcome: Sendable, Equatable {
    public var result: AccessResult
    /// Nanoseconds of simulated time: the access itself, the fault, I/O and direct reclaim.
    public var cost: Int64
    @inlinable public init(_ result: AccessResult, cost: Int64) { self.result = result; self.cost = cost }
}

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

/// A row of the per-process table (pid, name, rss, swap, oom_score, oom_score_adj).
public struct ProcessInfo: Sendable, Equatable {
    public var pid: PID
    public var name: String
    public var rssPages: Int
    public var swapPages: Int
    public var pageTablePages: Int
    public var virtualPages: Int
    public var oomScore: Int
    public var oomScoreAdj: Int
    public var lockedPages: Int
}

/// Per-guest counters, after /proc/vmstat.
public struct VMStat: Sendable, Equatable {
    public var accesses = 0
    public var pgfault = 0
    public var pgmajfault = 0
    public var zeroFills = 0
    public var cowCopies = 0
    public var zeroPageMaps = 0
    public var pswpin = 0
    public var pswpout = 0
    public var pgpgin = 0
    public var pgpgout = 0
    public var pgsteal_kswapd = 0
    public var pgsteal_direct = 0
    public var pgscan_kswapd = 0
    public var pgscan_direct = 0
    public var pgactivate = 0
    public var pgdeactivate = 0
    public var pgrotated = 0
    public var kswapd_wakeups = 0
    public var allocstall = 0
    public var workingset_refault = 0
    public var workingset_activate = 0
    public var swapCacheHits = 0
    public var swapWritesAvoided = 0
    public var fileReads = 0
    /// Pages brought in by read-ahead (no extra I/O latency).
    public var readahead = 0
    public var writebacks = 0
    public var oom_kill = 0
    public var refusedAllocations = 0
    public var segfaults = 0
    /// Pages the balloon driver inflated (allocated, pinned and handed to the host) and deflated.
    public var balloon_inflate = 0
    public var balloon_deflate = 0
    /// Balloon inflations cut short because the allocation failed (no free memory even after
    /// one round of direct reclaim: __GFP_NORETRY).
    public var balloon_inflate_failed = 0
    /// OOM notifications answered by deflating the balloon (virtio-balloon DEFLATE_ON_OOM).
    public var balloon_oom_deflates = 0
    /// Simulated nanoseconds spent by accesses (hits and faults), for EAT.
    public var accessTimeNs: Int64 = 0
    /// Simulated nanoseconds spent in faults and reclaim beyond the plain access time.
    public var stallNs: Int64 = 0
    public init() {}
}
