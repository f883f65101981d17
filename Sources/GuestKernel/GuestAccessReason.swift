import OvercommitSupport
import PageContents

/// Why the guest touched a guest-physical page (what a real host cannot see, kept for counters).
public enum GuestAccessReason: Sendable {
    /// A load or store of a process or of the kernel.
    case access
    /// The guest's pageout reads the page to write it to the guest's swap device (double
    /// paging when the host had swapped the page out).
    case guestSwapOut
    /// The guest writes a dirty page-cache page back to its file.
    case writeback
}
