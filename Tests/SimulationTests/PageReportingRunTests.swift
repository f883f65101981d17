import Testing
import GuestKernel
import OvercommitSupport
import PolicyLanguage
import Scenarios
@testable import Simulation

/// Free page reporting and the stats virtqueue in whole runs: the engine schedules the
/// reporting pass after its delay and polls the guests' statistics at their period.
@Suite struct PageReportingRunTests {
    /// Two guests whose batch job writes 160 MiB, frees it and exits; `balloon` is the
    /// second guest's balloon settings.
    static func scenario(balloon: String) -> String {
        """
        name: fpr
        seed: 3
        duration: 6s
        sample_interval: 1s
        host: {memory: 2GiB, hypervisor_reserved: 64MiB, vm_overhead: 16MiB, large_pages: false}
        templates:
          g: &g
            memory: 256MiB
            swap: {size: 64MiB, device: ssd}
            workloads:
              - {kind: batch, peak: 160MiB, step: 32MiB, sweeps: 1, access_rate: 400000}
        guests:
          - <<: *g
            name: keeps
          - <<: *g
            name: reports
            balloon: \(balloon)
        """
    }

    @Test func theHostGetsFreedMemoryBackOnlyWithReporting() throws {
        let c = try ScenarioLoader.load(text: Self.scenario(balloon: "{free_page_reporting: true}"), file: "fpr.yaml")
        var options = SimulationOptions()
        options.check = true
        let sim = try Simulation(config: c, options: options)
        _ = sim.run()
        let keeps = sim.guests[0], reports = sim.guests[1]
        #expect(keeps.kernel.vmstat.free_page_reports == 0 && keeps.vm.stats.reportedFreed == 0)
        #expect(reports.kernel.vmstat.free_page_reports > 0)
        #expect(reports.vm.stats.reportedFreed > 20_000, "most of the job's 40960 pages went back to the host")
        #expect(reports.vm.consumedPages < keeps.vm.consumedPages - 20_000)
        // The two guests ran the same job: their guest-side memory is the same.
        #expect(keeps.kernel.vmstat.pgfault == reports.kernel.vmstat.pgfault)
        #expect(sim.host.checkInvariants().isEmpty)
    }

    @Test func policiesSeeTheStatsOfTheLastPoll() throws {
        let c = try ScenarioLoader.load(text: Self.scenario(balloon: "{stats_period: 2500ms}"), file: "stats.yaml")
        let sim = try Simulation(config: c)
        _ = sim.run()
        let keeps = sim.guests[0], polled = sim.guests[1]
        #expect(keeps.vm.policyStatsReport == nil, "no stats period: policies read the guest at once")
        #expect(keeps.vm.policyBalloonStats == keeps.kernel.balloonStats)
        let report = try #require(polled.vm.policyStatsReport)
        #expect(report.timeNs == 5_000_000_000, "polled at power-on and every 2.5 s")
        #expect(polled.vm.policyBalloonStats == report.balloonStats)

        // Polled once an hour, the policies still see the guest as it was at power-on.
        let hourly = try Simulation(config: try ScenarioLoader.load(text: Self.scenario(balloon: "{stats_period: 1h}"), file: "stats.yaml"))
        _ = hourly.run()
        let stale = try #require(hourly.guests[1].vm.policyStatsReport)
        #expect(stale.timeNs == 0)
        #expect(stale.vmstat.pgfault == 0 && hourly.guests[1].kernel.vmstat.pgfault > 40_000)
        #expect(hourly.guests[1].vm.policyBalloonStats != hourly.guests[1].kernel.balloonStats)

        // MOM's guest collector reads the same report (libvirt's memoryStats), not the guest now.
        var collectors = MOMCollectors(vms: 2)
        let g = hourly.guests[1]
        let sample = collectors.guestSample(g.vm, kernel: g.kernel, now: hourly.now)
        #expect(sample[.mem_unused] == .int(stale.meminfo.MemFree))
        #expect(sample[.mem_free] == .int(stale.meminfo.MemFree + stale.meminfo.Buffers + stale.meminfo.Cached))
        let live = collectors.guestSample(hourly.guests[0].vm, kernel: hourly.guests[0].kernel, now: hourly.now)
        #expect(live[.mem_unused] == .int(hourly.guests[0].kernel.meminfo.MemFree))
    }

    @Test func keysAreRefusedWithoutADriver() throws {
        for key in ["free_page_reporting: true", "stats_period: 1s"] {
            #expect(throws: (any Error).self, "\(key)") {
                try ScenarioLoader.load(text: Self.scenario(balloon: "{driver: false, \(key)}"), file: "bad.yaml")
            }
        }
    }
}
