/// Belady's optimal replacement (OPT/MIN): evict the page whose next use is furthest away.
///
/// Needs the future, so it works only for trace replay, where the trace workload installs a
/// `FutureReferenceOracle`. Pages never used again go first. Selection scans every resident
/// page (O(n) per reclaim batch): meant for studies of small traces, as in libCacheSim.
public final class OptimalPolicy: ReplacementPolicy {
    public let kind = ReplacementPolicyKind.opt
    public let wantsAccessHook = false
    /// The guest's frame table, held strongly (it holds nothing back): an `unowned(unsafe)`
    /// reference was retained around every list operation.
    let frames: FrameTable
    let nextUse: (PFN) -> Int
    var resident = ResidentList()

    init(frames: FrameTable, nextUse: @escaping (PFN) -> Int) { self.frames = frames; self.nextUse = nextUse }

    public func add(_ pfn: PFN, anon: Bool, activate: Bool) { resident.add(pfn, anon: anon, in: frames) }
    public func remove(_ pfn: PFN) { resident.remove(pfn, in: frames) }
    public func accessed(_ pfn: PFN) {}
    public func markAccessed(_ pfn: PFN) {}

    public func isolateVictims(anon anonCount: Int, file fileCount: Int, into victims: inout [PFN], stats: inout VMStat) {
        let want = anonCount + fileCount
        guard want > 0 else { return }
        // Score every page once, then take the `want` furthest (ties: lower PFN first, deterministic).
        var scored: [(next: Int, pfn: PFN)] = []
        scored.reserveCapacity(resident.list.count)
        var p = resident.list.head
        while p != nilFrame {
            let isAnon = frames.use(p) == .activeAnon
            if !isAnon || anonCount > 0 { scored.append((nextUse(p), p)) }
            p = frames.next[Int(p)]
        }
        scored.sort { $0.next != $1.next ? $0.next > $1.next : $0.pfn < $1.pfn }
        for s in scored.prefix(want) { remove(s.pfn); victims.append(s.pfn) }
    }
    public func putBack(_ pfn: PFN, anon: Bool) { add(pfn, anon: anon, activate: true) }
    public func age(stats: inout VMStat) {}
    public func count(_ use: FrameUse) -> Int { resident.count(use) }
    public func checkInvariants() -> [String] { resident.checkInvariants("opt", in: frames) }
}

extension ReplacementPolicyKind {
    /// Belady's optimal (OPT/MIN, Belady 1966): evict the page used furthest in the future.
    public static let opt = ReplacementPolicyKind(
        name: "opt", summary: "Belady's OPT: evict the page referenced furthest in the future (trace replay only)",
        needsFutureReferences: true
    ) { OptimalPolicy(frames: $0.frames, nextUse: $0.nextUse) }
}
