import OvercommitSupport
import Workloads

/// What a guest's workloads achieved so far: the units of work of each kind's throughput
/// unit, and the vCPU time of the workloads that count one, with and without stalls.
public struct GuestThroughput: Sendable, Equatable {
    /// Simulated time at which the figures were read (the rates divide by it).
    public var timeNs: Int64 = 0
    /// Units completed, indexed by `ThroughputUnit.rawValue`.
    public var units: [Int] = Array(repeating: 0, count: ThroughputUnit.allCases.count)
    /// Of the workloads with a throughput unit: what their accesses would have cost had none
    /// stalled (one `memory_access` each) plus their think time.
    public var unstalledNs: Int64 = 0
    /// Of the same workloads: what their accesses cost (faults, I/O, reclaim included), their
    /// think time and the vCPU time the host stole from them.
    public var spentNs: Int64 = 0
    /// vCPU time the host took from the guest as steal time.
    public var stealNs: Int64 = 0

    public init() {}

    /// The count of `unit`.
    public subscript(_ unit: ThroughputUnit) -> Int { units[unit.rawValue] }
}

extension GuestCounters {
    /// The guest's workloads' throughput in the units their users count: web requests,
    /// database transactions, batch pages swept, trace references (`ThroughputUnit`), as
    /// totals and per simulated second. A unit counts when its last reference was issued, so
    /// faults, reclaim and steal time slow it.
    public struct ThroughputGroup: CounterGroup {
        public static let key = "throughput"

        public let requests = GuestCounters.units(.requests, "requests", "web requests served")
        public let transactions = GuestCounters.units(.transactions, "transactions", "database transactions completed")
        public let pagesSwept = GuestCounters.units(.pagesSwept, "pages_swept", "heap pages referenced by batch sweeps")
        public let references = GuestCounters.units(.references, "references", "trace references replayed")
        public let requestsRate = GuestCounters.rate(.requests, "requests_per_s", "web requests served per simulated second")
        public let transactionsRate = GuestCounters.rate(
            .transactions, "transactions_per_s", "database transactions per simulated second (TPS)")
        public let pagesSweptRate = GuestCounters.rate(.pagesSwept, "pages_swept_per_s", "batch heap pages swept per simulated second")
        public let referencesRate = GuestCounters.rate(.references, "references_per_s", "trace references replayed per simulated second")
    }

    static func units(_ unit: ThroughputUnit, _ name: String, _ summary: String) -> GuestCounter {
        .events(name, sampled: true, summary) { $0.work[unit] }
    }

    static func rate(_ unit: ThroughputUnit, _ name: String, _ summary: String) -> GuestCounter {
        .derived(name, .perSecond, decimals: 1, sampled: true, summary) { w in
            let seconds = Double(w.now.work.timeNs - (w.start?.work.timeNs ?? 0)) / 1e9
            return seconds > 0 ? Double(w.increase { $0.work[unit] }) / seconds : 0
        }
    }

    /// Throughput achieved against throughput unstalled: the vCPU time the workloads' accesses
    /// and think time would have taken with every access a hit and nothing stolen, over what
    /// they took (faults, I/O, reclaim and steal included); 1 when no workload counts units.
    @Sendable static func throughputRatio(_ w: CounterWindow<GuestState>) -> Double {
        let spent = w.increase { $0.work.spentNs }
        return spent > 0 ? Double(w.increase { $0.work.unstalledNs }) / Double(spent) : 1
    }
}
