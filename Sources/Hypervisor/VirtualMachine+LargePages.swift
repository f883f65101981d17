import GuestKernel

/// Large pages: 2 MiB of guest-physical memory backed by one 2 MiB machine page (ESXi backs
/// with large pages while the host is in the high state and breaks them from the clear state
/// on, so that their 4 KiB subpages can be shared, compressed or swapped).
extension VirtualMachine {
    /// Breaks the large page of region `r` into 512 small pages; false if none was intact.
    /// The subpages keep their frames; offering them for sharing is the caller's (the
    /// `LargePageBreaking` mechanism's "share before swap").
    @discardableResult
    func breakLargePage(_ r: Int) -> Bool {
        guard largeRegion[r] != 0 else { return false }
        largeRegion[r] = 0
        largePages -= 1
        stats.largePagesBroken += 1
        return true
    }

    /// The first region at or after `r` that an intact large page backs.
    func nextIntactLargePage(from r: Int) -> Int? {
        var k = r
        while k < largeRegion.count {
            if largeRegion[k] != 0 { return k }
            k += 1
        }
        return nil
    }

    /// Guest pages of region `r`.
    func pages(ofRegion r: Int) -> Range<Int> { (r * 512)..<min(r * 512 + 512, p2m.count) }

    /// Whether page `i` lies in an intact large page.
    func isInLargePage(_ i: Int) -> Bool { largeRegion[i >> 9] != 0 }

    /// Frames of intact large pages the guest has never touched (ESX's large-page waste).
    public var untouchedLargePagePages: Int {
        let ept = guest.ept
        var n = 0
        for r in 0..<largeRegion.count where largeRegion[r] != 0 {
            for pfn in pages(ofRegion: r) where ept[pfn] & 3 == 0 { n += 1 }
        }
        return n
    }
}
