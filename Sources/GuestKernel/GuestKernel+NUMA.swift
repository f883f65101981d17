import OvercommitSupport
import PageContents

/// Remote-node accesses: the host says which frames it backs on another NUMA node than the
/// vCPUs that access them, and every access to one pays `costs.remote_access` on top of
/// `memory_access` (a remote DRAM access on a two-socket x86 host takes about 1.5-2x a local
/// one).
///
/// The charge comes from the frame the host actually chose: the host sets a frame's remote
/// mark whenever it changes what backs the frame (first touch, copy-on-write break, swap-in,
/// merge). A remote frame never gets the cached combined translation (`PTE.hostBit`), so the
/// access path's fast case (a cached translation) stays as it is and a remote access takes the
/// branch that walks the EPT, where it is counted (`vmstat.numaRemoteAccesses`). The guest
/// never sees node numbers: only this mark, which models what the hardware does to the
/// access's latency.
extension GuestKernel {
    /// The host marks `pfn` remote or local. Marking it remote drops the cached translations
    /// of the PTEs mapping it, so the next access pays the remote cost.
    public func setRemote(_ pfn: PFN, _ remote: Bool) {
        let i = Int(pfn)
        if remote {
            let r = remoteFrames ?? ZeroedBuffer<UInt8>(count: totalPages)
            remoteFrames = r
            guard r[i] == 0 else { return }
            r[i] = 1
            forEachPTE(of: pfn) { idx in pageTables.entries[idx] &= ~PTE.hostBit }
        } else if let r = remoteFrames {
            r[i] = 0
        }
    }

    /// Accesses that paid the remote-access cost, and the time they added.
    public var numaRemoteAccesses: (count: Int, ns: Int64) { (vmstat.numaRemoteAccesses, vmstat.numaRemoteNs) }

    /// Counts one remote access; returns its extra time.
    @inline(__always)
    func remoteAccess() -> Int64 {
        let ns = costs.remote_access.nanoseconds
        vmstat.numaRemoteAccesses += 1
        vmstat.numaRemoteNs += ns
        return ns
    }
}
