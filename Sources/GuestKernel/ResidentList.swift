/// One list of every resident evictable page, for the policies that keep a single order
/// (exact LRU, FIFO, CLOCK, OPT). Pages keep `FrameUse.activeAnon`/`.activeFile` so that
/// /proc/meminfo can still tell anonymous from file memory.
struct ResidentList {
    var list = FrameList()
    var anonCount = 0

    mutating func add(_ pfn: PFN, anon: Bool, in frames: FrameTable) {
        frames.setUse(pfn, anon ? .activeAnon : .activeFile)
        if anon { anonCount += 1 }
        list.pushHead(pfn, in: frames)
    }

    mutating func remove(_ pfn: PFN, in frames: FrameTable) {
        if frames.use(pfn) == .activeAnon { anonCount -= 1 }
        list.remove(pfn, in: frames)
        frames.setUse(pfn, .isolated)
    }

    func count(_ use: FrameUse) -> Int {
        switch use {
        case .activeAnon: anonCount;
        case .activeFile: list.count - anonCount;
        default: 0
        }
    }

    func checkInvariants(_ name: String, in frames: FrameTable) -> [String] {
        let fs = list.frames(in: frames)
        var p: [String] = []
        if fs.count != list.count { p.append("\(name): count \(list.count) but \(fs.count) linked") }
        let a = fs.filter { frames.use($0) == .activeAnon }.count
        if a != anonCount { p.append("\(name): anonCount \(anonCount) but \(a) anon frames") }
        for f in fs where !(frames.use(f) == .activeAnon || frames.use(f) == .activeFile) { p.append("\(name): frame \(f) has use \(frames.use(f))"); break }
        return p
    }
}
