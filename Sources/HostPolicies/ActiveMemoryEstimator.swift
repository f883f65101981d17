import OvercommitSupport

/// How the host samples a VM's active memory, after ESX (Waldspurger, OSDI 2002, section 5.3).
public struct ActiveMemoryEstimatorConfig: ParameterTable {
    /// Random pages of the VM sampled (invalidated, then checked for a touch) per period.
    public var sample_pages: Int = 100
    /// Length of one sampling period: 60 s in today's ESXi (30 s in the paper).
    public var period: SimDuration = .seconds(60)
    /// Gain of the fast moving average. ESX does not publish its gains; 0.5 weighs the newest
    /// period as much as all history, so an increase shows at once.
    public var fast_weight: Double = 0.5
    /// Gain of the slow moving average: 1/8 (half-life about five periods, the gain TCP uses
    /// for its round-trip estimate), so an estimate falls over minutes, not one period.
    public var slow_weight: Double = 0.125

    public init() {}

    public static let tableName = "host.active_sampling"
    public static let tableSummary =
        "Statistical active-memory sampling per VM (ESX: random pages invalidated each period, smoothed with fast and slow moving averages)."
    public static let fields: [ParameterField<Self>] = [
        .init(\.sample_pages, "sample_pages", "random pages of each VM sampled per period", .range(1...1_000_000), unit: "pages"),
        .init(\.period, "period", "length of one sampling period (60s in ESXi, 30s in the 2002 paper)", .period),
        .init(\.fast_weight, "fast_weight", "gain of the fast moving average of the touched fraction (0 < w <= 1)", .above(0, atMost: 1)),
        .init(\.slow_weight, "slow_weight", "gain of the slow moving average of the touched fraction (0 < w <= fast_weight)", .above(0, atMost: 1)),
    ]

    public func consistencyProblems() -> [ParameterProblem] {
        guard slow_weight > fast_weight, fast_weight > 0, fast_weight <= 1 else { return [] }
        return [("slow_weight", "must not exceed fast_weight (\(formatShortest(fast_weight))); got \(formatShortest(slow_weight))")]
    }
}

/// A VM's active fraction estimated from sampled pages, as ESX does.
///
/// Each period the host samples `sample_pages` random pages and counts those touched. The
/// estimate is the largest of a slow and a fast exponentially weighted moving average of
/// touched/sampled and the last period's own fraction (Waldspurger 2002, 5.3): it rises as
/// soon as a VM becomes active and decays slowly when it goes idle, so the idle memory tax
/// does not take memory from a VM that paused briefly. Before any period is known the VM is
/// assumed fully active (no tax on an unmeasured VM); the first period seeds both averages.
public struct ActiveMemoryEstimator: Sendable {
    public let config: ActiveMemoryEstimatorConfig
    public private(set) var fast: Double = 1
    public private(set) var slow: Double = 1
    /// Fraction touched in the last period with samples (nil before the first).
    public private(set) var lastPeriod: Double? = nil
    public private(set) var periods = 0

    public init(config: ActiveMemoryEstimatorConfig = ActiveMemoryEstimatorConfig()) { self.config = config }

    /// Adds one finished period: `touched` of `sampled` pages were accessed. A period without
    /// samples (a VM with no mapped page) changes nothing.
    public mutating func addPeriod(touched: Int, sampled: Int) {
        guard sampled > 0 else { return }
        let x = Double(min(max(touched, 0), sampled)) / Double(sampled)
        if periods == 0 {
            fast = x; slow = x
        } else {
            fast += config.fast_weight * (x - fast)
            slow += config.slow_weight * (x - slow)
        }
        lastPeriod = x
        periods += 1
    }

    /// Estimated active fraction, 0...1: max(fast average, slow average, last period).
    public var estimate: Double { max(fast, slow, lastPeriod ?? 1) }
}
