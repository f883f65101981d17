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
/// pid     := decimal integer 0 .. 2147483647
/// child   := pid (not running at that point)
/// addr    := hexadecimal, with or without 0x (at most 16 digits)
/// pages   := decimal integer 1 .. 2^31
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
/// A trace's addresses are not the guest's: the replayer covers each 2 MiB-aligned range of a
/// process's trace address space that the trace touches with one anonymous private mapping of
/// 512 pages, created at the range's first touch (or at an `M` record covering it), in
/// first-touch order, so the replay is deterministic. A forked child inherits its parent's
/// mappings (same guest pages, copy-on-write) exactly as fork does.
public final class CompiledTrace: Sendable {
    enum Code: UInt8 { case read = 0, write = 1, map = 2, spawn = 3, fork = 4, exit = 5 }

    /// One operation: reads and writes carry a dense page number (slot << 9 | page in slot),
    /// map a slot, spawn and exit a process index, fork an index into `forks`.
    struct Op: Sendable {
        var code: UInt8
        var arg: UInt32
    }

    struct Fork: Sendable {
        var parent: UInt32
        var child: UInt32
        /// (parent slot, child slot): the child's slots that inherit the parent's mapping.
        var inherits: [(UInt32, UInt32)]
    }

    /// The format the trace was parsed as (never `auto`).
    public let format: TraceFormat
    let ops: [Op]
    /// Per op: index of the next op referencing the same page (`UInt32.max`: never).
    let nextUse: [UInt32]
    /// Per dense page: index of its first reference (`UInt32.max`: never).
    let firstUse: [UInt32]
    /// Per process (one per incarnation of a trace pid): the trace pid.
    let processPid: [Int]
    /// Per slot (a 2 MiB range of one process): its process and its range (address >> 21).
    let slotProcess: [UInt32]
    let slotChunk: [UInt64]
    /// Per process: its slots.
    let processSlots: [[UInt32]]
    let forks: [Fork]
    /// Memory references (reads and writes) in one pass.
    public let referenceCount: Int

    /// Operations (references, maps, spawns, forks, exits) in one pass.
    public var operationCount: Int { ops.count }
    /// Processes the trace creates (a pid reused after exit counts again).
    public var processCount: Int { processPid.count }
    /// Distinct pages the trace references or maps (over all processes).
    public var pageSlots: Int { slotProcess.count * 512 }

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
        slotProcess = b.slotProcess
        slotChunk = b.slotChunk
        var bySlot = [[UInt32]](repeating: [], count: b.processPid.count)
        for (s, p) in b.slotProcess.enumerated() { bySlot[Int(p)].append(UInt32(s)) }
        processSlots = bySlot
        forks = b.forks
        referenceCount = b.referenceCount
        // Next use of every page, by one backward pass.
        var last = [UInt32](repeating: .max, count: b.slotProcess.count * 512)
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

    /// The memory references of one pass, in order, in the trace's own pids and pages.
    public func references() -> [TraceReference] {
        var out: [TraceReference] = []
        out.reserveCapacity(referenceCount)
        for op in ops where op.code <= Code.write.rawValue {
            let slot = Int(op.arg >> 9)
            let page = slotChunk[slot] << 9 | UInt64(op.arg & 511)
            out.append(TraceReference(pid: processPid[Int(slotProcess[slot])], page: page, write: op.code == Code.write.rawValue))
        }
        return out
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
    var ops: [CompiledTrace.Op] = []
    var processPid: [Int] = []
    var slotProcess: [UInt32] = []
    var slotChunk: [UInt64] = []
    var forks: [CompiledTrace.Fork] = []
    var referenceCount = 0

    /// Per process: its slots by chunk.
    var chunks: [[UInt64: UInt32]] = []
    /// Per process: (fork index, parent's chunks at the fork) for forked processes.
    var inheritance: [(fork: Int, chunks: [UInt64: UInt32])?] = []
    /// Trace pid → running process index.
    var running: [Int: UInt32] = [:]
    var lastProcess: UInt32 = .max
    var lastChunk: UInt64 = .max
    var lastSlot: UInt32 = 0
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
        inheritance.append(nil)
        running[pid] = p
        return p
    }

    /// The slot of `chunk` in process `p`, created at first touch.
    mutating func slot(_ p: UInt32, _ chunk: UInt64) throws -> UInt32 {
        if p == lastProcess && chunk == lastChunk { return lastSlot }
        let s: UInt32
        if let x = chunks[Int(p)][chunk] {
            s = x
        } else {
            guard slotProcess.count < (1 << 23) else {
                throw TraceParseError(line: line, message: "the trace touches too many 2MiB ranges (more than 8 million, 16 TiB)")
            }
            s = UInt32(slotProcess.count)
            slotProcess.append(p)
            slotChunk.append(chunk)
            chunks[Int(p)][chunk] = s
            if let inh = inheritance[Int(p)], let ps = inh.chunks[chunk] {
                forks[inh.fork].inherits.append((ps, s))
            }
        }
        lastProcess = p; lastChunk = chunk; lastSlot = s
        return s
    }

    mutating func reference(pid: Int, address: UInt64, write: Bool) throws {
        let p = try process(pid)
        let s = try slot(p, address >> 21)
        try emit(write ? .write : .read, s << 9 | UInt32((address >> 12) & 511))
        referenceCount += 1
    }

    mutating func map(pid: Int, address: UInt64, pages: UInt64) throws {
        let p = try process(pid)
        let first = address >> 21
        let (end, overflow) = address.addingReportingOverflow((pages - 1) << 12)
        guard !overflow, pages <= 1 << 31 else {
            throw TraceParseError(line: line, message: "the range of \(pages) pages at 0x\(String(address, radix: 16)) goes past the end of the address space")
        }
        for chunk in first...(end >> 21) { try emit(.map, try slot(p, chunk)) }
    }

    mutating func fork(parent: Int, child: Int) throws {
        if running[child] != nil {
            throw TraceParseError(line: line, message: "F: child pid \(child) is already running; expected a new pid (exit the old process with X first)")
        }
        let pp = try process(parent)
        let c = newProcess(child)
        forks.append(CompiledTrace.Fork(parent: pp, child: c, inherits: []))
        inheritance[Int(c)] = (forks.count - 1, chunks[Int(pp)])
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
                throw f.error("unknown record '\(f.word(from: f.pos - 1))'; expected R, W, M, F or X (or # for a comment)")
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
            default:
                throw f.error("unknown record '\(f.word(from: f.pos - 1))'; expected R, W, M, F or X (or # for a comment)")
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
        if e > pos && buf[e - 1] == 13 { e -= 1 }   // CRLF
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
