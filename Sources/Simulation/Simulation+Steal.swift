import Hypervisor
import OvercommitSupport
import Workloads

/// The CPU time of the host's background work and where it went: onto cores the guests'
/// vCPUs left idle, or taken from the vCPUs as steal time.
///
/// Background work is what host threads do on their own CPUs, not a vCPU's: ksmd's hashing
/// and comparing (`costs.page_hash`, `page_compare`), the compression and swap-out of the
/// reclaim scheduler's host paging (`costs.compress`, `host.cpu.swap_out`), and the VMM's
/// handling of balloon inflations, deflations and free page reports (`host.cpu.balloon_page`).
/// Work done while a vCPU waits (a second-level fault, a decompression or swap-in on access,
/// reclaim in an allocation stall) is already charged to that vCPU's access and is not counted
/// again. All times are nanoseconds.
public struct HostCPUAccount: Sendable, Equatable {
    /// The sharing scanner (also hashing the subpages of large pages ahead of a break).
    public var scanNs: Int64 = 0
    /// Compression by host paging (the reclaim scheduler's period and limits).
    public var compressNs: Int64 = 0
    /// Swap-out submission by host paging, `host.cpu.swap_out` per page.
    public var swapOutNs: Int64 = 0
    /// Balloon inflations and deflations and free page reports, `host.cpu.balloon_page` per page.
    public var balloonNs: Int64 = 0
    /// Work done and not yet attributed (it is attributed at the next round of ticks).
    public var pendingNs: Int64 = 0
    /// Work that ran on cores the runnable vCPUs left idle.
    public var absorbedNs: Int64 = 0
    /// Work attributed to the guests' vCPUs as steal (charged at each guest's next ticks).
    public var attributedNs: Int64 = 0
    /// Steal taken from the guests' slices: the guests' `steal_s` summed.
    public var chargedNs: Int64 = 0

    public init() {}

    /// All the background work so far.
    public var totalNs: Int64 { scanNs + compressNs + swapOutNs + balloonNs }
}

extension Simulation {
    /// Cumulative readings of the host's background work, to take the work of one host event
    /// as a difference.
    struct HostWorkMeter {
        var scanNs: Int64
        var compressNs: Int64
        var swapOuts: Int
    }

    func hostWorkMeter() -> HostWorkMeter {
        HostWorkMeter(scanNs: host.sharing.cpuNs, compressNs: host.compressorNs, swapOuts: host.vms.reduce(0) { $0 + $1.stats.swapOuts })
    }

    /// Adds the host work done since `before` (a host event: the scheduler's period, a
    /// sharing scanner wake-up) to the account.
    func recordHostWork(since before: HostWorkMeter) {
        let after = hostWorkMeter()
        hostCPU.scanNs += after.scanNs - before.scanNs
        hostCPU.compressNs += after.compressNs - before.compressNs
        let swap = Int64(after.swapOuts - before.swapOuts) * config.host.cpu.swap_out.nanoseconds
        hostCPU.swapOutNs += swap
        hostCPU.pendingNs += after.scanNs - before.scanNs + after.compressNs - before.compressNs + swap
    }

    /// Balloon pages and free page reports the VMM handled for `g` so far.
    func balloonPagesHandled(_ g: GuestInstance) -> Int {
        g.kernel.vmstat.balloon_inflate + g.kernel.vmstat.balloon_deflate + g.vm.stats.reportedFreed
    }

    /// Counts the balloon and free-page-reporting work the VMM did since the last reading.
    func recordBalloonWork() {
        let perPage = config.host.cpu.balloon_page.nanoseconds
        for g in guests {
            let n = balloonPagesHandled(g)
            let ns = Int64(n - g.balloonPagesSeen) * perPage
            g.balloonPagesSeen = n
            hostCPU.balloonNs += ns
            hostCPU.pendingNs += ns
        }
    }

    /// Whether a guest's vCPUs want to run at its next tick: powered on, not panicked, with a
    /// workload left.
    func isRunnable(_ g: GuestInstance) -> Bool {
        g.vm.poweredOn && !g.kernel.panicked && g.workloads.contains { !$0.0.isFinished }
    }

    /// Attributes the host work done since the last attribution (every synchronisation point
    /// before a round of ticks), as KVM's steal time comes about: host threads first run on
    /// the cores the runnable vCPUs leave idle (`host.cpus` minus their vCPUs, over the time
    /// since the last attribution); the rest is spread over the runnable vCPUs evenly (CFS
    /// shares a busy CPU between its runnable threads), at most the time that passed per
    /// vCPU (more stays pending: the host's own work queues). Each guest owes its vCPUs' part
    /// and pays it at its next ticks (`takeSteal`). Integer nanoseconds, conserved:
    /// attributed = the guests' owed + charged.
    func attributeHostWork() {
        recordBalloonWork()
        let window = now - lastStealAttribution
        lastStealAttribution = now
        let runnable = guests.filter(isRunnable)
        let vcpus = Int64(runnable.reduce(0) { $0 + $1.config.vcpus })
        let idleCores = max(0, Int64(config.host.cpus) - vcpus)
        let absorbed = min(hostCPU.pendingNs, idleCores * window)
        hostCPU.pendingNs -= absorbed
        hostCPU.absorbedNs += absorbed
        guard vcpus > 0 else { return }
        let stolen = min(hostCPU.pendingNs, vcpus * window)
        guard stolen > 0 else { return }
        hostCPU.pendingNs -= stolen
        hostCPU.attributedNs += stolen
        let perVCPU = stolen / vcpus
        var rest = stolen - perVCPU * vcpus
        for g in runnable {
            let n = Int64(g.config.vcpus)
            let extra = min(rest, n)
            rest -= extra
            g.stealOwedNs += perVCPU * n + extra
        }
    }

    /// The steal a guest pays at this tick: what it owes, at most its vCPUs' tick.
    func takeSteal(_ g: GuestInstance) {
        let steal = min(g.stealOwedNs, config.tick.nanoseconds * Int64(g.config.vcpus))
        g.stealOwedNs -= steal
        g.stealThisTick = steal
        g.stealNs += steal
        hostCPU.chargedNs += steal
    }

    /// What guest `g`'s workloads achieved so far (`GuestCounters.throughput`).
    func guestThroughput(_ g: GuestInstance) -> GuestThroughput {
        var w = GuestThroughput()
        w.timeNs = now
        w.stealNs = g.stealNs
        let ma = config.costs.memory_access.nanoseconds
        for (workload, ctx) in g.workloads {
            guard let unit = workload.kind.parameterTable.throughputUnit else { continue }
            let s = ctx.stats
            w.units[unit.rawValue] += s.units(unit)
            w.unstalledNs += Int64(s.references + s.fileReads + s.fileWrites) * ma + s.thinkNs
            w.spentNs += s.accessNs + s.thinkNs + s.stealNs
        }
        return w
    }
}
