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
public enum Experiments {}
