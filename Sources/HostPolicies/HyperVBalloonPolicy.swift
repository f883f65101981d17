import OvercommitSupport

/// Parameters of the Hyper-V Dynamic Memory policy.
public struct HyperVBalloonParameters: BalloonPolicyParameters {
    public static let kindName = "hyperv"
    public static let summary =
        "Hyper-V Dynamic Memory: each VM gets its demand plus its buffer (20%) within [minimum, maximum], by weight when short; hot-add above startup, balloon below"
    public static let tableSummary =
        "Hyper-V Dynamic Memory: every VM's memory follows its demand plus its memory buffer (20% by default), between its minimum RAM and its maximum (configured) memory; when the host is short, memory above the minimums goes by memory weight; memory above the VM's startup RAM is hot-added, memory below it is taken with the balloon. Per-VM knobs: guests[].balloon.startup_memory, minimum, memory_buffer, memory_weight."
    /// How often the host rebalances: hv_balloon posts the guest's memory status once a second.
    public var interval: SimDuration = .seconds(1)
    /// Free memory Hyper-V keeps out of the VMs' share; nil = the host's minFree (the
    /// simulator's host would otherwise start compressing and swapping).
    public var host_reserve: ByteCount? = nil

    public init() {}

    public static let ownFields: [ParameterField<Self>] = [
        .init(\.host_reserve, "host_reserve", "free memory kept out of the VMs' share", .upToLargestHost, unset: "(host minFree)")
    ]

    public func makePolicy() -> any BalloonPolicy { HyperVBalloonPolicy(self) }
}

/// Hyper-V Dynamic Memory's memory balancer, after Microsoft's documentation (`Set-VMMemory`,
/// https://learn.microsoft.com/powershell/module/hyper-v/set-vmmemory; "Feature Descriptions
/// for Linux and FreeBSD virtual machines on Hyper-V",
/// https://learn.microsoft.com/en-us/windows-server/virtualization/hyper-v/feature-descriptions-for-linux-and-freebsd-virtual-machines-on-hyper-v).
///
/// Per VM: demand is what the guest's Dynamic Memory driver reports (hv_balloon: Committed_AS
/// plus its balloon floor, `BalloonVMView.memoryDemandPages`); the target is demand ×
/// (1 + memory buffer), clamped to [Minimum RAM, Maximum RAM] (Maximum RAM is the VM's
/// configured memory; Minimum RAM defaults to Startup RAM).
///
/// When the host cannot give every VM its target (Hyper-V then drops the buffers, and memory
/// weight is what decides which VMs get memory): the memory the VMs may have is host free
/// memory less `host_reserve` plus what backs the VMs now; every VM keeps its minimum, and the
/// rest is split in proportion to memory weight, each VM capped at its target, what a capped
/// VM leaves going to the others (weight 0 VMs get only what the others leave; equal weights
/// when all are 0). The exact algorithm of Hyper-V's balancer is not published; this is the
/// proportional reading of the documented weight.
///
/// The result is a memory size per VM. Below what the guest sees (startup memory plus what was
/// hot-added) it is a balloon target; above it, a negative balloon target: the host hot-adds the
/// difference in 128 MiB chunks (`VirtualMachine.hotAdd`). Memory is never hot-removed (Linux
/// guests on Hyper-V give memory back through the balloon only). VMs without a driver keep
/// their target.
public struct HyperVBalloonPolicy: BalloonPolicy {
    public let parameters: HyperVBalloonParameters

    public init(_ parameters: HyperVBalloonParameters = HyperVBalloonParameters()) { self.parameters = parameters }

    /// Demand × (1 + buffer), clamped to [minimum, maximum] (pages).
    public static func wantedPages(_ vm: BalloonVMView) -> Int {
        let lo = vm.settings.hyperVMinimumPages(configuredPages: vm.configuredPages)
        let wanted = Int((Double(max(0, vm.memoryDemandPages)) * (1 + vm.settings.memory_buffer.fraction)).rounded(.up))
        return min(max(wanted, lo), vm.configuredPages)
    }

    /// Splits `pool` pages among VMs with minimums `lo` and targets `hi` (lo ≤ hi): every VM
    /// gets its minimum; the rest goes by `weights`, each VM capped at its target, leftovers
    /// redistributed among the VMs still below theirs. Returns each VM's memory.
    public static func distribute(pool: Int, lo: [Int], hi: [Int], weights: [Int]) -> [Int] {
        if hi.reduce(0, +) <= pool { return hi }
        var out = lo
        var rest = pool - lo.reduce(0, +)
        let weighted = lo.indices.filter { weights[$0] > 0 }
        if weighted.isEmpty {
            fill(&out, &rest, hi: hi, members: Array(lo.indices), weight: { _ in 1 })
        } else {
            fill(&out, &rest, hi: hi, members: weighted, weight: { Double(weights[$0]) })
            fill(&out, &rest, hi: hi, members: lo.indices.filter { weights[$0] <= 0 }, weight: { _ in 1 })
        }
        return out
    }

    /// Hands `rest` pages to `members` in proportion to `weight`, each capped at `hi`, what a
    /// capped member leaves going round again; the last pages rounding leaves go one each, by
    /// weight, lowest index first.
    static func fill(_ out: inout [Int], _ rest: inout Int, hi: [Int], members: [Int], weight: (Int) -> Double) {
        var open = members.filter { out[$0] < hi[$0] }
        while rest > 0 && !open.isEmpty {
            let total = open.reduce(0.0) { $0 + weight($1) }
            var given = 0
            for i in open {
                let n = min(Int((Double(rest) * weight(i) / total).rounded(.down)), hi[i] - out[i])
                out[i] += n
                given += n
            }
            rest -= given
            open = open.filter { out[$0] < hi[$0] }
            if given == 0 {
                for i in open.sorted(by: { (weight($0), -$0) > (weight($1), -$1) }) where rest > 0 {
                    out[i] += 1
                    rest -= 1
                }
                return
            }
        }
    }

    public mutating func targets(_ view: BalloonHostView) -> [Int] {
        let members = view.vms.indices.filter { view.vms[$0].hasDriver }
        let lo = members.map { view.vms[$0].settings.hyperVMinimumPages(configuredPages: view.vms[$0].configuredPages) }
        let hi = members.map { Self.wantedPages(view.vms[$0]) }
        let reserve = parameters.host_reserve?.pages ?? view.minFreePages
        let pool = view.freePages - reserve + members.reduce(0) { $0 + view.vms[$1].consumedPages }
        let memory = Self.distribute(pool: pool, lo: lo, hi: hi, weights: members.map { view.vms[$0].settings.memory_weight })
        var out = view.vms.map(\.targetPages)
        for (k, i) in members.enumerated() { out[i] = view.vms[i].onlinePages - memory[k] }
        return out
    }
}
