import GuestKernel
import OvercommitSupport
import PageContents

/// The parameter table of one workload kind, and the kind's entry in `WorkloadRegistry`.
///
/// A kind declares its name (`kindName`), a one-line `summary`, its own keys in `ownFields`
/// and builds its generator in `makeWorkload`. Every kind also accepts the common keys,
/// which `fields` appends to its own:
///
/// - `access_rate`: memory references per simulated second per vCPU when nothing stalls;
///   each reference is charged its kernel cost plus `1e9/access_rate - costs.memory_access`
///   of think time, so faults lower the achieved rate (the EAT model's slowdown).
/// - `start_at` / `stop_at`: counted from the workload's first slice (guest power-on).
/// - `content_mix`: what the anonymous pages it writes look like (compressibility, sharing).
/// - `oom_score_adj`: `/proc/PID/oom_score_adj` of every process it creates.
public protocol WorkloadParameters: ParameterVariant {
    var access_rate: Double { get set }
    var start_at: SimDuration { get set }
    var stop_at: SimDuration? { get set }
    var content_mix: ContentMix { get set }
    var oom_score_adj: Int { get set }

    /// The kind's own keys; `fields` appends the common ones.
    static var ownFields: [ParameterField<Self>] { get }
    /// Problems involving several of the kind's own keys (bounds are in `ownFields`).
    func ownProblems() -> [ParameterProblem]
    /// Files the caller must load into `WorkloadResources` before `makeWorkload` (trace files).
    var resourcePaths: [String] { get }
    /// The unit of work the kind's throughput is counted in (web requests, database
    /// transactions, ...), nil for a kind whose work is not a service's (idle, leak, boot, spawner).
    static var throughputUnit: ThroughputUnit? { get }
    /// The generator for one guest (see `WorkloadSpec.make`); the parameters are valid.
    func makeWorkload(
        kernel: GuestKernel, rng: inout Xoshiro256, resources: WorkloadResources,
        imageFiles: [String]
    ) throws -> any Workload
}

extension WorkloadParameters {
    public static var tableName: String { "workload." + kindName }
    public static var fields: [ParameterField<Self>] { ownFields + commonFields }
    public var resourcePaths: [String] { [] }
    public static var throughputUnit: ThroughputUnit? { nil }
    public func ownProblems() -> [ParameterProblem] { [] }

    /// The keys every kind accepts, after its own.
    static var commonFields: [ParameterField<Self>] {
        [
            .init(
                \.access_rate, "access_rate",
                "memory references per simulated second per vCPU when no fault stalls it (think time = 1s/rate - memory_access)",
                .above(0, atMost: 1e9, because: "one reference per ns"), unit: "per second"),
            .init(\.start_at, "start_at", "delay after the guest powers on before the workload starts", .delay),
            .init(\.stop_at, "stop_at", "time after power-on at which the workload stops and its processes exit", .delay, unset: "(never)"),
            .init(
                \.content_mix, "content_mix",
                "styles of the anonymous pages it writes (style: percent, summing to 100%); decides compressibility and sharing"),
            .init(
                \.oom_score_adj, "oom_score_adj", "oom_score_adj of its processes: -1000 never OOM-killed .. 1000 killed first",
                .range(-1000...1000, because: "Linux's range")),
        ]
    }

    /// The kind's own problems, then `stop_at` after `start_at`.
    public func consistencyProblems() -> [ParameterProblem] {
        var p = ownProblems()
        if let s = stop_at, s <= start_at { p.append(("stop_at", "must be later than start_at (\(start_at)); got \(s)")) }
        return p
    }
}

/// How a workload's allocator gives freed heap memory back to the kernel: `munmap` (today's
/// brk shrink and process exit), or keep the heap mapped and madvise it like glibc's
/// `free` trimming and jemalloc's purging: `dontneed` (MADV_DONTNEED, RSS drops at once)
/// or `free` (MADV_FREE, pages stay until the guest needs memory).
public enum FreeAdvice: String, CaseIterable, Codable, Sendable {
    case munmap, dontneed, free
}

extension FreeAdvice: ParameterChoice {
    public static var choiceNoun: String { "free advice" }
}

extension TraceFormat: ParameterChoice {
    public static var choiceNoun: String { "trace format" }
}

/// The styles of the anonymous pages a workload writes, as percentages summing to 100 %.
///
/// Written as a mapping from style name to percent, e.g.
/// `{random: 20%, text: 30%, pointers: 30%, sparse: 20%}`; absent styles are 0 %.
/// The kernel gives each page a process writes a style drawn from this mix
/// (`GuestKernel.setAnonContentMix`), which decides how well the page compresses and whether
/// it can be shared.
public struct ContentMix: ParameterTable, CustomStringConvertible {
    /// Percent per style, indexed by `ContentStyle.rawValue`.
    public private(set) var percents: [Double] = Array(repeating: 0, count: ContentStyle.allCases.count)

    /// An empty mix (every style 0 %, which does not validate): the base decoding fills in.
    public init() {}

    /// A mix from (style, percent) pairs.
    public init(_ pairs: [(ContentStyle, Double)]) {
        for (s, v) in pairs { percents[Int(s.rawValue)] += v }
    }

    public subscript(style: ContentStyle) -> Percentage {
        get { Percentage(percent: percents[Int(style.rawValue)]) }
        set { percents[Int(style.rawValue)] = newValue.percent }
    }

    /// A style's share as its key in a scenario: nil for 0 % (an absent key is 0 %, and 0 % is
    /// not written back).
    public subscript(entry style: ContentStyle) -> Percentage? {
        get { let v = percents[Int(style.rawValue)]; return v == 0 ? nil : Percentage(percent: v) }
        set { percents[Int(style.rawValue)] = newValue?.percent ?? 0 }
    }

    /// Non-zero entries as fractions summing to 1, in style order: the kernel's argument.
    public var fractions: [(ContentStyle, Double)] {
        let total = percents.reduce(0, +)
        guard total > 0 else { return [] }
        return ContentStyle.allCases.compactMap { s in
            let v = percents[Int(s.rawValue)]
            return v > 0 ? (s, v / total) : nil
        }
    }

    public var description: String {
        let parts = ContentStyle.allCases.compactMap { s -> String? in
            let v = percents[Int(s.rawValue)]
            return v != 0 ? "\(s): \(formatShortest(v))%" : nil
        }
        return "{" + parts.joined(separator: ", ") + "}"
    }

    /// The mix as the reference shows a default: `{pointers: 40%, text: 30%}`.
    public var parameterText: String { description }

    /// The percentages sum to 100 %; `stored` is never mixed in (it names memory-image pages).
    public func consistencyProblems() -> [ParameterProblem] {
        var p: [ParameterProblem] = []
        if percents[Int(ContentStyle.stored.rawValue)] != 0 {
            p.append(("stored", "'stored' is for memory images; use zero, code, text, random, sparse, pointers or pattern"))
        }
        let total = percents.reduce(0, +)
        if abs(total - 100) > 0.01 { p.append(("", "percentages must sum to 100%; they sum to \(formatShortest(total))%")) }
        return p
    }

    public static let tableName = "workload.content_mix"
    public static let tableSummary =
        "Styles of the anonymous pages a workload writes, in percent summing to 100% (after memory-image studies: zero, code, text, pointer-rich heaps, sparse, incompressible)."
    public static let fields: [ParameterField<Self>] = ContentStyle.writableStyles.map { s in
        .init(\ContentMix[entry: s], s.description, ContentMix.summary(of: s), .share, unset: "0%")
    }

    static func summary(of s: ContentStyle) -> String {
        switch s {
        case .zero: "pages written with zeros only (freshly cleared buffers)"
        case .code: "machine-code-like pages (JIT output, copied binaries)"
        case .text: "ASCII text (strings, HTML, JSON, logs)"
        case .random: "incompressible bytes (encrypted or compressed data)"
        case .sparse: "mostly-zero pages with a few words (fresh heap, sparse arrays)"
        case .pointers: "pointers and small integers (object heaps, linked structures)"
        case .pattern: "one word repeated over the page (memset patterns)"
        case .stored: ""
        }
    }
}
