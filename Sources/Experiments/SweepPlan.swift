import OvercommitSupport
import Scenarios
import Simulation

/// One `--set path=v1,v2,v3` of a sweep: a scenario key and the values it takes.
public struct SweepAxis: Sendable, Equatable {
    public var path: String
    public var values: [String]
    public init(path: String, values: [String]) { self.path = path; self.values = values }

    /// Parses `path=v1,v2,v3` (commas inside `[...]`, `{...}` or quotes do not split).
    public init(parsing text: String) throws(OverrideError) {
        let o = try ScenarioOverride(parsing: text)
        let vs = ScenarioOverride.splitValues(o.value)
        if let empty = vs.firstIndex(where: \.isEmpty) {
            throw OverrideError("--set \(text): value \(empty + 1) is empty; write path=v1,v2,v3")
        }
        self.init(path: o.path, values: vs)
    }

    public var description: String { path + "=" + values.joined(separator: ",") }
}

/// One slice of a sweep for a batch system: shard `index` of `count` runs the tasks whose
/// number modulo `count` is `index` (round-robin, so slices are balanced whatever the order
/// of the points).
public struct Shard: Sendable, Equatable, CustomStringConvertible {
    public var index: Int
    public var count: Int
    public init(index: Int, count: Int) { self.index = index; self.count = count }

    /// Parses `i/n` with 0 <= i < n.
    public init(parsing text: String) throws(OverrideError) {
        let parts = text.split(separator: "/", omittingEmptySubsequences: false)
        guard parts.count == 2, let i = Int(parts[0]), let n = Int(parts[1]) else {
            throw OverrideError(
                "--shard \(text): write INDEX/COUNT, e.g. 0/4 (indices start at 0, as Slurm's SLURM_ARRAY_TASK_ID=0-3 and Kubernetes' JOB_COMPLETION_INDEX do)")
        }
        guard n >= 1, n <= 100_000 else { throw OverrideError("--shard \(text): COUNT must be between 1 and 100000; got \(n)") }
        guard i >= 0, i < n else { throw OverrideError("--shard \(text): INDEX must be between 0 and \(n - 1); got \(i)") }
        self.init(index: i, count: n)
    }

    public var description: String { "\(index)/\(count)" }
}

/// What a sweep runs: the scenario, the cross product of the `--set` axes (the first axis
/// varies slowest) and `runs` seeded replications of every point.
///
/// Task `t` is replication `t % runs` of point `t / runs`. Seeds use common random numbers
/// across points: replication 0 runs with the point's scenario seed (so a one-run sweep
/// point is exactly `overcommit run` with the same `--set`), replication r > 0 with
/// `StableHash.mix(seed, r)`; every point sees the same seeds, so differences between
/// points are not masked by different random streams.
public struct SweepPlan: Sendable {
    public var scenarioFile: String
    public var scenarioName: String
    /// FNV-1a 64 of the scenario file's text: shards of different scenario files never merge.
    public var scenarioDigest: String
    public var axes: [SweepAxis]
    public var runs: Int
    /// Every point's scenario, validated, in point order.
    public var points: [ScenarioConfig]
    /// Every point's values, one per axis.
    public var pointValues: [[String]]

    public static let formatVersion = 1

    /// Builds and validates every point (a bad key or value fails before anything runs).
    public init(scenarioText: String, file: String, axes: [SweepAxis], fixed: [ScenarioOverride] = [], runs: Int) throws(OverrideError) {
        guard runs >= 1, runs <= 10_000 else { throw OverrideError("--runs must be between 1 and 10000; got \(runs)") }
        var seen: [String] = []
        for a in axes {
            if seen.contains(a.path) { throw OverrideError("--set \(a.path) is given twice; list every value in one --set (path=v1,v2,v3)") }
            seen.append(a.path)
        }
        scenarioFile = file
        scenarioDigest = String(StableHash.fnv1a64(scenarioText), radix: 16)
        self.axes = axes
        self.runs = runs
        var pointCount = 1
        for a in axes {
            let (n, overflow) = pointCount.multipliedReportingOverflow(by: a.values.count)
            guard !overflow, n * runs <= 10_000_000 else {
                throw OverrideError("the sweep has more than 10,000,000 tasks (points x runs); at most 10,000,000")
            }
            pointCount = n
        }
        let combos = SweepPlan.points(axes)
        pointValues = combos
        var configs: [ScenarioConfig] = []
        // Validate the scenario itself first (its own errors keep their lines).
        let base = try ScenarioOverrides.load(text: scenarioText, file: file, overrides: fixed)
        scenarioName = base.name
        // Two points that resolve to the same scenario would run the same simulation twice and
        // count it twice in the statistics (`--set host.memory=4GiB,4096MiB`): refused.
        var firstOf: [String: Int] = [:]
        for (i, c) in combos.enumerated() {
            let overrides = fixed + zip(axes, c).map { ScenarioOverride(path: $0.path, value: $1) }
            let config = try ScenarioOverrides.load(text: scenarioText, file: file, overrides: overrides)
            let resolved = ScenarioRenderer.yaml(config)
            if let j = firstOf[resolved] {
                func show(_ p: [String]) -> String { zip(axes, p).map { "\($0.path)=\($1)" }.joined(separator: " ") }
                throw OverrideError(
                    "points \(j) (\(show(combos[j]))) and \(i) (\(show(c))) are the same scenario once resolved; "
                        + "each would run twice: list every value once (use --runs for replications)")
            }
            firstOf[resolved] = i
            configs.append(config)
        }
        points = configs
        self.fixed = fixed
    }

    /// The cross product of the axes' values, the first axis varying slowest.
    public static func points(_ axes: [SweepAxis]) -> [[String]] {
        var combos: [[String]] = [[]]
        for a in axes { combos = combos.flatMap { c in a.values.map { c + [$0] } } }
        return combos
    }

    /// Overrides applied to every point (`--duration` and the like), before the axes.
    public var fixed: [ScenarioOverride] = []

    public var taskCount: Int { points.count * runs }

    /// The seed of replication `r` of `point` (common random numbers across points).
    public func seed(point: Int, replication r: Int) -> UInt64 {
        let s = points[point].seed
        return r == 0 ? s : StableHash.mix(s, UInt64(r))
    }

    /// The tasks of a shard (all tasks without one), in increasing order.
    public func tasks(_ shard: Shard?) -> [Int] {
        guard let shard else { return Array(0..<taskCount) }
        return Array(stride(from: shard.index, to: taskCount, by: shard.count))
    }

    /// The scenario of one task: the point's scenario with the replication's seed.
    public func scenario(task t: Int) -> ScenarioConfig {
        var c = points[t / runs]
        c.seed = seed(point: t / runs, replication: t % runs)
        return c
    }

    /// The lines that identify the sweep; two shards merge only when these are equal.
    var identityLines: [String] {
        ["format: \(SweepPlan.formatVersion)", "scenario_digest: \(scenarioDigest)"]
            + fixed.map { "fixed: \($0)" }
            + axes.map { "set: \($0.description)" }
            + ["runs: \(runs)", "metrics: " + RunMetrics.all.map(\.name).joined(separator: ",")]
    }

    /// FNV-1a 64 of the identity lines.
    public var planHash: String { String(StableHash.fnv1a64(identityLines.joined(separator: "\n")), radix: 16) }

    /// `plan.txt`: the plan in `key: value` lines, with the shard when the output is one.
    public func planText(shard: Shard?) -> String {
        var lines = ["# overcommit sweep plan", "scenario: \(scenarioFile)", "scenario_name: \(scenarioName)"]
        lines += identityLines
        lines += [
            "points: \(points.count)", "tasks: \(taskCount)",
            "seeds: replication 0 uses each point's scenario seed, replication r > 0 StableHash.mix(seed, r)",
            "plan_hash: \(planHash)",
        ]
        if let shard { lines += ["shard: \(shard)", "shard_tasks: \(tasks(shard).count)"] }
        return lines.joined(separator: "\n") + "\n"
    }
}
