import Yams

/// Scalar spelling for generated YAML: plain where that reads back as the same string,
/// double-quoted otherwise.
enum YAMLText {
    /// A double as YAML reads it back exactly (`0.5`, `200.0`, `.inf`).
    static func double(_ d: Double) -> String {
        if d.isNaN { return ".nan" }
        if d.isInfinite { return d < 0 ? "-.inf" : ".inf" }
        return "\(d)"
    }

    /// A string as a plain scalar when safe, else double-quoted with escapes.
    static func string(_ s: String) -> String {
        isPlainSafe(s) ? s : quoted(s)
    }

    /// Plain only for simple text that YAML resolves as a string (not `null`, `true`,
    /// `1.5`, `~`, ...) and that contains nothing YAML gives a meaning (`: `, ` #`, quotes,
    /// brackets, leading indicators).
    static func isPlainSafe(_ s: String) -> Bool {
        guard let first = s.unicodeScalars.first, let last = s.unicodeScalars.last else { return false }
        func isAlnum(_ c: Unicode.Scalar) -> Bool {
            ("a"..."z").contains(c) || ("A"..."Z").contains(c) || ("0"..."9").contains(c)
        }
        guard isAlnum(first) || first == "/" || first == "_" || first == "." else { return false }
        guard last != " " else { return false }
        for c in s.unicodeScalars {
            guard isAlnum(c) || "_-./%+()@ ".unicodeScalars.contains(c) else { return false }
        }
        if s.contains("  ") { return false }
        return Resolver.default.resolveTag(of: Node(s)) == .str
    }

    /// A multi-line string as a YAML literal block (`|` keeps the final newline, `|-` strips
    /// it), when that reads back as the same string: printable text, no tabs, no trailing
    /// spaces, a first line that does not start with a space, at most one final newline.
    /// Nil for anything else (it is double-quoted instead).
    static func literalBlock(_ s: String) -> (header: String, lines: [String])? {
        guard s.contains("\n") else { return nil }
        let body = s.hasSuffix("\n") ? String(s.dropLast()) : s
        guard !body.isEmpty, !body.hasSuffix("\n"), !body.hasPrefix(" "), !body.hasPrefix("\n") else { return nil }
        let lines = body.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        for l in lines {
            if l.hasSuffix(" ") { return nil }
            for c in l.unicodeScalars where c.value < 0x20 || c.value == 0x7F || (0x80...0x9F).contains(c.value) || c.value == 0xFEFF { return nil }
        }
        return (s.hasSuffix("\n") ? "|" : "|-", lines)
    }

    static func quoted(_ s: String) -> String {
        var out = "\""
        for c in s.unicodeScalars {
            switch c {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\t": out += "\\t"
            case "\r": out += "\\r"
            default:
                if c.value < 0x20 || c.value == 0x7F || (0x80...0x9F).contains(c.value) || c.value == 0xFEFF {
                    let hex = String(c.value, radix: 16, uppercase: true)
                    out += "\\u" + String(repeating: "0", count: max(0, 4 - hex.count)) + hex
                } else {
                    out.unicodeScalars.append(c)
                }
            }
        }
        return out + "\""
    }
}
