import OvercommitSupport
import Simulation

/// What the search adds VMs of: copies of one guest of the scenario, or of its whole mix.
public enum ConsolidationMode: Sendable, Equatable {
    /// Copies of the guest entry named so (`--vm web1`): `web1`, `web1-2`, `web1-3`, ...
    /// (an entry with `count: n` has its count raised instead: `web-1` ... `web-k`).
    case vm(String)
    /// Copies of every guest entry together (`--scale-mix`): k copies of the mix.
    case scaleMix
}

/// One number of copies tried: the run at that size and its SLA terms.
public struct ConsolidationPoint: Sendable {
    public var copies: Int
    public var vms: Int
    public var configuredBytes: UInt64
    public var hostBytes: UInt64
    /// Configured guest memory / host RAM.
    public var ratio: Double { Double(configuredBytes) / Double(max(1, hostBytes)) }
    public var terms: [SLATerm]
    public var passed: Bool { terms.allSatisfy(\.passed) }
    /// Metric values of the run (`RunMetrics.all` order).
    public var metrics: [Double]

    public func metric(_ m: RunMetric) -> Double {
        RunMetrics.all.firstIndex { $0.name == m.name }.map { metrics[$0] } ?? .nan
    }

    /// The overcommit-penalty term (the SLA term that varies continuously with the load).
    public var penalty: SLATerm? { terms.first { $0.name == "overcommit_penalty" } }

    /// The terms that failed.
    public var broken: [SLATerm] { terms.filter { !$0.passed } }
}

/// The outcome of one search.
public struct ConsolidationResult: Sendable {
    public var label: String
    public var mode: ConsolidationMode
    public var sla: ServiceLevel
    /// The largest size that keeps the SLA (nil when even one copy breaks it).
    public var limit: ConsolidationPoint?
    /// The next size up, which breaks it (nil when the search reached `maxVMs`).
    public var beyond: ConsolidationPoint?
    /// Every size run, by copies.
    public var evaluated: [ConsolidationPoint]
    public var maxCopies: Int
}

/// Finds the largest number of VMs a host carries while a `ServiceLevel` holds, the way a
/// capacity planner sizes a vSphere or KVM host: add VMs, run the workload, check the SLA.
///
/// The search doubles the number of copies (1, 2, 4, ...) until the SLA breaks or the bound
/// is reached, then bisects between the last size that held and the first that broke. It
/// assumes monotonicity: a host that breaks the SLA with k copies breaks it with more.
/// The answer is verified by construction: size N was run and held, size N + 1 was run and
/// broke, and both are reported. Each size is run twice, on the host as configured and on
/// the same host with memory to spare (the overcommit-penalty baseline), in parallel.
///
/// With two jobs or more the runs are scheduled one by one (`ConsolidationSearch+Schedule`):
/// a job that would wait for the other runs of the size the search needs runs a size the
/// search may try next (`lookahead`), and a run the search no longer needs is stopped. Only
/// the sizes the one-at-a-time search tries are reported, so the answer and every output are
/// the same for any `--jobs`; the extra runs cost CPU and save waiting.
public struct ConsolidationSearch: Sendable {
    public var label: String
    public var base: ScenarioConfig
    public var mode: ConsolidationMode
    public var sla: ServiceLevel
    /// Bound on the total number of VMs.
    public var maxVMs: Int
    public var options: SimulationOptions
    public var jobs: Int

    public init(
        label: String = "", base: ScenarioConfig, mode: ConsolidationMode, sla: ServiceLevel, maxVMs: Int,
        options: SimulationOptions, jobs: Int
    ) throws(OverrideError) {
        self.label = label; self.base = base; self.mode = mode; self.sla = sla; self.maxVMs = maxVMs
        self.options = options; self.jobs = max(1, jobs)
        if case .vm(let name) = mode, !base.guests.contains(where: { $0.name == name }) {
            throw OverrideError("--vm \(name): no guest entry is named '\(name)'; allowed: \(base.guests.map(\.name).joined(separator: ", "))")
        }
        guard maxVMs >= 1, maxVMs <= 4096 else { throw OverrideError("--max-vms must be between 1 and 4096; got \(maxVMs)") }
        guard maxCopies >= 1 else {
            throw OverrideError("--max-vms \(maxVMs) leaves no room for a copy: the scenario's other guests already make \(vms(copies: 1) - 1) VMs")
        }
    }

    /// VMs in the scenario at `copies`.
    public func vms(copies k: Int) -> Int {
        switch mode {
        case .vm(let name):
            return base.guests.reduce(0) { $0 + ($1.name == name ? k : $1.count) }
        case .scaleMix:
            return base.guests.reduce(0) { $0 + $1.count } * k
        }
    }

    /// The most copies within `maxVMs`.
    public var maxCopies: Int {
        var k = 0
        while k < 4096, vms(copies: k + 1) <= maxVMs { k += 1 }
        return k
    }

    /// The scenario with `copies` copies of the VM or of the mix.
    public func scenario(copies k: Int) throws(OverrideError) -> ScenarioConfig {
        var c = base
        var guests: [GuestConfig] = []
        for g in base.guests {
            let scaled: Bool
            switch mode {
            case .vm(let name): scaled = g.name == name
            case .scaleMix: scaled = true
            }
            guard scaled else { guests.append(g); continue }
            if g.count > 1 {
                var x = g
                x.count = mode == .scaleMix ? g.count * k : k
                guests.append(x)
            } else {
                guests.append(g)
                for i in stride(from: 2, through: k, by: 1) { var x = g; x.name = "\(g.name)-\(i)"; guests.append(x) }
            }
        }
        c.guests = guests
        let problems = c.validationProblems()
        if let p = problems.first {
            throw OverrideError("the scenario with \(k) cop\(k == 1 ? "y" : "ies") is invalid: \(p.key): \(p.message)")
        }
        return c
    }

    /// The same scenario on a host with memory to spare: configured memory, per-VM overhead
    /// and the hypervisor's reserve, times 1.5, plus 1 GiB, so the host stays in the high
    /// state and never reclaims.
    public static func ampleHost(_ c: ScenarioConfig) -> ScenarioConfig {
        var x = c
        let gs = c.expandedGuests
        let need = gs.reduce(UInt64(0)) { $0 + $1.memory.bytes } + UInt64(gs.count) * c.host.vm_overhead.bytes + c.host.hypervisor_reserved.bytes
        let ample = need + need / 2 + (1 << 30)
        let unit: UInt64 = 2 << 20
        x.host.memory = ByteCount((ample + unit - 1) / unit * unit)
        return x
    }

    /// Runs the scenario at `copies` and its baseline, and checks the SLA.
    public func evaluate(copies k: Int) throws -> ConsolidationPoint {
        try evaluate(sizes: [k], jobs: jobs)[0].get()
    }

    /// Runs the scenarios at `sizes` and their baselines (two runs a size) on up to `jobs`
    /// threads; one result per size, in order.
    func evaluate(sizes: [Int], jobs: Int) -> [Result<ConsolidationPoint, Error>] {
        let opts = options
        let runs = ParallelRunner.map(count: 2 * sizes.count, jobs: jobs) { i -> Result<SimulationResult, Error> in
            Result { try simulate(copies: sizes[i / 2], roomy: i % 2 == 1, options: opts) }
        }
        return sizes.indices.map { n in Result { try point(copies: sizes[n], run: runs[2 * n].get(), baseline: runs[2 * n + 1].get()) } }
    }

    /// One run of the search: the scenario at `copies`, on its host or on a roomy one.
    func simulate(copies k: Int, roomy: Bool, options: SimulationOptions) throws -> SimulationResult {
        let c = try scenario(copies: k)
        return try Simulation(config: roomy ? ConsolidationSearch.ampleHost(c) : c, options: options).run()
    }

    /// The point of size `copies` from its run and its baseline run.
    func point(copies k: Int, run r: SimulationResult, baseline b: SimulationResult) throws -> ConsolidationPoint {
        let gs = try scenario(copies: k).expandedGuests
        return ConsolidationPoint(
            copies: k, vms: gs.count, configuredBytes: gs.reduce(0) { $0 + $1.memory.bytes },
            hostBytes: r.config.host.memory.bytes, terms: sla.evaluate(r, baseline: b), metrics: RunMetrics.values(r))
    }

    /// Where the search is: the largest size known to hold, the smallest known to break, and
    /// the next size of the doubling phase.
    struct SearchState: Hashable {
        var lo = 0
        var hi: Int? = nil
        var k = 1
        var bisecting = false

        /// The size to run next, or nil when the search is over.
        var next: Int? {
            if !bisecting { return k }
            guard let h = hi, h - lo > 1 else { return nil }
            return lo + (h - lo) / 2
        }

        /// The state after size `k` held (`passed`) or broke: doubling up to `top` until the
        /// first break, then bisection between the last size that held and the first that broke.
        func after(_ k: Int, passed: Bool, top: Int) -> SearchState {
            var s = self
            if !bisecting {
                if passed {
                    s.lo = k
                    if k == top { s.bisecting = true } else { s.k = min(2 * k, top) }
                } else {
                    s.hi = k
                    s.bisecting = true
                }
            } else if passed {
                s.lo = k
            } else {
                s.hi = k
            }
            return s
        }
    }

    /// Every size the search may still try from `state`, with its depth: how many sizes whose
    /// outcome is not known yet lie on the shortest path to it in the search's decision tree
    /// (0: the next size). A size in `outcomes` (both its runs are in) leads on only to the
    /// state its outcome gives, at the same depth; any other size to both, one level deeper.
    /// Sizes with a known outcome are listed too. Shallowest first.
    func reachable(from state: SearchState, top: Int, outcomes: [Int: Bool] = [:]) -> [(size: Int, depth: Int)] {
        var sizes: [(size: Int, depth: Int)] = []
        var listed: Set<Int> = []
        var visited: Set<SearchState> = []
        var level = [state]
        var depth = 0
        while !level.isEmpty {
            var following: [SearchState] = []
            // A known outcome adds to the level being walked (a 0-1 breadth-first search).
            var i = 0
            while i < level.count {
                let s = level[i]
                i += 1
                guard visited.insert(s).inserted, let k = s.next else { continue }
                if listed.insert(k).inserted { sizes.append((k, depth)) }
                if let passed = outcomes[k] {
                    level.append(s.after(k, passed: passed, top: top))
                } else {
                    following.append(s.after(k, passed: true, top: top))
                    following.append(s.after(k, passed: false, top: top))
                }
            }
            level = following
            depth += 1
        }
        return sizes
    }

    /// Up to `width` sizes whose outcome is not in `outcomes` that the search may need from
    /// `state`, the most worth running ahead first: the next size, then the others by the
    /// chance that the search needs them (halved at each size of unknown outcome on the way,
    /// as either outcome is as likely) per VM they run (a run's cost grows with its VMs), the
    /// smaller size first on a tie. After a size that may break, the sizes a break leads to
    /// come before the size twice as large that holding would lead to.
    func lookahead(from state: SearchState, top: Int, width: Int, outcomes: [Int: Bool] = [:]) -> [Int] {
        func worth(_ c: (size: Int, depth: Int)) -> Double {
            c.depth == 0 ? .infinity : Double(sign: .plus, exponent: -c.depth, significand: 1) / Double(max(1, vms(copies: c.size)))
        }
        let ranked = reachable(from: state, top: top, outcomes: outcomes).filter { outcomes[$0.size] == nil }
            .map { ($0.size, worth($0)) }
            .sorted { $0.1 != $1.1 ? $0.1 > $1.1 : $0.0 < $1.0 }
        return ranked.prefix(width).map(\.0)
    }

    /// Exponential search, then bisection; `progress` is told each size as it is finished,
    /// in the order the search tries them.
    public func run(progress: ((ConsolidationPoint) -> Void)? = nil) throws -> ConsolidationResult {
        let top = maxCopies
        var tried: [Int: ConsolidationPoint] = [:]
        var state = SearchState()
        if jobs == 1 {
            while let k = state.next {
                let p = try evaluate(sizes: [k], jobs: 1)[0].get()
                tried[k] = p
                progress?(p)
                state = state.after(k, passed: p.passed, top: top)
            }
        } else {
            state = try SearchSchedule(search: self, top: top).run { p in
                tried[p.copies] = p
                progress?(p)
            }
        }
        return ConsolidationResult(
            label: label, mode: mode, sla: sla, limit: state.lo > 0 ? tried[state.lo] : nil, beyond: state.hi.flatMap { tried[$0] },
            evaluated: tried.keys.sorted().map { tried[$0]! }, maxCopies: top)
    }
}
