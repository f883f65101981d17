import GuestKernel
import OvercommitSupport
import PageContents

/// A guest booting: init (PID 1) writes its own memory, then reads the OS image's files
/// sequentially through the page cache, and the workload is done.
///
/// Imitates the I/O of a Linux boot — the loader and systemd reading binaries, libraries,
/// locale and configuration files — which leaves the page cache full of pages that are
/// identical in every guest booted from the same image (what page sharing finds across
/// "identical Linux VMs"). Large files are read only up to `max_per_file`, as a boot reads
/// the head of big files, not a whole database. The init process stays alive afterwards;
/// its `oom_score_adj` defaults to -1000 because Linux never OOM-kills PID 1.
///
/// The engine runs one automatically at power-on (`BootWorkload(files:)` with the image's
/// file paths). One unit of work (`stats.operations`) is one file read; paths the guest does
/// not have are skipped and counted in `failed_operations`.
public struct BootWorkloadParameters: WorkloadParameters {
    public static let kindName = "boot"
    public static let summary = "boot: init reads the image's files through the page cache, then finishes"

    /// Paths to read, in order; empty reads every file of the guest's image.
    public var files: [String] = []
    /// At most this much of each file is read (from its start).
    public var max_per_file: ByteCount = .mib(32)
    /// Anonymous memory init writes before reading files.
    public var init_memory: ByteCount = .mib(8)
    /// Share of `init_memory` that is init's constant data (see `ProgramData`).
    public var program_data: Percentage = ProgramData.defaultFraction

    public var access_rate: Double = 200_000
    public var start_at: SimDuration = .ns(0)
    public var stop_at: SimDuration? = nil
    public var content_mix = ContentMix([(.pointers, 40), (.sparse, 30), (.text, 20), (.zero, 10)])
    public var oom_score_adj: Int = -1000

    public init() {}
    public init(files: [String]) { self.files = files }

    public static let tableSummary = "A boot: init writes its memory, then reads the image's files sequentially through the page cache, then finishes."
    public static let ownFields: [ParameterField<Self>] = [
        .init(\.files, "files", "paths to read in order; empty reads every file of the guest's image", meaning: "every file of the image"),
        .init(\.max_per_file, "max_per_file", "at most this much of each file is read, from its start", .atLeastOnePage),
        .init(\.init_memory, "init_memory", "anonymous memory init (PID 1) writes before reading files", .upToLargestHost),
        .init(\.program_data, "program_data", ProgramData.parameterSummary, .share),
    ]

    public func ownProblems() -> [ParameterProblem] {
        files.enumerated().filter { $0.element.isEmpty }.map { ("files[\($0.offset)]", "must not be empty") }
    }

    public func makeWorkload(
        kernel: GuestKernel, rng: inout Xoshiro256, resources: WorkloadResources,
        imageFiles: [String]
    ) throws -> any Workload {
        BootWorkload(self, imageFiles: imageFiles)
    }
}

extension WorkloadKind {
    public static let boot = WorkloadKind(BootWorkloadParameters.self)
}

extension WorkloadSpec {
    /// The `boot` workload with parameters `p`.
    public static func boot(_ p: BootWorkloadParameters = BootWorkloadParameters()) -> WorkloadSpec { WorkloadSpec(p) }
}

/// The `boot` generator (see `BootWorkloadParameters`).
public final class BootWorkload: Workload {
    public var kind: WorkloadKind { .boot }
    public private(set) var isFinished = false

    let params: BootWorkloadParameters
    let mix: StyleMix
    var life: Lifetime
    let paths: [String]
    let maxPages: Int
    let initPages: Int

    var pid: PID = 0
    var data = ProgramData(program: 0, fraction: 0, mix: [])
    var initBase: VPN? = nil
    var populated = 0
    var fileIndex = 0
    var file: FileID? = nil
    var filePage = 0
    var fileEnd = 0

    /// The boot the engine runs at power-on: read `files` (the image's paths) with defaults.
    public convenience init(files: [String]) {
        self.init(BootWorkloadParameters(files: files), imageFiles: files)
    }

    /// A boot from parameters; `imageFiles` are read when `params.files` is empty.
    public init(_ params: BootWorkloadParameters, imageFiles: [String]) {
        self.params = params
        mix = params.content_mix.fractions
        life = Lifetime(params)
        paths = params.files.isEmpty ? imageFiles : params.files
        maxPages = max(1, params.max_per_file.pages)
        initPages = params.init_memory.pages
    }

    /// The init process (0 before boot starts).
    public var process: PID { pid }

    public func run(on kernel: GuestKernel, context c: inout WorkloadContext) {
        guard !isFinished else { return }
        if kernel.panicked { isFinished = true; return }
        c.setRate(params.access_rate)
        guard life.ready(&c) else { return }
        let stop = life.stopTime
        if pid == 0 {
            pid = kernel.spawnProcess("systemd", adj: params.oom_score_adj, mix: mix, context: &c)
            data = ProgramData(program: ProgramData.identity(kernel: kernel, name: "systemd"), fraction: params.program_data.fraction, mix: mix)
            if initPages > 0 { initBase = kernel.mapAnonymous(pid, pages: initPages, context: &c) }
        }
        while c.budget > 0 {
            if c.now >= stop { isFinished = true; return }
            let r: AccessResult
            if let base = initBase, populated < initPages {
                r = c.populate(kernel, pid, base + VPN(populated), data, region: ProgramData.Region.initMemory, page: populated)
                populated += 1
            } else if let f = file {
                r = c.fileRead(kernel, pid, f, page: filePage)
                filePage += 1
                if filePage == fileEnd { file = nil; fileIndex += 1; c.stats.operations += 1 }
            } else if fileIndex < paths.count {
                if let f = kernel.fileID(path: paths[fileIndex]), kernel.filePages(f) > 0 {
                    file = f
                    filePage = 0
                    fileEnd = min(kernel.filePages(f), maxPages)
                } else {
                    c.stats.failedOperations += 1
                    fileIndex += 1
                }
                continue
            } else {
                isFinished = true
                return
            }
            if r == .noProcess { c.stats.killed += 1; isFinished = true; return }
        }
    }
}
