/// Linux's LRU approximation: active and inactive lists for anonymous and file pages.
///
/// Follows mm/vmscan.c and mm/swap.c: new pages enter the inactive list; reclaim scans
/// the inactive tail and checks references (`page_check_references`): a page seen
/// accessed for the first time gets PG_referenced and rotates to the inactive head, one seen
/// accessed again is promoted to the active list, an unreferenced one is reclaimed. When the
/// inactive list is too small against the active one (`inactive_is_low`, ratio
/// sqrt(10 * GiB)), the active tail is aged: pages accessed since the last scan get another
/// round, the others are deactivated: the page state machine of Gorman, "Understanding the
/// Linux Virtual Memory Manager", ch. 10
/// (free -> active -> inactive dirty/clean -> free).
public final class LinuxTwoListPolicy: ReplacementPolicy {
    public let kind = ReplacementPolicyKind.linux
    public let wantsAccessHook = false
    /// The guest's frame table, held strongly (it holds nothing back): an `unowned(unsafe)`
    /// reference was retained around every list operation.
    let frames: FrameTable
    /// page_referenced(): tests and clears the page's accessed bits.
    let referenced: (PFN) -> Bool
    var lists = [FrameList](repeating: FrameList(), count: 5)
    let inactiveRatio: Int
    /// The frames one node's reclaim may take (nil: all); pages of other nodes met at the tail
    /// of a list are set aside and put back where they were once the scan ends.
    var eligible: Range<Int>?
    var skipped: [PFN] = []
    var skippedActive: [PFN] = []

    init(frames: FrameTable, referenced: @escaping (PFN) -> Bool) {
        self.frames = frames
        self.referenced = referenced
        let gib = frames.count >> 18
        var r = 1
        if gib > 0 { while (r + 1) * (r + 1) <= 10 * gib { r += 1 } }
        inactiveRatio = r
    }

    public func add(_ pfn: PFN, anon: Bool, activate: Bool) {
        let use: FrameUse = anon ? (activate ? .activeAnon : .inactiveAnon) : (activate ? .activeFile : .inactiveFile)
        frames.setUse(pfn, use)
        lists[Int(use.rawValue)].pushHead(pfn, in: frames)
    }

    public func remove(_ pfn: PFN) {
        let u = frames.use(pfn)
        precondition(u.isLRU, "frame \(pfn) is not on an LRU list (\(u))")
        lists[Int(u.rawValue)].remove(pfn, in: frames)
        frames.setUse(pfn, .isolated)
    }

    public func accessed(_ pfn: PFN) {}

    public func markAccessed(_ pfn: PFN) {
        let u = frames.use(pfn)
        if u == .inactiveAnon || u == .inactiveFile {
            if frames.has(pfn, FrameFlag.referenced) {
                lists[Int(u.rawValue)].remove(pfn, in: frames)
                frames.clear(pfn, FrameFlag.referenced)
                let a: FrameUse = u == .inactiveAnon ? .activeAnon : .activeFile
                frames.setUse(pfn, a)
                lists[Int(a.rawValue)].pushHead(pfn, in: frames)
            } else {
                frames.set(pfn, FrameFlag.referenced)
            }
        } else if u.isLRU {
            frames.set(pfn, FrameFlag.referenced)
        }
    }

    func inactiveIsLow(anon: Bool) -> Bool {
        let a = lists[Int((anon ? FrameUse.activeAnon : .activeFile).rawValue)].count
        let i = lists[Int((anon ? FrameUse.inactiveAnon : .inactiveFile).rawValue)].count
        return i * inactiveRatio < a
    }

    /// shrink_active_list: age up to `n` pages from the active tail.
    func shrinkActive(anon: Bool, n: Int, stats: inout VMStat) {
        let au = anon ? FrameUse.activeAnon : .activeFile
        let iu = anon ? FrameUse.inactiveAnon : .inactiveFile
        var scanned = 0
        let limit = min(n, lists[Int(au.rawValue)].count)
        while scanned < limit, let p = lists[Int(au.rawValue)].popTail(in: frames) {
            scanned += 1
            if let e = eligible, !e.contains(Int(p)) {
                skippedActive.append(p)
                continue
            }
            if referenced(p) {
                lists[Int(au.rawValue)].pushHead(p, in: frames)
            } else {
                frames.clear(p, FrameFlag.referenced)
                frames.setUse(p, iu)
                lists[Int(iu.rawValue)].pushHead(p, in: frames)
                stats.pgdeactivate += 1
            }
        }
        putBackSkipped(&skippedActive, to: au)
    }

    /// Returns the pages of other nodes a node's scan passed over to the tail of `use`'s list,
    /// in their order (the first one set aside is the tail again).
    func putBackSkipped(_ skipped: inout [PFN], to use: FrameUse) {
        guard !skipped.isEmpty else { return }
        for p in skipped.reversed() { lists[Int(use.rawValue)].pushTail(p, in: frames) }
        skipped.removeAll(keepingCapacity: true)
    }

    /// What reclaim does with an inactive page it found at the tail, from its references
    /// (mm/vmscan.c `folio_check_references`): referenced for the second time (PG_referenced
    /// already set) it is activated; referenced for the first time it gets PG_referenced and
    /// another round on the inactive list; unreferenced it is reclaimed.
    enum PageReferences { case reclaim, keep, activate }

    /// Harvests the page's accessed bits and applies the rule above to PG_referenced.
    func checkReferences(_ p: PFN) -> PageReferences {
        guard referenced(p) else { return .reclaim }
        if frames.has(p, FrameFlag.referenced) {
            frames.clear(p, FrameFlag.referenced)
            return .activate
        }
        frames.set(p, FrameFlag.referenced)
        return .keep
    }

    /// shrink_inactive_list with page_check_references.
    func shrinkInactive(anon: Bool, want: Int, into victims: inout [PFN], stats: inout VMStat) {
        guard want > 0 else { return }
        let iu = anon ? FrameUse.inactiveAnon : .inactiveFile
        let au = anon ? FrameUse.activeAnon : .activeFile
        if inactiveIsLow(anon: anon) { shrinkActive(anon: anon, n: max(32, want * 2), stats: &stats) }
        var found = 0
        var scanned = 0
        let limit = lists[Int(iu.rawValue)].count * 2 + 32
        while found < want && scanned < limit {
            guard let p = lists[Int(iu.rawValue)].popTail(in: frames) else {
                // Refill from the active list and keep going.
                if lists[Int(au.rawValue)].count == 0 { break }
                shrinkActive(anon: anon, n: max(32, want), stats: &stats)
                scanned += 1
                continue
            }
            scanned += 1
            if let e = eligible, !e.contains(Int(p)) {
                skipped.append(p)
                continue
            }
            switch checkReferences(p) {
            case .activate:
                frames.setUse(p, au)
                lists[Int(au.rawValue)].pushHead(p, in: frames)
                stats.pgactivate += 1
            case .keep:
                lists[Int(iu.rawValue)].pushHead(p, in: frames)
                stats.pgrotated += 1
            case .reclaim:
                frames.setUse(p, .isolated)
                victims.append(p)
                found += 1
            }
        }
        putBackSkipped(&skipped, to: iu)
    }

    public func isolateVictims(anon anonCount: Int, file fileCount: Int, into victims: inout [PFN], stats: inout VMStat) {
        let before = victims.count
        shrinkInactive(anon: false, want: fileCount, into: &victims, stats: &stats)
        let shortFile = fileCount - (victims.count - before)
        shrinkInactive(anon: true, want: anonCount, into: &victims, stats: &stats)
        // If file pages ran out, anon may make up the difference only if anon scanning was allowed.
        if shortFile > 0 && anonCount > 0 {
            shrinkInactive(anon: true, want: shortFile, into: &victims, stats: &stats)
        }
    }

    public func isolateVictims(anon anonCount: Int, file fileCount: Int, eligible: Range<Int>, into victims: inout [PFN], stats: inout VMStat) {
        self.eligible = eligible
        defer { self.eligible = nil }
        isolateVictims(anon: anonCount, file: fileCount, into: &victims, stats: &stats)
    }

    public func putBack(_ pfn: PFN, anon: Bool) {
        add(pfn, anon: anon, activate: true)
    }

    public func age(stats: inout VMStat) {
        for anon in [true, false] where inactiveIsLow(anon: anon) {
            shrinkActive(anon: anon, n: 1024, stats: &stats)
        }
    }

    public func count(_ use: FrameUse) -> Int { use.isLRU ? lists[Int(use.rawValue)].count : 0 }

    public func checkInvariants() -> [String] {
        var p: [String] = []
        for u in [FrameUse.activeAnon, .inactiveAnon, .activeFile, .inactiveFile] {
            let fs = lists[Int(u.rawValue)].frames(in: frames)
            if fs.count != lists[Int(u.rawValue)].count { p.append("lru \(u): count \(lists[Int(u.rawValue)].count) but \(fs.count) linked") }
            for f in fs where frames.use(f) != u { p.append("lru \(u): frame \(f) has use \(frames.use(f))"); break }
        }
        return p
    }
}

extension ReplacementPolicyKind {
    /// Linux's active/inactive lists with the referenced flag (mm/vmscan.c, mm/swap.c).
    public static let linux = ReplacementPolicyKind(
        name: "linux", summary: "Linux two-list LRU approximation (active/inactive, referenced flag, page state machine)"
    ) { LinuxTwoListPolicy(frames: $0.frames, referenced: $0.referenced) }
}
