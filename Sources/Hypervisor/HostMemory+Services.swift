import GuestKernel
import HostPolicies
import OvercommitSupport

/// The host-wide services the engine runs at the host's synchronisation points: between them
/// each VM touches only its own state (and takes frames from the machine memory); at them the
/// host reads and changes every VM.
extension HostMemory {
    /// The reclaim scheduler's period: state, targets, large pages, host paging, limits.
    public func runScheduler(now: Int64) { scheduler.run(now: now, on: self) }

    /// One wake-up of the sharing scanner at the configured rate; returns the interval until
    /// the next wake-up.
    public func runSharingScanner() -> Int64 { sharingScanScheduler.wake(on: self) }

    /// The balloon policy's period: new balloon targets.
    public func runBalloonPolicy(now: Int64) { scheduler.runBalloonPolicy(now: now, on: self) }
    public var balloonPolicyInterval: Int64 { scheduler.balloonPolicyInterval.nanoseconds }

    /// End of an active-memory sampling period.
    public func sampleActiveMemory() { scheduler.sampleActiveMemory(on: self) }

    /// Closes the state-time accounting at the end of a run.
    public func finish(now: Int64) { scheduler.finish(now: now) }

    /// A VM that needs a frame waits while the host reclaims (the one synchronisation point a
    /// VM's own fault reaches).
    func reclaimForAllocation(requester: VirtualMachine) -> Int64 {
        scheduler.reclaimForAllocation(requester: requester, on: self)
    }
}
