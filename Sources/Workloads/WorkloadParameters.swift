import OvercommitSupport
import PageContents

/// The keys every workload kind accepts, on top of its own.
///
/// - `access_rate`: memory references per simulated second per vCPU when nothing stalls;
///   each reference is charged its kernel cost plus `1e9/access_rate - costs.memory_access`
///   of think time, so faults lower the achieved rate (the EAT model's slowdown).
/// - `start_at` / `stop_at`: counted from the workload's first slice (guest power-on).
/// - `content_mix`: what the anonymous pages it writes look like (compressibility, sharing).
/// - `oom_score_adj`: `/proc/PID/oom_score_adj` of every process it creates.
public protocol WorkloadParameters: ParameterTable, Equatable {
    var access_rate: Double { get set }
    var start_at: SimDuration { get set }
    var stop_at: SimDuration? { get set }
    var content_mix: ContentMix { get set }
    var oom_score_adj: Int { get set }

    /// The kind's own keys (the common keys are appended by `parameters`).
    static var ownParameters: [ParameterInfo] { get }
    /// Reads the kind's own keys (absent keys keep their defaults).
    mutating func decodeOwn(_ d: ParameterDecoder) throws
    /// Writes the kind's own keys.
    func encodeOwn(_ e: inout ParameterEncoder) throws
    /// Range problems of the kind's own keys.
    func ownProblems() -> [(key: String, message: String)]
}

extension WorkloadParameters {
    public static var parameters: [ParameterInfo] {
        let defaults = Self()
        return ownParameters + [
            .init("access_rate", .double, default: formatShortest(defaults.access_rate),
                  "memory references per simulated second per vCPU when no fault stalls it (think time = 1s/rate - memory_access)"),
            .init("start_at", .duration, default: defaults.start_at.description, "delay after the guest powers on before the workload starts"),
            .init("stop_at", .duration, default: "(never)", "time after power-on at which the workload stops and its processes exit"),
            .init("content_mix", .table(ContentMix.self), default: defaults.content_mix.description,
                  "styles of the anonymous pages it writes (style: percent, summing to 100%); decides compressibility and sharing"),
            .init("oom_score_adj", .int, default: "\(defaults.oom_score_adj)",
                  "oom_score_adj of its processes: -1000 never OOM-killed .. 1000 killed first"),
        ]
    }

    /// Decodes every key from a mapping: common and own keys, defaults for absent ones.
    mutating func decodeAll(_ decoder: Decoder) throws {
        let d = try ParameterDecoder(decoder)
        try d.get("access_rate", &access_rate)
        try d.get("start_at", &start_at)
        try d.getOptional("stop_at", &stop_at)
        try d.get("content_mix", &content_mix)
        try d.get("oom_score_adj", &oom_score_adj)
        try decodeOwn(d)
    }

    /// Encodes own keys first, then the common ones (the order of `parameters`).
    func encodeAll(_ encoder: Encoder) throws {
        var e = ParameterEncoder(encoder)
        try encodeOwn(&e)
        try e.set("access_rate", access_rate)
        try e.set("start_at", start_at)
        try e.setIfPresent("stop_at", stop_at)
        try e.set("content_mix", content_mix)
        try e.set("oom_score_adj", oom_score_adj)
    }

    /// Own and common range problems, keyed relative to the workload mapping.
    public func validationProblems() -> [(key: String, message: String)] {
        var p = ownProblems()
        if !(access_rate > 0) || !access_rate.isFinite {
            p.append(("access_rate", "must be a positive number of references per second; got \(formatShortest(access_rate))"))
        } else if access_rate > 1e9 {
            p.append(("access_rate", "must be at most 1e9 references per second (one per ns); got \(formatShortest(access_rate))"))
        }
        if let s = stop_at, s <= start_at {
            p.append(("stop_at", "must be later than start_at (\(start_at)); got \(s)"))
        }
        for (k, m) in content_mix.validationProblems() { p.append((k.isEmpty ? "content_mix" : "content_mix.\(k)", m)) }
        if !(-1000...1000).contains(oom_score_adj) {
            p.append(("oom_score_adj", "must be between -1000 and 1000 (Linux's range); got \(oom_score_adj)"))
        }
        return p
    }
}

/// The styles of the anonymous pages a workload writes, as percentages summing to 100 %.
///
/// Written as a mapping from style name to percent, e.g.
/// `{random: 20%, text: 30%, pointers: 30%, sparse: 20%}`; absent styles are 0 %.
/// The kernel gives each page a process writes a style drawn from this mix
/// (`GuestKernel.setAnonContentMix`), which decides how well the page compresses and whether
/// it can be shared.
public struct ContentMix: ParameterTable, Equatable, CustomStringConvertible {
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

    /// The styles a mix may name (`stored` belongs to memory images only).
    public static let allowedStyles: [ContentStyle] = ContentStyle.allCases.filter { $0 != .stored }

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

    public func validationProblems() -> [(key: String, message: String)] {
        var p: [(String, String)] = []
        for s in ContentStyle.allCases {
            let v = percents[Int(s.rawValue)]
            if s == .stored && v != 0 { p.append(("stored", "'stored' is for memory images; use zero, code, text, random, sparse, pointers or pattern")) }
            if v < 0 || !v.isFinite { p.append((s.description, "must be between 0% and 100%; got \(formatShortest(v))%")) }
        }
        let total = percents.reduce(0, +)
        if abs(total - 100) > 0.01 { p.append(("", "percentages must sum to 100%; they sum to \(formatShortest(total))%")) }
        return p
    }

    public static let tableName = "workload.content_mix"
    public static let tableSummary = "Styles of the anonymous pages a workload writes, in percent summing to 100% (after memory-image studies: zero, code, text, pointer-rich heaps, sparse, incompressible)."
    public static let parameters: [ParameterInfo] = allowedStyles.map { s in
        let what: String
        switch s {
        case .zero: what = "pages written with zeros only (freshly cleared buffers)"
        case .code: what = "machine-code-like pages (JIT output, copied binaries)"
        case .text: what = "ASCII text (strings, HTML, JSON, logs)"
        case .random: what = "incompressible bytes (encrypted or compressed data)"
        case .sparse: what = "mostly-zero pages with a few words (fresh heap, sparse arrays)"
        case .pointers: what = "pointers and small integers (object heaps, linked structures)"
        case .pattern: what = "one word repeated over the page (memset patterns)"
        case .stored: what = ""
        }
        return ParameterInfo(s.description, .percent, default: "0%", what)
    }

    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: AnyCodingKey.self)
        for key in c.allKeys {
            guard let s = ContentStyle(name: key.stringValue) else {
                throw DecodingError.dataCorruptedError(forKey: key, in: c, debugDescription:
                    "unknown content style '\(key.stringValue)'; allowed: " + ContentMix.allowedStyles.map(\.description).joined(separator: ", "))
            }
            percents[Int(s.rawValue)] = try c.decode(Percentage.self, forKey: key).percent
        }
    }

    public func encode(to encoder: Encoder) throws {
        var c = encoder.container(keyedBy: AnyCodingKey.self)
        for s in ContentStyle.allCases where percents[Int(s.rawValue)] != 0 {
            try c.encode(Percentage(percent: percents[Int(s.rawValue)]), forKey: AnyCodingKey(s.description))
        }
    }
}

// MARK: - Validation helpers shared by the kinds

func positive(_ key: String, _ v: ByteCount, _ p: inout [(key: String, message: String)], atLeastPages: Int = 1) {
    if v.pages < atLeastPages {
        p.append((key, atLeastPages == 1 ? "must be at least one 4KiB page; got \(v)" : "must be at least \(ByteCount.pages(atLeastPages)); got \(v)"))
    }
}

func fraction(_ key: String, _ v: Percentage, _ p: inout [(key: String, message: String)]) {
    if !(v.fraction >= 0 && v.fraction <= 1) { p.append((key, "must be between 0% and 100%; got \(v)")) }
}

func inRange(_ key: String, _ v: Int, _ r: ClosedRange<Int>, _ p: inout [(key: String, message: String)]) {
    if !r.contains(v) { p.append((key, "must be between \(r.lowerBound) and \(r.upperBound); got \(v)")) }
}
