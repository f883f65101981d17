/// Textbook replacement policies over one list of resident pages: exact LRU, FIFO, CLOCK.
///
/// Pages keep `FrameUse.activeAnon`/`.activeFile` for /proc/meminfo; the list order is the
/// policy's own. LRU moves a page to the head on every access; FIFO never reorders; CLOCK
/// sweeps from the tail giving pages whose accessed bit is set a second chance (the bit is
/// cleared and the page goes to the head, which is the hand moving past it).
public final class SingleListPolicy: ReplacementPolicy {
    public enum Mode { case lru, fifo, clock }
    public let mode: Mode
    public var kind: ReplacementPolicyKind {
        switch mode {
        case .lru: .lru;
        case .fifo: .fifo;
        case .clock: .clock
        }
    }
    public var wantsAccessHook: Bool { mode == .lru }
    /// The guest's frame table, held strongly (it holds nothing back): an `unowned(unsafe)`
    /// reference was retained around every list operation.
    let frames: FrameTable
    /// page_referenced(): tests and clears the page's accessed bits.
    let referenced: (PFN) -> Bool
    var resident = ResidentList()

    init(frames: FrameTable, mode: Mode, referenced: @escaping (PFN) -> Bool) {
        self.frames = frames; self.mode = mode; self.referenced = referenced
    }

    public func add(_ pfn: PFN, anon: Bool, activate: Bool) { resident.add(pfn, anon: anon, in: frames) }
    public func remove(_ pfn: PFN) { resident.remove(pfn, in: frames) }

    public func accessed(_ pfn: PFN) {
        // Only pages on the list move (not the zero page, kernel or mlocked pages).
        guard mode == .lru, resident.list.head != pfn, frames.use(pfn).isLRU else { return }
        resident.list.remove(pfn, in: frames)
        resident.list.pushHead(pfn, in: frames)
    }

    public func markAccessed(_ pfn: PFN) {
        if mode == .lru { accessed(pfn) } else { frames.set(pfn, FrameFlag.accessed) }
    }

    /// Textbook policies do not tell anonymous from file pages: they take victims in list
    /// order; anonymous pages are skipped only when anonymous reclaim is not allowed (no swap).
    public func isolateVictims(anon anonCount: Int, file fileCount: Int, into victims: inout [PFN], stats: inout VMStat) {
        var want = anonCount + fileCount
        let anonAllowed = anonCount > 0
        var scanned = 0
        let limit = resident.list.count * 2 + 1
        var p = resident.list.tail
        while want > 0 && p != nilFrame && scanned < limit {
            scanned += 1
            let prev = frames.prev[Int(p)]
            if mode == .clock && referenced(p) {
                resident.list.remove(p, in: frames)
                resident.list.pushHead(p, in: frames)
                stats.pgrotated += 1
                p = prev == nilFrame ? resident.list.tail : prev
                continue
            }
            if frames.use(p) == .activeAnon && !anonAllowed { p = prev; continue }
            remove(p)
            victims.append(p)
            want -= 1
            p = prev
        }
    }

    public func putBack(_ pfn: PFN, anon: Bool) { add(pfn, anon: anon, activate: true) }
    public func age(stats: inout VMStat) {}
    public func count(_ use: FrameUse) -> Int { resident.count(use) }
    public func checkInvariants() -> [String] { resident.checkInvariants("\(kind)", in: frames) }
}

extension ReplacementPolicyKind {
    /// Exact least-recently-used: every access moves the page to the head.
    public static let lru = ReplacementPolicyKind(name: "lru", summary: "exact LRU: each access moves the page to the list head") {
        SingleListPolicy(frames: $0.frames, mode: .lru, referenced: $0.referenced)
    }
    /// First in, first out: pages leave in the order they arrived.
    public static let fifo = ReplacementPolicyKind(name: "fifo", summary: "FIFO: evict the oldest resident page") {
        SingleListPolicy(frames: $0.frames, mode: .fifo, referenced: $0.referenced)
    }
    /// CLOCK (second chance over one circular list; Corbato 1968).
    public static let clock = ReplacementPolicyKind(name: "clock", summary: "CLOCK: second chance with the accessed bit over one list") {
        SingleListPolicy(frames: $0.frames, mode: .clock, referenced: $0.referenced)
    }
}
