import GuestKernel
import OvercommitSupport
import PageContents

/// Replay of a recorded memory-reference trace (see `CompiledTrace` for the formats and how
/// trace addresses become guest pages).
///
/// Each reference is issued at `access_rate` like any workload's (traces carry no timing).
/// At the end of the trace every process the trace still has running exits; with
/// `loop: true` the trace then starts again from its first line with fresh processes (the
/// program is run again), otherwise the workload is finished.
///
/// With `oracle: true` (the default) the replayer installs itself as the guest kernel's
/// `FutureReferenceOracle` at its first slice, so `replacement_policy: opt` (Belady) can see
/// the future: the next use of a page is the index of its next reference in the current pass
/// (`Int.max` when it is not referenced again in this pass). Only one oracle is active per
/// guest: with several trace workloads in one guest the last one started wins.
///
/// One unit of work (`stats.operations`) is one complete pass over the trace.
public struct TraceWorkloadParameters: WorkloadParameters {
    public static let kindName = "trace"
    public static let throughputUnit: ThroughputUnit? = .references
    public static let summary = "replay of a recorded reference trace (text format or valgrind lackey); feeds Belady's OPT"

    /// Path of the trace file (the caller loads it; see `WorkloadResources`).
    public var file: String = ""
    /// Trace format.
    public var format: TraceFormat = .auto
    /// Replay again from the start when the trace ends.
    public var loop: Bool = false
    /// Install the trace as the kernel's future-reference oracle (for the OPT policy).
    public var oracle: Bool = true

    public var access_rate: Double = 200_000
    public var start_at: SimDuration = .ns(0)
    public var stop_at: SimDuration? = nil
    public var content_mix = ContentMix([(.pointers, 40), (.sparse, 30), (.text, 20), (.zero, 10)])
    public var oom_score_adj: Int = 0

    public init() {}
    public init(file: String) { self.file = file }

    public static let tableSummary = "Replay of a recorded reference trace (own text format or valgrind lackey output); feeds Belady's OPT."
    public static let ownFields: [ParameterField<Self>] = [
        .init(\.file, "file", "path of the trace file, relative to the scenario file", meaning: "required"),
        .init(\.format, "format", "text (R/W/M/F/X records), lackey (valgrind --tool=lackey --trace-mem=yes output), or auto-detect"),
        .init(\.loop, "loop", "when the trace ends, run it again with fresh processes"),
        .init(\.oracle, "oracle", "install the trace's future references as the kernel's oracle (needed by replacement_policy: opt)"),
    ]

    public var resourcePaths: [String] { file.isEmpty ? [] : [file] }

    public func ownProblems() -> [ParameterProblem] {
        file.isEmpty ? [("file", "a trace workload needs the path of its trace file")] : []
    }

    public func makeWorkload(
        kernel: GuestKernel, rng: inout Xoshiro256, resources: WorkloadResources,
        imageFiles: [String]
    ) throws -> any Workload {
        TraceWorkload(self, trace: try resources.trace(path: file, format: format))
    }
}

extension WorkloadKind {
    public static let trace = WorkloadKind(TraceWorkloadParameters.self)
}

extension WorkloadSpec {
    /// The `trace` workload with parameters `p`.
    public static func trace(_ p: TraceWorkloadParameters = TraceWorkloadParameters()) -> WorkloadSpec { WorkloadSpec(p) }
}

/// Texts of files workloads need (trace files), loaded by the caller, and the traces parsed
/// from them, each parsed once however many guests replay it.
public final class WorkloadResources {
    /// File texts by path, as written in the workload spec.
    public private(set) var texts: [String: String]
    private var parsed: [String: CompiledTrace] = [:]

    public init(_ texts: [String: String] = [:]) { self.texts = texts }

    /// Adds or replaces a file's text.
    public func add(path: String, text: String) {
        texts[path] = text
        parsed = parsed.filter { !$0.key.hasSuffix("|" + path) }
    }

    /// The parsed trace at `path`; throws `WorkloadError.missingResource` or `TraceParseError`.
    public func trace(path: String, format: TraceFormat) throws -> CompiledTrace {
        let key = format.rawValue + "|" + path
        if let t = parsed[key] { return t }
        guard let text = texts[path] else { throw WorkloadError.missingResource(path: path) }
        let t = try CompiledTrace(parsing: text, format: format, path: path)
        parsed[key] = t
        return t
    }
}

/// One reference as the replayer issued it to the kernel (recorded when
/// `TraceWorkload.recordIssued` is on; for tests and debugging).
public struct IssuedReference: Sendable, Equatable {
    public var pid: PID
    public var vpn: VPN
    public var write: Bool
    public init(pid: PID, vpn: VPN, write: Bool) { self.pid = pid; self.vpn = vpn; self.write = write }
}

/// The `trace` replayer (see `TraceWorkloadParameters`).
public final class TraceWorkload: Workload, FutureReferenceOracle {
    public var kind: WorkloadKind { .trace }
    public private(set) var isFinished = false

    let params: TraceWorkloadParameters
    public let trace: CompiledTrace
    let mix: StyleMix
    var life: Lifetime
    static let unmapped = VPN.max
    /// A mapping the guest refused in this pass: its references are skipped, not retried.
    static let refused = VPN.max - 1

    /// Next op to replay.
    public private(set) var position = 0
    /// Completed passes.
    public private(set) var passes = 0
    /// Per trace process: its guest pid (0 not started, -1 gone).
    var processPid: [PID]
    /// Per mapping: the guest VPN of its first page, or `unmapped`.
    var mappingBase: [VPN]
    /// The guest file holding the program text of a lackey trace (registered at first use).
    var textFile: FileID?
    /// Oracle state: per dense page, the op index of its next reference after `position`.
    var nextUseOfPage: [UInt32]
    var oracleInstalled = false
    /// Oracle lookup: guest pid → trace process; per process its mapped mappings sorted by base.
    var processOf: [PID: Int] = [:]
    var regions: [[(base: VPN, mapping: UInt32)]]

    /// Record every issued reference in `issued` (off by default: it costs memory per reference).
    public var recordIssued = false
    public private(set) var issued: [IssuedReference] = []

    public init(_ params: TraceWorkloadParameters, trace: CompiledTrace) {
        self.params = params
        self.trace = trace
        mix = params.content_mix.fractions
        life = Lifetime(params)
        processPid = Array(repeating: 0, count: trace.processPid.count)
        mappingBase = Array(repeating: TraceWorkload.unmapped, count: trace.mappingCount)
        nextUseOfPage = trace.firstUse
        regions = Array(repeating: [], count: trace.processPid.count)
    }

    /// Bytes of the replayer's own per-page and per-mapping state (for memory bounds).
    public var stateBytes: Int {
        mappingBase.capacity * 8 + nextUseOfPage.capacity * 4 + processPid.capacity * 4 + regions.reduce(0) { $0 + $1.capacity * 16 }
    }

    public func run(on kernel: GuestKernel, context c: inout WorkloadContext) {
        guard !isFinished else { return }
        if kernel.panicked { isFinished = true; return }
        c.setRate(params.access_rate)
        guard life.ready(&c) else { return }
        if params.oracle && !oracleInstalled {
            kernel.installOracle(self)
            oracleInstalled = true
        }
        let stop = life.stopTime
        let ops = trace.ops
        let pageMapping = trace.pageMapping
        let pageOffset = trace.pageOffset
        let mappingProcess = trace.mappingProcess
        let nextUse = trace.nextUse
        let oracle = params.oracle
        while c.budget > 0 {
            if c.now >= stop { endPass(kernel, &c, completed: false); isFinished = true; return }
            if position == ops.count {
                endPass(kernel, &c, completed: true)
                if !params.loop { isFinished = true; return }
                continue
            }
            let op = ops[position]
            switch op.code {
            case CompiledTrace.Code.read.rawValue, CompiledTrace.Code.write.rawValue:
                let page = Int(op.arg)
                let m = Int(pageMapping[page])
                let proc = Int(mappingProcess[m])
                let pid = processPid[proc]
                var base = mappingBase[m]
                if pid > 0 && base == TraceWorkload.unmapped { base = map(kernel, m, proc, &c) }
                if pid <= 0 || base >= TraceWorkload.refused {
                    c.chargeSkipped()
                } else {
                    if oracle { nextUseOfPage[page] = nextUse[position] }
                    let write = op.code == CompiledTrace.Code.write.rawValue
                    let vpn = base + VPN(pageOffset[page])
                    if recordIssued { issued.append(IssuedReference(pid: pid, vpn: vpn, write: write)) }
                    if c.access(kernel, pid, vpn, write: write) == .noProcess { lose(proc, &c) }
                }
            case CompiledTrace.Code.map.rawValue:
                let m = Int(op.arg)
                let proc = Int(mappingProcess[m])
                if processPid[proc] > 0 && mappingBase[m] == TraceWorkload.unmapped {
                    _ = map(kernel, m, proc, &c)
                } else {
                    c.chargeSyscall()
                }
            case CompiledTrace.Code.spawn.rawValue:
                spawn(kernel, Int(op.arg), &c)
            case CompiledTrace.Code.fork.rawValue:
                fork(kernel, trace.forks[Int(op.arg)], &c)
            case CompiledTrace.Code.advise.rawValue:
                let a = trace.advices[Int(op.arg)]
                let base = mappingBase[Int(a.mapping)]
                let pid = processPid[Int(mappingProcess[Int(a.mapping)])]
                c.chargeSyscall()
                if pid > 0 && base < TraceWorkload.refused {
                    _ = kernel.madvise(pid, start: base + VPN(a.offset), pages: Int(a.pages), advice: a.advice)
                }
            default:
                let proc = Int(op.arg)
                if processPid[proc] > 0 {
                    kernel.exitProcess(processPid[proc], context: &c)
                    forget(proc)
                    processPid[proc] = -1
                } else {
                    c.chargeSyscall()
                }
            }
            position += 1
        }
    }

    func spawn(_ kernel: GuestKernel, _ proc: Int, _ c: inout WorkloadContext) {
        let name = trace.format == .lackey ? "lackey-trace" : "trace-\(trace.processPid[proc])"
        let pid = kernel.spawnProcess(name, adj: params.oom_score_adj, mix: mix, context: &c)
        processPid[proc] = pid
        processOf[pid] = proc
    }

    func fork(_ kernel: GuestKernel, _ f: CompiledTrace.Fork, _ c: inout WorkloadContext) {
        let parent = processPid[Int(f.parent)]
        let child = Int(f.child)
        guard parent > 0, let pid = kernel.forkProcess(parent, mix: mix, context: &c) else {
            // The parent is gone or the fork was refused: the child runs as a fresh program.
            spawn(kernel, child, &c)
            return
        }
        processPid[child] = pid
        processOf[pid] = child
        for (pm, cm) in f.inherits where mappingBase[Int(pm)] < TraceWorkload.refused {
            mappingBase[Int(cm)] = mappingBase[Int(pm)]
            insertRegion(child, base: mappingBase[Int(cm)], mapping: cm)
        }
    }

    /// mmaps mapping `m` (anonymous, or the program text of a lackey trace: anonymous too if
    /// the guest's file table is full); returns its base
    /// or `refused` when the guest refused it (remembered for the rest of the pass).
    func map(_ kernel: GuestKernel, _ m: Int, _ proc: Int, _ c: inout WorkloadContext) -> VPN {
        let pages = Int(trace.mappingPages[m])
        let pid = processPid[proc]
        let base: VPN?
        let fileOffset = trace.mappingFileOffset[m]
        if fileOffset != .max, textFile != nil || kernel.files.count < GuestKernel.maxFiles {
            let f =
                textFile
                ?? kernel.registerFile(
                    path: "/proc/trace/\(params.file)#text", pages: trace.textFilePages, style: .code,
                    contentSeed: StableHash.fnv1a64("trace-text:" + params.file))
            textFile = f
            base = kernel.mapPrivateFile(pid, file: f, offset: Int(fileOffset), pages: pages, context: &c)
        } else {
            base = kernel.mapAnonymous(pid, pages: pages, context: &c)
        }
        guard let b = base else { mappingBase[m] = TraceWorkload.refused; return TraceWorkload.refused }
        mappingBase[m] = b
        insertRegion(proc, base: b, mapping: UInt32(m))
        return b
    }

    func insertRegion(_ proc: Int, base: VPN, mapping: UInt32) {
        var i = regions[proc].count
        while i > 0 && regions[proc][i - 1].base > base { i -= 1 }
        regions[proc].insert((base, mapping), at: i)
    }

    /// The process was found killed: its remaining references are skipped.
    func lose(_ proc: Int, _ c: inout WorkloadContext) {
        c.stats.killed += 1
        forget(proc)
        processPid[proc] = -1
    }

    func forget(_ proc: Int) {
        processOf[processPid[proc]] = nil
        regions[proc].removeAll()
        for m in trace.processMappings[proc] { mappingBase[Int(m)] = TraceWorkload.unmapped }
    }

    /// End of a pass (or stop): every process still running exits; state is reset.
    func endPass(_ kernel: GuestKernel, _ c: inout WorkloadContext, completed: Bool) {
        for proc in processPid.indices where processPid[proc] > 0 { kernel.exitProcess(processPid[proc], context: &c) }
        for i in processPid.indices { processPid[i] = 0 }
        for i in mappingBase.indices { mappingBase[i] = TraceWorkload.unmapped }
        for i in regions.indices { regions[i].removeAll() }
        processOf.removeAll()
        nextUseOfPage = trace.firstUse
        position = 0
        if completed {
            passes += 1
            c.stats.operations += 1
        }
    }

    // MARK: FutureReferenceOracle

    /// Index (in the current pass) of the next reference to the guest page (pid, vpn);
    /// `Int.max` if the trace does not reference it again in this pass.
    public func nextUse(pid: PID, vpn: VPN) -> Int {
        guard let proc = processOf[pid] else { return .max }
        let r = regions[proc]
        var lo = 0, hi = r.count
        while lo < hi {
            let mid = (lo + hi) / 2
            if r[mid].base <= vpn { lo = mid + 1 } else { hi = mid }
        }
        guard lo > 0 else { return .max }
        let (base, m) = r[lo - 1]
        let offset = vpn - base
        guard offset < VPN(trace.mappingPages[Int(m)]),
            let page = trace.pageIndex[UInt64(m) << 32 | offset]
        else { return .max }
        let v = nextUseOfPage[Int(page)]
        return v == .max ? .max : Int(v)
    }
}
