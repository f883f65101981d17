import Foundation
import Testing
import OvercommitSupport
import Reports
import Scenarios
@testable import Simulation

/// Counts the stop hook's calls and asks to stop after `after` of them (the engine asks
/// once between events).
final class StopAfter: @unchecked Sendable {
    let lock = NSLock()
    var calls = 0
    let after: Int
    init(_ after: Int) { self.after = after }
    func ask() -> String? {
        lock.lock(); defer { lock.unlock() }
        calls += 1
        return calls > after ? "test stop" : nil
    }
}

/// The cooperative stop hook (`SimulationOptions.stop`, what SIGINT/SIGTERM use): a stopped
/// run is a partial result whose files are complete, parse, and say so.
@Suite struct StopTests {
    func run(stopAfter n: Int?) throws -> SimulationResult {
        let c = try load(smallScenarioYAML)
        var o = SimulationOptions()
        if let n {
            let s = StopAfter(n)
            o.stop = { s.ask() }
        }
        return try Simulation(config: c, options: o).run()
    }

    @Test func aStopAfterNEventsGivesACompletePartialResult() throws {
        let r = try run(stopAfter: 400)  // about 1,000 events in the whole run
        let partial = r.partial, simulated = r.simulatedNs, duration = r.config.duration.nanoseconds
        #expect(partial)
        #expect(simulated > 0 && simulated < duration)
        #expect(r.endedEarly?.hasPrefix("test stop at ") == true)
        // The state at the stop is sampled: the series end exactly where the run stopped.
        #expect(r.hostSamples.last?.timeNs == simulated)
        #expect(r.samples.last?.timeNs == simulated)

        let files = RunReport.files(r)
        let byName = Dictionary(files.map { ($0.name, $0.contents) }) { a, _ in a }
        let summary = try #require(byName["summary.json"])
        let json = try JSONSerialization.jsonObject(with: Data(summary.utf8)) as? [String: Any]
        #expect(json?["partial"] as? Bool == true)
        #expect((json?["ended_early_reason"] as? String)?.hasPrefix("test stop at") == true)
        #expect(json?["simulated_s"] as? Double == Double(r.simulatedNs) / 1e9)
        // Every CSV row has the header's columns; the output parses as a whole (what `report` reads).
        for name in ["timeseries.csv", "host_timeseries.csv"] {
            let lines = try #require(byName[name]).split(separator: "\n")
            let columns = lines[0].split(separator: ",", omittingEmptySubsequences: false).count
            #expect(lines.count > 1)
            #expect(lines.allSatisfy { $0.split(separator: ",", omittingEmptySubsequences: false).count == columns })
        }
        let output = try RunOutput(files: byName)
        #expect(!(try HTMLReport.render(output)).isEmpty)
        #expect(RunReport.statsText(r).contains("sim.ended_early"))
    }

    @Test func aStoppedRunIsDeterministic() throws {
        let a = RunReport.files(try run(stopAfter: 600)).map(\.contents)
        let b = RunReport.files(try run(stopAfter: 600)).map(\.contents)
        #expect(a == b)
    }

    @Test func aHookThatNeverStopsChangesNothing() throws {
        let c = try load(smallScenarioYAML)
        var o = SimulationOptions()
        let s = StopAfter(Int.max)
        o.stop = { s.ask() }
        let hooked = try Simulation(config: c, options: o).run()
        let plain = try run(stopAfter: nil)
        let partial = hooked.partial || plain.partial
        #expect(!partial)
        #expect(RunReport.files(hooked).map(\.contents) == RunReport.files(plain).map(\.contents))
        #expect(s.calls > 500)  // asked between events, all along
        #expect(RunReport.summaryJSON(plain).rendered(indent: 2).contains("\"partial\": false"))
    }

    @Test func aStopBeforeTheFirstTickStillWritesOneSample() throws {
        let r = try run(stopAfter: 0)
        let partial = r.partial, simulated = r.simulatedNs
        #expect(partial)
        #expect(simulated == 0)
        #expect(r.hostSamples.count == 1)
        #expect(r.samples.count == r.guests.count)
    }
}

/// `Simulation.setupProblems`: every problem `init` would throw, without building the host.
@Suite struct SetupProblemTests {
    static let yaml = """
        name: setup
        duration: 1s
        guests:
          - name: db
            memory: 512MiB
            count: 3
            workloads:
              - {kind: database, data_file: /var/lib/nope}
          - name: web
            memory: 512MiB
            workloads:
              - {kind: idle}
              - {kind: web, docroot: /srv/none}
          - name: ok
            memory: 512MiB
            workloads:
              - {kind: trace, file: t.trace}
        """

    @Test func everyProblemIsFoundAtItsEntry() throws {
        let c = try load(Self.yaml)
        var o = SimulationOptions()
        o.textResources["t.trace"] = "R 1 0x0\nW 1 0x1000\n"
        let problems = Simulation.setupProblems(config: c, options: o)
        #expect(problems.map(\.keyPath) == ["guests[0].workloads[0]", "guests[1].workloads[1]"])
        #expect(problems[0].message.contains("data_file '/var/lib/nope'"))
        // `init` throws the first of them, at the same key (the entry, not the copy db-1).
        #expect(throws: SimulationSetupError.self) { try Simulation(config: c, options: o) }
        do { _ = try Simulation(config: c, options: o) } catch let e as SimulationSetupError {
            #expect(e.keyPath == "guests[0].workloads[0]")
        }
    }

    @Test func aTraceThatDoesNotParseOrIsMissingIsAProblem() throws {
        let c = try load(
            Self.yaml.replacingOccurrences(of: "/var/lib/nope", with: "/var/lib/db/data")
                .replacingOccurrences(of: "/srv/none", with: "/var/www/html"))
        var o = SimulationOptions()
        #expect(Simulation.setupProblems(config: c, options: o).map(\.keyPath) == ["guests[2].workloads[0]"])
        o.textResources["t.trace"] = "R 1 0x0\nQ 1 0x0\n"
        let p = Simulation.setupProblems(config: c, options: o)
        #expect(p.count == 1 && p[0].message.contains(":2:"))
        o.textResources["t.trace"] = "R 1 0x0\n"
        #expect(Simulation.setupProblems(config: c, options: o).isEmpty)
        #expect((try? Simulation(config: c, options: o)) != nil)
    }
}
