import Testing
import OvercommitSupport
import Simulation
@testable import Experiments
import PageContents

/// A 768 MiB host (128 MiB for the hypervisor) and 160 MiB guests that keep ~100 MiB
/// touched: three or four fit, then the host has to reclaim.
let consolidationYAML = """
    name: tiny-consolidation
    seed: 4
    duration: 500ms
    sample_interval: 250ms
    host: {memory: 768MiB, hypervisor_reserved: 128MiB, vm_overhead: 16MiB}
    guests:
      - name: app
        memory: 160MiB
        swap: {size: 64MiB, device: ssd}
        workloads:
          - kind: idle
            daemons: 2
            resident: 96MiB
            write_fraction: 30%
      - name: pool
        count: 2
        memory: 128MiB
        workloads:
          - kind: idle
            daemons: 1
            resident: 16MiB
    """

func consolidationSearch(
    _ mode: ConsolidationMode, maxVMs: Int = 12, sla: ServiceLevel = ServiceLevel(), jobs: Int = 2, memo: SharedContentMemo? = nil
) throws -> ConsolidationSearch {
    let c = try ScenarioOverrides.load(text: consolidationYAML, file: "tiny.yaml", overrides: [])
    var options = SimulationOptions()
    options.sharedContentMemo = memo
    return try ConsolidationSearch(base: c, mode: mode, sla: sla, maxVMs: maxVMs, options: options, jobs: jobs)
}

@Suite struct ConsolidationScenarioTests {
    @Test func copiesOfOneGuestGetUniqueNames() throws {
        let s = try consolidationSearch(.vm("app"))
        #expect(try s.scenario(copies: 3).expandedGuests.map(\.name) == ["app", "app-2", "app-3", "pool-1", "pool-2"])
        #expect(s.vms(copies: 3) == 5)
        // An entry with a count has its count raised.
        let p = try consolidationSearch(.vm("pool"))
        #expect(try p.scenario(copies: 4).expandedGuests.map(\.name) == ["app", "pool-1", "pool-2", "pool-3", "pool-4"])
    }

    @Test func scaleMixCopiesEveryEntry() throws {
        let s = try consolidationSearch(.scaleMix)
        #expect(try s.scenario(copies: 2).expandedGuests.map(\.name) == ["app", "app-2", "pool-1", "pool-2", "pool-3", "pool-4"])
        #expect(s.vms(copies: 2) == 6)
        #expect(s.maxCopies == 4)  // 12 VMs at most, 3 per copy
    }

    @Test func unknownGuestNamesTheGuests() {
        #expect(throws: OverrideError.self) { try consolidationSearch(.vm("web")) }
        do { _ = try consolidationSearch(.vm("web")) } catch let e as OverrideError { #expect(e.message.contains("allowed: app, pool")) } catch {
            Issue.record(error)
        }
    }

    @Test func ampleHostHoldsEveryGuest() throws {
        let c = try consolidationSearch(.vm("app")).scenario(copies: 6)
        let big = ConsolidationSearch.ampleHost(c)
        // 6 x 160 + 2 x 128 MiB configured, 8 x 16 MiB overhead, 128 MiB reserve: 1472 MiB, x 1.5 + 1 GiB.
        #expect(big.host.memory == .mib(1472 * 3 / 2 + 1024))
    }
}

@Suite struct ConsolidationSearchTests {
    @Test func findsTheLargestSizeAndTheTermThatBreaksBeyondIt() throws {
        let s = try consolidationSearch(.vm("app"))
        let r = try s.run()
        let limit = try #require(r.limit)
        let beyond = try #require(r.beyond, "the host must break before 12 VMs")
        #expect(limit.passed)
        #expect(!beyond.passed)
        #expect(beyond.copies == limit.copies + 1)
        #expect(limit.copies >= 2, "two copies fit easily: \(r.evaluated.map { ($0.copies, $0.passed) })")
        // Every size run agrees with the answer (the scenario is monotone).
        for p in r.evaluated { #expect(p.passed == (p.copies <= limit.copies), "copies \(p.copies): \(p.broken.map(\.description))") }
        // The ratio is configured guest memory over host RAM.
        #expect(limit.configuredBytes == UInt64(limit.copies * 160 + 256) << 20)
        #expect(abs(limit.ratio - Double(limit.copies * 160 + 256) / 768) < 1e-12)
        for t in beyond.broken { #expect(ServiceLevel.termNames.contains(t.name) && t.measured > t.limit) }
        let text = ConsolidationReport.text(r).joined(separator: "\n")
        #expect(text.contains("limit: \(limit.vms) VMs"))
        #expect(text.contains("beyond: \(beyond.vms) VMs break \(beyond.broken[0].name)"))
        // Every row, held or broken, shows the measured overcommit penalty and its margin.
        for p in r.evaluated {
            let t = try #require(p.penalty)
            let row = try #require(text.split(separator: "\n").first { $0.hasPrefix(String(repeating: " ", count: 6 - "\(p.copies)".count) + "\(p.copies) ") })
            #expect(row.contains(formatFixed(t.measured, 3)) && row.contains(formatFixed(t.margin ?? .nan, 3)), "\(row)")
            #expect(row.contains(p.passed ? "holds" : "breaks"))
        }
    }

    @Test func runningAheadOnMoreJobsReportsTheSameSearch() throws {
        // Two and seven jobs run the sizes the search may need next while they wait, and
        // stop those it no longer needs; the sizes reported, their order, verdicts and
        // metrics are those of one job. The parallel searches share a content memo between
        // their runs, as `consolidate` does.
        var seen: [[Int]] = []
        var results: [ConsolidationResult] = []
        let memo = SharedContentMemo()
        for jobs in [1, 2, 7] {
            var order: [Int] = []
            results.append(try consolidationSearch(.vm("app"), jobs: jobs, memo: jobs > 1 ? memo : nil).run { order.append($0.copies) })
            seen.append(order)
        }
        #expect(memo.counts.hits > 0, "the runs took answers from each other: \(memo.counts)")
        for n in 1...2 {
            #expect(seen[0] == seen[n])
            #expect(results[0].evaluated.map(\.copies) == results[n].evaluated.map(\.copies))
            #expect(results[0].evaluated.map(\.metrics) == results[n].evaluated.map(\.metrics))
            #expect(results[0].limit?.copies == results[n].limit?.copies && results[0].beyond?.copies == results[n].beyond?.copies)
        }
    }

    @Test func theLookaheadFollowsTheSearchTreeBreadthFirst() throws {
        let s = try consolidationSearch(.vm("app"), maxVMs: 40)
        let top = s.maxCopies
        #expect(top == 38)
        let start = ConsolidationSearch.SearchState()
        // From the start: 1, then 2 (1 held), then 4 (2 held); a break at 1 or 2 ends it.
        #expect(s.lookahead(from: start, top: top, width: 3) == [1, 2, 4])
        // After 8 held and 16 broke: bisect at 12, then 10 or 14, then 9, 11, 13 or 15 (the
        // nearer level first, the smaller size first within one: it is the cheaper run).
        var b = start
        for (k, ok) in [(1, true), (2, true), (4, true), (8, true), (16, false)] { b = b.after(k, passed: ok, top: top) }
        #expect(b.next == 12)
        #expect(s.lookahead(from: b, top: top, width: 7) == [12, 10, 14, 9, 11, 13, 15])
        // Once 12 is known to break, 10 is as good as next, and 14 is out of reach.
        #expect(s.lookahead(from: b, top: top, width: 3, outcomes: [12: false]) == [10, 9, 11])
        // After 8 held, 16 may break: the sizes a break leads to (12, then 10 and 14) are run
        // ahead before 32, which only holding leads to and which runs twice the VMs.
        var h = start
        for k in [1, 2, 4, 8] { h = h.after(k, passed: true, top: top) }
        #expect(s.lookahead(from: h, top: top, width: 5) == [16, 12, 10, 14, 32])
        #expect(Set(s.reachable(from: h, top: top).map(\.size)) == Set(9...38))
        // 16 still running, 12 and 10 run ahead: 12 broke and 10 held. If 16 breaks the search
        // goes 12, 10, then 11; if it holds, 32. Nothing else is worth a run (14, the size
        // after 12 holding, was run ahead for nothing before outcomes were followed).
        let outcomes = [12: false, 10: true]
        #expect(s.lookahead(from: h, top: top, width: 3, outcomes: outcomes) == [16, 11, 32])
        let ahead = s.reachable(from: h, top: top, outcomes: outcomes)
        #expect(!ahead.contains { $0.size == 14 })
        #expect(ahead.first { $0.size == 11 }?.depth == 1 && ahead.first { $0.size == 12 }?.depth == 1)
        // Doubling stops at the bound: 32, then 38, and nothing after 38 holds.
        var d = start
        for k in [1, 2, 4, 8, 16, 32] { d = d.after(k, passed: true, top: top) }
        #expect(d.next == 38)
        #expect(d.after(38, passed: true, top: top).next == nil)
        #expect(d.after(38, passed: false, top: top).next == 35)
    }

    @Test func aLooserSLACarriesAtLeastAsManyVMs() throws {
        var loose = ServiceLevel()
        loose.maxOvercommitPenalty = 1_000
        loose.maxOOMKills = 1_000
        loose.maxRefusedAllocations = 1_000
        let strict = try consolidationSearch(.vm("app"), maxVMs: 6).run()
        let relaxed = try consolidationSearch(.vm("app"), maxVMs: 6, sla: loose).run()
        #expect((relaxed.limit?.copies ?? 0) >= (strict.limit?.copies ?? 0))
    }

    @Test func overcommitPenaltyIsMeasuredAgainstTheBaselineRun() throws {
        let c = try consolidationSearch(.vm("app")).scenario(copies: 1)
        let r = try Simulation(config: c).run()
        let terms = ServiceLevel().evaluate(r, baseline: r)
        let penalty = try #require(terms.first { $0.name == "overcommit_penalty" })
        #expect(penalty.measured == 1 && penalty.passed)
        #expect(penalty.margin.map { abs($0 - 0.10) < 1e-12 } == true)
        #expect(terms.map(\.name) == ServiceLevel.termNames)
        // Unchecked terms are reported but never fail.
        #expect(terms.first { $0.name == "host_swap_in_rate" }!.checked == false)
    }
}
