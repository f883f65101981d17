import Testing
import Experiments
import Reports

/// `overcommit report` on a sweep and on a consolidation directory.
@Suite struct ExperimentReportPageTests {
    static let plan = "# overcommit sweep plan\nscenario: s.yaml\nscenario_name: tiny\nset: guests[web].count=1,2,4\nruns: 3\n"
    static let sweepCSV = """
        point,guests[web].count,n,host.free_kb.min_mean,host.free_kb.min_ci95,host.saved_by_sharing_kb_mean,host.saved_by_sharing_kb_ci95,guests.slowdown.max_mean,guests.slowdown.max_ci95,host.cow_breaks_mean,host.cow_breaks_ci95
        0,1,3,900000.00,1000.00,0.00,0.00,1.0100,0.0010,0.00,0.00
        1,2,3,600000.00,2000.00,10240.00,50.00,1.2000,0.0100,0.00,0.00
        2,4,3,100000.00,3000.00,40960.00,80.00,3.5000,0.2000,0.00,0.00

        """

    @Test func aSweepPageDrawsEachFamilyAgainstTheSweptKeyWithIntervals() throws {
        let html = try ExperimentReportPage.sweep(plan: Self.plan, sweepCSV: Self.sweepCSV, dir: "runs/s")
        #expect(html.hasPrefix("<!DOCTYPE html>") && html.contains("<title>overcommit report: sweep tiny</title>"))
        #expect(!html.contains("<script") && !html.contains("src="))
        let svgs = html.components(separatedBy: "<svg class=\"chart\"").dropFirst()
        // Host memory, what the techniques hold, slowdown: one chart each; cow_breaks is zero everywhere.
        #expect(svgs.count == 3)
        for svg in svgs {
            #expect(svg.contains(">guests[web].count</text>"), "the swept key is the x axis")
            #expect(svg.contains("class=\"errorbar\""), "95 % confidence intervals drawn")
            #expect(svg.contains("class=\"dot\""))
            // A numeric key: its values are ticks on a numeric axis.
            #expect(svg.contains(">4</text>"))
        }
        #expect(html.contains("Zero at every point (not drawn): host.cow_breaks."))
        // The table: a metric per row, a point per column, mean ± CI in human units.
        #expect(html.contains("<th>guests[web].count=4</th>"))
        #expect(html.contains("<td>97.7 MiB ± 2.93 MiB</td>"))
        #expect(html.contains("<td>3.5 ± 0.2</td>"))
        // Same files, same bytes.
        #expect(html == (try ExperimentReportPage.sweep(plan: Self.plan, sweepCSV: Self.sweepCSV, dir: "runs/s")))
    }

    @Test func aBrokenSweepFileIsNamedWithItsLine() {
        let bad = Self.sweepCSV.replacingOccurrences(of: "600000.00", with: "lots")
        #expect(throws: ReportInputError.self) { try ExperimentReportPage.sweep(plan: Self.plan, sweepCSV: bad, dir: "d") }
        do { _ = try ExperimentReportPage.sweep(plan: Self.plan, sweepCSV: bad, dir: "d") } catch {
            #expect(error.file == "sweep.csv" && error.line == 3 && error.message.contains("'lots' is not a number"))
        }
    }

    static func term(_ name: String, _ measured: Double, _ limit: Double?, checked: Bool = true) -> String {
        let passed = limit.map { measured <= $0 } ?? true
        return
            "{\"name\":\"\(name)\",\"measured\":\(measured),\"limit\":\(limit.map { "\($0)" } ?? "null"),\"margin\":null,\"unit\":\"\",\"checked\":\(checked),\"passed\":\(passed),\"detail\":\"\"}"
    }
    static func point(_ vms: Int, penalty: Double, kills: Double) -> String {
        let passed = penalty <= 1.1 && kills == 0
        return "{\"copies\":\(vms),\"vms\":\(vms),\"configured_kb\":1,\"host_kb\":1,\"ratio\":\(Double(vms) * 0.5),\"passed\":\(passed),"
            + "\"terms\":[\(term("overcommit_penalty", penalty, 1.1)),\(term("oom_kills", kills, 0)),\(term("host_swap_in_rate", 0, nil, checked: false))],\"metrics\":{}}"
    }

    @Test func aConsolidationPageDrawsEachTermAgainstTheVMsWithItsLimit() throws {
        let json =
            "{\"label\":\"\",\"mode\":{\"vm\":\"web\"},\"sla\":{},\"vms\":4,\"consolidation_ratio\":2.0,"
            + "\"first_breaking\":[\(Self.term("overcommit_penalty", 1.4, 1.1))],\"savings_at_limit\":null,"
            + "\"limit\":\(Self.point(4, penalty: 1.05, kills: 0)),\"beyond\":\(Self.point(5, penalty: 1.4, kills: 1)),"
            + "\"evaluated\":[\(Self.point(1, penalty: 1.0, kills: 0)),\(Self.point(2, penalty: 1.01, kills: 0)),\(Self.point(5, penalty: 1.4, kills: 1)),\(Self.point(4, penalty: 1.05, kills: 0))]}"
        let html = try ExperimentReportPage.consolidation(json: json, summary: "limit: 4 VMs\n", dir: "runs/c")
        #expect(html.contains("<title>overcommit report: consolidation</title>"))
        #expect(html.contains("The SLA holds up to <b>4 VMs</b> (consolidation ratio 2.00); at 5 VMs it breaks: overcommit_penalty 1.400 &gt; 1.100."))
        let svgs = html.components(separatedBy: "<svg class=\"chart\"").dropFirst()
        // overcommit_penalty and oom_kills are checked (oom_kills is drawn: it is not zero everywhere); the unchecked term is not.
        #expect(svgs.count == 2)
        let penalty = try #require(svgs.first { $0.contains("overcommit_penalty against the number of VMs") })
        #expect(penalty.contains(">SLA limit 1.1</text>"))
        #expect(penalty.contains(">holds: 4 VMs</text>") && penalty.contains(">breaks: 5</text>"))
        #expect(penalty.contains(">VMs on the host</text>"))
        // The table: every size in order with the margin to each limit.
        let rows = html.components(separatedBy: "<tr").filter { $0.contains("<td>") }
        #expect(rows.map { $0.contains("holds") } == [true, true, true, false])
        #expect(html.contains("<td>1.05 (0.05)</td>"))
        #expect(html.contains("<td>1.4 (-0.3) ✗</td>"))
    }
}
