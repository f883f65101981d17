import OvercommitSupport
import PageContents

/// An access result and the simulated time it took, including any reclaim it had to do.
public struct AccessOutcome: Sendable, Equatable {
    public var result: AccessResult
    /// Nanoseconds of simulated time: the access itself, the fault, I/O and direct reclaim.
    public var cost: Int64
    @inlinable public init(_ result: AccessResult, cost: Int64) { self.result = result; self.cost = cost }
}
