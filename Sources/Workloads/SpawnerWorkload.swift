import GuestKernel
import OvercommitSupport
import PageContents

/// Process churn: a long-lived parent forks short-lived children at random times.
///
/// Imitates a pre-forking server, a shell running scripts, or a CI runner: the parent holds
/// `parent_memory` written at start-up; children arrive as a Poisson process at `fork_rate`
/// per second and live an exponentially distributed time of mean `lifetime`. A child shares
/// the parent's pages copy-on-write (a write to one copies it), allocates `child_memory` of its
/// own, and exits. Under strict overcommit a fork of a large parent is refused (ENOMEM): the
/// refusal is recorded and the next arrival tries again. Killed children are counted; if the
/// parent is killed no new child is forked and the workload ends with its last child.
///
/// One unit of work (`stats.operations`) is one child that ran to its exit.
public struct SpawnerWorkloadParameters: WorkloadParameters {
    public static let kindName = "spawner"
    public static let summary = "process churn: a parent forks short-lived children sharing its memory copy-on-write"

    /// Children forked per simulated second (Poisson arrivals).
    public var fork_rate: Double = 5
    /// Mean lifetime of a child (exponentially distributed).
    public var lifetime: SimDuration = .seconds(2)
    /// Memory the parent writes at start-up (inherited by children copy-on-write).
    public var parent_memory: ByteCount = .mib(64)
    /// Anonymous memory each child allocates.
    public var child_memory: ByteCount = .mib(8)
    /// Fraction of a child's references that go to inherited (parent) memory.
    public var inherited_fraction: Percentage = Percentage(percent: 50)
    /// Fraction of references to inherited memory that are writes (each first write copies).
    public var inherited_write_fraction: Percentage = Percentage(percent: 5)
    /// Fraction of references to a child's own memory that are writes.
    public var write_fraction: Percentage = Percentage(percent: 30)
    /// Most children alive at once; arrivals beyond it are dropped.
    public var max_children: Int = 32
    /// Share of the parent's memory, and of each child's memory set up when it is forked,
    /// that is the program's constant data (see `ProgramData`).
    public var program_data: Percentage = ProgramData.defaultFraction

    public var access_rate: Double = 200_000
    public var start_at: SimDuration = .ns(0)
    public var stop_at: SimDuration? = nil
    public var content_mix = ContentMix([(.pointers, 40), (.text, 25), (.sparse, 25), (.zero, 10)])
    public var oom_score_adj: Int = 0

    public init() {}

    public static let tableSummary =
        "Process churn: a parent forks short-lived children (Poisson arrivals, exponential lifetimes) sharing its memory copy-on-write."
    public static let ownFields: [ParameterField<Self>] = [
        .init(\.fork_rate, "fork_rate", "children forked per simulated second (Poisson arrivals)", .above(0, atMost: 1e6), unit: "per second"),
        .init(\.lifetime, "lifetime", "mean lifetime of a child (exponential)", .period),
        .init(\.parent_memory, "parent_memory", "memory the parent writes at start-up, inherited copy-on-write", .atLeastOnePage),
        .init(\.child_memory, "child_memory", "anonymous memory each child allocates", .atLeastOnePage),
        .init(\.inherited_fraction, "inherited_fraction", "fraction of a child's references to inherited parent memory", .share),
        .init(\.inherited_write_fraction, "inherited_write_fraction", "fraction of references to inherited memory that are writes (copy-on-write)", .share),
        .init(\.write_fraction, "write_fraction", "fraction of references to a child's own memory that are writes", .share),
        .init(\.max_children, "max_children", "most children alive at once; arrivals beyond it are dropped", .range(1...100_000), unit: "processes"),
        .init(
            \.program_data, "program_data",
            ProgramData.parameterSummary
                + "; a child writes its share of child_memory when forked (a renderer or worker setting itself up), the same in every child",
            .share),
    ]

    public func makeWorkload(
        kernel: GuestKernel, rng: inout Xoshiro256, resources: WorkloadResources,
        imageFiles: [String]
    ) throws -> any Workload {
        SpawnerWorkload(self)
    }
}

extension WorkloadKind {
    public static let spawner = WorkloadKind(SpawnerWorkloadParameters.self)
}

extension WorkloadSpec {
    /// The `spawner` workload with parameters `p`.
    public static func spawner(_ p: SpawnerWorkloadParameters = SpawnerWorkloadParameters()) -> WorkloadSpec { WorkloadSpec(p) }
}

/// The `spawner` generator (see `SpawnerWorkloadParameters`).
public final class SpawnerWorkload: Workload {
    public var kind: WorkloadKind { .spawner }
    public private(set) var isFinished = false

    let params: SpawnerWorkloadParameters
    let mix: StyleMix
    var life: Lifetime
    let parentPages: Int
    let childPages: Int
    let meanGap: Double
    let meanLife: Double
    let inheritedP: Double
    let inheritedWriteP: Double
    let writeP: Double

    var parent: PID = 0
    var parentAlive = false
    var parentBase: VPN = 0
    var populated = 0
    var nextForkAt: Int64 = 0
    var childPid: [PID] = []
    var childBase: [VPN] = []
    var childExitAt: [Int64] = []
    /// Earliest `childExitAt` (Int64.max with no child).
    var nextExitAt: Int64 = .max
    /// The program's constant data, and which child-memory pages of it a child writes when forked.
    var data = ProgramData(program: 0, fraction: 0, mix: [])
    var childSetupPages: [Int] = []
    /// Children (pids) still writing their start-up data, and the next page of the first.
    var settingUp: [PID] = []
    var setupCursor = 0
    /// The coming references, for prefetch hints (no effect on what is simulated).
    let ahead = ReferenceLookahead()

    public init(_ params: SpawnerWorkloadParameters) {
        self.params = params
        mix = params.content_mix.fractions
        life = Lifetime(params)
        parentPages = max(1, params.parent_memory.pages)
        childPages = max(1, params.child_memory.pages)
        meanGap = 1e9 / max(params.fork_rate, 1e-9)
        meanLife = Double(max(1, params.lifetime.nanoseconds))
        inheritedP = params.inherited_fraction.fraction
        inheritedWriteP = params.inherited_write_fraction.fraction
        writeP = params.write_fraction.fraction
    }

    /// Children alive now.
    public var children: Int { childPid.count }

    public func run(on kernel: GuestKernel, context c: inout WorkloadContext) {
        guard !isFinished else { return }
        if kernel.panicked { isFinished = true; return }
        c.setRate(params.access_rate)
        guard life.ready(&c) else { return }
        let stop = life.stopTime
        if parent == 0 { startParent(kernel, &c) }
        while c.budget > 0 {
            if c.now >= stop { shutdown(kernel, &c); return }
            if c.now >= nextExitAt { reapChildren(kernel, &c); continue }
            if parentAlive && populated < parentPages {
                if c.populate(kernel, parent, parentBase + VPN(populated), data, region: ProgramData.Region.parentMemory, page: populated) == .noProcess {
                    parentLost(&c)
                }
                populated += 1
                continue
            }
            if let child = settingUp.first {
                // A new child sets itself up at memory speed; one that exited or was killed stops.
                if let i = childPid.firstIndex(of: child) {
                    let page = childSetupPages[setupCursor]
                    let content = data.content(region: ProgramData.Region.childMemory, page: page, layout: kernel.process(child)?.layoutSeed ?? 0)!
                    setupCursor = c.store(kernel, child, childBase[i] + VPN(page), content) == .noProcess ? childSetupPages.count : setupCursor + 1
                } else {
                    setupCursor = childSetupPages.count
                }
                if setupCursor >= childSetupPages.count { settingUp.removeFirst(); setupCursor = 0 }
                continue
            }
            if parentAlive && c.now >= nextForkAt { forkChild(kernel, &c); continue }
            if childPid.isEmpty {
                if !parentAlive { isFinished = true; return }
                // Between children the parent does its own light work.
                if c.access(kernel, parent, parentBase + VPN(c.rng.int(below: parentPages)), write: false) == .noProcess { parentLost(&c) }
                continue
            }
            ahead.advance(c.rng, kernel: kernel) { rng, _ in reference(draw(&rng)) }
            let d = draw(&c.rng)
            let x = reference(d)
            let r = c.access(kernel, x.pid, x.vpn, write: x.write)
            if r == .noProcess {
                c.stats.killed += 1
                c.stats.failedOperations += 1
                removeChild(d.child)
            }
        }
    }

    /// Draws a child's reference: which child, whether to the memory it inherited from the
    /// parent, which page, whether a write. Consumes `rng` the same way whoever calls it (the
    /// workload, or its lookahead on a copy).
    @inline(__always)
    func draw(_ rng: inout Xoshiro256) -> (child: Int, inherited: Bool, page: Int, write: Bool) {
        let i = rng.int(below: childPid.count)
        if rng.chance(inheritedP) {
            let page = rng.int(below: parentPages)
            return (i, true, page, rng.chance(inheritedWriteP))
        }
        let page = rng.int(below: childPages)
        return (i, false, page, rng.chance(writeP))
    }

    /// The page a child's drawn reference touches.
    @inline(__always)
    func reference(_ d: (child: Int, inherited: Bool, page: Int, write: Bool)) -> ReferenceLookahead.Reference {
        .init(pid: childPid[d.child], vpn: (d.inherited ? parentBase : childBase[d.child]) + VPN(d.page), write: d.write)
    }

    func startParent(_ kernel: GuestKernel, _ c: inout WorkloadContext) {
        parent = kernel.spawnProcess("supervisor", adj: params.oom_score_adj, mix: mix, context: &c)
        data = ProgramData(program: ProgramData.identity(kernel: kernel, name: "supervisor"), fraction: params.program_data.fraction, mix: mix)
        childSetupPages = data.programPages(region: ProgramData.Region.childMemory, pages: childPages)
        parentAlive = true
        if let base = kernel.mapAnonymous(parent, pages: parentPages, context: &c) {
            parentBase = base
        } else {
            // Without its memory the parent cannot run: it exits.
            kernel.exitProcess(parent, context: &c)
            parentAlive = false
        }
        nextForkAt = c.now + Int64(c.rng.exponential(mean: meanGap))
    }

    func forkChild(_ kernel: GuestKernel, _ c: inout WorkloadContext) {
        nextForkAt = c.now + max(1, Int64(c.rng.exponential(mean: meanGap)))
        guard childPid.count < params.max_children else { return }
        if !kernel.isAlive(parent) { parentLost(&c); return }
        guard let child = kernel.forkProcess(parent, mix: mix, context: &c) else { return }
        guard let base = kernel.mapAnonymous(child, pages: childPages, context: &c) else {
            kernel.exitProcess(child, context: &c)
            c.stats.failedOperations += 1
            return
        }
        let exitAt = c.now + max(1, Int64(c.rng.exponential(mean: meanLife)))
        childPid.append(child)
        childBase.append(base)
        childExitAt.append(exitAt)
        nextExitAt = min(nextExitAt, exitAt)
        if !childSetupPages.isEmpty { settingUp.append(child) }
    }

    /// Children whose lifetime is over exit.
    func reapChildren(_ kernel: GuestKernel, _ c: inout WorkloadContext) {
        var i = 0
        while i < childPid.count {
            if childExitAt[i] <= c.now {
                if kernel.isAlive(childPid[i]) {
                    kernel.exitProcess(childPid[i], context: &c)
                    c.stats.operations += 1
                } else {
                    c.stats.killed += 1
                    c.stats.failedOperations += 1
                }
                removeChild(i)
            } else {
                i += 1
            }
        }
        if childPid.isEmpty { nextExitAt = .max }
    }

    func removeChild(_ i: Int) {
        childPid.remove(at: i)
        childBase.remove(at: i)
        childExitAt.remove(at: i)
        nextExitAt = childExitAt.min() ?? .max
    }

    func parentLost(_ c: inout WorkloadContext) {
        if parentAlive { c.stats.killed += 1 }
        parentAlive = false
        populated = parentPages
    }

    func shutdown(_ kernel: GuestKernel, _ c: inout WorkloadContext) {
        for p in childPid { kernel.exitProcess(p, context: &c) }
        childPid.removeAll(); childBase.removeAll(); childExitAt.removeAll()
        settingUp.removeAll()
        if parentAlive { kernel.exitProcess(parent, context: &c) }
        parentAlive = false
        isFinished = true
    }
}
