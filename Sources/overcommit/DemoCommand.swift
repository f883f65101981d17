import ArgumentParser
import CLISupport
import Experiments
import Foundation
import Scenarios
import Simulation
#if canImport(Glibc)
import Glibc
#endif

/// `overcommit demo [NAME] [--step] [--seed N]`: narrated, step-by-step demos of each technique.
struct DemoCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "demo",
        abstract: "List the built-in demos, or run one as a narrated story, step by step.",
        discussion: """
            Demos (each is a scenario under Configs/demos/, which `overcommit run` also accepts):
            \(DemoKind.listing.map { "  " + $0 }.joined(separator: "\n"))

            Every number in the narration is read from the simulation at that step; each step's
            expectations are checked against it ([ok] or [FAILED]). The command exits 1 if any failed.
            With --step it pauses after each step: Enter goes on, b goes back one step (shown again
            exactly as it was: the run is deterministic), q quits. Each demo's header names its
            sources: papers, kernel functions and files, vendor documents.
            """)

    @Argument(help: "Demo to run; omit to list the demos.")
    var name: String?

    @Flag(help: "Pause between steps: Enter goes on, b goes back one step, q quits (without a terminal on stdin it goes on without waiting).")
    var step = false

    @Option(parsing: .unconditional, help: "Seed for every random stream (overrides the demo scenario's seed).")
    var seed: UInt64?

    @Option(name: .customLong("demos-dir"), help: "Folder of the demo scenarios (default: Configs/demos, here or next to the executable's checkout).")
    var demosDir: String?

    mutating func run() throws {
        guard let name else {
            print("Built-in demos (run one with `overcommit demo NAME`, add --step to pause between steps):")
            for l in DemoKind.listing { print("  " + l) }
            return
        }
        guard let demo = DemoKind(rawValue: name) else {
            fail("unknown demo '\(name)'; the demos are:\n" + DemoKind.listing.map { "  " + $0 }.joined(separator: "\n"))
        }
        let path = demoScenarioPath(demo)
        let source = attempt { try ScenarioSource.read(path) }
        var config = attempt { try RunSetup.load(source) }
        if let s = seed { config.seed = s }
        var options = SimulationOptions()
        attempt { try RunSetup.loadResources(config, source: source, into: &options) }
        let runner: DemoRunner
        do { runner = try DemoRunner(demo: demo, config: config, options: options) } catch { fail("\(path): \(error)") }
        print(runner.header)
        print("")
        let interactive = step && isatty(0) != 0
        if step && interactive { print("(" + DemoKey.help + ")") }
        var session = DemoSession(runner: runner)
        var key = DemoKey.next
        loop: while true {
            let move: DemoSession.Move
            do { move = try session.apply(key) } catch { fail("\(error)", code: 1) }
            switch move {
            case .show(let r):
                print(r.text)
            case .finished:
                break loop
            case .atFirstStep:
                print("(this is the first step; nothing before it)")
            case .unknown(let s):
                print("('\(s)' is not a key here. \(DemoKey.help))")
            case .quit(let at, let of):
                print("Stopped at step \(at) of \(of).")
                if !runner.failures.isEmpty { print(runner.footer) }
                throw ExitCode(runner.failures.isEmpty ? 0 : 1)
            }
            fflush(nil)
            // Between steps, --step waits on a terminal; anything else goes straight on.
            guard interactive else { key = .next; continue }
            let pos = session.position, count = runner.script.steps.count
            let next = pos + 1 < count ? "Enter: next" : "Enter: finish"
            FileHandle.standardOutput.write(Data("[step \(pos + 1) of \(count): \(next), b: back, q: quit] ".utf8))
            key = DemoKey(line: readLine())
        }
        print(runner.footer)
        if !runner.failures.isEmpty { throw ExitCode(1) }
    }

    /// The demo's scenario file: under --demos-dir, ./Configs/demos, or the checkout the
    /// executable was built in (.build/<config>/overcommit -> ../../Configs/demos).
    func demoScenarioPath(_ demo: DemoKind) -> String {
        let fm = FileManager.default
        if let d = demosDir {
            let p = d + "/" + demo.scenarioFile
            guard fm.fileExists(atPath: p) else { fail("\(p): no such demo scenario (--demos-dir \(d))") }
            return p
        }
        var candidates = ["Configs/demos/" + demo.scenarioFile]
        let exe = URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath().deletingLastPathComponent()
        var dir = exe
        for _ in 0..<4 {
            dir = dir.deletingLastPathComponent()
            candidates.append(dir.path + "/Configs/demos/" + demo.scenarioFile)
        }
        for c in candidates where fm.fileExists(atPath: c) { return c }
        fail("cannot find the demo scenario \(demo.scenarioFile): looked in \(candidates.joined(separator: ", ")); pass --demos-dir")
    }
}
