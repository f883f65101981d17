import Foundation
import Testing
@testable import Experiments

/// The repository root (Tests/ExperimentsTests/ is two levels down).
let experimentsRepoRoot: String = {
    var url = URL(fileURLWithPath: #filePath)
    for _ in 0..<3 { url.deleteLastPathComponent() }
    return url.path
}()

/// The how-to guides describe every metric and SLA term the code has.
@Suite struct ExperimentDocsTests {
    @Test func sweepGuideListsEveryMetric() throws {
        let text = try String(contentsOfFile: experimentsRepoRoot + "/docs/howto-sweeps.md", encoding: .utf8)
        for m in RunMetrics.all { #expect(text.contains("| `\(m.name)` |"), "docs/howto-sweeps.md lacks metric \(m.name)") }
    }

    @Test func consolidationGuideListsEverySLATerm() throws {
        let text = try String(contentsOfFile: experimentsRepoRoot + "/docs/howto-consolidation.md", encoding: .utf8)
        for t in ServiceLevel.termNames { #expect(text.contains("| `\(t)` |"), "docs/howto-consolidation.md lacks SLA term \(t)") }
    }

    @Test func metricNamesAreUniqueColumnNames() {
        let names = RunMetrics.all.map(\.name)
        #expect(Set(names).count == names.count)
        #expect(names.allSatisfy { $0.allSatisfy { $0.isLowercase || $0.isNumber || $0 == "_" || $0 == "." } })
        // Each is named after the counter it reads: host.<counter>[.agg] or guests.<path>.<agg>.
        #expect(names.allSatisfy { $0.hasPrefix("host.") || $0.hasPrefix("guests.") })
    }
}
