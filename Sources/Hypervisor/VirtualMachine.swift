import GuestKernel
import HostPolicies
import OvercommitSupport
import PageContents

/// Where a guest-physical page lives: the p2m entry, with the state in its top two bits.
enum P2M {
    static let unbacked: UInt32 = .max
    /// Touched after the host ran out of memory (host OOM): not backed, counted.
    static let overdraft: UInt32 = .max - 1
    static let valueMask: UInt32 = (1 << 30) - 1
    static let tagMask: UInt32 = 3 << 30
    /// A private machine frame (value = machine frame number).
    static let privateTag: UInt32 = 0
    /// A shared frame (value = sharing node).
    static let sharedTag: UInt32 = 1 << 30
    /// In the VM's compression cache (value = cache entry).
    static let compressedTag: UInt32 = 2 << 30
    /// In the VM's host swap file (value = slot).
    static let swappedTag: UInt32 = 3 << 30
    /// Largest value a tagged entry may carry (the top of the swapped range is reserved).
    static let maxValue = Int(valueMask) - 16
}

/// Per-VM settings the host enforces (ESX `sched.mem.min`, `sched.mem.max`,
/// `sched.mem.shares`, `sched.mem.pshare.salt`).
public struct VMResourceSettings: Sendable, Equatable {
    /// Machine memory guaranteed to the VM (admission control reserves it at power-on).
    public var reservationPages = 0
    /// Most machine memory the VM may consume (Int.max: unlimited).
    public var limitPages = Int.max
    /// Proportional-share weight.
    public var shares: Double = 0
    /// Salt of page hashes (nil: decided by `salting`).
    public var pshareSalt: String? = nil
    /// Host balloon driver settings: whether the guest has one, its cap, DEFLATE_ON_OOM.
    public var balloonDriver = true
    public var balloonMaxPages = 0
    public var balloonDeflateOnOOM = false
    public init() {}
}

/// What the host did to one VM, by technique (pages and simulated time).
public struct VMHostStats: Sendable, Equatable {
    /// Second-level (EPT) faults taken, and the host time they cost.
    public var eptFaults = 0
    public var hostTimeNs: Int64 = 0
    /// Copy-on-write breaks of shared pages on guest writes.
    public var cowBreaks = 0
    /// Pages this VM merged into shared frames (one per merge).
    public var merges = 0
    /// Pages compressed into the cache, and pages rejected as not compressible enough.
    public var compressions = 0
    public var compressionRejects = 0
    /// Pages decompressed on access, and pages moved from the cache to swap when it was full.
    public var decompressions = 0
    public var cacheEvictions = 0
    /// Host swap-outs and swap-ins (a swap-in is a host-level major fault).
    public var swapOuts = 0
    public var swapIns = 0
    /// The guest swapped out a page the host had already swapped or compressed.
    public var doublePaging = 0
    /// Large pages that backed a 2 MiB region, and those broken into 4 KiB pages.
    public var largePagesBacked = 0
    public var largePagesBroken = 0
    /// Pages released to the host by the balloon, and given back on deflate.
    public var balloonReclaimed = 0
    public var balloonReturned = 0
    /// Host swap-outs the VM's swap file had no room for.
    public var swapFull = 0
    /// Time guest accesses waited for the host in the low state (blocked allocations).
    public var blockedNs: Int64 = 0
    public init() {}
}

/// One VM's guest-physical memory as the host backs it: the p2m map, large pages, sharing
/// state, compression cache and swap file.
///
/// Follows ESXi's model: guest-physical memory is backed lazily on first touch (with a 2 MiB
/// large page when the host is in the high state); the host may share, compress, swap or
/// (through the balloon) drop what backs a page, and brings it back on the next access.
public final class VirtualMachine: GuestPhysicalBacking {
    public unowned(unsafe) let host: HostMemory
    public let index: Int
    public let name: String
    public unowned(unsafe) let kernel: GuestKernel
    public let settings: VMResourceSettings
    /// The balloon driver's and the balloon policies' per-VM settings.
    public let balloonSettings: BalloonVMSettings
    /// Guest-physical frame -> where it lives (see `P2M`).
    var p2m: [UInt32]
    /// KSM's rmap_item->oldchecksum: the low 32 bits of the page's (salted) xxh3 at its last scan.
    var checksum: [UInt32]
    /// Per 2 MiB region: 1 while an intact large page backs it.
    var largeRegion: [UInt8]
    /// Per 2 MiB region: subpages backed by anything (a region with none can take a large page).
    var regionBacked: [UInt16]
    /// First global page reference of this VM (the sharing tables name pages by reference).
    let pageRefBase: UInt32
    /// Seed of this VM's page hashes (ESX salting).
    let salt: UInt64
    /// The salted hash of the zero page (the zero-page test's first step).
    let zeroPageHash: UInt64

    public internal(set) var poweredOn = false
    public internal(set) var overheadPages = 0
    /// Machine frames backing this VM privately (including intact large pages).
    public internal(set) var privatePages = 0
    /// Guest pages mapped to shared frames (including the host zero frame).
    public internal(set) var sharedPages = 0
    /// Guest pages mapped to the host zero frame.
    public internal(set) var zeroSharedPages = 0
    /// Intact large pages.
    public internal(set) var largePages = 0
    /// Guest pages touched after the host ran out of memory.
    public internal(set) var overdraftPages = 0
    /// The host swap file (a slot holds the page's contents while swapped).
    var swapSlots: [PageContent] = []
    var swapFreeSlots: [UInt32] = []
    public let swapCapacity: Int
    public internal(set) var swappedPages = 0
    /// The compression cache.
    var cache: CompressionCache
    public internal(set) var stats = VMHostStats()
    /// The balloon size the host asks for (pages), and the policy's last target.
    public internal(set) var balloonTarget = 0
    /// Scanner position in this VM and passes completed.
    var scanPosition = 0
    var scanPasses = 0
    var scanSteps = 0
    var scanStride = 1
    var scanCredit = 0.0
    /// Host swap victim cursor (a pseudo-random permutation of the frames).
    var victimPosition = 0
    var victimStride = 1
    /// Active memory: the statistical estimate (fraction) and the true share touched in the last period.
    public internal(set) var activeEstimate = 1.0
    public internal(set) var trueActivePages = 0
    public internal(set) var sampledTouched = 0
    public internal(set) var activePeriods = 0

    init(host: HostMemory, index: Int, name: String, kernel: GuestKernel, settings: VMResourceSettings,
         balloon: BalloonVMSettings, pageRefBase: UInt32, salt: UInt64, rng: inout Xoshiro256) {
        self.balloonSettings = balloon
        self.host = host
        self.index = index
        self.name = name
        self.kernel = kernel
        self.settings = settings
        self.pageRefBase = pageRefBase
        self.salt = salt
        zeroPageHash = host.generator.withBytes(.zero) { PageHash.xxh3($0, salt: salt) }
        let n = kernel.totalPages
        p2m = Array(repeating: P2M.unbacked, count: n)
        checksum = Array(repeating: 0, count: n)
        let regions = (n + 511) / 512
        largeRegion = Array(repeating: 0, count: regions)
        regionBacked = Array(repeating: 0, count: regions)
        swapCapacity = host.config.swap.enabled ? max(0, n - settings.reservationPages) : 0
        cache = CompressionCache(limitBytes: Int(Double(n) * host.config.compression.cache_size.fraction) * pageSize)
        scanStride = VirtualMachine.coprimeStride(n, &rng)
        victimStride = VirtualMachine.coprimeStride(n, &rng)
        victimPosition = Int(rng.next(below: UInt64(n)))
        if host.config.sharing.scan_order == .random { scanPosition = Int(rng.next(below: UInt64(n))) }
    }

    /// An odd stride coprime with `n`, for a pseudo-random visiting order (ESX scans and
    /// picks swap victims at random; a full-period permutation visits each page once per pass).
    static func coprimeStride(_ n: Int, _ rng: inout Xoshiro256) -> Int {
        guard n > 2 else { return 1 }
        func gcd(_ a: Int, _ b: Int) -> Int { b == 0 ? a : gcd(b, a % b) }
        var s = Int(rng.next(below: UInt64(n / 2))) * 2 + 1
        while gcd(s, n) != 1 { s += 2; if s >= n { s = 1 } }
        return s
    }

    public var configuredPages: Int { kernel.totalPages }
    /// Machine frames the VM consumes: private frames and its compression cache (ESX "consumed"
    /// minus shared frames, which the host counts once).
    public var consumedPages: Int { privatePages + cache.frames }
    /// Pages in the compression cache and their compressed bytes.
    public var compressedPages: Int { cache.count }
    public var compressedBytes: Int { cache.bytes }
    public var cacheFrames: Int { cache.frames }
    public var balloonPages: Int { kernel.balloonPages }

    /// Frames of intact large pages the guest has never touched (ESX's large-page waste).
    public var untouchedLargePagePages: Int {
        var n = 0
        for r in 0..<largeRegion.count where largeRegion[r] != 0 {
            let start = r * 512, end = min(start + 512, p2m.count)
            for pfn in start..<end where kernel.ept[pfn] & 3 == 0 { n += 1 }
        }
        return n
    }

    // MARK: - Second-level faults

    /// A guest access without a valid EPT entry: back, un-share, decompress or swap in.
    public func eptViolation(pfn: PFN, write: Bool, reason: GuestAccessReason) -> Int64 {
        let i = Int(pfn)
        let v = p2m[i]
        var cost: Int64 = host.costs.host_fault.nanoseconds
        var bits: UInt8 = 3
        if v == P2M.unbacked {
            cost += backFresh(i)
        } else if v == P2M.overdraft {
            // Touched after a host out-of-memory: the page stays in overdraft (the run is ending).
        } else {
            switch v & P2M.tagMask {
            case P2M.privateTag:
                if kernel.ept[i] & 3 == 0 {
                    // First touch of a subpage of a large page: the 2 MiB EPT entry already maps it.
                    kernel.setEPT(pfn, 3)
                    return 0
                }
                bits = 3
            case P2M.sharedTag:
                if write {
                    cost += host.sharing.breakCOW(self, i)
                } else {
                    bits = 1
                }
            case P2M.compressedTag:
                if reason == .guestSwapOut { stats.doublePaging += 1 }
                cost += decompressIn(i)
            default:
                if reason == .guestSwapOut { stats.doublePaging += 1 }
                cost += swapIn(i)
            }
        }
        stats.eptFaults += 1
        stats.hostTimeNs += cost
        if p2m[i] & P2M.tagMask == P2M.sharedTag && p2m[i] != P2M.unbacked && p2m[i] != P2M.overdraft { bits = 1 }
        kernel.setEPT(pfn, bits)
        return cost
    }

    /// First touch of a page: a large page if the region is empty and the host is in the high
    /// state, else one zero-filled machine frame.
    func backFresh(_ i: Int) -> Int64 {
        let r = i >> 9
        var cost: Int64 = 0
        if host.largePagesAllowed && regionBacked[r] == 0 && (r + 1) * 512 <= p2m.count, let frames = host.allocateLargePage(for: self) {
            let start = r * 512
            for k in 0..<512 {
                p2m[start + k] = frames[k]
                kernel.hostPutContent(PFN(start + k), .zero)
            }
            regionBacked[r] = 512
            largeRegion[r] = 1
            largePages += 1
            privatePages += 512
            stats.largePagesBacked += 1
            // The host zeroes the whole 2 MiB page.
            cost += host.costs.zero_fill.nanoseconds * 512
            return cost
        }
        guard let (m, wait) = host.obtainFrame(for: self) else {
            host.recordOutOfMemory(self, pfn: PFN(i))
            p2m[i] = P2M.overdraft
            overdraftPages += 1
            return 0
        }
        cost += wait
        p2m[i] = m
        regionBacked[r] += 1
        privatePages += 1
        kernel.hostPutContent(PFN(i), .zero)
        cost += host.costs.zero_fill.nanoseconds
        return cost
    }

    /// Drops whatever backs page `i` (balloon inflation): frees a private frame, a share, a
    /// cache entry or a swap slot. The contents are discarded (the guest gave the page away).
    func dropBacking(_ i: Int) {
        let v = p2m[i]
        if v == P2M.unbacked { return }
        if v == P2M.overdraft { overdraftPages -= 1; p2m[i] = P2M.unbacked; regionBacked[i >> 9] -= 1; return }
        let val = v & P2M.valueMask
        switch v & P2M.tagMask {
        case P2M.privateTag:
            if largeRegion[i >> 9] != 0 { breakLargePage(i >> 9, shareFirst: false) }
            host.releaseFrame(val)
            privatePages -= 1
        case P2M.sharedTag:
            host.sharing.dropMapping(self, i, node: val)
        case P2M.compressedTag:
            cache.remove(Int(val))
            host.adjustCacheFrames(self)
        default:
            freeSlot(val)
        }
        p2m[i] = P2M.unbacked
        regionBacked[i >> 9] -= 1
    }

    // MARK: - Balloon

    public func balloonInflated(pfn: PFN) {
        let i = Int(pfn)
        if p2m[i] != P2M.unbacked { stats.balloonReclaimed += 1 }
        dropBacking(i)
        kernel.setEPT(pfn, 0)
    }

    public func balloonDeflated(pfn: PFN) {
        stats.balloonReturned += 1
    }

    // MARK: - Large pages

    /// Breaks the large page of region `r` into 512 small pages (ESX does so from the clear
    /// state on, so that they can be shared, compressed or swapped). With `shareFirst`, subpages
    /// whose hashes the scanner precomputed are offered for sharing at once ("share before swap").
    /// Returns the frames freed by sharing.
    @discardableResult
    func breakLargePage(_ r: Int, shareFirst: Bool) -> Int {
        guard largeRegion[r] != 0 else { return 0 }
        largeRegion[r] = 0
        largePages -= 1
        stats.largePagesBroken += 1
        guard shareFirst else { return 0 }
        var freed = 0
        let start = r * 512
        for i in start..<min(start + 512, p2m.count) where p2m[i] & P2M.tagMask == P2M.privateTag && p2m[i] != P2M.unbacked {
            if host.sharing.shareBeforeSwap(self, i) { freed += 1 }
        }
        return freed
    }

    // MARK: - Compression and host swap

    /// Takes private page `i` out of memory: into the compression cache if it compresses below
    /// the threshold (and compression is on), else into the swap file. Returns false if it
    /// could not (no slot).
    func pageOutOne(_ i: Int, compress: Bool, swap: Bool) -> Bool {
        let v = p2m[i]
        precondition(v & P2M.tagMask == P2M.privateTag && v != P2M.unbacked && v != P2M.overdraft)
        if largeRegion[i >> 9] != 0 { breakLargePage(i >> 9, shareFirst: false) }
        let pfn = PFN(i)
        let content = kernel.content(of: pfn)
        if compress {
            let cfg = host.config.compression
            let limit = Int(Double(pageSize) * cfg.threshold.fraction)
            let stored: Int? = host.generator.withBytes(content) { bytes in
                host.compressor.compressPage(bytes, limit: limit)
            }
            host.compressorNs += host.costs.compress.nanoseconds
            if let size = stored {
                // Make room by moving the oldest entries to swap (ESX evicts cold compressed pages).
                while cache.bytes + CompressionCache.stride(size) > cache.limitBytes, let old = cache.oldest() {
                    if !evictFromCache(old) { break }
                }
                if cache.bytes + CompressionCache.stride(size) <= cache.limitBytes {
                    let e = cache.insert(host.compressor.lastOutput(size), pfn: UInt32(i), content: content)
                    _ = kernel.hostTakeContent(pfn)
                    p2m[i] = P2M.compressedTag | UInt32(e)
                    host.releaseFrame(v & P2M.valueMask)
                    privatePages -= 1
                    host.adjustCacheFrames(self)
                    stats.compressions += 1
                    kernel.setEPT(pfn, 0)
                    return true
                }
            } else {
                stats.compressionRejects += 1
            }
        }
        guard swap, let slot = allocateSlot() else { if swap { stats.swapFull += 1 }; return false }
        swapSlots[Int(slot)] = kernel.hostTakeContent(pfn)
        p2m[i] = P2M.swappedTag | slot
        host.releaseFrame(v & P2M.valueMask)
        privatePages -= 1
        swappedPages += 1
        stats.swapOuts += 1
        kernel.setEPT(pfn, 0)
        return true
    }

    /// Moves cache entry `e` to the swap file (decompressing it first, as the data must be
    /// written whole). False if the swap file is full.
    func evictFromCache(_ e: Int) -> Bool {
        guard host.config.swap.enabled, let slot = allocateSlot() else { return false }
        let pfn = Int(cache.owner[e])
        let content = cache.content[e]
        host.verifyDecompression(cache, e, expected: content, vm: self, pfn: pfn)
        cache.remove(e)
        host.adjustCacheFrames(self)
        swapSlots[Int(slot)] = content
        p2m[pfn] = P2M.swappedTag | slot
        swappedPages += 1
        stats.cacheEvictions += 1
        stats.swapOuts += 1
        return true
    }

    func allocateSlot() -> UInt32? {
        if let s = swapFreeSlots.popLast() { return s }
        guard swapSlots.count < swapCapacity, swapSlots.count < P2M.maxValue else { return nil }
        swapSlots.append(.zero)
        return UInt32(swapSlots.count - 1)
    }

    func freeSlot(_ s: UInt32) {
        swapSlots[Int(s)] = .zero
        swapFreeSlots.append(s)
        swappedPages -= 1
    }

    /// Access to a compressed page: a frame, decompression (verified in check mode), the
    /// cache entry freed.
    func decompressIn(_ i: Int) -> Int64 {
        guard let (m, wait) = host.obtainFrame(for: self) else {
            host.recordOutOfMemory(self, pfn: PFN(i))
            return 0
        }
        let e = Int(p2m[i] & P2M.valueMask)
        let content = cache.content[e]
        host.verifyDecompression(cache, e, expected: content, vm: self, pfn: i)
        cache.remove(e)
        host.adjustCacheFrames(self)
        kernel.hostPutContent(PFN(i), content)
        p2m[i] = m
        privatePages += 1
        stats.decompressions += 1
        host.compressorNs += host.costs.decompress.nanoseconds
        return wait + host.costs.decompress.nanoseconds
    }

    /// Access to a host-swapped page: a host-level major fault reading the swap file.
    func swapIn(_ i: Int) -> Int64 {
        guard let (m, wait) = host.obtainFrame(for: self) else {
            host.recordOutOfMemory(self, pfn: PFN(i))
            return 0
        }
        let slot = p2m[i] & P2M.valueMask
        kernel.hostPutContent(PFN(i), swapSlots[Int(slot)])
        freeSlot(slot)
        p2m[i] = m
        privatePages += 1
        stats.swapIns += 1
        return wait + host.config.swap.readLatency.nanoseconds
    }

    /// Picks up to `pages` victims and pages them out (compress first if `compress`).
    /// Victims are private small pages in a pseudo-random order (ESX), or with the
    /// `accessed` selection those whose EPT accessed bit is clear (clearing it as it goes).
    func reclaimByPaging(_ pages: Int, compress: Bool, swap: Bool) -> Int {
        let n = p2m.count
        var done = 0, visited = 0
        let useAccessed = host.config.swap.victim_selection == .accessed
        while done < pages && visited < 2 * n {
            let i = victimPosition
            victimPosition = (victimPosition + victimStride) % n
            visited += 1
            let v = p2m[i]
            guard v != P2M.unbacked && v != P2M.overdraft && v & P2M.tagMask == P2M.privateTag else { continue }
            if kernel.ept[i] & 3 == 0 && largeRegion[i >> 9] != 0 {
                // Untouched subpage of a large page: breaking and sharing is cheaper than swapping.
                continue
            }
            if useAccessed && kernel.testAndClearEPTAccessed(PFN(i)) { continue }
            if pageOutOne(i, compress: compress, swap: swap) { done += 1 } else if !compress || !swap { if swappedPages >= swapCapacity { break } }
        }
        return done
    }

    // MARK: - Invariants

    /// Problems with this VM's host state: counts agree with the p2m map.
    func checkInvariants() -> [String] {
        var priv = 0, shared = 0, zero = 0, comp = 0, swapped = 0, over = 0, large = 0
        var backedPerRegion = Array(repeating: 0, count: regionBacked.count)
        for (i, v) in p2m.enumerated() {
            if v == P2M.unbacked { continue }
            backedPerRegion[i >> 9] += 1
            if v == P2M.overdraft { over += 1; continue }
            switch v & P2M.tagMask {
            case P2M.privateTag: priv += 1
            case P2M.sharedTag:
                shared += 1
                if v & P2M.valueMask == 0 { zero += 1 }
            case P2M.compressedTag:
                comp += 1
                let e = Int(v & P2M.valueMask)
                if e >= cache.owner.count || cache.owner[e] != UInt32(i) { return ["vm \(name): pfn \(i) names cache entry \(e) that it does not own"] }
            default:
                swapped += 1
            }
        }
        for r in largeRegion where r != 0 { large += 1 }
        var p: [String] = []
        if priv != privatePages { p.append("vm \(name): p2m has \(priv) private frames, counter \(privatePages)") }
        if shared != sharedPages { p.append("vm \(name): p2m has \(shared) shared pages, counter \(sharedPages)") }
        if zero != zeroSharedPages { p.append("vm \(name): p2m has \(zero) zero-frame pages, counter \(zeroSharedPages)") }
        if comp != cache.count { p.append("vm \(name): p2m has \(comp) compressed pages, cache holds \(cache.count)") }
        if swapped != swappedPages { p.append("vm \(name): p2m has \(swapped) swapped pages, counter \(swappedPages)") }
        if swapped + swapFreeSlots.count != swapSlots.count { p.append("vm \(name): swap slots \(swapSlots.count) != used \(swapped) + free \(swapFreeSlots.count)") }
        if over != overdraftPages { p.append("vm \(name): p2m has \(over) overdraft pages, counter \(overdraftPages)") }
        if large != largePages { p.append("vm \(name): \(large) large regions, counter \(largePages)") }
        if backedPerRegion.map({ UInt16($0) }) != regionBacked { p.append("vm \(name): per-region backed counts disagree with the p2m") }
        if cache.frames != CompressionCache.framesFor(bytes: cache.bytes) { p.append("vm \(name): cache frames \(cache.frames) for \(cache.bytes) bytes") }
        if cache.bytes > cache.limitBytes { p.append("vm \(name): compression cache \(cache.bytes) B over its limit \(cache.limitBytes) B") }
        // Permissions: a shared page is never writable, an unbacked one never mapped.
        for (i, v) in p2m.enumerated() {
            let e = kernel.ept[i] & 3
            if v == P2M.unbacked || v == P2M.overdraft {
                if e != 0 && v == P2M.unbacked && kernel.frames.use(PFN(i)) != .balloon { p.append("vm \(name): unbacked pfn \(i) has EPT bits \(e)"); break }
            } else if v & P2M.tagMask == P2M.sharedTag && e & 2 != 0 {
                p.append("vm \(name): shared pfn \(i) is writable in the EPT"); break
            } else if (v & P2M.tagMask == P2M.compressedTag || v & P2M.tagMask == P2M.swappedTag) && e != 0 {
                p.append("vm \(name): pfn \(i) is out of memory but mapped in the EPT"); break
            }
        }
        return p
    }
}
