import PageContents

/// An independent record of what every guest page should contain: the contents each write
/// produced, kept per (process, page) for private memory and per (file, page) for shared
/// file data, updated only by writes, fork, munmap and exit — never by sharing, swapping,
/// compression or ballooning. `verify` resolves every recorded page through the live
/// structures and compares hashes of the produced bytes: "nothing lost".
public final class ContentShadow {
    var anon: [UInt64: PageContent] = [:]  // pid << 40 | vpn
    var fileData: [UInt64: PageContent] = [:]  // file << 32 | page
    /// Private pages given MADV_FREE and not written since: they read either what was last
    /// written (still resident) or zero (discarded by reclaim).
    var lazyFree: Set<UInt64> = []
    public private(set) var recordedWrites = 0

    public init() {}

    @inline(__always) static func key(_ pid: PID, _ vpn: VPN) -> UInt64 { UInt64(UInt32(bitPattern: pid)) << 40 | (vpn & ((1 << 40) - 1)) }

    func recordWrite(_ k: GuestKernel, _ p: GuestProcess, _ vpn: VPN, _ c: PageContent) {
        recordedWrites += 1
        if let ri = p.regionIndex(vpn), p.regions[ri].shared, let f = p.regions[ri].fileID {
            fileData[UInt64(f) << 32 | UInt64(p.regions[ri].fileIndex(vpn))] = c
        } else {
            let k = ContentShadow.key(p.pid, vpn)
            anon[k] = c
            if !lazyFree.isEmpty { lazyFree.remove(k) }
        }
    }
    /// MADV_DONTNEED on private anonymous memory (or MADV_FREE of a swapped page): the pages
    /// written so far read zero now.
    func recordZeroed(_ pid: PID, _ start: VPN, _ end: VPN) {
        let base = UInt64(UInt32(bitPattern: pid)) << 40
        for k in anon.keys where k & ~((1 << 40) - 1) == base {
            let v = k & ((1 << 40) - 1)
            if v >= start && v < end {
                anon[k] = .zero
                lazyFree.remove(k)
            }
        }
    }
    func recordLazyFree(_ pid: PID, _ vpn: VPN) {
        let k = ContentShadow.key(pid, vpn)
        if anon[k] != nil { lazyFree.insert(k) }
    }
    func recordFileWrite(_ f: FileID, _ page: Int, _ c: PageContent) {
        recordedWrites += 1
        fileData[UInt64(f) << 32 | UInt64(page)] = c
    }
    func recordFork(parent: PID, child: PID) {
        let base = UInt64(UInt32(bitPattern: parent)) << 40
        let cbase = UInt64(UInt32(bitPattern: child)) << 40
        for (k, v) in anon where k & ~((1 << 40) - 1) == base { anon[cbase | (k & ((1 << 40) - 1))] = v }
        for k in lazyFree where k & ~((1 << 40) - 1) == base { lazyFree.insert(cbase | (k & ((1 << 40) - 1))) }
    }
    func recordUnmap(_ pid: PID, _ start: VPN, _ end: VPN) {
        let base = UInt64(UInt32(bitPattern: pid)) << 40
        for k in anon.keys where k & ~((1 << 40) - 1) == base {
            let v = k & ((1 << 40) - 1)
            if v >= start && v < end {
                anon[k] = nil
                lazyFree.remove(k)
            }
        }
    }
    func recordExit(_ pid: PID) {
        let base = UInt64(UInt32(bitPattern: pid)) << 40
        for k in anon.keys where k & ~((1 << 40) - 1) == base {
            anon[k] = nil
            lazyFree.remove(k)
        }
    }

    /// Compares every recorded page with what the guest would read now.
    ///
    /// - Parameters:
    ///   - frameHash: hash of the bytes of a guest-physical frame as the host produces them
    ///     (through sharing, compression or host swap).
    ///   - contentHash: hash of the bytes of a descriptor (swap slots, files on disk, the record).
    public func verify(_ k: GuestKernel, frameHash: (PFN) -> UInt64, contentHash: (PageContent) -> UInt64) -> [String] {
        var problems: [String] = []
        for key in anon.keys.sorted() {
            let pid = PID(truncatingIfNeeded: key >> 40), vpn = key & ((1 << 40) - 1)
            guard let p = k.process(pid) else { continue }
            let expected = contentHash(anon[key]!)
            let e = PTE(raw: k.pteValue(p, vpn))
            // A private anonymous page with no PTE, or mapping the zero page, reads zero: right
            // after MADV_DONTNEED, or after reclaim discarded a MADV_FREE page.
            let readsZero = e.isNone || (e.isPresent && e.pfn == k.zeroPFN)
            if readsZero && (anon[key]!.isZero || lazyFree.contains(key)) { continue }
            let actual: UInt64
            if e.isPresent {
                actual = frameHash(e.pfn)
            } else if e.isSwap {
                let f = k.swap.slotFrame[Int(e.slot)]
                actual = f != nilFrame ? frameHash(f) : contentHash(k.swap.slotContent[Int(e.slot)])
            } else {
                problems.append("pid \(pid) vpn \(vpn): written page has no mapping"); continue
            }
            if actual != expected { problems.append("pid \(pid) vpn \(vpn): contents differ from what was last written") }
            if problems.count > 20 { break }
        }
        for key in fileData.keys.sorted() {
            let f = Int(key >> 32), idx = Int(key & 0xFFFF_FFFF)
            guard f < k.files.count else { continue }
            let expected = contentHash(fileData[key]!)
            let file = k.files[f]
            let e = file.entry(idx)
            let actual: UInt64
            switch e & GuestFile.tagMask {
            case GuestFile.cachedTag: actual = frameHash(e & GuestFile.valueMask)
            case GuestFile.swappedTag: actual = contentHash(k.swap.slotContent[Int(e & GuestFile.valueMask)])
            default:
                if file.isShmem && file.mappers.isEmpty { continue }
                actual = contentHash(file.diskContent(idx))
            }
            if actual != expected { problems.append("file \(file.path) page \(idx): contents differ from what was last written") }
            if problems.count > 40 { break }
        }
        return problems
    }
}

extension GuestKernel {
    /// Starts recording what every write produces, for `ContentShadow.verify`.
    public func enableContentShadow() { if shadow == nil { shadow = ContentShadow() } }
}
