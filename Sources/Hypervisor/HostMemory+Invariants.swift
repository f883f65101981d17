extension HostMemory {
    /// Host frame conservation, the free-frame counts (per NUMA node too) and the
    /// decompression problems found since the last call; with `full`, also every VM's p2m map,
    /// the sharing tables and each node's frame conservation, walked entry by entry
    /// (O(guest pages)).
    public func checkInvariants(full: Bool = true) -> [String] {
        var p: [String] = []
        let sum = freeFrames + privateFrames + sharing.sharedFrames + cacheFrames + overheadFrames + hypervisorFrames
        if sum != totalFrames {
            p.append(
                "host: free \(freeFrames) + private \(privateFrames) + shared \(sharing.sharedFrames) + cache \(cacheFrames) + overhead \(overheadFrames) + hypervisor \(hypervisorFrames) = \(sum) != RAM \(totalFrames)"
            )
        }
        p += frames.checkInvariants()
        for vm in vms { p += vm.compressor.takeProblems() }
        p += sharing.takeMemoProblems()
        guard full else { return p }
        for vm in vms { p += vm.checkInvariants() }
        p += sharing.checkInvariants(on: self)
        p += checkNUMAInvariants()
        return p
    }
}
