import OvercommitSupport

/// Parameters of the `none` balloon policy.
public struct NoBalloonParameters: BalloonPolicyParameters {
    /// How often the zero targets are re-asserted.
    public var interval: SimDuration = .seconds(10)

    public init() {}

    public static let tableName = "host.balloon_policy.none"
    public static let tableSummary = "No ballooning: every balloon target is 0, so the host reclaims by sharing, compression and swap only (a host without balloon drivers or with ballooning disabled)."
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

/// No ballooning, as on a host whose guests have no balloon driver (ESX Mem.CtlMaxPercent = 0,
/// libvirt without a memballoon device): every target is 0, so existing balloons deflate.
public struct NoBalloonPolicy: BalloonPolicy {
    public let parameters: NoBalloonParameters
    public var kind: BalloonPolicyKind { .none }
    public var interval: SimDuration { parameters.interval }

    public init(_ parameters: NoBalloonParameters = NoBalloonParameters()) { self.parameters = parameters }

    public mutating func targets(_ view: BalloonHostView) -> [Int] {
        Array(repeating: 0, count: view.vms.count)
    }
}
