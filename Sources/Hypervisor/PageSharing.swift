import GuestKernel
import OvercommitSupport
import PageContents

/// Transparent page sharing: KSM's algorithm on page bytes, with ESX's salting and rates.
///
/// Each scanned page's bytes are hashed with XXH3-64 (libxxhash), seeded with the VM's salt.
/// The hash is looked up among the shared ("stable") frames; on a hit the 4096 bytes are
/// compared and only if equal is the page mapped read-only to the shared frame and its own
/// frame freed. Otherwise, as KSM does, the page's 32-bit checksum (the low half of the
/// hash) is compared with the one of its previous scan: a page that changed is volatile and
/// waits for the next scan; a stable page is looked up in the unstable table (candidates of
/// this full scan, emptied at the end of each full scan) and, after a byte comparison,
/// both pages are merged into a new shared frame. Zero pages go to one host-wide zero frame
/// (KSM `use_zero_pages`). Pages of intact large pages are never shared, but their hashes
/// are computed so they can be shared the moment the large page is broken (ESX).
///
/// Counters follow `/sys/kernel/mm/ksm`: pages_shared (shared frames), pages_sharing (guest
/// pages mapping them beyond the first = frames saved), pages_unshared (candidates in the
/// unstable table), pages_volatile (pages found changed in the last full scan), full_scans.
public final class PageSharing {
    unowned(unsafe) let host: HostMemory
    public let config: SharingConfig

    // Shared frames ("stable nodes"). Node 0 is the host zero frame (part of the hypervisor's memory).
    var nodeFrame: [UInt32] = [0]
    var nodeRefs: [Int] = [0]
    var nodeContent: [PageContent] = [.zero]
    var nodeHash: [UInt64] = [0]
    var nodeSalt: [UInt64] = [0]
    var freeNodes: [UInt32] = []
    /// Salted hash -> the newest shared frame with that content and room for more mappings.
    var stableIndex: [UInt64: UInt32] = [:]
    /// The unstable table: open addressing on the 32-bit checksum, holding global page references.
    var table: [UInt32] = Array(repeating: PageSharing.empty, count: 1024)
    var tableCount = 0
    static let empty: UInt32 = .max

    // Counters (KSM names).
    public internal(set) var pages_shared = 0
    public internal(set) var pages_sharing = 0
    public internal(set) var pages_volatile = 0
    public internal(set) var full_scans = 0
    /// Hash matches whose bytes differed (never shared).
    public internal(set) var false_matches = 0
    /// Unstable candidates that had changed since they were hashed (KSM's stale tree entries).
    public internal(set) var stale_candidates = 0
    public internal(set) var pages_scanned = 0
    /// Subpages of intact large pages hashed ahead of a break.
    public internal(set) var large_subpages_hashed = 0
    public internal(set) var hashes = 0
    public internal(set) var comparisons = 0
    /// Scanner CPU time from the cost model (hashing and comparing).
    public internal(set) var cpuNs: Int64 = 0
    var volatileThisScan = 0

    init(host: HostMemory, config: SharingConfig) {
        self.host = host
        self.config = config
    }

    /// Guest pages mapped to the host zero frame.
    public var zero_pages_sharing: Int { nodeRefs[0] }
    /// Candidates in the unstable table.
    public var pages_unshared: Int { tableCount }
    /// Machine frames holding shared pages (the zero frame excluded: it is the hypervisor's).
    public var sharedFrames: Int { pages_shared }

    // MARK: - Scanning

    /// Scans up to `budget` pages of `vm` from its cursor; returns how many it visited.
    /// A VM that finished its pass waits for the full scan to end.
    func scan(_ vm: VirtualMachine, budget: Int) -> Int {
        let n = vm.p2m.count
        var visited = 0
        while visited < budget && vm.scanPasses <= full_scans {
            let i = vm.scanPosition
            vm.scanPosition = config.scan_order == .random ? (i + vm.scanStride) % n : (i + 1) % n
            vm.scanSteps += 1
            if vm.scanSteps >= n { vm.scanSteps = 0; vm.scanPasses += 1 }
            visited += 1
            scanPage(vm, i, insert: true)
        }
        return visited
    }

    /// Ends a full scan when every powered-on VM finished its pass: empties the unstable table.
    func endFullScanIfDone(_ vms: [VirtualMachine]) {
        var any = false
        for vm in vms where vm.poweredOn {
            if vm.scanPasses <= full_scans { return }
            any = true
        }
        guard any else { return }
        full_scans += 1
        pages_volatile = volatileThisScan
        volatileThisScan = 0
        for k in table.indices { table[k] = PageSharing.empty }
        tableCount = 0
    }

    /// One page of the scan: hash, look up, compare, merge (see the type's description).
    /// With `insert` false (share before swap) the page is only matched, never added.
    func scanPage(_ vm: VirtualMachine, _ i: Int, insert: Bool) {
        let v = vm.p2m[i]
        guard v != P2M.unbacked && v != P2M.overdraft && v & P2M.tagMask == P2M.privateTag else { return }
        let inLarge = vm.largeRegion[i >> 9] != 0
        if inLarge && !config.precompute_large_page_hashes { return }
        pages_scanned += 1
        let content = vm.kernel.content(of: PFN(i))
        host.generator.withBytes(content) { bytes in
            let h = PageHash.xxh3(bytes, salt: vm.salt)
            hashes += 1
            cpuNs += host.costs.page_hash.nanoseconds
            let c = UInt32(truncatingIfNeeded: h)
            if inLarge {
                vm.checksum[i] = c
                large_subpages_hashed += 1
                return
            }
            if config.use_zero_pages && h == vm.zeroPageHash {
                comparisons += 1
                cpuNs += host.costs.page_compare.nanoseconds
                if PageCompare.isZero(bytes) { share(vm, i, node: 0); return }
                false_matches += 1
            }
            if let node = stableIndex[h] {
                let n = Int(node)
                if nodeSalt[n] == vm.salt && compare(bytes, nodeContent[n]) { share(vm, i, node: node); return }
                if nodeSalt[n] == vm.salt { false_matches += 1 }
            }
            if vm.checksum[i] != c {
                vm.checksum[i] = c
                volatileThisScan += 1
                return
            }
            let me = vm.pageRefBase + UInt32(i)
            var slot = home(c)
            var alreadyIn = false
            while table[slot] != PageSharing.empty {
                let ref = table[slot]
                if ref == me { alreadyIn = true } else {
                    let (other, j) = host.page(ref)
                    if other.checksum[j] == c && other.salt == vm.salt && other.p2m[j] & P2M.tagMask == P2M.privateTag
                        && other.p2m[j] != P2M.unbacked && other.p2m[j] != P2M.overdraft && other.largeRegion[j >> 9] == 0 {
                        if compare(bytes, other.kernel.content(of: PFN(j))) {
                            tableRemove(at: slot)
                            promote(other, j, hash: h)
                            share(vm, i, node: UInt32(other.p2m[j] & P2M.valueMask))
                            return
                        }
                        // Same checksum, different bytes: a changed candidate or a true collision.
                        let now = host.generator.withBytes(other.kernel.content(of: PFN(j))) { UInt32(truncatingIfNeeded: PageHash.xxh3($0, salt: other.salt)) }
                        if now == c { false_matches += 1 } else { stale_candidates += 1 }
                    }
                }
                slot += 1
                if slot == table.count { slot = 0 }
            }
            if insert && !alreadyIn { tableInsert(me, checksum: c) }
        }
    }

    /// Full 4096-byte comparison of `bytes` with the bytes of `other`.
    func compare(_ bytes: UnsafeRawPointer, _ other: PageContent) -> Bool {
        comparisons += 1
        cpuNs += host.costs.page_compare.nanoseconds
        return host.generator.withBytes(other) { PageCompare.equal(bytes, $0) }
    }

    /// Share-before-swap: a subpage of a just-broken large page whose hash was computed while
    /// it was large is matched at once (without waiting for the scanner to come back), and
    /// enters the unstable table if nothing matches.
    func shareBeforeSwap(_ vm: VirtualMachine, _ i: Int) -> Bool {
        guard vm.checksum[i] != 0 else { return false }
        let before = vm.privatePages
        scanPage(vm, i, insert: true)
        return vm.privatePages < before
    }

    // MARK: - Merging and unsharing

    /// Turns private page `j` of `vm` into a new shared frame (its machine frame becomes shared).
    func promote(_ vm: VirtualMachine, _ j: Int, hash: UInt64) {
        let node: UInt32
        let frame = vm.p2m[j] & P2M.valueMask
        let content = vm.kernel.content(of: PFN(j))
        if let f = freeNodes.popLast() {
            node = f
            nodeFrame[Int(f)] = frame; nodeRefs[Int(f)] = 1; nodeContent[Int(f)] = content
            nodeHash[Int(f)] = hash; nodeSalt[Int(f)] = vm.salt
        } else {
            node = UInt32(nodeFrame.count)
            nodeFrame.append(frame); nodeRefs.append(1); nodeContent.append(content)
            nodeHash.append(hash); nodeSalt.append(vm.salt)
        }
        vm.p2m[j] = P2M.sharedTag | node
        vm.privatePages -= 1
        vm.sharedPages += 1
        vm.stats.merges += 1
        pages_shared += 1
        stableIndex[hash] = node
        vm.kernel.setEPT(PFN(j), 1)
    }

    /// Maps private page `i` of `vm` to shared frame `node` and frees its own frame.
    func share(_ vm: VirtualMachine, _ i: Int, node: UInt32) {
        let frame = vm.p2m[i] & P2M.valueMask
        host.releaseFrame(frame)
        vm.privatePages -= 1
        vm.p2m[i] = P2M.sharedTag | node
        vm.sharedPages += 1
        vm.stats.merges += 1
        nodeRefs[Int(node)] += 1
        if node == 0 {
            vm.zeroSharedPages += 1
        } else {
            pages_sharing += 1
            if nodeRefs[Int(node)] >= config.max_page_sharing && stableIndex[nodeHash[Int(node)]] == node {
                stableIndex[nodeHash[Int(node)]] = nil
            }
        }
        vm.kernel.setEPT(PFN(i), 1)
    }

    /// Removes one mapping of shared frame `node` (the page is being unshared or dropped).
    func dropMapping(_ vm: VirtualMachine, _ i: Int, node: UInt32) {
        let n = Int(node)
        nodeRefs[n] -= 1
        vm.sharedPages -= 1
        if node == 0 { vm.zeroSharedPages -= 1; return }
        if nodeRefs[n] == 0 {
            host.releaseFrame(nodeFrame[n])
            pages_shared -= 1
            if stableIndex[nodeHash[n]] == node { stableIndex[nodeHash[n]] = nil }
            nodeContent[n] = .zero
            freeNodes.append(node)
        } else {
            pages_sharing -= 1
        }
    }

    /// A guest write to a shared page: copy it into a private frame (copy-on-write break).
    func breakCOW(_ vm: VirtualMachine, _ i: Int) -> Int64 {
        guard let (m, wait) = host.obtainFrame(for: vm) else {
            host.recordOutOfMemory(vm, pfn: PFN(i))
            return 0
        }
        let node = vm.p2m[i] & P2M.valueMask
        vm.p2m[i] = m
        vm.privatePages += 1
        dropMapping(vm, i, node: node)
        vm.stats.cowBreaks += 1
        return wait + host.costs.cow_break.nanoseconds
    }

    // MARK: - Unstable table

    /// Home slot of a checksum: the checksum is mixed, then mapped onto the table's size by
    /// multiply-shift (any size, so the table can grow by 1.5x rather than doubling).
    @inline(__always) func home(_ c: UInt32) -> Int {
        let mixed = (UInt64(c) &* 0x9E37_79B9_7F4A_7C15) >> 32
        return Int(truncatingIfNeeded: (mixed &* UInt64(table.count)) >> 32)
    }

    func tableInsert(_ ref: UInt32, checksum c: UInt32) {
        if (tableCount + 1) * 20 > table.count * 17 { growTable() }
        var slot = home(c)
        while table[slot] != PageSharing.empty { slot += 1; if slot == table.count { slot = 0 } }
        table[slot] = ref
        tableCount += 1
    }

    func checksumOf(_ ref: UInt32) -> UInt32 {
        let (vm, j) = host.page(ref)
        return vm.checksum[j]
    }

    /// Backward-shift deletion (linear probing without tombstones).
    func tableRemove(at start: Int) {
        let n = table.count
        var hole = start
        var k = hole + 1 == n ? 0 : hole + 1
        while table[k] != PageSharing.empty {
            let h = home(checksumOf(table[k]))
            // Move k into the hole if its home is not in (hole, k].
            let dist = (k - h + n) % n, holeDist = (k - hole + n) % n
            if dist >= holeDist {
                table[hole] = table[k]
                hole = k
            }
            k = k + 1 == n ? 0 : k + 1
        }
        table[hole] = PageSharing.empty
        tableCount -= 1
    }

    /// Grows the table by half (load at most 85 %, so 4.7 to 7 bytes per candidate).
    func growTable() {
        let old = table
        table = Array(repeating: PageSharing.empty, count: old.count + old.count / 2)
        for ref in old where ref != PageSharing.empty {
            var slot = home(checksumOf(ref))
            while table[slot] != PageSharing.empty { slot += 1; if slot == table.count { slot = 0 } }
            table[slot] = ref
        }
    }

    // MARK: - Invariants

    func checkInvariants(_ vms: [VirtualMachine]) -> [String] {
        var refs = Array(repeating: 0, count: nodeRefs.count)
        for vm in vms {
            for v in vm.p2m where v != P2M.unbacked && v != P2M.overdraft && v & P2M.tagMask == P2M.sharedTag {
                refs[Int(v & P2M.valueMask)] += 1
            }
        }
        var p: [String] = []
        if refs != nodeRefs { p.append("sharing: mapping counts of shared frames disagree with the p2m maps") }
        let live = (1..<nodeRefs.count).filter { nodeRefs[$0] > 0 }.count
        if live != pages_shared { p.append("sharing: \(live) live shared frames, pages_shared \(pages_shared)") }
        let sharing = (1..<nodeRefs.count).reduce(0) { $0 + max(0, nodeRefs[$1] - 1) }
        if sharing != pages_sharing { p.append("sharing: pages_sharing \(pages_sharing) != \(sharing)") }
        var inTable = 0
        for ref in table where ref != PageSharing.empty { inTable += 1 }
        if inTable != tableCount { p.append("sharing: unstable table holds \(inTable), count \(tableCount)") }
        return p
    }
}
