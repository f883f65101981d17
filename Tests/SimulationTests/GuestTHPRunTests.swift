import Foundation
import Testing
import Reports
import Scenarios
@testable import Simulation

/// Transparent huge pages and khugepaged in whole runs: khugepaged is a guest work kind of
/// its own in the parallel rounds, so every thread count must give the same bytes, and
/// every invariant (huge pages included) must hold after each tick.
@Suite struct GuestTHPRunTests {
    /// Guests with THP always and khugepaged waking every 100 ms, on a host with large pages:
    /// two under memory pressure (faults of order 9, fallbacks, splits by reclaim), one with
    /// room, whose heap grows in 3 MiB steps (the last 2 MiB range of each step is only partly
    /// inside the heap, faults there get small pages, and khugepaged collapses it later).
    static let yaml = """
        name: thp-rounds
        seed: 3
        duration: 2s
        sample_interval: 500ms
        host:
          memory: 640MiB
          hypervisor_reserved: 32MiB
          vm_overhead: 8MiB
          large_pages: true
          sharing: {pages_to_scan: 2000, sleep_millisecs: 10}
        guests:
          - name: vm
            count: 2
            memory: 128MiB
            swap: {size: 128MiB, device: ssd}
            kernel:
              kernel_reserved: 16MiB
              transparent_hugepage: {enabled: always, khugepaged: {scan_sleep_millisecs: 100}}
            workloads:
              - {kind: batch, peak: 120MiB, step: 3MiB, sweeps: 2, access_rate: 40000, repeat: true}
          - name: roomy
            memory: 128MiB
            swap: {size: 64MiB, device: ssd}
            kernel:
              kernel_reserved: 16MiB
              transparent_hugepage: {enabled: always, khugepaged: {scan_sleep_millisecs: 100}}
            workloads:
              - {kind: batch, peak: 48MiB, step: 3MiB, sweeps: 1, access_rate: 40000}
        """

    @Test func everyThreadCountGivesTheSameFiles() throws {
        let one = try ParallelRoundTests.outputs(Self.yaml, threads: 1)
        let two = try ParallelRoundTests.outputs(Self.yaml, threads: 2)
        for (k, (a, b)) in zip(one.files, two.files).enumerated() {
            #expect(a == b, "output file \(k) differs between 1 and 2 threads")
        }
        #expect(one.result.guests.map { $0.state.vmstat.thp_fault_alloc }.reduce(0, +) > 0)
    }

    @Test func hugePagesAreMadeSplitAndCollapsedKeepingEveryInvariant() throws {
        let (files, r) = try ParallelRoundTests.outputs(Self.yaml, threads: 2, check: true)
        #expect(r.checkProblems.isEmpty, "\(r.checkProblems.prefix(3))")
        #expect(r.checksRun > 0)
        _ = files
        func total(_ read: (GuestSummary) -> Int) -> Int { r.guests.map(read).reduce(0, +) }
        #expect(total { $0.state.vmstat.thp_fault_alloc } > 0)
        #expect(total { $0.state.vmstat.thp_split_page } > 0)
        #expect(total { $0.state.vmstat.khugepaged_full_scans } > 0)
        #expect(total { $0.state.vmstat.khugepaged_pages_collapsed } > 0)
        print(
            "thp-rounds: fault_alloc", total { $0.state.vmstat.thp_fault_alloc }, "fallback", total { $0.state.vmstat.thp_fault_fallback },
            "split", total { $0.state.vmstat.thp_split_page }, "collapsed", total { $0.state.vmstat.khugepaged_pages_collapsed },
            "collapse_failed", total { $0.state.vmstat.thp_collapse_alloc_failed }, "AnonHugePages", total { $0.state.meminfo.AnonHugePages })
    }

    /// The batch job's `hugepage: true` gives MADV_HUGEPAGE to its heap: under `madvise`
    /// its faults get huge pages, without it none.
    @Test(arguments: [false, true])
    func batchHugepageAdviceDecidesUnderMadvise(advise: Bool) throws {
        let yaml = """
            name: thp-madvise
            seed: 1
            duration: 1s
            host: {memory: 1GiB}
            guests:
              - name: vm
                memory: 256MiB
                kernel: {transparent_hugepage: {enabled: madvise}}
                workloads:
                  - {kind: batch, peak: 64MiB, step: 8MiB, sweeps: 1, hugepage: \(advise)}
            """
        let r = try ParallelRoundTests.outputs(yaml, threads: 1, check: false).result
        let vm = r.guests[0].state
        if advise {
            // Most of the 64 MiB heap (the job has exited by the end: AnonHugePages is 0 again).
            #expect(vm.vmstat.thp_fault_alloc >= 24)
        } else {
            #expect(vm.vmstat.thp_fault_alloc == 0)
        }
        #expect(vm.vmstat.madvise_calls == (advise ? 8 : 0))
    }
}
