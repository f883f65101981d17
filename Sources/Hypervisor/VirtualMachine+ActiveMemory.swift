import GuestKernel
import OvercommitSupport

/// Active memory: what share of the VM's memory the guest touches (ESX samples EPT accessed
/// bits of random pages each period; Waldspurger, OSDI 2002, section 5.2).
extension VirtualMachine {
    /// ESX's sample for one period: of `n` random pages (drawn from `rng`), how many the
    /// guest touched since the last period.
    func sampleAccessedPages(_ n: Int, rng: inout Xoshiro256) -> Int {
        let ept = guest.ept
        let pages = configuredPages
        var touched = 0
        for _ in 0..<n {
            let pfn = Int(rng.next(below: UInt64(pages)))
            if ept[pfn] & GuestKernel.eptAccessed != 0 { touched += 1 }
        }
        return touched
    }

    /// The true count for the period: how many of all its pages the guest touched, every EPT
    /// accessed bit read and cleared for the next period. Touches only this VM's guest, so
    /// the VMs do it in parallel.
    func clearAccessedPages() -> Int { guest.testAndClearAllEPTAccessed() }

    /// Records the end of a sampling period: the estimator's new estimate (a fraction of
    /// configured memory), the sampled pages found touched and the true count.
    func recordActivePeriod(estimate: Double, sampledTouched: Int, trueActive: Int) {
        activeEstimate = estimate
        self.sampledTouched = sampledTouched
        trueActivePages = trueActive
        activePeriods += 1
    }
}
