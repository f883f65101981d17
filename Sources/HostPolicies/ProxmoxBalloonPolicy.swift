import OvercommitSupport

/// Parameters of the Proxmox VE auto-ballooning policy (pvestatd).
public struct ProxmoxBalloonParameters: BalloonPolicyParameters {
    public static let kindName = "proxmox"
    public static let summary = "Proxmox VE pvestatd auto-ballooning: aim host memory use at 80%, at most 100MiB per VM per round, split by shares"
    /// pvestatd's status loop runs every 10 s.
    public var interval: SimDuration = .seconds(10)
    /// Host memory use the policy aims at (node option `ballooning-target`, default 80 %).
    public var target = Percentage(percent: 80)
    /// Largest change of one VM's memory per round (pvestatd's `$maxchange`, 100 MiB).
    public var max_change: ByteCount = .mib(100)
    /// Requests this small are ignored (compute_alg1 acts only beyond ±10 MiB).
    public var dead_band: ByteCount = .mib(10)

    public init() {}

    public static let tableSummary =
        "Proxmox VE auto-ballooning (pvestatd, PVE::AutoBalloon): move host memory use toward 80%, at most 100MiB per VM per round, split by shares between each VM's minimum and configured memory."
    public static let ownFields: [ParameterField<Self>] = [
        .init(\.target, "target", "host memory use to aim at (node option ballooning-target)", .share),
        .init(\.max_change, "max_change", "largest change of one VM's memory per round", .atLeastOnePage),
        .init(\.dead_band, "dead_band", "host-wide changes this small are not made", .upToLargestHost),
    ]

    public func makePolicy() -> any BalloonPolicy { ProxmoxBalloonPolicy(self) }
}

/// Proxmox VE's auto-ballooning: `auto_balloning` in pvestatd and `compute_alg1` in
/// `PVE/AutoBalloon.pm`.
///
/// goal = usable × target − used memory (positive: give guests memory; negative: take it).
/// Only VMs with a driver, a `minimum` and non-zero shares take part. Memory above each VM's
/// minimum is split in proportion to `proxmox_shares`, each VM's memory clamped to
/// [minimum, configured] and moved at most `max_change` this round; VMs that hit a bound drop
/// out and the split repeats until the goal is met or nothing moves. A grow first serves the
/// VMs short of memory (MemFree ≤ 25 % of their minimum, or below their minimum), a shrink
/// the VMs with spare memory; the rest of the VMs are used only when that made no progress.
/// VMs that do not change keep their target.
public struct ProxmoxBalloonPolicy: BalloonPolicy {
    public let parameters: ProxmoxBalloonParameters
    /// compute_alg1 counts a VM as short of memory unless MemFree > 25 % of its minimum.
    public static let shortOfMemoryFraction = 0.25

    public init(_ parameters: ProxmoxBalloonParameters = ProxmoxBalloonParameters()) { self.parameters = parameters }

    struct Member { let index, memory, minimum, maximum, shares: Int }

    public mutating func targets(_ view: BalloonHostView) -> [Int] {
        let used = view.usablePages - view.freePages
        let goal = Int((Double(view.usablePages) * parameters.target.fraction).rounded(.down)) - used
        var members: [Member] = []
        var short: [Int] = [], spare: [Int] = []
        for (i, vm) in view.vms.enumerated() where vm.hasDriver && vm.settings.minimum != nil && vm.settings.proxmox_shares > 0 {
            let m = Member(
                index: i, memory: vm.guestMemoryPages, minimum: vm.settings.minimumPages(configuredPages: vm.configuredPages),
                maximum: vm.configuredPages, shares: vm.settings.proxmox_shares)
            let hasSpare = Double(vm.guestFreePages) > Double(m.minimum) * Self.shortOfMemoryFraction && m.memory >= m.minimum
            if hasSpare { spare.append(members.count) } else { short.append(members.count) }
            members.append(m)
        }
        var memory: [Int?] = Array(repeating: nil, count: members.count)
        let band = parameters.dead_band.pages
        if goal > band {
            let rest = change(members, &memory, short, goal)
            if rest >= goal { _ = change(members, &memory, Array(members.indices), rest) }
        } else if goal < -band {
            let rest = change(members, &memory, spare, goal)
            if rest <= goal { _ = change(members, &memory, Array(members.indices), rest) }
        }
        var out = view.vms.map(\.targetPages)
        for (k, m) in members.enumerated() { if let new = memory[k] { out[m.index] = view.vms[m.index].configuredPages - new } }
        return out
    }

    /// compute_alg1's `$change_func`: moves `amount` pages of guest memory (negative: takes
    /// them) among `ids`, recording new memory sizes in `memory`; returns what is left.
    func change(_ members: [Member], _ memory: inout [Int?], _ ids: [Int], _ amount: Int) -> Int {
        let maxChange = parameters.max_change.pages
        var rest = amount, repeatLoop = true, progress = true
        var done = Set<Int>()
        var rounds = 0
        while rest != 0 && repeatLoop && progress && rounds < 64 {
            rounds += 1
            repeatLoop = false; progress = false
            var sharesTotal = 0, allocOld = 0
            for k in ids where !done.contains(k) {
                allocOld += (memory[k] ?? members[k].memory) - members[k].minimum
                sharesTotal += members[k].shares
            }
            guard sharesTotal > 0 else { break }
            let allocNew = Double(allocOld + rest)
            var changes = 0
            for k in ids where !done.contains(k) {
                let m = members[k]
                var desired = m.minimum + Int(allocNew / Double(sharesTotal) * Double(m.shares))
                if desired > m.maximum { desired = m.maximum; repeatLoop = true } else if desired < m.minimum { desired = m.minimum; repeatLoop = true }
                let new: Int
                if amount > 0 && desired > m.memory {
                    new = min(m.memory + maxChange, desired)
                } else if desired < m.memory {
                    new = max(m.memory - maxChange, desired)
                } else {
                    done.insert(k); continue
                }
                if new != m.memory {
                    let step = new - (memory[k] ?? m.memory)
                    memory[k] = new
                    if step != 0 { changes += step; progress = true; repeatLoop = true }
                }
            }
            rest -= changes
        }
        return rest
    }
}
