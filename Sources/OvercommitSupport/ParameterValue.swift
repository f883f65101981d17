/// The types a scenario key can hold, and how each is read, written, shown and bounded.
///
/// Every parameter table field holds a `ParameterValue`. The protocol family splits values in
/// two so that a field declaration cannot forget its bounds: a `NumericParameterValue`
/// (integers, numbers, sizes, durations, percentages) can only be declared with bounds
/// (`ParameterField`'s numeric initialisers have no default for them), every other value is a
/// `PlainParameterValue`.

/// A value a parameter table field can hold: decoded from and encoded to a scenario, shown in
/// the configuration reference, checked by `validate`.
public protocol ParameterValue: Codable, Sendable, Equatable {
    /// The kind shown to users and used by the schema walk (`bytes`, `one of: a, b`, ...).
    static var parameterKind: ParameterKind { get }
    /// The value as a scenario writes it (`64GiB`, `true`, `[share]`), for defaults in the
    /// reference and bounds in messages. Empty for a table (the reference links to it instead).
    var parameterText: String { get }
    /// Problems inside the value (the keys of a table, the entries of a list), keyed relative
    /// to it; empty for scalars, whose bounds the field checks.
    func nestedProblems() -> [ParameterProblem]
}

extension ParameterValue {
    public func nestedProblems() -> [ParameterProblem] { [] }
}

/// A value without a natural order: strings, booleans, choices, tables and lists.
public protocol PlainParameterValue: ParameterValue {}

/// An ordered value that arithmetic uses: a field holding one must declare its bounds.
public protocol NumericParameterValue: ParameterValue, Comparable {
    /// True when the value is a real number (not NaN or infinite), so that bounds mean something.
    var isFiniteValue: Bool { get }
}

extension NumericParameterValue {
    public var isFiniteValue: Bool { true }
}

/// A value that can be an entry of a list field.
public protocol ParameterListElement: ParameterValue {
    /// The kind of a list of these values.
    static var listKind: ParameterKind { get }
    /// How one entry is shown inside a list's text (`share`, `{kind: idle}`).
    var listItemText: String { get }
}

extension ParameterListElement {
    public var listItemText: String { parameterText }
}

// MARK: - Scalars

extension Bool: PlainParameterValue {
    public static var parameterKind: ParameterKind { .bool }
    public var parameterText: String { self ? "true" : "false" }
}

extension String: PlainParameterValue, ParameterListElement {
    public static var parameterKind: ParameterKind { .string }
    public var parameterText: String { self }
    public static var listKind: ParameterKind { .listOfScalars("string") }
}

extension Int: NumericParameterValue {
    public static var parameterKind: ParameterKind { .int }
    public var parameterText: String { String(self) }
}

extension UInt64: NumericParameterValue {
    public static var parameterKind: ParameterKind { .int }
    public var parameterText: String { String(self) }
}

extension Double: NumericParameterValue {
    public static var parameterKind: ParameterKind { .double }
    public var parameterText: String { formatShortest(self) }
    public var isFiniteValue: Bool { isFinite }
}

extension ByteCount: NumericParameterValue, ParameterListElement {
    public static var parameterKind: ParameterKind { .bytes }
    public var parameterText: String { description }
    /// A list of sizes (NUMA node sizes); its entries' bounds are the table's to check.
    public static var listKind: ParameterKind { .listOfScalars("size") }
}

extension SimDuration: NumericParameterValue {
    public static var parameterKind: ParameterKind { .duration }
    public var parameterText: String { description }
}

extension Percentage: NumericParameterValue {
    public static var parameterKind: ParameterKind { .percent }
    public var parameterText: String { description }
    public var isFiniteValue: Bool { fraction.isFinite }
}

// MARK: - Choices

/// A closed set of names (`ssd`, `hdd`, ...): an enum with `String` raw values.
///
/// Decoding an unknown name fails with the allowed names (`unknown device 'floppy'; allowed:
/// hdd, ssd, nvme, ramdisk`); `choiceNoun` names what the value is.
public protocol ParameterChoice: PlainParameterValue, ParameterListElement, RawRepresentable<String>, CaseIterable {
    /// What one value is called in messages and list types (`device`, `technique`).
    static var choiceNoun: String { get }
}

extension ParameterChoice {
    public static var parameterKind: ParameterKind { .choice(allCases.map(\.rawValue)) }
    public static var listKind: ParameterKind { .listOfChoices(noun: choiceNoun, allCases.map(\.rawValue)) }
    public var parameterText: String { rawValue }

    public init(from decoder: Decoder) throws {
        let c = try decoder.singleValueContainer()
        let name = try c.decode(String.self)
        guard let value = Self(rawValue: name) else {
            throw DecodingError.dataCorruptedError(
                in: c,
                debugDescription:
                    "unknown \(Self.choiceNoun) '\(name)'; allowed: " + Self.allCases.map(\.rawValue).joined(separator: ", "))
        }
        self = value
    }

    public func encode(to encoder: Encoder) throws {
        var c = encoder.singleValueContainer()
        try c.encode(rawValue)
    }
}

extension DevicePreset: ParameterChoice {
    public static var choiceNoun: String { "device" }
}

// MARK: - Lists

extension Array: ParameterValue where Element: ParameterListElement {
    public static var parameterKind: ParameterKind { Element.listKind }
    public var parameterText: String { "[" + map(\.listItemText).joined(separator: ", ") + "]" }
    public func nestedProblems() -> [ParameterProblem] {
        var out: [ParameterProblem] = []
        for (i, element) in enumerated() {
            for p in element.nestedProblems() { out.append((ParameterPath.join("[\(i)]", p.key), p.message)) }
        }
        return out
    }
}

extension Array: PlainParameterValue where Element: ParameterListElement {}

/// Key paths of problems found inside a value.
public enum ParameterPath {
    /// `prefix` followed by a path relative to it: `sharing` + `salting` is `sharing.salting`,
    /// `guests` + `[0].memory` is `guests[0].memory`, and an empty relative path (a problem of
    /// the value as a whole, such as a content mix that does not sum to 100 %) is `prefix`.
    public static func join(_ prefix: String, _ sub: String) -> String {
        sub.isEmpty ? prefix : sub.hasPrefix("[") ? prefix + sub : prefix + "." + sub
    }
}

// MARK: - Named scalars

/// A scalar a scenario gives as the value of a name it chooses: an integer, a number or a
/// string (`true` and `false` read as 1 and 0, as vdsm's policy files define `True` and `False`).
public enum ParameterScalar: Sendable, Equatable, CustomStringConvertible {
    case int(Int)
    case double(Double)
    case string(String)

    public var description: String {
        switch self {
        case .int(let i): return String(i)
        case .double(let d): return "\(d)"
        case .string(let s): return s
        }
    }
}

/// A mapping from names the user chooses to scalars (`variables: {balloonEnabled: 1}`),
/// kept sorted by name so that its text and everything read from it are deterministic.
public struct NamedScalars: PlainParameterValue {
    public struct Entry: Sendable, Equatable {
        public var name: String
        public var value: ParameterScalar
        public init(_ name: String, _ value: ParameterScalar) { self.name = name; self.value = value }
    }
    /// The entries, sorted by name (code points).
    public private(set) var entries: [Entry]

    public init(_ entries: [Entry] = []) {
        self.entries = entries.sorted { $0.name.unicodeScalars.lexicographicallyPrecedes($1.name.unicodeScalars) }
    }

    public subscript(_ name: String) -> ParameterScalar? {
        get { entries.first { $0.name == name }?.value }
        set {
            entries.removeAll { $0.name == name }
            if let v = newValue { self = NamedScalars(entries + [Entry(name, v)]) }
        }
    }

    public var isEmpty: Bool { entries.isEmpty }

    public static var parameterKind: ParameterKind { .mapOfScalars("integers, numbers or strings") }
    public var parameterText: String {
        "{" + entries.map { "\($0.name): \($0.value)" }.joined(separator: ", ") + "}"
    }

    struct Key: CodingKey {
        var stringValue: String
        var intValue: Int? { nil }
        init(stringValue: String) { self.stringValue = stringValue }
        init?(intValue: Int) { return nil }
    }

    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: Key.self)
        var out: [Entry] = []
        for k in c.allKeys {
            if let i = try? c.decode(Int.self, forKey: k) {
                out.append(Entry(k.stringValue, .int(i)))
            } else if let d = try? c.decode(Double.self, forKey: k) {
                out.append(Entry(k.stringValue, .double(d)))
            } else if let b = try? c.decode(Bool.self, forKey: k) {
                out.append(Entry(k.stringValue, .int(b ? 1 : 0)))
            } else {
                out.append(Entry(k.stringValue, .string(try c.decode(String.self, forKey: k))))
            }
        }
        self.init(out)
    }

    public func encode(to encoder: Encoder) throws {
        var c = encoder.container(keyedBy: Key.self)
        for e in entries {
            switch e.value {
            case .int(let i): try c.encode(i, forKey: Key(stringValue: e.name))
            case .double(let d): try c.encode(d, forKey: Key(stringValue: e.name))
            case .string(let s): try c.encode(s, forKey: Key(stringValue: e.name))
            }
        }
    }
}
