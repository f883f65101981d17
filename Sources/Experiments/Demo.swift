import GuestKernel
import HostPolicies
import Hypervisor
import OvercommitSupport
import Simulation
import Workloads

/// The built-in narrated demos (`overcommit demo NAME`), one per memory technique.
///
/// Each demo is an ordinary scenario file, `Configs/demos/NAME.yaml`, that `overcommit run`
/// also accepts; the demo runs it in steps and, after each step, tells what happened (with
/// numbers read from the simulation at that instant), shows the guests' and the host's state,
/// and checks the expectations the narration states.
public enum DemoKind: String, CaseIterable, Sendable {
    case lazyAllocation = "lazy-allocation"
    case cowFork = "cow-fork"
    case lruSwap = "lru-swap"
    case overcommitOOM = "overcommit-oom"
    case pageSharing = "page-sharing"
    case ballooning = "ballooning"
    case compression = "compression"
    case hostSwap = "host-swap"
    case reclaimCascade = "reclaim-cascade"
    case beladysAnomaly = "beladys-anomaly"
    case momPolicy = "mom-policy"

    /// The demo's script: title, what it is about, and its steps.
    public var script: DemoScript {
        switch self {
        case .lazyAllocation: DemoScripts.lazyAllocation
        case .cowFork: DemoScripts.cowFork
        case .lruSwap: DemoScripts.lruSwap
        case .overcommitOOM: DemoScripts.overcommitOOM
        case .pageSharing: DemoScripts.pageSharing
        case .ballooning: DemoScripts.ballooning
        case .compression: DemoScripts.compression
        case .hostSwap: DemoScripts.hostSwap
        case .reclaimCascade: DemoScripts.reclaimCascade
        case .beladysAnomaly: DemoScripts.beladysAnomaly
        case .momPolicy: DemoScripts.momPolicy
        }
    }

    /// One line saying what the demo shows.
    public var summary: String { script.summary }

    /// The scenario file of the demo, relative to the repository's `Configs/demos/`.
    public var scenarioFile: String { rawValue + ".yaml" }

    /// `NAME  summary` lines for listings and `--help`.
    public static var listing: [String] {
        let width = allCases.map(\.rawValue.count).max() ?? 0
        return allCases.map { $0.rawValue.padRight(width + 2) + $0.summary }
    }
}

/// Namespace of the demo scripts (one file per demo: `Demo<Name>.swift`).
enum DemoScripts {}

/// A demo: what it teaches and the steps that tell it.
public struct DemoScript: Sendable {
    public var title: String
    public var summary: String
    /// Printed before the first step: the setup and what to watch.
    public var introduction: String
    /// Where the behaviour comes from, printed under the introduction: papers, kernel functions
    /// and files, vendor documents a reader can look up (never notes the reader does not have).
    public var sources: [String]
    /// Counters shown under the state view, besides meminfo and the host bars.
    public var counters: [DemoCounter]
    /// Whether to draw the host line and VM bars (guest-only demos can leave them out).
    public var showHost: Bool = true
    public var steps: [DemoStep]
}

/// Where a step ends.
public enum DemoStop: Sendable {
    /// At this simulated time.
    case at(SimDuration)
    /// After the last memory reference before the line `#@ NAME` of the trace replayed by
    /// the guest's first trace workload.
    case traceMark(guest: String, String)
    /// When every workload of the guest has finished (then one more scheduler period).
    case finished(guest: String)
    /// When the host's free-memory state first reaches `state` or a lower one, then `after` more.
    case hostState(HostMemoryState, after: SimDuration)
}

/// One step of a demo: how far to run, what to say about it, and what must hold.
public struct DemoStep: Sendable {
    public var title: String
    public var stop: DemoStop
    /// The narration, written from the state after the step (and before it).
    public var narrate: @Sendable (DemoView) -> String
    /// What the narration claims, checked against the simulation.
    public var expect: @Sendable (DemoView) -> [DemoExpectation]

    public init(
        _ title: String, stop: DemoStop, narrate: @escaping @Sendable (DemoView) -> String,
        expect: @escaping @Sendable (DemoView) -> [DemoExpectation] = { _ in [] }
    ) {
        self.title = title; self.stop = stop; self.narrate = narrate; self.expect = expect
    }
}

/// A claim of the narration and whether the simulation bears it out.
public struct DemoExpectation: Sendable, Equatable {
    public var claim: String
    public var holds: Bool
    public init(_ claim: String, _ holds: Bool) { self.claim = claim; self.holds = holds }
}

/// One guest at a step: its /proc/meminfo, /proc/vmstat, processes and host backing.
public struct DemoGuestState: Sendable {
    public var name: String
    public var configuredPages: Int
    public var meminfo: Meminfo
    public var vmstat: VMStat
    public var processes: [ProcessInfo]
    public var vm: VMHostSnapshot
    public var poweredOn: Bool
    /// Statistics of the guest's workloads (index 0 is its boot).
    public var workloads: [WorkloadStats]
    /// The zone watermarks (min, low, high), kB: kswapd wakes below low and sleeps above high.
    public var watermarksKB: (min: Int, low: Int, high: Int)
    /// The guest as its output counters read it.
    public var state: GuestState

    /// A counter's value now (event counts: since boot).
    public func value(_ c: DemoCounter) -> Int { Int(GuestCounters.handles[keyPath: c].value(at: state)) }

    /// Swap in use, kB.
    public var swapUsedKB: Int { meminfo.SwapTotal - meminfo.SwapFree }
}

/// The whole system at a step.
public struct DemoSnapshot: Sendable {
    public var timeNs: Int64
    public var guests: [DemoGuestState]
    public var host: HostSnapshot
    public var hostTotalPages: Int
    /// Number of events logged up to this instant.
    public var eventCount: Int

    /// The guest called `name` (the first guest if there is none: scripts name real guests,
    /// and the tests run every script).
    public func guest(_ name: String) -> DemoGuestState { guests.first { $0.name == name } ?? guests[0] }
}

/// What a step's narration and checks see: the state now, before the step, at the start, and
/// the events logged during the step.
public struct DemoView: Sendable {
    public var now: DemoSnapshot
    public var before: DemoSnapshot
    public var start: DemoSnapshot
    public var events: [SimulationEvent]
    /// Every event since the demo began.
    public var allEvents: [SimulationEvent]

    public func guest(_ name: String) -> DemoGuestState { now.guest(name) }
    public func previous(_ name: String) -> DemoGuestState { before.guest(name) }
    /// Change of an integer figure of guest `name` during the step.
    public func delta(_ name: String, _ f: (DemoGuestState) -> Int) -> Int { f(now.guest(name)) - f(before.guest(name)) }
    /// Change of a host figure during the step.
    public func hostDelta(_ f: (HostSnapshot) -> Int) -> Int { f(now.host) - f(before.host) }
    /// Events of `kind` during the step (for `guest`, if given).
    public func events(_ kind: String, guest: String? = nil) -> [SimulationEvent] {
        events.filter { $0.kind == kind && (guest == nil || $0.guest == guest) }
    }
    /// Simulated seconds now.
    public var seconds: String { formatFixed(Double(now.timeNs) / 1e9, 3) + " s" }
}

/// A counter a demo shows below its meminfo view: a key path into the guest counters'
/// catalog, e.g. `\.vmstat.pgfault` (the row is labelled with the counter's name).
public typealias DemoCounter = KeyPath<GuestCounters, GuestCounter> & Sendable

/// Why a demo cannot run: its scenario does not fit its script.
public struct DemoError: Error, CustomStringConvertible, Sendable {
    public var message: String
    public var description: String { message }
}

/// What one step produced: the text to print and the checked expectations.
public struct DemoStepReport: Sendable {
    public var index: Int
    public var count: Int
    public var title: String
    public var timeNs: Int64
    public var narration: String
    public var expectations: [DemoExpectation]
    /// The rendered step: heading, narration, state view and checks.
    public var text: String
}

/// Runs a demo's scenario step by step and renders each step.
///
/// No I/O: the caller loads the scenario and its resources, prints each step's text, and
/// decides whether to wait between steps.
public final class DemoRunner {
    public let demo: DemoKind
    public let script: DemoScript
    let sim: Simulation
    let options: SimulationOptions
    var startSnapshot: DemoSnapshot
    var last: DemoSnapshot
    var nextStep = 0
    /// Expectations checked so far that did not hold, as "step N: claim".
    public private(set) var failures: [String] = []

    public init(demo: DemoKind, config: ScenarioConfig, options: SimulationOptions) throws {
        self.demo = demo
        script = demo.script
        self.options = options
        sim = try Simulation(config: config, options: options)
        startSnapshot = DemoRunner.snapshot(sim)
        last = startSnapshot
        for s in script.steps { _ = try referenceTarget(s.stop) }
    }

    /// The demo's title, the scenario and the introduction, ready to print.
    public var header: String {
        var lines = [script.title, String(repeating: "=", count: script.title.count), ""]
        lines += DemoText.wrap(script.introduction, width: DemoText.width)
        lines.append("")
        lines.append("Sources:")
        for source in script.sources {
            let wrapped = DemoText.wrap(source, width: DemoText.width, indent: "    ")
            lines += wrapped.enumerated().map { $0.offset == 0 ? "  - " + $0.element.dropFirst(4) : $0.element }
        }
        lines.append("")
        let c = sim.config
        let guests = c.expandedGuests.map { "\($0.name) (\($0.memory))" }.joined(separator: ", ")
        lines += DemoText.wrap(
            "Scenario: \(c.name) (Configs/demos/\(demo.scenarioFile)), seed \(c.seed): host RAM \(c.host.memory), "
                + "guests \(guests).", width: DemoText.width)
        lines.append("VM bars (40 characters = the VM's configured memory):")
        lines.append("  " + DemoText.barLegend)
        return lines.joined(separator: "\n")
    }

    /// Runs the next step and returns its report, or nil after the last step.
    public func next() throws -> DemoStepReport? {
        guard nextStep < script.steps.count else { return nil }
        let step = script.steps[nextStep]
        try run(to: step.stop)
        let now = DemoRunner.snapshot(sim)
        let all = sim.eventLog
        let view = DemoView(
            now: now, before: last, start: startSnapshot,
            events: Array(all[min(last.eventCount, all.count)...]), allEvents: all)
        let narration = step.narrate(view)
        let exps = step.expect(view)
        checked += exps.count
        for e in exps where !e.holds { failures.append("step \(nextStep + 1): \(e.claim)") }
        let text = DemoText.renderStep(
            index: nextStep, count: script.steps.count, title: step.title, view: view,
            narration: narration, expectations: exps, script: script)
        let report = DemoStepReport(
            index: nextStep, count: script.steps.count, title: step.title, timeNs: now.timeNs,
            narration: narration, expectations: exps, text: text)
        last = now
        nextStep += 1
        return report
    }

    /// Every remaining step.
    public func runAll() throws -> [DemoStepReport] {
        var out: [DemoStepReport] = []
        while let r = try next() { out.append(r) }
        return out
    }

    /// Expectations checked so far.
    public private(set) var checked = 0

    /// The closing lines: how many expectations held.
    public var footer: String {
        let total = checked
        if failures.isEmpty {
            return "All \(total) expectations of this demo held in the simulation."
        }
        return (["\(failures.count) of \(total) expectations did NOT hold:"] + failures.map { "  " + $0 }).joined(separator: "\n")
    }

    func run(to stop: DemoStop) throws {
        switch stop {
        case .at(let d):
            sim.advance(to: d.nanoseconds)
        case .traceMark:
            let (gi, wi, count) = try referenceTarget(stop)!
            let limit = sim.config.duration.nanoseconds
            let s = sim
            s.advance(until: { s.workloadStats(guest: gi)[wi].references >= count }, notAfter: limit)
        case .finished(let guest):
            guard let gi = sim.config.expandedGuests.firstIndex(where: { $0.name == guest }) else {
                throw DemoError(message: "demo \(demo.rawValue): the scenario has no guest '\(guest)'")
            }
            let s = sim
            s.advance(
                until: { !s.workloadsFinished(guest: gi).dropFirst().contains(false) },
                notAfter: sim.config.duration.nanoseconds)
            // Let the periodic services (kswapd, the host scheduler) see the exit.
            sim.advance(to: sim.currentTime + sim.config.host.scheduler.interval.nanoseconds)
        case .hostState(let state, let after):
            let s = sim
            s.advance(until: { s.host.scheduler.state.level >= state.level }, notAfter: sim.config.duration.nanoseconds)
            sim.advance(to: sim.currentTime + after.nanoseconds)
        }
    }

    /// For a trace mark: the guest index, workload index (boot is 0) and the reference count
    /// at the mark. Nil for other stops.
    func referenceTarget(_ stop: DemoStop) throws -> (Int, Int, Int)? {
        guard case .traceMark(let guest, let mark) = stop else { return nil }
        let guests = sim.config.expandedGuests
        guard let gi = guests.firstIndex(where: { $0.name == guest }) else {
            throw DemoError(message: "demo \(demo.rawValue): the scenario has no guest '\(guest)'")
        }
        guard let wi = guests[gi].workloads.firstIndex(where: { $0.kind == .trace }),
            let path = guests[gi].workloads[wi].resourcePaths.first
        else {
            throw DemoError(message: "demo \(demo.rawValue): guest '\(guest)' replays no trace")
        }
        guard let text = options.textResources[path] else {
            throw DemoError(message: "demo \(demo.rawValue): trace '\(path)' was not loaded")
        }
        guard let n = DemoRunner.referencesBefore(mark: mark, in: text) else {
            throw DemoError(message: "demo \(demo.rawValue): trace '\(path)' has no line '#@ \(mark)'")
        }
        return (gi, wi + 1, n)
    }

    /// R and W records of a text trace before the line `#@ mark`, or nil without that line.
    static func referencesBefore(mark: String, in text: String) -> Int? {
        var n = 0
        for raw in text.split(separator: "\n", omittingEmptySubsequences: false) {
            let line = raw.drop { $0 == " " || $0 == "\t" }
            if line.hasPrefix("#@") {
                if line.dropFirst(2).trimmingCharacters(in: " \t\r") == mark { return n }
                continue
            }
            if let c = line.first, c == "R" || c == "W", line.dropFirst().first.map({ $0 == " " || $0 == "\t" }) ?? false { n += 1 }
        }
        return nil
    }

    static func snapshot(_ sim: Simulation) -> DemoSnapshot {
        let gs = sim.host.vms.enumerated().map { i, vm in
            let k = sim.guestKernel(i)
            return DemoGuestState(
                name: vm.name, configuredPages: vm.configuredPages, meminfo: k.meminfo, vmstat: k.vmstat,
                processes: k.processTable(), vm: vm.snapshot(), poweredOn: vm.poweredOn,
                workloads: sim.workloadStats(guest: i),
                watermarksKB: (k.watermarks.min * 4, k.watermarks.low * 4, k.watermarks.high * 4),
                state: sim.guestState(index: i))
        }
        return DemoSnapshot(
            timeNs: sim.currentTime, guests: gs, host: sim.host.snapshot(), hostTotalPages: sim.host.totalFrames,
            eventCount: sim.eventLog.count)
    }
}

private extension Substring {
    func trimmingCharacters(in set: String) -> Substring {
        var s = self
        while let c = s.first, set.contains(c) { s = s.dropFirst() }
        while let c = s.last, set.contains(c) { s = s.dropLast() }
        return s
    }
}
