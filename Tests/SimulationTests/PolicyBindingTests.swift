import Foundation
import Testing
import HostPolicies
import Hypervisor
import OvercommitSupport
import PolicyLanguage
import Reports
import Scenarios
@testable import Simulation

/// A host under memory pressure: two idle VMs that touched memory at boot, a database and a
/// growing batch heap, one VM without a balloon driver. The balloon policies have work to do
/// within 30 s.
let policyPressureYAML = """
    name: policy-pressure
    seed: 5
    duration: 30s
    sample_interval: 1s
    host:
      memory: 768MiB
      hypervisor_reserved: 48MiB
      vm_overhead: 8MiB
      balloon_policy: {kind: mom, interval: 2s}
    images:
      - name: app
        kernel_size: 8MiB
        files:
          - {path: /usr/lib/libc.so.6, size: 2MiB, style: code}
          - {path: /var/lib/db/data, size: 192MiB, style: pointers, per_guest: true}
          - {path: /srv/reports, size: 96MiB, style: text, per_guest: true}
    templates:
      vm: &vm
        memory: 256MiB
        image: app
        swap: {size: 128MiB, device: ssd}
        balloon: {minimum: 128MiB}
    guests:
      - <<: *vm
        name: reports
        workloads:
          - {kind: boot, files: [/srv/reports], max_per_file: 96MiB}
          - {kind: idle, daemons: 4, resident: 16MiB}
      - <<: *vm
        name: build
        workloads:
          - {kind: batch, peak: 128MiB, step: 4MiB, sweeps: 1}
          - {kind: idle, daemons: 4, resident: 12MiB}
      - <<: *vm
        name: db
        workloads:
          - {kind: database, buffer_pool: 150MiB, data_file: /var/lib/db/data, start_at: 5s}
      - <<: *vm
        name: app
        balloon: {driver: false}
        workloads:
          - {kind: batch, peak: 175MiB, step: 4MiB, sweeps: 20, start_at: 10s}
    """

/// Two guests booting the same code with inter-VM sharing and 4 KiB pages: KSM finds
/// shared and zero pages within a few seconds.
let policySharingYAML = """
    name: policy-sharing
    seed: 3
    duration: 6s
    sample_interval: 500ms
    host:
      memory: 1GiB
      hypervisor_reserved: 64MiB
      vm_overhead: 8MiB
      large_pages: false
      sharing: {salting: 0, pages_to_scan: 2000, sleep_millisecs: 20}
    images:
      - name: app
        kernel_size: 8MiB
        files:
          - {path: /usr/lib/libc.so.6, size: 8MiB, style: code}
    guests:
      - {name: a, memory: 96MiB, image: app, workloads: [{kind: idle, daemons: 2, resident: 8MiB}]}
      - {name: b, memory: 96MiB, image: app, workloads: [{kind: idle, daemons: 2, resident: 8MiB}]}
    """

/// The policy binding: the scenario syntax, MOM's fields read from the simulated host, the
/// controls applied through the owners, and errors that stop the run.
@Suite struct PolicyBindingTests {
    static func source(_ text: String, _ name: String = "test.policy") -> [PolicySource] {
        [PolicySource(name: name, text: text)]
    }

    /// `yaml` with `host.policy` running `policy` (the built-in balloon policy off).
    static func withPolicy(
        _ yaml: String, _ policy: String, interval: SimDuration = .seconds(2),
        sampleInterval: SimDuration = .seconds(2),
        variables: [NamedScalars.Entry] = []
    ) throws -> (ScenarioConfig, SimulationOptions) {
        var c = try load(yaml)
        c.host.balloon_policy = BalloonPolicySpec(NoBalloonParameters())
        c.host.policy.kind = .mom
        c.host.policy.files = ["test.policy"]
        c.host.policy.interval = interval
        c.host.policy.sample_interval = sampleInterval
        c.host.policy.variables = NamedScalars(variables)
        #expect(c.validationProblems().isEmpty)
        var o = SimulationOptions()
        o.policySources[c.host.policy.files] = source(policy)
        return (c, o)
    }

    // MARK: - Equivalence with the built-in policy

    /// The balloon targets of every VM after each evaluation, stepping the run.
    static func targetsAtEachEvaluation(_ sim: Simulation, every interval: Int64) -> [[Int]] {
        var out: [[Int]] = []
        var t: Int64 = 0
        while t <= sim.config.duration.nanoseconds {
            sim.advance(to: t)
            out.append(sim.host.vms.map(\.balloonTarget))
            t += interval
        }
        return out
    }

    @Test func balloonMomPolicyFileSetsTheBuiltInMomTargetsOverAWholeRun() throws {
        let builtinConfig = try load(policyPressureYAML)
        #expect(builtinConfig.host.balloon_policy.kindName == "mom")
        let builtin = try Simulation(config: builtinConfig)
        let expected = Self.targetsAtEachEvaluation(builtin, every: 2_000_000_000)

        let text = try String(contentsOfFile: repoRoot + "/Configs/policies/balloon-mom.policy", encoding: .utf8)
        let (c, o) = try Self.withPolicy(policyPressureYAML, text, interval: .seconds(2), sampleInterval: .seconds(5))
        let file = try Simulation(config: c, options: o)
        let got = Self.targetsAtEachEvaluation(file, every: 2_000_000_000)

        #expect(got == expected)
        // Not vacuous: the balloons moved, up and back down, and the VM without a driver never got one.
        let moves = zip(expected, expected.dropFirst()).filter { $0 != $1 }.count
        #expect(moves >= 5, "the built-in policy changed targets at \(moves) evaluations")
        #expect(expected.last?[3] == 0)
        #expect(file.policyEvaluations.count == 16)
        #expect(file.policyEvaluations.allSatisfy { $0.balloonTargets[3] == nil })
        // The whole runs are the same, sample for sample.
        let a = builtin.finish(), b = file.finish()
        #expect(a.samples == b.samples)
        #expect(a.hostSamples == b.hostSamples)
    }

    // MARK: - Fields

    /// Runs until the next evaluation has happened (the collection just before it is the
    /// latest sample) and returns nothing else ran after it.
    static func stepToNextEvaluation(_ sim: Simulation) {
        let n = sim.policyEvaluations.count
        sim.advance(until: { sim.policyEvaluations.count > n }, notAfter: sim.config.duration.nanoseconds)
    }

    @Test func everyFieldReadsTheStateItNames() throws {
        let (c, o) = try Self.withPolicy(policyPressureYAML, "(defvar x 0)", interval: .seconds(2), sampleInterval: .seconds(2))
        let sim = try Simulation(config: c, options: o)
        let binding = try #require(sim.policy)
        sim.advance(to: 15_000_000_000)
        Self.stepToNextEvaluation(sim)
        let t0 = sim.currentTime
        let before = (0..<4).map { sim.guestKernel($0).vmstat }
        let hostBefore = sim.host.vms.map(\.stats)
        Self.stepToNextEvaluation(sim)
        let seconds = Double(sim.currentTime - t0) / 1e9
        #expect(seconds == 2)

        let h = try #require(binding.hostHistory.latest)
        let host = sim.host
        #expect(h[.mem_available] == .int((host.totalFrames - host.hypervisorFrames) * 4))
        #expect(h[.mem_free] == .int(host.freeFrames * 4))
        #expect(h[.mem_unused] == .int(host.freeFrames * 4))
        #expect(h[.anon_pages] == .int((host.privateFrames + host.sharing.sharedFrames) * 4))
        #expect(h[.swap_usage] == .int(host.vms.reduce(0) { $0 + $1.swappedPages } * 4))
        #expect(h[.swap_total] == .int(host.vms.reduce(0) { $0 + $1.swapCapacity } * 4))
        #expect(h[.swap_out] == .int(host.vms.reduce(0) { $0 + $1.stats.swapOuts } - hostBefore.reduce(0) { $0 + $1.swapOuts }))
        #expect(h[.swap_in] == .int(host.vms.reduce(0) { $0 + $1.stats.swapIns } - hostBefore.reduce(0) { $0 + $1.swapIns }))
        #expect(h[.ksm_run] == .int(1))
        #expect(h[.ksm_pages_to_scan] == .int(SharingConfig.defaultPagesToScan))
        #expect(h[.ksm_sleep_millisecs] == .int(SharingConfig.defaultSleepMillisecs))
        #expect(h[.ksm_merge_across_nodes] == .int(1))
        #expect(h[.ksm_pages_shared] == .int(host.sharing.pages_shared))
        #expect(h[.ksm_pages_sharing] == .int(host.sharing.pages_sharing))
        #expect(h[.ksm_pages_unshared] == .int(host.sharing.pages_unshared))
        #expect(h[.ksm_full_scans] == .int(host.sharing.full_scans))
        #expect(h[.ksm_shareable] == .int(host.vms.reduce(0) { $0 + $1.configuredPages + $1.overheadPages } * 4))
        #expect(h[.cpu_count] == .int(32))

        for (i, vm) in host.vms.enumerated() {
            let g = try #require(binding.guestHistory[i].latest)
            let k = sim.guestKernel(i)
            let m = k.meminfo, v = k.vmstat, b = before[i]
            #expect(g[.mem_available] == .int(m.MemTotal))
            #expect(g[.mem_unused] == .int(m.MemFree))
            #expect(g[.mem_free] == .int(m.MemFree + m.Buffers + m.Cached))
            #expect(g[.swap_total] == .int(m.SwapTotal))
            #expect(g[.swap_usage] == .int(m.SwapTotal - m.SwapFree))
            #expect(g[.major_fault] == .float(Double(v.pgmajfault - b.pgmajfault) / seconds))
            #expect(g[.minor_fault] == .float(Double((v.pgfault - v.pgmajfault) - (b.pgfault - b.pgmajfault)) / seconds))
            #expect(g[.swap_in] == .float(Double((v.pswpin - b.pswpin) * 4) / seconds))
            #expect(g[.swap_out] == .float(Double((v.pswpout - b.pswpout) * 4) / seconds))
            #expect(g[.host_major_faults] == .int(vm.stats.swapIns - hostBefore[i].swapIns))
            #expect(g[.host_minor_faults] == .int((vm.stats.eptFaults - hostBefore[i].eptFaults) - (vm.stats.swapIns - hostBefore[i].swapIns)))
            #expect(g[.rss] == .int(vm.privatePages + vm.sharedPages))
            if vm.settings.balloonDriver {
                #expect(g[.balloon_cur] == .int((vm.configuredPages - vm.balloonPages) * 4))
                #expect(g[.balloon_max] == .int(vm.configuredPages * 4))
                #expect(g[.balloon_min] == .int(128 * 1024))
            } else {
                #expect(g[.balloon_cur] == PolicyValue.none && g[.balloon_max] == PolicyValue.none && g[.balloon_min] == PolicyValue.none)
            }
        }
        // The history keeps sample_history samples, one per collection (every 2 s, the first at 0).
        #expect(binding.hostHistory.samples.count == 10)
        #expect(host.vms.contains { $0.balloonPages > 0 } || host.vms.allSatisfy { $0.balloonTarget == 0 })
    }

    @Test func guestsHaveStableNamesAndUUIDsAndTheScenarioVariablesAreInjected() throws {
        let policy = """
            (defvar balloonEnabled 0)
            (with Guests g (debug (g.Prop "name") (g.Prop "uuid") balloonEnabled ratio mode))
            """
        let (c, o) = try Self.withPolicy(
            policySharingYAML, policy, variables: [.init("ratio", .double(0.5)), .init("mode", .string("fast")), .init("balloonEnabled", .int(1))])
        #expect(c.host.policy.variables.entries.map(\.name) == ["balloonEnabled", "mode", "ratio"])
        let sim = try Simulation(config: c, options: o)
        Self.stepToNextEvaluation(sim)
        let binding = try #require(sim.policy)
        let input = binding.variables
        #expect(input.map(\.name) == ["balloonEnabled", "mode", "ratio"])
        #expect(input.map(\.value) == [.int(1), .string("fast"), .float(0.5)])
        let r = try binding.program.evaluate(
            PolicyInput(
                guests: [MOMGuestData(name: "a", uuid: MOMCollectors.uuid("a"), samples: binding.guestHistory[0].samples)],
                variables: input))
        let text = try #require(r.debugMessages.first?.text)
        #expect(text.contains("'a'") && text.contains(MOMCollectors.uuid("a")) && text.contains(", 1, 0.5, 'fast'"), "\(text)")
        #expect(MOMCollectors.uuid("a") == MOMCollectors.uuid("a") && MOMCollectors.uuid("a") != MOMCollectors.uuid("b"))
        #expect(MOMCollectors.uuid("a").count == 36)
    }

    // MARK: - KSM tunables

    @Test func ksmRunZeroStopsTheScanner() throws {
        let (c, o) = try Self.withPolicy(policySharingYAML, "(Host.Control \"ksm_run\" 0)", interval: .seconds(1), sampleInterval: .seconds(1))
        let sim = try Simulation(config: c, options: o)
        Self.stepToNextEvaluation(sim)  // t = 0: one scanner batch ran before the policy
        let scanned = sim.host.sharing.pages_scanned
        #expect(sim.host.ksmTunables.run == 0)
        let stopped = try Simulation(config: c, options: o)
        stopped.advance(to: c.duration.nanoseconds)
        #expect(stopped.host.sharing.pages_scanned == scanned)
        #expect(stopped.host.sharing.full_scans == 0)

        let (c1, o1) = try Self.withPolicy(policySharingYAML, "(Host.Control \"ksm_run\" 1)", interval: .seconds(1), sampleInterval: .seconds(1))
        let running = try Simulation(config: c1, options: o1)
        running.advance(to: c1.duration.nanoseconds)
        #expect(running.host.sharing.full_scans > 0)
        #expect(running.host.sharing.pages_scanned > 10 * scanned)
    }

    /// On a host whose sharing is disabled, ksmd starts stopped and the policy may start it
    /// (MOM's KSM controller on a host where ksmtuned is off): it then scans and merges.
    @Test func aPolicyStartsKSMOnAHostWhoseSharingIsDisabled() throws {
        let yaml = policySharingYAML.replacingOccurrences(of: "sharing: {salting: 0,", with: "sharing: {enabled: false, salting: 0,")
        let (c, o) = try Self.withPolicy(yaml, "(Host.Control \"ksm_run\" 1)", interval: .seconds(1), sampleInterval: .seconds(1))
        #expect(!c.host.sharing.enabled)
        let sim = try Simulation(config: c, options: o)
        #expect(sim.host.ksmTunables.run == 0)
        sim.advance(to: c.duration.nanoseconds)
        #expect(sim.host.ksmTunables.run == 1)
        #expect(sim.host.sharing.full_scans > 0)
        #expect(sim.host.sharing.pages_sharing > 0, "the two guests' common library pages merge")
    }

    @Test func pagesToScanAndSleepAreHonouredLive() throws {
        func scanned(_ policy: String) throws -> (Int, KSMTunables) {
            let (c, o) = try Self.withPolicy(policySharingYAML, policy, interval: .seconds(1), sampleInterval: .seconds(1))
            let sim = try Simulation(config: c, options: o)
            sim.advance(to: 3_000_000_000)
            return (sim.host.sharing.pages_scanned, sim.host.ksmTunables)
        }
        let (base, t0) = try scanned("(defvar x 0)")
        #expect(t0.pages_to_scan == 2000 && t0.sleep_millisecs == 20)
        let (slow, t1) = try scanned("(Host.Control \"ksm_pages_to_scan\" 100) (Host.Control \"ksm_sleep_millisecs\" 200)")
        #expect(t1.pages_to_scan == 100 && t1.sleep_millisecs == 200)
        // From t = 0 on: 100 pages every 200 ms instead of 2000 every 20 ms (one batch at 0 at the old rate).
        #expect(slow < base / 10, "scanned \(slow) against \(base)")
        #expect(slow >= 100 * 15)
    }

    @Test func ksmRunTwoUnmergesEverySharedPage() throws {
        // Merge for 3 s, then unmerge; the page contents are verified at every sample (check mode).
        let policy = "(Host.Control \"ksm_run\" (if (> Host.ksm_full_scans 2) 2 1))"
        var (c, o) = try Self.withPolicy(policySharingYAML, policy, interval: .seconds(1), sampleInterval: .seconds(1))
        o.check = true
        let sim = try Simulation(config: c, options: o)
        var zeroBefore = 0
        while sim.host.ksmTunables.run != 2 && !sim.hasEnded {
            zeroBefore = sim.host.sharing.zero_pages_sharing
            Self.stepToNextEvaluation(sim)
        }
        #expect(sim.host.ksmTunables.run == 2)
        // The collection just before the evaluation: what was merged when the policy decided.
        let sample = try #require(sim.policy?.hostHistory.latest)
        guard case .int(let shared) = sample[.ksm_pages_shared], case .int(let sharing) = sample[.ksm_pages_sharing] else {
            Issue.record("no KSM counters in \(sample)"); return
        }
        #expect(sharing > 100 && zeroBefore > 100, "merged before unmerging: \(shared) shared, \(sharing) sharing, \(zeroBefore) zero")
        let write = try #require(sim.policyEvaluations.last?.ksmWrites.first)
        #expect(write.tunable == .run && write.value == 2)
        guard case .written(let unmerged) = write.outcome else { Issue.record("\(write.outcome)"); return }
        // Every mapping of a shared frame (pages_shared + pages_sharing) and of the zero frame.
        #expect(unmerged >= shared + sharing + 1)
        #expect(sim.host.sharing.pages_shared == 0 && sim.host.sharing.pages_sharing == 0 && sim.host.sharing.zero_pages_sharing == 0)
        #expect(sim.host.vms.allSatisfy { $0.sharedPages == 0 })
        #expect(sim.host.checkInvariants(full: true).isEmpty)
        // events.jsonl records the write.
        let event = try #require(sim.eventLog.last { $0.kind == "ksm_tunable" })
        #expect(event.fields.map { $0.0 + "=" + $0.1.description } == ["tunable=run", "value=2", "outcome=written", "unmerged_kb=\(unmerged * 4)"])
        // Stopped: nothing merges again, and every page still reads what the guest wrote.
        let r = sim.finish()
        #expect(r.host.pagesSharing == 0 && r.host.zeroPagesSharing == 0)
        #expect(r.checkProblems.isEmpty, "\(r.checkProblems.prefix(3))")
    }

    @Test func mergeAcrossNodesChangesOnlyWhileNothingIsShared() throws {
        let policy = "(Host.Control \"ksm_merge_across_nodes\" 0)"
        let (c, o) = try Self.withPolicy(policySharingYAML, policy, interval: .seconds(1), sampleInterval: .seconds(1))
        let sim = try Simulation(config: c, options: o)
        Self.stepToNextEvaluation(sim)  // t = 0: nothing shared yet
        #expect(sim.host.ksmTunables.merge_across_nodes == 0)
        #expect(sim.policyEvaluations[0].ksmWrites.map(\.outcome) == [.written(unmerged: 0)])
        // Written once; MOM writes a tunable only when it differs from the sample.
        Self.stepToNextEvaluation(sim)
        #expect(sim.policyEvaluations[1].ksmWrites.isEmpty)

        let policy1 = "(Host.Control \"ksm_merge_across_nodes\" (if (> Host.ksm_pages_shared 0) 0 1))"
        let (c1, o1) = try Self.withPolicy(policySharingYAML, policy1, interval: .seconds(1), sampleInterval: .seconds(1))
        let busy = try Simulation(config: c1, options: o1)
        busy.advance(to: c1.duration.nanoseconds)
        let outcomes = busy.policyEvaluations.flatMap(\.ksmWrites).map(\.outcome)
        #expect(
            !outcomes.isEmpty
                && outcomes.allSatisfy {
                    if case .busy = $0 { return true }; return false
                }, "\(outcomes)")
        #expect(busy.host.ksmTunables.merge_across_nodes == 1)
    }

    // MARK: - Errors

    @Test func aRuntimeErrorStopsTheRunWithFileLineAndSimulatedTime() throws {
        let policy = """
            # fails once KSM has finished a full scan
            (defvar scans Host.ksm_full_scans)
            (if (> scans 0) (/ Host.mem_free (- scans scans)) 0)
            """
        let (c, o) = try Self.withPolicy(policySharingYAML, policy, interval: .seconds(1), sampleInterval: .seconds(1))
        let r = try Simulation(config: c, options: o).run()
        let e = try #require(r.policyError)
        #expect(e.kind == .value)
        #expect(e.location?.file == "test.policy" && e.location?.line == 3)
        #expect(r.partial)
        #expect(r.simulatedNs > 0 && r.simulatedNs < c.duration.nanoseconds)
        #expect(r.simulatedNs % 1_000_000_000 == 0)
        #expect(e.simulatedTime == formatFixed(Double(r.simulatedNs) / 1e9, 3) + " s")
        #expect(e.description.hasPrefix("test.policy:3: at simulated time \(e.simulatedTime!): division by zero"), "\(e)")
        #expect(r.endedEarly?.hasPrefix("stopped by a policy error (test.policy:3) at ") == true, "\(r.endedEarly ?? "")")
        // The outputs cover the simulated time and say they are partial.
        #expect(r.hostSamples.last?.timeNs == r.simulatedNs)
        let summary = try #require(RunReport.files(r).first { $0.name == "summary.json" }?.contents)
        let json = try JSONSerialization.jsonObject(with: Data(summary.utf8)) as? [String: Any]
        #expect(json?["partial"] as? Bool == true)
    }

    @Test func aValueTheKernelRefusesStopsTheRunAtTheControl() throws {
        let (c, o) = try Self.withPolicy(policySharingYAML, "(defvar x 1)\n(Host.Control \"ksm_run\" 3)", interval: .seconds(1), sampleInterval: .seconds(1))
        let r = try Simulation(config: c, options: o).run()
        let e = try #require(r.policyError)
        #expect(e.location?.line == 2)
        #expect(e.message.contains("run accepts 0, 1 or 2; got 3"), "\(e.message)")
        #expect(r.simulatedNs == 0 && r.partial)
    }

    @Test func validateRefusesAPolicyThatDoesNotCheck() throws {
        let (c, o) = try Self.withPolicy(policySharingYAML, "(defvar x 1)\n(with Guests g (g.Control \"balloon_target\" g.balloon_size))")
        let problems = Simulation.setupProblems(config: c, options: o)
        #expect(problems.count == 1)
        #expect(problems.first?.keyPath == "host.policy.files")
        #expect(problems.first?.message.hasPrefix("test.policy:2:") == true, "\(problems)")
        #expect(problems.first?.message.contains("balloon_size") == true)
        #expect(throws: SimulationSetupError.self) { try Simulation(config: c, options: o) }

        // A syntax error names file:line:column; an injected name that cannot be a variable is refused.
        var o2 = o
        o2.policySources[c.host.policy.files] = Self.source("(defvar x (+ 1 2)\n")
        #expect(Simulation.setupProblems(config: c, options: o2).first?.message.hasPrefix("test.policy:") == true)
        let (c3, o3) = try Self.withPolicy(policySharingYAML, "(defvar x 1)", variables: [.init("Host", .int(1))])
        #expect(Simulation.setupProblems(config: c3, options: o3).map(\.keyPath) == ["host.policy.variables.Host"])
        // Check mode of validate: a policy that checks with its variables passes.
        let (c4, o4) = try Self.withPolicy(policySharingYAML, "(if balloonEnabled 1 0)", variables: [.init("balloonEnabled", .int(1))])
        #expect(Simulation.setupProblems(config: c4, options: o4).isEmpty)
    }

    @Test func theScenarioRefusesAPolicyProgramWithAnotherBalloonPolicyOrESXRates() throws {
        let base = policySharingYAML.replacingOccurrences(
            of: "  large_pages: false\n", with: "  large_pages: false\n  policy: {kind: mom, files: [p.policy]}\n")
        #expect(throws: (any Error).self) {
            try load(base.replacingOccurrences(of: "  large_pages: false\n", with: "  large_pages: false\n  balloon_policy: {kind: mom}\n"))
        }
        #expect(throws: (any Error).self) {
            try load(
                base.replacingOccurrences(
                    of: "sharing: {salting: 0, pages_to_scan: 2000, sleep_millisecs: 20}", with: "sharing: {salting: 0, scan_rate_per_vm: 50}"))
        }
        #expect(throws: (any Error).self) {
            try load(policySharingYAML.replacingOccurrences(of: "  large_pages: false\n", with: "  large_pages: false\n  policy: {kind: mom}\n"))
        }
        let ok = try load(base.replacingOccurrences(of: "  large_pages: false\n", with: "  large_pages: false\n  balloon_policy: {kind: none}\n"))
        #expect(ok.host.policy.files == ["p.policy"])
        let vars = try load(
            base.replacingOccurrences(of: "files: [p.policy]}", with: "files: [p.policy], variables: {ratio: 0.5, mode: fast, flag: true, balloonEnabled: 1}}"))
        #expect(
            vars.host.policy.variables
                == NamedScalars([
                    .init("balloonEnabled", .int(1)), .init("flag", .int(1)),
                    .init("mode", .string("fast")), .init("ratio", .double(0.5)),
                ]))
        #expect(try load(ScenarioRenderer.yaml(vars)) == vars)
        #expect(throws: (any Error).self) {
            try load(base.replacingOccurrences(of: "files: [p.policy]}", with: "files: [p.policy], variables: {x: [1, 2]}}"))
        }
        // The resolved scenario loads back the same.
        #expect(try load(ScenarioRenderer.yaml(ok)) == ok)
    }
}
