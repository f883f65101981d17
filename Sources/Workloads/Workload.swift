import GuestKernel
import OvercommitSupport

/// A program running inside a guest: it drives the guest kernel with system calls and
/// memory references.
///
/// The engine calls `run(on:context:)` once per vCPU slice with `context.now` at the start of
/// the slice and `context.budget` the slice's vCPU time (e.g. one 10 ms tick). The workload
/// issues references until the budget is spent or it has nothing left to do, advancing
/// `context.now` and lowering `context.budget` by what each reference cost (see
/// `WorkloadContext.charge(_:)`). A slice may overshoot by at most one operation (one
/// reference, or one system call): `budget` is then negative on return, and the engine should
/// carry the debt into the next slice. Waiting (a delayed start, a back-off after ENOMEM, the
/// pause between batch jobs) spends budget as idle time, so `run` returns with
/// `budget > 0` only when the workload is finished.
///
/// A workload never throws or traps on kernel failures: refused allocations (ENOMEM), OOM
/// kills and exhausted memory are recorded in `context.stats` and handled as the real
/// program would (retry, back off, restart, or stop).
public protocol Workload: AnyObject {
    /// Which generator this is.
    var kind: WorkloadKind { get }
    /// Runs for up to `context.budget` ns of vCPU time; returns when the budget is spent or
    /// nothing is left to do.
    func run(on kernel: GuestKernel, context: inout WorkloadContext)
    /// True once the workload has nothing more to do (ended, stopped, or its processes were
    /// killed and it does not restart them). The engine may stop calling `run`.
    var isFinished: Bool { get }
}

/// What the engine hands a workload for one slice, and what the workload hands back.
///
/// The engine keeps one context per workload instance for the whole run (its random stream
/// and statistics continue from slice to slice) and sets `now` and `budget` before each call.
public struct WorkloadContext: Sendable {
    /// Simulated time in ns; advanced by every charged reference and by idle waiting.
    public var now: Int64
    /// vCPU time left in this slice, in ns; may end slightly negative (overshoot).
    public var budget: Int64
    /// The workload's own random stream (the only source of randomness it uses).
    public var rng: Xoshiro256
    /// What the workload did so far (cumulative over the run).
    public internal(set) var stats: WorkloadStats = WorkloadStats()
    /// The cost model's `memory_access`: the part of a reference's period that the access
    /// itself takes (the rest of the period is think time).
    public let memoryAccessCost: Int64
    /// Think time charged after each reference: `1e9 / access_rate - memory_access`, set by
    /// the running workload at the start of every slice.
    public internal(set) var thinkTime: Int64 = 0

    /// System calls the kernel API does not cost (mmap, munmap, brk, fork, exit, mlock,
    /// spawn) are charged this much vCPU time each.
    public static let syscallCost: Int64 = 1_000

    public init(rng: Xoshiro256, costs: CostModel = CostModel(), now: Int64 = 0, budget: Int64 = 0) {
        self.rng = rng
        self.now = now
        self.budget = budget
        self.memoryAccessCost = costs.memory_access.nanoseconds
    }

    /// Sets the think time for a reference rate (references per second per vCPU).

    mutating func setRate(_ accessRate: Double) {
        let period = accessRate > 0 ? Int64((1e9 / accessRate).rounded()) : 0
        thinkTime = max(0, period - memoryAccessCost)
    }

    /// Charges one reference (memory access or one-page file I/O): its cost plus the think
    /// time, so an unstalled vCPU issues exactly `access_rate` references per second.
    @inline(__always)
    public mutating func charge(_ outcome: AccessOutcome) {
        stats.record(outcome.result, cost: outcome.cost)
        stats.thinkNs &+= thinkTime
        // At least 1 ns, so a loop of failing calls (cost 0) still ends with the budget.
        let t = max(outcome.cost &+ thinkTime, 1)
        now &+= t
        budget &-= t
    }

    /// Charges a reference made in a tight loop (memset of a fresh allocation, copying a file
    /// into memory): its cost only, without think time.
    @inline(__always)
    mutating func chargeBurst(_ outcome: AccessOutcome) {
        stats.record(outcome.result, cost: outcome.cost)
        let t = max(outcome.cost, 1)
        now &+= t
        budget &-= t
    }

    /// Charges a reference slot in which nothing could be issued (the process is gone, the
    /// mapping was refused): think time plus one memory-access time, so time still passes.
    @inline(__always)
    mutating func chargeSkipped() {
        let t = max(thinkTime &+ memoryAccessCost, 1)
        stats.skippedReferences &+= 1
        stats.thinkNs &+= t
        now &+= t
        budget &-= t
    }

    /// Takes `ns` of this slice's vCPU time away before the workload runs: the host ran its
    /// own work on the vCPU's CPU meanwhile (steal time, KVM's `steal` in the guest's
    /// /proc/stat). The workload issues that much less in the slice; `stats.stealNs` counts it.
    public mutating func steal(_ ns: Int64) {
        stats.stealNs &+= ns
        budget &-= ns
    }

    /// Charges one system call.

    mutating func chargeSyscall() {
        stats.syscallNs &+= WorkloadContext.syscallCost
        now &+= WorkloadContext.syscallCost
        budget &-= WorkloadContext.syscallCost
    }

    /// Waits (idle, no vCPU use) until `time` or until the budget is spent, whichever is first.

    mutating func idle(until time: Int64) {
        guard time > now, budget > 0 else { return }
        let d = min(time - now, budget)
        stats.idleNs &+= d
        now &+= d
        budget &-= d
    }
}

/// Cumulative counters of one workload, in the units users read in `stats.txt`.
///
/// Result counters (`hits` ... `outOfMemory`) count every kernel call that touches a page:
/// memory references (`references`) and one-page file reads and writes (`fileReads`,
/// `fileWrites`).
public struct WorkloadStats: Sendable, Equatable {
    /// Memory references issued with `access`.
    public var references = 0
    /// Of `references`, the writes.
    public var writes = 0
    /// read(2) calls of one page each.
    public var fileReads = 0
    /// write(2) calls of one page each.
    public var fileWrites = 0
    /// Reference slots that issued nothing (the process was gone or the mapping refused).
    public var skippedReferences = 0

    public var hits = 0
    public var minorFaults = 0
    public var zeroFills = 0
    public var cowCopies = 0
    public var majorFaults = 0
    public var segvs = 0
    public var noProcess = 0
    public var outOfMemory = 0

    /// Simulated time spent in kernel calls (access cost, faults, I/O, direct reclaim).
    public var accessNs: Int64 = 0
    /// Simulated think time between references (the program's own computation).
    public var thinkNs: Int64 = 0
    /// Simulated time spent in system calls the kernel does not cost.
    public var syscallNs: Int64 = 0
    /// Budget spent waiting (delayed start, back-off, pauses).
    public var idleNs: Int64 = 0

    /// Successful mmap / brk-grow calls, and the pages they added.
    public var allocations = 0
    public var allocatedPages = 0
    /// mmap / brk calls refused with ENOMEM (the overcommit policy said no).
    public var refusedAllocations = 0
    /// Pages given back with munmap or brk-shrink.
    public var freedPages = 0
    /// mlock calls that failed.
    public var mlockFailures = 0

    /// Processes created with spawn (execve of a fresh program).
    public var spawns = 0
    /// Successful forks.
    public var forks = 0
    /// Forks refused with ENOMEM.
    public var refusedForks = 0
    /// Processes that exited by themselves.
    public var exits = 0
    /// Processes found dead (OOM-killed) while the workload still used them.
    public var killed = 0
    /// Service restarts after every process of the workload died (systemd Restart=).
    public var restarts = 0

    /// Units of work completed; what a unit is depends on the kind: web requests, database
    /// transactions, batch jobs, leak chunks, boot files, spawner children, trace passes.
    public var operations = 0
    /// Units of work abandoned (a batch job that gave up after ENOMEM or was killed, ...).
    public var failedOperations = 0
    /// Database: references that went to the hot set.
    public var hotReferences = 0
    /// Batch: pages referenced by the sweeps over the heap (the batch kind's throughput unit).
    public var pagesSwept = 0
    /// vCPU time the host took from the workload's slices (steal time).
    public var stealNs: Int64 = 0

    public init() {}

    @inline(__always)
    mutating func record(_ r: AccessResult, cost: Int64) {
        accessNs &+= cost
        switch r {
        case .hit: hits &+= 1
        case .minorFault: minorFaults &+= 1
        case .zeroFill: zeroFills &+= 1
        case .cowCopy: cowCopies &+= 1
        case .majorFault: majorFaults &+= 1
        case .segv: segvs &+= 1
        case .noProcess: noProcess &+= 1
        case .outOfMemory: outOfMemory &+= 1
        }
    }

    /// Units of `unit` this workload completed: requests and transactions are its
    /// `operations`, swept pages `pagesSwept`, trace references its `references`.
    public func units(_ unit: ThroughputUnit) -> Int {
        switch unit {
        case .requests, .transactions: operations
        case .pagesSwept: pagesSwept
        case .references: references
        }
    }

    /// All faults (minor and major) seen by this workload.
    public var faults: Int { minorFaults + zeroFills + cowCopies + majorFaults }

    /// The counters as named statistics, in a fixed order.
    public var statistics: StatisticsBlock {
        var b = StatisticsBlock()
        b.add("references", references, unit: "count", "memory references issued")
        b.add("writes", writes, unit: "count", "memory references that were writes")
        b.add("file_reads", fileReads, unit: "count", "one-page read(2) calls")
        b.add("file_writes", fileWrites, unit: "count", "one-page write(2) calls")
        b.add("skipped_references", skippedReferences, unit: "count", "reference slots that issued nothing (process gone, mapping refused)")
        b.add("hits", hits, unit: "count", "kernel calls served without a fault")
        b.add("minor_faults", minorFaults, unit: "count", "minor faults (zero page, page cache, swap cache)")
        b.add("zero_fills", zeroFills, unit: "count", "first writes that zero-filled a fresh frame")
        b.add("cow_copies", cowCopies, unit: "count", "copy-on-write copies after fork")
        b.add("major_faults", majorFaults, unit: "count", "faults that read swap or a file")
        b.add("segvs", segvs, unit: "count", "references outside any region")
        b.add("no_process", noProcess, unit: "count", "calls that found the process killed")
        b.add("out_of_memory", outOfMemory, unit: "count", "calls that found no memory even after the OOM killer")
        b.add("access_time_s", Double(accessNs) / 1e9, unit: "s", "simulated time in kernel calls (access, faults, I/O, reclaim)")
        b.add("think_time_s", Double(thinkNs) / 1e9, unit: "s", "simulated computation between references")
        b.add("syscall_time_s", Double(syscallNs) / 1e9, unit: "s", "simulated time in mmap, brk, fork, exit, mlock")
        b.add("idle_time_s", Double(idleNs) / 1e9, unit: "s", "budget spent waiting")
        b.add("allocations", allocations, unit: "count", "successful mmap / brk-grow calls")
        b.add("allocated_kb", allocatedPages * 4, unit: "kB", "memory added by mmap / brk")
        b.add("refused_allocations", refusedAllocations, unit: "count", "mmap / brk refused with ENOMEM")
        b.add("freed_kb", freedPages * 4, unit: "kB", "memory given back with munmap / brk")
        b.add("mlock_failures", mlockFailures, unit: "count", "mlock calls that failed")
        b.add("spawns", spawns, unit: "count", "processes started")
        b.add("forks", forks, unit: "count", "successful forks")
        b.add("refused_forks", refusedForks, unit: "count", "forks refused with ENOMEM")
        b.add("exits", exits, unit: "count", "processes that exited by themselves")
        b.add("killed", killed, unit: "count", "processes found OOM-killed")
        b.add("restarts", restarts, unit: "count", "service restarts after all its processes died")
        b.add("operations", operations, unit: "count", "units of work completed (requests, transactions, jobs, ...)")
        b.add("failed_operations", failedOperations, unit: "count", "units of work abandoned")
        b.add("hot_references", hotReferences, unit: "count", "database references to the hot set")
        b.add("pages_swept", pagesSwept, unit: "count", "batch: pages referenced by the sweeps over the heap")
        b.add("steal_time_s", Double(stealNs) / 1e9, unit: "s", "vCPU time the host took from the workload's slices (steal)")
        return b
    }
}

/// Why a workload could not be built from its spec.
public enum WorkloadError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The guest has no file at this path (the image does not contain it).
    case missingFile(kind: String, key: String, path: String)
    /// A file the workload needs (a trace) was not loaded by the caller.
    case missingResource(path: String)
    /// The parameters are invalid (see `WorkloadSpec.validationProblems()`).
    case invalidParameters(kind: String, problems: [String])

    public var description: String {
        switch self {
        case .missingFile(let kind, let key, let path):
            return "workload \(kind): \(key) '\(path)' is not a file of the guest's image"
        case .missingResource(let path):
            return "trace file '\(path)' was not loaded"
        case .invalidParameters(let kind, let problems):
            return "workload \(kind): " + problems.joined(separator: "; ")
        }
    }
}

// MARK: - Issuing references (counted and charged)

extension WorkloadContext {
    /// One memory reference at the workload's rate: counted, charged, result returned.
    @inline(__always)
    mutating func access(_ kernel: GuestKernel, _ pid: PID, _ vpn: VPN, write: Bool) -> AccessResult {
        let o = kernel.access(pid, vpn, write: write)
        stats.references &+= 1
        if write { stats.writes &+= 1 }
        charge(o)
        return o.result
    }

    /// One memory reference in a tight loop (no think time), e.g. memset of a new allocation.
    @inline(__always)
    mutating func accessBurst(_ kernel: GuestKernel, _ pid: PID, _ vpn: VPN, write: Bool) -> AccessResult {
        let o = kernel.access(pid, vpn, write: write)
        stats.references &+= 1
        if write { stats.writes &+= 1 }
        chargeBurst(o)
        return o.result
    }

    /// read(2) of one file page through the page cache.
    @inline(__always)
    mutating func fileRead(_ kernel: GuestKernel, _ pid: PID, _ file: FileID, page: Int) -> AccessResult {
        let o = kernel.fileRead(pid, file: file, page: page)
        stats.fileReads &+= 1
        charge(o)
        return o.result
    }

    /// write(2) of one file page through the page cache.
    @inline(__always)
    mutating func fileWrite(_ kernel: GuestKernel, _ pid: PID, _ file: FileID, page: Int) -> AccessResult {
        let o = kernel.fileWrite(pid, file: file, page: page)
        stats.fileWrites &+= 1
        charge(o)
        return o.result
    }
}
