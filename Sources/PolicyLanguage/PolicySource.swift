/// One policy file's text, as MOM reads it.
///
/// MOM opens policy files in Python's text mode, which turns `\r\n` and a lone `\r` into
/// `\n`; the initializer does the same, so line numbers and string contents agree with MOM.
public struct PolicySource: Sendable, Equatable {
    /// The file name shown in messages (a path as the user gave it).
    public var name: String
    /// The text with newlines normalized to `\n`.
    public var text: String

    public init(name: String, text: String) {
        self.name = name
        guard text.unicodeScalars.contains("\r") else { self.text = text; return }
        var out = String.UnicodeScalarView()
        var previousCR = false
        for c in text.unicodeScalars {
            if c == "\r" { out.append("\n"); previousCR = true; continue }
            if c == "\n" && previousCR { previousCR = false; continue }
            previousCR = false
            out.append(c)
        }
        self.text = String(out)
    }

    /// The order in which MOM's policy engine concatenates the files of a policy directory
    /// (`mom/PolicyEngine.py` `load_policy`, `mom/Policy/Policy.py` `_cat_policies`): files
    /// whose name ends in `.policy` and does not start with a dot, sorted by the name before
    /// the first `.policy` (Python compares strings by code point).
    public static func momDirectoryOrder(_ fileNames: [String]) -> [String] {
        func precedes(_ a: String, _ b: String) -> Bool {
            a.unicodeScalars.lexicographicallyPrecedes(b.unicodeScalars, by: { $0.value < $1.value })
        }
        // MOM reads the files in sorted order into a table keyed by policy name (a later file
        // with the same name replaces an earlier one), then joins the table in key order.
        var byName: [(key: String, file: String)] = []
        for file in fileNames.sorted(by: precedes) where !file.hasPrefix(".") && file.hasSuffix(".policy") {
            let key = policyName(file)
            if let i = byName.firstIndex(where: { $0.key == key }) { byName[i].file = file } else { byName.append((key, file)) }
        }
        return byName.sorted { precedes($0.key, $1.key) }.map(\.file)
    }

    /// MOM's policy name of a file: the part before the first `.policy` (the key MOM sorts
    /// the files of a policy directory by).
    public static func momPolicyName(_ file: String) -> String { policyName(file) }

    /// MOM's policy name of a file: the part before the first `.policy`.
    static func policyName(_ file: String) -> String {
        let s = Array(file.unicodeScalars), pattern = Array(".policy".unicodeScalars)
        guard s.count >= pattern.count else { return file }
        for i in 0...(s.count - pattern.count) where Array(s[i..<(i + pattern.count)]) == pattern {
            var v = String.UnicodeScalarView(); v.append(contentsOf: s[..<i]); return String(v)
        }
        return file
    }
}

/// A place in a policy file: file name, line and column (both from 1; columns count
/// Unicode code points, as Python does).
public struct SourceLocation: Sendable, Equatable, CustomStringConvertible {
    public var file: String
    public var line: Int
    public var column: Int
    public init(file: String, line: Int, column: Int) { self.file = file; self.line = line; self.column = column }
    /// `file:line:column`.
    public var description: String { "\(file):\(line):\(column)" }
    /// `file:line`, for run-time messages.
    public var fileAndLine: String { "\(file):\(line)" }
}

/// The program text: the files joined by `\n` as MOM joins them, as an array of code points,
/// with the offsets needed to turn a code-point offset back into a file, line and column.
struct SourceMap: Sendable {
    let scalars: [Unicode.Scalar]
    let fileNames: [String]
    /// Offset of each file's first code point in `scalars`.
    let fileStarts: [Int]
    /// Offset of each line's first code point.
    let lineStarts: [Int]
    /// Index into `lineStarts` of each file's first line.
    let fileFirstLine: [Int]

    init(_ sources: [PolicySource]) {
        var s: [Unicode.Scalar] = []
        var starts: [Int] = []
        for (i, src) in sources.enumerated() {
            if i > 0 { s.append("\n") }
            starts.append(s.count)
            s.append(contentsOf: src.text.unicodeScalars)
        }
        var lines = [0]
        for (i, c) in s.enumerated() where c == "\n" { lines.append(i + 1) }
        scalars = s
        fileNames = sources.map(\.name)
        fileStarts = starts
        lineStarts = lines
        fileFirstLine = starts.map { start in Self.lastIndex(in: lines, notAbove: start) }
    }

    /// The index of the last element of the sorted `a` that is <= `x` (0 when none is).
    static func lastIndex(in a: [Int], notAbove x: Int) -> Int {
        var lo = 0, hi = a.count - 1
        while lo < hi {
            let mid = (lo + hi + 1) / 2
            if a[mid] <= x { lo = mid } else { hi = mid - 1 }
        }
        return lo
    }

    func location(_ offset: Int) -> SourceLocation {
        guard !fileNames.isEmpty else { return SourceLocation(file: "<no file>", line: 1, column: 1) }
        let f = Self.lastIndex(in: fileStarts, notAbove: offset)
        let l = Self.lastIndex(in: lineStarts, notAbove: offset)
        return SourceLocation(file: fileNames[f], line: l - fileFirstLine[f] + 1, column: offset - lineStarts[l] + 1)
    }

    /// The source text from `start` to `end` (exclusive) on one line, whitespace runs
    /// collapsed, cut to `limit` characters: how a failing expression is quoted in messages.
    func excerpt(_ start: Int, _ end: Int, limit: Int = 72) -> String {
        var out = String.UnicodeScalarView()
        var lastSpace = false
        var i = max(0, start)
        let stop = min(end, scalars.count)
        var quote: Unicode.Scalar? = nil
        var inComment = false
        while i < stop {
            let c = scalars[i]
            i += 1
            if inComment {
                if c == "\n" { inComment = false } else { continue }
            }
            if let q = quote {
                out.append(c); lastSpace = false
                if c == "\\", i < stop { out.append(scalars[i]); i += 1 } else if c == q { quote = nil }
                continue
            }
            if c == "#" { inComment = true; continue }
            if c == "\"" || c == "'" { quote = c }
            if PolicyScanner.isPythonSpace(c) {
                if !lastSpace && !out.isEmpty { out.append(" ") }
                lastSpace = true
            } else {
                out.append(c); lastSpace = false
            }
        }
        var text = String(out)
        if text.count > limit { text = String(text.prefix(limit - 3)) + "..." }
        return text
    }
}
