import Testing
import OvercommitSupport
@testable import Reports
import Scenarios
@testable import Simulation

/// The small scenario on a host too small for it, so the free-memory state changes, with notes.
let tightScenarioYAML = smallScenarioYAML.replacingAll(
    "host: {memory: 2GiB, hypervisor_reserved: 64MiB, vm_overhead: 16MiB}",
    "host: {memory: 480MiB, hypervisor_reserved: 64MiB, vm_overhead: 16MiB}\nnotes: |\n  Watch the `host_state` events.\n\n  - free memory falls\n    through the states;\n  - the database pays.\n"
)

/// The top of the page, its tables and its scales.
@Suite struct HTMLReportSummaryTests {
    static let tight: (result: SimulationResult, html: String) = {
        let c = try! ScenarioLoader.load(text: tightScenarioYAML, file: "tight.yaml")
        let r = try! Simulation(config: c).run()
        return (r, try! HTMLReport.render(try! RunOutput(files: outputFiles(r))))
    }()

    @Test func theSummaryComesFirstAndNamesStatesTechniquesAndVMs() throws {
        let (r, html) = Self.tight
        let glance = try #require(html.range(of: "<h2>At a glance</h2>"))
        let host = try #require(html.range(of: "<h2 id=\"host\">"))
        #expect(glance.lowerBound < host.lowerBound)
        let top = String(html[glance.lowerBound..<host.lowerBound])
        // Every state change with its time, from the events.
        let changes = r.events.filter { $0.kind == EventKind.hostState.rawValue }
        #expect(!changes.isEmpty, "the tight host changes state")
        #expect(top.contains("The host changed state \(changes.count) time"))
        if let first = changes.first {
            #expect(top.contains("at \(formatFixed(Double(first.timeNs) / 1e9, 2)) s"))
        }
        // What each technique reclaimed, and the VMs by how much they suffered.
        for t in ["page sharing (TPS / KSM)", "ballooning", "compression", "host swap"] { #expect(top.contains(t), "\(t)") }
        #expect(top.contains("slowdown") && top.contains("guest swap-ins") && top.contains("host swap-ins") && top.contains("OOM kills"))
        func slowdown(_ g: GuestSummary) -> Double { GuestCounters.handles.slowdown.value(at: g.state) }
        for g in r.guests where slowdown(g) > 1.05 { #expect(top.contains(">\(g.name)</a>")) }
        // The worst VM is listed first.
        let worst = r.guests.max { slowdown($0) < slowdown($1) }!
        let firstVM = top.range(of: "<td class=\"l\"><a href=\"#vm-")
        #expect(firstVM != nil && top[firstVM!.upperBound...].contains("\">\(worst.name)</a>"))
    }

    @Test func theScenarioNotesAreShownAsParagraphsAndLists() throws {
        let html = Self.tight.html
        #expect(html.contains("<h3>What to look for</h3>"))
        #expect(html.contains("<p class=\"notes\">Watch the <code>host_state</code> events.</p>"))
        #expect(html.contains("<ul class=\"notes\"><li>free memory falls through the states;</li><li>the database pays.</li></ul>"))
    }

    @Test func notesSurviveTheResolvedScenario() throws {
        let c = try ScenarioLoader.load(text: tightScenarioYAML, file: "tight.yaml")
        let yaml = ScenarioRenderer.yaml(c)
        #expect(yaml.contains("notes: |\n  Watch the `host_state` events.\n\n  - free memory falls\n"))
        let back = try ScenarioLoader.load(text: yaml, file: "resolved.yaml")
        #expect(back.notes == c.notes)
        // Text a literal block cannot hold exactly is quoted instead, and reads back the same.
        for odd in ["a\n  b  \n", " lead\nx", "one\n\n\n", "tab\there\nx"] {
            var d = c
            d.notes = odd
            #expect(try ScenarioLoader.load(text: ScenarioRenderer.yaml(d), file: "r.yaml").notes == odd, "\(odd.debugDescription)")
        }
    }

    @Test func tablesFitThePage() throws {
        let html = Self.tight.html
        // No table of the VMs needs a horizontal scroll: each has at most ten columns.
        let vms = try #require(html.range(of: "<h2 id=\"vms\">"))
        let rest = html[vms.upperBound...]
        let end = rest.range(of: "<figure>")?.lowerBound ?? rest.endIndex
        let section = rest[..<end]
        #expect(!section.contains("class=\"scroll\""))
        var tables = 0
        var s = section
        while let a = s.range(of: "<thead><tr>") {
            let row = s[a.upperBound...].prefix { $0 != "\n" }
            let cols = row.components(separatedBy: "<th").count - 1
            #expect(cols <= 10, "\(cols) columns")
            tables += 1
            s = s[a.upperBound...]
        }
        #expect(tables == 2)
        #expect(html.contains("@media print"))
    }

    @Test func freeMemoryIsOnALogScaleWhereTheThresholdsAreApart() throws {
        let html = Self.tight.html
        let svg = try #require(charts(html).first { $0.contains("Host free memory and reclaim state") })
        #expect(svg.contains("(log scale)"))
        // The five threshold lines are drawn at distinct heights, at least 8 px apart.
        var ys: [Double] = []
        var rest = svg
        while let a = rest.range(of: "<g class=\"level\"><line x1=\"") {
            let tail = rest[a.upperBound...]
            let y1 = tail.range(of: "y1=\"")!
            let num = tail[y1.upperBound...].prefix { $0 != "\"" }
            ys.append(Double(num)!)
            rest = tail
        }
        #expect(ys.count == 5)
        let sorted = ys.sorted()
        for (a, b) in zip(sorted, sorted.dropFirst()) { #expect(b - a >= 8, "threshold lines \(a) and \(b) too close") }
        // Fault rates are on a log scale too.
        #expect(html.contains("Faults and swap-ins per second (log scale)"))
    }

    @Test func aLogMemoryAxisStartsAtTheDecadeBelowTheSmallestValue() {
        var c = SVGChart(
            title: "t", style: .lines, yAxis: .logMemoryKB, xs: [0, 1, 2], xMax: 2,
            series: [.init("free", color: "#000000", values: [4 * 1024 * 1024, 2 * 1024 * 1024, 30 * 1024])])
        c.levels = [.init(value: 20 * 1024, label: "low", color: "#ff0000")]
        let svg = c.render()
        #expect(svg.contains(">GiB (log scale)</text>"))
        // 20 MiB = 0.0195 GiB: the axis starts at 0.01 GiB and ends at 5 GiB.
        #expect(svg.contains(">0.01</text>") && svg.contains(">5</text>"))
        #expect(!svg.contains(">0.001</text>"))
    }
}
