import Foundation
import PageContents
import Reports
import Scenarios
import Testing
@testable import Simulation

/// The runs of one experiment share the page hashes and compressed sizes they compute
/// (`SimulationOptions.sharedContentMemo`, used by `consolidate` and `sweep`): a run that takes
/// another run's answers writes the same bytes in every output file as a run on its own.
@Suite struct SharedContentMemoRunTests {
    static let pressure = ParallelRoundTests.scenarios[0].yaml

    static func run(_ yaml: String, memo: SharedContentMemo?, threads: Int = 1, check: Bool = false) throws -> (files: [String], result: SimulationResult) {
        let c = try ScenarioLoader.load(text: yaml, file: "shared.yaml")
        var o = SimulationOptions()
        o.threads = threads
        o.check = check
        o.checkAfterEachTick = false
        o.sharedContentMemo = memo
        let r = try Simulation(config: c, options: o).run()
        return (RunReport.files(r).map(\.contents), r)
    }

    @Test(arguments: [1, 3])
    func aRunThatTakesAnotherRunsAnswersWritesTheSameFiles(threads: Int) throws {
        let alone = try Self.run(Self.pressure, memo: nil)
        let memo = SharedContentMemo()
        // A first run of the experiment (a smaller host: other decisions, the same contents).
        let smaller = Self.pressure.replacingOccurrences(of: "count: 4", with: "count: 3")
        _ = try Self.run(smaller, memo: memo)
        let before = memo.counts
        #expect(before.stores > 1000, "the first run hashed and compressed pages into the shared memo: \(before)")
        let second = try Self.run(Self.pressure, memo: memo, threads: threads)
        #expect(memo.counts.hits - before.hits > 1000, "the second run took the first run's answers: \(memo.counts.hits - before.hits)")
        #expect(second.result.host.compressions > 0, "host paging compressed pages (the size memo is exercised)")
        for (k, (a, b)) in zip(alone.files, second.files).enumerated() {
            #expect(a == b, "output file \(k) differs between a run alone and a run with the shared memo (\(threads) threads)")
        }
    }

    /// In check mode every shared answer is verified against the page bytes.
    @Test func checkModeFindsTheSharedAnswersRight() throws {
        let memo = SharedContentMemo()
        _ = try Self.run(Self.pressure, memo: memo)
        let checked = try Self.run(Self.pressure, memo: memo, check: true)
        #expect(checked.result.checkProblems.isEmpty, "\(checked.result.checkProblems.prefix(3))")
        #expect(memo.counts.hits > 1000)
    }
}
