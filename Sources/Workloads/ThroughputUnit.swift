/// A unit of work a workload kind's throughput is counted in, named as its users count it.
///
/// A unit counts when the last of its references was issued, so faults, reclaim and steal
/// time that slow the references slow the units: a web server's requests per second, a
/// database's transactions per second (TPS), a batch job's pages swept per second, a trace's
/// references per second. The guest counters of each unit (`throughput.requests`, ...) and
/// their rates are declared in Simulation's `GuestCounters+Throughput.swift`.
public enum ThroughputUnit: Int, CaseIterable, Sendable {
    /// `web`: a request served (its document read page by page, its log line written).
    case requests
    /// `database`: a transaction of `refs_per_transaction` references.
    case transactions
    /// `batch`: a heap page referenced by a sweep.
    case pagesSwept
    /// `trace`: a reference of the trace replayed.
    case references
}
