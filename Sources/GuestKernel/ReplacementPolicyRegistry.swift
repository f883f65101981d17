import OvercommitSupport

/// The guest page replacement policies: the single list that
/// `guests[].kernel.replacement_policy`, the configuration reference, `overcommit policies`,
/// `--help`, `overcommit paging`, the golden runs and the property tests all follow.
///
/// Adding a policy is one new file (the `ReplacementPolicy` class and its
/// `ReplacementPolicyKind` constant) and one line here; see docs/extending.md.
public enum ReplacementPolicyRegistry {
    /// Every policy, in the order users see them.
    public static let policies: [ReplacementPolicyKind] = [
        .linux,
        .lru,
        .fifo,
        .clock,
        .opt,
    ]

    /// The policy of a guest that names none: Linux's own.
    public static let defaultPolicy: ReplacementPolicyKind = .linux
}

/// What a replacement policy is built from: the guest's frame table and the two questions
/// policies ask about a page.
public struct ReplacementPolicyContext {
    /// The guest's frames (flags, use, list links).
    public let frames: FrameTable
    /// OPT's oracle: the page's next use in the reference stream (trace replay only).
    public let nextUse: (PFN) -> Int
    /// `page_referenced()`: tests and clears the page's accessed bits through the rmap.
    public let referenced: (PFN) -> Bool
}

/// A registered guest page replacement policy, named as scenarios write it
/// (`replacement_policy: clock`).
public struct ReplacementPolicyKind: Sendable, CustomStringConvertible {
    /// The name scenarios write (`clock`).
    public let rawValue: String
    /// One line saying what the policy does and which real system or textbook it follows.
    public let summary: String
    /// True when the policy needs each page's next use (Belady's OPT): only a trace replay,
    /// whose future is known, can run it.
    public let needsFutureReferences: Bool
    let build: @Sendable (ReplacementPolicyContext) -> any ReplacementPolicy

    /// A policy for the registry; `build` makes one instance over a guest's frames.
    public init(
        name: String, summary: String, needsFutureReferences: Bool = false,
        build: @escaping @Sendable (ReplacementPolicyContext) -> any ReplacementPolicy
    ) {
        self.rawValue = name; self.summary = summary; self.needsFutureReferences = needsFutureReferences; self.build = build
    }

    public var description: String { rawValue }

    /// Builds the policy over a guest's frame table. `nextUse` is OPT's oracle; `referenced`
    /// tests and clears a page's accessed bits (page_referenced through the rmap).
    public func make(frames: FrameTable, nextUse: @escaping (PFN) -> Int, referenced: @escaping (PFN) -> Bool) -> any ReplacementPolicy {
        build(ReplacementPolicyContext(frames: frames, nextUse: nextUse, referenced: referenced))
    }
}

extension ReplacementPolicyKind: ParameterChoice, Hashable {
    public static var choiceNoun: String { "replacement policy" }

    /// Every registered policy, in registry order.
    public static var allCases: [ReplacementPolicyKind] { ReplacementPolicyRegistry.policies }

    /// The registered policy called `rawValue`, if any.
    public init?(rawValue: String) {
        guard let k = ReplacementPolicyRegistry.policies.first(where: { $0.rawValue == rawValue }) else { return nil }
        self = k
    }

    public static func == (a: ReplacementPolicyKind, b: ReplacementPolicyKind) -> Bool { a.rawValue == b.rawValue }
    public func hash(into h: inout Hasher) { h.combine(rawValue) }
}
