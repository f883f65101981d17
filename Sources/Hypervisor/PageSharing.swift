import GuestKernel
import OvercommitSupport
import PageContents

/// Transparent page sharing: KSM's algorithm on page bytes, with ESX's salting and rates.
///
/// Each scanned page's bytes are hashed with XXH3-64 (libxxhash), seeded with the VM's salt.
/// The hash is looked up among the shared ("stable") frames (`SharedFrames`); on a hit the
/// 4096 bytes are compared and only if equal is the page mapped read-only to the shared frame
/// and its own frame freed. Otherwise, as KSM does, the page's 32-bit checksum (the low half
/// of the hash) is compared with the one of its previous scan: a page that changed is
/// volatile and waits for the next scan; a stable page is looked up in the unstable table
/// (candidates of this full scan, emptied at the end of each full scan) and, after a byte
/// comparison, both pages are merged into a new shared frame. Zero pages go to one host-wide
/// zero frame (KSM `use_zero_pages`). Pages of intact large pages are never shared, but their
/// hashes are computed so they can be shared the moment the large page is broken (ESX).
///
/// This is host-wide work, run at host synchronisation points (the scanner's wake-ups, and
/// share-before-swap when the reclaim scheduler breaks large pages). It keeps its own state
/// (the unstable table, one cursor per VM, counters) and changes a VM's backing only through
/// the VM's methods; the VMs are passed in (`on host:`), never stored.
///
/// Counters follow `/sys/kernel/mm/ksm`: pages_shared (shared frames), pages_sharing (guest
/// pages mapping them beyond the first = frames saved), pages_unshared (candidates in the
/// unstable table), pages_volatile (pages found changed in the last full scan), full_scans.
public final class PageSharing {
    public let config: SharingConfig
    let shared: SharedFrames
    let costs: CostModel
    let generator: PageGenerator

    /// The unstable table: global page references keyed by their 32-bit checksum, at most
    /// 85 % full (4.7 to 7 bytes per candidate).
    var table = ProbeTable(slots: 1024, maxLoadPer20: 17)
    /// Where the scanner is in each VM (by VM index; KSM's `mm_slot` cursor).
    var cursors: [ScanCursor] = []

    // Counters (KSM names).
    public private(set) var pages_volatile = 0
    public private(set) var full_scans = 0
    /// Hash matches whose bytes differed (never shared).
    public private(set) var false_matches = 0
    /// Unstable candidates that had changed since they were hashed (KSM's stale tree entries).
    public private(set) var stale_candidates = 0
    public private(set) var pages_scanned = 0
    /// Subpages of intact large pages hashed ahead of a break.
    public private(set) var large_subpages_hashed = 0
    public private(set) var hashes = 0
    public private(set) var comparisons = 0
    /// Scanner CPU time from the cost model (hashing and comparing).
    public private(set) var cpuNs: Int64 = 0
    var volatileThisScan = 0
    /// Hashes computed ahead for the current wake-up, by VM index (`PageSharing+Ahead.swift`).
    var ahead: [AheadHashes] = []
    /// Pages whose hash the scan took from `ahead` (not an output: a check that it works).
    var aheadUsed = 0
    /// Hashes of contents scanned before (`PageHashMemo`): a page found unchanged on the
    /// scanner's next pass is not generated and hashed again.
    let hashMemo = PageHashMemo()
    /// Pages whose hash the memo answered (not an output: a check that it works).
    var memoUsed = 0
    /// Whether the scan consults the memo (tests turn it off to compare).
    var memoEnabled = true
    /// Check mode: re-hash the bytes of every page the memo answers.
    var verifyMemo = false
    /// Memo answers that differed from the bytes' hash (check mode), not yet reported.
    var memoProblems: [String] = []
    /// KSM merge_across_nodes (the host keeps it equal to the tunable): false keeps the
    /// shared and unstable sets per NUMA node, so pages merge only with pages on their node.
    var mergeAcrossNodes = true
    /// NUMA nodes of the host.
    let nodeCount: Int

    init(config: SharingConfig, shared: SharedFrames, costs: CostModel, generator: PageGenerator) {
        self.config = config
        self.shared = shared
        nodeCount = shared.frames.nodeCount
        mergeAcrossNodes = config.merge_across_nodes == 1
        self.costs = costs
        self.generator = generator
    }

    /// Shared frames (KSM pages_shared; the zero frame excluded: it is the hypervisor's).
    public var pages_shared: Int { shared.pages_shared }
    /// Mappings of shared frames beyond the first (KSM pages_sharing: frames saved).
    public var pages_sharing: Int { shared.pages_sharing }
    /// Guest pages mapped to the host zero frame.
    public var zero_pages_sharing: Int { shared.zeroPagesSharing }
    /// Candidates in the unstable table.
    public var pages_unshared: Int { table.count }
    /// Machine frames holding shared pages (the zero frame excluded: it is the hypervisor's).
    public var sharedFrames: Int { shared.pages_shared }

    /// Starts scanning a new VM at `cursor`.
    func addCursor(_ cursor: ScanCursor) { cursors.append(cursor) }

    /// Whether `vm` finished its pass of the current full scan (it waits for the others).
    func hasFinishedPass(_ vm: VirtualMachine) -> Bool { cursors[vm.index].passes > full_scans }

    // MARK: - Scanning

    /// Scans up to `budget` pages of `vm` from its cursor. A VM that finished its pass waits
    /// for the full scan to end. `scanned` is the pages visited, `reclaimed` the machine frames
    /// freed by merges.
    func scan(_ vm: VirtualMachine, budget: Int, on host: HostMemory) -> ReclaimOutcome {
        let n = vm.configuredPages
        var out = ReclaimOutcome()
        // With an experiment's shared memo, the hashes the next pages need are taken from it a
        // batch at a time (unless they were hashed ahead on the worker threads).
        let adopt = memoEnabled && hashMemo.shared != nil && (vm.index >= ahead.count || ahead[vm.index].pages.isEmpty)
        while out.scanned < budget && !hasFinishedPass(vm) {
            if adopt && out.scanned % PageSharing.adoptBatch == 0 { adoptSharedHashes(vm, count: min(PageSharing.adoptBatch, budget - out.scanned)) }
            let i = cursors[vm.index].advance(pages: n, random: config.scan_order == .random)
            out.scanned += 1
            if scanPage(vm, i, insert: true, on: host).freedFrame { out.reclaimed += 1 }
        }
        return out
    }

    /// Pages whose hashes are taken from the shared memo in one batch.
    static let adoptBatch = 256

    /// Brings into the host's memo the hashes the experiment's shared memo knows for the
    /// contents of the next `count` pages the scan visits in `vm` (those the scan hashes:
    /// private, and not in a large page unless large pages' hashes are precomputed). Only the
    /// simulator's speed depends on it.
    func adoptSharedHashes(_ vm: VirtualMachine, count: Int) {
        let precompute = config.precompute_large_page_hashes
        let contents = upcomingPages(vm, count: count).compactMap { p -> PageContent? in
            let i = Int(p)
            guard vm.p2m.isPrivate(i), precompute || !vm.isInLargePage(i) else { return nil }
            return vm.guest.content(of: PFN(i))
        }
        hashMemo.adoptShared(contents, salt: vm.salt)
    }

    /// Ends a full scan when every powered-on VM finished its pass: empties the unstable table.
    func endFullScanIfDone(on host: HostMemory) {
        var any = false
        for vm in host.vms where vm.poweredOn {
            if !hasFinishedPass(vm) { return }
            any = true
        }
        guard any else { return }
        full_scans += 1
        pages_volatile = volatileThisScan
        volatileThisScan = 0
        table.removeAll()
    }

    /// Empties the unstable table (KSM's `run` 2 removes every rmap item): the next scan
    /// starts collecting candidates afresh.
    func forgetCandidates() {
        table.removeAll()
    }

    /// What scanning one page did.
    enum PageScanResult {
        /// Not a candidate (not a private page, or in a large page without precomputed hashes).
        case skipped
        /// A subpage of an intact large page: hashed and its checksum kept for a later break.
        case hashedInLargePage
        /// Merged into the host zero frame, an existing shared frame, or with an unstable
        /// candidate into a new shared frame: one machine frame freed.
        case mergedWithZeroFrame, mergedWithSharedFrame, mergedWithCandidate
        /// Its checksum changed since the previous scan (KSM volatile): waits for the next.
        case volatile
        /// Stable but unmatched: in the unstable table (or, for share before swap, not added).
        case candidate, unmatched

        var freedFrame: Bool { self == .mergedWithZeroFrame || self == .mergedWithSharedFrame || self == .mergedWithCandidate }
    }

    /// One page of the scan: hash, look up, compare, merge (see the type's description).
    /// With `insert` false the page is only matched, never added to the unstable table.
    func scanPage(_ vm: VirtualMachine, _ i: Int, insert: Bool, on host: HostMemory) -> PageScanResult {
        let aheadHash = takeAheadHash(vm, i)
        guard vm.p2m.isPrivate(i) else { return .skipped }
        let inLarge = vm.isInLargePage(i)
        if inLarge && !config.precompute_large_page_hashes { return .skipped }
        pages_scanned += 1
        let content = vm.guest.content(of: PFN(i))
        if let h = aheadHash { return scanPage(vm, i, content: content, hash: h, bytes: nil, inLarge: inLarge, insert: insert, on: host) }
        if memoEnabled, let h = hashMemo.lookupOrAdopt(content, salt: vm.salt) {
            memoUsed += 1
            if verifyMemo { verifyMemoHash(h, of: content, vm: vm, page: i) }
            return scanPage(vm, i, content: content, hash: h, bytes: nil, inLarge: inLarge, insert: insert, on: host)
        }
        return generator.withBytes(content) { bytes -> PageScanResult in
            let h = PageHash.xxh3(bytes, salt: vm.salt)
            if memoEnabled { hashMemo.storeComputed(content, salt: vm.salt, hash: h) } else { hashMemo.store(content, salt: vm.salt, hash: h) }
            return scanPage(vm, i, content: content, hash: h, bytes: bytes, inLarge: inLarge, insert: insert, on: host)
        }
    }

    /// Check mode: the memo's hash `h` of `content` against the hash of its generated bytes.
    func verifyMemoHash(_ h: UInt64, of content: PageContent, vm: VirtualMachine, page i: Int) {
        let real = generator.withBytes(content) { PageHash.xxh3($0, salt: vm.salt) }
        if real != h {
            memoProblems.append("sharing: vm \(vm.name) pfn \(i): the hash memo gave \(h) for \(content), its bytes hash to \(real)")
        }
    }

    /// The memo problems found since the last call.
    func takeMemoProblems() -> [String] {
        defer { memoProblems.removeAll() }
        return memoProblems
    }

    /// The rest of a page's scan once its hash `h` is known. `bytes` are the page's bytes when
    /// they were generated to hash it; nil when the hash was computed ahead, and then they are
    /// generated only if a comparison needs them.
    private func scanPage(
        _ vm: VirtualMachine, _ i: Int, content: PageContent, hash h: UInt64, bytes: UnsafeRawPointer?, inLarge: Bool, insert: Bool,
        on host: HostMemory
    ) -> PageScanResult {
        func withPageBytes<R>(_ body: (UnsafeRawPointer) -> R) -> R {
            if let b = bytes { return body(b) }
            return generator.withBytes(content, body)
        }
        hashes += 1
        cpuNs += costs.page_hash.nanoseconds
        let c = UInt32(truncatingIfNeeded: h)
        if inLarge {
            vm.recordChecksum(i, c)
            large_subpages_hashed += 1
            return .hashedInLargePage
        }
        if config.use_zero_pages && h == vm.zeroPageHash {
            comparisons += 1
            cpuNs += costs.page_compare.nanoseconds
            if withPageBytes({ PageCompare.isZero($0) }) {
                vm.mergeIntoSharedFrame(i, node: SharedFrames.zeroNode)
                return .mergedWithZeroFrame
            }
            false_matches += 1
        }
        // merge_across_nodes 0: one stable tree per node, here one key space per node.
        let pageNode = mergeAcrossNodes || nodeCount == 1 ? -1 : vm.backingNode(i) ?? -1
        let key = pageNode < 0 ? h : PageSharing.nodeKey(h, node: pageNode)
        if let node = shared.lookup(key) {
            let sameSalt = shared.salt(of: node) == vm.salt
            if sameSalt && withPageBytes({ compare($0, shared.content(of: node)) }) {
                vm.mergeIntoSharedFrame(i, node: node)
                return .mergedWithSharedFrame
            }
            if sameSalt { false_matches += 1 }
        }
        if vm.recordChecksum(i, c) {
            volatileThisScan += 1
            return .volatile
        }
        let me = vm.pageRefBase + UInt32(i)
        var slot = table.home(UInt64(c))
        var alreadyIn = false
        while table.slots[slot] != ProbeTable.empty {
            let ref = table.slots[slot]
            if ref == me {
                alreadyIn = true
            } else {
                let (other, j) = host.page(ref)
                if other.checksum[j] == c && other.salt == vm.salt && other.isMergeable(j)
                    && (pageNode < 0 || other.backingNode(j) == pageNode)
                {
                    let candidate = other.guest.content(of: PFN(j))
                    if withPageBytes({ compare($0, candidate) }) {
                        table.remove(at: slot) { checksumKey($0, on: host) }
                        let node = other.promoteToSharedFrame(j, hash: key)
                        vm.mergeIntoSharedFrame(i, node: node)
                        return .mergedWithCandidate
                    }
                    // Same checksum, different bytes: a changed candidate or a true collision.
                    let now = generator.withBytes(candidate) { UInt32(truncatingIfNeeded: PageHash.xxh3($0, salt: other.salt)) }
                    if now == c { false_matches += 1 } else { stale_candidates += 1 }
                }
            }
            slot = table.next(slot)
        }
        if insert && !alreadyIn { table.insert(me, key: UInt64(c)) { checksumKey($0, on: host) } }
        return insert || alreadyIn ? .candidate : .unmatched
    }

    /// The stable index's key of hash `h` for a page on `node` when pages merge only within
    /// their node (merge_across_nodes 0).
    static func nodeKey(_ h: UInt64, node: Int) -> UInt64 { h ^ (UInt64(node + 1) &* 0x9E37_79B9_7F4A_7C15) }

    /// Full 4096-byte comparison of `bytes` with the bytes of `other`.
    func compare(_ bytes: UnsafeRawPointer, _ other: PageContent) -> Bool {
        comparisons += 1
        cpuNs += costs.page_compare.nanoseconds
        return generator.withBytes(other) { PageCompare.equal(bytes, $0) }
    }

    /// Share before swap: a subpage of a just-broken large page whose hash was computed while
    /// it was large is matched at once (without waiting for the scanner to come back), and
    /// enters the unstable table if nothing matches. True if that freed its frame.
    func shareBeforeSwap(_ vm: VirtualMachine, _ i: Int, on host: HostMemory) -> Bool {
        guard vm.p2m.isPrivate(i), vm.checksum[i] != 0 else { return false }
        return scanPage(vm, i, insert: true, on: host).freedFrame
    }

    // MARK: - Unstable table

    /// The unstable table's key of page reference `ref`: its page's checksum.
    func checksumKey(_ ref: UInt32, on host: HostMemory) -> UInt64 {
        let (vm, j) = host.page(ref)
        return UInt64(vm.checksum[j])
    }

    // MARK: - Invariants

    /// The shared frames' mapping counts against the VMs' p2m maps, KSM's counters, and the
    /// unstable table's count.
    func checkInvariants(on host: HostMemory) -> [String] {
        var refs = Array(repeating: 0, count: shared.nodeSlots)
        for vm in host.vms { vm.countSharedMappings(into: &refs) }
        var p = shared.checkInvariants(mappings: refs)
        let inTable = table.entries.count
        if inTable != table.count { p.append("sharing: unstable table holds \(inTable), count \(table.count)") }
        return p
    }
}

/// The sharing scanner's position in one VM: the next page, the pseudo-random stride (ESX's
/// random order; 1 step for KSM's sequential order), and the passes completed.
struct ScanCursor {
    var position: Int
    let stride: Int
    var steps = 0
    var passes = 0

    /// The page to scan now; moves on, counting a pass every `pages` steps.
    mutating func advance(pages n: Int, random: Bool) -> Int {
        let i = position
        position = random ? (i + stride) % n : (i + 1) % n
        steps += 1
        if steps >= n { steps = 0; passes += 1 }
        return i
    }
}
