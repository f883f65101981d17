/// How values print: Python's `str()` (what MOM's parser script prints for each top-level
/// expression) and `repr()` (how items print inside a list).
extension PolicyValue {
    /// Python's `str(value)`. `entityName` names entity `i` (`Host`, `guest 'vm1'`).
    public func pythonStr(entityName: (Int) -> String = { $0 == 0 ? "Host" : "guest #\($0)" }) -> String {
        if case .string(let s) = self { return s }
        return pythonRepr(entityName: entityName)
    }

    /// Python's `repr(value)`: strings quoted and escaped, lists as `[a, b]`. Entities and
    /// functions print as `<Entity Host>`, `<function abs>` (Python shows an address there).
    public func pythonRepr(entityName: (Int) -> String = { $0 == 0 ? "Host" : "guest #\($0)" }) -> String {
        switch self {
        case .none: return "None"
        case .bool(let b): return b ? "True" : "False"
        case .int(let i): return String(i)
        case .bigInt(let b): return b.description
        case .float(let d): return PythonFloat.repr(d)
        case .string(let s): return Self.reprString(s)
        case .list(let l): return "[" + l.map { $0.pythonRepr(entityName: entityName) }.joined(separator: ", ") + "]"
        case .entity(let i): return "<Entity \(entityName(i))>"
        case .builtin(let f): return "<function \(f.rawValue)>"
        case .method(let e, let m): return "<bound method Entity.\(m.rawValue) of <Entity \(entityName(e))>>"
        }
    }

    /// Python's `repr` of a string: single quotes unless the string holds a single quote and
    /// no double quote; backslash, the quote, `\t`, `\n`, `\r` escaped; other unprintable
    /// code points as `\xNN`, `\uNNNN` or `\UNNNNNNNN`.
    static func reprString(_ s: String) -> String {
        let hasSingle = s.unicodeScalars.contains("'"), hasDouble = s.unicodeScalars.contains("\"")
        let quote: Unicode.Scalar = hasSingle && !hasDouble ? "\"" : "'"
        var out = String.UnicodeScalarView()
        out.append(quote)
        func hex(_ v: UInt32, _ width: Int) -> String {
            let h = String(v, radix: 16)
            return String(repeating: "0", count: max(0, width - h.count)) + h
        }
        for c in s.unicodeScalars {
            switch c {
            case "\\": out.append(contentsOf: "\\\\".unicodeScalars)
            case quote: out.append("\\"); out.append(c)
            case "\t": out.append(contentsOf: "\\t".unicodeScalars)
            case "\n": out.append(contentsOf: "\\n".unicodeScalars)
            case "\r": out.append(contentsOf: "\\r".unicodeScalars)
            default:
                if isPrintable(c) {
                    out.append(c)
                } else if c.value < 0x100 {
                    out.append(contentsOf: ("\\x" + hex(c.value, 2)).unicodeScalars)
                } else if c.value < 0x10000 {
                    out.append(contentsOf: ("\\u" + hex(c.value, 4)).unicodeScalars)
                } else {
                    out.append(contentsOf: ("\\U" + hex(c.value, 8)).unicodeScalars)
                }
            }
        }
        out.append(quote)
        return String(out)
    }

    /// Python's `str.isprintable` for one code point: not in the categories Cc, Cf, Cs, Co,
    /// Cn, Zl, Zp, Zs, except the space itself.
    static func isPrintable(_ c: Unicode.Scalar) -> Bool {
        if c == " " { return true }
        switch c.properties.generalCategory {
        case .control, .format, .surrogate, .privateUse, .unassigned, .lineSeparator, .paragraphSeparator, .spaceSeparator:
            return false
        default:
            return true
        }
    }
}
