extension VirtualMachine {
    /// Simulator memory the VM's backing state holds (array capacities); the host adds the
    /// VM's share of the sharing table (`HostMemory.footprint(of:)`).
    var backingFootprint: HostFootprint {
        var f = HostFootprint()
        f.p2m = p2m.capacityBytes
        f.checksums = checksum.bytes
        f.regions = largeRegion.capacity + regionBacked.capacity * 2
        f.swapAndCache =
            swapSlots.capacity * 8 + swapFreeSlots.capacity * 4
            + cache.size.capacity * 2 + cache.content.capacity * 8 + cache.owner.capacity * 4 + cache.sequence.capacity * 8
        return f
    }
}
