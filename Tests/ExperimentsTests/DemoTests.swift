import Foundation
import Testing
import Experiments
import PolicyLanguage
import Scenarios
import Simulation

/// The repository root (Tests/ExperimentsTests/ is two levels down).
private let repoRoot: String = {
    var url = URL(fileURLWithPath: #filePath)
    for _ in 0..<3 { url.deleteLastPathComponent() }
    return url.path
}()

/// Loads a demo's scenario and the traces it names, as the CLI does.
private func demoRunner(_ demo: DemoKind, seed: UInt64? = nil) throws -> DemoRunner {
    let file = repoRoot + "/Configs/demos/" + demo.scenarioFile
    let text = try String(contentsOfFile: file, encoding: .utf8)
    var c = try ScenarioLoader.load(text: text, file: file)
    if let seed { c.seed = seed }
    var o = SimulationOptions()
    for g in c.guests {
        for w in g.workloads {
            for p in w.resourcePaths {
                o.textResources[p] = try String(contentsOfFile: repoRoot + "/Configs/demos/" + p, encoding: .utf8)
            }
        }
    }
    if c.host.policy.isProgram {
        o.policySources[c.host.policy.files] = try c.host.policy.files.map {
            PolicySource(name: $0, text: try String(contentsOfFile: repoRoot + "/Configs/demos/" + $0, encoding: .utf8))
        }
    }
    return try DemoRunner(demo: demo, config: c, options: o)
}

/// Runs a demo to the end and returns everything it would print.
private func transcript(_ demo: DemoKind, seed: UInt64? = nil) throws -> (text: String, runner: DemoRunner, steps: [DemoStepReport]) {
    let r = try demoRunner(demo, seed: seed)
    let steps = try r.runAll()
    let text = ([r.header] + steps.map(\.text) + [r.footer]).joined(separator: "\n")
    return (text, r, steps)
}

@Suite struct DemoTests {
    @Test(arguments: DemoKind.allCases)
    func demoRunsToTheEndAndItsExpectationsHold(demo: DemoKind) throws {
        let (text, runner, steps) = try transcript(demo)
        #expect(steps.count == demo.script.steps.count)
        #expect(runner.failures.isEmpty, "\(demo.rawValue): \(runner.failures)")
        #expect(runner.checked >= steps.count, "every demo checks what it narrates")
        // Simulated time moves forward from step to step.
        for (a, b) in zip(steps, steps.dropFirst()) { #expect(a.timeNs <= b.timeNs, "\(demo.rawValue) step \(b.index + 1)") }
        // Plain terminal output: ASCII only, no escape codes.
        #expect(!text.unicodeScalars.contains { $0.value == 0x1B }, "no escape codes")
        #expect(text.unicodeScalars.allSatisfy { $0.isASCII }, "\(demo.rawValue): non-ASCII output")
        let wide = text.split(separator: "\n").filter { $0.count > 80 }
        #expect(wide.isEmpty, "\(demo.rawValue): lines wider than 80 columns: \(wide.prefix(3))")
        #expect(try runner.next() == nil, "no step after the last")
    }

    @Test(arguments: [DemoKind.cowFork, .pageSharing, .reclaimCascade])
    func demoOutputIsDeterministic(demo: DemoKind) throws {
        let a = try transcript(demo).text
        let b = try transcript(demo).text
        #expect(a == b)
    }

    @Test func everyDemoHasAScenarioFileAndASummary() throws {
        for d in DemoKind.allCases {
            #expect(FileManager.default.fileExists(atPath: repoRoot + "/Configs/demos/" + d.scenarioFile), "\(d.rawValue)")
            #expect(!d.summary.isEmpty && d.summary.count <= 60, "\(d.rawValue): the listing line fits in 80 columns")
            #expect(!d.script.steps.isEmpty)
        }
        #expect(DemoKind.listing.count == DemoKind.allCases.count)
        #expect(DemoKind.allCases.count == 11)
    }

    @Test func narrationNumbersComeFromTheSimulation() throws {
        // The cow-fork narration states the copies the simulation counted; a different trace would
        // change them. Check the rendered text carries the simulated figures, not fixed text.
        let (_, _, steps) = try transcript(.cowFork)
        let step = try #require(steps.first { $0.title == "the child writes 15 more pages" })
        #expect(step.narration.contains("cow_copies +15"))
        #expect(step.text.contains("[ok]"))
    }

    @Test func aFailedExpectationIsReported() throws {
        // Run the lazy-allocation demo with a trace whose marks are in other places: the claims
        // about exact counts must fail rather than pass silently.
        let file = repoRoot + "/Configs/demos/" + DemoKind.lazyAllocation.scenarioFile
        let c = try ScenarioLoader.load(text: try String(contentsOfFile: file, encoding: .utf8), file: file)
        var o = SimulationOptions()
        var trace = try String(contentsOfFile: repoRoot + "/Configs/demos/traces/lazy-allocation.trace", encoding: .utf8)
        // Move the "read" mark before the last 11 reads.
        var lines = trace.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        let mark = try #require(lines.firstIndex(of: "#@ read"))
        lines.remove(at: mark)
        lines.insert("#@ read", at: mark - 11)
        trace = lines.joined(separator: "\n")
        o.textResources["traces/lazy-allocation.trace"] = trace
        let r = try DemoRunner(demo: .lazyAllocation, config: c, options: o)
        _ = try r.runAll()
        #expect(r.failures.contains { $0.contains("511 reads map the zero page") })
        #expect(r.footer.contains("did NOT hold"))
    }

    @Test func aMissingTraceMarkIsAClearError() throws {
        let file = repoRoot + "/Configs/demos/" + DemoKind.cowFork.scenarioFile
        let c = try ScenarioLoader.load(text: try String(contentsOfFile: file, encoding: .utf8), file: file)
        var o = SimulationOptions()
        o.textResources["traces/cow-fork.trace"] = "M 1 0x1000 4\nW 1 0x1000\n"
        #expect {
            _ = try DemoRunner(demo: .cowFork, config: c, options: o)
        } throws: { e in
            "\(e)".contains("#@ parent-wrote")
        }
    }

    @Test func wrapKeepsLinesWithinTheWidth() {
        let text = String(repeating: "word ", count: 60) + "\n\nsecond paragraph"
        let lines = DemoText.wrap(text, width: 30)
        #expect(lines.allSatisfy { $0.count <= 30 })
        #expect(lines.contains(""))
        #expect(lines.last == "second paragraph")
    }
}
