import OvercommitSupport

/// Parameters of the static balloon policy.
public struct StaticBalloonParameters: BalloonPolicyParameters {
    /// How often the target is re-asserted (it never changes).
    public var interval: SimDuration = .seconds(10)

    public init() {}

    public static let tableName = "host.balloon_policy.static"
    public static let tableSummary = "Static balloons: each VM holds its guest.balloon static_target at all times (compare with a VM configured that much smaller)."
    public static let parameters: [ParameterInfo] = [intervalInfo(.seconds(10))]

    public init(from decoder: Decoder) throws {
        self.init()
        try ParameterDecoder(decoder).get("interval", &interval)
    }

    public func encode(to encoder: Encoder) throws {
        var e = ParameterEncoder(encoder)
        try e.set("interval", interval)
    }

    public func validationProblems() -> [ParameterProblem] {
        var p: [ParameterProblem] = []
        checkPositive("interval", interval, &p)
        return p
    }
}

/// A fixed balloon per VM: the target is the VM's `static_target` whatever the host does, as
/// an administrator sets a balloon by hand (`virsh setmem`, the QEMU monitor's `balloon`).
public struct StaticBalloonPolicy: BalloonPolicy {
    public let parameters: StaticBalloonParameters
    public var kind: BalloonPolicyKind { .static_ }
    public var interval: SimDuration { parameters.interval }

    public init(_ parameters: StaticBalloonParameters = StaticBalloonParameters()) { self.parameters = parameters }

    public mutating func targets(_ view: BalloonHostView) -> [Int] {
        view.vms.map { $0.settings.static_target.pages }
    }
}
