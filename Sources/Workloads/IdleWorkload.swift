import GuestKernel
import OvercommitSupport
import PageContents

/// An idle guest: the OS's daemons (journald, sshd, cron, ...) keep a small resident set and
/// touch it now and then.
///
/// Imitates a freshly booted server with nothing to serve: a handful of processes whose
/// memory was written once at start-up and is afterwards referenced at a low rate, mostly
/// read. Its pages go cold and are what reclaim, ballooning and host swap take first.
public struct IdleWorkloadParameters: WorkloadParameters {
    public static let kindName = "idle"
    public static let summary = "a few daemons that wrote a small resident set at start-up and touch it rarely"

    /// Number of daemon processes.
    public var daemons: Int = 4
    /// Memory the daemons keep touched, split evenly between them.
    public var resident: ByteCount = .mib(64)
    /// Fraction of references that are writes.
    public var write_fraction: Percentage = Percentage(percent: 10)
    /// Share of each daemon's resident set that is its constant data (see `ProgramData`).
    public var program_data: Percentage = ProgramData.defaultFraction

    public var access_rate: Double = 1_000
    public var start_at: SimDuration = .ns(0)
    public var stop_at: SimDuration? = nil
    public var content_mix = ContentMix([(.zero, 10), (.sparse, 30), (.pointers, 40), (.text, 20)])
    public var oom_score_adj: Int = 0

    public init() {}

    public static let tableSummary = "An idle guest: a few daemons that wrote a small resident set at start-up and touch it rarely."
    public static let ownFields: [ParameterField<Self>] = [
        .init(\.daemons, "daemons", "number of daemon processes (journald, sshd, cron, ...)", .range(1...1024), unit: "processes"),
        .init(\.resident, "resident", "memory the idle daemons keep touched, split evenly between them", .atLeastOnePage),
        .init(\.write_fraction, "write_fraction", "fraction of references that are writes", .share),
        .init(\.program_data, "program_data", ProgramData.parameterSummary, .share),
    ]

    public func ownProblems() -> [ParameterProblem] {
        guard resident.pages < daemons, daemons >= 1 else { return [] }
        return [("resident", "must be at least \(ByteCount.pages(daemons)) (one page per daemon); got \(resident)")]
    }

    public func makeWorkload(
        kernel: GuestKernel, rng: inout Xoshiro256, resources: WorkloadResources,
        imageFiles: [String]
    ) throws -> any Workload {
        IdleWorkload(self)
    }
}

extension WorkloadKind {
    public static let idle = WorkloadKind(IdleWorkloadParameters.self)
}

extension WorkloadSpec {
    /// The `idle` workload with parameters `p`.
    public static func idle(_ p: IdleWorkloadParameters = IdleWorkloadParameters()) -> WorkloadSpec { WorkloadSpec(p) }
}

/// The `idle` generator (see `IdleWorkloadParameters`).
public final class IdleWorkload: Workload {
    public var kind: WorkloadKind { .idle }
    public private(set) var isFinished = false

    let params: IdleWorkloadParameters
    let mix: StyleMix
    var life: Lifetime
    let pagesPer: Int
    var started = false
    var pids: [PID] = []
    var bases: [VPN] = []
    /// Each daemon's program data.
    var data: [ProgramData] = []
    /// Indexes (into `pids`) of daemons still alive with memory.
    var alive: [Int] = []
    /// Start-up: daemon and page being written.
    var populateSlot = 0
    var populatePage = 0

    static let names = ["systemd-journald", "sshd", "cron", "rsyslogd", "dbus-daemon", "systemd-logind", "agetty", "chronyd"]

    public init(_ params: IdleWorkloadParameters) {
        self.params = params
        self.mix = params.content_mix.fractions
        self.life = Lifetime(params)
        self.pagesPer = max(1, params.resident.pages / max(1, params.daemons))
    }

    public func run(on kernel: GuestKernel, context c: inout WorkloadContext) {
        guard !isFinished else { return }
        if kernel.panicked { isFinished = true; return }
        c.setRate(params.access_rate)
        guard life.ready(&c) else { return }
        if !started { start(kernel, &c) }
        let stop = life.stopTime
        let writeP = params.write_fraction.fraction
        while c.budget > 0 {
            if c.now >= stop { shutdown(kernel, &c); return }
            if alive.isEmpty { isFinished = true; return }
            if populateSlot < alive.count {
                // Start-up: each daemon writes its memory once, at memory speed.
                let d = alive[populateSlot]
                let r = c.populate(kernel, pids[d], bases[d] + VPN(populatePage), data[d], region: ProgramData.Region.daemonMemory, page: populatePage)
                if r == .noProcess { lose(populateSlot, &c); populatePage = 0; continue }
                populatePage += 1
                if populatePage == pagesPer { populatePage = 0; populateSlot += 1 }
                continue
            }
            let slot = c.rng.int(below: alive.count)
            let d = alive[slot]
            let vpn = bases[d] + VPN(c.rng.int(below: pagesPer))
            if c.access(kernel, pids[d], vpn, write: c.rng.chance(writeP)) == .noProcess { lose(slot, &c) }
        }
    }

    func start(_ kernel: GuestKernel, _ c: inout WorkloadContext) {
        started = true
        for i in 0..<max(1, params.daemons) {
            let base = IdleWorkload.names[i % IdleWorkload.names.count]
            let name = i < IdleWorkload.names.count ? base : "\(base)-\(i / IdleWorkload.names.count)"
            let pid = kernel.spawnProcess(name, adj: params.oom_score_adj, mix: mix, context: &c)
            guard let vpn = kernel.mapAnonymous(pid, pages: pagesPer, context: &c) else {
                kernel.exitProcess(pid, context: &c)
                continue
            }
            pids.append(pid)
            bases.append(vpn)
            data.append(ProgramData(program: ProgramData.identity(kernel: kernel, name: base), fraction: params.program_data.fraction, mix: mix))
            alive.append(pids.count - 1)
        }
    }

    /// A daemon was found killed: it stops taking part.
    func lose(_ slot: Int, _ c: inout WorkloadContext) {
        c.stats.killed += 1
        alive.remove(at: slot)
    }

    func shutdown(_ kernel: GuestKernel, _ c: inout WorkloadContext) {
        for d in alive { kernel.exitProcess(pids[d], context: &c) }
        alive.removeAll()
        isFinished = true
    }
}
