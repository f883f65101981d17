import GuestKernel
import HostPolicies
import OvercommitSupport
import PageContents

/// One VM's guest-physical memory as the host backs it: the p2m map, large pages, sharing
/// checksums, compression cache and swap file, and the counters and statistics that follow
/// from them.
///
/// Follows ESXi's model: guest-physical memory is backed lazily on first touch (with a 2 MiB
/// large page when the host is in the high state); the host may share, compress, swap or
/// (through the balloon) drop what backs a page, and brings it back on the next access.
///
/// The VM owns its guest and all of this state: only its own methods (in the
/// `VirtualMachine+*.swift` files) change it, and those called by host-wide services
/// (sharing scanner, reclaim mechanisms, active-memory sampling) return what they did. It
/// reaches the host only through `HostServices`, and its guest only through the
/// `GuestPhysicalMemory` protocol.
public final class VirtualMachine: GuestPhysicalBacking {
    /// The part of the host the VM uses (frames, shared frames, costs, events).
    let host: HostServices
    public let index: Int
    public let name: String
    /// The guest running in this VM, as the host sees it.
    public let guest: any GuestPhysicalMemory
    public let settings: VMResourceSettings
    /// The balloon driver's and the balloon policies' per-VM settings.
    public let balloonSettings: BalloonVMSettings

    // MARK: Backing state

    /// Guest-physical page -> where it lives.
    var p2m: P2MMap
    /// KSM's rmap_item->oldchecksum: the low 32 bits of the page's (salted) xxh3 at its last scan.
    var checksum: ZeroedBuffer<UInt32>
    /// Per 2 MiB region: 1 while an intact large page backs it.
    var largeRegion: [UInt8]
    /// Per 2 MiB region: subpages backed by anything (a region with none can take a large page).
    var regionBacked: [UInt16]
    /// The host swap file (a slot holds the page's contents while swapped).
    var swapSlots: [PageContent] = []
    var swapFreeSlots: [UInt32] = []
    /// The compression cache.
    var cache: CompressionCache
    /// The VM's compressor (codec, scratch buffers, CPU time, decompression problems).
    let compressor: PageCompressor

    /// First global page reference of this VM (the sharing tables name pages by reference).
    let pageRefBase: UInt32
    /// Seed of this VM's page hashes (ESX salting).
    let salt: UInt64
    /// The salted hash of the zero page (the zero-page test's first step).
    let zeroPageHash: UInt64

    /// Its home node and virtual nodes on a NUMA host (set at power-on).
    public internal(set) var numa = VMNUMAPlacement()
    /// Linux's numastat for this VM's page allocations, per host node: numa_hit, numa_miss,
    /// numa_foreign (3 entries per node; empty on a one-node host).
    public internal(set) var numaStat: [Int] = []

    /// The VM's grant and deferred host changes while it runs in a parallel round.
    var round: VMRound?
    /// Frames and large pages the VM takes at the start of its next round (twice what it took
    /// in its last one, within bounds).
    var nextGrant = VirtualMachine.minimumGrant
    var nextLargeGrant = 0
    static let minimumGrant = 16, maximumGrant = 1 << 16, maximumLargeGrant = 64
    /// Victims whose compressed size host paging took from its plan (`CompressAhead`).
    var compressedAhead = 0

    // MARK: Counters (kept equal to the p2m map; checked by `checkInvariants`)

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
    public let swapCapacity: Int
    public internal(set) var swappedPages = 0
    public internal(set) var stats = VMHostStats()
    /// The balloon size the host asks for (pages): the balloon policy's last target.
    public internal(set) var balloonTarget = 0
    /// The guest's last answer on the stats virtqueue (nil before the first poll).
    public internal(set) var lastStatsReport: GuestStatsReport?
    /// Active memory: the statistical estimate (fraction) and the true share touched in the last period.
    public internal(set) var activeEstimate = 1.0
    public internal(set) var trueActivePages = 0
    public internal(set) var sampledTouched = 0
    public internal(set) var activePeriods = 0
    /// Hyper-V Smart Paging: the memory the host could back when the VM started, while the
    /// VM pages the rest to its swap file (`VirtualMachine+SmartPaging.swift`); nil when unused.
    public internal(set) var smartPagingLimit: Int?

    /// A VM for `guest`, powered off. `victimRNG` seeds the host-paging victim draws.
    init(
        host: HostServices, index: Int, name: String, guest: any GuestPhysicalMemory, settings: VMResourceSettings,
        balloon: BalloonVMSettings, pageRefBase: UInt32, salt: UInt64, victimRNG rng: inout Xoshiro256
    ) {
        self.host = host
        self.index = index
        self.name = name
        self.guest = guest
        self.settings = settings
        self.balloonSettings = balloon
        self.pageRefBase = pageRefBase
        self.salt = salt
        zeroPageHash = host.generator.withBytes(.zero) { PageHash.xxh3($0, salt: salt) }
        let n = guest.totalPages
        // Two draws, as the victim cursor's stride and start once took: the VM's other
        // streams (the scanner's start) stay where they were.
        let victimSeed = rng.next()
        _ = rng.next()
        p2m = P2MMap(pages: n, victimRNG: Xoshiro256(seed: victimSeed, component: "host-paging-victims"))
        checksum = ZeroedBuffer(count: n)
        let regions = (n + 511) / 512
        largeRegion = Array(repeating: 0, count: regions)
        regionBacked = Array(repeating: 0, count: regions)
        swapCapacity = host.config.swap.enabled ? max(0, n - settings.reservationPages) : 0
        cache = CompressionCache(limitBytes: Int(Double(n) * host.config.compression.cache_size.fraction) * pageSize)
        compressor = PageCompressor(codec: (CodecKind(rawValue: host.config.compression.codec) ?? .lz4).make())
        let nodes = host.frames.nodeCount
        numaStat = nodes > 1 ? Array(repeating: 0, count: 3 * nodes) : []
        if let startup = balloon.startup_memory { guest.bootWithStartupMemory(pages: startup.pages) }
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

    /// Power-on after admission control: the host reserved `overheadPages` for the VM; the
    /// guest gets its balloon device if it runs a driver.
    func powerOn(overheadPages: Int) {
        self.overheadPages = overheadPages
        poweredOn = true
        presentNUMANodes()
        if settings.balloonDriver {
            let perPoll = Int(Double(balloonSettings.rate.pages) * Double(balloonSettings.poll_interval.nanoseconds) / 1e9)
            let b = balloonSettings
            let reporting =
                b.free_page_reporting
                ? FreePageReporting(order: b.reporting_order, delayNs: b.reporting_delay.nanoseconds, capacity: b.reporting_capacity) : nil
            guest.plugBalloonDevice(
                BalloonDevice(
                    pagesPerPoll: perPoll, deflateOnOOM: settings.balloonDeflateOnOOM,
                    freePageReporting: reporting))
        }
        startSmartPagingIfShort()
    }

    public var configuredPages: Int { guest.totalPages }
    /// Machine frames the VM consumes: private frames and its compression cache (ESX "consumed"
    /// minus shared frames, which the host counts once).
    public var consumedPages: Int { privatePages + cache.frames }
    /// Pages in the compression cache and their compressed bytes.
    public var compressedPages: Int { cache.count }
    public var compressedBytes: Int { cache.bytes }
    public var cacheFrames: Int { cache.frames }
    /// The compression cache limit in bytes.
    public var cacheLimitBytes: Int { cache.limitBytes }
    public var balloonPages: Int { guest.balloonPages }
    /// Compression and decompression CPU time (cost model) spent on this VM's pages.
    public var compressorNs: Int64 { compressor.cpuNs }
}
