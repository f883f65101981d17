import OvercommitSupport
import PageContents

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
        case .hit: "hit";
        case .minorFault: "minor_fault";
        case .zeroFill: "zero_fill";
        case .cowCopy: "cow_copy"
        case .majorFault: "major_fault";
        case .segv: "segv";
        case .noProcess: "no_process";
        case .outOfMemory: "out_of_memory"
        }
    }
    /// True for every fault kind (minor or major).
    public var isFault: Bool { self == .minorFault || self == .zeroFill || self == .cowCopy || self == .majorFault }
}
