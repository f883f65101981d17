import Foundation
import OvercommitSupport
import Reports

/// Self-contained HTML pages for experiments: a sweep directory (`overcommit sweep --out`,
/// `merge --out`) and a consolidation directory (`overcommit consolidate --out`).
///
/// Like the run report: one offline page, inline CSS and SVG, no script, no clock, so the same
/// files give the same bytes. The sweep page draws every metric family against the swept key
/// with 95 % confidence intervals (as a simulation study plots its points), then the table;
/// the consolidation page draws each SLA term against the number of VMs with its limit, and
/// marks where the SLA broke.
public enum ExperimentReportPage {
    static func page(title: String, body: String) -> String {
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\n"
            + "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
            + "<title>\(HTMLReport.escape(title))</title>\n<style>\n\(HTMLReport.css)\n</style></head><body><main>\n"
            + body
            + "<p class=\"note\">Written by <code>overcommit report</code> from the files of the output directory; every figure is simulated.</p>\n"
            + "</main></body></html>\n"
    }

    static func esc(_ s: String) -> String { HTMLReport.escape(s) }

    // MARK: Sweep

    /// A metric family: the metrics drawn on one chart (one unit, one scale).
    struct Family {
        var title: String
        var axis: SVGChart.YAxis
        var metrics: [String]
    }

    /// The family of a metric, from its declaration (its unit); a column the declarations do
    /// not know (a newer file) goes by its suffix.
    static func familyKey(_ name: String) -> String {
        if let m = RunMetrics.named(name) {
            switch m.unit {
            case .kilobytes:
                return name.hasPrefix("guests.") ? "guest memory" : name.contains("free") || name.contains("consumed") ? "host memory" : "reclaimed"
            case .seconds: return "time"
            case .ratio: return "slowdown"
            case .perSecond: return "rates"
            default: return name.hasPrefix("guests.") || name.hasPrefix("host.out_of") ? "failures" : "events"
            }
        }
        if name.hasSuffix("_kb") || name.contains("_kb.") { return "host memory" }
        if name.hasSuffix("_s") { return "time" }
        return "events"
    }

    static let familyTitles: [(key: String, title: String)] = [
        ("host memory", "Host free and consumed memory"),
        ("reclaimed", "What each technique holds at the end"),
        ("guest memory", "Guest swap"),
        ("time", "Time in each host state"),
        ("slowdown", "Slowdown (EAT against plain memory access)"),
        ("rates", "Rates per simulated second"),
        ("events", "Event counts"),
        ("failures", "OOM kills, refused allocations, failed VMs"),
    ]

    /// The page for a sweep directory: `plan.txt` and `sweep.csv`.
    public static func sweep(plan: String, sweepCSV: String, dir: String) throws(ReportInputError) -> String {
        let t = try CSVTable(text: sweepCSV, file: "sweep.csv")
        guard let nCol = t.header.firstIndex(of: "n"), t.header.first == "point" else {
            throw ReportInputError(file: "sweep.csv", line: 1, column: 1, "expected the header 'point,<swept keys>,n,<metric>_mean,<metric>_ci95,...'")
        }
        let axes = Array(t.header[1..<nCol])
        var metrics: [String] = []
        for h in t.header[(nCol + 1)...] where h.hasSuffix("_mean") {
            let m = String(h.dropLast(5))
            guard t.header.contains(m + "_ci95") else {
                throw ReportInputError(file: "sweep.csv", line: 1, column: 1, "column '\(h)' has no '\(m)_ci95' beside it")
            }
            metrics.append(m)
        }
        guard !t.rows.isEmpty else { throw ReportInputError(file: "sweep.csv", line: 2, column: 1, "no points") }
        func number(_ row: Int, _ col: String) throws(ReportInputError) -> Double {
            let i = try t.index(of: col)
            let f = t.rows[row][i]
            if f.isEmpty { return .nan }
            guard let v = Double(f) else {
                let p = t.position(row: row, column: col)
                throw ReportInputError(file: "sweep.csv", line: p.line, column: p.column, "'\(f)' is not a number")
            }
            return v
        }
        let rows = t.rows.indices
        let planLines = plan.split(separator: "\n").map(String.init)
        func planValue(_ k: String) -> String? { planLines.first { $0.hasPrefix(k + ": ") }.map { String($0.dropFirst(k.count + 2)) } }
        let scenario = planValue("scenario_name") ?? planValue("scenario") ?? "?"
        let runs = planValue("runs") ?? "?"

        // x: the first swept key (numbers if every value is one, else categories); one series
        // per combination of the other keys' values.
        let xKey = axes.first ?? "point"
        let xValues = rows.map { axes.isEmpty ? "\($0)" : t.rows[$0][1] }
        var xCats: [String] = []
        for v in xValues where !xCats.contains(v) { xCats.append(v) }
        let numeric = xCats.allSatisfy { Double($0) != nil } && xCats.count > 1
        let xNum = xCats.map { Double($0) ?? 0 }
        let order = numeric ? xCats.indices.sorted { xNum[$0] < xNum[$1] } : Array(xCats.indices)
        let sortedCats = order.map { xCats[$0] }
        var groups: [String] = []
        var groupOf: [String] = []
        for r in rows {
            let g = axes.count > 1 ? (2..<(1 + axes.count)).map { "\(t.header[$0])=\(t.rows[r][$0])" }.joined(separator: ", ") : ""
            groupOf.append(g)
            if !groups.contains(g) { groups.append(g) }
        }

        var b = ""
        b += "<h1>overcommit sweep: \(esc(scenario))</h1>\n"
        b +=
            "<p class=\"meta\">\(t.rows.count) points × \(esc(runs)) run\(runs == "1" ? "" : "s") each · swept: \(esc(axes.joined(separator: ", ")))"
            + " · directory \(esc(dir)) · each point is the mean of its runs, the bars its 95 % confidence interval (Student's t)</p>\n"
        if runs == "1" {
            b += "<p class=\"note\">One run per point: no confidence interval can be given (sweep with --runs 3 or more).</p>\n"
        }
        let navAt = b.utf8.count
        var drawnFamilies: [(key: String, title: String)] = []

        // Charts, one per family; metrics zero at every point are listed, not drawn.
        var zero: [String] = []
        let colors = HTMLReport.palette
        for f in familyTitles {
            let ms = metrics.filter { familyKey($0) == f.key }
            var series: [SVGChart.Series] = []
            var allValues: [Double] = []
            for m in ms {
                var drawn = false
                for (gi, g) in groups.enumerated() {
                    var values = [Double](repeating: .nan, count: sortedCats.count)
                    var errors = [Double](repeating: 0, count: sortedCats.count)
                    for r in rows where groupOf[r] == g {
                        guard let k = sortedCats.firstIndex(of: xValues[r]) else { continue }
                        values[k] = try number(r, m + "_mean")
                        let e = try number(r, m + "_ci95")
                        errors[k] = e.isFinite ? e : 0
                    }
                    if values.allSatisfy({ !$0.isFinite || $0 == 0 }) { continue }
                    drawn = true
                    allValues += values.filter(\.isFinite)
                    let name = groups.count > 1 ? "\(m) [\(g)]" : m
                    series.append(
                        .init(
                            name, color: colors[(series.count) % colors.count], values: values,
                            dashed: gi % 2 == 1 && groups.count > 1, errors: errors))
                }
                if !drawn { zero.append(m) }
            }
            guard !series.isEmpty else { continue }
            let memory = ms.first.map { RunMetrics.named($0)?.unit == .kilobytes } ?? false
            let positive = allValues.filter { $0 > 0 }
            let spread = (positive.max() ?? 1) / max(positive.min() ?? 1, 1e-12)
            let unit = ms.first.flatMap { RunMetrics.named($0) }.map(unitName) ?? ""
            let axis: SVGChart.YAxis = memory ? .memoryKB : (spread > 300 && f.key != "time" ? .log(unit: unit + " (log scale)") : .linear(unit: unit))
            // Chunks of at most eight series, so the legend stays readable.
            let chunks = stride(from: 0, to: series.count, by: 8).map { Array(series[$0..<min($0 + 8, series.count)]) }
            drawnFamilies.append(f)
            b += "<h2 id=\"f-\(f.key.replacingOccurrences(of: " ", with: "-"))\">\(esc(f.title))</h2>\n<div class=\"charts\">\n"
            for (ci, chunk) in chunks.enumerated() {
                let xs = numeric ? order.map { xNum[$0] } : sortedCats.indices.map(Double.init)
                var c = SVGChart(
                    title: f.title + (chunks.count > 1 ? " (\(ci + 1)/\(chunks.count))" : ""), style: .lines, yAxis: axis,
                    xs: xs, xMax: xs.last ?? 1, series: chunk)
                c.xLabel = xKey
                c.dots = true
                if numeric {
                    let lo = xs.first ?? 0, hi = xs.last ?? 1, pad = (hi - lo) * 0.04
                    c.xMin = lo - pad; c.xMax = hi + pad
                    if xs.allSatisfy({ $0 == $0.rounded() }) { c.xStepMin = 1 }
                } else {
                    c.xCategories = sortedCats
                }
                c.width = 1200; c.height = 320
                b += c.render() + "\n"
            }
            b += "</div>\n"
        }
        var nav = "<nav>"
        for f in drawnFamilies { nav += "<a href=\"#f-\(f.key.replacingOccurrences(of: " ", with: "-"))\">\(esc(f.title))</a>" }
        b.insert(contentsOf: nav + "<a href=\"#table\">Table</a><a href=\"#plan\">Plan</a></nav>\n", at: b.utf8.index(b.utf8.startIndex, offsetBy: navAt))
        if !zero.isEmpty {
            b += "<p class=\"note\">Zero at every point (not drawn): \(esc(zero.joined(separator: ", "))).</p>\n"
        }

        // The table, transposed (a metric per row, a point per column), in slices that fit.
        b += "<h2 id=\"table\">Every metric at every point (mean ± 95 % CI)</h2>\n"
        let perTable = 6
        for start in stride(from: 0, to: t.rows.count, by: perTable) {
            let cols = Array(start..<min(start + perTable, t.rows.count))
            b += "<table class=\"fit sweep\"><thead><tr><th class=\"l\">metric</th>"
            for r in cols {
                b += "<th>\(axes.isEmpty ? "point \(r)" : axes.indices.map { esc(axes[$0]) + "=" + esc(t.rows[r][1 + $0]) }.joined(separator: "<br>"))</th>"
            }
            b += "</tr></thead><tbody>\n"
            for m in metrics {
                b += "<tr><td class=\"l\">\(esc(m))</td>"
                for r in cols {
                    let v = try number(r, m + "_mean"), e = try number(r, m + "_ci95")
                    let metric = RunMetrics.named(m)
                    func h(_ x: Double) -> String {
                        guard let metric else { return HumanUnits.significant(x) }
                        return metric.unit == .kilobytes ? HTMLReport.memory(x) : RunMetrics.human(metric, x)
                    }
                    b += "<td>\(v.isFinite ? esc(h(v)) : "n/a")\(e.isFinite && e > 0 ? " ± " + esc(h(e)) : "")</td>"
                }
                b += "</tr>\n"
            }
            b += "</tbody></table>\n"
        }
        b += "<h2 id=\"plan\">Plan</h2>\n<details><summary>plan.txt</summary><pre>\(esc(plan))</pre></details>\n"
        return page(title: "overcommit report: sweep \(scenario)", body: b)
    }

    static func unitName(_ m: RunMetric) -> String {
        switch m.unit {
        case .seconds: "seconds"
        case .ratio: "× (ratio)"
        case .perSecond: "per simulated second"
        default: "count"
        }
    }

    // MARK: Consolidation

    /// The page for a consolidation directory: `consolidation.json` (one search, or several
    /// side by side with --compare) and `consolidation.txt` (the console's text).
    public static func consolidation(json text: String, summary: String, dir: String) throws(ReportInputError) -> String {
        let v = try JSONParser.parse(text, file: "consolidation.json")
        let searches = v.arrayValue ?? [v]
        var b = "<h1>overcommit consolidate</h1>\n"
        b += "<p class=\"meta\">directory \(esc(dir)) · \(searches.count) search\(searches.count == 1 ? "" : "es")</p>\n"
        for (si, s) in searches.enumerated() {
            b += try consolidationSection(s, index: si)
        }
        b += "<h2>Console summary</h2><pre class=\"wrap\">\(esc(summary))</pre>\n"
        return page(title: "overcommit report: consolidation", body: b)
    }

    static func consolidationSection(_ s: JSONValue, index: Int) throws(ReportInputError) -> String {
        func bad(_ what: String) -> ReportInputError { ReportInputError(file: "consolidation.json", line: 1, column: 1, what) }
        guard let evaluated = s["evaluated"]?.arrayValue else { throw bad("search \(index + 1): no 'evaluated' list") }
        let label = s["label"]?.stringValue ?? ""
        let mode: String
        if let vm = s["mode"]?["vm"]?.stringValue { mode = "copies of \(vm)" } else { mode = "copies of the whole mix" }
        struct Point {
            var vms: Double; var passed: Bool; var ratio: Double;
            var terms: [(name: String, measured: Double, limit: Double?, unit: String, checked: Bool, passed: Bool)]
        }
        var points: [Point] = []
        for e in evaluated {
            guard let vms = e["vms"]?.number, let terms = e["terms"]?.arrayValue else { throw bad("search \(index + 1): a point without 'vms' or 'terms'") }
            points.append(
                Point(
                    vms: vms, passed: e["passed"]?.boolValue ?? false, ratio: e["ratio"]?.number ?? 0,
                    terms: terms.map { t in
                        (
                            t["name"]?.stringValue ?? "?", t["measured"]?.number ?? .nan, t["limit"]?.number, t["unit"]?.stringValue ?? "",
                            t["checked"]?.boolValue ?? false, t["passed"]?.boolValue ?? true
                        )
                    }))
        }
        points.sort { $0.vms < $1.vms }
        let limitVMs = s["limit"]?["vms"]?.number
        let beyondVMs = s["beyond"]?["vms"]?.number
        var b = "<h2>\(label.isEmpty ? "" : esc(label) + ": ")\(esc(mode))</h2>\n"
        let ratio = s["consolidation_ratio"]?.number
        let verdict: String
        if let l = limitVMs {
            verdict =
                "The SLA holds up to <b>\(formatFixed(l, 0)) VMs</b>" + (ratio.map { " (consolidation ratio \(formatFixed($0, 2)))" } ?? "")
                + (beyondVMs.map { "; at \(formatFixed($0, 0)) VMs it breaks" } ?? "; it held up to --max-vms")
                + ((s["first_breaking"]?.arrayValue ?? []).isEmpty
                    ? "."
                    : ": "
                        + (s["first_breaking"]?.arrayValue ?? []).map { t in
                            esc(t["name"]?.stringValue ?? "?") + " " + formatFixed(t["measured"]?.number ?? .nan, 3) + " &gt; "
                                + formatFixed(t["limit"]?.number ?? .nan, 3)
                        }.joined(separator: ", ") + ".")
        } else {
            verdict = "Even one copy breaks the SLA."
        }
        b += "<div class=\"banner \(limitVMs == nil ? "" : "ok")\">\(verdict)</div>\n"

        // One chart per checked term with a finite limit: measured against the VMs, the limit
        // as a line, the last size that held and the first that broke as markers.
        let termNames = points.first?.terms.map(\.name) ?? []
        b += "<div class=\"charts\">\n"
        var flat: [String] = []
        for (ti, name) in termNames.enumerated() {
            let ts = points.compactMap { p in p.terms.indices.contains(ti) ? p.terms[ti] : nil }
            guard ts.count == points.count, ts.contains(where: { $0.checked }) else { continue }
            let values = ts.map(\.measured)
            let limit = ts.compactMap(\.limit).first
            if let l = limit, l == 0, values.allSatisfy({ $0 == 0 }) { flat.append(name); continue }
            let xs = points.map(\.vms)
            var c = SVGChart(
                title: "\(name) against the number of VMs", style: .lines,
                yAxis: .linear(unit: ts.first?.unit.isEmpty == false ? ts.first!.unit : name), xs: xs, xMax: (xs.last ?? 1) + 0.5,
                series: [.init(name, color: "#1f5f9f", values: values)])
            c.xLabel = "VMs on the host"
            c.xStepMin = 1
            c.xMin = max(0, (xs.first ?? 1) - 0.5)
            c.dots = true
            if let l = limit, l.isFinite { c.levels = [.init(value: l, label: "SLA limit \(HumanUnits.significant(l))", color: "#b71c1c")] }
            if let l = limitVMs { c.markers.append(.init(x: l, label: "holds: \(formatFixed(l, 0)) VMs", color: "#2e7d32")) }
            if let x = beyondVMs { c.markers.append(.init(x: x, label: "breaks: \(formatFixed(x, 0))", color: "#b71c1c", labelRow: 1)) }
            c.width = 594; c.height = 280
            b += c.render() + "\n"
        }
        b += "</div>\n"
        if !flat.isEmpty { b += "<p class=\"note\">Zero at every size, limit 0 (not drawn): \(esc(flat.joined(separator: ", "))).</p>\n" }

        // The table: every size tried, every checked term with its margin.
        let checked = termNames.indices.filter { ti in points.contains { p in p.terms.indices.contains(ti) && p.terms[ti].checked } }
        b +=
            "<table class=\"fit\"><caption>Every size tried (measured; margin to the limit in brackets, negative when over it)</caption><thead><tr><th>VMs</th><th>ratio</th><th class=\"l\">SLA</th>"
        for ti in checked { b += "<th>\(esc(termNames[ti]).replacingOccurrences(of: "_", with: "_<wbr>"))</th>" }
        b += "</tr></thead><tbody>\n"
        for p in points {
            b +=
                "<tr\(p.passed ? "" : " class=\"oom_kill\"")><td>\(formatFixed(p.vms, 0))</td><td>\(formatFixed(p.ratio, 2))</td><td class=\"l\">\(p.passed ? "holds" : "breaks")</td>"
            for ti in checked {
                let t = p.terms[ti]
                let margin = t.limit.map { $0 - t.measured }
                b += "<td>\(HumanUnits.significant(t.measured))\(margin.map { " (\(HumanUnits.significant($0)))" } ?? "")\(t.passed ? "" : " ✗")</td>"
            }
            b += "</tr>\n"
        }
        b += "</tbody></table>\n"
        return b
    }
}
