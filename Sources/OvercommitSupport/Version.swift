/// The version of overcommit, recorded with every run's outputs (as gem5 records its own)
/// and printed by `overcommit --version`.
public enum OvercommitVersion {
    /// Semantic version of the simulator; bump the minor version when simulated results change.
    public static let string = "0.8.0"
}
