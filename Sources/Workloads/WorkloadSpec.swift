import GuestKernel
import OvercommitSupport

/// The workload generators: the registry shown by `--help` and `overcommit policies`.
public enum WorkloadKind: String, CaseIterable, Codable, Sendable {
    case idle, web, database, batch, leak, boot, spawner, trace

    /// One line on what the kind imitates.
    public var summary: String {
        switch self {
        case .idle: "a few daemons that wrote a small resident set at start-up and touch it rarely"
        case .web: "nginx-like static web server: master + forked workers, Zipf document popularity, page-cache heavy"
        case .database: "OLTP database: large buffer pool warmed from its data file, 80/20 hot set, optional mlock"
        case .batch: "batch job: brk-grows its heap to a peak, sweeps it, frees it and exits; optionally repeats"
        case .leak: "leaking process: allocates and writes memory at a fixed rate until OOM-killed; retries ENOMEM"
        case .boot: "boot: init reads the image's files through the page cache, then finishes"
        case .spawner: "process churn: a parent forks short-lived children sharing its memory copy-on-write"
        case .trace: "replay of a recorded reference trace (text format or valgrind lackey); feeds Belady's OPT"
        }
    }

    /// The kind's parameter table.
    public var parameterTable: any ParameterTable.Type {
        switch self {
        case .idle: IdleWorkloadParameters.self
        case .web: WebWorkloadParameters.self
        case .database: DatabaseWorkloadParameters.self
        case .batch: BatchWorkloadParameters.self
        case .leak: LeakWorkloadParameters.self
        case .boot: BootWorkloadParameters.self
        case .spawner: SpawnerWorkloadParameters.self
        case .trace: TraceWorkloadParameters.self
        }
    }

    /// The kind with all its parameters at their defaults.
    public var defaultSpec: WorkloadSpec {
        switch self {
        case .idle: .idle(IdleWorkloadParameters())
        case .web: .web(WebWorkloadParameters())
        case .database: .database(DatabaseWorkloadParameters())
        case .batch: .batch(BatchWorkloadParameters())
        case .leak: .leak(LeakWorkloadParameters())
        case .boot: .boot(BootWorkloadParameters())
        case .spawner: .spawner(SpawnerWorkloadParameters())
        case .trace: .trace(TraceWorkloadParameters())
        }
    }
}

/// A workload named in a scenario: its kind and that kind's parameters.
///
/// Decodes from a table whose `kind` key picks the parameter table, e.g.
/// `{kind: web, workers: 8, worker_memory: 64MiB}`; absent keys take the kind's defaults.
/// Encodes back to the same flat mapping with every key.
public enum WorkloadSpec: Codable, Sendable, Equatable {
    case idle(IdleWorkloadParameters)
    case web(WebWorkloadParameters)
    case database(DatabaseWorkloadParameters)
    case batch(BatchWorkloadParameters)
    case leak(LeakWorkloadParameters)
    case boot(BootWorkloadParameters)
    case spawner(SpawnerWorkloadParameters)
    case trace(TraceWorkloadParameters)

    public var kind: WorkloadKind {
        switch self {
        case .idle: .idle
        case .web: .web
        case .database: .database
        case .batch: .batch
        case .leak: .leak
        case .boot: .boot
        case .spawner: .spawner
        case .trace: .trace
        }
    }

    public var kindName: String { kind.rawValue }

    /// The parameters, type-erased (for generic code: reference output, access to the
    /// common keys through `WorkloadParameters`).
    public var parameters: any WorkloadParameters {
        switch self {
        case .idle(let p): p
        case .web(let p): p
        case .database(let p): p
        case .batch(let p): p
        case .leak(let p): p
        case .boot(let p): p
        case .spawner(let p): p
        case .trace(let p): p
        }
    }

    enum KindKey: String, CodingKey { case kind }

    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: KindKey.self)
        let name = try c.decodeIfPresent(String.self, forKey: .kind) ?? WorkloadKind.idle.rawValue
        guard let kind = WorkloadKind(rawValue: name) else {
            throw DecodingError.dataCorruptedError(forKey: .kind, in: c, debugDescription:
                "unknown workload kind '\(name)'; allowed: " + WorkloadKind.allCases.map(\.rawValue).joined(separator: ", "))
        }
        switch kind {
        case .idle: self = .idle(try IdleWorkloadParameters(from: decoder))
        case .web: self = .web(try WebWorkloadParameters(from: decoder))
        case .database: self = .database(try DatabaseWorkloadParameters(from: decoder))
        case .batch: self = .batch(try BatchWorkloadParameters(from: decoder))
        case .leak: self = .leak(try LeakWorkloadParameters(from: decoder))
        case .boot: self = .boot(try BootWorkloadParameters(from: decoder))
        case .spawner: self = .spawner(try SpawnerWorkloadParameters(from: decoder))
        case .trace: self = .trace(try TraceWorkloadParameters(from: decoder))
        }
    }

    public func encode(to encoder: Encoder) throws {
        var c = encoder.container(keyedBy: KindKey.self)
        try c.encode(kindName, forKey: .kind)
        try parameters.encode(to: encoder)
    }

    /// The parameter schema: one table per kind, selected by `kind`.
    public static var parameterKind: ParameterKind {
        .variant(discriminator: "kind", cases: WorkloadKind.allCases.map { ($0.rawValue, $0.parameterTable) })
    }

    /// Range and consistency problems, keys relative to the workload mapping
    /// (`worker_memory`, `content_mix`); empty when valid.
    public func validationProblems() -> [(key: String, message: String)] {
        parameters.validationProblems()
    }

    /// Files the caller must load into `WorkloadResources` before `make` (trace files).
    public var resourcePaths: [String] {
        if case .trace(let p) = self, !p.file.isEmpty { return [p.file] }
        return []
    }

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
    public func make(kernel: GuestKernel, rng: inout Xoshiro256,
                     resources: WorkloadResources = WorkloadResources(),
                     imageFiles: [String] = []) throws -> any Workload {
        let problems = validationProblems()
        if !problems.isEmpty {
            throw WorkloadError.invalidParameters(kind: kindName, problems: problems.map { $0.key + ": " + $0.message })
        }
        switch self {
        case .idle(let p): return IdleWorkload(p)
        case .web(let p): return try WebWorkload(p, kernel: kernel, rng: &rng)
        case .database(let p): return try DatabaseWorkload(p, kernel: kernel, rng: &rng)
        case .batch(let p): return try BatchWorkload(p, kernel: kernel)
        case .leak(let p): return LeakWorkload(p)
        case .boot(let p): return BootWorkload(p, imageFiles: imageFiles)
        case .spawner(let p): return SpawnerWorkload(p)
        case .trace(let p): return TraceWorkload(p, trace: try resources.trace(path: p.file, format: p.format))
        }
    }

    /// `make` with file texts by path (each trace is parsed again for every call; pass one
    /// `WorkloadResources` for all guests to parse each trace once).
    public func make(kernel: GuestKernel, rng: inout Xoshiro256, resources: [String: String],
                     imageFiles: [String] = []) throws -> any Workload {
        try make(kernel: kernel, rng: &rng, resources: WorkloadResources(resources), imageFiles: imageFiles)
    }
}
