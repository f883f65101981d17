import Foundation
import Testing
import Reports
import Scenarios
import Simulation

/// The step-wise Simulation API the demos use: running in steps must not change the run.
@Suite struct DemoSimulationStepsTests {
    static let scenario = """
        name: steps
        seed: 7
        duration: 2s
        sample_interval: 250ms
        host: {memory: 1GiB, hypervisor_reserved: 128MiB}
        guests:
          - name: a
            memory: 128MiB
            swap: {size: 64MiB}
            workloads: [{kind: batch, peak: 112MiB, step: 8MiB, sweeps: 3, access_rate: 50000}]
          - name: b
            memory: 128MiB
            workloads: [{kind: idle}]
        """

    @Test func steppedRunEqualsOneRun() throws {
        let c = try ScenarioLoader.load(text: Self.scenario, file: "steps")
        let whole = try Simulation(config: c).run()
        let sim = try Simulation(config: c)
        for t in stride(from: Int64(0), through: 2_500_000_000, by: 333_000_000) {
            sim.advance(to: t)
            #expect(sim.currentTime == min(t, 2_000_000_000))
        }
        #expect(sim.hasEnded)
        let stepped = sim.finish()
        #expect(RunReport.statsText(stepped) == RunReport.statsText(whole))
        #expect(stepped.samples == whole.samples)
        #expect(stepped.events == whole.events)
    }

    @Test func advanceUntilStopsAtTheFirstEventWhereTheConditionHolds() throws {
        let c = try ScenarioLoader.load(text: Self.scenario, file: "steps")
        let sim = try Simulation(config: c)
        let held = sim.advance(until: { sim.guestKernel(0).vmstat.pswpout > 0 }, notAfter: 2_000_000_000)
        #expect(held)
        #expect(sim.guestKernel(0).vmstat.pswpout > 0)
        #expect(sim.currentTime < 2_000_000_000)
        #expect(!sim.hasEnded)
        // Never true: runs to the limit and reports false.
        let never = sim.advance(until: { false }, notAfter: 1_500_000_000)
        #expect(!never)
        #expect(sim.currentTime <= 1_500_000_000)
        #expect(sim.workloadStats(guest: 0).count == 2)  // boot + batch
        #expect(sim.workloadStats(guest: 0)[1].references > 0)
        #expect(sim.workloadsFinished(guest: 0)[0])  // boot is done by now
        #expect(!sim.eventLog.isEmpty)
    }
}
