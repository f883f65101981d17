import Hypervisor
import OvercommitSupport
import PolicyLanguage

/// One evaluation of the host's policy program and what the host applied.
public struct PolicyEvaluationRecord: Sendable, Equatable {
    public var timeNs: Int64
    /// Per VM (scenario order): the balloon target (pages) in force after the evaluation, or
    /// nil where the policy set none (the VM keeps its target) or the VM is not in `Guests`.
    public var balloonTargets: [Int?]
    /// KSM tunables written, in MOM's order, with what the write did.
    public var ksmWrites: [KSMWrite]

    public struct KSMWrite: Sendable, Equatable {
        public var tunable: KSMTunable
        public var value: Int
        public var outcome: KSMWriteOutcome
    }
}

/// The host's policy program (`host.policy`, oVirt MOM policy files) bound to the simulation:
/// MOM's collectors fill one sample history for the host and one per VM every
/// `sample_interval`; every `interval` the program is evaluated against them (a fresh
/// collection first) and MOM's Balloon and KSM controllers' actions are applied through the
/// owners: each VM's balloon target, KSM's tunables.
final class PolicyBinding {
    let program: PolicyProgram
    let config: HostPolicyConfig
    let variables: [PolicyVariable]
    var collectors: MOMCollectors
    var hostHistory: MOMSampleHistory<MOMHostSample>
    var guestHistory: [MOMSampleHistory<MOMGuestSample>]
    var nextCollection: Int64 = 0
    var nextEvaluation: Int64 = 0
    var evaluations: [PolicyEvaluationRecord] = []

    init(program: PolicyProgram, config: HostPolicyConfig, vms: Int) {
        self.program = program
        self.config = config
        variables = PolicyBinding.variables(config)
        collectors = MOMCollectors(vms: vms)
        hostHistory = MOMSampleHistory(capacity: config.sample_history)
        guestHistory = Array(repeating: MOMSampleHistory(capacity: config.sample_history), count: vms)
    }

    /// The scenario's variables as the policy sees them.
    static func variables(_ config: HostPolicyConfig) -> [PolicyVariable] {
        config.variables.entries.map { e in
            switch e.value {
            case .int(let i): return PolicyVariable(e.name, .int(i))
            case .double(let d): return PolicyVariable(e.name, .float(d))
            case .string(let s): return PolicyVariable(e.name, .string(s))
            }
        }
    }

    /// The program of a scenario's policy files (read by the caller, in MOM's order), checked
    /// against MOM's data model with the scenario's variables injected: the problems `run`
    /// and `validate` refuse, each at `host.policy...`.
    static func program(_ config: HostPolicyConfig, sources: [PolicySource]) -> (PolicyProgram?, [SimulationSetupError]) {
        guard !sources.isEmpty else {
            return (nil, [SimulationSetupError(keyPath: "host.policy.files", message: "the policy files were not loaded")])
        }
        var problems: [SimulationSetupError] = []
        for e in config.variables.entries {
            if let p = PolicyProgram.variableNameProblem(e.name) {
                problems.append(SimulationSetupError(keyPath: "host.policy.variables." + e.name, message: p))
            }
        }
        let program: PolicyProgram
        do {
            program = try PolicyProgram(sources: sources)
        } catch {
            return (nil, problems + [SimulationSetupError(keyPath: "host.policy.files", message: "\(error)", underlying: error)])
        }
        let report = program.check(injectedVariables: config.variables.entries.map(\.name))
        for d in report.errors {
            problems.append(
                SimulationSetupError(keyPath: "host.policy.files", message: d.description, underlying: PolicyError(d.kind, d.message, at: d.location)))
        }
        return (problems.isEmpty ? program : nil, problems)
    }

    /// The earliest instant something is due.
    var nextDue: Int64 { min(nextCollection, nextEvaluation) }

    /// Collects every sample (host, then each powered-on VM).
    func collect(host: HostMemory, guests: [Simulation.GuestInstance], now: Int64) {
        hostHistory.append(collectors.hostSample(host, now: now))
        for g in guests where g.vm.poweredOn {
            guestHistory[g.vm.index].append(collectors.guestSample(g.vm, kernel: g.kernel, now: now))
        }
    }

    /// What is due at `now`: a collection (at every collection instant, and just before each
    /// evaluation), then the evaluation, its balloon targets and KSM writes applied. Throws
    /// the policy's run-time error with the simulated time set.
    func run(host: HostMemory, guests: [Simulation.GuestInstance], now: Int64) throws(PolicyError) {
        let evaluate = now >= nextEvaluation
        if evaluate || now >= nextCollection {
            collect(host: host, guests: guests, now: now)
            if now >= nextCollection { nextCollection = now + config.sample_interval.nanoseconds }
        }
        guard evaluate else { return }
        nextEvaluation = now + config.interval.nanoseconds
        let members = guests.filter { $0.vm.poweredOn && !guestHistory[$0.vm.index].samples.isEmpty }
        let input = PolicyInput(
            host: MOMHostData(interval: Int(config.sample_interval.nanoseconds / 1_000_000_000), samples: hostHistory.samples),
            guests: members.map { g in
                MOMGuestData(
                    name: g.vm.name, uuid: MOMCollectors.uuid(g.vm.name), pid: 10_000 + g.vm.index,
                    samples: guestHistory[g.vm.index].samples)
            },
            variables: variables)
        do throws(PolicyError) {
            let evaluation = try program.evaluate(input)
            let actions = try evaluation.controllerActions(for: input)
            var record = PolicyEvaluationRecord(timeNs: now, balloonTargets: Array(repeating: nil, count: guests.count), ksmWrites: [])
            for (k, g) in members.enumerated() {
                guard let kib = actions.balloonTargets[k] else { continue }
                // MOM's target is the guest's memory in KiB; the balloon is the rest.
                let memoryPages = Int((Double(kib) / 4).rounded(.down))
                record.balloonTargets[g.vm.index] = host.setBalloonTarget(g.vm, pages: g.vm.configuredPages - memoryPages)
            }
            for w in actions.ksmTunables {
                let tunable = PolicyBinding.tunable(w.control)
                let outcome = host.writeKSM(tunable, w.value)
                record.ksmWrites.append(.init(tunable: tunable, value: w.value, outcome: outcome))
                if case .invalid(let why) = outcome {
                    throw PolicyError(
                        .value, "control \(w.control.rawValue): the kernel refuses the value: \(why)",
                        at: evaluation.hostControl(w.control)?.location)
                }
            }
            evaluations.append(record)
        } catch {
            var e = error
            e.simulatedTime = formatFixed(Double(now) / 1e9, 3) + " s"
            throw e
        }
    }

    static func tunable(_ c: MOMHostControl) -> KSMTunable {
        switch c {
        case .ksm_run: return .run
        case .ksm_pages_to_scan: return .pages_to_scan
        case .ksm_sleep_millisecs: return .sleep_millisecs
        case .ksm_merge_across_nodes: return .merge_across_nodes
        }
    }
}

extension SimulationEvent {
    /// A KSM tunable the policy program wrote (`ksm_tunable` in events.jsonl): which, the
    /// value, and what the write did (`written`, with the pages `run` 2 unmerged; `busy`;
    /// `out_of_memory`).
    init(time: Int64, ksmWrite w: PolicyEvaluationRecord.KSMWrite) {
        timeNs = time
        guest = nil
        kind = "ksm_tunable"
        var f: [(String, EventValue)] = [("tunable", .text(w.tunable.rawValue)), ("value", .int(w.value))]
        switch w.outcome {
        case .written(let n):
            f.append(("outcome", .text("written")))
            if w.tunable == .run && w.value == 2 { f.append(("unmerged_kb", .kilobytes(pages: n))) }
        case .invalid(let why): f += [("outcome", .text("invalid")), ("reason", .text(why))]
        case .busy(let why): f += [("outcome", .text("busy")), ("reason", .text(why))]
        case .outOfMemory(let n): f += [("outcome", .text("out_of_memory")), ("unmerged_kb", .kilobytes(pages: n))]
        }
        fields = f
    }
}
