/// Parameter tables: the single source for config validation, `overcommit policies` and
/// the configuration reference in `docs/`.
///
/// Every configurable struct lists its keys with type, default, unit and a one-line
/// description, after gem5's parameter declarations and the kernel's sysctl documentation.

/// The value type of one parameter, as shown to users.
public enum ParameterKind: Sendable, Equatable {
    case bytes, duration, percent, int, double, bool, string
    case choice([String])
    case table(ParameterTable.Type)
    case list(ParameterTable.Type)
    case listOfScalars(String)
    /// A table whose keys depend on a discriminating key (e.g. `kind: web`).
    case variant(discriminator: String, cases: [(name: String, table: ParameterTable.Type)])

    public static func == (a: ParameterKind, b: ParameterKind) -> Bool { a.typeName == b.typeName }

    /// The name shown in references: `bytes`, `duration`, `one of: a, b`, ...
    public var typeName: String {
        switch self {
        case .bytes: return "bytes"
        case .duration: return "duration"
        case .percent: return "percent"
        case .int: return "integer"
        case .double: return "number"
        case .bool: return "boolean"
        case .string: return "string"
        case .choice(let c): return "one of: " + c.joined(separator: ", ")
        case .table(let t): return "table (\(t.tableName))"
        case .list(let t): return "list of \(t.tableName)"
        case .listOfScalars(let s): return "list of \(s)"
        case .variant(let d, let cases): return "table selected by `\(d)`: " + cases.map(\.name).joined(separator: ", ")
        }
    }
}

/// One documented parameter.
public struct ParameterInfo: Sendable {
    public var key: String
    public var kind: ParameterKind
    public var defaultValue: String
    public var summary: String
    public init(_ key: String, _ kind: ParameterKind, default defaultValue: String, _ summary: String) {
        self.key = key; self.kind = kind; self.defaultValue = defaultValue; self.summary = summary
    }
}

/// A Codable configuration struct with defaults and a documented key table.
public protocol ParameterTable: Codable, Sendable {
    /// The name of this table in references (`guest.kernel`, `workload.web`).
    static var tableName: String { get }
    /// One line on what this table configures and which real system it follows.
    static var tableSummary: String { get }
    /// Every key, in the order users read them.
    static var parameters: [ParameterInfo] { get }
    /// All defaults.
    init()
}

extension ParameterTable {
    public static func parameter(_ key: String) -> ParameterInfo? { parameters.first { $0.key == key } }
}
