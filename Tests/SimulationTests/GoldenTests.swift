import Foundation
import Testing
import Reports
import Scenarios
@testable import Simulation

/// Golden end-to-end runs (libCacheSim-style pinned counts): the full `stats.txt` of small
/// scenarios, one per guest replacement policy. Any change in simulated behaviour shows up
/// here as a diff; after a deliberate change regenerate with
/// `UPDATE_GOLDEN=1 swift test --filter GoldenTests` and review the diff.
@Suite struct GoldenTests {
    static let policies = ["linux", "lru", "fifo", "clock"]

    static func scenario(policy: String) -> String {
        """
        name: golden-\(policy)
        seed: 11
        duration: 1s
        sample_interval: 500ms
        host: {memory: 1GiB, hypervisor_reserved: 64MiB, vm_overhead: 8MiB}
        guests:
          - name: batch
            memory: 64MiB
            swap: {size: 128MiB, device: ssd}
            kernel: {kernel_reserved: 8MiB, replacement_policy: \(policy)}
            workloads:
              - {kind: batch, peak: 80MiB, step: 16MiB, sweeps: 3, access_rate: 400000}
              - {kind: idle, resident: 4MiB}
        """
    }

    @Test(arguments: policies)
    func statsMatchTheGoldenFile(policy: String) throws {
        let c = try ScenarioLoader.load(text: Self.scenario(policy: policy), file: "golden-\(policy).yaml")
        let stats = RunReport.statsText(try Simulation(config: c).run())
        let path = repoRoot + "/Tests/SimulationTests/Golden/\(policy).stats.txt"
        if ProcessInfo.processInfo.environment["UPDATE_GOLDEN"] == "1" {
            try stats.write(toFile: path, atomically: true, encoding: .utf8)
            return
        }
        let golden = try String(contentsOfFile: path, encoding: .utf8)
        if stats != golden {
            let a = stats.split(separator: "\n"), b = golden.split(separator: "\n")
            let diff = zip(a, b).filter { $0 != $1 }.prefix(5).map { "got  \($0.0)\nwant \($0.1)" }.joined(separator: "\n")
            Issue.record("stats.txt for policy \(policy) differs from \(path):\n\(diff)")
        }
    }
}
