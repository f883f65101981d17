import OvercommitSupport

/// A policy program that manages the host's balloons and KSM, as oVirt's MOM does on a KVM
/// host: `host.policy` in a scenario.
///
/// With `kind: mom` the engine collects MOM's host and guest statistics every
/// `sample_interval` (MOM's host- and guest-monitor-interval), keeps the last `sample_history`
/// of them, and evaluates the policy files every `interval` (MOM's policy-engine-interval);
/// the balloon targets and KSM tunables the policy sets are applied at once. The program then
/// takes the place of the built-in balloon policy (`host.balloon_policy`, which is not run)
/// and drives KSM's `run`, `pages_to_scan`, `sleep_millisecs` and `merge_across_nodes`.
public struct HostPolicyConfig: ParameterTable {
    /// Which program manages the host.
    public var kind: HostPolicyKind = .none
    /// The policy files or directories, relative to the scenario file.
    public var files: [String] = []
    /// MOM's policy-engine-interval.
    public var interval: SimDuration = .seconds(10)
    /// MOM's host-monitor-interval and guest-monitor-interval.
    public var sample_interval: SimDuration = .seconds(5)
    /// MOM's sample-history-length.
    public var sample_history: Int = 10
    /// Variables defined before the policy's first expression, as the oVirt engine injects
    /// `balloonEnabled` and `ksmEnabled`.
    public var variables = NamedScalars()

    public init() {}

    public var isProgram: Bool { kind != .none }

    public static let tableName = "host.policy"
    public static let tableSummary = "A policy program managing balloons and KSM (oVirt MOM policy files), in place of the built-in balloon policy."
    public static let fields: [ParameterField<Self>] = [
        .init(
            \.kind, "kind",
            "none: host.balloon_policy sets balloon targets and host.sharing paces KSM (files and variables are not read); mom: the MOM policy files set both"),
        .init(
            \.files, "files",
            "MOM policy files and directories (their *.policy files), relative to the scenario file; joined in file-name order as MOM joins a policy directory"),
        .init(\.interval, "interval", "how often the policy is evaluated (MOM policy-engine-interval)", .period),
        .init(
            \.sample_interval, "sample_interval",
            "how often host and guest statistics are collected (MOM host- and guest-monitor-interval); a collection is also taken just before each evaluation",
            .period),
        .init(
            \.sample_history, "sample_history", "samples kept for Stat and StatAvg (MOM sample-history-length)",
            .range(1...1000), unit: "samples"),
        .init(
            \.variables, "variables",
            "variables set before the policy runs, as the oVirt engine injects them (balloonEnabled, ksmEnabled, ksmMergeAcrossNodes...)"),
    ]

    /// With kind none, `files` and `variables` are kept but not read, so that a sweep can
    /// switch the program off and on (`--set host.policy.kind=none,mom`).
    public func consistencyProblems() -> [ParameterProblem] {
        guard kind == .mom && files.isEmpty else { return [] }
        return [("files", "kind mom runs MOM policy files: name at least one file or directory")]
    }
}

/// The policy programs a host can run.
public enum HostPolicyKind: String, Codable, Sendable, CaseIterable {
    /// No program: the built-in balloon policy and the configured KSM rates.
    case none
    /// oVirt MOM policy files.
    case mom

    /// One line for `overcommit policies`.
    public var summary: String {
        switch self {
        case .none: return "no program: host.balloon_policy sets the balloon targets, host.sharing paces KSM"
        case .mom: return "oVirt MOM policy files (/etc/vdsm/mom.d/*.policy, MOM's *.rules) set balloon targets and KSM tunables"
        }
    }
}

extension HostPolicyKind: ParameterChoice {
    public static var choiceNoun: String { "policy program kind" }
}
