/// What one evaluation of a policy produced: the value of each top-level expression, the
/// controls it set on Host and on each guest, and its `debug` messages.
public struct PolicyEvaluation: Sendable {
    /// The value of each top-level expression, in order.
    public var values: [PolicyValue]
    /// Each value as MOM's parser script prints it (Python's `str`).
    public var valueTexts: [String]
    /// Host's controls in the order first set (a later Control of the same name replaces
    /// the value, as in MOM's dictionary).
    public var hostControls: [PolicyControlSetting]
    /// Each guest's controls, in `Guests` order.
    public var guestControls: [[PolicyControlSetting]]
    public var debugMessages: [PolicyDebugMessage]

    public func hostControl(_ c: MOMHostControl) -> PolicyControlSetting? {
        hostControls.first { $0.name == c.rawValue }
    }
    public func guestControl(_ c: MOMGuestControl, guest: Int) -> PolicyControlSetting? {
        guestControls[guest].first { $0.name == c.rawValue }
    }
}

/// A control a policy set, and where.
public struct PolicyControlSetting: Sendable, Equatable {
    public var name: String
    /// The value as the policy computed it (a float is common: `(* guest.balloon_cur 0.95)`).
    public var value: PolicyValue
    /// The `Control` call that set this value.
    public var location: SourceLocation

    public init(name: String, value: PolicyValue, location: SourceLocation) {
        self.name = name; self.value = value; self.location = location
    }

    /// The integer MOM's controllers apply: Python's `int(value)` (a float truncated toward
    /// zero, a string of decimal digits read), or nil for nil (the controller skips it).
    /// Values `int()` refuses are errors naming the `Control` call.
    public func appliedInteger() throws(PolicyError) -> Int? {
        func fail(_ kind: PolicyError.Kind, _ m: String) -> PolicyError {
            PolicyError(kind, "control \(name): \(m)", at: location)
        }
        switch value {
        case .none: return nil
        case .int(let i): return i
        case .bigInt(let b): throw fail(.value, "\(b) does not fit in 64 bits")
        case .bool(let b): return b ? 1 : 0
        case .float(let d):
            if d.isNaN { throw fail(.value, "cannot convert float NaN to integer") }
            if d.isInfinite { throw fail(.value, "cannot convert float infinity to integer") }
            let t = d.rounded(.towardZero)
            guard t >= -9_223_372_036_854_775_808.0, t < 9_223_372_036_854_775_808.0 else {
                throw fail(.value, "\(PythonFloat.repr(d)) does not fit in 64 bits")
            }
            return Int(t)
        case .string(let s):
            if let i = Self.pythonInt(s) { return i }
            throw fail(.value, "invalid literal for int() with base 10: \(PolicyValue.reprString(s))")
        default:
            throw fail(.type, "int() argument must be a string, a bytes-like object or a real number, not '\(value.typeName)'")
        }
    }

    /// Python's `int(str)` in base 10: surrounding whitespace, a sign, digits with single
    /// underscores between them.
    static func pythonInt(_ s: String) -> Int? {
        var scalars = Array(s.unicodeScalars)
        while let f = scalars.first, PolicyScanner.isPythonSpace(f) { scalars.removeFirst() }
        while let l = scalars.last, PolicyScanner.isPythonSpace(l) { scalars.removeLast() }
        var negative = false
        if let f = scalars.first, f == "+" || f == "-" { negative = f == "-"; scalars.removeFirst() }
        guard let first = scalars.first, PolicyScanner.isDigit(first), let last = scalars.last, PolicyScanner.isDigit(last) else { return nil }
        var v = 0
        var previousUnderscore = false
        for c in scalars {
            if c == "_" {
                if previousUnderscore { return nil }
                previousUnderscore = true
                continue
            }
            guard PolicyScanner.isDigit(c) else { return nil }
            previousUnderscore = false
            let (m, o1) = v.multipliedReportingOverflow(by: 10)
            let (a, o2) = negative ? m.subtractingReportingOverflow(Int(c.value) - 48) : m.addingReportingOverflow(Int(c.value) - 48)
            if o1 || o2 { return nil }
            v = a
        }
        return v
    }
}

/// One `(debug ...)` call: where, and what MOM would log (`debug: (v1, v2)`).
public struct PolicyDebugMessage: Sendable, Equatable {
    public var location: SourceLocation
    public var text: String
}
