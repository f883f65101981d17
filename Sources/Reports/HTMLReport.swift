import HostPolicies
import OvercommitSupport
import Scenarios
import Simulation

/// One self-contained HTML page about a run, drawn from its output directory: the host's free
/// memory and state, where machine memory goes, page sharing and reclamation over time, then
/// per VM a stacked chart of how its memory is backed (private, shared, ballooned, compressed,
/// host-swapped, guest-swapped), its balloon target against the balloon's size, its fault
/// rates and slowdown; summary tables, the events and every statistic.
///
/// The page needs no network and no script: inline CSS, SVG drawn here (`SVGChart`). It holds
/// no wall-clock time, so the same output directory gives the same bytes. The charts follow
/// what vSphere's performance charts show per VM (consumed, shared, balloon, compressed,
/// swapped) and ESXi's free-memory states.
public enum HTMLReport {
    /// The page's HTML for a parsed output directory.
    public static func render(_ o: RunOutput) throws(ReportInputError) -> String {
        var b = PageBuilder(o)
        return try b.build()
    }

    /// Escapes text for HTML element content and attribute values.
    public static func escape(_ s: String) -> String {
        var out = ""
        out.reserveCapacity(s.utf8.count)
        for c in s.unicodeScalars {
            switch c {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "\"": out += "&quot;"
            case "'": out += "&#39;"
            default: out.unicodeScalars.append(c)
            }
        }
        return out
    }

    /// Memory in kB as the operator reads it (KiB .. TiB, three significant digits).
    public static func memory(_ kb: Double) -> String { HumanUnits.memory(kilobytes: kb, separator: " ") }

    /// Band fill of each host state (pale, so the line on top stays readable) and the
    /// darker color of its threshold line; high is green, low red.
    static let stateColors: [(state: HostMemoryState, band: String, line: String)] = [
        (.high, "#dcf0d8", "#2e7d32"),
        (.clear, "#dbe8f6", "#1f5f9f"),
        (.soft, "#fff1bf", "#a07800"),
        (.hard, "#ffdcb8", "#c25e00"),
        (.low, "#f8c9c9", "#b71c1c"),
    ]

    /// Distinct colors for many VMs (Tableau 10, then its lighter companions).
    public static let palette = [
        "#4e79a7", "#f28e2b", "#e15759", "#76b7b2", "#59a14f", "#edc948", "#b07aa1", "#ff9da7", "#9c755f", "#bab0ac",
        "#a0cbe8", "#ffbe7d", "#ff9d9a", "#86bcb6", "#8cd17d", "#f1ce63", "#d4a6c8", "#fabfd2", "#d7b5a6", "#79706e",
    ]
    static func color(_ i: Int) -> String { palette[i % palette.count] }

    public static let css = """
        body{font-family:system-ui,-apple-system,"Segoe UI",Roboto,"DejaVu Sans",sans-serif;color:#222;background:#fff;margin:0;line-height:1.4}
        main{max-width:1240px;margin:0 auto;padding:12px 20px 40px}
        h1{font-size:24px;margin:8px 0 4px}h2{font-size:20px;margin:28px 0 8px;border-bottom:2px solid #ddd;padding-bottom:4px}
        h3{font-size:16px;margin:22px 0 6px}
        p.meta{color:#555;margin:2px 0}
        nav{font-size:14px;margin:8px 0;color:#555}nav a{margin-right:10px}
        a{color:#1f5f9f}
        .banner{background:#fde2e2;border:1px solid #e0a0a0;color:#8b1a1a;padding:8px 12px;border-radius:4px;margin:10px 0;font-weight:600}
        .ok{background:#e3f4e1;border-color:#9ccc9c;color:#1b5e20}
        figure{margin:10px 0}
        .charts{display:flex;flex-wrap:wrap;gap:12px;align-items:flex-start}
        svg.chart{display:block;max-width:100%;height:auto;background:#fff;border:1px solid #e3e3e3;border-radius:4px}
        svg.chart text{font-size:12px;fill:#333;font-family:inherit}
        svg.chart .chart-title{font-size:14px;font-weight:600;fill:#222}
        svg.chart .unit{fill:#555}
        svg.chart .grid{stroke:#e6e6e6;stroke-width:1}
        svg.chart .tick,svg.chart .frame{stroke:#888;stroke-width:1}
        svg.chart .band{opacity:0.9}
        svg.chart .empty{fill:#999;font-size:14px}
        table{border-collapse:collapse;font-size:13px;margin:6px 0}
        th,td{border:1px solid #ddd;padding:3px 8px;text-align:right;white-space:nowrap}
        th{background:#f3f3f3;text-align:center}
        td.l,th.l{text-align:left}
        tr.oom_kill td,tr.guest_panic td,tr.host_out_of_memory td{background:#fdecec}
        tr.host_state td{background:#f1f6fc}
        .scroll{overflow-x:auto}
        table.fit{max-width:100%}table.fit th{white-space:normal}td.wrap{white-space:normal;overflow-wrap:anywhere;text-align:left}
        caption{text-align:left;font-weight:600;padding:4px 0;font-size:14px}
        .glance{background:#f7f9fc;border:1px solid #d8e0ea;border-radius:6px;padding:4px 16px 10px;margin:12px 0}
        .glance h2{border:none;margin-top:10px}
        .glance .lead{font-size:16px}
        .glance-tables{display:flex;flex-wrap:wrap;gap:10px 32px;align-items:flex-start}
        .st{padding:1px 6px;border-radius:3px;font-weight:600}
        .st-high{background:#dcf0d8}.st-clear{background:#dbe8f6}.st-soft{background:#fff1bf}.st-hard{background:#ffdcb8}.st-low{background:#f8c9c9}
        tr.idle td{color:#888}
        p.good{color:#1b5e20;font-weight:600}
        .about p.notes,.about ul.notes{max-width:900px}
        code{font-size:90%;background:#f1f1f1;padding:0 3px;border-radius:3px}
        @media print{main{max-width:none;padding:0}nav{display:none}.scroll{overflow:visible}svg.chart,table,figure{break-inside:avoid}.glance{break-inside:avoid}}
        details{margin:8px 0}summary{cursor:pointer;font-weight:600}
        pre{font-size:12px;background:#f7f7f7;border:1px solid #e3e3e3;padding:8px;overflow-x:auto}
        pre.wrap{white-space:pre-wrap;overflow-wrap:anywhere}
        .note{color:#555;font-size:13px}
        """
}

/// Builds the page section by section.
struct PageBuilder {
    let o: RunOutput
    var html = ""
    /// Seconds of simulated time actually run, and the configured duration (the x axes span it).
    let simulated: Double
    let duration: Double
    let endedEarly: String?

    init(_ o: RunOutput) {
        self.o = o
        simulated = o.summary[RunCounters.handles.simulated.name]?.number ?? 0
        endedEarly = o.summary[SummaryKey.endedEarlyReason]?.stringValue
        // A run that stopped early is drawn up to where it stopped, so its data fill the width.
        duration = endedEarly == nil ? max(o.scenario.duration.seconds, simulated) : simulated
    }

    static let big = (w: 1200.0, h: 320.0)
    static let small = (w: 594.0, h: 270.0)

    mutating func add(_ s: String) { html += s; html += "\n" }

    /// Values the page could not draw (not finite, or missing from summary.json), one line
    /// each: listed at the top of the page; everything else is drawn.
    var skipped: [String] = []

    /// A chart, after leaving out what it cannot draw: a line series' values that are not
    /// finite become gaps, a stacked series' become 0, and each such series is listed.
    mutating func draw(_ chart: SVGChart) -> String {
        var c = chart
        for k in c.series.indices {
            let bad = c.series[k].values.filter { !$0.isFinite }
            guard let first = bad.first else { continue }
            skipped.append("\(c.title): \(c.series[k].name), \(bad.count) of \(c.series[k].values.count) values (\(formatFixed(first, 0)))")
            if c.style == .stackedAreas { c.series[k].values = c.series[k].values.map { $0.isFinite ? $0 : 0 } }
        }
        c.levels = c.levels.filter { l in
            if l.value.isFinite { return true }
            skipped.append("\(c.title): the level \(l.label)")
            return false
        }
        return c.render()
    }

    /// A table cell from a summary value: the number, or `n/a` (listed as skipped) when the
    /// value is missing or not finite.
    mutating func cell(_ v: Double?, _ what: @autoclosure () -> String, _ format: (Double) -> String) -> String {
        guard let v, v.isFinite else {
            skipped.append("\(what()): \(v.map { formatFixed($0, 0) } ?? "null") in summary.json")
            return "n/a"
        }
        return format(v)
    }

    func esc(_ s: String) -> String { HTMLReport.escape(s) }

    /// The end-of-run marker drawn on every chart of a run that stopped early.
    var endMarkers: [SVGChart.Marker] {
        endedEarly == nil ? [] : [.init(x: simulated, label: "run ended", color: "#b71c1c")]
    }

    mutating func build() throws(ReportInputError) -> String {
        let name = o.summary[SummaryKey.scenario]?.stringValue ?? o.scenario.name
        add("<!DOCTYPE html>")
        add("<html lang=\"en\"><head><meta charset=\"utf-8\">")
        add("<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">")
        add("<title>overcommit report: \(esc(name))</title>")
        add("<style>\n\(HTMLReport.css)\n</style></head><body><main>")
        header(name)
        let skippedAt = html.endIndex
        try glance()
        scenarioNotes()
        try host()
        try vmOverview()
        for (i, g) in o.guestNames.enumerated() { try vm(g, index: i) }
        events()
        appendix()
        let version = o.summary[SummaryKey.version]?.stringValue.map { " The run was simulated by overcommit \(esc($0))." } ?? ""
        add("<p class=\"note\">Written by <code>overcommit report</code> from the files of the output directory; every figure is simulated.\(version)</p>")
        add("</main></body></html>")
        if !skipped.isEmpty {
            let items = skipped.map { "<li>\(esc($0))</li>" }.joined()
            html.insert(
                contentsOf:
                    "<div class=\"banner\">Not drawn: \(skipped.count) value\(skipped.count == 1 ? "" : "s") that \(skipped.count == 1 ? "is" : "are") not finite or missing; everything else is.<ul>\(items)</ul></div>\n",
                at: skippedAt)
        }
        return html
    }

    // MARK: Header

    mutating func header(_ name: String) {
        let s = o.scenario
        add("<h1>overcommit report: \(esc(name))</h1>")
        let guests = o.guestNames.count
        let ram = o.hostValue(HostCounters.handles.ram) ?? 0
        let configured = o.guestSummaries.reduce(0.0) { $0 + (RunOutput.value(GuestCounters.handles.configured, in: $1) ?? 0) }
        add(
            "<p class=\"meta\">seed \(s.seed) · duration \(esc(s.duration.description)) · sample interval \(esc(s.sample_interval.description))"
                + " · simulated \(formatFixed(simulated, 3)) s · host \(esc(HTMLReport.memory(ram))) RAM · \(guests) VM\(guests == 1 ? "" : "s")"
                + " configured \(esc(HTMLReport.memory(configured)))"
                + (ram > 0 ? " (\(formatFixed(configured / ram * 100, 0)) % of host RAM)" : "")
                + " · balloon policy \(esc(s.host.balloon_policy.kindName))</p>")
        if let why = endedEarly {
            add(
                "<div class=\"banner\">The run ended early: \(esc(why)), after \(formatFixed(simulated, 3)) s of \(esc(s.duration.description)). The charts end there (red line).</div>"
            )
        }
        let problems = o.summary[SummaryKey.checks]?[SummaryKey.checkProblems]?.arrayValue ?? []
        let checks = o.summary[SummaryKey.checks]?[SummaryKey.checksRun]?.number ?? 0
        if !problems.isEmpty {
            add("<div class=\"banner\">\(problems.count) invariant check problem(s): \(esc(problems.first?.stringValue ?? ""))</div>")
        } else if checks > 0 {
            add("<div class=\"banner ok\">\(formatFixed(checks, 0)) invariant checks passed.</div>")
        }
        var nav = "<nav><a href=\"#summary\">At a glance</a><a href=\"#host\">Host</a><a href=\"#vms\">VMs</a>"
        for (i, g) in o.guestNames.enumerated() { nav += "<a href=\"#vm-\(i)\">\(esc(g))</a>" }
        nav += "<a href=\"#events\">Events</a><a href=\"#statistics\">Statistics</a></nav>"
        add(nav)
    }

    // MARK: Host

    mutating func host() throws(ReportInputError) {
        let c = HostCounters.handles
        let h = o.hostSamples
        let xs = try o.hostTimes()
        let free = try o.hostColumn(c.free)
        let consumed = try o.hostColumn(c.consumed)
        let minFree = try o.hostColumn(c.minFree)
        let states = try h.strings(c.state.name)
        for (r, st) in states.enumerated() where HostMemoryState(rawValue: st) == nil {
            let p = h.position(row: r, column: c.state.name)
            throw ReportInputError(file: h.file, line: p.line, column: p.column, "state '\(st)' is not one of high, clear, soft, hard, low")
        }
        let ram = o.hostValue(c.ram) ?? 0

        add("<h2 id=\"host\">Host</h2>")
        // Summary table.
        func kb(_ k: HostCounter) -> String { cell(o.hostValue(k), "host \(k.name)") { HTMLReport.memory($0) } }
        func n(_ k: HostCounter) -> String { cell(o.hostValue(k), "host \(k.name)") { formatFixed($0, 0) } }
        let state = o.hostValue(c.state).map { HostMemoryState(level: Int($0)).rawValue } ?? "?"
        var rows: [(String, String)] = [
            ("RAM", kb(c.ram)), ("free at the end", kb(c.free)), ("minFree", kb(c.minFree)),
            ("state at the end", esc(state)),
            ("consumed (backing guest pages)", kb(c.consumed)),
            ("overhead (per-VM) + hypervisor", HTMLReport.memory((o.hostValue(c.overhead) ?? 0) + (o.hostValue(c.hypervisor) ?? 0))),
            ("saved by sharing", kb(c.savedBySharing)),
            ("\(c.pagesShared.name) / \(c.pagesSharing.name) / \(c.ksmZeroPages.name)", "\(n(c.pagesShared)) / \(n(c.pagesSharing)) / \(n(c.ksmZeroPages))"),
            ("ballooned", kb(c.ballooned)),
            ("compressed (cache frames)", "\(kb(c.compressed)) (\(kb(c.cache)))"),
            ("host-swapped", kb(c.hostSwapped)),
            ("host swap-outs / swap-ins", "\(n(c.hostSwapOuts)) / \(n(c.hostSwapIns))"),
            ("allocations blocked", n(c.blockedAllocations)),
            ("out of memory", (o.hostValue(c.outOfMemory) ?? 0) != 0 ? "yes" : "no"),
        ]
        var stateTimes: [String] = []
        for s in HTMLReport.stateColors.map(\.state) {
            stateTimes.append("\(s.rawValue) \(formatFixed(o.hostValue(c.timeIn(s)) ?? 0, 2)) s")
        }
        rows.append(("time in each state", stateTimes.joined(separator: " · ")))
        add("<table><tbody>")
        for (k, v) in rows { add("<tr><th class=\"l\">\(esc(k))</th><td class=\"l\">\(v)</td></tr>") }
        add("</tbody></table>")

        // Free memory over the host's states, with the thresholds.
        var chart = SVGChart(
            title: "Host free memory and reclaim state (log scale: the state thresholds stay visible)", style: .lines, yAxis: .logMemoryKB, xs: xs,
            xMax: duration,
            series: [.init("free memory", color: "#1f3f8f", values: free)])
        chart.width = Self.big.w; chart.height = Self.big.h
        chart.bands = stateBands(sampleTimes: xs, sampleStates: states)
        let th = o.scenario.host.states
        let mf = minFree.last ?? 0
        for c in HTMLReport.stateColors {
            let pct = th.threshold(c.state)
            chart.levels.append(.init(value: pct.fraction * mf, label: "\(c.state.rawValue) < \(pct) minFree", color: c.line))
        }
        chart.extraLegend = HTMLReport.stateColors.map { .init(name: "state \($0.state.rawValue)", color: $0.band, kind: .band) }
        chart.markers = endMarkers
        let chartSVG = draw(chart)
        add(
            "<figure>\(chartSVG)<figcaption class=\"note\">Background: the host's free-memory state (ESXi high, clear, soft, hard, low) from the state-change events. Dashed: the threshold below which each state begins, in percent of minFree (\(esc(HTMLReport.memory(mf)))); the scale is logarithmic so that gigabytes of free memory and the thresholds, a few percent of RAM, show on one chart.</figcaption></figure>"
        )

        // Where machine memory goes.
        let names = o.guestNames
        var parts: [SVGChart.Series] = []
        let overhead = zip(zip(free, consumed), xs).map { p in max(0, ram - p.0.0 - p.0.1) }
        parts.append(.init("hypervisor + VM overhead", color: "#8c8c8c", values: overhead))
        let sharedFrames = try o.hostColumn(c.sharedFrames)
        parts.append(.init("shared frames (TPS)", color: "#2e8b57", values: sharedFrames))
        for (i, g) in names.enumerated() {
            let v = try guestSeries(g, GuestCounters.handles.host.consumed, at: xs)
            parts.append(.init("\(g) consumed", color: HTMLReport.color(i), values: v))
        }
        // Whatever consumed holds beyond the per-VM figures and shared frames (rounding, caches).
        var rest = consumed
        for p in parts.dropFirst() { for i in rest.indices { rest[i] -= p.values[i] } }
        if rest.contains(where: { $0 > 0.5 }) { parts.append(.init("other consumed", color: "#6b6b6b", values: rest.map { max(0, $0) })) }
        parts.append(.init("free", color: "#e4e4e4", values: free))
        var where_ = SVGChart(
            title: "Where machine memory goes (stacked, sums to host RAM)", style: .stackedAreas, yAxis: .memoryKB,
            xs: xs, xMax: duration, series: parts)
        where_.width = Self.big.w; where_.height = Self.big.h
        where_.levels = [.init(value: ram, label: "host RAM", color: "#333")]
        where_.markers = endMarkers
        let whereSVG = draw(where_)
        add("<figure>\(whereSVG)</figure>")

        // Sharing and reclamation, side by side.
        let pagesShared = try o.hostColumn(c.pagesShared).map { $0 * 4 }
        let pagesSharing = try o.hostColumn(c.pagesSharing).map { $0 * 4 }
        let zero = try o.hostColumn(c.ksmZeroPages).map { $0 * 4 }
        var tps = SVGChart(
            title: "Page sharing (KSM counters × 4 KiB)", style: .lines, yAxis: .memoryKB, xs: xs, xMax: duration,
            series: [
                .init("saved (\(c.pagesSharing.name) + \(c.ksmZeroPages.name))", color: "#2e8b57", values: try o.hostColumn(c.savedBySharing)),
                .init("\(c.pagesShared.name) (frames)", color: "#4e79a7", values: pagesShared),
                .init(c.pagesSharing.name, color: "#f28e2b", values: pagesSharing, dashed: true),
                .init(c.ksmZeroPages.name, color: "#b07aa1", values: zero, dashed: true),
            ])
        tps.width = Self.small.w; tps.height = Self.small.h; tps.markers = endMarkers
        var reclaim = SVGChart(
            title: "Host reclamation: what each technique holds", style: .lines, yAxis: .memoryKB, xs: xs, xMax: duration,
            series: [
                .init("ballooned", color: "#c9a400", values: try o.hostColumn(c.ballooned)),
                .init("compressed", color: "#b07aa1", values: try o.hostColumn(c.compressed)),
                .init("compression cache", color: "#76b7b2", values: try o.hostColumn(c.cache), dashed: true),
                .init("host-swapped", color: "#e15759", values: try o.hostColumn(c.hostSwapped)),
            ])
        reclaim.width = Self.small.w; reclaim.height = Self.small.h; reclaim.markers = endMarkers
        let tpsSVG = draw(tps), reclaimSVG = draw(reclaim)
        add("<div class=\"charts\">\(tpsSVG)\n\(reclaimSVG)</div>")
    }

    /// The host's states as bands: exact transition times from the `host_state` events,
    /// starting from the state at the first sample (or the first event's `from`).
    func stateBands(sampleTimes: [Double], sampleStates: [String]) -> [SVGChart.Band] {
        let changes = o.events.filter { $0.kind == EventKind.hostState.rawValue }
        var current = changes.first?.field("from") ?? sampleStates.first ?? "high"
        var start = 0.0
        var out: [SVGChart.Band] = []
        func color(_ s: String) -> String { HTMLReport.stateColors.first { $0.state.rawValue == s }?.band ?? "#eeeeee" }
        if changes.isEmpty && !sampleStates.isEmpty {
            // No events (older output): the state at each sample holds until the next.
            for (i, s) in sampleStates.enumerated() {
                let end = i + 1 < sampleTimes.count ? sampleTimes[i + 1] : simulated
                out.append(.init(x0: sampleTimes[i], x1: max(end, sampleTimes[i]), color: color(s)))
            }
            return out
        }
        for e in changes {
            out.append(.init(x0: start, x1: e.timeSeconds, color: color(current)))
            current = e.field("to") ?? current
            start = e.timeSeconds
        }
        out.append(.init(x0: start, x1: simulated, color: color(current)))
        return out
    }

    /// One guest's column at the given sample instants (0 where the guest has no row).
    func guestSeries(_ guest: String, _ column: GuestCounter, at xs: [Double]) throws(ReportInputError) -> [Double] {
        let rows = o.rows(ofGuest: guest)
        let t = try o.guestTimes(rows: rows)
        let v = try o.guestColumn(column, rows: rows)
        var out = [Double](repeating: 0, count: xs.count)
        var j = 0
        for (i, x) in xs.enumerated() {
            while j < t.count && t[j] < x - 1e-9 { j += 1 }
            if j < t.count && abs(t[j] - x) < 1e-9 { out[i] = v[j] }
        }
        return out
    }

    // MARK: VMs

    mutating func vmOverview() throws(ReportInputError) {
        add("<h2 id=\"vms\">VMs</h2>")
        let guests = o.guestSummaries
        let c = GuestCounters.handles
        // One unit for every memory figure of the table, from the largest (configured memory).
        let memoryColumns = [
            c.configured, c.host.consumed, c.host.consumedPeak, c.host.privateFrames, c.host.shared, c.host.ballooned,
            c.host.balloonTarget, c.host.compressed, c.host.hostSwapped, c.swapUsed,
        ]
        let largest = guests.flatMap { g in memoryColumns.compactMap { RunOutput.value($0, in: g) } }.filter(\.isFinite).max() ?? 0
        let unit = SVGChart.memoryUnit(maxKB: largest)
        // Two tables that fit the page (and print): memory, then what the VMs' accesses cost.
        add(
            "<table class=\"fit\"><caption>Memory at the end of the run, in \(unit.label)</caption><thead><tr><th class=\"l\">VM</th><th>configured</th>"
                + "<th>consumed</th><th>peak consumed</th><th>private</th><th>shared</th><th>ballooned (target)</th><th>compressed</th>"
                + "<th>host-swapped</th><th>guest swap used</th></tr></thead><tbody>")
        for (i, g) in guests.enumerated() {
            let name = g[SummaryKey.name]?.stringValue ?? "?"
            func v(_ k: GuestCounter) -> Double? { RunOutput.value(k, in: g) }
            func mem(_ k: GuestCounter) -> String { cell(v(k), "\(name) \(k.name)") { formatFixed($0 / unit.divisor, unit.divisor == 1 ? 0 : 1) } }
            add(
                "<tr><td class=\"l\"><a href=\"#vm-\(i)\">\(esc(name))</a></td>"
                    + "<td>\(mem(c.configured))</td><td>\(mem(c.host.consumed))</td><td>\(mem(c.host.consumedPeak))</td>"
                    + "<td>\(mem(c.host.privateFrames))</td><td>\(mem(c.host.shared))</td>"
                    + "<td>\(mem(c.host.ballooned)) (\(mem(c.host.balloonTarget)))</td>"
                    + "<td>\(mem(c.host.compressed))</td><td>\(mem(c.host.hostSwapped))</td><td>\(mem(c.swapUsed))</td></tr>")
        }
        add("</tbody></table>")
        add(
            "<table class=\"fit\"><caption>Faults and their cost over the run</caption><thead><tr><th class=\"l\">VM</th><th class=\"l\">status</th>"
                + "<th>faults</th><th>major faults</th><th>guest swap-ins</th><th>host swap-ins</th><th>OOM kills</th>"
                + "<th>EAT (ns)</th><th>slowdown</th></tr></thead><tbody>")
        for (i, g) in guests.enumerated() {
            let name = g[SummaryKey.name]?.stringValue ?? "?"
            func v(_ k: GuestCounter) -> Double? { RunOutput.value(k, in: g) }
            func n(_ k: GuestCounter) -> String { cell(v(k), "\(name) \(k.name)") { formatFixed($0, 0) } }
            func real(_ k: GuestCounter, _ d: Int) -> String { cell(v(k), "\(name) \(k.name)") { formatFixed($0, d) } }
            let status = (v(c.panicked) ?? 0) != 0 ? "panicked" : (v(c.poweredOn) ?? 1) != 0 ? "running" : "not powered on"
            let hurt = (v(c.vmstat.oomKill) ?? 0) > 0 || (v(c.panicked) ?? 0) != 0
            add(
                "<tr\(hurt ? " class=\"oom_kill\"" : "")><td class=\"l\"><a href=\"#vm-\(i)\">\(esc(name))</a></td><td class=\"l\">\(status)</td>"
                    + "<td>\(n(c.vmstat.pgfault))</td><td>\(n(c.vmstat.pgmajfault))</td><td>\(n(c.vmstat.pswpin))</td><td>\(n(c.host.hostSwapIns))</td>"
                    + "<td>\(n(c.vmstat.oomKill))</td><td>\(real(c.eat, 1))</td><td>\(real(c.slowdown, 3))</td></tr>")
        }
        add("</tbody></table>")
        add(
            "<p class=\"note\">Consumed: machine memory backing the VM (private frames and its compression cache); shared: guest memory mapped to shared frames; guest swap-ins: pages the guest read back from its own swap (pswpin); host swap-ins: pages the host read back from the VM's swap file; EAT: effective memory access time over the run; slowdown: EAT against a run without faults.</p>"
        )
        if o.guestNames.count > 1 {
            var series: [SVGChart.Series] = []
            var xs: [Double] = []
            for (i, g) in o.guestNames.enumerated() {
                let r = rateRows(g)
                if xs.isEmpty { xs = r.xs }
                series.append(.init(g, color: HTMLReport.color(i), values: try alignedRates(g, c.slowdown, perSecond: false, at: xs)))
            }
            var c = SVGChart(
                title: "Slowdown of every VM per sampling interval (log scale)", style: .lines, yAxis: .log(unit: "slowdown (×)"),
                xs: xs, xMax: duration, series: series)
            c.width = Self.big.w; c.height = Self.big.h; c.markers = endMarkers
            let svg = draw(c)
            add("<figure>\(svg)</figure>")
        }
    }

    /// A guest's sample rows after the first (each covers the interval before it) and their times.
    func rateRows(_ guest: String) -> (rows: [Int], xs: [Double]) {
        let rows = Array(o.rows(ofGuest: guest).dropFirst())
        let xs = (try? o.guestTimes(rows: rows)) ?? []
        return (rows, xs)
    }

    /// A per-interval column of a guest, as a rate (per second of the interval) or as is, at the
    /// given instants (0 where the guest has no row).
    func alignedRates(_ guest: String, _ column: GuestCounter, perSecond: Bool, at xs: [Double]) throws(ReportInputError) -> [Double] {
        let all = o.rows(ofGuest: guest)
        let t = try o.guestTimes(rows: all)
        let v = try o.guestColumn(column, rows: all)
        var out = [Double](repeating: 0, count: xs.count)
        var j = 1
        for (i, x) in xs.enumerated() {
            while j < t.count && t[j] < x - 1e-9 { j += 1 }
            if j < t.count && abs(t[j] - x) < 1e-9 {
                let dt = t[j] - t[j - 1]
                out[i] = perSecond ? (dt > 0 ? v[j] / dt : 0) : v[j]
            }
        }
        return out
    }

    mutating func vm(_ name: String, index: Int) throws(ReportInputError) {
        let rows = o.rows(ofGuest: name)
        let c = GuestCounters.handles
        let xs = try o.guestTimes(rows: rows)
        let configured = RunOutput.value(c.configured, in: o.guestSummary(name)) ?? 0
        add("<h3 id=\"vm-\(index)\">VM \(esc(name))</h3>")
        let guestConfig = o.scenario.expandedGuests.first { $0.name == name }
        if let gc = guestConfig {
            let wl = gc.workloads.map(\.kind.rawValue).joined(separator: ", ")
            add("<p class=\"meta\">\(esc(HTMLReport.memory(configured))) configured · \(gc.vcpus) vCPU · workloads: \(esc(wl.isEmpty ? "none" : wl))</p>")
        }
        var markers = endMarkers
        for e in o.events where e.guest == name && (e.kind == EventKind.oomKill.rawValue || e.kind == EventKind.guestPanic.rawValue) {
            markers.append(.init(x: e.timeSeconds, label: e.kind == EventKind.oomKill.rawValue ? "OOM kill" : "panic", color: "#b71c1c"))
        }
        if rows.isEmpty {
            add("<p class=\"note\">No samples for this VM in timeseries.csv.</p>")
            return
        }
        var mem = SVGChart(
            title: "How \(name)'s memory is backed (stacked)", style: .stackedAreas, yAxis: .memoryKB, xs: xs, xMax: duration,
            series: [
                .init("private", color: "#4e79a7", values: try o.guestColumn(c.host.privateFrames, rows: rows)),
                .init("shared", color: "#59a14f", values: try o.guestColumn(c.host.shared, rows: rows)),
                .init("ballooned", color: "#edc948", values: try o.guestColumn(c.host.ballooned, rows: rows)),
                .init("compressed", color: "#b07aa1", values: try o.guestColumn(c.host.compressed, rows: rows)),
                .init("host-swapped", color: "#e15759", values: try o.guestColumn(c.host.hostSwapped, rows: rows)),
                .init("guest-swapped", color: "#f28e2b", values: try o.guestColumn(c.swapUsed, rows: rows)),
            ])
        mem.width = Self.big.w; mem.height = Self.big.h
        mem.levels = [.init(value: configured, label: "configured memory", color: "#333")]
        mem.markers = markers
        let memSVG = draw(mem)
        add(
            "<figure>\(memSVG)<figcaption class=\"note\">Guest memory by what backs it on the host; guest-swapped is memory the guest itself paged out to its swap area (above the configured line when the guest swaps).</figcaption></figure>"
        )

        var balloon = SVGChart(
            title: "Balloon: policy target and actual size", style: .lines, yAxis: .memoryKB, xs: xs, xMax: duration,
            series: [
                .init("ballooned", color: "#c9a400", values: try o.guestColumn(c.host.ballooned, rows: rows)),
                .init("target", color: "#c25e00", values: try o.guestColumn(c.host.balloonTarget, rows: rows), dashed: true),
            ])
        balloon.width = Self.small.w; balloon.height = Self.small.h; balloon.markers = markers

        let r = rateRows(name)
        var faults = SVGChart(
            title: "Faults and swap-ins per second (log scale)", style: .lines, yAxis: .log(unit: "per second"), xs: r.xs, xMax: duration,
            series: [
                .init("faults", color: "#4e79a7", values: try alignedRates(name, c.vmstat.pgfault, perSecond: true, at: r.xs)),
                .init("major faults", color: "#e15759", values: try alignedRates(name, c.vmstat.pgmajfault, perSecond: true, at: r.xs)),
                .init("guest swap-ins", color: "#f28e2b", values: try alignedRates(name, c.vmstat.pswpin, perSecond: true, at: r.xs), dashed: true),
                .init("host swap-ins", color: "#7b3294", values: try alignedRates(name, c.host.hostSwapIns, perSecond: true, at: r.xs), dashed: true),
            ])
        faults.width = Self.small.w; faults.height = Self.small.h; faults.markers = markers
        var slow = SVGChart(
            title: "Slowdown per interval (EAT / memory access, log scale)", style: .lines, yAxis: .log(unit: "slowdown (×)"),
            xs: r.xs, xMax: duration,
            series: [
                .init("slowdown", color: "#1f3f8f", values: try alignedRates(name, c.slowdown, perSecond: false, at: r.xs))
            ])
        slow.width = Self.small.w; slow.height = Self.small.h; slow.markers = markers
        let balloonSVG = draw(balloon), faultsSVG = draw(faults), slowSVG = draw(slow)
        add("<div class=\"charts\">\(balloonSVG)\n\(faultsSVG)\n\(slowSVG)</div>")
    }

    // MARK: Events and appendix

    mutating func events() {
        add("<h2 id=\"events\">Events</h2>")
        let counts = o.summary[SummaryKey.events]
        if case .object(let kv)? = counts, !kv.isEmpty {
            add("<table><thead><tr><th class=\"l\">kind</th><th>count</th></tr></thead><tbody>")
            for (k, v) in kv { add("<tr><td class=\"l\">\(esc(k))</td><td>\(formatFixed(v.number ?? 0, 0))</td></tr>") }
            add("</tbody></table>")
        }
        let limit = 500
        let shown = o.events.prefix(limit)
        if o.events.isEmpty { add("<p class=\"note\">No events.</p>"); return }
        let open = o.events.count <= 60 ? " open" : ""
        add("<details\(open)><summary>Event list (\(o.events.count)\(o.events.count > limit ? ", first \(limit) shown" : ""))</summary>")
        add(
            "<div class=\"scroll\"><table class=\"fit\"><thead><tr><th>time (s)</th><th class=\"l\">kind</th><th class=\"l\">guest</th><th class=\"l\">details</th></tr></thead><tbody>"
        )
        for e in shown {
            let details = e.fields.map { "\($0.key)=\($0.value)" }.joined(separator: " ")
            add(
                "<tr class=\"\(esc(e.kind))\"><td>\(formatFixed(e.timeSeconds, 3))</td><td class=\"l\">\(esc(e.kind))</td><td class=\"l\">\(esc(e.guest ?? "(host)"))</td><td class=\"l wrap\">\(esc(details))</td></tr>"
            )
        }
        add("</tbody></table></div>")
        if o.events.count > limit { add("<p class=\"note\">\(o.events.count - limit) more in events.jsonl.</p>") }
        add("</details>")
    }

    mutating func appendix() {
        add("<h2 id=\"statistics\">Statistics</h2>")
        add("<details><summary>Every statistic (stats.txt, \(o.stats.count) lines)</summary>")
        let w = o.stats.map(\.name.count).max() ?? 10
        var pre = ""
        for s in o.stats {
            pre +=
                s.name + String(repeating: " ", count: max(0, w - s.name.count)) + "  "
                + String(repeating: " ", count: max(0, 16 - s.value.count)) + s.value + "  " + s.unit
                + String(repeating: " ", count: max(0, 6 - s.unit.count)) + "  # " + s.summary + "\n"
        }
        add("<pre>\(esc(pre))</pre></details>")
        add("<details><summary>Resolved scenario (scenario.resolved.yaml)</summary><pre>\(esc(o.scenarioText))</pre></details>")
    }
}
