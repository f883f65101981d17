import GuestKernel
import OvercommitSupport
import PageContents

/// A batch job (a compiler, a data-processing step, a scientific code): it grows its heap with
/// brk in steps up to `peak`, writing each new step as malloc'd memory is filled, sweeps the
/// whole heap `sweeps` times, then frees it and exits.
///
/// Imitates the allocation profile that makes overcommit interesting: memory demand rises
/// steadily to a peak and then vanishes at once. When brk is refused (ENOMEM under strict
/// overcommit) the job retries every `retry_interval` — as a program with a retrying allocator
/// would — and gives up (exits, counted in `failed_operations`) after `max_retries`. With
/// `repeat: true` a new job process is spawned `repeat_delay` after each one ends, like a
/// cron job or a CI runner.
///
/// With `input_file` set, the job first reads the first `input_size` of that file into the
/// start of its heap with read(2) — the input it works on (a benchmark's data set, a
/// compiler's sources) — and only reads it afterwards: those heap pages hold the same bytes as
/// the file's page-cache pages. `program_data` of the pages it computes are the same in every
/// run of the job (see `ProgramData`).
///
/// With `repeat: true` and `free_advice: dontneed` or `free`, the jobs run one after the other
/// in one long-lived process (a job runner, a worker pool) whose allocator keeps the heap
/// mapped and gives a finished job's memory back with madvise, as glibc's `free` (trimming
/// with MADV_DONTNEED) and jemalloc (purging with MADV_DONTNEED or, by default since 4.x on
/// Linux, MADV_FREE) do: the next job writes the same heap pages again. After DONTNEED each
/// write faults a zero-filled page; after FREE the pages the guest did not reclaim meanwhile
/// are reused without a fault. The default `munmap` keeps a new process per job.
///
/// One unit of work (`stats.operations`) is one job completed.
public struct BatchWorkloadParameters: WorkloadParameters {
    public static let kindName = "batch"
    public static let throughputUnit: ThroughputUnit? = .pagesSwept
    public static let summary = "batch job: brk-grows its heap to a peak, sweeps it, frees it and exits; optionally repeats"

    /// Heap size the job grows to.
    public var peak: ByteCount = .mib(512)
    /// brk increment per allocation.
    public var step: ByteCount = .mib(16)
    /// Full passes over the heap after reaching the peak.
    public var sweeps: Int = 2
    /// Fraction of sweep references that are writes.
    public var write_fraction: Percentage = Percentage(percent: 50)
    /// Start a new job after each one ends.
    public var `repeat`: Bool = false
    /// Pause between the end of a job and the start of the next.
    public var repeat_delay: SimDuration = .seconds(5)
    /// Wait before retrying a refused brk.
    public var retry_interval: SimDuration = .ms(100)
    /// Refused brk calls in a row before the job gives up.
    public var max_retries: Int = 20
    /// File the job reads its input from ("" for none).
    public var input_file: String = ""
    /// Input read into the start of the heap (at most the file and the peak).
    public var input_size: ByteCount = .mib(0)
    /// Share of the heap pages the job computes that are the same in every run (see `ProgramData`).
    public var program_data: Percentage = Percentage(percent: 0)
    /// How a finished job's heap is given back (see the type's documentation).
    public var free_advice: FreeAdvice = .munmap
    /// MADV_HUGEPAGE on the heap as it grows, as glibc's malloc does with the tunable
    /// `glibc.malloc.hugetlb=1` (glibc 2.35+): under `transparent_hugepage.enabled: madvise`
    /// the heap then gets huge pages.
    public var hugepage: Bool = false

    public var access_rate: Double = 200_000
    public var start_at: SimDuration = .ns(0)
    public var stop_at: SimDuration? = nil
    public var content_mix = ContentMix([(.pointers, 35), (.sparse, 25), (.random, 20), (.text, 10), (.zero, 10)])
    public var oom_score_adj: Int = 0

    public init() {}

    public static let tableSummary = "A batch job: brk-grows its heap in steps to a peak, sweeps it, frees it and exits; optionally repeats."
    public static let ownFields: [ParameterField<Self>] = [
        .init(\.peak, "peak", "heap size the job grows to", .atLeastOnePage),
        .init(\.step, "step", "brk increment per allocation (each step is written as it is allocated)", .atLeastOnePage),
        .init(\.sweeps, "sweeps", "full passes over the heap once it reached the peak", .range(0...1_000_000)),
        .init(\.write_fraction, "write_fraction", "fraction of sweep references that are writes", .share),
        .init(\.`repeat`, "repeat", "spawn a new job process after each one ends (cron job, CI runner)"),
        .init(\.repeat_delay, "repeat_delay", "pause between the end of a job and the start of the next", .delay),
        .init(\.retry_interval, "retry_interval", "wait before retrying a brk refused with ENOMEM", .period),
        .init(\.max_retries, "max_retries", "refused brk calls in a row before the job gives up and exits", .range(0...1_000_000)),
        .init(
            \.input_file, "input_file", "file the job reads its input from with read(2), into the start of its heap (a copy of the page-cache pages)",
            meaning: "none"),
        .init(
            \.input_size, "input_size", "input read from input_file (at most the file and the peak); those heap pages are only read afterwards",
            .upToLargestHost),
        .init(
            \.program_data, "program_data",
            "share of the heap pages the job computes that are the same in every run of it (deterministic results of the same input; pointer pages only under the same layout)",
            .share),
        .init(
            \.free_advice, "free_advice",
            "how a finished job's heap is given back: munmap (brk shrink, the process exits), or, with repeat, the process stays and madvises its heap: dontneed (MADV_DONTNEED, glibc) or free (MADV_FREE, jemalloc)"
        ),
        .init(
            \.hugepage, "hugepage",
            "madvise(MADV_HUGEPAGE) the heap as it grows (glibc.malloc.hugetlb=1): huge pages under transparent_hugepage.enabled madvise"),
    ]

    public func ownProblems() -> [ParameterProblem] {
        input_size.bytes > 0 && input_file.isEmpty ? [("input_size", "needs input_file: name the file the input is read from")] : []
    }

    public func makeWorkload(
        kernel: GuestKernel, rng: inout Xoshiro256, resources: WorkloadResources,
        imageFiles: [String]
    ) throws -> any Workload {
        try BatchWorkload(self, kernel: kernel)
    }
}

extension WorkloadKind {
    public static let batch = WorkloadKind(BatchWorkloadParameters.self)
}

extension WorkloadSpec {
    /// The `batch` workload with parameters `p`.
    public static func batch(_ p: BatchWorkloadParameters = BatchWorkloadParameters()) -> WorkloadSpec { WorkloadSpec(p) }
}

/// The `batch` generator (see `BatchWorkloadParameters`).
public final class BatchWorkload: Workload {
    public var kind: WorkloadKind { .batch }
    public private(set) var isFinished = false

    let params: BatchWorkloadParameters
    let mix: StyleMix
    var life: Lifetime
    let peakPages: Int
    let stepPages: Int
    let writeP: Double
    /// The input file and the heap pages read from it.
    let input: FileID?
    let inputPages: Int
    var data = ProgramData(program: 0, fraction: 0, mix: [])

    enum Phase { case waiting, growing, sweeping }
    var phase = Phase.waiting
    var wakeAt: Int64 = 0
    var pid: PID = 0
    var jobs = 0
    var heapStart: VPN = 0
    /// Pages of heap the job has allocated.
    public private(set) var heapPages = 0
    /// The largest heap any job reached.
    public private(set) var largestHeap = 0
    var cursor = 0
    var sweepsDone = 0
    var retries = 0

    /// A batch job; `kernel` resolves `input_file` (a missing file throws
    /// `WorkloadError.missingFile`).
    public init(_ params: BatchWorkloadParameters, kernel: GuestKernel? = nil) throws {
        self.params = params
        mix = params.content_mix.fractions
        life = Lifetime(params)
        peakPages = max(1, params.peak.pages)
        stepPages = max(1, params.step.pages)
        writeP = params.write_fraction.fraction
        if params.input_file.isEmpty || params.input_size.pages == 0 {
            input = nil; inputPages = 0
        } else {
            guard let k = kernel, let f = k.fileID(path: params.input_file), k.filePages(f) > 0 else {
                throw WorkloadError.missingFile(kind: "batch", key: "input_file", path: params.input_file)
            }
            input = f
            inputPages = min(params.input_size.pages, k.filePages(f), max(1, params.peak.pages))
        }
    }

    /// The current job's process (0 before the first job).
    public var process: PID { pid }

    public func run(on kernel: GuestKernel, context c: inout WorkloadContext) {
        guard !isFinished else { return }
        if kernel.panicked { isFinished = true; return }
        c.setRate(params.access_rate)
        guard life.ready(&c) else { return }
        let stop = life.stopTime
        while c.budget > 0 && !isFinished {
            if c.now >= stop { shutdown(kernel, &c); return }
            switch phase {
            case .waiting:
                if c.now < wakeAt { c.idle(until: min(wakeAt, stop)); continue }
                if pid == 0 || !kernel.isAlive(pid) { startJob(kernel, &c) } else { phase = .growing }
            case .growing:
                if cursor < heapPages {
                    // Fill the newly allocated step: read the input into its first pages, then
                    // initialise the data the program computes.
                    let r: AccessResult
                    if let f = input, cursor < inputPages {
                        r = c.read(kernel, pid, f, page: cursor, into: heapStart + VPN(cursor))
                    } else if let content = data.content(region: ProgramData.Region.heap, page: cursor, layout: kernel.process(pid)?.layoutSeed ?? 0) {
                        let o = kernel.access(pid, heapStart + VPN(cursor), storing: content)
                        c.stats.references &+= 1
                        c.stats.writes &+= 1
                        c.charge(o)
                        r = o.result
                    } else {
                        r = c.access(kernel, pid, heapStart + VPN(cursor), write: true)
                    }
                    if r == .noProcess { jobKilled(&c); continue }
                    cursor += 1
                } else if heapPages < peakPages {
                    grow(kernel, &c)
                } else {
                    phase = .sweeping
                    cursor = 0
                    sweepsDone = 0
                    if params.sweeps == 0 { endJob(kernel, &c) }
                }
            case .sweeping:
                // The input is only read; the rest of the heap is read and written.
                let write = c.rng.chance(writeP) && cursor >= inputPages
                if c.access(kernel, pid, heapStart + VPN(cursor), write: write) == .noProcess { jobKilled(&c); continue }
                c.stats.pagesSwept &+= 1
                cursor += 1
                if cursor == heapPages {
                    cursor = 0
                    sweepsDone += 1
                    if sweepsDone == params.sweeps { endJob(kernel, &c) }
                }
            }
        }
    }

    func startJob(_ kernel: GuestKernel, _ c: inout WorkloadContext) {
        jobs += 1
        pid = kernel.spawnProcess("batch-job-\(jobs)", adj: params.oom_score_adj, mix: mix, context: &c)
        if data.program == 0 {
            data = ProgramData(program: ProgramData.identity(kernel: kernel, name: "batch-job"), fraction: params.program_data.fraction, mix: mix)
        }
        heapStart = kernel.heapRange(pid).lowerBound
        heapPages = 0
        cursor = 0
        retries = 0
        phase = .growing
    }

    func grow(_ kernel: GuestKernel, _ c: inout WorkloadContext) {
        let delta = min(stepPages, peakPages - heapPages)
        c.chargeSyscall()
        switch kernel.brk(pid, deltaPages: delta) {
        case .success:
            let range = kernel.heapRange(pid)
            heapStart = range.lowerBound
            heapPages = Int(range.upperBound - range.lowerBound)
            largestHeap = max(largestHeap, heapPages)
            c.stats.allocations += 1
            c.stats.allocatedPages += delta
            retries = 0
            if params.hugepage {
                // The whole heap, so that its VMA is not split (brk extends the one VMA).
                c.chargeSyscall()
                _ = kernel.madvise(pid, start: heapStart, pages: heapPages, advice: .hugepage)
            }
        case .failure(let e):
            if e == .ESRCH || !kernel.isAlive(pid) { jobKilled(&c); return }
            c.stats.refusedAllocations += 1
            retries += 1
            if retries > params.max_retries {
                // malloc returned NULL once too often: the job aborts.
                c.stats.failedOperations += 1
                kernel.exitProcess(pid, context: &c)
                next(&c)
            } else {
                phase = .waiting
                wakeAt = c.now + params.retry_interval.nanoseconds
            }
        }
    }

    func endJob(_ kernel: GuestKernel, _ c: inout WorkloadContext) {
        c.chargeSyscall()
        if params.repeat && params.free_advice != .munmap {
            // The allocator keeps the heap mapped and madvises it; the next job reuses it.
            let advice: MemoryAdvice = params.free_advice == .free ? .free : .dontneed
            // Not counted in freed_kb (munmap / brk): vmstat.madvise_calls and pglazyfree count it.
            _ = kernel.madvise(pid, start: heapStart, pages: heapPages, advice: advice)
            c.stats.operations += 1
            cursor = 0
            phase = .waiting
            wakeAt = c.now + params.repeat_delay.nanoseconds
            return
        }
        if case .success = kernel.brk(pid, deltaPages: -heapPages) { c.stats.freedPages += heapPages }
        kernel.exitProcess(pid, context: &c)
        c.stats.operations += 1
        next(&c)
    }

    func jobKilled(_ c: inout WorkloadContext) {
        c.stats.killed += 1
        c.stats.failedOperations += 1
        next(&c)
    }

    /// After a job: the next one later, or the end.
    func next(_ c: inout WorkloadContext) {
        heapPages = 0
        cursor = 0
        pid = 0
        if params.repeat {
            phase = .waiting
            wakeAt = c.now + params.repeat_delay.nanoseconds
        } else {
            isFinished = true
        }
    }

    func shutdown(_ kernel: GuestKernel, _ c: inout WorkloadContext) {
        if pid != 0 { kernel.exitProcess(pid, context: &c) }
        isFinished = true
    }
}
