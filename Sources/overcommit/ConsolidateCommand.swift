import ArgumentParser
import CLISupport
import Experiments
import Foundation
import OvercommitSupport
import PageContents
import Reports
import Scenarios
import Simulation

struct ConsolidateCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "consolidate",
        abstract: "Find the most VMs (copies of one guest, or of the whole mix) the host carries while the SLA holds.",
        discussion: """
            SLA terms: every VM powers on, no host OOM, guest OOM kills <= --max-oom-kills (0), refused allocations <= \
            --max-refused (0), per-VM overcommit penalty (EAT against the same VM on a host with memory to spare) \
            <= --max-overcommit-penalty (1.10), \
            and, when given, host swap-in rate <= --max-host-swap-in-rate, longest stretch in the low state <= --max-low-seconds \
            and any VM's throughput loss (1 - throughput_ratio: faults, reclaim and steal) <= --max-throughput-loss. \
            --compare 'label:key=value;key=value' (repeatable) runs the search per setting and prints them side by side. \
            --out DIR also writes consolidation.json and consolidation.txt there (atomically, like run and sweep); \
            `overcommit report DIR` draws them. See docs/howto-consolidation.md.
            """)

    @Argument(help: "Scenario file (YAML or JSON), or - for standard input.")
    var scenario: String

    @Option(help: "Add copies of the guest entry with this name (web1, web1-2, web1-3, ...).")
    var vm: String?

    @Flag(name: .customLong("scale-mix"), help: "Add copies of the scenario's whole guest mix.")
    var scaleMix = false

    @OptionGroup var edits: ScenarioEditOptions

    @Option(name: .customLong("max-vms"), parsing: .unconditional, help: "Largest total number of VMs to try.")
    var maxVMs: Int = 64

    @Option(
        name: .customLong("max-overcommit-penalty"), parsing: .unconditional,
        help: "SLA: largest overcommit penalty of any VM (its EAT against the same VM's on an unconstrained host).")
    var maxOvercommitPenalty: Double = 1.10

    @Option(name: .customLong("max-oom-kills"), parsing: .unconditional, help: "SLA: guest OOM kills allowed.")
    var maxOOMKills: Int = 0

    @Option(name: .customLong("max-refused"), parsing: .unconditional, help: "SLA: refused allocations allowed.")
    var maxRefused: Int = 0

    @Option(name: .customLong("max-host-swap-in-rate"), parsing: .unconditional, help: "SLA: host swap-ins per simulated second (default: not checked).")
    var maxHostSwapInRate: Double?

    @Option(name: .customLong("max-low-seconds"), parsing: .unconditional, help: "SLA: longest stretch in the low state, seconds (default: not checked).")
    var maxLowSeconds: Double?

    @Option(
        name: .customLong("max-throughput-loss"), parsing: .unconditional,
        help: "SLA: largest throughput loss of any VM, 1 - throughput_ratio, e.g. 0.05 (default: not checked).")
    var maxThroughputLoss: Double?

    @Option(help: ArgumentHelp("A setting to compare: 'label:key=value;key=value' (repeat for each column).", valueName: "label:settings"))
    var compare: [String] = []

    @Option(
        parsing: .unconditional,
        help: "Simulations run at once (default: the number of cores); a job that would wait runs a size the search may try next.")
    var jobs: Int?

    @Flag(help: "Print the result as JSON.")
    var json = false

    @Option(help: "Also write the result to this directory (consolidation.json, consolidation.txt), for `overcommit report DIR`.")
    var out: String?

    @Flag(help: "Replace the --out directory if it exists and holds overcommit output (never a directory with other files).")
    var force = false

    mutating func run() throws {
        guard (vm != nil) != scaleMix else { fail("give exactly one of --vm NAME or --scale-mix") }
        guard maxOvercommitPenalty >= 1 else {
            fail("--max-overcommit-penalty must be at least 1 (1.10 allows 10 % slower memory); got \(maxOvercommitPenalty)")
        }
        guard maxOOMKills >= 0, maxRefused >= 0 else { fail("--max-oom-kills and --max-refused must not be negative") }
        if let y = maxHostSwapInRate, y < 0 { fail("--max-host-swap-in-rate must not be negative; got \(y)") }
        if let z = maxLowSeconds, z < 0 { fail("--max-low-seconds must not be negative; got \(z)") }
        if let l = maxThroughputLoss, !(0...1).contains(l) { fail("--max-throughput-loss must be between 0 and 1; got \(l)") }
        if let j = jobs, j < 1 || j > 1024 { fail("--jobs must be between 1 and 1024; got \(j)") }
        if maxVMs < 1 { fail("--max-vms must be at least 1; got \(maxVMs)") }
        let source = attempt { try ScenarioSource.read(scenario) }
        let (text, file) = (source.text, source.file)
        var sla = ServiceLevel()
        sla.maxOvercommitPenalty = maxOvercommitPenalty; sla.maxOOMKills = maxOOMKills; sla.maxRefusedAllocations = maxRefused
        sla.maxHostSwapInRate = maxHostSwapInRate; sla.maxLowStateSeconds = maxLowSeconds
        sla.maxThroughputLoss = maxThroughputLoss
        let mode: ConsolidationMode = vm.map { .vm($0) } ?? .scaleMix

        // The settings: the scenario as it is, or one per --compare.
        var settings: [(label: String, overrides: [ScenarioOverride])] = []
        do {
            let common = try edits.sets.map { s throws(OverrideError) in try ScenarioOverride(parsing: s) } + edits.durationOverride
            if compare.isEmpty { settings = [("", common)] }
            for c in compare {
                guard let colon = c.firstIndex(of: ":"), !c[..<colon].isEmpty else {
                    fail("--compare \(c): write 'label:key=value;key=value', e.g. 'salting-off:host.sharing.salting=0'")
                }
                let label = String(c[..<colon])
                if settings.contains(where: { $0.label == label }) { fail("--compare: the label '\(label)' is used twice") }
                let body = c[c.index(after: colon)...]
                let parts = body.split(separator: ";").map { String($0).trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
                settings.append((label, common + (try parts.map { p throws(OverrideError) in try ScenarioOverride(parsing: p) })))
            }
        } catch { fail(error.description) }

        var searches: [ConsolidationSearch] = []
        var inputs: [RunInput] = []
        // Every run of every search takes the page hashes and compressed sizes the others
        // computed (outputs are the same without it).
        let memo = SharedContentMemo()
        for s in settings {
            let tag = s.label.isEmpty ? "" : "[\(s.label)] "
            do {
                let config = try ScenarioOverrides.load(text: text, file: file, overrides: s.overrides)
                // Every check `run` makes, before the first of many runs.
                var options = SimulationOptions()
                try RunSetup.loadResources(config, source: source, into: &options)
                try RunSetup.check(config, options: options, source: source)
                for i in RunSetup.inputs(config, source: source) where !inputs.contains(i) { inputs.append(i) }
                options.stop = StopSignals.stopReason
                options.sharedContentMemo = memo
                let total = jobs ?? defaultJobs()
                searches.append(
                    try ConsolidationSearch(
                        label: s.label, base: config, mode: mode, sla: sla, maxVMs: maxVMs,
                        options: options, jobs: max(1, total / settings.count)))
            } catch let e as CLIProblem { fail(tag + e.message, code: e.exitCode) } catch { fail(tag + "\(error)") }
        }
        // An unusable --out is refused before the first simulated second.
        if let out { attempt { try OutputDirectory.check(out, force: force, inputs: inputs) } }
        StopSignals.install()
        let showProgress = isatty(2) != 0 && !json
        let outer = max(1, min(searches.count, jobs ?? defaultJobs()))
        let searchList = searches
        let results = ParallelRunner.map(count: searches.count, jobs: outer) { i -> Result<ConsolidationResult, Error> in
            Result {
                try searchList[i].run(
                    progress: showProgress
                        ? { p in
                            let tag = searchList[i].label.isEmpty ? "" : "[\(searchList[i].label)] "
                            FileHandle.standardError.write(
                                Data("\(tag)\(p.vms) VMs: \(p.passed ? "SLA holds" : "breaks " + p.broken.map(\.name).joined(separator: ", "))\n".utf8))
                        } : nil)
            }
        }
        if let sig = StopSignals.received {
            fail("interrupted by \(StopSignals.name(sig)): the search did not finish; no result", code: StopSignals.exitCode(sig))
        }
        var done: [ConsolidationResult] = []
        for (i, r) in results.enumerated() {
            do { done.append(try r.get()) } catch { fail("\(file)\(settings[i].label.isEmpty ? "" : " [\(settings[i].label)]"): \(error)") }
        }
        let v: JSONValue = done.count == 1 && compare.isEmpty ? ConsolidationReport.json(done[0]) : .array(done.map(ConsolidationReport.json))
        let lines = compare.isEmpty ? ConsolidationReport.text(done[0]) : ConsolidationReport.compareText(done)
        if let out {
            let files = [("consolidation.json", v.rendered(indent: 2) + "\n"), ("consolidation.txt", lines.joined(separator: "\n") + "\n")]
            for w in attempt({ try OutputDirectory.write(files, to: out, force: force, inputs: inputs) }) { warn(w) }
        }
        if json {
            print(v.rendered(indent: 2))
        } else {
            for l in lines { print(l) }
        }
    }
}
