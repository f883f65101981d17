import ArgumentParser
import CLISupport
import Experiments
import Foundation
import OvercommitSupport
import PageContents
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

    @Argument(help: "Scenario file (YAML or JSON), or - for standard input.")
    var scenario: String

    @OptionGroup var edits: ScenarioEditOptions

    @Option(parsing: .unconditional, help: "Seeded replications per point.")
    var runs: Int = 1

    @Option(parsing: .unconditional, help: "Simulations run at once (default: the number of cores).")
    var jobs: Int?

    @Option(help: "Run only slice INDEX of COUNT (0-based), for batch systems; join the slices with `overcommit merge`.")
    var shard: String?

    @Option(help: "Output directory (plan.txt, runs.csv, sweep.csv; a shard writes plan.txt and runs.csv).")
    var out: String

    @Flag(help: "Replace the --out directory if it exists and holds overcommit output (never a directory with other files).")
    var force = false

    @Flag(help: "Print nothing on stdout.")
    var quiet = false

    mutating func run() throws {
        let source = attempt { try ScenarioSource.read(scenario) }
        if let j = jobs, j < 1 || j > 1024 { fail("--jobs must be between 1 and 1024; got \(j)") }
        let plan: SweepPlan
        let shardSel: Shard?
        do {
            let axes = try edits.sets.map { s throws(OverrideError) in try SweepAxis(parsing: s) }
            plan = try SweepPlan(scenarioText: source.text, file: source.file, axes: axes, fixed: edits.durationOverride, runs: runs)
            shardSel = try shard.map { s throws(OverrideError) in try Shard(parsing: s) }
        } catch { fail(error.description) }
        // Every check `run` makes, for every point, before anything runs (a --set may name
        // another trace or image; each file is read once).
        var options = SimulationOptions()
        // The runs take the page hashes and compressed sizes other runs computed (outputs
        // are the same without it).
        options.sharedContentMemo = SharedContentMemo()
        var inputs: [RunInput] = []
        for p in plan.points {
            attempt { try RunSetup.loadResources(p, source: source, into: &options) }
            attempt { try RunSetup.check(p, options: options, source: source) }
            for i in RunSetup.inputs(p, source: source) where !inputs.contains(i) { inputs.append(i) }
        }
        attempt { try OutputDirectory.check(out, force: force, inputs: inputs) }
        let tasks = plan.tasks(shardSel)
        let showProgress = isatty(2) != 0 && !quiet
        let total = tasks.count
        let results: [SweepRun]
        var report: (@Sendable (Int) -> Void)? = nil
        if showProgress {
            report = { (done: Int) in FileHandle.standardError.write(Data("\r\(done)/\(total) runs ".utf8)) }
        }
        options.stop = StopSignals.stopReason
        StopSignals.install()
        do {
            results = try Sweep.run(plan, tasks: tasks, jobs: jobs ?? defaultJobs(), options: options, finished: report)
        } catch {
            if let sig = StopSignals.received { interrupted(sig) }
            fail("\(source.file): \(error)")
        }
        if showProgress { FileHandle.standardError.write(Data("\r\u{1B}[K".utf8)) }
        if let sig = StopSignals.received { interrupted(sig) }
        for w in attempt({ try OutputDirectory.write(Sweep.files(plan, runs: results, shard: shardSel), to: out, force: force, inputs: inputs) }) {
            warn(w)
        }
        guard !quiet else { return }
        if let s = shardSel {
            print(
                "shard \(s): \(tasks.count) of \(plan.taskCount) runs (\(plan.points.count) points x \(plan.runs) runs) written to \(out); join the shards with `overcommit merge`"
            )
            return
        }
        print("\(plan.points.count) points x \(plan.runs) runs written to \(out)/sweep.csv and \(out)/runs.csv")
        let shown = RunMetrics.headline
        let stats = shown.map { Sweep.statistics(plan, runs: results, metric: $0.name) }
        let head = plan.axes.map(\.path) + shown.map(\.name)
        print(head.joined(separator: "  "))
        for p in plan.points.indices {
            let cells =
                plan.pointValues[p]
                + stats.indices.map { i in
                    let st = stats[i][p]
                    return RunMetrics.human(shown[i], st.mean) + (st.ci95.isNaN ? "" : "±" + RunMetrics.human(shown[i], st.ci95))
                }
            print(zip(head, cells).map { h, c in c.padding(toLength: max(h.count, c.count), withPad: " ", startingAt: 0) }.joined(separator: "  "))
        }
    }

    /// A sweep writes complete results only: interrupted, it writes nothing and says so.
    func interrupted(_ sig: Int32) -> Never {
        if isatty(2) != 0 && !quiet { FileHandle.standardError.write(Data("\r\u{1B}[K".utf8)) }
        fail(
            "interrupted by \(StopSignals.name(sig)): nothing written to '\(out)' (a sweep writes complete results only; "
                + "split a long sweep with --shard i/n so each slice is kept when it finishes)", code: StopSignals.exitCode(sig))
    }
}
