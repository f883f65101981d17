/// Python's semantics for the operators of MOM's policy language.
///
/// MOM's `Evaluator` implements `+ - * / < > <= >= == != << >>` with Python's operators
/// (`mom/Policy/Parser.py`, `c_add` ... `c_shr`, under `from __future__ import division`), so
/// mixed `int`/`float` arithmetic, true division, string and list concatenation and
/// repetition, exact comparison of integers with floats and the type errors are Python's.
/// The messages of the errors are Python's too.

/// An error raised by an operation, before the evaluator adds where it happened.
struct OperationError: Error {
    var kind: PolicyError.Kind
    var message: String
    init(_ kind: PolicyError.Kind, _ message: String) { self.kind = kind; self.message = message }
}

/// The largest string or list an operation may build (Python would try and run out of memory).
let maxSequenceLength = 1 << 24

enum PythonOps {
    static func overflow(_ op: String) -> OperationError {
        OperationError(.value, "integer overflow in \(op): the result does not fit in 64 bits (MOM's Python integers have no limit; overcommit's are 64-bit)")
    }

    static func unsupported(_ op: String, _ a: PolicyValue, _ b: PolicyValue) -> OperationError {
        OperationError(.type, "unsupported operand type(s) for \(op): '\(a.typeName)' and '\(b.typeName)'")
    }

    // MARK: Arithmetic

    static func add(_ a: PolicyValue, _ b: PolicyValue) throws(OperationError) -> PolicyValue {
        if let x = a.number, let y = b.number {
            switch (x, y) {
            case (.int(let i), .int(let j)):
                let (r, o) = i.addingReportingOverflow(j)
                if o { throw overflow("+") }
                return .int(r)
            default:
                return .float(toDouble(x) + toDouble(y))
            }
        }
        switch (a, b) {
        case (.string(let s), .string(let t)):
            if s.unicodeScalars.count + t.unicodeScalars.count > maxSequenceLength { throw tooLong() }
            return .string(s + t)
        case (.list(let s), .list(let t)):
            if s.count + t.count > maxSequenceLength { throw tooLong() }
            return .list(s + t)
        case (.string, _):
            throw OperationError(.type, "can only concatenate str (not \"\(b.typeName)\") to str")
        case (.list, _):
            throw OperationError(.type, "can only concatenate list (not \"\(b.typeName)\") to list")
        default:
            throw unsupported("+", a, b)
        }
    }

    static func sub(_ a: PolicyValue, _ b: PolicyValue) throws(OperationError) -> PolicyValue {
        guard let x = a.number, let y = b.number else { throw unsupported("-", a, b) }
        switch (x, y) {
        case (.int(let i), .int(let j)):
            let (r, o) = i.subtractingReportingOverflow(j)
            if o { throw overflow("-") }
            return .int(r)
        default:
            return .float(toDouble(x) - toDouble(y))
        }
    }

    static func mul(_ a: PolicyValue, _ b: PolicyValue) throws(OperationError) -> PolicyValue {
        if let x = a.number, let y = b.number {
            switch (x, y) {
            case (.int(let i), .int(let j)):
                let (r, o) = i.multipliedReportingOverflow(by: j)
                if o { throw overflow("*") }
                return .int(r)
            default:
                return .float(toDouble(x) * toDouble(y))
            }
        }
        // A sequence times an integer repeats it, on either side.
        func repeated(_ seq: PolicyValue, _ count: PolicyValue) throws(OperationError) -> PolicyValue {
            guard let n = count.integer else {
                throw OperationError(.type, "can't multiply sequence by non-int of type '\(count.typeName)'")
            }
            switch seq {
            case .string(let s):
                if n <= 0 || s.isEmpty { return .string("") }
                if s.unicodeScalars.count > maxSequenceLength / n { throw tooLong() }
                return .string(String(repeating: s, count: n))
            case .list(let l):
                if n <= 0 || l.isEmpty { return .list([]) }
                if l.count > maxSequenceLength / n { throw tooLong() }
                return .list(Array([[PolicyValue]](repeating: l, count: n).joined()))
            default:
                throw unsupported("*", a, b)
            }
        }
        switch (a, b) {
        case (.string, _), (.list, _): return try repeated(a, b)
        case (_, .string), (_, .list): return try repeated(b, a)
        default: throw unsupported("*", a, b)
        }
    }

    /// True division (`from __future__ import division`): always a float; int / int is
    /// rounded correctly however large the operands, as Python does.
    static func div(_ a: PolicyValue, _ b: PolicyValue) throws(OperationError) -> PolicyValue {
        guard let x = a.number, let y = b.number else { throw unsupported("/", a, b) }
        switch (x, y) {
        case (.int(let i), .int(let j)):
            if j == 0 { throw OperationError(.value, "division by zero") }
            return .float(PythonFloat.trueDivide(i, j))
        default:
            let d = toDouble(y)
            if d == 0 { throw OperationError(.value, "float division by zero") }
            return .float(toDouble(x) / d)
        }
    }

    static func shift(_ a: PolicyValue, _ b: PolicyValue, left: Bool) throws(OperationError) -> PolicyValue {
        guard let x = a.integer, let n = b.integer else { throw unsupported(left ? "<<" : ">>", a, b) }
        if n < 0 { throw OperationError(.value, "negative shift count") }
        if left {
            if x == 0 { return .int(0) }
            guard n < 63 else { throw overflow("<<") }
            let r = x << n
            if r >> n != x { throw overflow("<<") }
            return .int(r)
        }
        return .int(n >= 64 ? (x < 0 ? -1 : 0) : x >> n)
    }

    static func abs(_ a: PolicyValue) throws(OperationError) -> PolicyValue {
        switch a.number {
        case .int(let i):
            if i == .min { throw overflow("abs") }
            return .int(Swift.abs(i))
        case .float(let d): return .float(Swift.abs(d))
        case nil: throw OperationError(.type, "bad operand type for abs(): '\(a.typeName)'")
        }
    }

    static func toDouble(_ n: PolicyNumber) -> Double {
        switch n {
        case .int(let i): return Double(i)
        case .float(let d): return d
        }
    }

    static func tooLong() -> OperationError {
        OperationError(.value, "sequence too long: more than \(maxSequenceLength) elements")
    }

    // MARK: Comparison

    enum Order { case less, equal, greater }

    /// Python's `==`: numbers by exact value across int and float, strings by code point,
    /// lists element by element, entities and functions by identity; other mixes are unequal.
    static func equals(_ a: PolicyValue, _ b: PolicyValue) -> Bool {
        if let x = a.number, let y = b.number { return compareNumbers(x, y) == .equal }
        switch (a, b) {
        case (.none, .none): return true
        case (.string(let s), .string(let t)): return s.unicodeScalars.elementsEqual(t.unicodeScalars)
        case (.list(let s), .list(let t)): return s.count == t.count && zip(s, t).allSatisfy { equals($0, $1) }
        case (.entity(let i), .entity(let j)): return i == j
        case (.builtin(let f), .builtin(let g)): return f == g
        case (.method(let e, let m), .method(let f, let n)): return e == f && m == n
        default: return false
        }
    }

    /// Exact comparison of two numbers (nil when a NaN is involved: every order is false).
    static func compareNumbers(_ x: PolicyNumber, _ y: PolicyNumber) -> Order? {
        switch (x, y) {
        case (.int(let i), .int(let j)): return i < j ? .less : (i == j ? .equal : .greater)
        case (.float(let d), .float(let e)):
            if d.isNaN || e.isNaN { return nil }
            return d < e ? .less : (d == e ? .equal : .greater)
        case (.int(let i), .float(let d)): return PythonFloat.compare(i, d)
        case (.float(let d), .int(let i)):
            return PythonFloat.compare(i, d).map { o in o == .less ? .greater : (o == .greater ? .less : .equal) }
        }
    }

    /// Python's `<`, `>`, `<=`, `>=`.
    static func order(_ op: String, _ a: PolicyValue, _ b: PolicyValue) throws(OperationError) -> Bool {
        func holds(_ o: Order?) -> Bool {
            guard let o else { return false }
            switch op {
            case "<": return o == .less
            case ">": return o == .greater
            case "<=": return o != .greater
            default: return o != .less
            }
        }
        if let x = a.number, let y = b.number { return holds(compareNumbers(x, y)) }
        switch (a, b) {
        case (.string(let s), .string(let t)):
            let x = Array(s.unicodeScalars), y = Array(t.unicodeScalars)
            if x.elementsEqual(y) { return holds(.equal) }
            return holds(x.lexicographicallyPrecedes(y, by: { $0.value < $1.value }) ? .less : .greater)
        case (.list(let s), .list(let t)):
            // Python compares the first pair of items that differ, else the lengths.
            for (p, q) in zip(s, t) where !equals(p, q) { return try order(op, p, q) }
            return holds(s.count < t.count ? .less : (s.count == t.count ? .equal : .greater))
        default:
            throw OperationError(.type, "'\(op)' not supported between instances of '\(a.typeName)' and '\(b.typeName)'")
        }
    }
}
