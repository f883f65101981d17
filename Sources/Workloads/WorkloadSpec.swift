import OvercommitSupport

/// A workload named in a scenario: its kind and that kind's parameters.
///
/// Decodes from a table whose `kind` key picks the parameter table, e.g.
/// `{kind: web, working_set: 512MiB}`.
public enum WorkloadSpec: Codable, Sendable, Equatable {
    case idle(IdleWorkloadParameters)

    public var kindName: String {
        switch self { case .idle: "idle" }
    }

    enum KindKey: String, CodingKey { case kind }

    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: KindKey.self)
        let kind = try c.decode(String.self, forKey: .kind)
        switch kind {
        case "idle": self = .idle(try IdleWorkloadParameters(from: decoder))
        default:
            throw DecodingError.dataCorruptedError(forKey: .kind, in: c, debugDescription: "unknown workload kind '\(kind)'; allowed: idle")
        }
    }

    public func encode(to encoder: Encoder) throws {
        var c = encoder.container(keyedBy: KindKey.self)
        try c.encode(kindName, forKey: .kind)
        switch self { case .idle(let p): try p.encode(to: encoder) }
    }

    /// The parameter schema: one table per kind.
    public static var parameterKind: ParameterKind {
        .variant(discriminator: "kind", cases: [("idle", IdleWorkloadParameters.self)])
    }

    public func validationProblems() -> [(key: String, message: String)] { [] }
}

/// An idle guest: the OS and a few daemons touching a small working set now and then.
public struct IdleWorkloadParameters: ParameterTable, Equatable {
    public var resident: ByteCount = .mib(64)
    public init() {}
    public static let tableName = "workload.idle"
    public static let tableSummary = "An idle guest: daemons touching a small working set."
    public static let parameters: [ParameterInfo] = [
        .init("resident", .bytes, default: "64MiB", "memory the idle daemons keep touched"),
    ]
}
