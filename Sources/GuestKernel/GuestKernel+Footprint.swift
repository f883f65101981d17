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

extension GuestKernel {
    /// Bytes of simulator memory held by this guest's structures (array capacities).
    public var footprint: SimulatorFootprint {
        var f = SimulatorFootprint()
        f.frameTable = totalPages * FrameTable.bytesPerFrame
        f.pageTables = pageTables.entries.capacity * 4 + pageTables.leafFrame.capacity * 4
        for case let p? in processes { f.pageTables += p.directory.capacity * 4 }
        for file in files { f.pageCache += file.index.capacity * 4 + file.written.capacity * 24 }
        f.swap = swap.slotCount * (2 + 8 + 4 + 4) + frameSlot.capacity * 16
        f.bytesPerGuestPage = Double(f.frameTable + f.pageTables + f.pageCache) / Double(totalPages)
        return f
    }
}
