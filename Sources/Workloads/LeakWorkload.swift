import GuestKernel
import OvercommitSupport
import PageContents

/// A process with a memory leak: it allocates and writes new memory at `rate` and never frees
/// it, while doing its normal work on a small working set.
///
/// Imitates the classic slow leak that ends in the OOM killer: leaked pages are written once
/// and never touched again, so they go cold and are swapped out first; once swap is full the
/// guest runs out of memory and the OOM killer picks (usually) the leaker. Under
/// `vm.overcommit_memory=2` its mmap calls are refused instead: it records each refusal and
/// retries at the next allocation time, forever, as a program with a retrying allocator does.
/// The workload ends when its process is killed.
///
/// One unit of work (`stats.operations`) is one chunk leaked.
public struct LeakWorkloadParameters: WorkloadParameters {
    public static let kindName = "leak"
    public static let summary = "leaking process: allocates and writes memory at a fixed rate until OOM-killed; retries ENOMEM"

    /// Memory leaked per simulated second.
    public var rate: ByteCount = .mib(16)
    /// Size of each leaked allocation (one mmap).
    public var chunk: ByteCount = .mib(1)
    /// Memory of the process's normal work, referenced between allocations.
    public var working_set: ByteCount = .mib(8)
    /// Fraction of working-set references that are writes.
    public var write_fraction: Percentage = Percentage(percent: 20)

    public var access_rate: Double = 200_000
    public var start_at: SimDuration = .ns(0)
    public var stop_at: SimDuration? = nil
    public var content_mix = ContentMix([(.pointers, 40), (.text, 30), (.sparse, 20), (.random, 10)])
    public var oom_score_adj: Int = 0

    public init() {}

    public static let tableSummary = "A leaking process: allocates and writes memory at a fixed rate until it is OOM-killed; retries refused allocations."
    public static let ownFields: [ParameterField<Self>] = [
        .init(\.rate, "rate", "memory leaked per simulated second", .atLeastOnePage, unit: "per second"),
        .init(\.chunk, "chunk", "size of each leaked allocation (one mmap, written once)", .atLeastOnePage),
        .init(\.working_set, "working_set", "memory of the process's normal work, referenced between allocations", .atLeastOnePage),
        .init(\.write_fraction, "write_fraction", "fraction of working-set references that are writes", .share),
    ]

    public func makeWorkload(
        kernel: GuestKernel, rng: inout Xoshiro256, resources: WorkloadResources,
        imageFiles: [String]
    ) throws -> any Workload {
        LeakWorkload(self)
    }
}

extension WorkloadKind {
    public static let leak = WorkloadKind(LeakWorkloadParameters.self)
}

extension WorkloadSpec {
    /// The `leak` workload with parameters `p`.
    public static func leak(_ p: LeakWorkloadParameters = LeakWorkloadParameters()) -> WorkloadSpec { WorkloadSpec(p) }
}

/// The `leak` generator (see `LeakWorkloadParameters`).
public final class LeakWorkload: Workload {
    public var kind: WorkloadKind { .leak }
    public private(set) var isFinished = false

    let params: LeakWorkloadParameters
    let mix: StyleMix
    var life: Lifetime
    let chunkPages: Int
    let workingPages: Int
    /// Simulated ns between two chunk allocations.
    let interval: Int64
    let writeP: Double

    var pid: PID = 0
    var workingBase: VPN? = nil
    var nextAllocAt: Int64 = 0
    var writeCursor: VPN = 0
    var writeEnd: VPN = 0
    /// Pages leaked so far.
    public private(set) var leakedPages = 0

    public init(_ params: LeakWorkloadParameters) {
        self.params = params
        mix = params.content_mix.fractions
        life = Lifetime(params)
        chunkPages = max(1, params.chunk.pages)
        workingPages = max(1, params.working_set.pages)
        interval = max(1, Int64((Double(chunkPages * pageSize) / Double(max(1, params.rate.bytes)) * 1e9).rounded()))
        writeP = params.write_fraction.fraction
    }

    /// The leaking process (0 before it starts).
    public var process: PID { pid }

    public func run(on kernel: GuestKernel, context c: inout WorkloadContext) {
        guard !isFinished else { return }
        if kernel.panicked { isFinished = true; return }
        c.setRate(params.access_rate)
        guard life.ready(&c) else { return }
        let stop = life.stopTime
        if pid == 0 {
            pid = kernel.spawnProcess("leaky-app", adj: params.oom_score_adj, mix: mix, context: &c)
            nextAllocAt = c.now
        }
        while c.budget > 0 {
            if c.now >= stop {
                kernel.exitProcess(pid, context: &c)
                isFinished = true
                return
            }
            let r: AccessResult
            if writeCursor < writeEnd {
                // The leaked objects are written once, then never touched again.
                r = c.access(kernel, pid, writeCursor, write: true)
                writeCursor += 1
            } else if c.now >= nextAllocAt {
                allocate(kernel, &c)
                continue
            } else if let ws = workingBase {
                r = c.access(kernel, pid, ws + VPN(c.rng.int(below: workingPages)), write: c.rng.chance(writeP))
            } else {
                c.idle(until: min(nextAllocAt, stop))
                continue
            }
            if r == .noProcess {
                c.stats.killed += 1
                isFinished = true
                return
            }
        }
    }

    func allocate(_ kernel: GuestKernel, _ c: inout WorkloadContext) {
        if !kernel.isAlive(pid) {
            c.stats.killed += 1
            isFinished = true
            return
        }
        if workingBase == nil {
            workingBase = kernel.mapAnonymous(pid, pages: workingPages, context: &c)
        }
        if let base = kernel.mapAnonymous(pid, pages: chunkPages, context: &c) {
            writeCursor = base
            writeEnd = base + VPN(chunkPages)
            leakedPages += chunkPages
            c.stats.operations += 1
            nextAllocAt += interval
        } else {
            // Refused (ENOMEM): try again one interval later.
            nextAllocAt = c.now + interval
        }
    }
}
