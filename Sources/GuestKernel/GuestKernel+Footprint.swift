extension GuestKernel {
    /// Bytes of simulator memory held by this guest's structures (array capacities; for the
    /// page-table pool, the huge pages it has written).
    public var footprint: SimulatorFootprint {
        var f = SimulatorFootprint()
        f.frameTable = totalPages * FrameTable.bytesPerFrame
        f.pageTables = pageTables.residentBytes + pageTables.leafFrame.capacity * 4
        for case let p? in processes { f.pageTables += p.directory.capacity * 4 }
        for file in files { f.pageCache += file.index.capacity * 4 + file.written.capacity * 24 }
        f.swap = swap.capacityBytes + frameSlot.footprintBytes + compressedSwap.capacityBytes
        f.bytesPerGuestPage = Double(f.frameTable + f.pageTables + f.pageCache) / Double(totalPages)
        return f
    }
}
