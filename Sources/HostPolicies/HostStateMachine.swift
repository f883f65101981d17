import OvercommitSupport

/// The free-memory state thresholds and the techniques each state enables, after ESXi 6.x's
/// memory scheduler.
///
/// How the five thresholds (percentages of `minFree`) are read — VMware documents each one as
/// the free-memory level *below which* that state's techniques start ("clear: < 100 % of
/// minFree, soft: < 64 %, hard: < 32 %, low: < 16 %"):
///
/// | free memory (× minFree)  | state |
/// |--------------------------|-------|
/// | ≥ clear (100 %)          | high  |
/// | [soft, clear) 64–100 %   | clear |
/// | [hard, soft) 32–64 %     | soft  |
/// | [low, hard) 16–32 %      | hard  |
/// | < low (16 %)             | low   |
///
/// Falling into a worse state is immediate. Rising needs free memory to clear the lower edge
/// of the better state by `hysteresis`: a host in low returns to hard at ≥ low + hysteresis,
/// to soft at ≥ hard + hysteresis, to clear at ≥ soft + hysteresis. The `high` threshold
/// (400 %) is where the host returns to high: it falls out of high below 100 % of minFree but
/// gets back only at ≥ 400 % (or clear + hysteresis if larger), so it stays in clear — large
/// pages broken, TPS running — while free memory is between the two, as VMware's table has
/// large pages broken below the high threshold.
public struct HostStateConfig: ParameterTable {
    /// Free memory a host in a worse state must reach to return to high.
    public var high = Percentage(percent: 400)
    /// Below this the host leaves high for clear (break large pages, share).
    public var clear = Percentage(percent: 100)
    /// Below this the host enters soft (ballooning starts).
    public var soft = Percentage(percent: 64)
    /// Below this the host enters hard (compression and host swap; ballooning stops).
    public var hard = Percentage(percent: 32)
    /// Below this the host enters low (VMs that allocate are blocked).
    public var low = Percentage(percent: 16)
    /// Margin (of minFree) above a state's lower edge needed to rise into it. 8 %: half the
    /// narrowest band (hard, 16–32 %), so a recovering host lands mid-band and cannot flap on
    /// one edge; ESXi has hysteresis but does not publish its width.
    public var hysteresis = Percentage(percent: 8)
    /// TPS keeps scanning at its normal rate in every state (large pages stay whole, so little
    /// is shared until clear breaks them).
    public var high_techniques: [ReclaimTechnique] = [.share]
    public var clear_techniques: [ReclaimTechnique] = [.break_large_pages, .share]
    public var soft_techniques: [ReclaimTechnique] = [.break_large_pages, .share, .balloon]
    public var hard_techniques: [ReclaimTechnique] = [.break_large_pages, .share, .compress, .swap]
    /// VMware's table omits TPS in low; it is kept because stopping the scanner frees nothing
    /// and the pages it still shares are the cheapest to reclaim.
    public var low_techniques: [ReclaimTechnique] = [.break_large_pages, .share, .compress, .swap, .block]

    public init() {}

    /// The configured threshold of a state.
    public func threshold(_ s: HostMemoryState) -> Percentage {
        switch s {
        case .high: high
        case .clear: clear
        case .soft: soft
        case .hard: hard
        case .low: low
        }
    }

    /// The techniques a state enables, as configured.
    public func techniques(_ s: HostMemoryState) -> [ReclaimTechnique] {
        switch s {
        case .high: high_techniques
        case .clear: clear_techniques
        case .soft: soft_techniques
        case .hard: hard_techniques
        case .low: low_techniques
        }
    }

    public static let tableName = "host.states"
    public static let tableSummary =
        "Free-memory states of the host (ESXi 6.x memory scheduler): thresholds in percent of minFree and the reclaim techniques each state enables."
    /// Thresholds are compared with free memory, which is at most all of the host's memory:
    /// about 100 × minFree on the largest host (minFree is 1 % of memory beyond 28 GiB).
    static let thresholdBounds = ParameterBounds<Percentage>.above(
        .percent(0), atMost: .percent(10_000),
        because: "free memory is at most ~100 × minFree")
    public static let fields: [ParameterField<Self>] = [
        .init(\.high, "high", "free memory (of minFree) a host must reach to return to the high state", thresholdBounds),
        .init(\.clear, "clear", "below this free memory (of minFree) the host leaves high for clear", thresholdBounds),
        .init(\.soft, "soft", "below this free memory (of minFree) the host enters soft", thresholdBounds),
        .init(\.hard, "hard", "below this free memory (of minFree) the host enters hard", thresholdBounds),
        .init(\.low, "low", "below this free memory (of minFree) the host enters low", thresholdBounds),
        .init(
            \.hysteresis, "hysteresis", "margin (of minFree) above a state's lower edge needed to rise back into it",
            .range(.percent(0) ... .percent(10_000))),
        .init(\.high_techniques, "high_techniques", "reclaim techniques enabled in the high state"),
        .init(\.clear_techniques, "clear_techniques", "reclaim techniques enabled in the clear state"),
        .init(\.soft_techniques, "soft_techniques", "reclaim techniques enabled in the soft state"),
        .init(\.hard_techniques, "hard_techniques", "reclaim techniques enabled in the hard state"),
        .init(\.low_techniques, "low_techniques", "reclaim techniques enabled in the low state"),
    ]

    /// Thresholds strictly decreasing from high to low; hysteresis below the narrowest band;
    /// no technique listed twice.
    public func consistencyProblems() -> [ParameterProblem] {
        var p: [ParameterProblem] = []
        let states = HostMemoryState.allCases
        for (a, b) in zip(states, states.dropFirst()) where !(threshold(a) > threshold(b)) {
            p.append((b.rawValue, "must be below \(a.rawValue) (\(threshold(a))): thresholds decrease from high to low; got \(threshold(b))"))
        }
        let narrowest = min(clear.fraction - soft.fraction, soft.fraction - hard.fraction, hard.fraction - low.fraction, low.fraction)
        if narrowest > 0 && hysteresis.fraction >= narrowest {
            p.append(("hysteresis", "must be below the narrowest band between thresholds (\(Percentage(fraction: narrowest))); got \(hysteresis)"))
        }
        for s in states {
            let list = techniques(s)
            for (i, t) in list.enumerated() where list[..<i].contains(t) {
                p.append(("\(s.rawValue)_techniques", "lists '\(t.rawValue)' twice"))
            }
        }
        return p
    }
}

extension ReclaimTechnique: ParameterChoice {
    public static var choiceNoun: String { "technique" }
}

/// The host's free-memory state with hysteresis, as ESXi's memory scheduler tracks it
/// (see `HostStateConfig` for how the thresholds are read).
public struct HostStateMachine: Sendable {
    public let config: HostStateConfig
    public let minFreePages: Int
    /// The current state; a new machine starts in high.
    public private(set) var state: HostMemoryState = .high

    public init(config: HostStateConfig = HostStateConfig(), minFreePages: Int) {
        self.config = config
        self.minFreePages = max(0, minFreePages)
    }

    /// A state's configured threshold in pages (`threshold × minFree`, rounded): the host
    /// enters clear, soft, hard or low when free memory falls below theirs, and returns to
    /// high when it reaches high's.
    public func thresholdPages(_ s: HostMemoryState) -> Int {
        pagesOf(config.threshold(s))
    }

    /// Free pages below which the host leaves `s` for a worse state (0 for low).
    public func lowerEdgePages(_ s: HostMemoryState) -> Int {
        s == .low ? 0 : thresholdPages(HostMemoryState(level: s.level + 1))
    }

    /// Free pages needed to rise into `s` from a worse state.
    public func risePages(_ s: HostMemoryState) -> Int {
        let edge = lowerEdgePages(s) + pagesOf(config.hysteresis)
        return s == .high ? max(thresholdPages(.high), edge) : edge
    }

    /// The state for `freePages` without history: the best state whose lower edge it reaches.
    public func stateWithoutHysteresis(freePages: Int) -> HostMemoryState {
        HostMemoryState.allCases.first { freePages >= lowerEdgePages($0) } ?? .low
    }

    /// Moves to the state for `freePages`: falls at once, rises only past the hysteresis.
    @discardableResult
    public mutating func update(freePages: Int) -> HostMemoryState {
        let plain = stateWithoutHysteresis(freePages: freePages)
        if plain > state {
            state = plain
        } else if let better = HostMemoryState.allCases.first(where: { $0 < state && freePages >= risePages($0) }) {
            state = better
        }
        return state
    }

    /// The techniques enabled in `s`, without repeats, in `ReclaimTechnique` order.
    public func techniques(in s: HostMemoryState) -> [ReclaimTechnique] {
        let list = config.techniques(s)
        return ReclaimTechnique.allCases.filter { list.contains($0) }
    }

    /// Whether `t` is enabled in `s` (the current state when omitted).
    public func isEnabled(_ t: ReclaimTechnique, in s: HostMemoryState? = nil) -> Bool {
        config.techniques(s ?? state).contains(t)
    }

    func pagesOf(_ p: Percentage) -> Int { Int((Double(minFreePages) * p.fraction).rounded()) }
}
