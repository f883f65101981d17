import Foundation
import GuestKernel
import OvercommitSupport
import Testing
import Reports
import Scenarios
@testable import Simulation

/// Golden end-to-end runs (libCacheSim-style pinned counts): the full `stats.txt` of small
/// scenarios, one per guest replacement policy. Any change in simulated behaviour shows up
/// here as a diff; after a deliberate change regenerate with
/// `UPDATE_GOLDEN=1 swift test --filter GoldenTests` and review the diff.
@Suite struct GoldenTests {
    /// Every registered policy that runs without a trace (OPT needs one and has its own tests).
    static let policies = ReplacementPolicyKind.allCases.filter { !$0.needsFutureReferences }.map(\.rawValue)

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
        // Simulated metrics only: no version line, so a version bump alone changes no golden file.
        let stats = RunReport.statsText(try Simulation(config: c).run(), version: nil)
        try Self.compare(stats, golden: "\(policy).stats.txt", what: "policy \(policy)")
    }

    /// Compares `stats` with the golden file (or rewrites it under UPDATE_GOLDEN=1), recording
    /// the first differing lines. A registered policy without a golden file fails, saying how
    /// to record one.
    static func compare(_ stats: String, golden name: String, what: String, suite: String = "GoldenTests") throws {
        let path = repoRoot + "/Tests/SimulationTests/Golden/" + name
        if ProcessInfo.processInfo.environment["UPDATE_GOLDEN"] == "1" {
            try stats.write(toFile: path, atomically: true, encoding: .utf8)
            return
        }
        guard FileManager.default.fileExists(atPath: path) else {
            Issue.record(
                """
                no golden file for \(what): Tests/SimulationTests/Golden/\(name) does not exist. Record it with
                `UPDATE_GOLDEN=1 swift test --filter \(suite)`, review the new file and commit it.
                """)
            return
        }
        let golden = try String(contentsOfFile: path, encoding: .utf8)
        if stats != golden {
            let a = stats.split(separator: "\n"), b = golden.split(separator: "\n")
            let diff = zip(a, b).filter { $0 != $1 }.prefix(5).map { "got  \($0.0)\nwant \($0.1)" }.joined(separator: "\n")
            Issue.record("stats.txt for \(what) differs from \(path):\n\(diff)")
        }
    }
}

/// Golden runs of the host techniques, one per balloon policy: three guests on a host small
/// enough that the scheduler walks down the free-memory states (sharing, large pages,
/// balloons, compression and host swap all take part). Regenerate as `GoldenTests`.
@Suite struct HostGoldenTests {
    /// Every registered balloon policy, as the scenario schema offers them
    /// (`host.balloon_policy.kind`).
    static let policies: [String] = {
        guard case .table(let host)? = ScenarioConfig.parameter("host")?.kind,
            let kind = host.parameters.first(where: { $0.key == "balloon_policy" })?.kind
        else { return [] }
        return ConfigReference.caseNames(kind)
    }()

    @Test func theRegistryIsReachableFromTheSchema() {
        #expect(Self.policies.count >= 6, "the balloon policy registry is not reachable from the schema: \(Self.policies)")
    }

    static func scenario(policy: String) -> String {
        """
        name: golden-host-\(policy)
        seed: 13
        duration: 12s
        sample_interval: 1s
        host:
          memory: 400MiB
          hypervisor_reserved: 32MiB
          vm_overhead: 8MiB
          sharing: {pages_to_scan: 2000, sleep_millisecs: 10, salting: 0}
          balloon_policy: {kind: \(policy), interval: 1s}
          active_sampling: {period: 1s}
        images:
          - name: app
            kernel_size: 8MiB
            files:
              - {path: /usr/lib/libapp.so, size: 8MiB, style: code}
        guests:
          - name: vm
            count: 3
            memory: 192MiB
            image: app
            swap: {size: 128MiB, device: ssd}
            kernel: {kernel_reserved: 16MiB}
            balloon: {minimum: 96MiB, static_target: 32MiB}
            workloads:
              - {kind: batch, peak: 150MiB, step: 8MiB, sweeps: 2, access_rate: 40000, repeat: true}
        """
    }

    @Test(arguments: policies)
    func hostStatsMatchTheGoldenFile(policy: String) throws {
        let c = try ScenarioLoader.load(text: Self.scenario(policy: policy), file: "golden-host-\(policy).yaml")
        let r = try Simulation(config: c).run()
        try GoldenTests.compare(
            RunReport.statsText(r, version: nil), golden: "host-\(policy).stats.txt", what: "balloon policy \(policy)",
            suite: "HostGoldenTests")
    }
}
