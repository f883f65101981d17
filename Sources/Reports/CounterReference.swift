import OvercommitSupport
import Simulation

/// The counter tables of docs/outputs.md, generated from the counter declarations (as
/// docs/config-reference.md is from the parameter tables): every counter's name, unit, kind,
/// whether it is a time-series column, its description, and where real systems show the
/// same figure. `CounterReferenceTests` fails when the document is stale;
/// `UPDATE_DOCS=1 swift test --filter CounterReferenceTests` rewrites it.
public enum CounterReference {
    public static let begin =
        "<!-- BEGIN counter tables: generated from Sources/Simulation/*Counters*.swift; "
        + "UPDATE_DOCS=1 swift test --filter CounterReferenceTests -->"
    public static let end = "<!-- END counter tables -->"

    /// The generated block, markers included.
    public static func markdown() -> String {
        var out = [begin, ""]
        out += table("Run", "stats.txt `sim.<name>`, the top level of summary.json", RunCounters.catalog, series: nil)
        out += table("Host", "stats.txt `host.<name>`, summary.json `host`", HostCounters.catalog, series: "host_timeseries.csv")
        out += table(
            "NUMA node", "stats.txt `host.node<N>.<name>`, summary.json `host.nodes[N]` (hosts of more than one node only)",
            NodeCounters.catalog, series: "host_timeseries.csv` as `node<N>.<name>")
        out += table(
            "Guest", "stats.txt `guest.<guest>.<path>`, each object of summary.json `guests` (groups as nested objects)",
            GuestCounters.catalog, series: "timeseries.csv")
        out += table(
            "Guest on a NUMA host", "stats.txt `guest.<guest>.numa.<name>`, summary.json `guests[].numa` (hosts of more than one node only)",
            VMNUMACounters.catalog, series: nil)
        out += table(
            "Guest NUMA node",
            "stats.txt `guest.<guest>.node<N>.<name>`, summary.json `guests[].nodes[N]` (guests of more than one node only: wide VMs)",
            GuestNodeCounters.catalog, series: nil)
        out.append("### The same figures in real systems")
        out.append("")
        out.append(
            "Where Linux (inside the guest, or on a KVM host for the host's counters), KSM, esxtop or `virsh dommemstat` "
                + "shows the same figure; `≈` marks a close but not identical one, `(a rate)` a per-second figure of a count. "
                + "An empty cell: that system has no such figure.")
        out.append("")
        out.append("| Counter | " + Equivalent.Source.allCases.map(\.rawValue).joined(separator: " | ") + " |")
        out.append("|---|" + String(repeating: "---|", count: Equivalent.Source.allCases.count))
        out += mapping("sim.", RunCounters.catalog)
        out += mapping("host.", HostCounters.catalog)
        out += mapping("host.node<N>.", NodeCounters.catalog)
        out += mapping("guest.", GuestCounters.catalog)
        out += ["", end]
        return out.joined(separator: "\n") + "\n"
    }

    static func kind<S>(_ c: OutputCounter<S>) -> String {
        switch c.kind {
        case .gauge: "level"
        case .events: "events"
        case .derived: "formula"
        }
    }

    static func table<S>(_ title: String, _ where_: String, _ catalog: CounterCatalog<S>, series: String?) -> [String] {
        var out = ["### \(title) counters", "", "In \(where_)" + (series.map { "; the ones marked in the last column are columns of `\($0)`." } ?? "."), ""]
        out.append("| Name | Unit | Kind | Description |" + (series == nil ? "" : " Series |"))
        out.append("|---|---|---|---|" + (series == nil ? "" : "---|"))
        for e in catalog.entries {
            let c = e.counter
            out.append(
                "| `\(e.path)` | \(c.unit.rawValue) | \(kind(c)) | \(c.summary.replacing("|", with: "\\|")) |"
                    + (series == nil ? "" : (c.sampled ? " yes |" : " |")))
        }
        out.append("")
        return out
    }

    /// `≈ pageoutrun` -> ≈ `pageoutrun`; `SWR/s (a rate)` -> `SWR/s` (a rate): names in code, notes as text.
    static func cell(_ name: String) -> String {
        name.split(separator: ";").map { part -> String in
            var p = part.trimmingPrefix(" ")
            var approx = ""
            if p.hasPrefix("≈ ") { approx = "≈ "; p = p.dropFirst(2) }
            if !p.hasPrefix("("), let open = p.range(of: " (") {
                return approx + "`\(p[..<open.lowerBound])`" + p[open.lowerBound...]
            }
            return approx + "`\(p)`"
        }.joined(separator: "; ")
    }

    static func mapping<S>(_ prefix: String, _ catalog: CounterCatalog<S>) -> [String] {
        catalog.entries.map { e in
            let cells = Equivalent.Source.allCases.map { s in
                e.counter.equivalents.filter { $0.source == s }.map { cell($0.name) }.joined(separator: ", ")
            }
            return "| `\(prefix)\(e.path)` | " + cells.joined(separator: " | ") + " |"
        }
    }
}
