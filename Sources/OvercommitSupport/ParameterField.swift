/// One key of a parameter table: where it lives in the struct, its name, what it means and
/// what values it accepts. The default is read from the struct's `init()`.
///
/// The initialisers make the rules of the tables hard to break:
/// - a numeric key (integer, number, size, duration, percentage) must declare its bounds
///   (`.range(0...200)`, `.period`, `.atMost(.tib(4))`, or `.unbounded(because:)`);
/// - an optional key must say what leaving it unset means (`unset: "(preset)"`);
/// - key paths must be `Sendable` (plain stored or computed properties are).
///
///     .init(\.swappiness, "vm.swappiness", "preference for swapping anonymous pages", .range(0...200, because: "Linux's range"))
///     .init(\.read_latency, "read_latency", "override the preset's latency", .cost, unset: "(preset)")
///     .init(\.device, "device", "latency preset")
public struct ParameterField<Table: ParameterTable>: Sendable {
    /// The key as a scenario writes it (`vm.swappiness`).
    public let key: String
    public let kind: ParameterKind
    /// One line for the reference and `overcommit policies`.
    public let summary: String
    /// The unit of a plain number (`pages`, `ms`).
    public let unit: String?
    /// The allowed values, as the reference shows them (`between 0 and 200`).
    public let bounds: String?
    /// The smallest and largest allowed values as a scenario writes them (`1ms`, `1000h`).
    public let lowerBound: String?
    public let upperBound: String?
    let defaultText: @Sendable () -> String
    let decodeValue: @Sendable (inout Table, KeyedDecodingContainer<AnyCodingKey>) throws -> Void
    let encodeValue: @Sendable (Table, inout KeyedEncodingContainer<AnyCodingKey>) throws -> Void
    let checkValue: @Sendable (Table) -> [ParameterProblem]

    /// What the reference, the schema walk and `--set` know of the key.
    public var info: ParameterInfo {
        ParameterInfo(
            key, kind, default: defaultText(), summary, unit: unit, bounds: bounds,
            lowerBound: lowerBound, upperBound: upperBound)
    }

    /// Reads the key from `container` into `table`; an absent key leaves the value as it is.
    func decode(into table: inout Table, from container: KeyedDecodingContainer<AnyCodingKey>) throws {
        try decodeValue(&table, container)
    }

    /// Writes the key's value (nothing for an unset optional).
    func encode(_ table: Table, into container: inout KeyedEncodingContainer<AnyCodingKey>) throws {
        try encodeValue(table, &container)
    }

    /// Problems of the key's value in `table`: out of bounds, then problems inside it.
    public func problems(in table: Table) -> [ParameterProblem] { checkValue(table) }

    init(
        key: String, kind: ParameterKind, summary: String, unit: String?, bounds: String?,
        lowerBound: String? = nil, upperBound: String? = nil,
        defaultText: @escaping @Sendable () -> String,
        decode: @escaping @Sendable (inout Table, KeyedDecodingContainer<AnyCodingKey>) throws -> Void,
        encode: @escaping @Sendable (Table, inout KeyedEncodingContainer<AnyCodingKey>) throws -> Void,
        check: @escaping @Sendable (Table) -> [ParameterProblem]
    ) {
        self.key = key; self.kind = kind; self.summary = summary; self.unit = unit; self.bounds = bounds
        self.lowerBound = lowerBound; self.upperBound = upperBound
        self.defaultText = defaultText; self.decodeValue = decode; self.encodeValue = encode; self.checkValue = check
    }

    // MARK: Declarations

    /// A key holding a string, boolean, choice, table or list.
    ///
    /// - Parameter meaning: what the default value stands for, shown after it in the reference
    ///   (`[] (every file of the image)`), or alone when the default is empty (`(required)`).
    public init<Value: PlainParameterValue>(
        _ keyPath: WritableKeyPath<Table, Value> & Sendable, _ key: String,
        _ summary: String, meaning: String? = nil
    ) {
        self.init(
            key: key, kind: Value.parameterKind, summary: summary, unit: nil, bounds: nil,
            defaultText: { Self.shown(Table()[keyPath: keyPath].parameterText, meaning: meaning) },
            decode: { t, c in
                if let v = try c.decodeIfPresent(Value.self, forKey: AnyCodingKey(key)) { t[keyPath: keyPath] = v }
            },
            encode: { t, c in try c.encode(t[keyPath: keyPath], forKey: AnyCodingKey(key)) },
            check: { t in Self.nested(key, t[keyPath: keyPath]) })
    }

    /// An optional key holding a string, boolean, choice, table or list.
    ///
    /// - Parameter unset: what leaving the key out means, as the reference shows it
    ///   (`(none)`, `(configured memory)`).
    public init<Value: PlainParameterValue>(
        _ keyPath: WritableKeyPath<Table, Value?> & Sendable, _ key: String,
        _ summary: String, unset: String
    ) {
        self.init(
            key: key, kind: Value.parameterKind, summary: summary, unit: nil, bounds: nil,
            defaultText: { Table()[keyPath: keyPath]?.parameterText ?? unset },
            decode: { t, c in
                if let v = try c.decodeIfPresent(Value.self, forKey: AnyCodingKey(key)) { t[keyPath: keyPath] = v }
            },
            encode: { t, c in
                if let v = t[keyPath: keyPath] { try c.encode(v, forKey: AnyCodingKey(key)) }
            },
            check: { t in t[keyPath: keyPath].map { Self.nested(key, $0) } ?? [] })
    }

    /// A numeric key (integer, number, size, duration, percentage) with its bounds.
    ///
    /// - Parameter unit: the unit of a plain number (`pages`, `ms`, `kB`); sizes, durations
    ///   and percentages carry theirs in the value.
    public init<Value: NumericParameterValue>(
        _ keyPath: WritableKeyPath<Table, Value> & Sendable, _ key: String,
        _ summary: String, _ bounds: ParameterBounds<Value>, unit: String? = nil
    ) {
        self.init(
            key: key, kind: Value.parameterKind, summary: summary, unit: unit, bounds: bounds.phrase,
            lowerBound: bounds.lower?.parameterText, upperBound: bounds.upper?.parameterText,
            defaultText: { Table()[keyPath: keyPath].parameterText },
            decode: { t, c in
                if let v = try c.decodeIfPresent(Value.self, forKey: AnyCodingKey(key)) { t[keyPath: keyPath] = v }
            },
            encode: { t, c in try c.encode(t[keyPath: keyPath], forKey: AnyCodingKey(key)) },
            check: { t in bounds.problem(t[keyPath: keyPath]).map { [(key, $0)] } ?? [] })
    }

    /// An optional numeric key with its bounds (checked when the key is set).
    public init<Value: NumericParameterValue>(
        _ keyPath: WritableKeyPath<Table, Value?> & Sendable, _ key: String,
        _ summary: String, _ bounds: ParameterBounds<Value>, unit: String? = nil,
        unset: String
    ) {
        self.init(
            key: key, kind: Value.parameterKind, summary: summary, unit: unit, bounds: bounds.phrase,
            lowerBound: bounds.lower?.parameterText, upperBound: bounds.upper?.parameterText,
            defaultText: { Table()[keyPath: keyPath]?.parameterText ?? unset },
            decode: { t, c in
                if let v = try c.decodeIfPresent(Value.self, forKey: AnyCodingKey(key)) { t[keyPath: keyPath] = v }
            },
            encode: { t, c in
                if let v = t[keyPath: keyPath] { try c.encode(v, forKey: AnyCodingKey(key)) }
            },
            check: { t in t[keyPath: keyPath].flatMap { bounds.problem($0) }.map { [(key, $0)] } ?? [] })
    }

    /// A string key whose value must be one of `choices` (names registered at run time, such
    /// as the codecs of this build); `noun` names a value in messages (`unknown codec 'zip'`).
    public init(
        _ keyPath: WritableKeyPath<Table, String> & Sendable, _ key: String, _ summary: String,
        choices: [String], noun: String = "value"
    ) {
        self.init(
            key: key, kind: .choice(choices), summary: summary, unit: nil, bounds: nil,
            defaultText: { Table()[keyPath: keyPath] },
            decode: { t, c in
                if let v = try c.decodeIfPresent(String.self, forKey: AnyCodingKey(key)) { t[keyPath: keyPath] = v }
            },
            encode: { t, c in try c.encode(t[keyPath: keyPath], forKey: AnyCodingKey(key)) },
            check: { t in
                let v = t[keyPath: keyPath]
                return choices.contains(v) ? [] : [(key, "unknown \(noun) '\(v)'; allowed: " + choices.joined(separator: ", "))]
            })
    }

    /// A documented key whose value is free-form and never read (the scenario's `templates:`,
    /// a place for YAML anchors).
    public static func freeForm(_ key: String, _ summary: String) -> ParameterField {
        ParameterField(
            key: key, kind: .string, summary: summary, unit: nil, bounds: nil,
            defaultText: { "" }, decode: { _, _ in }, encode: { _, _ in }, check: { _ in [] })
    }

    static func shown(_ text: String, meaning: String?) -> String {
        guard let meaning else { return text }
        return text.isEmpty ? "(\(meaning))" : "\(text) (\(meaning))"
    }

    static func nested<Value: ParameterValue>(_ key: String, _ value: Value) -> [ParameterProblem] {
        value.nestedProblems().map { (ParameterPath.join(key, $0.key), $0.message) }
    }
}

/// The values a numeric key accepts, with the reason when it is not obvious.
///
/// Every numeric key has an upper bound where arithmetic could overflow and every period a
/// floor that keeps a run from crawling; `validate` checks them, so `run` never traps on a
/// value it accepted. Messages and the reference use the same phrase:
/// `must be between 0 and 200 (Linux's range); got 300`.
public struct ParameterBounds<Value: NumericParameterValue>: Sendable {
    public var lower: Value?
    /// True when the lower bound itself is not allowed (`above 0`).
    public var lowerIsExclusive: Bool
    public var upper: Value?
    /// Why the bounds are what they are, shown in parentheses.
    public var reason: String?
    /// Replaces the range phrase when the allowed values read better as a list
    /// (`0 (heuristic), 1 (always) or 2 (strict)`).
    public var wording: String?

    init(lower: Value?, exclusive: Bool = false, upper: Value?, reason: String? = nil, wording: String? = nil) {
        self.lower = lower; self.lowerIsExclusive = exclusive; self.upper = upper
        self.reason = reason; self.wording = wording
    }

    /// Values in `range`, bounds included.
    public static func range(_ range: ClosedRange<Value>, because reason: String? = nil) -> Self {
        Self(lower: range.lowerBound, upper: range.upperBound, reason: reason)
    }

    /// Values above `lower` (excluded) and at most `upper`.
    public static func above(_ lower: Value, atMost upper: Value, because reason: String? = nil) -> Self {
        Self(lower: lower, exclusive: true, upper: upper, reason: reason)
    }

    /// Values up to `upper`, for types that cannot be negative (sizes, durations, `UInt64`).
    public static func atMost(_ upper: Value, because reason: String? = nil) -> Self {
        Self(lower: nil, upper: upper, reason: reason)
    }

    /// Any finite value, for a key that arithmetic never uses (a seed is only mixed into
    /// random streams); `reason` says why no bound is needed.
    public static func unbounded(because reason: String) -> Self {
        Self(lower: nil, upper: nil, reason: reason)
    }

    /// The same bounds, phrased as `wording` (`0, 1 or 2`) in messages and the reference.
    public func described(as wording: String) -> Self {
        var b = self
        b.wording = wording
        return b
    }

    /// The allowed values as a phrase: `between 0 and 200 (Linux's range)`.
    public var phrase: String {
        if let wording { return wording }
        var s: String
        switch (lower, upper) {
        case let (l?, u?):
            s =
                lowerIsExclusive
                ? "above \(l.parameterText) and at most \(u.parameterText)"
                : "between \(l.parameterText) and \(u.parameterText)"
        case let (l?, nil): s = lowerIsExclusive ? "above \(l.parameterText)" : "at least \(l.parameterText)"
        case let (nil, u?): s = "at most \(u.parameterText)"
        case (nil, nil): s = "any value"
        }
        if let reason { s += " (\(reason))" }
        return s
    }

    /// Whether `v` is allowed (NaN and infinities never are).
    public func contains(_ v: Value) -> Bool {
        guard v.isFiniteValue else { return false }
        if let l = lower, lowerIsExclusive ? !(v > l) : !(v >= l) { return false }
        if let u = upper, !(v <= u) { return false }
        return true
    }

    /// The message for a value out of bounds, nil when it is allowed.
    public func problem(_ v: Value) -> String? {
        contains(v) ? nil : "must be \(phrase); got \(v.parameterText)"
    }
}

extension ParameterBounds where Value == Percentage {
    /// A share of something: 0 % to 100 %.
    public static var share: Self { .range(.percent(0) ... .percent(100)) }
}

extension ParameterBounds where Value == SimDuration {
    /// How often something runs: at least 1 ms (a shorter period makes a run crawl), at most
    /// the longest run.
    public static var period: Self { .range(.ms(1)...SimDuration.longestRun) }
    /// A wait or a point in time: up to the longest run.
    public static var delay: Self { .atMost(SimDuration.longestRun) }
    /// The time one memory event costs: at most 1 s (a disk seek is 5 ms; costs add up over
    /// every event of a run).
    public static var cost: Self { .atMost(.seconds(1)) }
}

extension ParameterBounds where Value == ByteCount {
    /// An amount of memory of at least one 4 KiB page and at most the largest host's memory.
    public static var atLeastOnePage: Self { .range(.kib(4)...ByteCount.largestHost) }
    /// An amount of memory up to the largest host's memory (0 allowed).
    public static var upToLargestHost: Self { .atMost(ByteCount.largestHost) }
}

extension ByteCount {
    /// The most machine memory a host may have (`host.memory`), and so the largest size or
    /// per-second rate any key needs: pages of it times any count or second of a run stay far
    /// inside 64-bit integers.
    public static let largestHost = ByteCount.tib(4)
}

extension SimDuration {
    /// The longest simulated time a scenario may ask for (1000 h, about six weeks): times stay
    /// far inside 64-bit nanoseconds whatever is added to them.
    public static let longestRun = SimDuration.seconds(3_600_000)
}

extension Percentage {
    /// `percent` %: `.percent(50)` is one half.
    public static func percent(_ p: Double) -> Percentage { Percentage(percent: p) }
}
