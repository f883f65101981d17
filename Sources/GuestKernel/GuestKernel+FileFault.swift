import OvercommitSupport
import PageContents

/// Faults on file-backed pages and shared anonymous memory, through the page cache.
extension GuestKernel {
    /// First touch of a file page or of shared anonymous memory (shmem) (mm/memory.c
    /// `do_fault`: `do_read_fault`, `do_shared_fault`, and the first half of `do_cow_fault`):
    /// the page comes from the page cache (read from the file on a miss: a major fault) and is
    /// mapped; writable only in a shared writable mapping. A write to a private mapping
    /// continues as a write-protect fault, which copies the page.
    func doFileFault(_ p: GuestProcess, _ vpn: VPN, region: Region, write: Bool, cost: inout Int64) -> FaultStep {
        let fid = region.fileID!
        let idx = region.fileIndex(vpn)
        var major = false
        guard let f = pageCacheGet(fid, idx, forWrite: false, major: &major, locked: region.locked, cost: &cost, hint: region.readAhead) else {
            return .done(alive(p) ? .outOfMemory : .noProcess)
        }
        guard alive(p) else { return .done(.noProcess) }
        let result: AccessResult = major ? .majorFault : .minorFault
        let writable = region.shared && region.protection.contains(.write)
        mapPage(p, vpn, f, writable: writable, anon: false)
        if !write {
            frames.flags[Int(f)] |= FrameFlag.accessed
            cost += touch(f, write: false)
            return .done(result)
        }
        if region.shared {
            cost += touch(f, write: true)
            performWrite(p, vpn, f)
            return .done(result)
        }
        // Private file mapping written: mapped read-only above, copied by the write-protect fault.
        return .writeProtected(result)
    }
}
