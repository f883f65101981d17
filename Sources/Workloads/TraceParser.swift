import GuestKernel
import OvercommitSupport

/// Formats of a recorded reference trace.
public enum TraceFormat: String, CaseIterable, Codable, Sendable {
    /// Decide from the first record: lackey if it begins with `I`, a space, `==` or `--`;
    /// text otherwise.
    case auto
    /// The simulator's own text format (see `CompiledTrace`).
    case text
    /// `valgrind --tool=lackey --trace-mem=yes` output.
    case lackey
}

/// A trace line that could not be parsed: where, and what was expected.
public struct TraceParseError: Error, Sendable, Equatable, CustomStringConvertible {
    /// 1-based line number (0 for a problem with the whole trace).
    public var line: Int
    /// What was wrong and what was expected.
    public var message: String
    /// The trace file's path, when known.
    public var path: String?

    public init(line: Int, message: String, path: String? = nil) {
        self.line = line; self.message = message; self.path = path
    }

    /// `path:line: message` (or `trace line N: message` without a path).
    public var description: String {
        if let path { return "\(path):\(line): \(message)" }
        return "trace line \(line): \(message)"
    }
}

/// One memory reference of a parsed trace, in the trace's own terms.
public struct TraceReference: Sendable, Equatable, CustomStringConvertible {
    /// The process id written in the trace (1 for lackey traces).
    public var pid: Int
    /// The trace's virtual page number (address >> 12).
    public var page: UInt64
    public var write: Bool
    public init(pid: Int, page: UInt64, write: Bool) { self.pid = pid; self.page = page; self.write = write }
    public var description: String { "\(write ? "W" : "R") \(pid) 0x\(String(page << 12, radix: 16))" }
}

/// A parsed reference trace, ready to replay: operations on dense page numbers plus the
/// next-use index of every reference (for Belady's OPT).
///
/// ## Text format (`format: text`)
///
/// One record per line; blank lines and everything after `#` are ignored; fields are separated
/// by spaces or tabs.
///
/// ```
/// trace   := line*
/// line    := record? comment? NEWLINE
/// comment := '#' any*
/// record  := 'R' pid addr          # read of the byte at addr
///          | 'W' pid addr          # write of the byte at addr
///          | 'M' pid addr pages    # map the range [addr, addr + pages*4KiB) now (mmap)
///          | 'F' pid child         # pid forks; the child is called `child` from now on
///          | 'X' pid               # pid exits
///          | 'A' pid addr pages advice  # madvise(addr, pages*4KiB, advice)
/// pid     := decimal integer 0 .. 2147483647
/// child   := pid (not running at that point)
/// addr    := hexadecimal, with or without 0x (at most 16 digits)
/// pages   := decimal integer 1 .. 2^31
/// advice  := dontneed | free | willneed | sequential | random | normal | mergeable
///          | unmergeable | hugepage | nohugepage (any case, with or without MADV_)
/// ```
///
/// Example:
/// ```
/// # a parent touches two pages, forks, the child writes one of them (copy-on-write)
/// M 1 0x400000 16
/// W 1 0x400000
/// R 1 0x401008
/// F 1 2
/// W 2 0x400010
/// X 2
/// ```
///
/// A process is created (execve of a fresh program) at the first record naming it, unless it
/// was created by `F`. A pid may be reused after `X`: it is then a new process. `F` of a parent
/// that has not appeared yet creates the parent first; `F` to a running pid and `X` of a pid
/// that is not running are errors.
///
/// ## Lackey format (`format: lackey`)
///
/// The output of `valgrind --tool=lackey --trace-mem=yes prog`:
/// ```
/// ==1234== Lackey, an example Valgrind tool      (ignored: lines starting == or --)
/// I  04015d0c,3                                   instruction fetch: read
///  L 04222cac,4                                   load: read
///  S 7ff000a98,8                                  store: write
///  M 0421f8f4,8                                   modify: read then write
/// ```
/// Addresses are hexadecimal, sizes decimal bytes; an access crossing a page boundary
/// references every page it touches. The whole trace is one process (pid 1).
///
/// ## Mapping addresses into the guest
///
/// A trace's addresses are not the guest's: the replayer gives each range of a process's
/// trace address space one private mapping in the guest, created in first-use order, so the
/// replay is deterministic:
/// - an `M` record maps its range (rounded out to 2 MiB boundaries) at once with one mmap,
///   as the program's own mmap did: it is charged to Committed_AS and may be refused by the
///   guest's overcommit policy like any mmap (the references into a refused mapping are then
///   skipped and counted). Parts of the range that are already mapped stay as they are;
/// - a reference outside every mapping maps the 2 MiB-aligned range around it (512 pages) at
///   its first touch.
///
/// Memory is spent only on what the trace touches: the parser numbers the pages the trace
/// references (a 4 TiB `M` followed by one write costs one page of tables, not a billion),
/// and the guest allocates frames and page tables only for touched pages, as Linux does.
/// One mapping may not exceed what a guest process's mmap accepts (`maxMappingPages`, just
/// under 4 TiB); an `M` record beyond it is refused with its line.
///
/// Mappings are anonymous, except in lackey traces a 2 MiB range holding instructions (`I`
/// records): it is the program's text and maps the program file privately (read, write,
/// execute), so its pages come from the page cache (a first fetch reads the file: a major
/// fault), and data loaded from it (`L`, read-only data next to the code) is file data; a
/// store to such a page copies it into anonymous memory, as for a binary's `.data`. Every
/// other range (heap, stack, anonymous mmap) is anonymous: a first load maps the zero page,
/// a first store allocates a zero-filled frame.
///
/// A forked child inherits its parent's mappings (same guest pages, copy-on-write) exactly
/// as fork does.
///
/// An `A` record gives madvise(2) advice (`GuestKernel.madvise`) for the parts of its range
/// that the process has mapped at that point of the trace (by `M` or by a reference); the
/// parts nobody mapped are skipped, as Linux skips holes (and returns ENOMEM).
public final class CompiledTrace: Sendable {
    enum Code: UInt8 { case read = 0, write = 1, map = 2, spawn = 3, fork = 4, exit = 5, advise = 6 }

    /// One part of an `A` record: advice for `pages` pages of one mapping from page `offset`.
    struct Advice: Sendable {
        var mapping: UInt32
        var offset: UInt32
        var pages: UInt32
        var advice: MemoryAdvice
    }

    /// One operation: reads and writes carry a dense page number (one per distinct page the
    /// trace references), map a mapping index, spawn and exit a process index, fork an index
    /// into `forks`.
    struct Op: Sendable {
        var code: UInt8
        var arg: UInt32
    }

    struct Fork: Sendable {
        var parent: UInt32
        var child: UInt32
        /// (parent mapping, child mapping): the child's copies of the parent's mappings.
        var inherits: [(UInt32, UInt32)]
    }

    /// The largest mapping, in pages, a guest process's mmap accepts (`GuestKernel.mmap`
    /// refuses 2^30 pages and more).
    public static let maxMappingPages = (1 << 30) - 1
    /// Pages of the 2 MiB range a reference outside every mapping maps.
    static let chunkPages = 512

    /// The format the trace was parsed as (never `auto`).
    public let format: TraceFormat
    let ops: [Op]
    /// Per op: index of the next op referencing the same page (`UInt32.max`: never).
    let nextUse: [UInt32]
    /// Per dense page: index of its first reference (`UInt32.max`: never).
    let firstUse: [UInt32]
    /// Per dense page: its mapping and its page index inside the mapping.
    let pageMapping: [UInt32]
    let pageOffset: [UInt32]
    /// Per mapping: its process, its first trace page (address >> 12) and its size in pages.
    let mappingProcess: [UInt32]
    let mappingStart: [UInt64]
    let mappingPages: [UInt32]
    /// Per mapping: its page offset in the program-text file (lackey text), or `UInt32.max`
    /// for an anonymous mapping.
    let mappingFileOffset: [UInt32]
    /// Pages of the program-text file (the lackey text mappings, end to end).
    let textFilePages: Int
    /// Dense page of (mapping << 32 | page in mapping), for the OPT oracle.
    let pageIndex: [UInt64: UInt32]
    /// Per process (one per incarnation of a trace pid): the trace pid.
    let processPid: [Int]
    /// Per process: its mappings (own and inherited), in creation order.
    let processMappings: [[UInt32]]
    let forks: [Fork]
    /// The parts of the `A` records, in order.
    let advices: [Advice]
    /// Memory references (reads and writes) in one pass.
    public let referenceCount: Int

    /// Processes the trace creates (a pid reused after exit counts again).
    public var processCount: Int { processPid.count }
    /// Distinct pages the trace references (over all processes), the size of the per-page tables.
    public var pageCount: Int { pageMapping.count }
    /// Distinct pages the trace references (the compulsory faults of any replacement policy).
    public var distinctPages: Int { pageMapping.count }
    /// Mappings the replay creates (at most; a process may exit before using one).
    public var mappingCount: Int { mappingProcess.count }

    /// Bytes the parsed trace's tables hold, by their capacities (for memory bounds; object
    /// headers and the hash table's control bytes excluded).
    public var tableBytes: Int {
        ops.capacity * MemoryLayout<Op>.stride + nextUse.capacity * 4 + firstUse.capacity * 4
            + pageMapping.capacity * 4 + pageOffset.capacity * 4
            + mappingProcess.capacity * 4 + mappingStart.capacity * 8 + mappingPages.capacity * 4 + mappingFileOffset.capacity * 4
            + pageIndex.capacity * (MemoryLayout<UInt64>.stride + MemoryLayout<UInt32>.stride)
            + processMappings.reduce(0) { $0 + $1.capacity * 4 } + forks.reduce(0) { $0 + 16 + $1.inherits.capacity * 8 }
    }

    /// Parses a trace. `path` only names the trace in errors.
    public init(parsing text: String, format: TraceFormat = .auto, path: String? = nil) throws {
        var b = Builder()
        var text = text
        let resolved: TraceFormat
        do {
            resolved = try text.withUTF8 { buf -> TraceFormat in
                let f = format == .auto ? CompiledTrace.detect(buf) : format
                if f == .lackey { try b.parseLackey(buf) } else { try b.parseText(buf) }
                return f
            }
        } catch var e as TraceParseError {
            e.path = path
            throw e
        }
        if b.referenceCount == 0 {
            throw TraceParseError(line: 0, message: "the trace has no memory references (expected R/W records, or lackey I/L/S/M records)", path: path)
        }
        self.format = resolved
        ops = b.ops
        processPid = b.processPid
        pageMapping = b.pageMapping
        pageOffset = b.pageOffset
        mappingProcess = b.mappings.map(\.process)
        mappingStart = b.mappings.map { $0.firstChunk << 9 }
        mappingPages = b.mappings.map { UInt32($0.chunks) << 9 }
        var fileOffsets: [UInt32] = []
        var textPages = 0
        for m in b.mappings {
            if m.text {
                fileOffsets.append(UInt32(textPages))
                textPages += Int(m.chunks) << 9
            } else {
                fileOffsets.append(.max)
            }
        }
        mappingFileOffset = fileOffsets
        textFilePages = textPages
        pageIndex = b.pageIndex
        processMappings = b.processMappings
        forks = b.forks
        advices = b.advices
        referenceCount = b.referenceCount
        // Next use of every page, by one backward pass.
        var last = [UInt32](repeating: .max, count: b.pageMapping.count)
        var next = [UInt32](repeating: .max, count: b.ops.count)
        var i = b.ops.count - 1
        while i >= 0 {
            let op = b.ops[i]
            if op.code <= Code.write.rawValue {
                next[i] = last[Int(op.arg)]
                last[Int(op.arg)] = UInt32(i)
            }
            i -= 1
        }
        nextUse = next
        firstUse = last
    }

    /// The trace page (address >> 12) of a dense page.
    func tracePage(_ page: Int) -> UInt64 { mappingStart[Int(pageMapping[page])] + UInt64(pageOffset[page]) }

    /// The memory references of one pass, in order, in the trace's own pids and pages.
    public func references() -> [TraceReference] {
        var out: [TraceReference] = []
        out.reserveCapacity(referenceCount)
        for op in ops where op.code <= Code.write.rawValue {
            let m = Int(pageMapping[Int(op.arg)])
            out.append(
                TraceReference(
                    pid: processPid[Int(mappingProcess[m])], page: tracePage(Int(op.arg)),
                    write: op.code == Code.write.rawValue))
        }
        return out
    }

    /// Calls `body(page, write, nextUse)` for every memory reference of one pass in order:
    /// `page` is the dense page number (0..<pageCount), `nextUse` the position (op index) of
    /// the page's next reference, `Int.max` if none.
    public func forEachReference(_ body: (Int, Bool, Int) -> Void) {
        for (i, op) in ops.enumerated() where op.code <= Code.write.rawValue {
            let n = nextUse[i]
            body(Int(op.arg), op.code == Code.write.rawValue, n == .max ? .max : Int(n))
        }
    }

    /// Lackey if the first record begins with `I`, a space or tab, `==` or `--`.
    static func detect(_ buf: UnsafeBufferPointer<UInt8>) -> TraceFormat {
        var i = 0
        while i < buf.count {
            var j = i
            while j < buf.count && buf[j] != 10 { j += 1 }
            var k = i
            while k < j && (buf[k] == 13) { k += 1 }
            if k < j {
                let c = buf[k]
                let second: UInt8 = k + 1 < j ? buf[k + 1] : 0
                if c == UInt8(ascii: "#") { i = j + 1; continue }
                if c == UInt8(ascii: "I") && (second == 32 || second == 9) { return .lackey }
                if (c == 32 || c == 9) {
                    var m = k
                    while m < j && (buf[m] == 32 || buf[m] == 9) { m += 1 }
                    if m == j { i = j + 1; continue }
                    let op = buf[m]
                    return op == UInt8(ascii: "L") || op == UInt8(ascii: "S") || op == UInt8(ascii: "M") ? .lackey : .text
                }
                if (c == UInt8(ascii: "=") && second == UInt8(ascii: "=")) || (c == UInt8(ascii: "-") && second == UInt8(ascii: "-")) { return .lackey }
                return .text
            }
            i = j + 1
        }
        return .text
    }
}

// MARK: - Building

/// Accumulates operations while parsing.
struct Builder {
    /// A range of whole 2 MiB chunks of one process that the replay maps with one mmap.
    struct Mapping {
        var process: UInt32
        var firstChunk: UInt64
        var chunks: UInt64
        /// Holds instructions (lackey `I`): the program's text, file-backed.
        var text = false
    }

    var ops: [CompiledTrace.Op] = []
    var processPid: [Int] = []
    var mappings: [Mapping] = []
    var processMappings: [[UInt32]] = []
    var pageMapping: [UInt32] = []
    var pageOffset: [UInt32] = []
    var pageIndex: [UInt64: UInt32] = [:]
    var forks: [CompiledTrace.Fork] = []
    var advices: [CompiledTrace.Advice] = []
    var referenceCount = 0

    /// Per process: the mapping of every chunk it has touched (a cache in front of `ranges`).
    var chunks: [[UInt64: UInt32]] = []
    /// Per process: its multi-chunk mappings (from `M` records), sorted by first chunk.
    var ranges: [[(first: UInt64, count: UInt64, mapping: UInt32)]] = []
    /// Trace pid → running process index.
    var running: [Int: UInt32] = [:]
    var lastProcess: UInt32 = .max
    var lastChunk: UInt64 = .max
    var lastMapping: UInt32 = 0
    var line = 0

    typealias Code = CompiledTrace.Code

    mutating func emit(_ code: Code, _ arg: UInt32) throws {
        guard ops.count < Int(UInt32.max - 1) else {
            throw TraceParseError(line: line, message: "the trace is too long (more than 4 billion operations)")
        }
        ops.append(CompiledTrace.Op(code: code.rawValue, arg: arg))
    }

    /// The running process with this pid, created (spawned) if there is none.
    mutating func process(_ pid: Int) throws -> UInt32 {
        if let p = running[pid] { return p }
        let p = newProcess(pid)
        try emit(.spawn, p)
        return p
    }

    mutating func newProcess(_ pid: Int) -> UInt32 {
        let p = UInt32(processPid.count)
        processPid.append(pid)
        chunks.append([:])
        ranges.append([])
        processMappings.append([])
        running[pid] = p
        return p
    }

    mutating func newMapping(_ m: Mapping) throws -> UInt32 {
        guard mappings.count < Int(UInt32.max - 1) else {
            throw TraceParseError(line: line, message: "the trace creates too many mappings (more than 4 billion)")
        }
        let id = UInt32(mappings.count)
        mappings.append(m)
        processMappings[Int(m.process)].append(id)
        return id
    }

    /// The multi-chunk mapping of process `p` containing `chunk`, if any.
    func rangeMapping(_ p: UInt32, _ chunk: UInt64) -> (mapping: UInt32, first: UInt64)? {
        let r = ranges[Int(p)]
        var lo = 0, hi = r.count
        while lo < hi {
            let mid = (lo + hi) / 2
            if r[mid].first <= chunk { lo = mid + 1 } else { hi = mid }
        }
        guard lo > 0, chunk - r[lo - 1].first < r[lo - 1].count else { return nil }
        return (r[lo - 1].mapping, r[lo - 1].first)
    }

    /// The mapping holding `chunk` of process `p`, created (one chunk) at first touch.
    mutating func mapping(_ p: UInt32, _ chunk: UInt64) throws -> UInt32 {
        if p == lastProcess && chunk == lastChunk { return lastMapping }
        let m: UInt32
        if let x = chunks[Int(p)][chunk] {
            m = x
        } else if let r = rangeMapping(p, chunk) {
            m = r.mapping
            chunks[Int(p)][chunk] = m
        } else {
            m = try newMapping(Mapping(process: p, firstChunk: chunk, chunks: 1))
            chunks[Int(p)][chunk] = m
        }
        lastProcess = p; lastChunk = chunk; lastMapping = m
        return m
    }

    mutating func reference(pid: Int, address: UInt64, write: Bool, instruction: Bool = false) throws {
        let p = try process(pid)
        let m = try mapping(p, address >> 21)
        if instruction { mappings[Int(m)].text = true }
        let offset = UInt32((address >> 12) - (mappings[Int(m)].firstChunk << 9))
        let key = UInt64(m) << 32 | UInt64(offset)
        let page: UInt32
        if let x = pageIndex[key] {
            page = x
        } else {
            guard pageMapping.count < Int(UInt32.max - 1) else {
                throw TraceParseError(line: line, message: "the trace references too many pages (more than 4 billion)")
            }
            page = UInt32(pageMapping.count)
            pageMapping.append(m)
            pageOffset.append(offset)
            pageIndex[key] = page
        }
        try emit(write ? .write : .read, page)
        referenceCount += 1
    }

    /// `M`: maps the chunks of [address, address + pages pages) that no mapping covers yet,
    /// each maximal run with one mmap.
    mutating func map(pid: Int, address: UInt64, pages: UInt64) throws {
        let (end, overflow) = address.addingReportingOverflow((pages - 1) << 12)
        guard !overflow, pages <= 1 << 31 else {
            throw TraceParseError(line: line, message: "the range of \(pages) pages at 0x\(String(address, radix: 16)) goes past the end of the address space")
        }
        let first = address >> 21, last = end >> 21
        let span = last - first + 1
        guard span * UInt64(CompiledTrace.chunkPages) <= UInt64(CompiledTrace.maxMappingPages) else {
            throw TraceParseError(
                line: line,
                message: """
                    M: the range of \(pages) pages at 0x\(String(address, radix: 16)) (\(span) 2MiB ranges) is larger than a guest \
                    process's address space allows one mapping to be (at most \(CompiledTrace.maxMappingPages) pages, just under 4 TiB)
                    """)
        }
        let p = try process(pid)
        var c = first
        while c <= last {
            if let r = rangeMapping(p, c) {
                c = r.first + mappings[Int(r.mapping)].chunks
                continue
            }
            if chunks[Int(p)][c] != nil { c += 1; continue }
            // A run of unmapped chunks: up to the next mapped chunk or range.
            var e = c
            while e < last {
                let n = e + 1
                if chunks[Int(p)][n] != nil || rangeMapping(p, n) != nil { break }
                e = n
            }
            let m = try newMapping(Mapping(process: p, firstChunk: c, chunks: e - c + 1))
            insertRange(p, (c, e - c + 1, m))
            if lastProcess == p { lastProcess = .max }
            try emit(.map, m)
            c = e + 1
        }
    }

    /// `A`: advice for the mapped parts of [address, address + pages pages), one operation
    /// per part (maximal run of one mapping).
    mutating func advise(pid: Int, address: UInt64, pages: UInt64, advice: MemoryAdvice) throws {
        let (end, overflow) = address.addingReportingOverflow((pages - 1) << 12)
        guard !overflow, pages <= UInt64(CompiledTrace.maxMappingPages) else {
            throw TraceParseError(
                line: line,
                message:
                    "A: the range of \(pages) pages at 0x\(String(address, radix: 16)) is larger than a mapping can be (at most \(CompiledTrace.maxMappingPages) pages)"
            )
        }
        let p = try process(pid)
        let firstPage = address >> 12, lastPage = end >> 12
        var c = firstPage >> 9
        while c <= lastPage >> 9 {
            guard let m = chunks[Int(p)][c] ?? rangeMapping(p, c)?.mapping else { c += 1; continue }
            let mapping = mappings[Int(m)]
            let mFirst = mapping.firstChunk << 9, mEnd = (mapping.firstChunk + mapping.chunks) << 9
            let from = max(firstPage, mFirst), to = min(lastPage + 1, mEnd)
            guard advices.count < Int(UInt32.max - 1) else {
                throw TraceParseError(line: line, message: "the trace has too many madvise parts (more than 4 billion)")
            }
            advices.append(CompiledTrace.Advice(mapping: m, offset: UInt32(from - mFirst), pages: UInt32(to - from), advice: advice))
            try emit(.advise, UInt32(advices.count - 1))
            c = mEnd >> 9
        }
    }

    mutating func insertRange(_ p: UInt32, _ r: (first: UInt64, count: UInt64, mapping: UInt32)) {
        var i = ranges[Int(p)].count
        while i > 0 && ranges[Int(p)][i - 1].first > r.first { i -= 1 }
        ranges[Int(p)].insert(r, at: i)
    }

    mutating func fork(parent: Int, child: Int) throws {
        if running[child] != nil {
            throw TraceParseError(line: line, message: "F: child pid \(child) is already running; expected a new pid (exit the old process with X first)")
        }
        let pp = try process(parent)
        let c = newProcess(child)
        var inherits: [(UInt32, UInt32)] = []
        var copyOf: [UInt32: UInt32] = [:]
        for pm in processMappings[Int(pp)] {
            var m = mappings[Int(pm)]
            m.process = c
            let cm = try newMapping(m)
            copyOf[pm] = cm
            inherits.append((pm, cm))
        }
        chunks[Int(c)] = chunks[Int(pp)].mapValues { copyOf[$0]! }
        ranges[Int(c)] = ranges[Int(pp)].map { ($0.first, $0.count, copyOf[$0.mapping]!) }
        forks.append(CompiledTrace.Fork(parent: pp, child: c, inherits: inherits))
        try emit(.fork, UInt32(forks.count - 1))
    }

    mutating func exit(pid: Int) throws {
        guard let p = running.removeValue(forKey: pid) else {
            throw TraceParseError(line: line, message: "X: pid \(pid) is not running; expected the pid of a process the trace created")
        }
        if lastProcess == p { lastProcess = .max }
        try emit(.exit, p)
    }

    // MARK: Text format

    mutating func parseText(_ buf: UnsafeBufferPointer<UInt8>) throws {
        var i = 0
        while i < buf.count {
            line += 1
            var end = i
            while end < buf.count && buf[end] != 10 { end += 1 }
            var f = FieldScanner(buf: buf, pos: i, end: end, line: line)
            i = end + 1
            f.skipSpaces()
            guard let op = f.peek(), op != UInt8(ascii: "#") else { continue }
            f.pos += 1
            if let next = f.peek(), !FieldScanner.isSpace(next), next != UInt8(ascii: "#") {
                throw f.error("unknown record '\(f.word(from: f.pos - 1))'; expected R, W, M, F, X or A (or # for a comment)")
            }
            switch op {
            case UInt8(ascii: "R"), UInt8(ascii: "W"):
                let name = op == UInt8(ascii: "R") ? "R" : "W"
                let pid = try f.decimal("a process id (decimal) after '\(name)'", max: Int(Int32.max))
                let addr = try f.hex("a hexadecimal address after the process id")
                try f.finish("after the address of '\(name) <pid> <addr>'")
                try reference(pid: pid, address: addr, write: op == UInt8(ascii: "W"))
            case UInt8(ascii: "M"):
                let pid = try f.decimal("a process id (decimal) after 'M'", max: Int(Int32.max))
                let addr = try f.hex("a hexadecimal address after the process id")
                let pages = try f.decimal("a page count (decimal, at least 1) after the address", max: 1 << 31)
                guard pages > 0 else { throw f.error("expected a page count of at least 1; got 0") }
                try f.finish("after 'M <pid> <addr> <pages>'")
                try map(pid: pid, address: addr, pages: UInt64(pages))
            case UInt8(ascii: "F"):
                let pid = try f.decimal("a parent process id (decimal) after 'F'", max: Int(Int32.max))
                let child = try f.decimal("a child process id (decimal) after the parent's", max: Int(Int32.max))
                try f.finish("after 'F <pid> <child>'")
                if pid == child { throw f.error("F: a process cannot fork into its own pid \(pid)") }
                try fork(parent: pid, child: child)
            case UInt8(ascii: "X"):
                let pid = try f.decimal("a process id (decimal) after 'X'", max: Int(Int32.max))
                try f.finish("after 'X <pid>'")
                try exit(pid: pid)
            case UInt8(ascii: "A"):
                let pid = try f.decimal("a process id (decimal) after 'A'", max: Int(Int32.max))
                let addr = try f.hex("a hexadecimal address after the process id")
                let pages = try f.decimal("a page count (decimal, at least 1) after the address", max: 1 << 31)
                guard pages > 0 else { throw f.error("expected a page count of at least 1; got 0") }
                f.skipSpaces()
                let start = f.pos
                while let ch = f.peek(), !FieldScanner.isSpace(ch), ch != UInt8(ascii: "#") { f.pos += 1 }
                let name = String(decoding: UnsafeBufferPointer(rebasing: buf[start..<f.pos]), as: UTF8.self)
                guard !name.isEmpty else {
                    throw f.error("expected an advice after the page count of 'A <pid> <addr> <pages> <advice>' (\(MemoryAdvice.allowedNames))")
                }
                guard let advice = MemoryAdvice(name: name) else {
                    throw f.error("A: unknown advice '\(name)'; expected one of \(MemoryAdvice.allowedNames) (with or without MADV_)")
                }
                try f.finish("after 'A <pid> <addr> <pages> <advice>'")
                try advise(pid: pid, address: addr, pages: UInt64(pages), advice: advice)
            default:
                throw f.error("unknown record '\(f.word(from: f.pos - 1))'; expected R, W, M, F, X or A (or # for a comment)")
            }
        }
    }

    // MARK: Lackey format

    mutating func parseLackey(_ buf: UnsafeBufferPointer<UInt8>) throws {
        let expected = "expected a lackey record: 'I  <hexaddr>,<size>', ' L <hexaddr>,<size>', ' S <hexaddr>,<size>' or ' M <hexaddr>,<size>'"
        var i = 0
        while i < buf.count {
            line += 1
            var end = i
            while end < buf.count && buf[end] != 10 { end += 1 }
            var f = FieldScanner(buf: buf, pos: i, end: end, line: line)
            i = end + 1
            guard let first = f.peek() else { continue }
            if first == 13 && f.pos + 1 == f.end { continue }
            if (first == UInt8(ascii: "=") || first == UInt8(ascii: "-")) && f.peek(1) == first { continue }
            let kind: UInt8
            if first == UInt8(ascii: "I") {
                kind = first
                f.pos += 1
            } else if FieldScanner.isSpace(first) {
                f.skipSpaces()
                guard let k = f.peek() else { continue }
                guard k == UInt8(ascii: "L") || k == UInt8(ascii: "S") || k == UInt8(ascii: "M") else {
                    throw f.error("unknown access kind '\(f.word(from: f.pos))'; \(expected)")
                }
                kind = k
                f.pos += 1
            } else {
                throw f.error("unexpected '\(f.word(from: f.pos))'; \(expected)")
            }
            guard let sp = f.peek(), FieldScanner.isSpace(sp) else { throw f.error(expected) }
            let addr = try f.hex("a hexadecimal address after the access kind")
            guard f.peek() == UInt8(ascii: ",") else { throw f.error("expected ',<size>' after the address") }
            f.pos += 1
            let size = try f.decimal("a size in bytes (decimal) after the comma", max: 1 << 30, skipLeadingSpaces: false)
            try f.finish("after '<hexaddr>,<size>'")
            let last = size == 0 ? addr : addr &+ UInt64(size - 1)
            guard last >= addr else { throw f.error("the access of \(size) bytes at 0x\(String(addr, radix: 16)) goes past the end of the address space") }
            var page = addr >> 12
            while page <= last >> 12 {
                let a = page << 12
                switch kind {
                case UInt8(ascii: "S"): try reference(pid: 1, address: a, write: true)
                case UInt8(ascii: "M"):
                    try reference(pid: 1, address: a, write: false)
                    try reference(pid: 1, address: a, write: true)
                case UInt8(ascii: "I"): try reference(pid: 1, address: a, write: false, instruction: true)
                default: try reference(pid: 1, address: a, write: false)
                }
                page += 1
            }
        }
    }
}

/// Reads space-separated fields of one line.
struct FieldScanner {
    let buf: UnsafeBufferPointer<UInt8>
    var pos: Int
    var end: Int
    let line: Int

    init(buf: UnsafeBufferPointer<UInt8>, pos: Int, end: Int, line: Int) {
        self.buf = buf; self.pos = pos; self.line = line
        var e = end
        if e > pos && buf[e - 1] == 13 { e -= 1 }  // CRLF
        self.end = e
    }

    static func isSpace(_ c: UInt8) -> Bool { c == 32 || c == 9 }

    func peek(_ ahead: Int = 0) -> UInt8? { pos + ahead < end ? buf[pos + ahead] : nil }

    mutating func skipSpaces() { while pos < end && FieldScanner.isSpace(buf[pos]) { pos += 1 } }

    /// The text from `start` to the next space (for messages), at most 24 characters.
    func word(from start: Int) -> String {
        var e = start
        while e < end && !FieldScanner.isSpace(buf[e]) && e - start < 24 { e += 1 }
        return String(decoding: UnsafeBufferPointer(rebasing: buf[start..<e]), as: UTF8.self)
    }

    func error(_ message: String) -> TraceParseError { TraceParseError(line: line, message: message) }

    mutating func decimal(_ what: String, max: Int, skipLeadingSpaces: Bool = true) throws -> Int {
        if skipLeadingSpaces { skipSpaces() }
        let start = pos
        var v = 0
        while pos < end, buf[pos] >= 48, buf[pos] <= 57 {
            v = v * 10 + Int(buf[pos] - 48)
            if v > max { throw error("expected \(what); '\(word(from: start))' is larger than \(max)") }
            pos += 1
        }
        if pos == start || (pos < end && !FieldScanner.isSpace(buf[pos]) && buf[pos] != UInt8(ascii: "#") && buf[pos] != UInt8(ascii: ",")) {
            throw error(pos >= end && pos == start ? "expected \(what); the line ends here" : "expected \(what); got '\(word(from: start))'")
        }
        return v
    }

    mutating func hex(_ what: String) throws -> UInt64 {
        skipSpaces()
        let start = pos
        if pos + 1 < end && buf[pos] == 48 && (buf[pos + 1] == UInt8(ascii: "x") || buf[pos + 1] == UInt8(ascii: "X")) { pos += 2 }
        let digitsStart = pos
        var v: UInt64 = 0
        while pos < end {
            let c = buf[pos]
            let d: UInt64
            switch c {
            case 48...57: d = UInt64(c - 48)
            case 97...102: d = UInt64(c - 87)
            case 65...70: d = UInt64(c - 55)
            default: d = 16
            }
            if d == 16 { break }
            if pos - digitsStart >= 16 { throw error("expected \(what); '\(word(from: start))' has more than 16 hex digits") }
            v = v << 4 | d
            pos += 1
        }
        if pos == digitsStart || (pos < end && !FieldScanner.isSpace(buf[pos]) && buf[pos] != UInt8(ascii: "#") && buf[pos] != UInt8(ascii: ",")) {
            throw error(pos >= end && pos == start ? "expected \(what); the line ends here" : "expected \(what); got '\(word(from: start))'")
        }
        return v
    }

    /// Only spaces and an optional comment may follow.
    mutating func finish(_ context: String) throws {
        skipSpaces()
        if pos < end && buf[pos] != UInt8(ascii: "#") {
            throw error("unexpected '\(word(from: pos))' \(context); expected the end of the line or a # comment")
        }
    }
}
