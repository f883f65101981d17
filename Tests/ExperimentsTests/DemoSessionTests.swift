import Foundation
import Testing
import Experiments
import PolicyLanguage
import Scenarios
import Simulation

private let repoRoot: String = {
    var url = URL(fileURLWithPath: #filePath)
    for _ in 0..<3 { url.deleteLastPathComponent() }
    return url.path
}()

private func runner(_ demo: DemoKind) throws -> DemoRunner {
    let file = repoRoot + "/Configs/demos/" + demo.scenarioFile
    let c = try ScenarioLoader.load(text: try String(contentsOfFile: file, encoding: .utf8), file: file)
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

/// `--step`: Enter goes on, b goes back, q quits; every demo names its sources.
@Suite struct DemoSessionTests {
    @Test func keysAreReadAsTheHelpSays() {
        #expect(DemoKey(line: "") == .next)
        #expect(DemoKey(line: nil) == .next, "end of input goes on")
        #expect(DemoKey(line: " b ") == .back && DemoKey(line: "B") == .back)
        #expect(DemoKey(line: "q") == .quit && DemoKey(line: "quit\n") == .quit)
        #expect(DemoKey(line: "x") == .unknown("x"))
        #expect(DemoKey.help.contains("b: back") && DemoKey.help.contains("q: quit"))
    }

    @Test func backShowsThePreviousStepExactlyAsARerunWould() throws {
        var s = DemoSession(runner: try runner(.cowFork))
        guard case .show(let one) = try s.apply(.next) else { Issue.record("no first step"); return }
        #expect(try s.apply(.back) == .atFirstStep)
        guard case .show(let two) = try s.apply(.next) else { Issue.record("no second step"); return }
        #expect(two.index == 1)
        // Back: the first step again, byte for byte what a fresh run prints for it.
        #expect(try s.apply(.back) == .show(one))
        let fresh = try runner(.cowFork)
        #expect(try fresh.next()?.text == one.text)
        // Forward again: the second step as it was, without running it twice.
        #expect(try s.apply(.next) == .show(two))
        #expect(s.runner.checked == one.expectations.count + two.expectations.count)
        #expect(try s.apply(.quit) == .quit(at: 2, of: DemoKind.cowFork.script.steps.count))
    }

    @Test func walkingToTheEndFinishes() throws {
        var s = DemoSession(runner: try runner(.lazyAllocation))
        var shown = 0
        while case .show = try s.apply(.next) { shown += 1 }
        #expect(shown == DemoKind.lazyAllocation.script.steps.count)
        #expect(try s.apply(.next) == .finished)
        #expect(try s.apply(.back) == .show(s.reports[shown - 2]))
    }

    @Test(arguments: DemoKind.allCases)
    func everyDemoNamesRealSources(demo: DemoKind) throws {
        let script = demo.script
        #expect(script.sources.count >= 2, "\(demo.rawValue)")
        let header = try runner(demo).header
        #expect(header.contains("Sources:"))
        for s in script.sources {
            // A source a reader can look up: a paper (year), a kernel file or function, a manual page or a vendor document.
            let citable = s.range(of: #"(19|20)\d\d|mm/|kernel/|drivers/|\(\d\)|\(\)|Documentation/|VMware|lz4"#, options: .regularExpression) != nil
            #expect(citable, "\(demo.rawValue): \(s)")
            #expect(!s.lowercased().contains("course notes"))
        }
    }
}
