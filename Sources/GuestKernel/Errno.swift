import OvercommitSupport
import PageContents

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
