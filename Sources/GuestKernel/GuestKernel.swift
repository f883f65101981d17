import OvercommitSupport
import PageContents

/// The memory manager of one Linux-like guest: processes, page tables, the buddy allocator,
/// the page cache, LRU lists, kswapd, swap with a swap cache, overcommit accounting and the
/// OOM killer. It sees only guest-physical frames; the host behind them is `backing`.
public final class GuestKernel {
    public let name: String
    public let config: GuestKernelConfig
    public let costs: CostModel
    public let swapConfig: SwapDeviceConfig
    /// Per-frame state.
    public let frames: FrameTable
    /// The page allocator: one buddy allocator per NUMA node of the guest (`PageAllocator`).
    public internal(set) var buddy: PageAllocator
    /// The replacement policy (a `let`: the access and reclaim paths call it without
    /// reference counting).
    public let policy: any ReplacementPolicy
    public internal(set) var swap: SwapArea
    /// Every process's page-table leaves.
    public let pageTables: PageTablePool
    /// Processes indexed by pid (nil once gone). pid 0 is unused.
    public internal(set) var processes: [GuestProcess?] = [nil]
    /// The same table as unretained references, for the access path (no retain/release per access).
    var fastProcesses: [Unmanaged<GuestProcess>?] = [nil]
    /// Members of each anon_vma family, in pid order.
    var families: [[PID]] = []
    /// Family ids whose processes have all exited, reused last-freed first (deterministic).
    var freeFamilies: [RmapOwner] = []
    /// Most files a guest can have (registered files plus shmem objects): file ids are
    /// stored in the frames' 16-bit reverse map.
    public static let maxFiles = Int(RmapOwner.max) + 1
    public internal(set) var files: [GuestFile] = []
    var filesByPath: [String: FileID] = [:]
    public var vmstat = VMStat()
    /// Events since the engine last drained them.
    public var events: [KernelEvent] = []
    /// Simulated time in nanoseconds, set by the engine.
    public var now: Int64 = 0
    public internal(set) var panicked = false
    /// The host behind guest-physical memory (nil: always mapped, for unit tests), set by
    /// `attach(to:)`. The VM owns its guest, so this back reference is unowned (checked: a
    /// use after the VM is gone traps); it is taken only on second-level faults and balloon
    /// calls, never on an access that hits.
    public internal(set) unowned var backing: (any GuestPhysicalBacking)?
    /// Per frame, the EPT entry: bit 0 read, bit 1 write (the permissions the host granted),
    /// bit 2 accessed (set by the hardware walk when the translation is used; the host clears it
    /// to sample which pages are active). Stored in the frame table's flags word (`FrameFlag.eptMask`).
    public var ept: EPTEntries { EPTEntries(flags: frames.flags) }
    /// The EPT accessed bit.
    public static let eptAccessed: UInt8 = 4
    /// Per frame, the host node backing it plus one (0: none known, or read from every node's
    /// caches), as the host reports it (`GuestKernel+NUMA.swift`); nil on a one-node host.
    var frameHostNode: ZeroedBuffer<UInt8>?
    /// Per guest node, its host node plus one (empty until the host describes the VM's nodes).
    var nodeHostTags: [UInt8] = []
    /// The node the next process goes to (round robin at fork and exec).
    var nextProcessNode = 0
    /// Per guest node: kswapd runs that reclaimed for it, and the pages they freed.
    public internal(set) var nodeKswapd: [(wakeups: Int, stolen: Int)] = []
    /// The balloon device the VM presents (nil until the host plugs one in at power-on, or
    /// for a guest without a balloon driver).
    public internal(set) var balloonDevice: BalloonDevice?
    /// virtio-balloon DEFLATE_ON_OOM, as negotiated with the device.
    public var balloonDeflateOnOOM: Bool { balloonDevice?.deflateOnOOM ?? false }
    /// A free page reporting pass is scheduled and has not run yet (Linux's delayed work).
    var pageReportingPending = false
    /// Frames the balloon driver holds, in inflate order.
    public internal(set) var balloonFrames: [PFN] = []

    /// Frames the guest was configured with.
    public let totalPages: Int
    /// Frames the kernel keeps at boot (not in MemTotal).
    public let reservedPages: Int
    /// Present pages memory hotplug has not onlined (`GuestKernel+MemoryHotplug.swift`).
    public internal(set) var offlinePages = 0
    /// Pages memory hotplug onlined since boot (hv_balloon's `num_pages_onlined`).
    public internal(set) var hotAddedPages = 0
    /// MemTotal in pages (Linux's totalram_pages: onlined memory only).
    public var managedPages: Int { totalPages - reservedPages - offlinePages }
    /// Recomputed when memory is onlined, as `online_pages` -> `init_per_zone_wmark_min` does.
    public internal(set) var watermarks: Watermarks
    /// The single zero page mapped by reads of untouched anonymous memory.
    public let zeroPFN: PFN
    /// Committed_AS in pages.
    public internal(set) var committedAS = 0

    // Counters behind /proc/meminfo.
    public internal(set) var anonPages = 0
    public internal(set) var filePages = 0
    public internal(set) var shmemPages = 0
    public internal(set) var swapCachePages = 0
    public internal(set) var mlockedPages = 0
    public internal(set) var pageTableFrames = 0
    public internal(set) var balloonPages = 0
    public internal(set) var kernelFrames = 0
    /// Dirty page-cache pages (/proc/meminfo Dirty).
    public internal(set) var dirtyFilePages = 0

    let contentSeed: UInt64
    let kernelImageSeed: UInt64
    let kernelImagePages: Int
    var writeCounter: UInt64 = 0
    var kswapdWoken = false
    /// The process on whose behalf the kernel runs (for oom_kill_allocating_task); its node is
    /// the node the allocations prefer (the default memory policy: local).
    var current: PID = 0 {
        didSet { if buddy.isNUMA { setPreferredNode() } }
    }
    /// Counts evictions: the clock of Linux's workingset shadow entries.
    var evictionClock: UInt32 = 0
    /// Swap cache: frame -> slot.
    var frameSlot = SwapCacheIndex()
    var oracle: FutureReferenceOracle?
    /// Whether the replacement policy asks to see every access that hits (its
    /// `wantsAccessHook`, read once when the policy is built: the access path tests it).
    private(set) var policyWantsAccessHook = false
    var victimBuffer: [PFN] = []
    /// Refaults at the last thrashing check, and the state then.
    var lastRefaults = 0
    public internal(set) var thrashing = false
    /// Independent record of what every page should contain (enabled by `--check` and tests).
    public internal(set) var shadow: ContentShadow?
    /// The contents the write in progress stores (`access(_:_:storing:)`); nil: a fresh write.
    var storing: PageContent?
    /// The random virtual offset KASLR chose at this boot (0 without KASLR).
    let kaslrOffset: UInt64
    /// Kernel image pages carrying an absolute relocation, scaled to 2^53 (compared with a
    /// page's 53-bit hash).
    let relocatedThreshold: UInt64
    let defaultWriteStyles: [ContentStyle]
    /// zswap's entries or the zram device's table, with their zsmalloc pool in guest frames.
    public internal(set) var compressedSwap: CompressedSwap
    /// The codec of zswap (`zswap.compressor`) or zram (`comp_algorithm`); nil without either.
    let swapCodec: (any PageCodec)?
    /// Produces the bytes of page contents, for the codec.
    let generator: PageGenerator
    /// Writes into the pool's frames so far (each gives the frame new bytes).
    var zpoolWrites: UInt64 = 0
    /// Loads from zswap or zram whose bytes did not survive the codec (`--check` verifies).
    public internal(set) var compressionProblems: [String] = []
    /// One bit per aligned 2 MiB block of guest-physical frames: set while the block is one
    /// transparent huge page (a compound page, `GuestKernel+THP.swift`).
    var hugeBlocks: [UInt64]
    /// Transparent huge pages of anonymous memory in use (/proc/meminfo AnonHugePages / 2 MiB).
    public internal(set) var anonHugePages = 0
    /// khugepaged's position in its scan of the address spaces (`Khugepaged.swift`).
    var khugepagedScan = KhugepagedScan()

    /// Boots a guest with `memoryPages` frames of guest-physical memory.
    ///
    /// - Parameters:
    ///   - kernelImageSeed, kernelImagePages: the OS image's kernel text loaded at boot
    ///     (identical in every guest booted from the same image).
    ///   - kernelRelocated: fraction of the image's pages that hold an absolute relocation;
    ///     with `config.kaslr` those pages differ from one boot (one guest) to another.
    public init(
        name: String, memoryPages: Int, config: GuestKernelConfig, swap swapConfig: SwapDeviceConfig,
        costs: CostModel, seed: UInt64, kernelImageSeed: UInt64 = 0, kernelImagePages: Int = 0,
        kernelRelocated: Double = 0, generator: PageGenerator = PageGenerator()
    ) {
        precondition(memoryPages >= 4096, "a guest needs at least 16 MiB")
        precondition(memoryPages <= PTE.maxFrames, "a guest has at most 512 GiB")
        self.name = name
        self.config = config
        self.costs = costs
        self.swapConfig = swapConfig
        self.totalPages = memoryPages
        self.contentSeed = StableHash.mix(seed, StableHash.fnv1a64("guest-content:" + name))
        let derivedReserved = memoryPages * 15 / 1000 + 4096
        self.reservedPages = min(max(config.kernel_reserved?.pages ?? derivedReserved, 16), memoryPages / 2)
        frames = FrameTable(count: memoryPages)
        // Address space for every frame mapped twice (costs nothing until written).
        pageTables = PageTablePool(reserveEntries: 2 * memoryPages)
        hugeBlocks = Array(repeating: 0, count: (memoryPages / GuestKernel.hugePagePages + 63) / 64)
        zeroPFN = PFN(reservedPages - 1)
        self.kernelImageSeed = kernelImageSeed
        self.kernelImagePages = kernelImagePages
        kaslrOffset = config.kaslr ? StableHash.mix(contentSeed, StableHash.fnv1a64("kaslr")) | 1 : 0
        relocatedThreshold = UInt64(max(0, min(1, kernelRelocated)) * Double(UInt64(1) << 53))
        // Kernel memory: image text first, then kernel data (half zero, half sparse structures).
        for i in 0..<reservedPages {
            frames.setUse(PFN(i), .kernel)
            frames.content[i] = GuestKernel.kernelFrameContent(
                i, reserved: reservedPages, imagePages: kernelImagePages, imageSeed: kernelImageSeed,
                contentSeed: contentSeed, kaslrOffset: kaslrOffset, relocated: relocatedThreshold)
        }
        kernelFrames = reservedPages
        buddy = PageAllocator(frames: frames, managed: reservedPages..<memoryPages)
        watermarks = Watermarks(managedPages: memoryPages - reservedPages, config: config)
        swap = SwapArea(slots: swapConfig.size.pages)
        self.generator = generator
        if swapConfig.kind == .zram {
            compressedSwap = CompressedSwap(mode: .zram)
            swapCodec = CodecKind(rawValue: swapConfig.comp_algorithm)?.make()
        } else if config.zswap.enabled {
            compressedSwap = CompressedSwap(mode: .zswap)
            swapCodec = CodecKind(rawValue: config.zswap.compressor)?.make()
        } else {
            compressedSwap = CompressedSwap(mode: .none)
            swapCodec = nil
        }
        precondition(compressedSwap.mode == .none || swapCodec != nil, "\(name): unknown codec for zswap or zram")
        // The policy reaches the kernel through a handle filled in once `self` exists, so that
        // it can be a `let` (a call through a `var` existential retains and releases it).
        let handle = PolicyCallbacks()
        policy = config.replacement_policy.make(
            frames: frames, nextUse: { pfn in handle.kernel._withUnsafeGuaranteedRef { $0.nextUse(of: pfn) } },
            referenced: { pfn in handle.kernel._withUnsafeGuaranteedRef { $0.testAndClearReferenced(pfn) } })
        defaultWriteStyles = GuestKernel.styleTable([(.pointers, 0.4), (.text, 0.2), (.sparse, 0.2), (.random, 0.1), (.zero, 0.1)])
        policyWantsAccessHook = policy.wantsAccessHook
        handle.kernel = Unmanaged.passUnretained(self)
    }

    /// Boot writes every kernel frame (loading the image, initialising data), so the host backs them.
    public func boot() -> Int64 {
        var cost: Int64 = 0
        for i in 0..<reservedPages {
            cost += touch(PFN(i), write: true)
            frames.content[i] = GuestKernel.kernelFrameContent(
                i, reserved: reservedPages, imagePages: kernelImagePages, imageSeed: kernelImageSeed,
                contentSeed: contentSeed, kaslrOffset: kaslrOffset, relocated: relocatedThreshold)
        }
        return cost
    }

    /// What kernel frame `i` holds after boot: image text, then data (half zero, half sparse);
    /// the last reserved frame is the zero page. With KASLR, an image page holding an absolute
    /// relocation is patched with this boot's offset, so its bytes are this guest's own.
    static func kernelFrameContent(
        _ i: Int, reserved: Int, imagePages: Int, imageSeed: UInt64, contentSeed: UInt64,
        kaslrOffset: UInt64, relocated: UInt64
    ) -> PageContent {
        if i == reserved - 1 { return .zero }
        if i < imagePages {
            var seed = StableHash.mix(imageSeed, UInt64(i))
            if kaslrOffset != 0 && StableHash.mix(imageSeed, UInt64(i) | (1 << 52)) >> 11 < relocated {
                seed = StableHash.mix(seed, kaslrOffset)
            }
            return PageContent(style: .code, seed: seed)
        }
        if i % 2 == 0 { return .zero }
        return PageContent(style: .sparse, seed: StableHash.mix(contentSeed, UInt64(i) | (1 << 50)))
    }

    /// The layout execve gives process `pid` (`GuestProcess.layoutSeed`): fixed without
    /// randomisation, a fresh random value (deterministic per guest and pid) with it.
    func execLayout(_ pid: PID) -> UInt64 {
        config.randomize_va_space == 0 ? 0 : StableHash.mix(contentSeed, UInt64(UInt32(bitPattern: pid)) | (1 << 40)) | 1
    }

    /// Adds a process to both tables.
    func register(_ p: GuestProcess) {
        precondition(Int(p.pid) == processes.count)
        if !nodeHostTags.isEmpty { placeOnNode(p) }
        processes.append(p)
        fastProcesses.append(Unmanaged.passUnretained(p))
    }

    /// Removes a process from both tables.
    func unregister(_ pid: PID) {
        fastProcesses[Int(pid)] = nil
        processes[Int(pid)] = nil
    }

    /// 256 style picks in proportion to a mix (deterministic, no RNG).
    public static func styleTable(_ mix: [(ContentStyle, Double)]) -> [ContentStyle] {
        let total = mix.reduce(0) { $0 + max(0, $1.1) }
        guard total > 0 else { return Array(repeating: .random, count: 256) }
        var out: [ContentStyle] = []
        var acc = 0.0
        for (s, w) in mix {
            acc += max(0, w) / total
            let upto = Int((acc * 256).rounded())
            while out.count < min(upto, 256) { out.append(s) }
        }
        while out.count < 256 { out.append(mix.last!.0) }
        return out
    }

    // MARK: - Files

    /// Adds a file to the guest's file system. Equal `contentSeed`s give equal bytes across guests.
    public func registerFile(path: String, pages: Int, style: ContentStyle, contentSeed: UInt64, storedImage: Int? = nil) -> FileID {
        if let f = filesByPath[path] { return f }
        precondition(files.count < GuestKernel.maxFiles, "\(name): more than \(GuestKernel.maxFiles) files")
        let id = FileID(files.count)
        files.append(GuestFile(path: path, pages: max(1, pages), style: style, contentSeed: contentSeed, storedImage: storedImage))
        filesByPath[path] = id
        return id
    }
    public func fileID(path: String) -> FileID? { filesByPath[path] }
    public func filePages(_ f: FileID) -> Int { Int(f) < files.count ? files[Int(f)].pages : 0 }

    // MARK: - Processes

    /// Creates a new process with an empty address space (fork + execve of a new program).
    public func spawn(name: String, oomScoreAdj: Int = 0) -> PID {
        let pid = PID(processes.count)
        let fam: RmapOwner
        if let f = freeFamilies.popLast() {
            fam = f
            families[Int(f)] = [pid]
        } else if families.count < Int(RmapOwner.max) + 1 {
            fam = RmapOwner(families.count)
            families.append([pid])
        } else {
            // Every id is live: join an existing family. A coarser anon_vma stays correct (the
            // rmap walk checks each member's PTE), only slower, as Linux's anon_vma reuse.
            fam = RmapOwner(truncatingIfNeeded: pid)
            families[Int(fam)].append(pid)
        }
        let p = GuestProcess(pid: pid, name: name, family: fam, writeStyles: defaultWriteStyles)
        p.oomScoreAdj = max(-1000, min(1000, oomScoreAdj))
        p.layoutSeed = execLayout(pid)
        register(p)
        return pid
    }

    @inline(__always)
    public func process(_ pid: PID) -> GuestProcess? {
        let i = Int(pid)
        return i > 0 && i < processes.count ? processes[i] : nil
    }
    public func isAlive(_ pid: PID) -> Bool { process(pid) != nil }

    public func setOOMScoreAdj(_ pid: PID, _ adj: Int) { process(pid)?.oomScoreAdj = max(-1000, min(1000, adj)) }

    /// Styles of the pages this process writes (its compressibility mix).
    public func setAnonContentMix(_ pid: PID, _ mix: [(ContentStyle, Double)]) {
        process(pid)?.writeStyles = GuestKernel.styleTable(mix)
    }

    public func installOracle(_ o: FutureReferenceOracle) { oracle = o }

    /// Pids of live processes in pid order.
    public var livePIDs: [PID] { processes.compactMap { $0?.pid } }

    // MARK: - Content

    @inline(__always)
    func writtenContent(_ p: GuestProcess, _ pfn: Int) -> PageContent {
        if let c = storing { return c }
        writeCounter &+= 1
        let s = StableHash.mix(contentSeed, writeCounter)
        if frames.flags[pfn] & FrameFlag.anon != 0 {
            return PageContent(style: p.writeStyles[Int(s & 255)], seed: s >> 8)
        }
        return PageContent(style: files[Int(frames.rmapOwner[pfn])].style, seed: s >> 8)
    }

    func nextUse(of pfn: PFN) -> Int {
        guard let o = oracle else { return Int.max }
        var best = Int.max
        forEachMapping(of: pfn) { pid, vpn in best = min(best, o.nextUse(pid: pid, vpn: vpn)) }
        return best
    }

    // MARK: - Page tables

    /// Where `vpn`'s page-table entry is in the pool, if its page-table leaf exists.
    @inline(__always)
    func pteIndex(_ p: GuestProcess, _ vpn: VPN) -> Int? {
        let d = Int(truncatingIfNeeded: vpn >> 9)
        guard d < p.directory.count else { return nil }
        let leaf = p.directory[d]
        return leaf < 0 ? nil : Int(leaf) << 9 | Int(vpn & 511)
    }

    @inline(__always)
    func pteValue(_ p: GuestProcess, _ vpn: VPN) -> UInt32 {
        pteIndex(p, vpn).map { pageTables.entries[$0] } ?? 0
    }

    @inline(__always)
    /// Calls `body` with each PTE of `start..<end` in address order, skipping whole the 2 MiB
    /// spans whose page-table leaf was never allocated (the walk of `zap_pte_range` and
    /// `madvise_walk_vmas`); `body` returns false to stop the walk.
    func walkPTEs(_ p: GuestProcess, from start: VPN, to end: VPN, _ body: (VPN, PTE) -> Bool) {
        var vpn = start
        while vpn < end {
            let d = Int(truncatingIfNeeded: vpn >> 9)
            let leafEnd = min(end, (vpn | 511) + 1)
            if d >= p.directory.count { return }
            if p.directory[d] < 0 {
                vpn = leafEnd
                continue
            }
            while vpn < leafEnd {
                guard body(vpn, PTE(raw: pteValue(p, vpn))) else { return }
                vpn += 1
            }
        }
    }

    func setPTE(_ p: GuestProcess, _ vpn: VPN, _ v: UInt32) {
        let leaf = p.directory[Int(truncatingIfNeeded: vpn >> 9)]
        pageTables.entries[Int(leaf) << 9 | Int(vpn & 511)] = v
    }

    /// The page-table leaf for `vpn`, allocating it (a guest frame) if needed.
    func ensureLeaf(_ p: GuestProcess, _ vpn: VPN, cost: inout Int64) -> Bool {
        let d = Int(truncatingIfNeeded: vpn >> 9)
        if d >= p.directory.count {
            p.directory.append(contentsOf: repeatElement(-1, count: d + 1 - p.directory.count))
        }
        if p.directory[d] >= 0 { return true }
        guard let f = allocFrame(cost: &cost) else { return false }
        guard processes[Int(p.pid)] != nil else { freeFrame(f); return false }
        frames.setUse(f, .pageTable)
        cost += touch(f, write: true)
        frames.content[Int(f)] = .zero
        pageTableFrames += 1
        p.pageTablePages += 1
        p.directory[d] = pageTables.allocateLeaf(frame: f)
        return true
    }
}

/// How a guest's replacement policy calls back into its kernel (`nextUse` for OPT, the
/// accessed-bit test for the others): the kernel owns the policy, so the handle holds the
/// kernel unretained, and it is set at the end of the kernel's `init`, before any call.
final class PolicyCallbacks {
    var kernel: Unmanaged<GuestKernel>!
}
