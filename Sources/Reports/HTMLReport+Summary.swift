import HostPolicies
import OvercommitSupport
import Simulation

/// The top of the report: what a reader should grasp in ten seconds. How full the host got
/// and when its free-memory state changed, what each reclamation technique took back, which
/// VMs paid for it (slowdown, swap-ins, OOM kills), then the scenario's own description and
/// its "what to look for" notes.
///
/// Everything here is read from the run's files, like the rest of the page: the state changes
/// from the `host_state` events, the techniques' peaks from host_timeseries.csv, the VMs'
/// figures from summary.json.
extension PageBuilder {
    /// A VM's figures for the "who suffered" table.
    struct Suffering {
        var index: Int
        var name: String
        var slowdown: Double
        var majorFaults: Double
        var guestSwapIns: Double
        var hostSwapIns: Double
        var oomKills: Double
        var panicked: Bool
        /// Slower than plain memory by more than 5 %, or something was lost.
        var suffered: Bool { slowdown > 1.05 || oomKills > 0 || panicked }
    }

    /// At most this many state changes are listed one by one.
    static let listedStateChanges = 12
    /// At most this many VMs are listed in the "who suffered" table (the worst first).
    static let listedVMs = 10

    mutating func glance() throws(ReportInputError) {
        let h = HostCounters.handles, g = GuestCounters.handles
        add("<section class=\"glance\" id=\"summary\"><h2>At a glance</h2>")

        // 1. How full the host got, and the state changes with their times.
        let xs = try o.hostTimes()
        let free = try o.hostColumn(h.free)
        let ram = o.hostValue(h.ram) ?? 0
        var sentence = ""
        if let minIdx = free.indices.min(by: { free[$0] < free[$1] }), let first = free.first {
            sentence +=
                "Free host memory went from \(esc(HTMLReport.memory(first))) down to \(esc(HTMLReport.memory(free[minIdx])))"
                + " at \(formatFixed(xs[minIdx], 1)) s"
                + (ram > 0 ? " (\(formatFixed(free[minIdx] / ram * 100, 1)) % of RAM)" : "")
                + " and ended at \(esc(HTMLReport.memory(free.last ?? 0))). "
        }
        let changes = o.events.filter { $0.kind == EventKind.hostState.rawValue }
        let states = HTMLReport.stateColors.map(\.state)
        let spent = states.compactMap { s -> String? in
            let t = o.hostValue(h.timeIn(s)) ?? 0
            return t > 0 ? "\(s.rawValue) \(formatFixed(t, 1)) s" : nil
        }
        if changes.isEmpty {
            let st = o.hostValue(h.state).map { HostMemoryState(level: Int($0)).rawValue } ?? "?"
            sentence += "The host stayed in the <b>\(esc(st))</b> state all run."
        } else {
            // The deepest state reached (the last of ESXi's order high .. low), and when first.
            let reached = changes.compactMap { e in e.field("to").flatMap(HostMemoryState.init(rawValue:)).map { (e, $0) } }
            let deepest = reached.max { $0.1 < $1.1 }
            let deep =
                deepest.map { d in
                    "; the deepest, <span class=\"st st-\(d.1.rawValue)\">\(d.1.rawValue)</span>, first at \(formatFixed(reached.first { $0.1 == d.1 }!.0.timeSeconds, 2)) s"
                } ?? ""
            sentence +=
                "The host changed state \(changes.count) time\(changes.count == 1 ? "" : "s")\(deep) (time in each: \(esc(spent.joined(separator: ", "))))."
        }
        add("<p class=\"lead\">\(sentence)</p>")
        if !changes.isEmpty {
            var items = ["<span class=\"st st-\(esc(changes[0].field("from") ?? "?"))\">\(esc(changes[0].field("from") ?? "?"))</span> at 0 s"]
            for e in changes.prefix(Self.listedStateChanges) {
                let to = e.field("to") ?? "?"
                items.append("<span class=\"st st-\(esc(to))\">\(esc(to))</span> at \(formatFixed(e.timeSeconds, 2)) s")
            }
            let more = changes.count > Self.listedStateChanges ? " → … \(changes.count - Self.listedStateChanges) more (events.jsonl, the Events list)" : ""
            add("<p class=\"states\">State changes: \(items.joined(separator: " → "))\(more)</p>")
        }

        // 2. What each technique reclaimed: peak and end, from the host's time series.
        func peak(_ c: HostCounter) throws(ReportInputError) -> (value: Double, at: Double) {
            let v = try o.hostColumn(c)
            guard let i = v.indices.max(by: { v[$0] < v[$1] }) else { return (0, 0) }
            return (v[i], xs[i])
        }
        let techniques: [(String, HostCounter, String)] = [
            ("page sharing (TPS / KSM)", h.savedBySharing, "guest pages mapped to a frame another page already holds (pages_sharing + ksm_zero_pages)"),
            ("ballooning", h.ballooned, "guest memory the balloon drivers hold, given back to the host"),
            ("compression", h.compressionSaved, "guest memory held compressed, minus the cache frames that hold it"),
            ("host swap", h.hostSwapped, "guest memory in the host's swap files"),
        ]
        add(
            "<div class=\"glance-tables\"><table class=\"fit\"><caption>What each technique reclaimed</caption>"
                + "<thead><tr><th class=\"l\">technique</th><th>peak</th><th>at</th><th>at the end</th></tr></thead><tbody>")
        for (name, c, what) in techniques {
            let p = try peak(c)
            let end = o.hostValue(c) ?? 0
            let idle = p.value <= 0
            add(
                "<tr\(idle ? " class=\"idle\"" : "")><td class=\"l\" title=\"\(esc(what))\">\(esc(name))</td>"
                    + "<td>\(idle ? "—" : esc(HTMLReport.memory(p.value)))</td><td>\(idle ? "" : formatFixed(p.at, 1) + " s")</td>"
                    + "<td>\(idle ? "—" : esc(HTMLReport.memory(end)))</td></tr>")
        }
        add("</tbody></table>")

        // 3. Who suffered: the VMs by slowdown, with their swap-ins and OOM kills.
        var vms: [Suffering] = []
        for (i, s) in o.guestSummaries.enumerated() {
            func v(_ c: GuestCounter) -> Double { RunOutput.value(c, in: s) ?? 0 }
            let sd = RunOutput.value(g.slowdown, in: s) ?? 1
            vms.append(
                Suffering(
                    index: i, name: s[SummaryKey.name]?.stringValue ?? "?", slowdown: sd.isFinite ? sd : 1,
                    majorFaults: v(g.vmstat.pgmajfault), guestSwapIns: v(g.vmstat.pswpin),
                    hostSwapIns: v(g.host.hostSwapIns), oomKills: v(g.vmstat.oomKill), panicked: v(g.panicked) != 0))
        }
        let worst = vms.sorted { a, b in
            a.oomKills + (a.panicked ? 1 : 0) != b.oomKills + (b.panicked ? 1 : 0)
                ? a.oomKills + (a.panicked ? 1 : 0) > b.oomKills + (b.panicked ? 1 : 0)
                : a.slowdown != b.slowdown ? a.slowdown > b.slowdown : a.index < b.index
        }
        let suffered = worst.filter(\.suffered)
        let shown = (suffered.isEmpty ? Array(worst.prefix(3)) : Array(suffered.prefix(Self.listedVMs)))
        let caption =
            suffered.isEmpty
            ? "No VM ran more than 5 % slower than plain memory access (the slowest shown)"
            : "\(suffered.count) of \(vms.count) VM\(vms.count == 1 ? "" : "s") suffered (slowdown above 1.05× or OOM kills)"
                + (suffered.count > shown.count ? "; the worst \(shown.count) shown" : "")
        add(
            "<table class=\"fit\"><caption>\(esc(caption))</caption><thead><tr><th class=\"l\">VM</th><th>slowdown</th>"
                + "<th>major faults</th><th>guest swap-ins</th><th>host swap-ins</th><th>OOM kills</th></tr></thead><tbody>")
        for v in shown {
            let bad = v.oomKills > 0 || v.panicked
            add(
                "<tr\(bad ? " class=\"oom_kill\"" : "")><td class=\"l\"><a href=\"#vm-\(v.index)\">\(esc(v.name))</a>\(v.panicked ? " (panicked)" : "")</td>"
                    + "<td>\(formatFixed(v.slowdown, 2))×</td><td>\(formatFixed(v.majorFaults, 0))</td><td>\(formatFixed(v.guestSwapIns, 0))</td>"
                    + "<td>\(formatFixed(v.hostSwapIns, 0))</td><td>\(formatFixed(v.oomKills, 0))</td></tr>")
        }
        add("</tbody></table></div>")

        // 4. What was lost: OOM kills, panics, the host running out of memory.
        let losses = o.events.filter {
            $0.kind == EventKind.oomKill.rawValue || $0.kind == EventKind.guestPanic.rawValue || $0.kind == EventKind.hostOutOfMemory.rawValue
        }
        if losses.isEmpty {
            add("<p class=\"good\">No OOM kill, no guest panic, the host never ran out of memory.</p>")
        } else {
            var items: [String] = []
            for e in losses.prefix(8) {
                let who = esc(e.guest ?? "host")
                switch e.kind {
                case EventKind.oomKill.rawValue:
                    items.append(
                        "\(formatFixed(e.timeSeconds, 2)) s: \(who)'s OOM killer killed \(esc(e.field("process") ?? "?")) (pid \(esc(e.field("pid") ?? "?")))")
                case EventKind.guestPanic.rawValue:
                    items.append("\(formatFixed(e.timeSeconds, 2)) s: \(who) panicked (\(esc(e.field("reason") ?? "?")))")
                default:
                    items.append(
                        "\(formatFixed(e.timeSeconds, 2)) s: the host ran out of memory (\(esc(e.field("vm") ?? "?")) touched a page with no frame left)")
                }
            }
            let more = losses.count > 8 ? "<li>… \(losses.count - 8) more in the Events list</li>" : ""
            add(
                "<div class=\"banner\">Lost: \(losses.count) event\(losses.count == 1 ? "" : "s")<ul>\(items.map { "<li>\($0)</li>" }.joined())\(more)</ul></div>"
            )
        }
        add("</section>")
    }

    /// The scenario's description and its "what to look for" notes (the `notes` key).
    mutating func scenarioNotes() {
        let s = o.scenario
        guard !s.description.isEmpty || !s.notes.isEmpty else { return }
        add("<section class=\"about\"><h2>The scenario</h2>")
        if !s.description.isEmpty { add("<p>\(esc(s.description))</p>") }
        if !s.notes.isEmpty {
            add("<h3>What to look for</h3>")
            add(Self.notesHTML(s.notes))
        }
        add("</section>")
    }

    /// Notes text as HTML: blank lines separate paragraphs, lines starting with `- ` make a
    /// list, `backquoted` words become code.
    static func notesHTML(_ text: String) -> String {
        var out = ""
        var para: [String] = []
        var list: [String] = []
        func inline(_ s: String) -> String {
            let parts = s.split(separator: "`", omittingEmptySubsequences: false)
            guard parts.count >= 3 else { return HTMLReport.escape(s) }
            var r = ""
            for (i, p) in parts.enumerated() {
                let e = HTMLReport.escape(String(p))
                if i % 2 == 0 { r += e } else if parts.count % 2 == 1 || i < parts.count - 1 { r += "<code>\(e)</code>" } else { r += "`" + e }
            }
            return r
        }
        func flush() {
            if !para.isEmpty { out += "<p class=\"notes\">" + inline(para.joined(separator: " ")) + "</p>\n"; para = [] }
            if !list.isEmpty { out += "<ul class=\"notes\">" + list.map { "<li>\(inline($0))</li>" }.joined() + "</ul>\n"; list = [] }
        }
        for raw in text.split(separator: "\n", omittingEmptySubsequences: false) {
            let line = raw.trimmingLeadingSpaces
            if line.isEmpty { flush(); continue }
            if line.hasPrefix("- ") {
                if !para.isEmpty { let l = list; list = []; flush(); list = l }
                list.append(String(line.dropFirst(2)))
            } else if !list.isEmpty && raw.hasPrefix(" ") {
                list[list.count - 1] += " " + line  // a continuation of the item
            } else {
                if !list.isEmpty { flush() }
                para.append(line)
            }
        }
        flush()
        return out
    }
}

extension Substring {
    var trimmingLeadingSpaces: String { String(drop { $0 == " " }) }
}
