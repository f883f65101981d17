import ArgumentParser
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
        subcommands: [Run.self, Validate.self, Policies.self, ConfigReferenceCommand.self,
                      ReportCommand.self, SweepCommand.self, MergeCommand.self, ConsolidateCommand.self,
                      Analyze.self, DemoCommand.self],
        defaultSubcommand: Run.self)
}

/// Errors the CLI reports and the exit code each gets.
struct CLIError: Error, CustomStringConvertible {
    var message: String
    var code: Int32
    var description: String { message }
}

func fail(_ message: String, code: Int32 = 2) -> Never {
    FileHandle.standardError.write(Data(("overcommit: " + message + "\n").utf8))
    Foundation.exit(code)
}

/// Writes files into `dir` through a temporary directory renamed into place, so a failure
/// never leaves a half-written output directory.
func writeDirectory(_ dir: String, _ files: [(name: String, contents: String)]) {
    let fm = FileManager.default
    let tmp = dir + ".partial-\(getpid())"
    try? fm.removeItem(atPath: tmp)
    do {
        try fm.createDirectory(atPath: tmp, withIntermediateDirectories: true)
        for (name, contents) in files {
            guard fm.createFile(atPath: tmp + "/" + name, contents: Data(contents.utf8)) else {
                throw CLIError(message: "cannot write \(tmp)/\(name)", code: 1)
            }
        }
        if fm.fileExists(atPath: dir) { try fm.removeItem(atPath: dir) }
        try fm.moveItem(atPath: tmp, toPath: dir)
    } catch {
        try? fm.removeItem(atPath: tmp)
        fail("cannot write output directory '\(dir)': \(error)", code: 1)
    }
}

/// Reads a scenario file's text (the built-in default when no path is given).
func readScenarioText(_ path: String?) -> (text: String, file: String, baseDir: String) {
    guard let path else { return (BuiltinScenarios.defaultYAML, "<built-in default>", ".") }
    guard let data = FileManager.default.contents(atPath: path) else { fail("\(path): cannot read the scenario file (does it exist?)") }
    guard let text = String(data: data, encoding: .utf8) else { fail("\(path): not UTF-8 text") }
    return (text, path, (path as NSString).deletingLastPathComponent)
}

/// Reads and validates a scenario file (or the built-in default).
func loadScenario(_ path: String?) -> (ScenarioConfig, baseDir: String) {
    let (text, file, base) = readScenarioText(path)
    do {
        return (try ScenarioLoader.load(text: text, file: file), base)
    } catch {
        if path == nil { fail("built-in default scenario is invalid:\n\(error)", code: 70) }
        fail("\(error)")
    }
}

/// Loads the files a scenario refers to (traces, memory images), relative to the scenario.
func loadResources(_ c: ScenarioConfig, baseDir: String, file: String) -> SimulationOptions {
    var o = SimulationOptions()
    loadResources(c, baseDir: baseDir, file: file, into: &o)
    return o
}

/// Adds to `o` the files `c` refers to that `o` does not hold yet (a sweep's points may name
/// different traces or images; each file is read once).
func loadResources(_ c: ScenarioConfig, baseDir: String, file: String, into o: inout SimulationOptions) {
    func resolve(_ p: String) -> String { p.hasPrefix("/") || baseDir.isEmpty ? p : baseDir + "/" + p }
    for (gi, g) in c.guests.enumerated() {
        for (wi, w) in g.workloads.enumerated() {
            for p in w.resourcePaths where o.textResources[p] == nil {
                guard let d = FileManager.default.contents(atPath: resolve(p)), let s = String(data: d, encoding: .utf8) else {
                    fail("\(file): guests[\(gi)].workloads[\(wi)].file: cannot read '\(resolve(p))'")
                }
                o.textResources[p] = s
            }
        }
    }
    for (ii, img) in c.images.enumerated() {
        guard let p = img.memory_image, o.memoryImages[p] == nil else { continue }
        guard let d = FileManager.default.contents(atPath: resolve(p)) else {
            fail("\(file): images[\(ii)].memory_image: cannot read '\(resolve(p))'")
        }
        guard !d.isEmpty else { fail("\(file): images[\(ii)].memory_image: '\(resolve(p))' is empty") }
        o.memoryImages[p] = [UInt8](d)
    }
}

struct Run: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Run a scenario (the built-in default when no file is given) and print a per-guest and host summary.")

    @Argument(help: "Scenario file (YAML or JSON). Omit to run the built-in default scenario.")
    var scenario: String?

    @Option(help: "Seed for every random stream (overrides the scenario's seed).")
    var seed: UInt64?

    @Option(help: "Directory to write scenario.resolved.yaml, summary.json, timeseries.csv, events.jsonl and stats.txt.")
    var out: String?

    @Flag(help: "Replace the output directory if it exists.")
    var force = false

    @Flag(name: .customLong("dry-run"), help: "Print the resolved scenario (every default filled in) and exit.")
    var dryRun = false

    @Flag(help: "Check every invariant each tick and verify page contents at each sample (slow).")
    var check = false

    @Flag(help: "Print nothing on stdout (errors still go to stderr).")
    var quiet = false

    @Flag(help: "Print summary.json on stdout instead of the summary lines.")
    var json = false

    @Flag(help: "Also write report.html (self-contained HTML with SVG charts) into the --out directory.")
    var report = false

    mutating func run() throws {
        var (config, base) = loadScenario(scenario)
        if let s = seed { config.seed = s }
        if dryRun {
            print(ScenarioRenderer.yaml(config), terminator: "")
            return
        }
        if report && out == nil { fail("--report writes report.html into the output directory: pass --out DIR too") }
        if let o = out, FileManager.default.fileExists(atPath: o), !force {
            fail("output directory '\(o)' exists; pass --force to replace it")
        }
        var options = loadResources(config, baseDir: base, file: scenario ?? "<built-in default>")
        options.check = check
        let sim: Simulation
        do { sim = try Simulation(config: config, options: options) }
        catch { fail("\(scenario ?? "<built-in default>"): \(error)") }
        let showProgress = isatty(2) != 0 && !quiet
        let start = Date()
        let result = sim.run(progress: showProgress ? { f in
            let wall = Date().timeIntervalSince(start)
            let simS = f * config.duration.seconds
            let rate = wall > 0 ? simS / wall : 0
            let eta = rate > 0 ? (config.duration.seconds - simS) / rate : 0
            let etaText = rate > 0 ? String(format: "%.0fs", eta) : "--"
            FileHandle.standardError.write(Data((String(format: "\r%5.1f%%  %.1f sim-s/s  ETA ", f * 100, rate) + etaText + " ").utf8))
        } : nil)
        if showProgress { FileHandle.standardError.write(Data("\r\u{1B}[K".utf8)) }
        let reportWritten = try out.map { try writeOutput(result, to: $0) } ?? true
        if !quiet {
            if json { print(RunReport.summaryJSON(result).rendered(indent: 2)) }
            else { for l in RunReport.consoleLines(result) { print(l) } }
        }
        if let why = result.endedEarly, !quiet && !json { print("ended early: \(why)") }
        if check {
            if result.checkProblems.isEmpty {
                if !quiet && !json { print("check: \(result.checksRun) invariant checks passed, page contents verified") }
            } else {
                for p in result.checkProblems.prefix(20) { FileHandle.standardError.write(Data(("check: " + p + "\n").utf8)) }
                throw ExitCode(3)
            }
        }
        if !reportWritten { throw ExitCode(1) }
    }

    /// Writes every file into a temporary directory, then renames it into place, so a failure
    /// never leaves a half-written output directory. A report that cannot be rendered costs
    /// only report.html: the run's other files are written and the problem is reported.
    /// Returns whether the report (when asked for) was written.
    func writeOutput(_ r: SimulationResult, to dir: String) throws -> Bool {
        var files = RunReport.files(r)
        var reportProblem: String? = nil
        if report {
            do { files.append(("report.html", try HTMLReport.render(try RunOutput(files: Dictionary(files.map { ($0.name, $0.contents) }) { a, _ in a })))) }
            catch { reportProblem = "\(error)" }
        }
        writeDirectory(dir, files)
        if let p = reportProblem {
            FileHandle.standardError.write(Data("overcommit: report.html not written (\(dir)/\(p)); the run's other files are in \(dir)\n".utf8))
        }
        return reportProblem == nil
    }
}

struct Validate: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Check scenario files without running them: every problem of every file, exit 2 if any is invalid.")

    @Argument(help: "Scenario files.")
    var files: [String]

    mutating func run() throws {
        var bad = false
        for f in files {
            guard let data = FileManager.default.contents(atPath: f), let text = String(data: data, encoding: .utf8) else {
                FileHandle.standardError.write(Data("overcommit: \(f): cannot read the scenario file\n".utf8))
                bad = true; continue
            }
            do {
                let c = try ScenarioLoader.load(text: text, file: f)
                let g = c.expandedGuests
                let mem = g.reduce(UInt64(0)) { $0 + $1.memory.bytes }
                print("\(f): ok — \(c.name): \(g.count) guest(s), \(ByteCount(mem)) configured on \(c.host.memory) host RAM, \(c.duration)"
                      + (c.description.isEmpty ? "" : " — " + c.description.split(separator: "\n").first.map(String.init)!))
            } catch {
                FileHandle.standardError.write(Data(("\(error)\n").utf8))
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
        print("Host reclaim mechanisms (techniques in host.states.*_techniques, cheapest first):")
        for t in ReclaimTechnique.allCases { print("  \(t.rawValue.padding(toLength: 18, withPad: " ", startingAt: 0)) \(t.summary)") }
        print("")
        print("Page codecs (host.compression.codec):")
        for c in CodecKind.allCases { print("  \(c.rawValue.padding(toLength: 6, withPad: " ", startingAt: 0)) \(c.summary)") }
        print("")
        print(ConfigReference.plainText(tables: ConfigReference.reachableTables()))
    }
}

struct ConfigReferenceCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "config-reference",
        abstract: "Print the configuration reference (Markdown) generated from the parameter tables.")
    mutating func run() throws { print(ConfigReference.markdown(), terminator: "") }
}
