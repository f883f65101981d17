/// How much simulator memory a guest takes, by structure (for the memory-per-page target).
public struct SimulatorFootprint: Sendable, Equatable {
    /// Per-frame arrays (`FrameTable`): next, prev, flags (with the host's EPT bits), map
    /// count, reverse map, contents.
    public var frameTable = 0
    /// Page-table leaves (4 bytes per entry) and per-process directories.
    public var pageTables = 0
    /// Page-cache indexes and written-page records of files.
    public var pageCache = 0
    /// Swap map, slot contents and shadows (per swap slot, not per guest page).
    public var swap = 0
    /// Everything guest-side except swap, per configured guest page.
    public var bytesPerGuestPage: Double = 0
}
