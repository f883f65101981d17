import Testing
import OvercommitSupport
@testable import Reports
import Scenarios
@testable import Simulation

/// The output files of a run as the CLI would read them back.
func outputFiles(_ r: SimulationResult) -> [String: String] {
    var d: [String: String] = [:]
    for f in RunReport.files(r) { d[f.name] = f.contents }
    return d
}

/// Every `<svg class="chart"` element of a page.
func charts(_ html: String) -> [Substring] {
    var out: [Substring] = []
    var rest = html[...]
    while let a = rest.range(of: "<svg class=\"chart\""), let b = rest[a.lowerBound...].range(of: "</svg>") {
        out.append(rest[a.lowerBound..<b.upperBound])
        rest = rest[b.upperBound...]
    }
    return out
}

/// The numbers of every `d="..."` path in an SVG fragment, as (x, y) pairs.
func pathPoints(_ svg: Substring) -> [(Double, Double)] {
    var pts: [(Double, Double)] = []
    var rest = svg
    while let a = rest.range(of: " d=\"") {
        let tail = rest[a.upperBound...]
        guard let e = tail.firstIndex(of: "\"") else { break }
        let d = tail[..<e]
        var nums: [Double] = []
        var cur = ""
        for ch in d {
            if ch == "-" || ch == "." || ch.isNumber { cur.append(ch) } else { if let v = Double(cur) { nums.append(v) }; cur = "" }
        }
        if let v = Double(cur) { nums.append(v) }
        if d.hasSuffix("l0.1,0") { nums.removeLast(2) }
        var i = 0
        while i + 1 < nums.count { pts.append((nums[i], nums[i + 1])); i += 2 }
        rest = tail[e...]
    }
    return pts
}

@Suite struct HTMLReportTests {
    /// One small run shared by the tests (two guests, 2 s).
    static let run: SimulationResult = {
        let c = try! ScenarioLoader.load(text: smallScenarioYAML, file: "small.yaml")
        return try! Simulation(config: c).run()
    }()

    @Test func aRunGivesOneSelfContainedPageWithEveryChart() throws {
        let files = outputFiles(Self.run)
        let html = try HTMLReport.render(try RunOutput(files: files))
        #expect(html.hasPrefix("<!DOCTYPE html>"))
        #expect(html.hasSuffix("</html>\n"))
        // Host: free memory (+ zoom when free memory is far above the thresholds), where memory
        // goes, sharing, reclamation; the all-VM slowdown; per VM memory, balloon, faults, slowdown.
        let svgs = charts(html)
        #expect(svgs.count >= 4 + 1 + 4 * 2, "\(svgs.count) charts")
        for name in ["web", "db"] {
            #expect(html.contains("How \(name)&#39;s memory is backed (stacked)"))
        }
        // Offline: no scripts, no external resources; only the SVG namespace names a URL.
        #expect(!html.contains("<script"))
        #expect(!html.contains("src="))
        #expect(!html.contains("url("))
        #expect(!html.contains("@import"))
        #expect(html.replacing("http://www.w3.org/2000/svg", with: "").contains("http") == false)
        // Each chart has a title, both axes' units, a legend and at least one data series.
        for svg in svgs {
            #expect(svg.contains("<text class=\"chart-title\""))
            #expect(svg.contains("simulated time (s)"))
            #expect(svg.contains("class=\"series"))
            #expect(svg.contains("<g class=\"legend\">\n<"), "a chart without legend entries")
            #expect(!svg.contains("nan") && !svg.contains("inf"))
        }
    }

    @Test func everyDataPointLiesInsideItsPlotArea() throws {
        let html = try HTMLReport.render(try RunOutput(files: outputFiles(Self.run)))
        for svg in charts(html) {
            // The plot area is the frame rectangle.
            guard let f = svg.range(of: "<rect class=\"frame\" x=\"") else { Issue.record("no frame"); continue }
            let nums = svg[f.upperBound...].prefix(120).split(whereSeparator: { !($0.isNumber || $0 == ".") }).compactMap { Double($0) }
            let (x, y, w, h) = (nums[0], nums[1], nums[2], nums[3])
            let data = svg[svg.range(of: "<g class=\"data\">")!.lowerBound...]
            let dataPart = data[..<data.range(of: "</g>")!.upperBound]
            let pts = pathPoints(dataPart)
            #expect(!pts.isEmpty)
            for (px, py) in pts {
                #expect(
                    px >= x - 0.05 && px <= x + w + 0.05 && py >= y - 0.05 && py <= y + h + 0.05,
                    "point \(px),\(py) outside the plot \(x),\(y) \(w)x\(h)")
            }
        }
    }

    @Test func sameFilesGiveTheSameBytes() throws {
        let files = outputFiles(Self.run)
        let a = try HTMLReport.render(try RunOutput(files: files))
        let b = try HTMLReport.render(try RunOutput(files: files))
        #expect(a == b)
        // A different run (another seed) gives a different page.
        var c = try ScenarioLoader.load(text: smallScenarioYAML, file: "small.yaml")
        c.seed = 6
        c.duration = .seconds(1)
        let other = try HTMLReport.render(try RunOutput(files: outputFiles(try Simulation(config: c).run())))
        #expect(other != a)
    }

    @Test func stackedAreasStackOnTheAxisScale() {
        // Two series of 512 MiB each stack to 1024 MiB; the axis runs to 1500 MiB in steps of
        // 500, so the top edge is at 1024/1500 of the plot height (226 px under y = 34).
        var chart = SVGChart(
            title: "t", style: .stackedAreas, yAxis: .memoryKB, xs: [0, 1, 2], xMax: 2,
            series: [
                .init("a", color: "#4e79a7", values: [524_288, 524_288, 524_288]),
                .init("b", color: "#f28e2b", values: [524_288, 524_288, 524_288]),
            ])
        chart.width = 600
        let svg = chart.render()
        #expect(svg.contains(">1500</text>") && svg.contains(">MiB</text>"))
        let paths = svg.split(separator: "\n").filter { $0.contains("class=\"series area\"") }
        #expect(paths.count == 2)
        let expectedTop = 34 + 226 - 1024.0 / 1500 * 226
        let topOfB = pathPoints(paths[1][...]).prefix(3).map(\.1)
        for y in topOfB { #expect(abs(y - expectedTop) < 0.06, "top edge at \(y), expected \(expectedTop)") }
        let topOfA = pathPoints(paths[0][...]).prefix(3).map(\.1)
        for y in topOfA { #expect(abs(y - (34 + 226 - 512.0 / 1500 * 226)) < 0.06) }
    }

    @Test func aRunThatEndedEarlyIsFlagged() throws {
        var files = outputFiles(Self.run)
        files["summary.json"] = files["summary.json"]!.replacing(
            "\"ended_early_reason\": null", with: "\"ended_early_reason\": \"host out of memory at 1.250 s\"")
        let html = try HTMLReport.render(try RunOutput(files: files))
        #expect(html.contains("The run ended early: host out of memory at 1.250 s, after 2.000 s of 2s."))
        #expect(html.contains(">run ended</text>"))
    }

    @Test func manyVMsGetDistinctColorsAndOneSectionEach() throws {
        let c = try ScenarioLoader.load(
            text: """
                name: many
                seed: 2
                duration: 500ms
                sample_interval: 250ms
                host: {memory: 4GiB, hypervisor_reserved: 64MiB, vm_overhead: 8MiB}
                images:
                  - name: tiny
                    kernel_size: 2MiB
                guests:
                  - name: vm
                    count: 20
                    memory: 64MiB
                    image: tiny
                    workloads:
                      - {kind: idle, resident: 1MiB}
                """, file: "many.yaml")
        let html = try HTMLReport.render(try RunOutput(files: outputFiles(try Simulation(config: c).run())))
        #expect(charts(html).count == 5 + 1 + 4 * 20 || charts(html).count == 4 + 1 + 4 * 20)
        for i in 0..<20 { #expect(html.contains("<h3 id=\"vm-\(i)\">")) }
        // The "where memory goes" chart names all 20 VMs with 20 different colors.
        let where_ = charts(html).first { $0.contains("Where machine memory goes") }!
        var colors: [String] = []
        var rest = where_
        while let r = rest.range(of: "<path class=\"series area\" d=\"") {
            let t = rest[r.upperBound...]
            let f = t.range(of: "fill=\"")!
            colors.append(String(t[f.upperBound...].prefix(7)))
            rest = t
        }
        let vmColors = Array(colors.dropFirst(2).prefix(20))
        #expect(Set(vmColors).count == 20)
    }

    @Test func badFilesNameTheFileLineAndColumn() throws {
        let good = outputFiles(Self.run)
        func error(_ change: (inout [String: String]) -> Void) -> ReportInputError? {
            var f = good
            change(&f)
            do { _ = try RunOutput(files: f); return nil } catch { return error }
        }
        // A missing file.
        let missing = error { $0["host_timeseries.csv"] = nil }
        #expect(missing?.file == "host_timeseries.csv")
        #expect(missing?.message.contains("missing") == true)
        // A row with a field too few (line 3: the second data row).
        let short = error { f in
            var lines = f["timeseries.csv"]!.split(separator: "\n").map(String.init)
            lines[2] = String(lines[2][..<lines[2].lastIndex(of: ",")!])
            f["timeseries.csv"] = lines.joined(separator: "\n") + "\n"
        }
        #expect(short?.file == "timeseries.csv")
        #expect(short?.line == 3)
        // Not a number: line and column of the field.
        var f = good
        var lines = f["host_timeseries.csv"]!.split(separator: "\n").map(String.init)
        var fields = lines[1].split(separator: ",", omittingEmptySubsequences: false).map(String.init)
        fields[1] = "lots"
        lines[1] = fields.joined(separator: ",")
        f["host_timeseries.csv"] = lines.joined(separator: "\n") + "\n"
        do {
            _ = try HTMLReport.render(try RunOutput(files: f))
            Issue.record("a non-number was accepted")
        } catch {
            #expect(error.file == "host_timeseries.csv")
            #expect(error.line == 2)
            #expect(error.column == fields[0].count + 2)
            #expect(error.message.contains("'lots' is not a number"))
        }
        // Broken JSON: line and column of the problem.
        let json = error { f in
            f["summary.json"] = f["summary.json"]!.replacing("\"seed\": ", with: "\"seed\" ")
        }
        #expect(json?.file == "summary.json")
        #expect(json?.line == 3)
        #expect(json?.message.contains("expected ':'") == true)
        // An events line that is not JSON.
        let ev = error { $0["events.jsonl"] = $0["events.jsonl"]! + "{\"time_s\": 1, \"kind\": \n" }
        #expect(ev?.file == "events.jsonl")
        #expect(ev?.line == good["events.jsonl"]!.split(separator: "\n").count + 1)
        // A truncated stats.txt.
        let stats = error { $0["stats.txt"] = String($0["stats.txt"]!.prefix(500)) }
        #expect(stats?.file == "stats.txt")
        // A scenario that does not load.
        let yaml = error { $0["scenario.resolved.yaml"] = "name: [unclosed\n" }
        #expect(yaml?.file == "scenario.resolved.yaml")
        // A header without a needed column.
        let col = error { $0["timeseries.csv"] = $0["timeseries.csv"]!.replacing("balloon_target_kb", with: "target") }
        #expect(col?.message == "no column 'balloon_target_kb' in the header")
    }

    @Test func valuesThatCannotBeDrawnAreSkippedAndNamed() throws {
        // An infinite slowdown (a zero memory-access cost) in every row of web's time series,
        // a NaN in one, and null EAT and slowdown for web in summary.json.
        var files = outputFiles(Self.run)
        var lines = files["timeseries.csv"]!.split(separator: "\n").map(String.init)
        let header = lines[0].split(separator: ",").map(String.init)
        let s = header.firstIndex(of: GuestCounters.handles.slowdown.name)!, e = header.firstIndex(of: GuestCounters.handles.eat.name)!
        var first = true
        for i in 1..<lines.count where lines[i].split(separator: ",")[1] == "web" {
            var f = lines[i].split(separator: ",", omittingEmptySubsequences: false).map(String.init)
            f[s] = first ? "nan" : "inf"; f[e] = "inf"
            first = false
            lines[i] = f.joined(separator: ",")
        }
        files["timeseries.csv"] = lines.joined(separator: "\n") + "\n"
        guard case .object(var top) = try JSONParser.parse(files["summary.json"]!, file: "summary.json"),
            let gi = top.firstIndex(where: { $0.0 == SummaryKey.guests }), case .array(var guests) = top[gi].1,
            case .object(var web) = guests[0]
        else { Issue.record("unexpected summary.json"); return }
        for k in [GuestCounters.handles.slowdown.name, GuestCounters.handles.eat.name] {
            if let j = web.firstIndex(where: { $0.0 == k }) { web[j].1 = .double(.infinity) }
        }
        guests[0] = .object(web)
        top[gi].1 = .array(guests)
        files["summary.json"] = JSONValue.object(top).rendered(indent: 2)

        let html = try HTMLReport.render(try RunOutput(files: files))
        // The rest is drawn; what was not is listed at the top and shown as n/a.
        #expect(html.contains("How web&#39;s memory is backed (stacked)") && html.contains("How db&#39;s memory is backed (stacked)"))
        #expect(html.contains("Not drawn:"))
        #expect(html.contains("Slowdown per interval (EAT / memory access, log scale): slowdown, 4 of 4 values"))
        #expect(html.contains("web slowdown: null in summary.json") && html.contains("<td>n/a</td>"))
        #expect(html.range(of: "Not drawn:")!.lowerBound < html.range(of: "<h2 id=\"host\">")!.lowerBound)
        for svg in charts(html) { #expect(!svg.contains("nan") && !svg.contains("inf")) }
        // A clean run lists nothing.
        #expect(!(try HTMLReport.render(try RunOutput(files: outputFiles(Self.run)))).contains("Not drawn:"))
        // A field that is not a number at all is still an error with its place.
        var bad = outputFiles(Self.run)
        bad["timeseries.csv"] = bad["timeseries.csv"]!.replacing(",inf,", with: ",infinite,")
        lines = bad["timeseries.csv"]!.split(separator: "\n").map(String.init)
        var f = lines[1].split(separator: ",", omittingEmptySubsequences: false).map(String.init)
        f[s] = "infinite"
        lines[1] = f.joined(separator: ",")
        bad["timeseries.csv"] = lines.joined(separator: "\n") + "\n"
        #expect(throws: ReportInputError.self) { try HTMLReport.render(try RunOutput(files: bad)) }
    }

    @Test func jsonParserReadsWhatJSONValueWrites() throws {
        let v = RunReport.summaryJSON(Self.run)
        #expect(try JSONParser.parse(v.rendered(indent: 2), file: "x") == v)
        #expect(try JSONParser.parse(v.rendered(), file: "x") == v)
        let s = try JSONParser.parse("{\"a\": \"q\\\"\\\\\\n\\u00e9\\ud83d\\ude00\", \"b\": [1, -2.5e3, true, null]}", file: "x")
        #expect(s["a"]?.stringValue == "q\"\\\né😀")
        #expect(s["b"]?.arrayValue?.count == 4)
        #expect(s["b"]?.arrayValue?[1].number == -2500)
        for bad in ["{", "[1,]", "{\"a\" 1}", "01x", "\"abc", "tru", "{\"a\":1}x"] {
            #expect(throws: ReportInputError.self, "\(bad) was accepted") { try JSONParser.parse(bad, file: "x") }
        }
        do { _ = try JSONParser.parse("{\n  \"a\": 1,\n  \"b\": ?\n}", file: "f.json"); Issue.record("accepted") } catch {
            #expect(error.line == 3 && error.column == 8)
        }
    }

    @Test func axisScalesReadWell() {
        #expect(SVGChart.niceStep(0.37) == 0.5)
        #expect(SVGChart.niceStep(1.2) == 2)
        #expect(SVGChart.niceStep(730) == 1000)
        #expect(SVGChart.niceStep(4) == 5)
        #expect(SVGChart.memoryUnit(maxKB: 3 * 1024 * 1024).label == "GiB")
        #expect(SVGChart.memoryUnit(maxKB: 600 * 1024).label == "MiB")
        #expect(SVGChart.memoryUnit(maxKB: 900).label == "KiB")
        #expect(SVGChart.label(2.50, decimals: 2) == "2.5")
        #expect(SVGChart.label(-0.0, decimals: 1) == "0")
        #expect(SVGChart.sampledIndices(5, limit: 800) == [0, 1, 2, 3, 4])
        let s = SVGChart.sampledIndices(10_001, limit: 800)
        #expect(s.count == 800 && s.first == 0 && s.last == 10_000)
        // A log axis puts slowdown 1 at the bottom and labels powers of ten.
        let c = SVGChart(
            title: "s", style: .lines, yAxis: .log(unit: "×"), xs: [0, 1, 2], xMax: 2,
            series: [.init("s", color: "#000", values: [1, 30, 0])])
        let svg = c.render()
        #expect(svg.contains(">1</text>") && svg.contains(">10</text>") && svg.contains(">50</text>"))
        let bottom = 300.0 - 40
        for (_, y) in pathPoints(charts(svg)[0]) { #expect(y <= bottom + 0.05 && y >= 34 - 0.05) }
        // Escaping.
        #expect(HTMLReport.escape("<a href=\"x\">&'") == "&lt;a href=&quot;x&quot;&gt;&amp;&#39;")
    }
}
