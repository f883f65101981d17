/// How much simulator memory the host keeps for a VM, by structure (for the memory target).
public struct HostFootprint: Sendable, Equatable {
    /// p2m map (4 bytes per guest page).
    public var p2m = 0
    /// KSM checksums (4 bytes per guest page).
    public var checksums = 0
    /// Per-region large-page flags and backed counts.
    public var regions = 0
    /// This VM's share of the unstable sharing table (by its share of guest pages).
    public var sharingTable = 0
    /// Host swap slots (8 bytes per used slot) and the compression-cache bookkeeping (not the bytes).
    public var swapAndCache = 0
    /// Host-side bytes per configured guest page (compressed data excluded).
    public var bytesPerGuestPage: Double = 0
}
