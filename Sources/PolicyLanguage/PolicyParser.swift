/// A parsed expression: a token or a bracketed list, as MOM's parser builds them.
///
/// MOM's grammar (`Parser` in `mom/Policy/Parser.py`): a program is one or more values; a
/// value is a number, string, symbol, operator, `( values )` or `[ values ]` (both plain
/// lists), or `{ values }`, a list whose first item is the symbol `eval` (so a block
/// evaluates its items in order and yields the last).
public indirect enum PolicyNode: Sendable {
    case token(PolicyToken)
    case list(PolicyList)

    /// Code-point offset of the node's first character.
    public var offset: Int {
        switch self {
        case .token(let t): return t.offset
        case .list(let l): return l.open.offset
        }
    }
    /// Code-point offset just past the node.
    var end: Int {
        switch self {
        case .token(let t): return t.offset + t.length
        case .list(let l): return l.closeOffset + 1
        }
    }
    var symbol: String? {
        if case .token(let t) = self, case .symbol(let s) = t.kind { return s }
        return nil
    }
    var listItems: [PolicyNode]? {
        if case .list(let l) = self { return l.items }
        return nil
    }
}

/// A bracketed list. For `{ ... }` the items start with a synthetic `eval` symbol.
public struct PolicyList: Sendable {
    /// The opening bracket.
    public var open: PolicyToken
    public var items: [PolicyNode]
    public var closeOffset: Int
    /// The bracket character: `(`, `[` or `{`.
    public var bracket: Character {
        if case .open(let c) = open.kind { return c }
        return "("
    }
}

/// Recursive-descent parser for MOM's grammar, with errors that say what was expected where.
struct PolicyParser {
    let tokens: [PolicyToken]
    let map: SourceMap
    var i = 0
    /// The symbols of the program, interned as the parser meets them.
    var symbols = SymbolTable()
    var depth = 0
    /// Brackets nest at most this deep (real policies nest a dozen levels).
    static let maxNesting = 256

    init(tokens: [PolicyToken], map: SourceMap) { self.tokens = tokens; self.map = map }

    static func closing(_ open: Character) -> Character {
        switch open {
        case "[": return "]"
        case "{": return "}"
        default: return ")"
        }
    }

    mutating func parseProgram() throws(PolicyError) -> [PolicyNode] {
        var out: [PolicyNode] = []
        while i < tokens.count {
            let t = tokens[i]
            if case .close(let c) = t.kind {
                throw PolicyError(
                    .syntax, "unexpected '\(c)': no open bracket to close (expected an expression or the end of the program)", at: map.location(t.offset))
            }
            out.append(try parseValue())
        }
        return out
    }

    mutating func parseValue() throws(PolicyError) -> PolicyNode {
        var t = tokens[i]
        i += 1
        guard case .open(let open) = t.kind else {
            switch t.kind {
            case .symbol(let name): t.symbol = symbols.intern(name)
            case .op(let o): t.symbol = symbols.id(SpecialForm.operators[o]!.rawValue)!
            default: break
            }
            return .token(t)
        }
        depth += 1
        defer { depth -= 1 }
        if depth > Self.maxNesting {
            throw PolicyError(.syntax, "brackets nested more than \(Self.maxNesting) deep", at: map.location(t.offset))
        }
        let close = Self.closing(open)
        var items: [PolicyNode] = []
        if open == "{" {
            items.append(.token(PolicyToken(kind: .symbol("eval"), offset: t.offset, length: 1, symbol: SymbolTable.evalID)))
        }
        while true {
            guard i < tokens.count else {
                throw PolicyError(
                    .syntax, "'\(open)' opened here is never closed: expected '\(close)' before the end of the program", at: map.location(t.offset))
            }
            let u = tokens[i]
            if case .close(let c) = u.kind {
                guard c == close else {
                    throw PolicyError(
                        .syntax, "expected '\(close)' to close the '\(open)' at \(map.location(t.offset)), found '\(c)'", at: map.location(u.offset))
                }
                i += 1
                return .list(PolicyList(open: t, items: items, closeOffset: u.offset))
            }
            items.append(try parseValue())
        }
    }
}
