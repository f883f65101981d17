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
    static func unsupported(_ op: String, _ a: PolicyValue, _ b: PolicyValue) -> OperationError {
        OperationError(.type, "unsupported operand type(s) for \(op): '\(a.typeName)' and '\(b.typeName)'")
    }

    // MARK: Arithmetic

    /// An integer operation on 64 bits, redone on big integers when it overflows.
    static func integer(
        _ x: PolicyNumber, _ y: PolicyNumber, _ small: (Int, Int) -> (Int, Bool), _ big: (BigInt, BigInt) -> BigInt
    ) throws(OperationError) -> PolicyValue? {
        if case .int(let i) = x, case .int(let j) = y {
            let (r, o) = small(i, j)
            if !o { return .int(r) }
        }
        guard let p = x.bigValue, let q = y.bigValue else { return nil }
        return try BigInt.checked(big(p, q)).value
    }

    static func add(_ a: PolicyValue, _ b: PolicyValue) throws(OperationError) -> PolicyValue {
        if let x = a.number, let y = b.number {
            if let r = try integer(x, y, { $0.addingReportingOverflow($1) }, { $0 + $1 }) { return r }
            return .float(try toDouble(x) + toDouble(y))
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
        if let r = try integer(x, y, { $0.subtractingReportingOverflow($1) }, { $0 - $1 }) { return r }
        return .float(try toDouble(x) - toDouble(y))
    }

    static func mul(_ a: PolicyValue, _ b: PolicyValue) throws(OperationError) -> PolicyValue {
        if let x = a.number, let y = b.number {
            if let r = try integer(x, y, { $0.multipliedReportingOverflow(by: $1) }, { $0 * $1 }) { return r }
            return .float(try toDouble(x) * toDouble(y))
        }
        // A sequence times an integer repeats it, on either side.
        func repeated(_ seq: PolicyValue, _ count: PolicyValue) throws(OperationError) -> PolicyValue {
            if case .bigInt = count { throw OperationError(.value, "cannot fit 'int' into an index-sized integer") }
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
        case (.float, _), (_, .float):
            let d = try toDouble(y)
            if d == 0 { throw OperationError(.value, "float division by zero") }
            return .float(try toDouble(x) / d)
        default:
            let q = y.bigValue!
            if q.isZero { throw OperationError(.value, "division by zero") }
            return .float(try BigInt.trueDivide(x.bigValue!, q))
        }
    }

    static func shift(_ a: PolicyValue, _ b: PolicyValue, left: Bool) throws(OperationError) -> PolicyValue {
        guard let x = a.number?.bigValue, let n = b.number?.bigValue else { throw unsupported(left ? "<<" : ">>", a, b) }
        if n.negative { throw OperationError(.value, "negative shift count") }
        guard let count = n.asInt else {
            // A shift by more than 2^63 bits: Python refuses to build the number, or it is 0 / -1.
            if x.isZero { return .int(0) }
            if left { throw OperationError(.value, "too many digits in integer") }
            return .int(x.negative ? -1 : 0)
        }
        if case .int(let i) = a.number, left, count < 63 {
            let r = i << count
            if r >> count == i { return .int(r) }
        }
        if case .int(let i) = a.number, !left { return .int(count >= 64 ? (i < 0 ? -1 : 0) : i >> count) }
        return left ? try x.shiftedLeft(count).value : x.shiftedRight(count).value
    }

    static func abs(_ a: PolicyValue) throws(OperationError) -> PolicyValue {
        switch a.number {
        case .int(let i):
            if i == .min { return .bigInt(-BigInt(i)) }
            return .int(Swift.abs(i))
        case .big(let b): return b.negative ? (-b).value : .bigInt(b)
        case .float(let d): return .float(Swift.abs(d))
        case nil: throw OperationError(.type, "bad operand type for abs(): '\(a.typeName)'")
        }
    }

    /// Python's `float(x)` for a number: an integer too large for a double is an error.
    static func toDouble(_ n: PolicyNumber) throws(OperationError) -> Double {
        switch n {
        case .int(let i): return Double(i)
        case .float(let d): return d
        case .big(let b):
            guard let d = b.double else { throw OperationError(.value, "int too large to convert to float") }
            return d
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
        func flip(_ o: Order?) -> Order? { o.map { $0 == .less ? .greater : ($0 == .greater ? .less : .equal) } }
        switch (x, y) {
        case (.int(let i), .int(let j)): return i < j ? .less : (i == j ? .equal : .greater)
        case (.big(let p), .float(let d)): return BigInt.compare(p, d)
        case (.float(let d), .big(let p)): return flip(BigInt.compare(p, d))
        case (.big, _), (_, .big): return BigInt.compare(x.bigValue!, y.bigValue!)
        case (.float(let d), .float(let e)):
            if d.isNaN || e.isNaN { return nil }
            return d < e ? .less : (d == e ? .equal : .greater)
        case (.int(let i), .float(let d)): return PythonFloat.compare(i, d)
        case (.float(let d), .int(let i)): return flip(PythonFloat.compare(i, d))
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
