/// Experiments built on the simulation: what capacity planners, operators and teachers run
/// `overcommit` for.
///
/// - sweeps over scenario keys with seeded replications, sharded for batch clusters and
///   merged back (`overcommit sweep`, `overcommit merge`);
/// - the consolidation-ratio search under an SLA (`overcommit consolidate`);
/// - memory-image analysis with the simulator's own sharing and compression code
///   (`overcommit analyze`);
/// - narrated step-by-step demos of each technique (`overcommit demo`).
///
/// Like the model libraries below it, this module does no I/O and holds no global state:
/// the command line reads the files, passes bytes and text in, and writes what comes out.
/// Sweeps and searches run several `Simulation`s at once on threads (`ParallelRunner`);
/// each simulation owns all of its state, and every result lands in its own slot, so the
/// output is the same whatever the number of threads.
///
/// Scenario keys are changed with `ScenarioOverride` (`--set host.memory=8GiB`) on the
/// parsed YAML tree before `ScenarioLoader` validates it; runs are measured by the named
/// `RunMetrics`, which sweep columns and `ServiceLevel` terms share.
public enum Experiments {}
