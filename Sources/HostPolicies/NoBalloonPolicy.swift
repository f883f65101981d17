import OvercommitSupport

/// Parameters of the `none` balloon policy.
public struct NoBalloonParameters: BalloonPolicyParameters {
    public static let kindName = "none"
    public static let summary = "no ballooning: every target is 0"
    /// How often the zero targets are re-asserted.
    public var interval: SimDuration = .seconds(10)

    public init() {}

    public static let tableSummary =
        "No ballooning: every balloon target is 0, so the host reclaims by sharing, compression and swap only (a host without balloon drivers or with ballooning disabled)."
    public static let ownFields: [ParameterField<Self>] = []

    public func makePolicy() -> any BalloonPolicy { NoBalloonPolicy(self) }
}

/// No ballooning, as on a host whose guests have no balloon driver (ESX Mem.CtlMaxPercent = 0,
/// libvirt without a memballoon device): every target is 0, so existing balloons deflate.
public struct NoBalloonPolicy: BalloonPolicy {
    public let parameters: NoBalloonParameters

    public init(_ parameters: NoBalloonParameters = NoBalloonParameters()) { self.parameters = parameters }

    public mutating func targets(_ view: BalloonHostView) -> [Int] {
        Array(repeating: 0, count: view.vms.count)
    }
}
