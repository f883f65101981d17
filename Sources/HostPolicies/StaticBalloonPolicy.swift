import OvercommitSupport

/// Parameters of the static balloon policy.
public struct StaticBalloonParameters: BalloonPolicyParameters {
    public static let kindName = "static"
    public static let summary = "static balloon: each VM holds its static_target balloon at all times"
    /// How often the target is re-asserted (it never changes).
    public var interval: SimDuration = .seconds(10)

    public init() {}

    public static let tableSummary =
        "Static balloons: each VM holds its guest.balloon static_target at all times (compare with a VM configured that much smaller)."
    public static let ownFields: [ParameterField<Self>] = []

    public func makePolicy() -> any BalloonPolicy { StaticBalloonPolicy(self) }
}

/// A fixed balloon per VM: the target is the VM's `static_target` whatever the host does, as
/// an administrator sets a balloon by hand (`virsh setmem`, the QEMU monitor's `balloon`).
public struct StaticBalloonPolicy: BalloonPolicy {
    public let parameters: StaticBalloonParameters

    public init(_ parameters: StaticBalloonParameters = StaticBalloonParameters()) { self.parameters = parameters }

    public mutating func targets(_ view: BalloonHostView) -> [Int] {
        view.vms.map { $0.settings.static_target.pages }
    }
}
