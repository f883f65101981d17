import HostPolicies
import OvercommitSupport

/// When the page-sharing scanner runs and how much it scans, in either vocabulary of
/// `SharingConfig`: KSM's `pages_to_scan` per wake-up every `sleep_millisecs` (ksmd scans
/// one VM after the other), or ESX's per-VM rates (`scan_rate_per_vm`, `share_scan_time`,
/// capped by `scan_rate_total`) paid out as scan credit at every wake-up (`scan_tick`).
///
/// Each wake-up is a host synchronisation point: it calls the `SharingScan` mechanism on the
/// VMs in order. A state whose techniques leave out `share` stops the scanner, and so does
/// KSM's `run` tunable other than 1; in KSM's vocabulary `pages_to_scan` and
/// `sleep_millisecs` are read from the live tunables at every wake-up.
final class SharingScanScheduler {
    let config: SharingConfig
    /// KSM's tunables now (a policy program may change them while the host runs).
    var tunables: KSMTunables
    /// ESX vocabulary: pages each VM may still scan, carried between wake-ups (by VM index).
    private var credit: [Double] = []

    init(config: SharingConfig, managed: Bool) {
        self.config = config
        tunables = KSMTunables(config, managed: managed)
    }

    /// Starts pacing a new VM.
    func addVM() { credit.append(0) }

    /// One wake-up of the scanner; returns the nanoseconds until the next.
    func wake(on host: HostMemory) -> Int64 {
        let interval = config.usesESXRates ? config.scan_tick.nanoseconds : tunables.sleepNanoseconds
        guard tunables.run == 1, host.scheduler.machine.isEnabled(.share) else { return interval }
        let scanner = SharingScan()
        let on = host.vms.filter(\.poweredOn)
        // The hash memo pays once the scanner comes back to pages it hashed (after the first
        // full scan: a second with KSM's fast rates, an hour at ESX's default); until then
        // it stays at its smallest.
        host.sharing.hashMemo.reserve(pages: host.sharing.full_scans > 0 ? on.reduce(0) { $0 + $1.configuredPages } : 0)
        if config.usesESXRates {
            let seconds = Double(interval) / 1e9
            var rates = on.map { vm -> Double in
                if let r = config.scan_rate_per_vm { return r }
                if let t = config.share_scan_time { return Double(vm.configuredPages) / (Double(t.nanoseconds) / 1e9) }
                return config.scan_rate_total.map { $0 / Double(max(1, on.count)) } ?? 0
            }
            if let total = config.scan_rate_total {
                let sum = rates.reduce(0, +)
                if sum > total { rates = rates.map { $0 * total / sum } }
            }
            var quota: [Int] = []
            for (vm, r) in zip(on, rates) {
                credit[vm.index] += r * seconds
                let n = Int(credit[vm.index])
                credit[vm.index] -= Double(n)
                quota.append(n)
            }
            if let run = host.runJobs {
                let plan = zip(on, quota).map { vm, n in (vm: vm, count: host.sharing.hasFinishedPass(vm) ? 0 : n) }
                host.sharing.hashAhead(plan, runJobs: run)
            }
            for (vm, n) in zip(on, quota) where n > 0 { _ = scanner.scan(HostReclaimControl(vm: vm, nrToScan: n), on: host) }
            host.sharing.endFullScanIfDone(on: host)
            host.sharing.dropAheadHashes()
            return interval
        }
        // KSM: pages_to_scan per wake-up, one VM after the other.
        var budget = tunables.pages_to_scan
        if let run = host.runJobs { host.sharing.hashAhead(ksmPlan(on, budget: budget, host.sharing), runJobs: run) }
        defer { host.sharing.dropAheadHashes() }
        var guardCount = 0
        while budget > 0 && guardCount < 2 * max(1, on.count) + 2 {
            guard let vm = on.first(where: { !host.sharing.hasFinishedPass($0) }) else {
                host.sharing.endFullScanIfDone(on: host)
                guardCount += 1
                continue
            }
            let scanned = scanner.scan(HostReclaimControl(vm: vm, nrToScan: budget), on: host).scanned
            host.sharing.endFullScanIfDone(on: host)
            // A pass that cannot advance (a VM with no pages) ends the wake-up, never spins.
            guard scanned > 0 else { break }
            budget -= scanned
        }
        return interval
    }

    /// What a KSM wake-up with `budget` pages will scan, VM by VM: the VMs that have not
    /// finished their pass, in order, each up to the end of its pass (the full scan's end
    /// and the next pass, reached only when the budget exceeds every VM's remaining pages,
    /// are not planned: those pages are hashed as they are reached).
    func ksmPlan(_ on: [VirtualMachine], budget: Int, _ sharing: PageSharing) -> [(vm: VirtualMachine, count: Int)] {
        var left = budget
        var plan: [(vm: VirtualMachine, count: Int)] = []
        for vm in on where left > 0 && !sharing.hasFinishedPass(vm) {
            let n = min(left, vm.configuredPages - sharing.cursors[vm.index].steps)
            plan.append((vm, n))
            left -= n
        }
        return plan
    }
}
