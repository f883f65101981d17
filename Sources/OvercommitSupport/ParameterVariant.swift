/// Families of parameter tables selected by a discriminating key, after gem5's `SimObject`
/// subclasses chosen by type in a config: `host.balloon_policy: {kind: mom, ...}`,
/// `workloads: [{kind: web, ...}]`.
///
/// Each family keeps one registry (an array of the case types); the scenario schema, the
/// reference, `overcommit policies`, `--help` and the tests all read that array, so a new
/// case is one file plus one registry line.

/// One table of a family: its name under the discriminating key and a one-line summary.
public protocol ParameterVariant: ParameterTable {
    /// The value of `kind:` that selects this table (`mom`, `web`).
    static var kindName: String { get }
    /// One line naming the real system or program it follows, for `overcommit policies`.
    static var summary: String { get }
}

extension ParameterVariant {
    /// The family's `kind` is read by the family's spec, next to the table's own keys.
    public static var keysReadElsewhere: [String] { [ParameterVariants.discriminator] }
}

/// Reading and writing a family's discriminating key.
public enum ParameterVariants {
    /// The key that selects the table of a family.
    public static let discriminator = "kind"

    /// The schema of a family: one table per case, selected by `kind`.
    public static func kind(_ cases: [any ParameterVariant.Type]) -> ParameterKind {
        .variant(discriminator: discriminator, cases: cases.map { ($0.kindName, $0) })
    }

    /// The index in `cases` of the case the mapping at `decoder` names (`defaultName` when it
    /// has no `kind`).
    ///
    /// - Throws: `DecodingError.dataCorrupted` for an unknown name, with the allowed ones:
    ///   `unknown workload kind 'webb'; allowed: idle, web, ...`.
    public static func caseIndex(
        _ cases: [any ParameterVariant.Type], from decoder: Decoder,
        default defaultName: String, noun: String
    ) throws -> Int {
        let c = try decoder.container(keyedBy: AnyCodingKey.self)
        let key = AnyCodingKey(discriminator)
        let name = try c.decodeIfPresent(String.self, forKey: key) ?? defaultName
        guard let i = cases.firstIndex(where: { $0.kindName == name }) else {
            throw DecodingError.dataCorruptedError(
                forKey: key, in: c,
                debugDescription:
                    "unknown \(noun) '\(name)'; allowed: " + cases.map { $0.kindName }.joined(separator: ", "))
        }
        return i
    }

    /// Writes `kind` and then the table's keys into one mapping.
    public static func encode(_ value: any ParameterVariant, to encoder: Encoder) throws {
        var c = encoder.container(keyedBy: AnyCodingKey.self)
        try c.encode(type(of: value).kindName, forKey: AnyCodingKey(discriminator))
        try value.encode(to: encoder)
    }
}
