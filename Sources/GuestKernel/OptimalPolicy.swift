/// Belady's optimal replacement (OPT/MIN): evict the page whose next use is furthest away.
///
/// Needs the future, so it works only for trace replay, where the trace workload installs a
/// `FutureReferenceOracle`. Pages never used again go first. Selection scans every resident
/// page (O(n) per reclaim batch): meant for studies of small traces, as in libCacheSim.
public final class OptimalPolicy: ReplacementPolicy {
    public let kind = ReplacementPolicyKind.opt
    public let wantsAccessHook = false
    unowned(unsafe) let frames: FrameTable
    let nextUse: (PFN) -> Int
    var list = FrameList()
    var anonCount = 0

    init(frames: FrameTable, nextUse: @escaping (PFN) -> Int) { self.frames = frames; self.nextUse = nextUse }

    public func add(_ pfn: PFN, anon: Bool, activate: Bool) {
        frames.setUse(pfn, anon ? .activeAnon : .activeFile)
        if anon { anonCount += 1 }
        list.pushHead(pfn, in: frames)
    }
    public func remove(_ pfn: PFN) {
        if frames.use(pfn) == .activeAnon { anonCount -= 1 }
        list.remove(pfn, in: frames)
        frames.setUse(pfn, .isolated)
    }
    public func accessed(_ pfn: PFN) {}
    public func markAccessed(_ pfn: PFN) {}

    public func isolateVictims(anon anonCount: Int, file fileCount: Int, into victims: inout [PFN], stats: inout VMStat) {
        let want = anonCount + fileCount
        guard want > 0 else { return }
        // Score every page once, then take the `want` furthest (ties: lower PFN first, deterministic).
        var scored: [(next: Int, pfn: PFN)] = []
        scored.reserveCapacity(list.count)
        var p = list.head
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
    public func count(_ use: FrameUse) -> Int {
        switch use { case .activeAnon: anonCount; case .activeFile: list.count - anonCount; default: 0 }
    }
    public func checkInvariants() -> [String] {
        let fs = list.frames(in: frames)
        return fs.count == list.count ? [] : ["opt: count \(list.count) but \(fs.count) linked"]
    }
}
