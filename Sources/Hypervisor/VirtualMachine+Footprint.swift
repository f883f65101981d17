import GuestKernel

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

extension HostMemory {
    /// Host-wide simulator memory not attributable to one VM: shared-frame nodes, the stable
    /// index, the free machine-frame stack and the page-reference map (bytes, capacities).
    public var sharedFootprintBytes: Int {
        let s = sharing!
        let nodes = s.nodeFrame.capacity * 4 + s.nodeRefs.capacity * 8 + s.nodeContent.capacity * 8
            + s.nodeHash.capacity * 8 + s.nodeSalt.capacity * 8 + s.freeNodes.capacity * 4
        // A Dictionary<UInt64, UInt32> entry: key, value and about a byte of metadata per bucket.
        let index = s.stableIndex.capacity * 13
        return nodes + index + returned.capacity * 4 + vmOfChunk.capacity * 4
    }
}

extension VirtualMachine {
    /// Simulator memory the host holds for this VM (array capacities).
    public var footprint: HostFootprint {
        var f = HostFootprint()
        f.p2m = p2m.capacity * 4
        f.checksums = checksum.capacity * 4
        f.regions = largeRegion.capacity + regionBacked.capacity * 2
        let total = host.vms.reduce(0) { $0 + $1.configuredPages }
        f.sharingTable = host.sharing.table.capacity * 4 * configuredPages / max(1, total)
        f.swapAndCache = swapSlots.capacity * 8 + swapFreeSlots.capacity * 4
            + cache.data.capacity * 8 + cache.content.capacity * 8 + cache.owner.capacity * 4 + cache.sequence.capacity * 8
        f.bytesPerGuestPage = Double(f.p2m + f.checksums + f.regions + f.sharingTable + f.swapAndCache) / Double(configuredPages)
        return f
    }

    /// Host-directed paging (the compression and swap mechanisms): takes up to `pages` private
    /// pages out of memory, compressing first when `compress`, and returns how many it took.
    @discardableResult
    public func pageOut(_ pages: Int, compress: Bool, swap: Bool) -> Int {
        reclaimByPaging(pages, compress: compress, swap: swap)
    }
}
