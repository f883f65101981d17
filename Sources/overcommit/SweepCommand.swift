import ArgumentParser
import Experiments
import Foundation
import OvercommitSupport
import Scenarios
import Simulation
#if canImport(Glibc)
import Glibc
#endif

/// The number of cores to use by default.
func defaultJobs() -> Int { max(1, ProcessInfo.processInfo.activeProcessorCount) }

struct SweepCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sweep",
        abstract: "Run a scenario over the cross product of --set values, with seeded replications, in parallel; write sweep.csv and runs.csv.",
        discussion: """
        Paths name scenario keys: host.memory, host.sharing.salting, guests[1].memory, guests[web].kernel.vm.swappiness, \
        host.balloon_policy.kind. Values keep their units (8GiB, 250ms, 40%). Replication 0 of every point runs with the \
        scenario's seed, replication r with a seed derived from (seed, r): common random numbers across points. Output is \
        byte-identical whatever --jobs and whatever the --shard split. See docs/howto-sweeps.md.
        """)

    @Argument(help: "Scenario file (YAML or JSON).")
    var scenario: String

    @Option(name: .customLong("set"), help: ArgumentHelp("A scenario key and its values: path.to.key=v1,v2,v3 (repeat for more axes).", valueName: "path=v1,v2"))
    var sets: [String] = []

    @Option(help: "Seeded replications per point.")
    var runs: Int = 1

    @Option(help: "Simulations run at once (default: the number of cores).")
    var jobs: Int?

    @Option(help: "Override the scenario's duration for every run (e.g. 5s).")
    var duration: String?

    @Option(help: "Run only slice INDEX of COUNT (0-based), for batch systems; join the slices with `overcommit merge`.")
    var shard: String?

    @Option(help: "Output directory (plan.txt, runs.csv, sweep.csv; a shard writes plan.txt and runs.csv).")
    var out: String

    @Flag(help: "Replace the output directory if it exists.")
    var force = false

    @Flag(help: "Print nothing on stdout.")
    var quiet = false

    mutating func run() throws {
        let (text, file, base) = readScenarioText(scenario)
        if FileManager.default.fileExists(atPath: out), !force { fail("output directory '\(out)' exists; pass --force to replace it") }
        if let j = jobs, j < 1 || j > 1024 { fail("--jobs must be between 1 and 1024; got \(j)") }
        let plan: SweepPlan
        let shardSel: Shard?
        do {
            let axes = try sets.map { s throws(OverrideError) in try SweepAxis(parsing: s) }
            let fixed = duration.map { [ScenarioOverride(path: "duration", value: $0)] } ?? []
            plan = try SweepPlan(scenarioText: text, file: file, axes: axes, fixed: fixed, runs: runs)
            shardSel = try shard.map { s throws(OverrideError) in try Shard(parsing: s) }
        } catch { fail(error.description) }
        // The files every point refers to (a --set may name another trace or image).
        var options = SimulationOptions()
        for p in plan.points { loadResources(p, baseDir: base, file: file, into: &options) }
        let tasks = plan.tasks(shardSel)
        let showProgress = isatty(2) != 0 && !quiet
        let total = tasks.count
        let results: [SweepRun]
        var report: (@Sendable (Int) -> Void)? = nil
        if showProgress {
            report = { (done: Int) in FileHandle.standardError.write(Data("\r\(done)/\(total) runs ".utf8)) }
        }
        do {
            results = try Sweep.run(plan, tasks: tasks, jobs: jobs ?? defaultJobs(), options: options, finished: report)
        } catch { fail("\(file): \(error)") }
        if showProgress { FileHandle.standardError.write(Data("\r\u{1B}[K".utf8)) }
        writeDirectory(out, Sweep.files(plan, runs: results, shard: shardSel))
        guard !quiet else { return }
        if let s = shardSel {
            print("shard \(s): \(tasks.count) of \(plan.taskCount) runs (\(plan.points.count) points x \(plan.runs) runs) written to \(out); join the shards with `overcommit merge`")
            return
        }
        print("\(plan.points.count) points x \(plan.runs) runs written to \(out)/sweep.csv and \(out)/runs.csv")
        let shown = RunMetrics.headline
        let stats = shown.map { Sweep.statistics(plan, runs: results, metric: $0.name) }
        let head = plan.axes.map(\.path) + shown.map(\.name)
        print(head.joined(separator: "  "))
        for p in plan.points.indices {
            let cells = plan.pointValues[p] + stats.indices.map { i in
                let st = stats[i][p]
                return RunMetrics.human(shown[i], st.mean) + (st.ci95.isNaN ? "" : "±" + RunMetrics.human(shown[i], st.ci95))
            }
            print(zip(head, cells).map { h, c in c.padding(toLength: max(h.count, c.count), withPad: " ", startingAt: 0) }.joined(separator: "  "))
        }
    }
}
