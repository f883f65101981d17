import Foundation
import Testing
import OvercommitSupport
import Reports
import Simulation

/// docs/outputs.md's counter tables are generated from the counter declarations; this test
/// fails when the document is stale and rewrites it under `UPDATE_DOCS=1`.
@Suite struct CounterReferenceTests {
    static let path = repoRoot + "/docs/outputs.md"

    @Test func outputsDocHoldsTheGeneratedCounterTables() throws {
        let text = try String(contentsOfFile: Self.path, encoding: .utf8)
        let generated = CounterReference.markdown()
        let current: Substring
        if let a = text.range(of: CounterReference.begin), let b = text.range(of: CounterReference.end, range: a.upperBound..<text.endIndex) {
            current = text[a.lowerBound..<text.index(after: b.upperBound)]
        } else {
            current = ""
        }
        if ProcessInfo.processInfo.environment["UPDATE_DOCS"] == "1" {
            let updated =
                current.isEmpty
                ? text.replacingOccurrences(of: "PLACEHOLDER_COUNTERS\n", with: generated)
                : text.replacingOccurrences(of: String(current), with: generated)
            try updated.write(toFile: Self.path, atomically: true, encoding: .utf8)
            return
        }
        #expect(String(current) == generated, "docs/outputs.md's counter tables are stale: UPDATE_DOCS=1 swift test --filter CounterReferenceTests")
    }

    @Test func everyCounterIsInTheTablesAndTheMapping() {
        let md = CounterReference.markdown()
        func check<S>(_ prefix: String, _ c: CounterCatalog<S>) {
            for e in c.entries {
                #expect(md.contains("| `\(e.path)` | \(e.counter.unit.rawValue) |"), "\(e.path) missing from its table")
                #expect(md.contains("| `\(prefix)\(e.path)` |"), "\(prefix)\(e.path) missing from the mapping table")
            }
        }
        check("sim.", RunCounters.catalog)
        check("host.", HostCounters.catalog)
        check("guest.", GuestCounters.catalog)
        // Linux's names map to themselves: the meminfo group and the KSM counters.
        #expect(md.contains("| `guest.meminfo.MemFree` | `MemFree` |"))
        #expect(md.contains("| `host.ksm_zero_pages` |  |  | `ksm_zero_pages` |"))
        #expect(md.contains("| `guest.vmstat.kswapd_wakeups` |  | ≈ `pageoutrun` |"))
    }
}
