/// One token of a policy program.
public struct PolicyToken: Sendable, Equatable {
    public enum Kind: Sendable, Equatable {
        /// `(`, `[` or `{`.
        case open(Character)
        /// `)`, `]` or `}`.
        case close(Character)
        /// An integer or float literal, already converted.
        case number(PolicyValue)
        /// A string literal's contents: the text between the quotes, backslashes kept (MOM
        /// does not process escapes).
        case string(String)
        /// A symbol: `[A-Za-z_][A-Za-z0-9_.-]*`.
        case symbol(String)
        /// One of `+ - * / < > <= >= << >> == !=`.
        case op(String)
    }
    public var kind: Kind
    /// Code-point offset of the token's first character in the program text.
    public var offset: Int
    /// Length in code points.
    public var length: Int
    /// The interned symbol of a symbol token, or of the form an operator names (-1 otherwise).
    var symbol: Int = -1

    init(kind: Kind, offset: Int, length: Int, symbol: Int = -1) {
        self.kind = kind; self.offset = offset; self.length = length; self.symbol = symbol
    }
}

/// The scanner of MOM's policy language (`Scanner` in `mom/Policy/Parser.py`).
///
/// MOM's scanner (John Aycock's SPARK) joins its token patterns into one regular expression
/// whose alternatives are tried in the alphabetical order of their method names, taking the
/// first that matches, not the longest. This scanner tries the same patterns in the same
/// order, so it splits text exactly as MOM does: brackets, floats (`-?[0-9]*\.[0-9]+`
/// with an optional exponent), hex (`0x1F`), integers (`-5`, and `0` not followed by a digit,
/// `o` or `x`), integers with an exponent (floats: `10e3`), octal (`0o17`), `#` comments to
/// the end of the line, single- and double-quoted strings, symbols, operators, whitespace.
/// So `-5` is one integer token and `(- 5 3)` a subtraction; `125f56` is `125` then `f56`;
/// `e3` is a symbol.
///
/// Where MOM's pattern list has no match it falls back to a catch-all that silently drops
/// the rest of the program (an unknown character, `5.`, `017`, an unterminated string).
/// This scanner reports a syntax error there instead, with one deliberate extension: a
/// number with a leading zero (`017`) is octal, as in MOM before its Python 3 port.
struct PolicyScanner {
    let s: [Unicode.Scalar]
    let map: SourceMap
    var pos = 0

    init(_ map: SourceMap) {
        self.map = map
        self.s = map.scalars
    }

    /// Python's `str.isspace` (what `\s` matches in MOM's Unicode regular expressions).
    static func isPythonSpace(_ c: Unicode.Scalar) -> Bool {
        switch c.value {
        case 0x09...0x0D, 0x1C...0x20, 0x85, 0xA0, 0x1680, 0x2000...0x200A, 0x2028, 0x2029, 0x202F, 0x205F, 0x3000:
            return true
        default:
            return false
        }
    }

    static func isDigit(_ c: Unicode.Scalar) -> Bool { c.value >= 48 && c.value <= 57 }
    static func isHexDigit(_ c: Unicode.Scalar) -> Bool {
        isDigit(c) || (c.value >= 65 && c.value <= 70) || (c.value >= 97 && c.value <= 102)
    }
    static func isSymbolStart(_ c: Unicode.Scalar) -> Bool {
        (c.value >= 65 && c.value <= 90) || (c.value >= 97 && c.value <= 122) || c == "_"
    }
    static func isSymbolChar(_ c: Unicode.Scalar) -> Bool {
        isSymbolStart(c) || isDigit(c) || c == "-" || c == "."
    }

    func at(_ i: Int) -> Unicode.Scalar? { i < s.count ? s[i] : nil }

    func error(_ message: String, _ offset: Int) -> PolicyError {
        PolicyError(.syntax, message, at: map.location(offset))
    }

    mutating func tokenize() throws(PolicyError) -> [PolicyToken] {
        var tokens: [PolicyToken] = []
        while pos < s.count {
            let start = pos
            let c = s[pos]
            // 1. builtin_op: brackets.
            if "(){}[]".unicodeScalars.contains(c) {
                let ch = Character(c)
                tokens.append(PolicyToken(kind: "({[".contains(ch) ? .open(ch) : .close(ch), offset: start, length: 1))
                pos += 1
                continue
            }
            // 2-6, and the leading-zero octal extension: numbers.
            if let (value, end) = try number(at: start) {
                tokens.append(PolicyToken(kind: .number(value), offset: start, length: end - start))
                pos = end
                continue
            }
            // 7. pound_comment: to the end of the line (a last line without a newline too).
            if c == "#" {
                while pos < s.count && s[pos] != "\n" { pos += 1 }
                continue
            }
            // 8, 9. single- and double-quoted strings.
            if c == "'" || c == "\"" {
                var i = start + 1
                while true {
                    guard let d = at(i) else {
                        throw error("unterminated string: no closing \(c == "'" ? "'" : "\"") before the end of the program", start)
                    }
                    if d == c { break }
                    if d == "\\" {
                        guard let e = at(i + 1), e != "\n" else {
                            throw error("unterminated string: a backslash at the end of a line (MOM's scanner stops there)", start)
                        }
                        i += 2
                    } else {
                        i += 1
                    }
                }
                var content = String.UnicodeScalarView()
                content.append(contentsOf: s[(start + 1)..<i])
                tokens.append(PolicyToken(kind: .string(String(content)), offset: start, length: i + 1 - start))
                pos = i + 1
                continue
            }
            // 10. symbol.
            if Self.isSymbolStart(c) {
                var i = start + 1
                while let d = at(i), Self.isSymbolChar(d) { i += 1 }
                var name = String.UnicodeScalarView()
                name.append(contentsOf: s[start..<i])
                tokens.append(PolicyToken(kind: .symbol(String(name)), offset: start, length: i - start))
                pos = i
                continue
            }
            // 11. user_op: two-character operators first.
            if let n = at(start + 1) {
                let two = String(Character(c)) + String(Character(n))
                if ["<=", ">=", "<<", ">>", "==", "!="].contains(two) {
                    tokens.append(PolicyToken(kind: .op(two), offset: start, length: 2))
                    pos += 2
                    continue
                }
            }
            if "+-*/<>".unicodeScalars.contains(c) {
                tokens.append(PolicyToken(kind: .op(String(Character(c))), offset: start, length: 1))
                pos += 1
                continue
            }
            // 12. whitespace.
            if Self.isPythonSpace(c) {
                pos += 1
                continue
            }
            throw unexpected(at: start)
        }
        return tokens
    }

    /// The error for a character no pattern matches (MOM silently ignores the rest).
    func unexpected(at i: Int) -> PolicyError {
        let c = s[i]
        if Self.isDigit(c) || c == "." {
            var j = i
            while let d = at(j), !Self.isPythonSpace(d), !"(){}[]".unicodeScalars.contains(d) { j += 1 }
            var word = String.UnicodeScalarView(); word.append(contentsOf: s[i..<j])
            return error("malformed number '\(String(word))': write an integer (12, -3, 0x1F, 0o17) or a float (1.5, .5, 2e-3, 1.5e3)", i)
        }
        let shown: String
        switch c {
        case "=": shown = "'=' (comparison is ==)"
        case "!": shown = "'!' (inequality is !=; negation is (not x))"
        case ";": shown = "';' (comments start with #)"
        default: shown = c.value < 0x20 || c.value == 0x7F ? "character U+\(String(c.value, radix: 16, uppercase: true))" : "character '\(Character(c))'"
        }
        return error("unexpected \(shown): expected a bracket, number, string, symbol, operator or comment", i)
    }

    /// The number starting at `i`, tried in MOM's order: float, hex, integer, integer with
    /// exponent, octal; then (an extension) a leading-zero octal such as `017`.
    func number(at i: Int) throws(PolicyError) -> (PolicyValue, Int)? {
        guard let c = at(i), Self.isDigit(c) || c == "-" || c == "." else { return nil }
        if let f = float(at: i) { return f }
        if c == "0", let x = at(i + 1), x == "x" || x == "X" {
            var j = i + 2
            while let d = at(j), Self.isHexDigit(d) { j += 1 }
            if j > i + 2 {
                let digits = s[(i + 2)..<j].map { d -> UInt32 in
                    let v = d.value
                    return v <= 57 ? v - 48 : (v <= 70 ? v - 55 : v - 87)
                }
                return (try integerValue(digits, base: 16, negative: false, i, j), j)
            }
        }
        // integer and integer_with_exponent share the mantissa -?(0(?![0-9oXx])|[1-9][0-9]*).
        var j = i
        let negative = c == "-"
        if negative { j += 1 }
        if let d = at(j), Self.isDigit(d) {
            var mantissaEnd: Int? = nil
            if d == "0" {
                if let n = at(j + 1), Self.isDigit(n) || n == "o" || n == "X" || n == "x" {} else { mantissaEnd = j + 1 }
            } else {
                var k = j + 1
                while let n = at(k), Self.isDigit(n) { k += 1 }
                mantissaEnd = k
            }
            if let m = mantissaEnd {
                let next = at(m)
                if next != "e" && next != "E" {
                    return (try decimal(i, m), m)
                }
                // integer_with_exponent: [Ee][+-]?[0-9]+, a float.
                var k = m + 1
                if let sign = at(k), sign == "+" || sign == "-" { k += 1 }
                let digitsStart = k
                while let n = at(k), Self.isDigit(n) { k += 1 }
                if k > digitsStart { return (.float(parseDouble(i, k)), k) }
            }
        }
        // octal: 0o[0-9]+ (Python's int(s, 0) then refuses 8 and 9).
        if c == "0", let o = at(i + 1), o == "o" {
            var k = i + 2
            while let n = at(k), Self.isDigit(n) { k += 1 }
            if k > i + 2 { return (try octal(i, i + 2, k), k) }
        }
        // Extension: 017 is octal, as in MOM under Python 2 (its Python 3 port stopped reading there).
        if c == "0", let n = at(i + 1), Self.isDigit(n) {
            var k = i + 1
            while let d = at(k), Self.isDigit(d) { k += 1 }
            return (try octal(i, i + 1, k), k)
        }
        return nil
    }

    /// float: -?(0|[1-9][0-9]*)*(\.[0-9]+)([Ee][+-]?[0-9]+)? , i.e. -?[0-9]*\.[0-9]+ with an
    /// optional exponent.
    func float(at i: Int) -> (PolicyValue, Int)? {
        var j = i
        if at(j) == "-" { j += 1 }
        while let d = at(j), Self.isDigit(d) { j += 1 }
        guard at(j) == "." else { return nil }
        var k = j + 1
        while let d = at(k), Self.isDigit(d) { k += 1 }
        guard k > j + 1 else { return nil }
        if let e = at(k), e == "e" || e == "E" {
            var m = k + 1
            if let sign = at(m), sign == "+" || sign == "-" { m += 1 }
            let digitsStart = m
            while let d = at(m), Self.isDigit(d) { m += 1 }
            if m > digitsStart { k = m }
        }
        return (.float(parseDouble(i, k)), k)
    }

    func text(_ i: Int, _ j: Int) -> String {
        var v = String.UnicodeScalarView(); v.append(contentsOf: s[i..<j]); return String(v)
    }

    /// Python's `float(text)`: correctly rounded, as Swift's `Double(String)` is.
    func parseDouble(_ i: Int, _ j: Int) -> Double {
        Double(text(i, j)) ?? .nan
    }

    /// An integer literal's value: 64-bit when it fits, else a big integer (as Python reads it).
    func integerValue(_ digits: [UInt32], base: UInt32, negative: Bool, _ i: Int, _ j: Int) throws(PolicyError) -> PolicyValue {
        var big = BigInt.parse(digits, base: base)
        if negative { big = -big }
        if big.bitWidth > BigInt.maxBits {
            throw error("integer literal \(text(i, j)) is larger than \(BigInt.maxBits) bits", i)
        }
        return big.value
    }

    func decimal(_ i: Int, _ j: Int) throws(PolicyError) -> PolicyValue {
        if let v = Int(text(i, j)) { return .int(v) }
        let negative = s[i] == "-"
        return try integerValue(s[(negative ? i + 1 : i)..<j].map { $0.value - 48 }, base: 10, negative: negative, i, j)
    }

    func octal(_ i: Int, _ digitsStart: Int, _ j: Int) throws(PolicyError) -> PolicyValue {
        let digits = s[digitsStart..<j].map { $0.value - 48 }
        guard digits.allSatisfy({ $0 < 8 }) else {
            throw error("invalid octal literal \(text(i, j)): octal digits are 0-7", i)
        }
        return try integerValue(digits, base: 8, negative: false, i, j)
    }
}
