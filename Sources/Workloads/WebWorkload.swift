import GuestKernel
import OvercommitSupport
import PageContents

/// An nginx-like web server: a master process forks workers that serve static files.
///
/// Imitates nginx's process model and a static-content server's memory behaviour: the master
/// writes its configuration and shared state, then forks `workers` children that share those
/// pages copy-on-write and share the binary's text through the page cache. Each request picks
/// a document of `docroot` with Zipf popularity (web requests follow Zipf with exponent about
/// 0.6-0.8, Breslau et al., INFOCOM 1999), reads it page by page with read(2) through the page
/// cache (popular documents stay cached, the tail misses to disk), copies it through the
/// worker's buffers, and appends a 128-byte line to the access log. When a worker is
/// OOM-killed the master forks a new one, as nginx does; when every process is gone the
/// service is restarted after `restart_delay`, as systemd's `Restart=always` does.
///
/// One unit of work (`stats.operations`) is one request served.
public struct WebWorkloadParameters: WorkloadParameters {
    public static let kindName = "web"
    public static let throughputUnit: ThroughputUnit? = .requests
    public static let summary = "nginx-like static web server: master + forked workers, Zipf document popularity, page-cache heavy"

    /// Worker processes forked by the master.
    public var workers: Int = 4
    /// The file holding the site's documents.
    public var docroot: String = "/var/www/html"
    /// Average document size: `docroot` is served as consecutive documents of this size.
    public var object_size: ByteCount = .kib(64)
    /// Zipf exponent of document popularity (0 = uniform).
    public var zipf_exponent: Double = 0.8
    /// Anonymous memory of each worker (connection state, buffers).
    public var worker_memory: ByteCount = .mib(32)
    /// Memory the master writes before forking (configuration, shared state), inherited COW.
    public var master_memory: ByteCount = .mib(16)
    /// Share of the master's memory, and of each worker's memory set up when it is forked,
    /// that is nginx's constant data (see `ProgramData`).
    public var program_data: Percentage = ProgramData.defaultFraction
    /// Memory references per page served (parsing and copying through buffers).
    public var refs_per_page: Int = 6
    /// Fraction of references to the worker's own memory that are writes.
    public var write_fraction: Percentage = Percentage(percent: 5)
    /// The server binary mapped into every process; its text is referenced once per page
    /// served. Skipped when the image has no such file or it is empty.
    public var binary: String = "/usr/sbin/nginx"
    /// Access log appended to on every request; skipped when absent or empty.
    public var log_file: String = "/var/log/app.log"
    /// Delay before respawning after every process died, and between failed fork attempts.
    public var restart_delay: SimDuration = .seconds(1)

    public var access_rate: Double = 200_000
    public var start_at: SimDuration = .ns(0)
    public var stop_at: SimDuration? = nil
    public var content_mix = ContentMix([(.text, 40), (.pointers, 30), (.sparse, 20), (.zero, 10)])
    public var oom_score_adj: Int = 0

    public init() {}

    public static let tableSummary = "An nginx-like static web server: master + forked workers, Zipf document popularity, page-cache heavy."
    public static let ownFields: [ParameterField<Self>] = [
        .init(\.workers, "workers", "worker processes forked by the master (they share its pages copy-on-write)", .range(1...1024), unit: "processes"),
        .init(\.docroot, "docroot", "file holding the site's documents (read through the page cache)"),
        .init(\.object_size, "object_size", "document size: the docroot is served as consecutive documents of this size", .atLeastOnePage),
        .init(\.zipf_exponent, "zipf_exponent", "Zipf exponent of document popularity (web traces: 0.6-0.8; 0 = uniform)", .range(0...10)),
        .init(\.worker_memory, "worker_memory", "anonymous memory of each worker (connection state, buffers)", .atLeastOnePage),
        .init(\.master_memory, "master_memory", "memory the master writes before forking, shared copy-on-write with workers", .atLeastOnePage),
        .init(
            \.program_data, "program_data",
            ProgramData.parameterSummary
                + "; a worker writes its share of worker_memory when forked (per-worker connection and event tables, caches), the same in every worker",
            .share),
        .init(
            \.refs_per_page, "refs_per_page", "memory references per page served: one in the binary, one in master memory, the rest in the worker's",
            .range(0...10_000), unit: "references"),
        .init(\.write_fraction, "write_fraction", "fraction of references to the worker's own memory that are writes", .share),
        .init(\.binary, "binary", "server binary mapped into every process (skipped if the image lacks it or empty)"),
        .init(\.log_file, "log_file", "access log: a 128-byte line appended per request (skipped if absent or empty)"),
        .init(\.restart_delay, "restart_delay", "delay before restarting after every process died, and between failed fork attempts", .period),
    ]

    public func ownProblems() -> [ParameterProblem] {
        docroot.isEmpty ? [("docroot", "must name a file of the guest's image")] : []
    }

    public func makeWorkload(
        kernel: GuestKernel, rng: inout Xoshiro256, resources: WorkloadResources,
        imageFiles: [String]
    ) throws -> any Workload {
        try WebWorkload(self, kernel: kernel, rng: &rng)
    }
}

extension WorkloadKind {
    public static let web = WorkloadKind(WebWorkloadParameters.self)
}

extension WorkloadSpec {
    /// The `web` workload with parameters `p`.
    public static func web(_ p: WebWorkloadParameters = WebWorkloadParameters()) -> WorkloadSpec { WorkloadSpec(p) }
}

/// The `web` generator (see `WebWorkloadParameters`).
public final class WebWorkload: Workload {
    public var kind: WorkloadKind { .web }
    public private(set) var isFinished = false

    let params: WebWorkloadParameters
    let mix: StyleMix
    var life: Lifetime
    let docroot: FileID
    let docPages: Int
    let objectPages: Int
    let documents: Int
    let zipf: ZipfSampler
    let scatter: Scatter
    let binary: FileID?
    let binaryPages: Int
    let log: FileID?
    let logPages: Int
    let workerPages: Int
    let masterPages: Int
    let writeP: Double
    let restartDelay: Int64
    /// nginx's constant data, and which worker-memory pages of it a worker writes when forked.
    let data: ProgramData
    let workerSetupPages: [Int]

    enum Phase { case stopped, populating, serving }
    var phase = Phase.stopped
    /// Time of the next (re)start or respawn attempt.
    var wakeAt: Int64 = 0
    var master: PID = 0
    var masterBase: VPN = 0
    var codeBase: VPN? = nil
    var populated = 0
    var workerPid: [PID]
    var workerBase: [VPN]
    /// Slots (indexes into `workerPid`) of live workers.
    var aliveWorkers: [Int] = []
    /// Workers (slots) still writing their start-up data, and the next page of the first.
    var settingUp: [Int] = []
    var setupCursor = 0
    var roundRobin = 0
    // The request being served.
    var reqWorker = -1
    var reqPage = 0
    var reqEnd = 0
    var reqSub = 0
    var logLines = 0
    /// The coming references, for prefetch hints (no effect on what is simulated).
    let ahead = ReferenceLookahead()

    init(_ params: WebWorkloadParameters, kernel: GuestKernel, rng: inout Xoshiro256) throws {
        self.params = params
        mix = params.content_mix.fractions
        life = Lifetime(params)
        guard let f = kernel.fileID(path: params.docroot), kernel.filePages(f) > 0 else {
            throw WorkloadError.missingFile(kind: "web", key: "docroot", path: params.docroot)
        }
        docroot = f
        docPages = kernel.filePages(f)
        objectPages = min(max(1, params.object_size.pages), docPages)
        documents = max(1, (docPages + objectPages - 1) / objectPages)
        zipf = ZipfSampler(count: documents, exponent: params.zipf_exponent)
        scatter = Scatter(count: documents, rng: &rng)
        if let b = params.binary.isEmpty ? nil : kernel.fileID(path: params.binary), kernel.filePages(b) > 0 {
            binary = b; binaryPages = kernel.filePages(b)
        } else {
            binary = nil; binaryPages = 0
        }
        if let l = params.log_file.isEmpty ? nil : kernel.fileID(path: params.log_file), kernel.filePages(l) > 0 {
            log = l; logPages = kernel.filePages(l)
        } else {
            log = nil; logPages = 0
        }
        workerPages = max(1, params.worker_memory.pages)
        masterPages = max(1, params.master_memory.pages)
        writeP = params.write_fraction.fraction
        restartDelay = max(1, params.restart_delay.nanoseconds)
        data = ProgramData(program: ProgramData.identity(kernel: kernel, name: "nginx", binary: binary), fraction: params.program_data.fraction, mix: mix)
        workerSetupPages = data.programPages(region: ProgramData.Region.workerMemory, pages: workerPages)
        workerPid = Array(repeating: 0, count: max(1, params.workers))
        workerBase = Array(repeating: 0, count: max(1, params.workers))
    }

    public func run(on kernel: GuestKernel, context c: inout WorkloadContext) {
        guard !isFinished else { return }
        if kernel.panicked { isFinished = true; return }
        c.setRate(params.access_rate)
        guard life.ready(&c) else { return }
        let stop = life.stopTime
        let perPage = params.refs_per_page
        while c.budget > 0 {
            if c.now >= stop { shutdown(kernel, &c); return }
            switch phase {
            case .stopped:
                if c.now < wakeAt { c.idle(until: min(wakeAt, stop)); continue }
                startMaster(kernel, &c)
            case .populating:
                // The master writes its configuration and shared state at memory speed.
                let r = c.populate(kernel, master, masterBase + VPN(populated), data, region: ProgramData.Region.masterMemory, page: populated)
                if r == .noProcess { c.stats.killed += 1; scheduleRestart(&c); continue }
                populated += 1
                if populated == masterPages { phase = .serving; wakeAt = c.now }
            case .serving:
                if reqWorker < 0 && !settingUp.isEmpty {
                    // A new worker sets itself up (at memory speed) before it takes requests.
                    let slot = settingUp[0]
                    let page = workerSetupPages[setupCursor]
                    let content = data.content(region: ProgramData.Region.workerMemory, page: page, layout: kernel.process(workerPid[slot])?.layoutSeed ?? 0)!
                    // A worker killed meanwhile stops setting up (serving finds it dead and counts it).
                    if c.store(kernel, workerPid[slot], workerBase[slot] + VPN(page), content) == .noProcess {
                        setupCursor = workerSetupPages.count
                    } else {
                        setupCursor += 1
                    }
                    if setupCursor >= workerSetupPages.count { settingUp.removeFirst(); setupCursor = 0 }
                    continue
                }
                if reqWorker < 0 {
                    if aliveWorkers.count < workerPid.count && c.now >= wakeAt { respawnWorker(kernel, &c) }
                    if aliveWorkers.isEmpty {
                        if kernel.isAlive(master) {
                            c.idle(until: min(wakeAt, stop))
                        } else {
                            scheduleRestart(&c)
                        }
                        continue
                    }
                    beginRequest(&c)
                }
                let slot = aliveWorkers[reqWorker]
                let pid = workerPid[slot]
                // The rest of this request's references, for prefetch hints; the next
                // request's document is not known yet.
                ahead.advance(c.rng, kernel: kernel) { rng, offset in
                    let position = reqSub + offset
                    guard reqPage + position / (perPage + 1) < reqEnd else { return nil }
                    return reference(draw(&rng, step: position % (perPage + 1)), pid: pid, slot: slot)
                }
                let r: AccessResult
                if let x = reference(draw(&c.rng, step: reqSub), pid: pid, slot: slot) {
                    r = c.access(kernel, pid, x.vpn, write: x.write)
                } else {
                    r = c.fileRead(kernel, pid, docroot, page: reqPage)
                }
                if r == .noProcess { loseWorker(&c); continue }
                reqSub += 1
                if reqSub > perPage {
                    reqSub = 0
                    reqPage += 1
                    if reqPage == reqEnd { finishRequest(kernel, pid, &c) }
                }
            }
        }
    }

    /// One reference made while serving a page of a document.
    enum ServeStep {
        /// read(2) of the document's page through the page cache.
        case document
        /// The server binary's text.
        case code(page: Int)
        /// The master's memory, shared copy-on-write.
        case master(page: Int)
        /// The worker's own memory.
        case worker(page: Int, write: Bool)
    }

    /// Draws reference `step` (0...refs_per_page) of serving one page, consuming `rng` the
    /// same way whoever calls it (the workload, or its lookahead on a copy).
    @inline(__always)
    func draw(_ rng: inout Xoshiro256, step: Int) -> ServeStep {
        if step == 0 { return .document }
        if step == 1, codeBase != nil { return .code(page: rng.int(below: binaryPages)) }
        if step == 2 { return .master(page: rng.int(below: masterPages)) }
        let page = rng.int(below: workerPages)
        return .worker(page: page, write: rng.chance(writeP))
    }

    /// The page a serving step touches, for the worker in `slot` (`pid`); nil for the
    /// document's read(2).
    @inline(__always)
    func reference(_ step: ServeStep, pid: PID, slot: Int) -> ReferenceLookahead.Reference? {
        switch step {
        case .document: nil
        case .code(let page): .init(pid: pid, vpn: (codeBase ?? 0) + VPN(page), write: false)
        case .master(let page): .init(pid: pid, vpn: masterBase + VPN(page), write: false)
        case .worker(let page, let write): .init(pid: pid, vpn: workerBase[slot] + VPN(page), write: write)
        }
    }

    func startMaster(_ kernel: GuestKernel, _ c: inout WorkloadContext) {
        master = kernel.spawnProcess("nginx", adj: params.oom_score_adj, mix: mix, context: &c)
        codeBase = binary.flatMap { kernel.mapFile(master, file: $0, context: &c) }
        guard let base = kernel.mapAnonymous(master, pages: masterPages, context: &c) else {
            kernel.exitProcess(master, context: &c)
            wakeAt = c.now + restartDelay
            return
        }
        masterBase = base
        populated = 0
        phase = .populating
    }

    func beginRequest(_ c: inout WorkloadContext) {
        roundRobin = (roundRobin + 1) % aliveWorkers.count
        reqWorker = roundRobin
        let doc = scatter.map(zipf.sample(&c.rng))
        reqPage = doc * objectPages
        reqEnd = min(reqPage + objectPages, docPages)
        reqSub = 0
    }

    func finishRequest(_ kernel: GuestKernel, _ pid: PID, _ c: inout WorkloadContext) {
        reqWorker = -1
        c.stats.operations += 1
        if let log {
            // 32 lines of 128 bytes per page; the log wraps around (logrotate).
            _ = c.fileWrite(kernel, pid, log, page: (logLines / 32) % logPages)
            logLines += 1
        }
    }

    /// The worker serving the current request was found killed.
    func loseWorker(_ c: inout WorkloadContext) {
        c.stats.killed += 1
        c.stats.failedOperations += 1
        aliveWorkers.remove(at: reqWorker)
        reqWorker = -1
        wakeAt = c.now
    }

    /// The master forks a replacement for one dead worker, as nginx does on SIGCHLD.
    func respawnWorker(_ kernel: GuestKernel, _ c: inout WorkloadContext) {
        guard kernel.isAlive(master) else { wakeAt = .max; return }
        guard let slot = workerPid.indices.first(where: { s in !aliveWorkers.contains(s) }) else { return }
        guard let child = kernel.forkProcess(master, mix: mix, context: &c) else {
            wakeAt = c.now + restartDelay
            return
        }
        guard let base = kernel.mapAnonymous(child, pages: workerPages, context: &c) else {
            kernel.exitProcess(child, context: &c)
            wakeAt = c.now + restartDelay
            return
        }
        workerPid[slot] = child
        workerBase[slot] = base
        aliveWorkers.append(slot)
        if !workerSetupPages.isEmpty && !settingUp.contains(slot) { settingUp.append(slot) }
    }

    /// Every process is gone (or the master died before forking): restart the service later.
    func scheduleRestart(_ c: inout WorkloadContext) {
        aliveWorkers.removeAll()
        settingUp.removeAll()
        setupCursor = 0
        reqWorker = -1
        phase = .stopped
        c.stats.restarts += 1
        wakeAt = c.now + restartDelay
    }

    func shutdown(_ kernel: GuestKernel, _ c: inout WorkloadContext) {
        for s in aliveWorkers { kernel.exitProcess(workerPid[s], context: &c) }
        if phase != .stopped { kernel.exitProcess(master, context: &c) }
        aliveWorkers.removeAll()
        settingUp.removeAll()
        isFinished = true
    }
}
