import OvercommitSupport

/// Parameters of the XenServer squeezed policy.
public struct XenServerBalloonParameters: BalloonPolicyParameters {
    public static let kindName = "xenserver"
    public static let summary = "XenServer squeezed: every VM at the same fraction between dynamic-min and dynamic-max so that they fit; stuck balloons skipped"
    /// squeezed's balancing loop period.
    public var interval: SimDuration = .seconds(10)
    /// Free memory kept out of the guests' share; nil = the host's minFree. squeezed itself
    /// keeps only Xen's 1 MiB low-memory emergency pool, but Xen never swaps guests: in this
    /// simulator free memory under minFree would start host compression and swap.
    public var host_reserve: ByteCount? = nil
    /// A balloon with a target it has not moved toward for this long is inactive
    /// (squeezed's `assume_balloon_driver_stuck_after`, 5 s).
    public var stuck_after: SimDuration = .seconds(5)

    public init() {}

    public static let tableSummary =
        "XenServer squeezed: every VM at the same fraction between its dynamic-min and dynamic-max so that guests fit the host; balloons that make no progress are left out."
    public static let ownFields: [ParameterField<Self>] = [
        .init(\.host_reserve, "host_reserve", "free memory kept out of the guests' share", .upToLargestHost, unset: "(host minFree)"),
        .init(\.stuck_after, "stuck_after", "a balloon that has not moved toward its target for this long is left out", .period),
    ]

    public func makePolicy() -> any BalloonPolicy { XenServerBalloonPolicy(self) }
}

/// XenServer's squeezed "proportional" policy (`squeeze.ml` of xapi-project/squeezed).
///
/// surplus = host free − reserve + Σ max(0, held − dynamic_min) over the active VMs, where
/// held is the machine memory a VM holds (Xen's memory_actual); x = surplus / Σ (dynamic_max
/// − dynamic_min), clamped to 0...1; every active VM's memory target is dynamic_min +
/// x · (dynamic_max − dynamic_min), so its balloon target is configured minus that. A VM is
/// inactive without a driver, or when its balloon has had a target to reach but has not moved
/// toward it for `stuck_after` (squeezed's stuckness monitor; here the clock starts when the
/// target differs from the balloon, so a balloon resting at its target is never stuck); it
/// becomes active again once it moves or reaches its target. Inactive VMs keep their target and
/// their memory counts as used.
public struct XenServerBalloonPolicy: BalloonPolicy {
    public let parameters: XenServerBalloonParameters

    struct Progress: Sendable { var balloon: Int; var lastProgressNs: Int64; var stuck: Bool }
    /// Per VM name: last balloon size seen and when it last moved toward its target.
    var progress: [String: Progress] = [:]

    public init(_ parameters: XenServerBalloonParameters = XenServerBalloonParameters()) { self.parameters = parameters }

    /// Names of the VMs currently considered stuck, in the order of the last view.
    public private(set) var stuckVMs: [String] = []

    public mutating func targets(_ view: BalloonHostView) -> [Int] {
        let now = view.timeNs
        var seen: [String: Progress] = [:]
        var active: [Bool] = []
        for vm in view.vms {
            var s = progress[vm.name] ?? Progress(balloon: vm.balloonPages, lastProgressNs: now, stuck: false)
            let delta = vm.balloonPages - s.balloon
            s.balloon = vm.balloonPages
            let request = vm.targetPages != vm.balloonPages
            let towardTarget = (delta > 0 && vm.targetPages > vm.balloonPages) || (delta < 0 && vm.targetPages < vm.balloonPages)
            if towardTarget || !request { s.lastProgressNs = now; s.stuck = false }
            if request && now - s.lastProgressNs > parameters.stuck_after.nanoseconds { s.stuck = true }
            seen[vm.name] = s
            active.append(vm.hasDriver && !s.stuck)
        }
        progress = seen
        stuckVMs = view.vms.filter { seen[$0.name]?.stuck == true }.map(\.name)

        let reserve = parameters.host_reserve?.pages ?? view.minFreePages
        var surplus = view.freePages - reserve, range = 0
        for (vm, on) in zip(view.vms, active) where on {
            let lo = vm.settings.dynamicMinPages(configuredPages: vm.configuredPages)
            let hi = vm.settings.dynamicMaxPages(configuredPages: vm.configuredPages)
            surplus += max(0, vm.consumedPages - lo)
            range += max(0, hi - lo)
        }
        let x = range > 0 ? min(max(Double(surplus) / Double(range), 0), 1) : 1
        return zip(view.vms, active).map { vm, on in
            guard on else { return vm.targetPages }
            let lo = vm.settings.dynamicMinPages(configuredPages: vm.configuredPages)
            let hi = max(lo, vm.settings.dynamicMaxPages(configuredPages: vm.configuredPages))
            return vm.configuredPages - (lo + Int((x * Double(hi - lo)).rounded(.down)))
        }
    }
}
