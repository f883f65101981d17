import OvercommitSupport

/// Parameters of the ESX balloon policy.
public struct ESXBalloonParameters: BalloonPolicyParameters {
    public static let kindName = "esx"
    public static let summary = "VMware ESX: balloon while the host is in the soft state, by shares with the idle memory tax; always enforce limits"
    /// ESX recomputes balloon targets about once a second, as often as vmmemctl polls.
    public var interval: SimDuration = .seconds(1)
    /// How much a target drops per run once the host no longer balloons (high or clear state),
    /// of configured memory. 1 % per run (a model choice; ESX does not publish its pace)
    /// empties a full 65 % balloon in 65 s, so memory returns over about a minute instead of
    /// at once, which would push the host straight back into soft.
    public var deflate_step = Percentage(percent: 1)

    public init() {}

    public static let tableSummary =
        "VMware ESX ballooning: in the soft state each VM's balloon grows by what share-based allocation (with the idle memory tax) takes from it; deflates gradually in high and clear; limits always enforced."
    public static let ownFields: [ParameterField<Self>] = [
        .init(
            \.deflate_step, "deflate_step", "drop of a balloon target per run in the high and clear states, of configured memory",
            .above(.percent(0), atMost: .percent(100), because: "at 0% balloons never deflate"))
    ]

    public func makePolicy() -> any BalloonPolicy { ESXBalloonPolicy(self) }
}

/// VMware ESX's balloon policy (Waldspurger, OSDI 2002, sections 3 and 5; ESXi 6.x states).
///
/// - Ballooning enabled in the host state (soft by default): target = current balloon + the
///   pages the share-based allocation (`ShareAllocation.reclaimTargets`, idle memory tax
///   included) takes from the VM now; a VM it spares keeps its balloon.
/// - High or clear: targets fall by `deflate_step` of configured memory per run.
/// - Hard or low (balloon not enabled; ESXi 6 compresses and swaps there): targets hold.
/// - Always: a VM above its limit balloons the excess, and a limit below configured memory
///   keeps `configured − limit` ballooned (ESX balloons a VM whose limit is below its
///   configured memory even when the host has free memory).
public struct ESXBalloonPolicy: BalloonPolicy {
    public let parameters: ESXBalloonParameters

    public init(_ parameters: ESXBalloonParameters = ESXBalloonParameters()) { self.parameters = parameters }

    public mutating func targets(_ view: BalloonHostView) -> [Int] {
        view.vms.map { vm in
            let limited = vm.limitPages == .max ? 0 : max(0, vm.configuredPages - vm.limitPages)
            let excess = vm.limitPages == .max ? 0 : max(0, vm.consumedPages - vm.limitPages)
            let enforced = max(limited, vm.balloonPages + excess)
            if view.ballooningEnabled {
                return max(enforced, vm.balloonPages + max(0, vm.reclaimTargetPages))
            }
            if view.state <= .clear {
                let step = max(1, Int((Double(vm.configuredPages) * parameters.deflate_step.fraction).rounded()))
                let deflated = max(0, min(vm.targetPages, vm.balloonPages) - step)
                return excess > 0 ? enforced : max(limited, deflated)
            }
            return max(vm.targetPages, excess > 0 ? enforced : limited)
        }
    }
}
