/// Parameter tables: every scenario key declared once, after gem5's `Param` declarations.
///
/// A configurable struct lists its keys once, in `fields` (see `ParameterField`): the key
/// path of the property, the key's name, its description, its bounds and, for a numeric key,
/// its unit. The default is the property's own initial value. Everything else derives from
/// that list: decoding (absent keys keep their defaults), encoding (keys in table order, the
/// resolved scenario), validation (bounds, then the table's `consistencyProblems()`), the
/// schema walk that reports unknown keys and wrong types with their place in the file,
/// `overcommit policies`, the configuration reference and `--set` overrides.
///
///     public struct SchedulerConfig: ParameterTable {
///         public var interval: SimDuration = .ms(100)
///         public init() {}
///         public static let tableName = "host.scheduler"
///         public static let tableSummary = "The reclaim scheduler: ..."
///         public static let fields: [ParameterField<Self>] = [
///             .init(\.interval, "interval", "how often the state is re-evaluated", .period),
///         ]
///     }

/// A validation problem: the key path relative to the table checked and what is allowed.
public typealias ParameterProblem = (key: String, message: String)

/// The value type of one parameter, as shown to users and walked by the schema check.
public enum ParameterKind: Sendable, Equatable {
    case bytes, duration, percent, int, double, bool, string
    case choice([String])
    case table(any ParameterSchema.Type)
    case list(any ParameterSchema.Type)
    case listOfScalars(String)
    /// A list whose entries are names from a closed set (`[share, balloon]`).
    case listOfChoices(noun: String, [String])
    /// A mapping whose keys the user names and whose values are scalars (`{balloonEnabled: 1}`).
    case mapOfScalars(String)
    /// A table whose keys depend on a discriminating key (e.g. `kind: web`).
    case variant(discriminator: String, cases: [(name: String, table: any ParameterSchema.Type)])

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
        case .listOfChoices(let noun, let c): return "list of \(noun): " + c.joined(separator: ", ")
        case .mapOfScalars(let s): return "mapping of names to \(s)"
        case .variant(let d, let cases): return "table selected by `\(d)`: " + cases.map(\.name).joined(separator: ", ")
        }
    }
}

/// One documented parameter, as the reference, the schema walk and `--set` see it.
public struct ParameterInfo: Sendable {
    public var key: String
    public var kind: ParameterKind
    /// The default as a scenario writes it (`64GiB`), or what an unset key means (`(preset)`);
    /// empty for a table.
    public var defaultValue: String
    public var summary: String
    /// The unit of a plain number (`pages`, `ms`), shown next to its type.
    public var unit: String?
    /// The allowed values of a numeric key (`between 0 and 200 (Linux's range)`).
    public var bounds: String?
    /// The smallest and largest allowed values of a numeric key as a scenario writes them
    /// (`1ms`, `1000h`); nil where the key has none.
    public var lowerBound: String?
    public var upperBound: String?

    public init(
        _ key: String, _ kind: ParameterKind, default defaultValue: String, _ summary: String,
        unit: String? = nil, bounds: String? = nil, lowerBound: String? = nil, upperBound: String? = nil
    ) {
        self.key = key; self.kind = kind; self.defaultValue = defaultValue; self.summary = summary
        self.unit = unit; self.bounds = bounds; self.lowerBound = lowerBound; self.upperBound = upperBound
    }

    /// The type with its unit: `integer (pages)`.
    public var typeName: String { unit.map { "\(kind.typeName) (\($0))" } ?? kind.typeName }
}

/// Anything the reference documents as a table of keys.
public protocol ParameterSchema: Sendable {
    /// The name of this table in references (`guest.kernel`, `workload.web`).
    static var tableName: String { get }
    /// One line on what this table configures and which real system it follows.
    static var tableSummary: String { get }
    /// Every key, in the order users read them.
    static var parameters: [ParameterInfo] { get }
}

/// A configuration struct whose keys are declared once, in `fields`.
///
/// Conforming gives `Codable` (absent keys keep the defaults of `init()`; keys are written in
/// field order, optionals only when set), `validationProblems()` and the documented
/// `parameters`. Checks that involve several keys go in `consistencyProblems()`.
public protocol ParameterTable: ParameterSchema, PlainParameterValue, ParameterListElement {
    /// Every key of the table, in the order users read them.
    static var fields: [ParameterField<Self>] { get }
    /// All defaults.
    init()
    /// Problems that involve several keys (bounds are checked from `fields`), keys relative
    /// to the table; empty when consistent.
    func consistencyProblems() -> [ParameterProblem]
    /// Keys of the table's mapping that something else reads (a family's `kind`): decoding
    /// accepts them besides the fields' keys.
    static var keysReadElsewhere: [String] { get }
}

extension ParameterTable {
    public static var parameters: [ParameterInfo] { fields.map(\.info) }
    public static var parameterKind: ParameterKind { .table(Self.self) }
    public static var listKind: ParameterKind { .list(Self.self) }
    public var parameterText: String { "" }
    public var listItemText: String { "{...}" }
    public func consistencyProblems() -> [ParameterProblem] { [] }
    public static var keysReadElsewhere: [String] { [] }
    public func nestedProblems() -> [ParameterProblem] { validationProblems() }

    /// The field declared for `key`, if any.
    public static func field(_ key: String) -> ParameterField<Self>? { fields.first { $0.key == key } }
    /// The documentation of `key`, if the table has it.
    public static func parameter(_ key: String) -> ParameterInfo? { field(key)?.info }

    /// Reads every field present (absent ones keep the defaults of `init()`); a key the table
    /// does not have is an error naming the allowed ones, as in a scenario file.
    public init(from decoder: Decoder) throws {
        self.init()
        let c = try decoder.container(keyedBy: AnyCodingKey.self)
        let fields = Self.fields
        for key in c.allKeys where !fields.contains(where: { $0.key == key.stringValue }) && !Self.keysReadElsewhere.contains(key.stringValue) {
            throw DecodingError.dataCorruptedError(
                forKey: key, in: c,
                debugDescription:
                    "unknown key '\(key.stringValue)'; allowed: " + (Self.keysReadElsewhere + fields.map(\.key)).joined(separator: ", "))
        }
        for f in fields { try f.decode(into: &self, from: c) }
    }

    public func encode(to encoder: Encoder) throws {
        var c = encoder.container(keyedBy: AnyCodingKey.self)
        for f in Self.fields { try f.encode(self, into: &c) }
    }

    /// Every problem of the table and of the tables and lists inside it, in field order:
    /// out-of-bounds values, then `consistencyProblems()`; keys relative to the table
    /// (`sharing.salting`, `workloads[0].peak`). Empty when valid.
    public func validationProblems() -> [ParameterProblem] {
        var found: [ParameterProblem] = []
        for f in Self.fields { found += f.problems(in: self) }
        return Self.inFieldOrder(found + consistencyProblems())
    }

    /// `problems` in the order of the fields their keys start with (stable; problems of the
    /// table as a whole last), so messages read in the order of the reference.
    public static func inFieldOrder(_ problems: [ParameterProblem]) -> [ParameterProblem] {
        let fields = Self.fields
        return problems.enumerated()
            .map { (order: fieldIndex(of: $0.element.key, in: fields), offset: $0.offset, problem: $0.element) }
            .sorted { ($0.order, $0.offset) < ($1.order, $1.offset) }
            .map(\.problem)
    }

    /// Index of the field a problem's key path starts with (the longest match, since keys may
    /// contain dots), or `Int.max` for a problem of the table as a whole.
    static func fieldIndex(of path: String, in fields: [ParameterField<Self>]) -> Int {
        var best: (index: Int, length: Int)? = nil
        for (i, f) in fields.enumerated() {
            let k = f.key
            guard path == k || path.hasPrefix(k + ".") || path.hasPrefix(k + "[") else { continue }
            if best == nil || k.count > best!.length { best = (i, k.count) }
        }
        return best?.index ?? Int.max
    }

    /// Whether `other` is a table of the same type with equal values.
    public func isEqual(to other: any ParameterTable) -> Bool {
        guard let o = other as? Self else { return false }
        return o == self
    }
}

/// A coding key made from any string.
public struct AnyCodingKey: CodingKey, Sendable {
    public var stringValue: String
    public var intValue: Int? { nil }
    public init(_ s: String) { stringValue = s }
    public init?(stringValue: String) { self.stringValue = stringValue }
    public init?(intValue: Int) { nil }
}
