import HostPolicies

/// Something the host did that belongs in the event log.
public enum HostEvent: Sendable, Equatable {
    /// A VM powered on; `overheadPages` were reserved for it.
    case poweredOn(vm: String, overheadPages: Int)
    /// Admission control kept a VM off: its overhead plus reservation does not fit.
    case admissionRefused(vm: String, neededPages: Int, availablePages: Int)
    /// A guest touched a page and no machine frame was left (nothing could be reclaimed).
    case hostOutOfMemory(vm: String, pfn: UInt32)
    /// The free-memory state changed.
    case stateChanged(from: HostMemoryState, to: HostMemoryState, freePages: Int)
}
