/// The balloon policies: the single list that `host.balloon_policy.kind`, the configuration
/// reference, `overcommit policies`, `--help`, the golden runs and the tests all follow.
///
/// Adding a policy is one new file (its `BalloonPolicyParameters` table and its
/// `BalloonPolicy`) and one line here; see docs/extending.md.
public enum BalloonPolicyRegistry {
    /// Every policy, in the order users see them.
    public static let policies: [any BalloonPolicyParameters.Type] = [
        ESXBalloonParameters.self,
        MOMBalloonParameters.self,
        ProxmoxBalloonParameters.self,
        XenServerBalloonParameters.self,
        HyperVBalloonParameters.self,
        StaticBalloonParameters.self,
        NoBalloonParameters.self,
    ]

    /// The policy of a host that names none (ESX's, as the host model is ESXi's).
    public static let defaultPolicy: any BalloonPolicyParameters.Type = ESXBalloonParameters.self
}
