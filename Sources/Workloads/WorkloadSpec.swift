import GuestKernel
import OvercommitSupport

/// The workload kinds: the single list that `guests[].workloads[].kind`, the configuration
/// reference, `overcommit policies`, `--help` and the tests all follow.
///
/// Adding a kind is one new file (its `WorkloadParameters` table and its `Workload`) and one
/// line here; see docs/extending.md.
public enum WorkloadRegistry {
    /// Every kind, in the order users see them.
    public static let kinds: [any WorkloadParameters.Type] = [
        IdleWorkloadParameters.self,
        WebWorkloadParameters.self,
        DatabaseWorkloadParameters.self,
        BatchWorkloadParameters.self,
        LeakWorkloadParameters.self,
        BootWorkloadParameters.self,
        SpawnerWorkloadParameters.self,
        TraceWorkloadParameters.self,
    ]

    /// The kind of a guest that lists no workload, and of an entry without `kind` when decoded
    /// outside a scenario file (the scenario schema asks for `kind`).
    public static let defaultKind: any WorkloadParameters.Type = IdleWorkloadParameters.self
}

/// A registered workload kind, named as scenarios write it (`kind: web`).
public struct WorkloadKind: Hashable, Sendable, CustomStringConvertible {
    /// The kind's parameter table.
    public let parameterTable: any WorkloadParameters.Type

    public init(_ parameterTable: any WorkloadParameters.Type) { self.parameterTable = parameterTable }

    /// The registered kind called `rawValue`, if any.
    public init?(rawValue: String) {
        guard let t = WorkloadRegistry.kinds.first(where: { $0.kindName == rawValue }) else { return nil }
        self.init(t)
    }

    /// Every registered kind, in registry order.
    public static var allCases: [WorkloadKind] { WorkloadRegistry.kinds.map(WorkloadKind.init) }

    /// The name scenarios write (`web`).
    public var rawValue: String { parameterTable.kindName }
    public var description: String { rawValue }
    /// One line on what the kind imitates.
    public var summary: String { parameterTable.summary }
    /// The kind with all its parameters at their defaults.
    public var defaultSpec: WorkloadSpec { WorkloadSpec(parameterTable.init()) }

    public static func == (a: WorkloadKind, b: WorkloadKind) -> Bool { a.rawValue == b.rawValue }
    public func hash(into h: inout Hasher) { h.combine(rawValue) }
}

/// A workload named in a scenario: its kind and that kind's parameters.
///
/// Decodes from a table whose `kind` key picks the parameter table, e.g.
/// `{kind: web, workers: 8, worker_memory: 64MiB}`; absent keys take the kind's defaults.
/// Encodes back to the same flat mapping with every key. As the entry of a `workloads:` list
/// it is also the `workload` table of the reference: one `kind` key selecting the rest.
public struct WorkloadSpec: PlainParameterValue, ParameterListElement, ParameterSchema {
    /// The parameters; their type is the workload's kind.
    public var parameters: any WorkloadParameters

    /// A workload with these parameters (the registry's default kind when omitted).
    public init(_ parameters: any WorkloadParameters = WorkloadRegistry.defaultKind.init()) {
        self.parameters = parameters
    }

    public var kind: WorkloadKind { WorkloadKind(type(of: parameters)) }
    public var kindName: String { kind.rawValue }

    /// Range and consistency problems, keys relative to the workload mapping
    /// (`worker_memory`, `content_mix`); empty when valid.
    public func validationProblems() -> [ParameterProblem] { parameters.validationProblems() }

    /// Files the caller must load into `WorkloadResources` before `make` (trace files).
    public var resourcePaths: [String] { parameters.resourcePaths }

    /// Builds the workload for one guest.
    ///
    /// - Parameters:
    ///   - kernel: the guest's kernel, with the image's files already registered (workloads
    ///     look their files up by path here; a missing essential file throws
    ///     `WorkloadError.missingFile`).
    ///   - rng: construction-time randomness (layout of hot sets and popular documents); the
    ///     workload's run-time stream is the context's.
    ///   - resources: texts of files the spec names (`resourcePaths`), loaded by the caller.
    ///   - imageFiles: paths of the guest image's files, read by `boot` when it lists none.
    /// - Throws: `WorkloadError` (invalid parameters, missing file or resource) or
    ///   `TraceParseError`.
    public func make(
        kernel: GuestKernel, rng: inout Xoshiro256,
        resources: WorkloadResources = WorkloadResources(),
        imageFiles: [String] = []
    ) throws -> any Workload {
        let problems = validationProblems()
        if !problems.isEmpty {
            throw WorkloadError.invalidParameters(kind: kindName, problems: problems.map { $0.key + ": " + $0.message })
        }
        return try parameters.makeWorkload(kernel: kernel, rng: &rng, resources: resources, imageFiles: imageFiles)
    }

    /// `make` with file texts by path (each trace is parsed again for every call; pass one
    /// `WorkloadResources` for all guests to parse each trace once).
    public func make(
        kernel: GuestKernel, rng: inout Xoshiro256, resources: [String: String],
        imageFiles: [String] = []
    ) throws -> any Workload {
        try make(kernel: kernel, rng: &rng, resources: WorkloadResources(resources), imageFiles: imageFiles)
    }

    // MARK: Parameter value

    public static var parameterKind: ParameterKind { ParameterVariants.kind(WorkloadRegistry.kinds) }
    public static var listKind: ParameterKind { .list(WorkloadSpec.self) }
    public var parameterText: String { kindName }
    public var listItemText: String { "{\(ParameterVariants.discriminator): \(kindName)}" }
    public func nestedProblems() -> [ParameterProblem] { validationProblems() }

    public init(from decoder: Decoder) throws {
        let kinds = WorkloadRegistry.kinds
        let i = try ParameterVariants.caseIndex(
            kinds, from: decoder, default: WorkloadRegistry.defaultKind.kindName,
            noun: "workload kind")
        parameters = try kinds[i].init(from: decoder)
    }

    public func encode(to encoder: Encoder) throws { try ParameterVariants.encode(parameters, to: encoder) }

    public static func == (a: WorkloadSpec, b: WorkloadSpec) -> Bool { a.parameters.isEqual(to: b.parameters) }

    // MARK: The `workload` table of the reference

    public static let tableName = "workload"
    public static let tableSummary = "One workload: `kind` selects the generator and its parameters."
    public static var parameters: [ParameterInfo] {
        [
            ParameterInfo(
                ParameterVariants.discriminator, parameterKind, default: WorkloadRegistry.defaultKind.kindName,
                "the workload generator")
        ]
    }
}
