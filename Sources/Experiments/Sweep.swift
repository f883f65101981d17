import Dispatch
import Foundation
import OvercommitSupport
import Simulation

/// Runs independent jobs on several threads; results land in their own slot, so the output
/// does not depend on which thread ran what or when.
public enum ParallelRunner {
    final class Slots<T>: @unchecked Sendable {
        let lock = NSLock()
        var next = 0
        var results: [T?]
        init(_ n: Int) { results = Array(repeating: nil, count: n) }
        func take() -> Int { lock.lock(); defer { lock.unlock() }; let i = next; next += 1; return i }
        func put(_ i: Int, _ v: T) { lock.lock(); results[i] = v; lock.unlock() }
    }

    /// `work(i)` for i in 0..<count on up to `jobs` threads; results in index order.
    public static func map<T>(count: Int, jobs: Int, _ work: @escaping @Sendable (Int) -> T) -> [T] {
        let slots = Slots<T>(count)
        let threads = max(1, min(jobs, count))
        if threads == 1 {
            for i in 0..<count { slots.results[i] = work(i) }
        } else {
            DispatchQueue.concurrentPerform(iterations: threads) { _ in
                while true {
                    let i = slots.take()
                    guard i < count else { return }
                    slots.put(i, work(i))
                }
            }
        }
        return slots.results.map { $0! }
    }
}

/// One run of a sweep: its task, and its metrics written as they appear in `runs.csv`.
public struct SweepRun: Sendable, Equatable {
    public var task: Int
    public var point: Int
    public var replication: Int
    public var seed: UInt64
    /// Why the run stopped early (host out of memory), if it did.
    public var endedEarly: Bool
    /// Metric values as fixed-decimal text, in `RunMetrics.all` order (statistics are computed
    /// from this text, so a merged sweep gives the same `sweep.csv` as an unsharded one).
    public var fields: [String]
}

/// A sweep stopped on request (`SimulationOptions.stop`) before all its runs were done.
public struct SweepStopped: Error, CustomStringConvertible {
    public var reason: String
    public var description: String { "the sweep was stopped (\(reason))" }
}

/// Runs the tasks of a sweep plan and writes its files.
public enum Sweep {
    /// Runs `tasks` (all, or one shard's) on `jobs` threads. `setup` turns a scenario into
    /// a simulation (the CLI passes the traces and images the scenario reads); `finished`
    /// is called after each run with the number done (from any thread).
    public static func run(
        _ plan: SweepPlan, tasks: [Int], jobs: Int, options: SimulationOptions,
        finished: (@Sendable (Int) -> Void)? = nil
    ) throws -> [SweepRun] {
        let counter = ParallelRunner.Slots<Int>(0)
        let outcome: [Result<SweepRun, any Error>] = ParallelRunner.map(count: tasks.count, jobs: jobs) { k in
            let t = tasks[k]
            // A stop request (SIGINT) skips the runs not started yet.
            if let why = options.stop?() { return .failure(SweepStopped(reason: why)) }
            let config = plan.scenario(task: t)
            let sim: Simulation
            do { sim = try Simulation(config: config, options: options) } catch { return .failure(error) }
            let r = sim.run()
            let fields = zip(RunMetrics.all, RunMetrics.values(r)).map { formatFixed($1, $0.decimals) }
            if let f = finished { f(counter.take() + 1) }
            return .success(
                SweepRun(
                    task: t, point: t / plan.runs, replication: t % plan.runs, seed: config.seed,
                    endedEarly: r.endedEarly != nil, fields: fields))
        }
        return try outcome.map { try $0.get() }
    }

    /// The output files of a whole sweep (`plan.txt`, `runs.csv`, `sweep.csv`), or of one
    /// shard (`plan.txt` with the shard, `runs.csv` with its tasks).
    public static func files(_ plan: SweepPlan, runs: [SweepRun], shard: Shard?) -> [(name: String, contents: String)] {
        let header = plan.planText(shard: shard)
        let runsCSV = runsCSV(axes: plan.axes, pointValues: plan.pointValues, runs: runs)
        if shard != nil { return [("plan.txt", header), ("runs.csv", runsCSV)] }
        return [
            ("plan.txt", header), ("runs.csv", runsCSV),
            ("sweep.csv", sweepCSV(axes: plan.axes.map(\.path), pointValues: plan.pointValues, runs: runs)),
        ]
    }

    static func csvQuote(_ f: String) -> String {
        f.contains(",") || f.contains("\"") || f.contains("\n") ? "\"" + f.replacingOccurrences(of: "\"", with: "\"\"") + "\"" : f
    }

    /// `runs.csv`: one row per run, in task order. An axis over `seed` itself has no column
    /// of its own: the `seed` column is the run's seed, the point's value for replication 0.
    static func runsCSV(axes: [SweepAxis], pointValues: [[String]], runs: [SweepRun]) -> String {
        let shown = axes.indices.filter { axes[$0].path != "seed" }
        var s =
            (["task", "point", "replication", "seed"] + shown.map { axes[$0].path } + ["ended_early"] + RunMetrics.all.map(\.name))
            .map(csvQuote).joined(separator: ",") + "\n"
        for r in runs.sorted(by: { $0.task < $1.task }) {
            s +=
                (["\(r.task)", "\(r.point)", "\(r.replication)", "\(r.seed)"] + shown.map { pointValues[r.point][$0] }
                + [r.endedEarly ? "1" : "0"] + r.fields).map(csvQuote).joined(separator: ",") + "\n"
        }
        return s
    }

    /// `sweep.csv`: one row per point: its values, the number of runs, then the mean and the
    /// 95 % confidence half-width of every metric (empty with a single run).
    static func sweepCSV(axes: [String], pointValues: [[String]], runs: [SweepRun]) -> String {
        var head = ["point"] + axes + ["n"]
        for m in RunMetrics.all { head += [m.name + "_mean", m.name + "_ci95"] }
        var s = head.map(csvQuote).joined(separator: ",") + "\n"
        var byPoint = Array(repeating: [SweepRun](), count: pointValues.count)
        for r in runs.sorted(by: { $0.task < $1.task }) { byPoint[r.point].append(r) }
        for (p, values) in pointValues.enumerated() {
            let rs = byPoint[p]
            var row = ["\(p)"] + values + ["\(rs.count)"]
            for (mi, m) in RunMetrics.all.enumerated() {
                let st = SweepStatistics(rs.map { Double($0.fields[mi]) ?? .nan })
                row.append(rs.isEmpty ? "" : formatFixed(st.mean, m.decimals + 2))
                row.append(st.ci95.isNaN ? "" : formatFixed(st.ci95, m.decimals + 2))
            }
            s += row.map(csvQuote).joined(separator: ",") + "\n"
        }
        return s
    }

    /// Per-point statistics of one metric (for the console table).
    public static func statistics(_ plan: SweepPlan, runs: [SweepRun], metric: String) -> [SweepStatistics] {
        guard let mi = RunMetrics.all.firstIndex(where: { $0.name == metric }) else { return [] }
        return (0..<plan.points.count).map { p in
            SweepStatistics(runs.filter { $0.point == p }.sorted { $0.task < $1.task }.map { Double($0.fields[mi]) ?? .nan })
        }
    }
}
