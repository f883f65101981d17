import GuestKernel
import HostPolicies
import Hypervisor
import OvercommitSupport
import PageContents
import Workloads

/// A whole scenario: the host, the images guests boot from, the guests, and the run.
///
/// Every field has a default, so `overcommit run --dry-run` can print the resolved scenario;
/// the resolved form is saved with every run, as gem5 saves `config.ini`.
public struct ScenarioConfig: ParameterTable {
    /// Scenario name shown in reports.
    public var name: String = "unnamed"
    /// Free text shown by `validate` and in reports.
    public var description: String = ""
    /// What to look for in the run's outputs (free text, several lines), kept in
    /// scenario.resolved.yaml and shown at the top of the HTML report under the description.
    public var notes: String = ""
    /// Seed of every random stream in the run (each component derives its own).
    public var seed: UInt64 = 1
    /// Simulated time to run.
    public var duration: SimDuration = .seconds(60)
    /// Interval between rows of `timeseries.csv`.
    public var sample_interval: SimDuration = .seconds(1)
    /// Engine quantum: each guest's vCPUs run this long between scheduling points.
    public var tick: SimDuration = .ms(10)
    /// Time costs of memory events.
    public var costs: CostModel = CostModel()
    /// The physical host.
    public var host: HostConfig = HostConfig()
    /// OS images guests boot from (a built-in `linux` image exists when none is named so).
    public var images: [ImageConfig] = []
    /// The guests (VMs).
    public var guests: [GuestConfig] = []

    public init() {}

    public static let tableName = "scenario"
    public static let tableSummary = "A scenario file: host, images, guests and run settings."
    public static let fields: [ParameterField<Self>] = [
        .init(\.name, "name", "scenario name shown in reports"),
        .init(\.description, "description", "free text describing the scenario"),
        .init(\.notes, "notes", "what to look for in the outputs (free text, may span lines: `notes: |`); shown at the top of the HTML report"),
        .init(
            \.seed, "seed", "seed of every random stream (each component derives its own)",
            .unbounded(because: "only mixed into random streams")),
        .init(\.duration, "duration", "simulated time to run", .range(.ms(1)...SimDuration.longestRun)),
        .init(\.sample_interval, "sample_interval", "interval between rows of timeseries.csv", .period),
        .init(
            \.tick, "tick", "engine quantum between scheduling points",
            .range(.us(1) ... .seconds(1), because: "one scheduling pass per tick")),
        .init(\.costs, "costs", "time costs of memory events"),
        .init(\.host, "host", "the physical host"),
        .init(\.images, "images", "OS images guests boot from (built-in: linux)"),
        .init(\.guests, "guests", "the guests (VMs)"),
        .freeForm("templates", "free-form: a place for YAML anchors (&name) used with merge keys (<<: *name); not validated"),
    ]

    /// The images with the built-in `linux` image added when no image has that name.
    public var resolvedImages: [ImageConfig] {
        images.contains { $0.name == ImageConfig.builtinLinux.name } ? images : [ImageConfig.builtinLinux] + images
    }

    /// The guests with `count` expanded: `web` × 3 becomes `web-1`, `web-2`, `web-3`.
    public var expandedGuests: [GuestConfig] {
        var out: [GuestConfig] = []
        for g in guests {
            if g.count == 1 { var x = g; x.count = 1; out.append(x); continue }
            for i in 1...max(1, g.count) { var x = g; x.name = "\(g.name)-\(i)"; x.count = 1; out.append(x) }
        }
        return out
    }

    /// Problems between keys and across entries (bounds are in `fields`): sampling within the
    /// run, unique names, images that exist, at least one guest.
    public func consistencyProblems() -> [ParameterProblem] {
        var p: [ParameterProblem] = []
        if sample_interval < tick { p.append(("sample_interval", "must be at least one tick (\(tick)); got \(sample_interval)")) }
        if sample_interval > duration { p.append(("sample_interval", "must not exceed duration (\(duration)); got \(sample_interval)")) }
        var imageNames: [String] = []
        for (i, img) in images.enumerated() {
            if imageNames.contains(img.name) { p.append(("images[\(i)].name", "duplicate image name '\(img.name)'")) }
            imageNames.append(img.name)
        }
        let known = resolvedImages.map(\.name)
        var guestNames: [String] = []
        if guests.isEmpty { p.append(("guests", "a scenario needs at least one guest")) }
        for (i, g) in guests.enumerated() {
            if guestNames.contains(g.name) { p.append(("guests[\(i)].name", "duplicate guest name '\(g.name)'")) }
            guestNames.append(g.name)
            if !known.contains(g.image) { p.append(("guests[\(i)].image", "unknown image '\(g.image)'; allowed: \(known.joined(separator: ", "))")) }
            if let h = g.numa.home_node, h >= host.numa.nodes {
                p.append(("guests[\(i)].numa.home_node", "the host has \(host.numa.nodes) NUMA node(s), numbered from 0; got \(h)"))
            }
            // Memory above startup memory is hot-added by Hyper-V Dynamic Memory only; other
            // policies size balloons against configured memory and would never add it.
            let hyperV = !host.policy.isProgram && host.balloon_policy.kindName == HyperVBalloonParameters.kindName
            if g.balloon.startup_memory != nil && !hyperV {
                let current = host.policy.isProgram ? "a policy program" : "'\(host.balloon_policy.kindName)'"
                p.append(
                    (
                        "guests[\(i)].balloon.startup_memory",
                        "memory above startup memory is hot-added by Hyper-V Dynamic Memory: needs host.balloon_policy.kind hyperv; got \(current)"
                    ))
            }
        }
        return p
    }
}

/// One guest (VM), or `count` identical ones.
public struct GuestConfig: ParameterTable {
    /// Guest name; with `count` > 1 the guests are named `name-1`, `name-2`, ...
    public var name: String = "vm"
    /// Number of identical guests this entry stands for.
    public var count: Int = 1
    /// Configured memory (what the guest sees as RAM).
    public var memory: ByteCount = .gib(2)
    /// Virtual CPUs: the workload runs this many vCPU-ticks per tick.
    public var vcpus: Int = 1
    /// The image the guest boots from (its kernel and files).
    public var image: String = "linux"
    /// Guest kernel tunables (Linux sysctls).
    public var kernel: GuestKernelConfig = GuestKernelConfig()
    /// The guest's own swap device.
    public var swap: SwapDeviceConfig = SwapDeviceConfig()
    /// What runs inside the guest.
    public var workloads: [WorkloadSpec] = [WorkloadSpec()]
    /// Delay before the guest powers on.
    public var start_at: SimDuration = .ns(0)
    /// Machine memory guaranteed to the guest (ESX sched.mem.min): admission control needs it free.
    public var reservation: ByteCount = ByteCount(0)
    /// Most machine memory the guest may consume (ESX sched.mem.max); nil = unlimited.
    public var limit: ByteCount? = nil
    /// Proportional-share weight (ESX sched.mem.shares): low, normal, high or a number.
    public var shares: SharesSetting = .normal
    /// Page-sharing salt (ESX sched.mem.pshare.salt): guests with equal salts may share pages.
    public var pshare_salt: String? = nil
    /// The balloon driver and the per-VM settings of the balloon policies.
    public var balloon: BalloonVMSettings = BalloonVMSettings()
    /// NUMA placement of the guest on the host.
    public var numa: GuestNUMAConfig = GuestNUMAConfig()

    public init() {}

    public static let tableName = "guest"
    public static let tableSummary = "A guest (VM): configured memory, vCPUs, image, kernel tunables, swap and workloads."
    public static let fields: [ParameterField<Self>] = [
        .init(\.name, "name", "guest name; with count > 1 the guests are name-1, name-2, ..."),
        .init(\.count, "count", "number of identical guests this entry stands for", .range(1...4096)),
        .init(\.memory, "memory", "configured memory: what the guest sees as RAM", .range(.mib(64) ... .gib(512))),
        .init(\.vcpus, "vcpus", "virtual CPUs running the workloads", .range(1...256)),
        .init(\.image, "image", "the image the guest boots from"),
        .init(\.kernel, "kernel", "guest kernel tunables (Linux sysctl names)"),
        .init(\.swap, "swap", "the guest's own swap device"),
        .init(\.workloads, "workloads", "what runs inside the guest"),
        .init(\.start_at, "start_at", "delay before the guest powers on", .delay),
        .init(
            \.reservation, "reservation", "ESX sched.mem.min: machine memory guaranteed (admission control reserves it; never reclaimed below)",
            .upToLargestHost),
        .init(
            \.limit, "limit", "ESX sched.mem.max: most machine memory the guest may consume; below configured memory it forces reclamation",
            .range(.mib(16)...ByteCount.largestHost), unset: "(unlimited)"),
        .init(\.shares, "shares", "ESX sched.mem.shares: low, normal, high (5/10/20 per MiB of memory) or a number"),
        .init(\.pshare_salt, "pshare_salt", "ESX sched.mem.pshare.salt: guests with the same salt share pages under salting 1 and 2", unset: "(none)"),
        .init(\.balloon, "balloon", "balloon driver and per-VM balloon policy settings"),
        .init(\.numa, "numa", "NUMA placement on the host: the guest's home node"),
    ]

    /// What the host enforces for this guest, in pages.
    public var resourceSettings: VMResourceSettings {
        var s = VMResourceSettings()
        s.reservationPages = reservation.pages
        s.limitPages = limit?.pages ?? Int.max
        s.shares = shares.shares(configuredMiB: Int(memory.bytes >> 20))
        s.pshareSalt = pshare_salt
        s.balloonDriver = balloon.driver
        s.balloonMaxPages = balloon.maxBalloonPages(configuredPages: memory.pages)
        s.balloonDeflateOnOOM = balloon.deflate_on_oom
        s.numaHomeNode = numa.home_node
        s.virtualNUMA = numa.virtual_numa
        return s
    }

    /// Problems between keys (bounds are in `fields`): whole pages, reservation within memory
    /// and below the limit, balloon sizes within memory, OPT only with a trace.
    public func consistencyProblems() -> [ParameterProblem] {
        var p: [ParameterProblem] = []
        if name.isEmpty { p.append(("name", "must not be empty")) }
        if memory.bytes % 4096 != 0 { p.append(("memory", "must be a whole number of 4KiB pages; got \(memory.bytes) bytes")) }
        if workloads.isEmpty { p.append(("workloads", "list at least one workload (kind: idle for none)")) }
        if reservation > memory { p.append(("reservation", "must not exceed the guest's memory (\(memory)); got \(reservation)")) }
        if let l = limit, l < reservation { p.append(("limit", "must not be below the reservation (\(reservation)); got \(l)")) }
        if case .custom(let n) = shares, !(1...1_000_000_000).contains(n) {
            p.append(("shares", "must be low, normal, high or a number of shares from 1 to 1e9; got \(n)"))
        }
        for (k, m) in balloon.problems(configured: memory) { p.append(("balloon.\(k)", m)) }
        if swap.kind == .zram && CodecKind(rawValue: swap.comp_algorithm) == nil {
            p.append(("swap.comp_algorithm", "unknown codec '\(swap.comp_algorithm)'; allowed: " + CodecKind.allCases.map(\.rawValue).joined(separator: ", ")))
        }
        if swap.kind == .zram && kernel.zswap.enabled {
            p.append(("kernel.zswap.enabled", "zswap in front of a zram swap device would compress every page twice; use one of them"))
        }
        if kernel.replacement_policy.needsFutureReferences && !workloads.contains(where: { $0.kind == .trace }) {
            p.append(
                ("kernel.replacement_policy", "\(kernel.replacement_policy.rawValue) needs the future, so it works only with a trace workload (kind: trace)"))
        }
        return p
    }
}

/// A file in an image's file system (shared libraries, binaries, data).
public struct FileConfig: ParameterTable {
    /// Path inside the guest.
    public var path: String = "/data"
    /// File size.
    public var size: ByteCount = .mib(1)
    /// What the bytes look like (decides compressibility).
    public var style: ContentStyle = .text
    /// When true each guest gets its own contents (e.g. a database file); otherwise every
    /// guest booted from the image reads identical bytes (libraries, web content).
    public var per_guest: Bool = false
    /// Another file of the image this one is a byte-for-byte copy of (its size, style and
    /// `per_guest` are that file's): the same library in several container layers, a runtime
    /// bundled with each application, a copied package. Its pages in the page cache duplicate
    /// the other file's inside the guest.
    public var same_as: String? = nil

    public init() {}
    public init(path: String, size: ByteCount, style: ContentStyle, perGuest: Bool = false) {
        self.path = path; self.size = size; self.style = style; self.per_guest = perGuest
    }

    public static let tableName = "file"
    public static let tableSummary = "A file in an image: identical across guests unless per_guest."
    public static let fields: [ParameterField<Self>] = [
        .init(\.path, "path", "path inside the guest (workloads name files by path)"),
        .init(\.size, "size", "file size", .range(ByteCount(1)...ByteCount.largestHost)),
        .init(\.style, "style", "what the bytes look like (decides compressibility)"),
        .init(\.per_guest, "per_guest", "true: each guest has its own contents; false: identical in every guest of the image"),
        .init(
            \.same_as, "same_as",
            "path of another file of the image this one copies byte for byte (container layers, bundled runtimes); size, style and per_guest are that file's",
            unset: "(none)"),
    ]
}

/// An OS image guests boot from: kernel pages and a file system.
///
/// Guests booted from the same image have identical kernel text and identical library and
/// binary pages, the content ESX's page sharing finds across "identical Linux VMs".
public struct ImageConfig: ParameterTable {
    /// Most files an image can list: a guest's file table holds `GuestKernel.maxFiles`
    /// entries (16-bit ids in the reverse map), with room left for the memory image and the
    /// shmem objects workloads create.
    public static let maxFiles = 4096
    /// Image name that guests refer to.
    public var name: String = "linux"
    /// Kernel text and read-only data loaded at boot (identical across guests of the image).
    public var kernel_size: ByteCount = .mib(24)
    /// Share of the kernel image's pages that hold an absolute relocation: with KASLR
    /// (`guests[].kernel.kaslr`) the boot patches them with a random offset, so they differ
    /// between guests. 59 % measured on Debian 12's cloud kernel (6.1.0-50-cloud-amd64: of
    /// the 5159 pages of .text, .rodata and .data, 3047 hold at least one of the 202,532
    /// entries of the relocation table appended to vmlinux; scripts/kernel-relocations.py).
    public var kernel_relocated: Percentage = Percentage(percent: 59)
    /// Files in the image.
    public var files: [FileConfig] = []
    /// A raw memory image (guest RAM dump) whose pages fill the guest's memory at boot; the
    /// CLI loads the file, relative to the scenario file.
    public var memory_image: String? = nil

    public init() {}

    public static let tableName = "image"
    public static let tableSummary = "An OS image: kernel pages and files shared by every guest booted from it."
    public static let fields: [ParameterField<Self>] = [
        .init(\.name, "name", "image name that guests refer to"),
        .init(\.kernel_size, "kernel_size", "kernel text and data loaded at boot", .upToLargestHost),
        .init(
            \.kernel_relocated, "kernel_relocated",
            "share of the kernel image's pages holding an absolute relocation: with KASLR they differ between guests (measured on Debian 12's 6.1 cloud kernel)",
            .share),
        .init(\.files, "files", "files in the image's file system (at most \(ImageConfig.maxFiles))"),
        .init(\.memory_image, "memory_image", "path of a raw memory image (4 KiB pages) loaded into guest memory at boot", unset: "(none)"),
    ]

    /// A name, at most `maxFiles` files, each path once, no memory-image style, copies
    /// (`same_as`) naming an original of the image.
    public func consistencyProblems() -> [ParameterProblem] {
        var p: [ParameterProblem] = []
        if name.isEmpty { p.append(("name", "must not be empty")) }
        if files.count > ImageConfig.maxFiles {
            p.append(("files", "\(files.count) files; an image can have at most \(ImageConfig.maxFiles)"))
        }
        var paths = Set<String>()
        for (i, f) in files.enumerated() {
            if !paths.insert(f.path).inserted { p.append(("files[\(i)].path", "duplicate path '\(f.path)'")) }
            if f.style == .stored {
                p.append(("files[\(i)].style", "'stored' is for memory images; use code, text, random, sparse, pointers, pattern or zero"))
            }
            if let o = f.same_as {
                if o == f.path {
                    p.append(("files[\(i)].same_as", "names the file itself; name another file of the image"))
                } else if let t = files.first(where: { $0.path == o }) {
                    if t.same_as != nil { p.append(("files[\(i)].same_as", "'\(o)' is itself a copy (same_as '\(t.same_as!)'); name the original")) }
                } else {
                    p.append(
                        (
                            "files[\(i)].same_as",
                            "'\(o)' is not a file of image '\(name)'; allowed: "
                                + files.filter { $0.same_as == nil && $0.path != f.path }.map(\.path).joined(separator: ", ")
                        ))
                }
            }
        }
        return p
    }

    /// The built-in `linux` image: a small distribution with libraries, binaries, web content
    /// and a per-guest data directory.
    public static var builtinLinux: ImageConfig {
        var i = ImageConfig()
        i.name = "linux"
        i.kernel_size = .mib(24)
        i.files = [
            FileConfig(path: "/usr/lib/libc.so.6", size: .mib(2), style: .code),
            FileConfig(path: "/usr/lib/libcrypto.so.3", size: .mib(4), style: .code),
            FileConfig(path: "/usr/lib/libpython3.so", size: .mib(8), style: .code),
            FileConfig(path: "/usr/sbin/nginx", size: .mib(2), style: .code),
            FileConfig(path: "/usr/sbin/postgres", size: .mib(10), style: .code),
            FileConfig(path: "/usr/share/locale", size: .mib(16), style: .text),
            FileConfig(path: "/var/www/html", size: .mib(256), style: .text),
            FileConfig(path: "/var/lib/db/data", size: .gib(2), style: .pointers, perGuest: true),
            FileConfig(path: "/var/log/app.log", size: .mib(64), style: .text, perGuest: true),
            FileConfig(path: "/home/user/media", size: .mib(512), style: .random, perGuest: true),
        ]
        return i
    }
}
