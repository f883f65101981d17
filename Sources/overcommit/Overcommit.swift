import ArgumentParser
import CLISupport
import Experiments
import GuestKernel
import HostPolicies
import Hypervisor
import OvercommitSupport
import PageContents
import Reports
import Scenarios
import Simulation
import Workloads
#if canImport(Glibc)
import Glibc
#endif
import Foundation

/// The `overcommit` command line: a thin layer over the model libraries.
@main
struct Overcommit: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "overcommit",
        abstract: "A hypervisor memory-overcommit simulator: Linux-like guests on a host that shares, balloons, compresses and swaps.",
        discussion: """
            Replacement policies: \(ReplacementPolicyKind.allCases.map(\.rawValue).joined(separator: ", ")).
            Workload kinds: \(WorkloadKind.allCases.map(\.rawValue).joined(separator: ", ")).
            Balloon policies: \(BalloonPolicyKind.allCases.map(\.rawValue).joined(separator: ", ")).
            Host reclaim mechanisms: \(ReclaimTechnique.allCases.map(\.rawValue).joined(separator: ", ")).
            See `overcommit policies` for every parameter and docs/config-reference.md for every scenario key.
            """,
        version: OvercommitVersion.string,
        subcommands: [
            Run.self, Validate.self, Policies.self, ConfigReferenceCommand.self,
            ReportCommand.self, SweepCommand.self, MergeCommand.self, ConsolidateCommand.self,
            Analyze.self, DemoCommand.self, PagingCommand.self, PolicyCommand.self,
        ],
        defaultSubcommand: Run.self)
}

/// Ends the command: the message on standard error, then `code` (see docs/outputs.md for
/// what each exit code means).
func fail(_ message: String, code: Int32 = 2) -> Never {
    FileHandle.standardError.write(Data(("overcommit: " + message + "\n").utf8))
    Foundation.exit(code)
}

func fail(_ problem: CLIProblem) -> Never { fail(problem.message, code: problem.exitCode) }

/// The value of `body`, or the end of the command with its problem's message and exit code.
func attempt<T>(_ body: () throws -> T) -> T {
    do { return try body() } catch let p as CLIProblem { fail(p) } catch { fail("\(error)") }
}

/// Prints a warning on standard error.
func warn(_ message: String) {
    FileHandle.standardError.write(Data(("overcommit: warning: " + message + "\n").utf8))
}

/// `--set KEY=VALUE` and `--duration`: one option group for `run`, `validate`, `sweep` and
/// `consolidate`, with the same key paths and validation everywhere.
struct ScenarioEditOptions: ParsableArguments {
    @Option(
        name: .customLong("set"),
        help: ArgumentHelp(
            "Change a scenario key: path.to.key=value, e.g. host.memory=8GiB or guests[web].count=3 (repeatable; in a sweep, path=v1,v2,v3 is an axis).",
            valueName: "path=value"))
    var sets: [String] = []

    @Option(parsing: .unconditional, help: "Override the scenario's duration, e.g. 5s.")
    var duration: String?

    /// `--duration` as an override of the scenario key `duration`.
    var durationOverride: [ScenarioOverride] { duration.map { [ScenarioOverride(path: "duration", value: $0)] } ?? [] }

    /// The `--set`s (one value each) then `--duration`, in the order they apply.
    func overrides() throws(CLIProblem) -> [ScenarioOverride] {
        do {
            return try sets.map { s throws(OverrideError) in try ScenarioOverride(parsing: s) } + durationOverride
        } catch { throw CLIProblem(error.description) }
    }

    /// Loads `source` with the overrides; a failing `--set` with several values gets a hint
    /// that `sweep` is the command for several values.
    func load(_ source: ScenarioSource) throws(CLIProblem) -> ScenarioConfig {
        let o = try overrides()
        do { return try RunSetup.load(source, overrides: o) } catch {
            let multi = o.filter { ScenarioOverride.splitValues($0.value).count > 1 && error.message.contains("--set \($0)") }
            guard let m = multi.first else { throw error }
            throw CLIProblem(error.message + "\n(--set \(m.path) takes one value here; `overcommit sweep` runs one point per value of path=v1,v2,v3)")
        }
    }
}

struct Run: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Run a scenario (the built-in default when no file is given) and print a per-guest and host summary.",
        discussion: """
            The scenario may be a file, - (standard input) or any readable stream such as <(envsubst < t.yaml); \
            paths in a scenario read from a stream resolve against the current directory. SIGINT (Ctrl-C) or \
            SIGTERM stops the run at the next event and writes what was simulated so far, marked "partial": true \
            in summary.json; the exit code is then 130 (SIGINT) or 143 (SIGTERM). A second signal ends it at once.
            """)

    @Argument(help: "Scenario file (YAML or JSON), or - for standard input. Omit to run the built-in default scenario.")
    var scenario: String?

    @OptionGroup var edits: ScenarioEditOptions

    @Option(parsing: .unconditional, help: "Seed for every random stream (overrides the scenario's seed and any --set seed=).")
    var seed: UInt64?

    @Option(help: "Directory to write scenario.resolved.yaml, summary.json, timeseries.csv, events.jsonl and stats.txt.")
    var out: String?

    @Flag(help: "Replace the --out directory if it exists and holds overcommit output (never a directory with other files).")
    var force = false

    @Flag(name: .customLong("dry-run"), help: "Print the resolved scenario (every default filled in) and exit.")
    var dryRun = false

    @Flag(help: "Check every invariant each tick and verify page contents at each sample (slow).")
    var check = false

    @Flag(help: "Print nothing on stdout (errors still go to stderr).")
    var quiet = false

    @Flag(help: "Print summary.json on stdout instead of the summary lines.")
    var json = false

    @Option(
        name: .customLong("max-memory"),
        help: ArgumentHelp(
            "Memory the run may use, e.g. 12GiB (default: MemAvailable of /proc/meminfo); a run whose estimated peak is above it is refused.",
            valueName: "SIZE"))
    var maxMemory: String?

    @Flag(name: .customLong("force-memory"), help: "Run even when the estimated peak memory exceeds the available memory (or --max-memory).")
    var forceMemory = false

    @Flag(name: .customLong("no-progress"), help: "Do not report progress on stderr (by default a redrawn line on a terminal, else a line at most every 5 s).")
    var noProgress = false

    @Flag(help: "Also write report.html (self-contained HTML with SVG charts) into the --out directory.")
    var report = false

    @Option(
        help: ArgumentHelp(
            "Threads the guests run on between the host's synchronisation points (default: the machine's cores). Outputs are byte-identical for every value.",
            valueName: "N"))
    var threads: Int?

    mutating func run() throws {
        if let t = threads, t < 1 || t > 1024 { fail("--threads must be between 1 and 1024; got \(t)") }
        let source = attempt { try ScenarioSource.read(scenario) }
        var config = attempt { try edits.load(source) }
        if let s = seed { config.seed = s }
        let estimate = RunCostEstimate.of(config)
        if dryRun {
            print(ScenarioRenderer.yaml(config), terminator: "")
            print("# " + estimate.summary)
            return
        }
        if report && out == nil { fail("--report writes report.html into the output directory: pass --out DIR too") }
        // Every check before the first event: the files the scenario names, the simulation's
        // setup, and the output directory (no simulation is wasted on an unwritable --out).
        var options = SimulationOptions()
        attempt { try RunSetup.loadResources(config, source: source, into: &options) }
        options.check = check
        options.threads = threads ?? defaultJobs()
        options.stop = StopSignals.stopReason
        let inputs = RunSetup.inputs(config, source: source)
        if let o = out { attempt { try OutputDirectory.check(o, force: force, inputs: inputs) } }
        checkMemory(estimate, file: source.file)
        let sim = attempt { try RunSetup.build(config, options: options, source: source) }

        StopSignals.install()
        // Progress on stderr: redrawn on a terminal; in a log (batch jobs) a line at most
        // every 5 s, and only for runs long enough to need it.
        let terminal = isatty(2) != 0
        var progress = ProgressReporter(durationSeconds: config.duration.seconds, terminal: terminal)
        let showProgress = !noProgress && (terminal ? !quiet : true)
        let start = Date()
        let result = sim.run(
            progress: showProgress
                ? { f in
                    if let line = progress.update(fraction: f, wall: Date().timeIntervalSince(start)) {
                        FileHandle.standardError.write(Data(line.utf8))
                    }
                } : nil)
        if showProgress { FileHandle.standardError.write(Data(progress.finish.utf8)) }
        var reportProblem: CLIProblem? = nil
        if let o = out { reportProblem = writeOutput(result, to: o, inputs: inputs) }
        if !quiet {
            if json { print(RunReport.summaryJSON(result).rendered(indent: 2)) } else { for l in RunReport.consoleLines(result) { print(l) } }
        }
        if let why = result.endedEarly, !quiet && !json { print("ended early: \(why)") }
        var code: Int32 = 0
        if check {
            if result.checkProblems.isEmpty {
                if !quiet && !json && !result.partial { print("check: \(result.checksRun) invariant checks passed, page contents verified") }
            } else {
                for p in result.checkProblems.prefix(20) { FileHandle.standardError.write(Data(("check: " + p + "\n").utf8)) }
                code = 3
            }
        }
        if let p = reportProblem {
            FileHandle.standardError.write(Data("overcommit: \(p.message)\n".utf8))
            code = p.exitCode
        }
        if let e = result.policyError {
            // MOM logs a policy error and stops managing the host; overcommit stops the run
            // there, writes what was simulated (marked partial) and says where and when.
            let simulated = "the \(formatFixed(Double(result.simulatedNs) / 1e9, 3)) s simulated"
            let what = out.map { "wrote \(simulated) to '\($0)' (summary.json \"partial\": true)" } ?? "the summary covers \(simulated)"
            FileHandle.standardError.write(Data("overcommit: policy error: \(e)\novercommit: \(what)\n".utf8))
            code = 2
        }
        if result.partial, let sig = StopSignals.received {
            let simulated = "the \(formatFixed(Double(result.simulatedNs) / 1e9, 3)) s simulated"
            let what = out.map { "wrote \(simulated) to '\($0)' (summary.json \"partial\": true)" } ?? "the summary covers \(simulated)"
            FileHandle.standardError.write(Data("overcommit: \(result.endedEarly ?? "interrupted"): \(what)\n".utf8))
            code = StopSignals.exitCode(sig)
        }
        if code != 0 { throw ExitCode(code) }
    }

    /// Refuses (exit 2) a run whose estimated peak memory exceeds `--max-memory` or the
    /// machine's available memory, unless `--force-memory`.
    func checkMemory(_ estimate: RunCostEstimate, file: String) {
        if let m = maxMemory, ByteCount.parse(m) == nil {
            fail("--max-memory: '\(m)' is not a size; write it as 12GiB, 512MiB or a number of bytes", code: 64)
        }
        guard !forceMemory else { return }
        let limit: UInt64?, what: String
        if let m = maxMemory, let b = ByteCount.parse(m) {
            limit = b.bytes; what = "--max-memory"
        } else {
            limit = MemoryBudget.availableBytes(); what = "the memory available on this machine (MemAvailable)"
        }
        if let l = limit, let p = MemoryBudget.refusal(estimate: estimate.peakMemoryBytes, limit: l, limitSource: what, file: file) {
            fail(p)
        }
    }

    /// Writes every output file (atomically, see `OutputDirectory`); a report that cannot be
    /// drawn does not cost the other files: they are written and the problem is returned.
    func writeOutput(_ r: SimulationResult, to dir: String, inputs: [RunInput]) -> CLIProblem? {
        let files = RunReport.files(r)
        let render: (() throws -> String)? =
            report
            ? {
                try reportHTML(files: Dictionary(files.map { ($0.name, $0.contents) }) { a, _ in a }, dir: dir)
            } : nil
        let (problem, warnings) = attempt { try OutputDirectory.writeRun(files, report: render, to: dir, force: force, inputs: inputs) }
        for w in warnings { warn(w) }
        return problem
    }
}

struct Validate: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Check scenario files without running them: every problem of every file, exit 2 if any is invalid.",
        discussion: """
            Makes every check `run` makes before simulating: the scenario's keys and values, the trace files and \
            memory images it names (they exist and read), and each guest's workloads built in their guest (a \
            data_file or docroot must be a file of the guest's image; a trace must parse). - reads a scenario from \
            standard input.
            """)

    @Argument(help: "Scenario files (YAML or JSON); - reads one from standard input.")
    var files: [String]

    @OptionGroup var edits: ScenarioEditOptions

    mutating func run() throws {
        var bad = false
        for f in files {
            do {
                let source = try ScenarioSource.read(f)
                let c = try edits.load(source)
                var options = SimulationOptions()
                try RunSetup.loadResources(c, source: source, into: &options)
                try RunSetup.check(c, options: options, source: source)
                let g = c.expandedGuests
                let mem = g.reduce(UInt64(0)) { $0 + $1.memory.bytes }
                print(
                    "\(source.file): ok — \(c.name): \(g.count) guest(s), \(ByteCount(mem)) configured on \(c.host.memory) host RAM, \(c.duration)"
                        + (c.description.isEmpty ? "" : " — " + c.description.split(separator: "\n").first.map(String.init)!))
                print("  " + RunCostEstimate.of(c).summary)
            } catch {
                // Messages start with the file (file:line:column: key: problem), as a compiler's do.
                FileHandle.standardError.write(Data(("\(error.message)\n").utf8))
                bad = true
            }
        }
        if bad { throw ExitCode(2) }
    }
}

struct Policies: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "List every pluggable policy and workload with its parameters, defaults and descriptions.")

    mutating func run() throws {
        print("Guest page replacement policies (guests[].kernel.replacement_policy):")
        for p in ReplacementPolicyKind.allCases { print("  \(p.rawValue.padding(toLength: 8, withPad: " ", startingAt: 0)) \(p.summary)") }
        print("")
        print("Workload kinds (guests[].workloads[].kind):")
        for k in WorkloadKind.allCases { print("  \(k.rawValue.padding(toLength: 9, withPad: " ", startingAt: 0)) \(k.summary)") }
        print("")
        print("Balloon policies (host.balloon_policy.kind):")
        for k in BalloonPolicyKind.allCases { print("  \(k.rawValue.padding(toLength: 10, withPad: " ", startingAt: 0)) \(k.summary)") }
        print("")
        print("Policy programs (host.policy.kind), in place of the balloon policy:")
        for k in HostPolicyKind.allCases { print("  \(k.rawValue.padding(toLength: 6, withPad: " ", startingAt: 0)) \(k.summary)") }
        print("")
        print("Host reclaim mechanisms (techniques in host.states.*_techniques, cheapest first):")
        for t in ReclaimTechnique.allCases { print("  \(t.rawValue.padding(toLength: 18, withPad: " ", startingAt: 0)) \(t.summary)") }
        print("")
        print("Page codecs (host.compression.codec, guests[].kernel.zswap.compressor, guests[].swap.comp_algorithm):")
        for c in CodecKind.allCases { print("  \(c.rawValue.padding(toLength: 6, withPad: " ", startingAt: 0)) \(c.summary)") }
        print("")
        print(ConfigReference.plainText(tables: ConfigReference.reachableTables()))
    }
}

struct ConfigReferenceCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "config-reference",
        abstract: "Print the configuration reference (Markdown) generated from the parameter tables.")
    mutating func run() throws { print(ConfigReference.markdown(), terminator: "") }
}
