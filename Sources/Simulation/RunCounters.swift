import OvercommitSupport

public typealias RunCounter = OutputCounter<SimulationResult>

/// The counters of the run itself (stats.txt `sim.<name>`, top level of `summary.json`).
public struct RunCounters: Sendable {
    public static let handles = RunCounters()
    public static let catalog = CounterCatalog<SimulationResult>(root: handles)

    public let simulated = RunCounter.derived("simulated_s", .seconds, decimals: 3, "simulated time") { w in
        Double(w.now.simulatedNs) / 1e9
    }
    public let endedEarly = RunCounter.flag("ended_early", "1 if the run stopped before its duration") { $0.endedEarly != nil }
}
