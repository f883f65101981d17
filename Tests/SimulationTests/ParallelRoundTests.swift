import Foundation
import Testing
import Reports
import Scenarios
@testable import Simulation

/// Guests tick in parallel rounds (`Simulation.runRound`): every thread count must give
/// the same bytes in every output file, through allocation stalls, large-page grants,
/// copy-on-write breaks of shared pages and the host's out-of-memory event.
@Suite struct ParallelRoundTests {
    /// Small hosts that reach each path a round can take: pressure with every technique on
    /// (stalls served at the synchronisation points, shared frames dropped at the round's end),
    /// large pages in the high state, and a host with nothing to reclaim (out of memory).
    static let scenarios: [(name: String, yaml: String)] = [
        (
            "pressure",
            """
            name: rounds-pressure
            seed: 5
            duration: 4s
            sample_interval: 500ms
            host:
              memory: 400MiB
              hypervisor_reserved: 32MiB
              vm_overhead: 8MiB
              sharing: {pages_to_scan: 2000, sleep_millisecs: 10, salting: 0}
              balloon_policy: {kind: esx, interval: 1s}
            images:
              - name: app
                kernel_size: 8MiB
                files:
                  - {path: /usr/lib/libapp.so, size: 8MiB, style: code}
            guests:
              - name: vm
                count: 4
                memory: 160MiB
                image: app
                swap: {size: 128MiB, device: ssd}
                kernel: {kernel_reserved: 16MiB}
                balloon: {minimum: 64MiB}
                workloads:
                  - {kind: batch, peak: 130MiB, step: 8MiB, sweeps: 2, access_rate: 40000, repeat: true}
            """
        ),
        (
            "out-of-memory",
            """
            name: rounds-oom
            seed: 9
            duration: 5s
            sample_interval: 500ms
            host:
              memory: 512MiB
              hypervisor_reserved: 32MiB
              vm_overhead: 8MiB
              sharing: {enabled: false}
              balloon_policy: {kind: none}
              compression: {enabled: false}
              swap: {enabled: false}
            images:
              - {name: app, kernel_size: 8MiB}
            guests:
              - name: etl
                count: 3
                memory: 256MiB
                image: app
                kernel: {kernel_reserved: 16MiB}
                workloads:
                  - {kind: batch, peak: 200MiB, step: 16MiB, sweeps: 1, access_rate: 40000}
            """
        ),
    ]

    static func outputs(_ yaml: String, threads: Int, check: Bool = false) throws -> (files: [String], result: SimulationResult) {
        let c = try ScenarioLoader.load(text: yaml, file: "rounds.yaml")
        var o = SimulationOptions()
        o.threads = threads
        o.check = check
        o.checkAfterEachTick = check
        let r = try Simulation(config: c, options: o).run()
        return (RunReport.files(r).map(\.contents), r)
    }

    @Test(arguments: scenarios.map(\.name))
    func everyThreadCountGivesTheSameFiles(scenario: String) throws {
        let yaml = Self.scenarios.first { $0.name == scenario }!.yaml
        let one = try Self.outputs(yaml, threads: 1)
        for threads in [2, 5] {
            let other = try Self.outputs(yaml, threads: threads)
            for (k, (a, b)) in zip(one.files, other.files).enumerated() {
                #expect(a == b, "\(scenario): output file \(k) differs between 1 and \(threads) threads")
            }
        }
    }

    @Test func theScenariosReachTheRoundsServices() throws {
        let pressure = try Self.outputs(Self.scenarios[0].yaml, threads: 2).result
        #expect(pressure.host.blockedAllocations > 0, "no allocation waited for reclaim: the stall path of a round is not exercised")
        #expect(pressure.host.cowBreaks > 0, "no copy-on-write break: the deferred shared-frame drops are not exercised")
        let oom = try Self.outputs(Self.scenarios[1].yaml, threads: 2).result
        #expect(oom.hostOutOfMemory, "the host did not run out of memory")
        #expect(oom.events.contains { $0.kind == "host_out_of_memory" })
    }

    @Test func roundsKeepEveryInvariant() throws {
        for (name, yaml) in Self.scenarios {
            let r = try Self.outputs(yaml, threads: 3, check: true).result
            #expect(r.checkProblems.isEmpty, "\(name): \(r.checkProblems.prefix(3))")
            #expect(r.checksRun > 0)
        }
    }

    /// The runner itself: jobs that wait a varying number of times are served in ascending
    /// order at each synchronisation point, and what they compute does not depend on the
    /// number of threads or on the order the jobs start in (the coordinator runs the first job
    /// started, and serves the points its job waits at).
    @Test func theRunnerServesWaitingJobsInOrder() {
        func trace(threads: Int, reversed: Bool = false) -> [[Int]] {
            let runner = RoundRunner(threads: threads)
            defer { runner.shutdown() }
            var rounds: [[Int]] = []
            for round in 0..<20 {
                let n = 1 + round % 7
                // Job k waits (k + round) % 3 times; the coordinator records each service.
                let waits = (0..<n).map { ($0 + round) % 3 }
                var served: [Int] = []
                var counters = [Int](repeating: 0, count: n)
                counters.withUnsafeMutableBufferPointer { buf in
                    let p = buf.baseAddress!
                    runner.run(
                        count: n, order: reversed ? Array((0..<n).reversed()) : nil,
                        body: { k in
                            for _ in 0..<waits[k] {
                                p[k] += 1
                                runner.park(k)
                            }
                            p[k] += 100
                        },
                        serve: { k in served.append(k * 1000 + p[k]) })
                }
                rounds.append(served + counters)
            }
            return rounds
        }
        let one = trace(threads: 1)
        #expect(one == trace(threads: 2))
        #expect(one == trace(threads: 4))
        #expect(one == trace(threads: 1, reversed: true))
        #expect(one == trace(threads: 2, reversed: true))
        // At round 4 (five jobs waiting 1, 2, 0, 1, 2 times) the first point serves jobs
        // 0, 1, 3, 4 after their first wait, the second serves 1 and 4 after their second.
        #expect(one[4] == [1, 1001, 3001, 4001, 1002, 4002, 101, 102, 100, 101, 102])
    }

    /// The host's helper pool runs every job once, at any thread count, also from inside a
    /// round's synchronisation point (an allocation stall compresses its victims ahead there,
    /// while the round's jobs wait).
    @Test func theJobPoolRunsEveryJobOnceAlsoInsideARound() {
        for threads in [1, 2, 4] {
            let pool = JobPool(threads: threads)
            defer { pool.shutdown() }
            for n in [0, 1, 2, 3, 17, 200] {
                let hits = UnsafeMutablePointer<Int>.allocate(capacity: max(1, n))
                hits.initialize(repeating: 0, count: max(1, n))
                defer { hits.deallocate() }
                pool.run(count: n) { k in hits[k] += 1 }
                #expect((0..<n).allSatisfy { hits[$0] == 1 }, "\(threads) threads, \(n) jobs")
            }
            // Jobs of a round wait once each; serving them runs 40 pool jobs per waiting job.
            let runner = RoundRunner(threads: threads)
            defer { runner.shutdown() }
            let sums = UnsafeMutablePointer<Int>.allocate(capacity: 6)
            sums.initialize(repeating: 0, count: 6)
            defer { sums.deallocate() }
            runner.run(
                count: 6, body: { k in runner.park(k) },
                serve: { k in
                    let parts = UnsafeMutablePointer<Int>.allocate(capacity: 40)
                    defer { parts.deallocate() }
                    pool.run(count: 40) { j in parts[j] = k * 100 + j }
                    sums[k] = (0..<40).reduce(0) { $0 + parts[$1] }
                })
            #expect((0..<6).map { sums[$0] } == (0..<6).map { $0 * 4000 + 780 })
        }
    }
}
