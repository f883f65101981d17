import OvercommitSupport

/// Parameters of the oVirt MOM balloon policy: the constants of MOM's `doc/balloon.rules`.
public struct MOMBalloonParameters: BalloonPolicyParameters {
    public static let kindName = "mom"
    public static let summary = "oVirt MOM default balloon.rules: shrink guests while host free memory is under 20%, grow them back otherwise, 5% per step"
    /// MOM's default policy interval (`policy-engine-interval`, 10 s).
    public var interval: SimDuration = .seconds(10)
    /// Host free memory (of usable memory) below which the host is under pressure.
    public var pressure_threshold = Percentage(percent: 20)
    /// Host free memory at or below which pressure is critical: guests are pushed to swap.
    public var pressure_critical = Percentage(percent: 5)
    /// Free memory an unconstrained guest keeps, of its current memory.
    public var min_guest_free = Percentage(percent: 20)
    /// Largest change of a guest's memory per step, of its current memory.
    public var max_balloon_change = Percentage(percent: 5)
    /// Smallest change worth a balloon operation, of its current memory.
    public var min_balloon_change = Percentage(percent: 0.25)

    public init() {}

    public static let tableSummary =
        "oVirt MOM's default balloon.rules: under host pressure shrink every guest toward its used memory plus a free margin scaled by the pressure, else grow it back, a few percent per step."
    public static let ownFields: [ParameterField<Self>] = [
        .init(
            \.pressure_threshold, "pressure_threshold", "host free memory (of usable) below which guests are shrunk",
            .above(.percent(0), atMost: .percent(100))),
        .init(
            \.pressure_critical, "pressure_critical", "host free memory at or below which guests are shrunk below their used memory (forced to swap)", .share),
        .init(\.min_guest_free, "min_guest_free", "free memory an unconstrained guest keeps, of its current memory", .share),
        .init(\.max_balloon_change, "max_balloon_change", "largest change of a guest's memory per step, of its current memory", .share),
        .init(\.min_balloon_change, "min_balloon_change", "smaller changes of a guest's memory are skipped, of its current memory", .share),
    ]

    public func consistencyProblems() -> [ParameterProblem] {
        guard pressure_critical > pressure_threshold else { return [] }
        return [("pressure_critical", "must not exceed pressure_threshold (\(pressure_threshold)); got \(pressure_critical)")]
    }

    public func makePolicy() -> any BalloonPolicy { MOMBalloonPolicy(self) }
}

/// oVirt MOM's default auto-balloon policy (`doc/balloon.rules` of oVirt/mom).
///
/// Host free fraction h = free / usable. With M the guest's current memory (configured −
/// balloon), U its used memory (M − MemFree) and `minimum` its guaranteed memory:
/// - h < pressure_threshold (shrink): the guest may keep g = min_guest_free × h / threshold
///   free, or h − 5 % when h ≤ pressure_critical (negative: the guest must swap);
///   new M = max(M × (1 − max_change), minimum, U + g × M), applied only if it does not grow M.
/// - otherwise (grow), for a ballooned guest: new M = min(configured,
///   max(M × (1 + max_change), minimum, U + min_guest_free × M)).
/// A new M is set only when it differs from M by more than min_balloon_change × M; otherwise
/// the target stays. MOM averages its statistics over recent samples; this policy reads the
/// current ones.
public struct MOMBalloonPolicy: BalloonPolicy {
    public let parameters: MOMBalloonParameters
    /// balloon.rules' offset under critical pressure: guest free = host free − 5 %.
    public static let criticalGuestFreeOffset = 0.05

    public init(_ parameters: MOMBalloonParameters = MOMBalloonParameters()) { self.parameters = parameters }

    public mutating func targets(_ view: BalloonHostView) -> [Int] {
        let p = parameters
        let hostFree = view.usablePages > 0 ? Double(view.freePages) / Double(view.usablePages) : 0
        let pressure = hostFree < p.pressure_threshold.fraction
        return view.vms.map { vm in
            let current = Double(vm.guestMemoryPages)
            let used = current - Double(vm.guestFreePages)
            let guaranteed = Double(vm.settings.minimumPages(configuredPages: vm.configuredPages))
            var size: Double
            if pressure {
                let guestFree =
                    hostFree <= p.pressure_critical.fraction
                    ? hostFree - Self.criticalGuestFreeOffset
                    : p.min_guest_free.fraction * hostFree / p.pressure_threshold.fraction
                size = max(current * (1 - p.max_balloon_change.fraction), guaranteed, used + guestFree * current)
                guard size <= current else { return vm.targetPages }
            } else {
                guard vm.guestMemoryPages < vm.configuredPages else { return vm.targetPages }
                size = max(current * (1 + p.max_balloon_change.fraction), guaranteed, used + p.min_guest_free.fraction * current)
                size = min(size, Double(vm.configuredPages))
            }
            guard abs(size - current) > p.min_balloon_change.fraction * current else { return vm.targetPages }
            return vm.configuredPages - Int(size.rounded(.down))
        }
    }
}
