import Testing
import OvercommitSupport
import Simulation
@testable import Experiments
import PageContents

/// Two tiny guests, one second: a sweep of a few points runs in seconds in a debug build.
let sweepYAML = """
    name: tiny
    seed: 11
    duration: 1s
    sample_interval: 250ms
    host: {memory: 1GiB, hypervisor_reserved: 128MiB, vm_overhead: 16MiB, large_pages: false, sharing: {pages_to_scan: 20000, sleep_millisecs: 20}}
    guests:
      - name: a
        memory: 128MiB
        workloads:
          - kind: idle
            daemons: 2
            resident: 24MiB
      - name: b
        memory: 128MiB
        swap: {size: 64MiB, device: ssd}
        workloads:
          - kind: batch
            peak: 48MiB
            sweeps: 1
    """

func tinyPlan(runs: Int = 2) throws -> SweepPlan {
    try SweepPlan(
        scenarioText: sweepYAML, file: "tiny.yaml",
        axes: [try SweepAxis(parsing: "host.sharing.salting=0,2"), try SweepAxis(parsing: "guests[a].workloads[0].resident=16MiB,48MiB")],
        runs: runs)
}

func joined(_ files: [(name: String, contents: String)]) -> [String] { files.map { "== \($0.name)\n\($0.contents)" } }

@Suite struct SweepStatisticsTests {
    @Test func meanAndStudentTInterval() {
        let s = SweepStatistics([1, 2, 3, 4, 5])
        #expect(s.n == 5 && s.mean == 3)
        #expect(abs(s.standardDeviation - 1.5811388) < 1e-6)
        #expect(abs(s.ci95 - 2.776445 * 1.5811388 / 5.0.squareRoot()) < 1e-5)
        #expect(SweepStatistics([4]).ci95.isNaN)
        #expect(SweepStatistics([2, 2, 2]).ci95 == 0)
    }

    @Test func tQuantileBeyondTheTable() {
        // Reference values of t(0.975, df).
        #expect(abs(SweepStatistics.t975(degreesOfFreedom: 40) - 2.021075) < 2e-4)
        #expect(abs(SweepStatistics.t975(degreesOfFreedom: 120) - 1.979930) < 1e-4)
        #expect(abs(SweepStatistics.t975(degreesOfFreedom: 1) - 12.706205) < 1e-6)
    }
}

@Suite struct SweepPlanTests {
    @Test func crossProductFirstAxisSlowest() throws {
        let p = try tinyPlan()
        #expect(p.pointValues == [["0", "16MiB"], ["0", "48MiB"], ["2", "16MiB"], ["2", "48MiB"]])
        #expect(p.points[2].host.sharing.salting == 2 && p.points[1].guests[0].workloads != p.points[0].guests[0].workloads)
        #expect(p.taskCount == 8)
    }

    @Test func commonRandomNumbersAcrossPoints() throws {
        let p = try tinyPlan(runs: 3)
        #expect(p.seed(point: 0, replication: 0) == 11)
        for r in 0..<3 { #expect(p.scenario(task: r).seed == p.scenario(task: 3 + r).seed) }
        #expect(Set((0..<3).map { p.seed(point: 0, replication: $0) }).count == 3)
    }

    @Test func shardsPartitionTheTasks() throws {
        let p = try tinyPlan(runs: 3)  // 12 tasks
        let slices = (0..<5).map { p.tasks(Shard(index: $0, count: 5)) }
        #expect(slices.flatMap { $0 }.sorted() == Array(0..<12))
        #expect(slices.map(\.count) == [3, 3, 2, 2, 2])
        #expect(throws: OverrideError.self) { try Shard(parsing: "2/2") }
        #expect(throws: OverrideError.self) { try Shard(parsing: "1-2") }
    }

    @Test func badAxisFailsBeforeAnythingRuns() {
        do {
            _ = try SweepPlan(scenarioText: sweepYAML, file: "tiny.yaml", axes: [try SweepAxis(parsing: "host.memory=1GiB,lots")], runs: 1)
            Issue.record("no error")
        } catch { #expect("\(error)".contains("--set host.memory=lots: host.memory:"), "\(error)") }
    }
}

@Suite struct SweepRunTests {
    @Test func resultsDoNotDependOnJobsOrShards() throws {
        let plan = try tinyPlan()
        let serial = try Sweep.run(plan, tasks: plan.tasks(nil), jobs: 1, options: SimulationOptions())
        // As `overcommit sweep` runs them: the runs share a content memo (outputs unchanged).
        var sharing = SimulationOptions()
        sharing.sharedContentMemo = SharedContentMemo()
        let parallel = try Sweep.run(plan, tasks: plan.tasks(nil), jobs: 2, options: sharing)
        let whole = Sweep.files(plan, runs: serial, shard: nil)
        #expect(joined(whole) == joined(Sweep.files(plan, runs: parallel, shard: nil)))

        var shardInputs: [SweepMerge.Input] = []
        for i in [1, 0] {  // given out of order on purpose
            let s = Shard(index: i, count: 2)
            let runs = try Sweep.run(plan, tasks: plan.tasks(s), jobs: 2, options: SimulationOptions())
            let f = Sweep.files(plan, runs: runs, shard: s)
            #expect(f.map(\.name) == ["plan.txt", "runs.csv"])
            shardInputs.append(SweepMerge.Input(label: "shard\(i)", planText: f[0].contents, runsCSV: f[1].contents))
        }
        let merged = try SweepMerge.merge(shardInputs)
        #expect(joined(merged) == joined(whole))

        // The sweep measured something: 32 MiB more resident memory in guest a is consumed on the host.
        let sweep = whole.first { $0.name == "sweep.csv" }!.contents
        #expect(sweep.split(separator: "\n").count == 1 + plan.points.count)
        let consumed = Sweep.statistics(plan, runs: serial, metric: RunMetrics.handles.consumedEnd.name)
        #expect(consumed[1].mean - consumed[0].mean > 24, "\(consumed.map(\.mean))")
        #expect(consumed[3].mean - consumed[2].mean > 24, "\(consumed.map(\.mean))")
        #expect(consumed.allSatisfy { $0.n == 2 })
        // Replications differ (their own seeds), so there is an interval.
        #expect(consumed.contains { $0.ci95 > 0 } || Sweep.statistics(plan, runs: serial, metric: RunMetrics.handles.slowdownMax.name).contains { $0.ci95 > 0 })
    }

    @Test func mergeRefusesMismatchedShards() throws {
        let plan = try tinyPlan(runs: 1)
        func shard(_ p: SweepPlan, _ i: Int, _ n: Int) throws -> SweepMerge.Input {
            let s = Shard(index: i, count: n)
            let f = Sweep.files(p, runs: try Sweep.run(p, tasks: p.tasks(s), jobs: 1, options: SimulationOptions()), shard: s)
            return SweepMerge.Input(label: "s\(i)of\(n)", planText: f[0].contents, runsCSV: f[1].contents)
        }
        let a0 = try shard(plan, 0, 2), a1 = try shard(plan, 1, 2)
        func message(_ inputs: [SweepMerge.Input]) -> String {
            do { _ = try SweepMerge.merge(inputs); return "(merged)" } catch { return error.message }
        }
        #expect(message([a0]).contains("missing shard 1/2"))
        #expect(message([a0, a0, a1]).contains("shard 0/2 is given twice"))
        let other = try SweepPlan(scenarioText: sweepYAML, file: "tiny.yaml", axes: [try SweepAxis(parsing: "host.sharing.salting=0,1")], runs: 1)
        #expect(message([a0, try shard(other, 1, 2)]).contains("belongs to a different sweep"))
        #expect(message([a0, try shard(plan, 1, 3)]).contains("different splits"))
        var truncated = a1
        truncated.runsCSV = String(a1.runsCSV.split(separator: "\n").dropLast().joined(separator: "\n")) + "\n"
        #expect(message([a0, truncated]).contains("lacks task 3"))
        let whole = Sweep.files(plan, runs: [], shard: nil)
        #expect(message([SweepMerge.Input(label: "w", planText: whole[0].contents, runsCSV: whole[1].contents)]).contains("not a shard"))
    }
}
