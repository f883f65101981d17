import GuestKernel
import OvercommitSupport
import PageContents

/// A database server with a large buffer pool (InnoDB's `innodb_buffer_pool_size`,
/// PostgreSQL's `shared_buffers`), one multi-threaded process.
///
/// Imitates an OLTP database: the buffer pool is anonymous memory caching pages of the data
/// file; a pool page is read from `data_file` with read(2) the first time it is needed
/// (warm-up) — buffered I/O, as PostgreSQL does, so until the page is modified the pool and
/// the guest's page cache hold the same bytes ("double buffering") — then
/// referenced with a skewed hot set — by default 20 % of the pages get 80 % of the references,
/// the classic 80/20 rule of OLTP access — scattered over the pool as real hot rows are.
/// Some references go to private memory (sort and join buffers, connection state) and a few
/// go straight to the data file (reads of data outside the pool, checkpoint writes). With
/// `mlock: true` the pool is pinned, as with `innodb_buffer_pool_in_core_file`/huge pages or
/// PostgreSQL's `shared_buffers` on a locked segment. If the process is OOM-killed it is
/// restarted after `restart_delay` (systemd `Restart=on-failure`) with a cold pool.
///
/// One unit of work (`stats.operations`) is one transaction of `refs_per_transaction`
/// references.
public struct DatabaseWorkloadParameters: WorkloadParameters {
    public static let kindName = "database"
    public static let throughputUnit: ThroughputUnit? = .transactions
    public static let summary = "OLTP database: large buffer pool warmed from its data file, 80/20 hot set, optional mlock"

    /// Size of the buffer pool (anonymous memory).
    public var buffer_pool: ByteCount = .gib(1)
    /// Fraction of the pool that is hot.
    public var hot_fraction: Percentage = Percentage(percent: 20)
    /// Fraction of pool references that go to the hot set.
    public var hot_probability: Percentage = Percentage(percent: 80)
    /// Fraction of references (pool, private memory, data file) that are writes.
    public var write_fraction: Percentage = Percentage(percent: 30)
    /// Fraction of references that go to private memory.
    public var private_fraction: Percentage = Percentage(percent: 10)
    /// Private memory: sort and join buffers, connection state.
    public var private_memory: ByteCount = .mib(64)
    /// Fraction of references that are one-page read(2)/write(2) of the data file.
    public var io_fraction: Percentage = Percentage(percent: 1)
    /// The data file the pool caches; "" for an in-memory database (no file I/O).
    public var data_file: String = "/var/lib/db/data"
    /// Server binary mapped into the process; one code reference per transaction.
    public var binary: String = "/usr/sbin/postgres"
    /// Pin the pool with mlock (it is still faulted in lazily).
    public var mlock: Bool = false
    /// References per transaction.
    public var refs_per_transaction: Int = 100
    /// Delay before restarting after the process was killed or its pool was refused.
    public var restart_delay: SimDuration = .seconds(5)

    public var access_rate: Double = 200_000
    public var start_at: SimDuration = .ns(0)
    public var stop_at: SimDuration? = nil
    public var content_mix = ContentMix([(.pointers, 50), (.text, 20), (.sparse, 15), (.random, 10), (.zero, 5)])
    public var oom_score_adj: Int = 0

    public init() {}

    public static let tableSummary = "An OLTP database: a large buffer pool warmed from its data file, skewed hot set (80/20), optional mlock."
    public static let ownFields: [ParameterField<Self>] = [
        .init(\.buffer_pool, "buffer_pool", "buffer pool size (anonymous memory caching data-file pages)", .atLeastOnePage),
        .init(\.hot_fraction, "hot_fraction", "fraction of the pool's pages that are hot", .share),
        .init(\.hot_probability, "hot_probability", "fraction of pool references that go to the hot pages", .share),
        .init(\.write_fraction, "write_fraction", "fraction of references that are writes", .share),
        .init(\.private_fraction, "private_fraction", "fraction of references to private memory (sort/join buffers)", .share),
        .init(\.private_memory, "private_memory", "private memory: sort and join buffers, connection state", .atLeastOnePage),
        .init(\.io_fraction, "io_fraction", "fraction of references that read or write the data file directly (outside the pool)", .share),
        .init(\.data_file, "data_file", "data file the pool caches (read on a pool miss); \"\" for an in-memory database"),
        .init(\.binary, "binary", "server binary mapped into the process (skipped if the image lacks it or empty)"),
        .init(\.mlock, "mlock", "pin the buffer pool with mlock (pages still fault in lazily)"),
        .init(
            \.refs_per_transaction, "refs_per_transaction", "references per transaction (the unit counted in operations)",
            .range(1...1_000_000_000), unit: "references"),
        .init(\.restart_delay, "restart_delay", "delay before restarting after an OOM kill or a refused pool allocation", .period),
    ]

    public func ownProblems() -> [ParameterProblem] {
        guard private_fraction.fraction + io_fraction.fraction > 1 else { return [] }
        return [("io_fraction", "private_fraction + io_fraction must not exceed 100%; got \(private_fraction) + \(io_fraction)")]
    }

    public func makeWorkload(
        kernel: GuestKernel, rng: inout Xoshiro256, resources: WorkloadResources,
        imageFiles: [String]
    ) throws -> any Workload {
        try DatabaseWorkload(self, kernel: kernel, rng: &rng)
    }
}

extension WorkloadKind {
    public static let database = WorkloadKind(DatabaseWorkloadParameters.self)
}

extension WorkloadSpec {
    /// The `database` workload with parameters `p`.
    public static func database(_ p: DatabaseWorkloadParameters = DatabaseWorkloadParameters()) -> WorkloadSpec { WorkloadSpec(p) }
}

/// The `database` generator (see `DatabaseWorkloadParameters`).
public final class DatabaseWorkload: Workload {
    public var kind: WorkloadKind { .database }
    public private(set) var isFinished = false

    let params: DatabaseWorkloadParameters
    let mix: StyleMix
    var life: Lifetime
    let poolPages: Int
    let hotPages: Int
    let privatePages: Int
    let scatter: Scatter
    let dataFile: FileID?
    let dataPages: Int
    let binary: FileID?
    let binaryPages: Int
    let hotP: Double
    let writeP: Double
    /// Thresholds on one uniform draw: below `privateCut` private memory, below `ioCut` file I/O.
    let privateCut: Double
    let ioCut: Double
    let restartDelay: Int64
    let processName: String

    var running = false
    var wakeAt: Int64 = 0
    var pid: PID = 0
    var poolBase: VPN = 0
    var privateBase: VPN = 0
    var codeBase: VPN? = nil
    /// Pool pages already read from the data file since the last (re)start.
    let loaded: BitSet
    var txnRefs = 0
    /// The coming references, for prefetch hints (no effect on what is simulated).
    let ahead = ReferenceLookahead()

    /// One reference of a transaction, as drawn from the workload's stream.
    enum Draw {
        /// A page of the binary's text (the first reference of a transaction).
        case code(page: Int)
        /// The process's private memory (sort buffers, connection state).
        case privateMemory(page: Int, write: Bool)
        /// read(2) or write(2) of a data-file page.
        case fileIO(page: Int, write: Bool)
        /// A buffer-pool page (`index` in the pool), from the hot set or not.
        case pool(index: Int, write: Bool, hot: Bool)
    }

    /// Draws the reference a transaction makes after `txnRefs` references, consuming `rng`
    /// the same way whoever calls it (the workload, or its lookahead on a copy).
    @inline(__always)
    func draw(_ rng: inout Xoshiro256, txnRefs: Int) -> Draw {
        if txnRefs == 0, codeBase != nil { return .code(page: rng.int(below: binaryPages)) }
        let u = rng.unit()
        let write = rng.chance(writeP)
        if u < privateCut { return .privateMemory(page: rng.int(below: privatePages), write: write) }
        if u < ioCut, dataFile != nil { return .fileIO(page: rng.int(below: dataPages), write: write) }
        let hot = hotPages == poolPages || rng.chance(hotP)
        let rank = hot ? rng.int(below: hotPages) : hotPages + rng.int(below: poolPages - hotPages)
        return .pool(index: scatter.map(rank), write: write, hot: hot)
    }

    /// The page a drawn reference touches in `pid`'s address space; nil for read(2)/write(2).
    @inline(__always)
    func reference(_ d: Draw, pid: PID) -> ReferenceLookahead.Reference? {
        switch d {
        case .code(let page): .init(pid: pid, vpn: (codeBase ?? 0) + VPN(page), write: false)
        case .privateMemory(let page, let write): .init(pid: pid, vpn: privateBase + VPN(page), write: write)
        case .fileIO: nil
        case .pool(let index, let write, _): .init(pid: pid, vpn: poolBase + VPN(index), write: write)
        }
    }

    init(_ params: DatabaseWorkloadParameters, kernel: GuestKernel, rng: inout Xoshiro256) throws {
        self.params = params
        mix = params.content_mix.fractions
        life = Lifetime(params)
        poolPages = max(1, params.buffer_pool.pages)
        hotPages = min(poolPages, max(1, Int((Double(poolPages) * params.hot_fraction.fraction).rounded())))
        privatePages = max(1, params.private_memory.pages)
        scatter = Scatter(count: poolPages, rng: &rng)
        if params.data_file.isEmpty {
            dataFile = nil; dataPages = 0
        } else {
            guard let f = kernel.fileID(path: params.data_file), kernel.filePages(f) > 0 else {
                throw WorkloadError.missingFile(kind: "database", key: "data_file", path: params.data_file)
            }
            dataFile = f; dataPages = kernel.filePages(f)
        }
        if let b = params.binary.isEmpty ? nil : kernel.fileID(path: params.binary), kernel.filePages(b) > 0 {
            binary = b; binaryPages = kernel.filePages(b)
        } else {
            binary = nil; binaryPages = 0
        }
        hotP = params.hot_probability.fraction
        writeP = params.write_fraction.fraction
        privateCut = params.private_fraction.fraction
        ioCut = dataFile == nil ? privateCut : privateCut + params.io_fraction.fraction
        restartDelay = max(1, params.restart_delay.nanoseconds)
        processName = params.binary.split(separator: "/").last.map(String.init) ?? "database"
        loaded = BitSet(count: poolPages)
    }

    /// True when pool page `index` (0-based, in the pool) belongs to the hot set.
    public func isHot(poolPage index: Int) -> Bool {
        // The hot set is the image of ranks 0..<hotPages under the scatter permutation.
        scatter.rank(of: index) < hotPages
    }

    /// The pool's first page in the current process (valid while it runs).
    public var bufferPoolStart: VPN { poolBase }
    /// The database process (0 before the first start).
    public var process: PID { pid }

    public func run(on kernel: GuestKernel, context c: inout WorkloadContext) {
        guard !isFinished else { return }
        if kernel.panicked { isFinished = true; return }
        c.setRate(params.access_rate)
        guard life.ready(&c) else { return }
        let stop = life.stopTime
        while c.budget > 0 {
            if c.now >= stop { shutdown(kernel, &c); return }
            if !running {
                if c.now < wakeAt { c.idle(until: min(wakeAt, stop)); continue }
                start(kernel, &c)
                continue
            }
            ahead.advance(c.rng, kernel: kernel) { rng, offset in
                let d = draw(&rng, txnRefs: (txnRefs + offset) % max(1, params.refs_per_transaction))
                if case .pool(let index, _, _) = d { loaded.prefetch(index) }
                return reference(d, pid: pid)
            }
            let r: AccessResult
            let d = draw(&c.rng, txnRefs: txnRefs)
            switch d {
            case .code, .privateMemory:
                let x = reference(d, pid: pid)!
                r = c.access(kernel, pid, x.vpn, write: x.write)
            case .fileIO(let page, let write):
                let f = dataFile!
                r = write ? c.fileWrite(kernel, pid, f, page: page) : c.fileRead(kernel, pid, f, page: page)
            case .pool(let index, let write, let hot):
                if hot { c.stats.hotReferences &+= 1 }
                if loaded.contains(index) {
                    r = c.access(kernel, pid, poolBase + VPN(index), write: write)
                } else {
                    // Pool miss: read(2) the page from the data file into the pool, which
                    // then holds the same bytes as the page cache (double buffering).
                    if let f = dataFile {
                        r = c.read(kernel, pid, f, page: index % dataPages, into: poolBase + VPN(index))
                    } else {
                        r = c.accessBurst(kernel, pid, poolBase + VPN(index), write: true)
                    }
                    if r != .noProcess && r != .outOfMemory { loaded.insert(index) }
                }
            }
            if r == .noProcess { lost(&c); continue }
            txnRefs += 1
            if txnRefs == params.refs_per_transaction { txnRefs = 0; c.stats.operations += 1 }
        }
    }

    func start(_ kernel: GuestKernel, _ c: inout WorkloadContext) {
        pid = kernel.spawnProcess(processName, adj: params.oom_score_adj, mix: mix, context: &c)
        codeBase = binary.flatMap { kernel.mapFile(pid, file: $0, context: &c) }
        guard let pool = kernel.mapAnonymous(pid, pages: poolPages, context: &c),
            let priv = kernel.mapAnonymous(pid, pages: privatePages, context: &c)
        else {
            // The server fails to start ("Cannot allocate memory for the buffer pool").
            kernel.exitProcess(pid, context: &c)
            wakeAt = c.now + restartDelay
            return
        }
        poolBase = pool
        privateBase = priv
        if params.mlock {
            c.chargeSyscall()
            if case .failure = kernel.mlock(pid, start: pool, pages: poolPages) { c.stats.mlockFailures += 1 }
        }
        loaded.removeAll()
        txnRefs = 0
        running = true
    }

    /// The server was OOM-killed: systemd restarts it later with a cold pool.
    func lost(_ c: inout WorkloadContext) {
        c.stats.killed += 1
        if txnRefs > 0 { c.stats.failedOperations += 1 }
        running = false
        c.stats.restarts += 1
        wakeAt = c.now + restartDelay
    }

    func shutdown(_ kernel: GuestKernel, _ c: inout WorkloadContext) {
        if running { kernel.exitProcess(pid, context: &c) }
        running = false
        isFinished = true
    }
}
