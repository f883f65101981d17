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
public struct ScenarioConfig: ParameterTable, Equatable {
    /// Scenario name shown in reports.
    public var name: String = "unnamed"
    /// Free text shown by `validate` and in reports.
    public var description: String = ""
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
    public static var parameters: [ParameterInfo] { [
        .init("name", .string, default: "unnamed", "scenario name shown in reports"),
        .init("description", .string, default: "", "free text describing the scenario"),
        .init("seed", .int, default: "1", "seed of every random stream (each component derives its own)"),
        .init("duration", .duration, default: "60s", "simulated time to run"),
        .init("sample_interval", .duration, default: "1s", "interval between rows of timeseries.csv"),
        .init("tick", .duration, default: "10ms", "engine quantum between scheduling points"),
        .init("costs", .table(CostModel.self), default: "", "time costs of memory events"),
        .init("host", .table(HostConfig.self), default: "", "the physical host"),
        .init("images", .list(ImageConfig.self), default: "[]", "OS images guests boot from (built-in: linux)"),
        .init("guests", .list(GuestConfig.self), default: "[]", "the guests (VMs)"),
        .init("templates", .string, default: "", "free-form: a place for YAML anchors (&name) used with merge keys (<<: *name); not validated"),
    ] }

    enum CodingKeys: String, CodingKey {
        case name, description, seed, duration, sample_interval, tick, costs, host, images, guests, templates
    }

    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        var d = ScenarioConfig()
        func get<T: Decodable>(_ k: CodingKeys, _ v: inout T) throws { if let x = try c.decodeIfPresent(T.self, forKey: k) { v = x } }
        try get(.name, &d.name); try get(.description, &d.description); try get(.seed, &d.seed)
        try get(.duration, &d.duration); try get(.sample_interval, &d.sample_interval); try get(.tick, &d.tick)
        try get(.costs, &d.costs); try get(.host, &d.host); try get(.images, &d.images); try get(.guests, &d.guests)
        self = d
    }

    public func encode(to encoder: Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(name, forKey: .name); try c.encode(description, forKey: .description)
        try c.encode(seed, forKey: .seed); try c.encode(duration, forKey: .duration)
        try c.encode(sample_interval, forKey: .sample_interval); try c.encode(tick, forKey: .tick)
        try c.encode(costs, forKey: .costs); try c.encode(host, forKey: .host)
        try c.encode(images, forKey: .images); try c.encode(guests, forKey: .guests)
    }

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

    /// Range and consistency problems with key paths (`guests[1].memory`), empty when valid.
    public func validationProblems() -> [(key: String, message: String)] {
        var p: [(String, String)] = []
        if duration.nanoseconds <= 0 { p.append(("duration", "must be positive")) }
        if tick.nanoseconds < 1_000 { p.append(("tick", "must be at least 1us; got \(tick)")) }
        if sample_interval < tick { p.append(("sample_interval", "must be at least one tick (\(tick)); got \(sample_interval)")) }
        if sample_interval > duration { p.append(("sample_interval", "must not exceed duration (\(duration)); got \(sample_interval)")) }
        for (k, m) in host.validationProblems() { p.append(("host.\(k)", m)) }
        var imageNames: [String] = []
        for (i, img) in images.enumerated() {
            if imageNames.contains(img.name) { p.append(("images[\(i)].name", "duplicate image name '\(img.name)'")) }
            imageNames.append(img.name)
            for (k, m) in img.validationProblems() { p.append(("images[\(i)].\(k)", m)) }
        }
        let known = resolvedImages.map(\.name)
        var guestNames: [String] = []
        if guests.isEmpty { p.append(("guests", "a scenario needs at least one guest")) }
        for (i, g) in guests.enumerated() {
            if guestNames.contains(g.name) { p.append(("guests[\(i)].name", "duplicate guest name '\(g.name)'")) }
            guestNames.append(g.name)
            if !known.contains(g.image) { p.append(("guests[\(i)].image", "unknown image '\(g.image)'; allowed: \(known.joined(separator: ", "))")) }
            for (k, m) in g.validationProblems() { p.append(("guests[\(i)].\(k)", m)) }
        }
        return p
    }
}

/// One guest (VM), or `count` identical ones.
public struct GuestConfig: ParameterTable, Equatable {
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
    public var workloads: [WorkloadSpec] = [.idle(IdleWorkloadParameters())]
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

    public init() {}

    public static let tableName = "guest"
    public static let tableSummary = "A guest (VM): configured memory, vCPUs, image, kernel tunables, swap and workloads."
    public static var parameters: [ParameterInfo] { [
        .init("name", .string, default: "vm", "guest name; with count > 1 the guests are name-1, name-2, ..."),
        .init("count", .int, default: "1", "number of identical guests this entry stands for"),
        .init("memory", .bytes, default: "2GiB", "configured memory: what the guest sees as RAM"),
        .init("vcpus", .int, default: "1", "virtual CPUs running the workloads"),
        .init("image", .string, default: "linux", "the image the guest boots from"),
        .init("kernel", .table(GuestKernelConfig.self), default: "", "guest kernel tunables (Linux sysctl names)"),
        .init("swap", .table(SwapDeviceConfig.self), default: "", "the guest's own swap device"),
        .init("workloads", .list(WorkloadListEntry.self), default: "[{kind: idle}]", "what runs inside the guest"),
        .init("start_at", .duration, default: "0s", "delay before the guest powers on"),
        .init("reservation", .bytes, default: "0B", "ESX sched.mem.min: machine memory guaranteed (admission control reserves it; never reclaimed below)"),
        .init("limit", .bytes, default: "(unlimited)", "ESX sched.mem.max: most machine memory the guest may consume; below configured memory it forces reclamation"),
        .init("shares", .string, default: "normal", "ESX sched.mem.shares: low, normal, high (5/10/20 per MiB of memory) or a number"),
        .init("pshare_salt", .string, default: "(none)", "ESX sched.mem.pshare.salt: guests with the same salt share pages under salting 1 and 2"),
        .init("balloon", .table(BalloonVMSettings.self), default: "", "balloon driver and per-VM balloon policy settings"),
    ] }

    enum CodingKeys: String, CodingKey { case name, count, memory, vcpus, image, kernel, swap, workloads, start_at, reservation, limit, shares, pshare_salt, balloon }

    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        var d = GuestConfig()
        func get<T: Decodable>(_ k: CodingKeys, _ v: inout T) throws { if let x = try c.decodeIfPresent(T.self, forKey: k) { v = x } }
        try get(.name, &d.name); try get(.count, &d.count); try get(.memory, &d.memory); try get(.vcpus, &d.vcpus)
        try get(.image, &d.image); try get(.kernel, &d.kernel); try get(.swap, &d.swap)
        try get(.workloads, &d.workloads); try get(.start_at, &d.start_at)
        try get(.reservation, &d.reservation); d.limit = try c.decodeIfPresent(ByteCount.self, forKey: .limit)
        try get(.shares, &d.shares); d.pshare_salt = try c.decodeIfPresent(String.self, forKey: .pshare_salt)
        try get(.balloon, &d.balloon)
        self = d
    }

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
        return s
    }

    public func validationProblems() -> [(key: String, message: String)] {
        var p: [(String, String)] = []
        if name.isEmpty { p.append(("name", "must not be empty")) }
        if !(1...4096).contains(count) { p.append(("count", "must be between 1 and 4096; got \(count)")) }
        if memory.bytes < 64 << 20 { p.append(("memory", "must be at least 64MiB; got \(memory)")) }
        if memory.bytes > 1 << 39 { p.append(("memory", "must be at most 512GiB; got \(memory)")) }
        if memory.bytes % 4096 != 0 { p.append(("memory", "must be a whole number of 4KiB pages; got \(memory.bytes) bytes")) }
        if !(1...256).contains(vcpus) { p.append(("vcpus", "must be between 1 and 256; got \(vcpus)")) }
        for (k, m) in kernel.validationProblems() { p.append(("kernel.\(k)", m)) }
        if swap.size.bytes > 1 << 40 { p.append(("swap.size", "must be at most 1TiB")) }
        if workloads.isEmpty { p.append(("workloads", "list at least one workload (kind: idle for none)")) }
        for (i, w) in workloads.enumerated() { for (k, m) in w.validationProblems() { p.append(("workloads[\(i)].\(k)", m)) } }
        if reservation > memory { p.append(("reservation", "must not exceed the guest's memory (\(memory)); got \(reservation)")) }
        if let l = limit {
            if l.pages < 4096 { p.append(("limit", "must be at least 16MiB; got \(l)")) }
            if l < reservation { p.append(("limit", "must not be below the reservation (\(reservation)); got \(l)")) }
        }
        if case .custom(let n) = shares, !(1...1_000_000_000).contains(n) { p.append(("shares", "must be low, normal, high or a number of shares from 1 to 1e9; got \(n)")) }
        for (k, m) in balloon.validationProblems(configured: memory) { p.append(("balloon.\(k)", m)) }
        if kernel.replacement_policy == .opt && !workloads.contains(where: { $0.kindName == "trace" }) {
            p.append(("kernel.replacement_policy", "opt needs the future, so it works only with a trace workload (kind: trace)"))
        }
        return p
    }
}

/// Schema stand-in for one entry of `workloads:` (a table selected by `kind`).
public struct WorkloadListEntry: ParameterTable {
    public init() {}
    public static let tableName = "workload"
    public static let tableSummary = "One workload: `kind` selects the generator and its parameters."
    public static var parameters: [ParameterInfo] { [.init("kind", WorkloadSpec.parameterKind, default: "idle", "the workload generator")] }
}

/// A file in an image's file system (shared libraries, binaries, data).
public struct FileConfig: ParameterTable, Equatable {
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
    public static let parameters: [ParameterInfo] = [
        .init("path", .string, default: "/data", "path inside the guest (workloads name files by path)"),
        .init("size", .bytes, default: "1MiB", "file size"),
        .init("style", .choice(ContentStyle.allCases.filter { $0 != .stored }.map(\.description)), default: "text", "what the bytes look like (decides compressibility)"),
        .init("per_guest", .bool, default: "false", "true: each guest has its own contents; false: identical in every guest of the image"),
        .init("same_as", .string, default: "(none)", "path of another file of the image this one copies byte for byte (container layers, bundled runtimes); size, style and per_guest are that file's"),
    ]

    enum CodingKeys: String, CodingKey { case path, size, style, per_guest, same_as }
    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        var d = FileConfig()
        if let x = try c.decodeIfPresent(String.self, forKey: .path) { d.path = x }
        if let x = try c.decodeIfPresent(ByteCount.self, forKey: .size) { d.size = x }
        if let x = try c.decodeIfPresent(ContentStyle.self, forKey: .style) { d.style = x }
        if let x = try c.decodeIfPresent(Bool.self, forKey: .per_guest) { d.per_guest = x }
        d.same_as = try c.decodeIfPresent(String.self, forKey: .same_as)
        self = d
    }
}

/// An OS image guests boot from: kernel pages and a file system.
///
/// Guests booted from the same image have identical kernel text and identical library and
/// binary pages, the content ESX's page sharing finds across "identical Linux VMs".
public struct ImageConfig: ParameterTable, Equatable {
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
    public static let parameters: [ParameterInfo] = [
        .init("name", .string, default: "linux", "image name that guests refer to"),
        .init("kernel_size", .bytes, default: "24MiB", "kernel text and data loaded at boot"),
        .init("kernel_relocated", .percent, default: "59%", "share of the kernel image's pages holding an absolute relocation: with KASLR they differ between guests (measured on Debian 12's 6.1 cloud kernel)"),
        .init("files", .list(FileConfig.self), default: "[]", "files in the image's file system (at most \(ImageConfig.maxFiles))"),
        .init("memory_image", .string, default: "(none)", "path of a raw memory image (4 KiB pages) loaded into guest memory at boot"),
    ]

    enum CodingKeys: String, CodingKey { case name, kernel_size, kernel_relocated, files, memory_image }
    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        var d = ImageConfig()
        if let x = try c.decodeIfPresent(String.self, forKey: .name) { d.name = x }
        if let x = try c.decodeIfPresent(ByteCount.self, forKey: .kernel_size) { d.kernel_size = x }
        if let x = try c.decodeIfPresent(Percentage.self, forKey: .kernel_relocated) { d.kernel_relocated = x }
        if let x = try c.decodeIfPresent([FileConfig].self, forKey: .files) { d.files = x }
        d.memory_image = try c.decodeIfPresent(String.self, forKey: .memory_image)
        self = d
    }

    public func validationProblems() -> [(key: String, message: String)] {
        var p: [(String, String)] = []
        if name.isEmpty { p.append(("name", "must not be empty")) }
        if !(kernel_relocated.fraction >= 0 && kernel_relocated.fraction <= 1) {
            p.append(("kernel_relocated", "must be between 0% and 100%; got \(kernel_relocated)"))
        }
        if files.count > ImageConfig.maxFiles {
            p.append(("files", "\(files.count) files; an image can have at most \(ImageConfig.maxFiles)"))
        }
        var paths = Set<String>()
        for (i, f) in files.enumerated() {
            if !paths.insert(f.path).inserted { p.append(("files[\(i)].path", "duplicate path '\(f.path)'")) }
            if f.size.bytes == 0 { p.append(("files[\(i)].size", "must be positive")) }
            if f.style == .stored { p.append(("files[\(i)].style", "'stored' is for memory images; use code, text, random, sparse, pointers, pattern or zero")) }
            if let o = f.same_as {
                if o == f.path {
                    p.append(("files[\(i)].same_as", "names the file itself; name another file of the image"))
                } else if let t = files.first(where: { $0.path == o }) {
                    if t.same_as != nil { p.append(("files[\(i)].same_as", "'\(o)' is itself a copy (same_as '\(t.same_as!)'); name the original")) }
                } else {
                    p.append(("files[\(i)].same_as", "'\(o)' is not a file of image '\(name)'; allowed: " + files.filter { $0.same_as == nil && $0.path != f.path }.map(\.path).joined(separator: ", ")))
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
