import CLISupport
import Foundation
import OvercommitSupport
import Scenarios
import Simulation
import Testing

/// The run-cost estimate, the memory refusal and the progress lines for batch logs.
@Suite struct CostAndProgressTests {
    static func scenario(guests: Int, memory: String, swap: String = "1GiB", duration: String = "60s") throws -> ScenarioConfig {
        try ScenarioLoader.load(
            text: """
                name: cost
                duration: \(duration)
                host: {memory: 64GiB}
                guests:
                  - {name: g, count: \(guests), memory: \(memory), vcpus: 2, swap: {size: \(swap)},
                     workloads: [{kind: database, buffer_pool: 1GiB, access_rate: 100000}]}
                """, file: "cost.yaml")
    }

    @Test func theEstimateGrowsWithConfiguredMemoryGuestsAndDuration() throws {
        let small = RunCostEstimate.of(try Self.scenario(guests: 2, memory: "4GiB"))
        let big = RunCostEstimate.of(try Self.scenario(guests: 2, memory: "32GiB"))
        let more = RunCostEstimate.of(try Self.scenario(guests: 8, memory: "4GiB"))
        let longer = RunCostEstimate.of(try Self.scenario(guests: 2, memory: "4GiB", duration: "600s"))
        // Both hosts can page out 1.5x their 64 GiB, so every configured page counts as touched.
        #expect(big.peakMemoryBytes > small.peakMemoryBytes + 2 * 28 * (1 << 18) * 46, "46 B per touched page")
        #expect(more.references == 4 * small.references)
        #expect(longer.references == 10 * small.references)
        #expect(longer.cpuSeconds > 9 * small.cpuSeconds)
        // 2 guests x 2 vCPUs x 100 000 references/s x 60 s (the boot workload runs at its default rate too).
        #expect(small.references >= 2 * 2 * 100_000 * 60)
        #expect(small.summary.hasPrefix("estimate: peak memory ~"))
    }

    @Test func eachGuestAddsTheSlackOfItsHugePages() {
        let mib = Double(1 << 20)
        // The frame table's content (8 B a page) holds whole 2 MiB pages from 2 GiB of guest
        // memory, the page-table pool (4 B a mapped page) from 4 GiB, flags (2 B) from 8 GiB.
        #expect(RunCostEstimate.hugePageSlackBytes(pages: Double(1 << 18)) == 0)  // 1 GiB
        #expect(RunCostEstimate.hugePageSlackBytes(pages: Double(1 << 19)) == mib)  // 2 GiB
        #expect(RunCostEstimate.hugePageSlackBytes(pages: Double(1 << 20)) == 2 * mib)  // 4 GiB
        #expect(RunCostEstimate.hugePageSlackBytes(pages: Double(1 << 21)) == 3 * mib)  // 8 GiB
        #expect(RunCostEstimate.hugePageSlackBytes(pages: Double(1 << 27)) == 3 * mib)  // 512 GiB: a constant
    }

    @Test func aRunAboveTheLimitIsRefusedNamingTheEstimateAndTheOverride() {
        #expect(MemoryBudget.refusal(estimate: 1 << 30, limit: 2 << 30, limitSource: "--max-memory", file: "a.yaml") == nil)
        let p = MemoryBudget.refusal(estimate: 3 << 30, limit: 2 << 30, limitSource: "--max-memory", file: "a.yaml")
        #expect(
            p?.message.contains("a.yaml: the estimated peak memory of this run, 3.0 GiB, exceeds --max-memory, 2.0 GiB") == true, "\(String(describing: p))")
        #expect(p?.message.contains("--force-memory") == true)
        #expect(p?.exitCode == 2)
    }

    @Test func memAvailableIsReadFromMeminfo() {
        let text = "MemTotal:       24000000 kB\nMemFree:         1000 kB\nMemAvailable:   20000000 kB\n"
        #expect(MemoryBudget.parseAvailable(text) == 20_000_000 * 1024)
        #expect(MemoryBudget.parseAvailable("MemTotal: 5 kB\n") == nil)
    }

    @Test func logsGetALineAtMostEveryIntervalTerminalsARedrawnLine() {
        var log = ProgressReporter(durationSeconds: 3600, terminal: false, interval: 5)
        #expect(log.update(fraction: 0.001, wall: 1) == nil, "nothing before the first interval")
        let line = log.update(fraction: 0.1, wall: 6)
        #expect(line == "progress: 360.0 of 3600 s simulated (10.0 %), 60.000 sim-s per wall-s, wall 6 s, ETA 54 s\n")
        #expect(log.update(fraction: 0.11, wall: 9) == nil, "at most one line per 5 s")
        #expect(log.update(fraction: 0.12, wall: 11.5) != nil)
        #expect(log.finish == "")
        var tty = ProgressReporter(durationSeconds: 100, terminal: true)
        #expect(tty.update(fraction: 0.5, wall: 10)?.hasPrefix("\r 50.0%  5.00 sim-s/s  ETA 10 s") == true)
        #expect(tty.finish.hasPrefix("\r"))
    }
}
