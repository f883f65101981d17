extension HostMemory {
    /// Host-wide simulator memory not attributable to one VM: shared-frame nodes, the stable
    /// index, the free machine-frame stack and the page-reference map (bytes, capacities).
    public var sharedFootprintBytes: Int {
        sharing.shared.footprintBytes + frames.footprintBytes + vmOfChunk.capacity * 4
    }

    /// Simulator memory the host holds for `vm` (array capacities), with its share of the
    /// unstable sharing table (by its share of guest pages).
    public func footprint(of vm: VirtualMachine) -> HostFootprint {
        var f = vm.backingFootprint
        let total = vms.reduce(0) { $0 + $1.configuredPages }
        f.sharingTable = sharing.table.slots.capacity * 4 * vm.configuredPages / max(1, total)
        f.bytesPerGuestPage = Double(f.p2m + f.checksums + f.regions + f.sharingTable + f.swapAndCache) / Double(vm.configuredPages)
        return f
    }
}
