import OvercommitSupport
import Scenarios
import Simulation

/// A problem in one of an output directory's files, with where it is (1-based line and column).
public struct ReportInputError: Error, CustomStringConvertible, Equatable {
    public var file: String
    public var line: Int
    public var column: Int
    public var message: String

    public init(file: String, line: Int, column: Int, _ message: String) {
        self.file = file
        self.line = line
        self.column = column
        self.message = message
    }

    public var description: String { "\(file):\(line):\(column): \(message)" }
}

/// A CSV file read back: its header and rows, with where each field started, so a bad value
/// is reported at its line and column.
public struct CSVTable: Sendable {
    public var file: String
    public var header: [String]
    public var rows: [[String]]
    /// (line, column) of every field, parallel to `rows`.
    var positions: [[(line: Int, column: Int)]]

    /// Parses RFC 4180 CSV as `RunReport` writes it: one header line, fields quoted only when
    /// they hold a comma or a quote; every row must have as many fields as the header.
    public init(text: String, file: String) throws(ReportInputError) {
        self.file = file
        var records: [[String]] = []
        var starts: [[(line: Int, column: Int)]] = []
        var field = ""
        var record: [String] = []
        var recordStarts: [(line: Int, column: Int)] = []
        var line = 1, column = 1
        var fieldStart = (line: 1, column: 1)
        var inQuotes = false, afterQuote = false, any = false
        var scalars = Array(text.unicodeScalars)
        if scalars.last != "\n" { scalars.append("\n") }
        var i = 0
        while i < scalars.count {
            let c = scalars[i]
            if inQuotes {
                if c == "\"" {
                    if i + 1 < scalars.count, scalars[i + 1] == "\"" {
                        field.unicodeScalars.append("\""); i += 1; column += 1
                    } else {
                        inQuotes = false; afterQuote = true
                    }
                } else {
                    field.unicodeScalars.append(c)
                    if c == "\n" { line += 1; column = 0 }
                }
            } else if c == "," || c == "\n" || c == "\r" {
                if c == "\r" { i += 1; column += 1; continue }
                record.append(field); recordStarts.append(fieldStart)
                field = ""; afterQuote = false
                if c == "\n" {
                    if any || record.count > 1 || !record[0].isEmpty {
                        records.append(record); starts.append(recordStarts)
                    }
                    record = []; recordStarts = []; any = false
                    line += 1; column = 0
                }
                fieldStart = (line, column + 1)
            } else if c == "\"" && field.isEmpty && !afterQuote {
                inQuotes = true; any = true
            } else {
                if afterQuote { throw ReportInputError(file: file, line: line, column: column, "unexpected character after a closing quote") }
                field.unicodeScalars.append(c); any = true
            }
            i += 1; column += 1
        }
        if inQuotes { throw ReportInputError(file: file, line: fieldStart.line, column: fieldStart.column, "quoted field is not closed") }
        guard let first = records.first else { throw ReportInputError(file: file, line: 1, column: 1, "empty file: expected a header line") }
        header = first
        rows = Array(records.dropFirst())
        positions = Array(starts.dropFirst())
        for (r, row) in rows.enumerated() where row.count != header.count {
            let p = positions[r].last!
            throw ReportInputError(file: file, line: p.line, column: 1, "\(row.count) fields, expected \(header.count) as in the header")
        }
    }

    /// Index of a column, or an error naming the header line.
    public func index(of column: String) throws(ReportInputError) -> Int {
        guard let i = header.firstIndex(of: column) else {
            throw ReportInputError(file: file, line: 1, column: 1, "no column '\(column)' in the header")
        }
        return i
    }

    /// A column's values as numbers, or an error at the first field that is not a number.
    /// `inf`, `-inf` and `nan` (what the writer prints for a value that is not finite, e.g. a
    /// slowdown with a zero memory-access cost) are read as such; the report leaves them out.
    public func numbers(_ column: String, rows subset: [Int]? = nil) throws(ReportInputError) -> [Double] {
        let c = try index(of: column)
        var out: [Double] = []
        for r in subset ?? Array(rows.indices) {
            let text = rows[r][c]
            guard let v = Double(text), v.isFinite || ["inf", "-inf", "nan"].contains(text) else {
                let p = positions[r][c]
                throw ReportInputError(file: file, line: p.line, column: p.column, "column '\(column)': '\(rows[r][c])' is not a number")
            }
            out.append(v)
        }
        return out
    }

    /// A column's raw text.
    public func strings(_ column: String, rows subset: [Int]? = nil) throws(ReportInputError) -> [String] {
        let c = try index(of: column)
        return (subset ?? Array(rows.indices)).map { rows[$0][c] }
    }

    /// Where a row's field is (for errors found after parsing).
    public func position(row: Int, column: String) -> (line: Int, column: Int) {
        guard let c = header.firstIndex(of: column) else { return (1, 1) }
        return positions[row][c]
    }
}

/// One line of `events.jsonl`.
public struct RunEvent: Sendable, Equatable {
    public var timeSeconds: Double
    public var kind: String
    public var guest: String?
    /// The event's own fields, in file order.
    public var fields: [Pair]

    public struct Pair: Sendable, Equatable {
        public var key: String
        public var value: String
    }

    public func field(_ k: String) -> String? { fields.first { $0.key == k }?.value }
}

/// One statistic of `stats.txt`.
public struct StatLine: Sendable, Equatable {
    public var name: String
    public var value: String
    public var unit: String
    public var summary: String
}

/// The files of an output directory (`overcommit run --out DIR`) read back from their text:
/// what the HTML report draws. Reads no files itself; the CLI passes the contents in.
public struct RunOutput: Sendable {
    public var scenario: ScenarioConfig
    /// `scenario.resolved.yaml` as written.
    public var scenarioText: String
    public var summary: JSONValue
    public var guestSamples: CSVTable
    public var hostSamples: CSVTable
    public var events: [RunEvent]
    public var stats: [StatLine]

    /// The file names the report reads, in the order they are checked.
    public static let fileNames = [
        "summary.json", "timeseries.csv", "host_timeseries.csv", "events.jsonl", "scenario.resolved.yaml", "stats.txt",
    ]

    /// Parses every file; `files` maps each of `fileNames` to its text. A missing or
    /// malformed file throws an error naming the file, line and column.
    public init(files: [String: String]) throws(ReportInputError) {
        func text(_ name: String) throws(ReportInputError) -> String {
            guard let t = files[name] else { throw ReportInputError(file: name, line: 1, column: 1, "missing from the output directory") }
            return t
        }
        summary = try JSONParser.parse(try text("summary.json"), file: "summary.json")
        guard case .object = summary else { throw ReportInputError(file: "summary.json", line: 1, column: 1, "expected a JSON object") }
        for key in [SummaryKey.scenario, RunCounters.handles.simulated.name, SummaryKey.host, SummaryKey.guests] where summary[key] == nil {
            throw ReportInputError(file: "summary.json", line: 1, column: 1, "no '\(key)' key in the top-level object")
        }
        guestSamples = try CSVTable(text: try text("timeseries.csv"), file: "timeseries.csv")
        hostSamples = try CSVTable(text: try text("host_timeseries.csv"), file: "host_timeseries.csv")
        for c in [SummaryKey.time, SummaryKey.guest] + Self.guestColumns.map(\.name) { _ = try guestSamples.index(of: c) }
        for c in [SummaryKey.time] + Self.hostColumns.map(\.name) { _ = try hostSamples.index(of: c) }
        events = []
        let eventsText = try text("events.jsonl")
        for (n, line) in eventsText.split(separator: "\n", omittingEmptySubsequences: false).enumerated() where !line.isEmpty {
            let v = try JSONParser.parse(String(line), file: "events.jsonl", firstLine: n + 1)
            guard case .object(let o) = v, let t = v["time_s"]?.number, case .string(let kind)? = v["kind"] else {
                throw ReportInputError(file: "events.jsonl", line: n + 1, column: 1, "expected an object with a numeric time_s and a string kind")
            }
            var guest: String? = nil
            if case .string(let g)? = v["guest"] { guest = g }
            let fields = o.filter { !["time_s", "kind", "guest"].contains($0.0) }.map { (k, v) -> RunEvent.Pair in
                if case .string(let s) = v { return .init(key: k, value: s) }
                return .init(key: k, value: v.rendered())
            }
            events.append(RunEvent(timeSeconds: t, kind: kind, guest: guest, fields: fields))
        }
        scenarioText = try text("scenario.resolved.yaml")
        do { scenario = try ScenarioLoader.load(text: scenarioText, file: "scenario.resolved.yaml") } catch {
            // Scenario errors carry their own file:line: key path; keep their first line.
            let first = "\(error)".split(separator: "\n").first.map(String.init) ?? "\(error)"
            throw ReportInputError(file: "scenario.resolved.yaml", line: 1, column: 1, "does not load: \(first)")
        }
        stats = try Self.parseStats(try text("stats.txt"))
    }

    /// Parses gem5-style `stats.txt`: lines between the Begin/End markers, each
    /// `name value unit # description`.
    static func parseStats(_ text: String) throws(ReportInputError) -> [StatLine] {
        var out: [StatLine] = []
        var inside = false, sawEnd = false
        for (n, raw) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let line = String(raw)
            if line.hasPrefix("---------- Begin") { inside = true; continue }
            if line.hasPrefix("---------- End") { sawEnd = true; inside = false; continue }
            guard inside, !line.isEmpty else { continue }
            let parts = line.split(separator: "#", maxSplits: 1)
            let head = parts[0].split(separator: " ", omittingEmptySubsequences: true)
            guard head.count == 3, parts.count == 2 else {
                throw ReportInputError(file: "stats.txt", line: n + 1, column: 1, "expected 'name value unit # description'")
            }
            out.append(
                StatLine(
                    name: String(head[0]), value: String(head[1]), unit: String(head[2]),
                    summary: String(parts[1].drop { $0 == " " })))
        }
        if !sawEnd { throw ReportInputError(file: "stats.txt", line: 1, column: 1, "no '---------- End Simulation Statistics' marker (truncated file?)") }
        return out
    }

    /// The guests' objects of `summary.json`, in the scenario's order.
    public var guestSummaries: [JSONValue] { summary[SummaryKey.guests]?.arrayValue ?? [] }

    /// Guest names in the order of the summary (the scenario's order).
    public var guestNames: [String] { guestSummaries.compactMap { $0[SummaryKey.name]?.stringValue } }

    /// The summary object of the guest called `name`.
    public func guestSummary(_ name: String) -> JSONValue? { guestSummaries.first { $0[SummaryKey.name]?.stringValue == name } }

    /// Row indices of one guest in `timeseries.csv`.
    public func rows(ofGuest name: String) -> [Int] {
        guard let c = guestSamples.header.firstIndex(of: SummaryKey.guest) else { return [] }
        return guestSamples.rows.indices.filter { guestSamples.rows[$0][c] == name }
    }

    // MARK: Counters, by their declarations

    /// The guest counters whose `timeseries.csv` columns the report draws (checked on load).
    static var guestColumns: [GuestCounter] {
        let g = GuestCounters.handles
        return [
            g.host.consumed, g.host.privateFrames, g.host.shared, g.host.ballooned, g.host.balloonTarget, g.host.compressed,
            g.host.hostSwapped, g.swapUsed, g.vmstat.pgfault, g.vmstat.pgmajfault, g.vmstat.pswpin, g.host.hostSwapIns, g.slowdown,
        ]
    }

    /// The host counters whose `host_timeseries.csv` columns the report draws (checked on load).
    static var hostColumns: [HostCounter] {
        let h = HostCounters.handles
        return [
            h.free, h.consumed, h.overhead, h.state, h.minFree, h.sharedFrames, h.pagesShared, h.pagesSharing, h.ksmZeroPages,
            h.savedBySharing, h.ballooned, h.compressed, h.cache, h.hostSwapped,
        ]
    }

    /// The sampling instants of `host_timeseries.csv`.
    public func hostTimes() throws(ReportInputError) -> [Double] { try hostSamples.numbers(SummaryKey.time) }

    /// A host counter's column of `host_timeseries.csv`.
    public func hostColumn(_ c: HostCounter) throws(ReportInputError) -> [Double] { try hostSamples.numbers(c.name) }

    /// The sampling instants of `rows` of `timeseries.csv`.
    public func guestTimes(rows: [Int]) throws(ReportInputError) -> [Double] { try guestSamples.numbers(SummaryKey.time, rows: rows) }

    /// A guest counter's column of `timeseries.csv`, for `rows`.
    public func guestColumn(_ c: GuestCounter, rows: [Int]) throws(ReportInputError) -> [Double] { try guestSamples.numbers(c.name, rows: rows) }

    /// A host counter at the end of the run (`summary.json`), nil when absent.
    public func hostValue(_ c: HostCounter) -> Double? { Self.value(HostCounters.catalog.entry(c), in: summary[SummaryKey.host]) }

    /// A guest counter at the end of the run, from the guest's `summary.json` object.
    public static func value(_ c: GuestCounter, in guest: JSONValue?) -> Double? { value(GuestCounters.catalog.entry(c), in: guest) }

    /// A counter's value in a summary object: numbers as they are, flags as 1/0, levels by
    /// their position in the counter's labels.
    static func value<S>(_ e: CounterEntry<S>, in object: JSONValue?) -> Double? {
        var v = object
        for g in e.groups { v = v?[g] }
        switch v?[e.counter.name] {
        case .int(let i)?: return Double(i)
        case .double(let d)?, .decimal(let d, _)?: return d
        case .bool(let b)?: return b ? 1 : 0
        case .string(let s)?:
            if case .label(let names) = e.counter.format, let i = names.firstIndex(of: s) { return Double(i) }
            return nil
        default: return nil
        }
    }
}

extension JSONValue {
    /// The value of an object's key (the first one), nil for other values.
    public subscript(key: String) -> JSONValue? {
        if case .object(let o) = self { return o.first { $0.0 == key }?.1 }
        return nil
    }

    /// A number as a Double (ints and doubles), nil otherwise.
    public var number: Double? {
        switch self {
        case .int(let i): Double(i)
        case .double(let d), .decimal(let d, _): d
        default: nil
        }
    }

    public var stringValue: String? { if case .string(let s) = self { s } else { nil } }
    public var arrayValue: [JSONValue]? { if case .array(let a) = self { a } else { nil } }
    public var boolValue: Bool? { if case .bool(let b) = self { b } else { nil } }
}

/// A strict JSON parser (RFC 8259) into `JSONValue`, reporting line and column of the first
/// problem. Numbers with a fraction or exponent become `.double`, others `.int`.
public struct JSONParser {
    let bytes: [UInt8]
    let file: String
    var i = 0
    var line: Int
    var lineStart = 0

    init(_ text: String, file: String, firstLine: Int) {
        bytes = Array(text.utf8)
        self.file = file
        line = firstLine
    }

    /// Parses one JSON document (surrounding whitespace allowed).
    public static func parse(_ text: String, file: String, firstLine: Int = 1) throws(ReportInputError) -> JSONValue {
        var p = JSONParser(text, file: file, firstLine: firstLine)
        p.skipSpace()
        let v = try p.value(depth: 0)
        p.skipSpace()
        if p.i < p.bytes.count { throw p.error("unexpected text after the JSON value") }
        return v
    }

    func error(_ m: String) -> ReportInputError {
        ReportInputError(file: file, line: line, column: i - lineStart + 1, m)
    }

    mutating func skipSpace() {
        while i < bytes.count {
            switch bytes[i] {
            case 0x20, 0x09, 0x0D: i += 1
            case 0x0A: i += 1; line += 1; lineStart = i
            default: return
            }
        }
    }

    mutating func expect(_ word: String) throws(ReportInputError) {
        for b in word.utf8 {
            guard i < bytes.count, bytes[i] == b else { throw error("expected '\(word)'") }
            i += 1
        }
    }

    mutating func value(depth: Int) throws(ReportInputError) -> JSONValue {
        guard depth < 256 else { throw error("nesting deeper than 256 levels") }
        guard i < bytes.count else { throw error("unexpected end of file: expected a value") }
        switch bytes[i] {
        case UInt8(ascii: "{"):
            i += 1
            var o: [(String, JSONValue)] = []
            skipSpace()
            if i < bytes.count, bytes[i] == UInt8(ascii: "}") { i += 1; return .object(o) }
            while true {
                skipSpace()
                guard i < bytes.count, bytes[i] == UInt8(ascii: "\"") else { throw error("expected a string key") }
                let k = try string()
                skipSpace()
                guard i < bytes.count, bytes[i] == UInt8(ascii: ":") else { throw error("expected ':' after the key \"\(k)\"") }
                i += 1
                skipSpace()
                o.append((k, try value(depth: depth + 1)))
                skipSpace()
                guard i < bytes.count else { throw error("unexpected end of file: expected ',' or '}'") }
                if bytes[i] == UInt8(ascii: ",") { i += 1; continue }
                if bytes[i] == UInt8(ascii: "}") { i += 1; return .object(o) }
                throw error("expected ',' or '}'")
            }
        case UInt8(ascii: "["):
            i += 1
            var a: [JSONValue] = []
            skipSpace()
            if i < bytes.count, bytes[i] == UInt8(ascii: "]") { i += 1; return .array(a) }
            while true {
                skipSpace()
                a.append(try value(depth: depth + 1))
                skipSpace()
                guard i < bytes.count else { throw error("unexpected end of file: expected ',' or ']'") }
                if bytes[i] == UInt8(ascii: ",") { i += 1; continue }
                if bytes[i] == UInt8(ascii: "]") { i += 1; return .array(a) }
                throw error("expected ',' or ']'")
            }
        case UInt8(ascii: "\""): return .string(try string())
        case UInt8(ascii: "t"): try expect("true"); return .bool(true)
        case UInt8(ascii: "f"): try expect("false"); return .bool(false)
        case UInt8(ascii: "n"): try expect("null"); return .null
        default: return try number()
        }
    }

    mutating func number() throws(ReportInputError) -> JSONValue {
        let start = i
        var isDouble = false
        if i < bytes.count, bytes[i] == UInt8(ascii: "-") { i += 1 }
        func digits(_ p: inout JSONParser) -> Int {
            let s = p.i
            while p.i < p.bytes.count, p.bytes[p.i] >= 0x30, p.bytes[p.i] <= 0x39 { p.i += 1 }
            return p.i - s
        }
        guard digits(&self) > 0 else { i = start; throw error("expected a value (object, array, string, number, true, false or null)") }
        if i < bytes.count, bytes[i] == UInt8(ascii: ".") {
            i += 1; isDouble = true
            guard digits(&self) > 0 else { throw error("expected digits after the decimal point") }
        }
        if i < bytes.count, bytes[i] == UInt8(ascii: "e") || bytes[i] == UInt8(ascii: "E") {
            i += 1; isDouble = true
            if i < bytes.count, bytes[i] == UInt8(ascii: "+") || bytes[i] == UInt8(ascii: "-") { i += 1 }
            guard digits(&self) > 0 else { throw error("expected digits in the exponent") }
        }
        let text = String(decoding: bytes[start..<i], as: UTF8.self)
        if !isDouble, let v = Int64(text) { return .int(v) }
        guard let d = Double(text) else { i = start; throw error("number '\(text)' is out of range") }
        return .double(d)
    }

    mutating func string() throws(ReportInputError) -> String {
        i += 1  // opening quote
        var out: [UInt8] = []
        while true {
            guard i < bytes.count else { throw error("unterminated string") }
            let b = bytes[i]
            if b == UInt8(ascii: "\"") { i += 1; break }
            if b < 0x20 { throw error("control character in a string (escape it)") }
            if b != UInt8(ascii: "\\") { out.append(b); i += 1; continue }
            i += 1
            guard i < bytes.count else { throw error("unterminated escape") }
            let e = bytes[i]
            i += 1
            switch e {
            case UInt8(ascii: "\""): out.append(0x22)
            case UInt8(ascii: "\\"): out.append(0x5C)
            case UInt8(ascii: "/"): out.append(0x2F)
            case UInt8(ascii: "b"): out.append(0x08)
            case UInt8(ascii: "f"): out.append(0x0C)
            case UInt8(ascii: "n"): out.append(0x0A)
            case UInt8(ascii: "r"): out.append(0x0D)
            case UInt8(ascii: "t"): out.append(0x09)
            case UInt8(ascii: "u"):
                var code = try hex4()
                if (0xD800..<0xDC00).contains(code) {
                    guard i + 1 < bytes.count, bytes[i] == UInt8(ascii: "\\"), bytes[i + 1] == UInt8(ascii: "u") else {
                        throw error("unpaired surrogate in \\u escape")
                    }
                    i += 2
                    let low = try hex4()
                    guard (0xDC00..<0xE000).contains(low) else { throw error("invalid low surrogate in \\u escape") }
                    code = 0x10000 + ((code - 0xD800) << 10) + (low - 0xDC00)
                }
                guard let s = Unicode.Scalar(code) else { throw error("invalid \\u escape") }
                out.append(contentsOf: Array(String(s).utf8))
            default: i -= 1; throw error("invalid escape '\\\(Character(Unicode.Scalar(e)))'")
            }
        }
        return String(decoding: out, as: UTF8.self)
    }

    mutating func hex4() throws(ReportInputError) -> UInt32 {
        guard i + 4 <= bytes.count, let v = UInt32(String(decoding: bytes[i..<i + 4], as: UTF8.self), radix: 16) else {
            throw error("expected four hex digits after \\u")
        }
        i += 4
        return v
    }
}
