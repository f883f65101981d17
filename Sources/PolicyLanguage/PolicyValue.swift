/// A value of MOM's policy language: one of the Python values MOM's evaluator computes with.
///
/// MOM's evaluator (`mom/Policy/Parser.py`) is Python, so its values are Python's: `int`,
/// `float`, `bool` (what comparisons return; a kind of int), `str`, `None` (`nil`), `list`
/// (what `with` returns), the `Host` and guest entities with their methods, and the external
/// functions `abs` and `debug`. Integers are `int` while they fit in 64 bits and `bigInt`
/// beyond, as Python's integers have no size limit.
public enum PolicyValue: Sendable, Equatable {
    case none
    case bool(Bool)
    case int(Int)
    /// An integer that does not fit in 64 bits (Python's `int` all the same).
    case bigInt(BigInt)
    case float(Double)
    case string(String)
    case list([PolicyValue])
    /// An entity of the evaluation: 0 is `Host`, 1... the guests in `Guests` order.
    case entity(Int)
    /// `abs` or `debug`, MOM's external functions.
    case builtin(PolicyBuiltin)
    /// A method of an entity (`guest.Stat`), as Python's bound methods.
    case method(entity: Int, MOMEntityMethod)

    /// Python's truth value: `None`, `False`, `0`, `0.0`, `""` and `[]` are false.
    public var isTruthy: Bool {
        switch self {
        case .none: return false
        case .bool(let b): return b
        case .int(let i): return i != 0
        case .bigInt: return true
        case .float(let d): return d != 0
        case .string(let s): return !s.isEmpty
        case .list(let l): return !l.isEmpty
        case .entity, .builtin, .method: return true
        }
    }

    /// The Python type name, as Python's error messages show it.
    public var typeName: String {
        switch self {
        case .none: return "NoneType"
        case .bool: return "bool"
        case .int, .bigInt: return "int"
        case .float: return "float"
        case .string: return "str"
        case .list: return "list"
        case .entity: return "Entity"
        case .builtin: return "function"
        case .method: return "method"
        }
    }

    /// The value as a number, if it is one (`True` and `False` count as 1 and 0, as in Python).
    public var number: PolicyNumber? {
        switch self {
        case .int(let i): return .int(i)
        case .bigInt(let b): return .big(b)
        case .bool(let b): return .int(b ? 1 : 0)
        case .float(let d): return .float(d)
        default: return nil
        }
    }

    /// The value as an integer if it is an `int` or a `bool`.
    var integer: Int? {
        switch self {
        case .int(let i): return i
        case .bool(let b): return b ? 1 : 0
        default: return nil
        }
    }
}

/// A numeric value: Python's `int` (64-bit or larger) or `float`.
public enum PolicyNumber: Sendable, Equatable {
    case int(Int)
    case big(BigInt)
    case float(Double)

    /// The integer as a `BigInt`, nil for a float.
    var bigValue: BigInt? {
        switch self {
        case .int(let i): return BigInt(i)
        case .big(let b): return b
        case .float: return nil
        }
    }
}

/// MOM's external functions (`ExternalFunctions` in `mom/Policy/Parser.py`): variables of the
/// global scope whose values are functions.
public enum PolicyBuiltin: String, Sendable, CaseIterable {
    /// `(abs x)`: Python's `abs`.
    case abs
    /// `(debug v ...)`: logs the values (MOM: at debug level) and returns the last.
    case debug
}

/// The methods of MOM's `Entity` (`mom/Entity.py`) a policy can call on `Host` and on a guest.
public enum MOMEntityMethod: String, Sendable, CaseIterable {
    /// `(X.Prop "name")`: a property (`name`, `uuid`, `pid` of a guest; `interval` of Host).
    case Prop
    /// `(X.Stat "field")`: the field's value in the most recent sample.
    case Stat
    /// `(X.StatAvg "field")`: the mean of the field's non-nil values over the sample history.
    case StatAvg
    /// `(X.SetVar "name" v)`: stores a value in the entity for this evaluation.
    case SetVar
    /// `(X.GetVar "name")`: a value stored by SetVar in this evaluation, else nil.
    case GetVar
    /// `(X.Control "name" v)`: sets a control output (balloon target, KSM tunable).
    case Control
    /// `(X.GetControl "name")`: the value a Control set in this evaluation, else nil.
    case GetControl

    /// The numbers of arguments the method takes (Python's signature).
    var arity: ClosedRange<Int> {
        switch self {
        case .Prop, .StatAvg, .GetVar, .GetControl: return 1...1
        case .Stat: return 1...2
        case .SetVar, .Control: return 2...2
        }
    }
}
