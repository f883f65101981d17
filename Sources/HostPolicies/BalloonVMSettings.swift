import OvercommitSupport

/// One VM's balloon driver and the per-VM knobs the balloon policies read.
///
/// The driver follows VMware's vmmemctl and virtio-balloon; the knobs are the ones each
/// management stack puts on a VM: Proxmox `balloon:` (minimum memory) and `shares`, XenServer
/// `memory-dynamic-min`/`-max`, Hyper-V Dynamic Memory's startup and minimum RAM, buffer and
/// weight.
public struct BalloonVMSettings: ParameterTable {
    /// Whether the guest runs a balloon driver; without one the host can only swap.
    public var driver = true
    /// Largest balloon, of configured memory (ESX Mem.CtlMaxPercent = 65 %).
    public var max = Percentage(percent: 65)
    /// Pages per second the driver inflates or deflates. 64 MiB/s: vmw_balloon's limit of
    /// 16384 pages per one-second cycle (VMW_BALLOON_NOSLEEP_ALLOC_MAX, VMW_BALLOON_RATE_FREE_MAX).
    public var rate: ByteCount = .mib(64)
    /// How often the driver reads its target (vmw_balloon's work runs once a second).
    public var poll_interval: SimDuration = .seconds(1)
    /// virtio-balloon VIRTIO_BALLOON_F_DEFLATE_ON_OOM: the guest's OOM notifier releases
    /// 256 pages (1 MiB) from the balloon instead of killing a process.
    public var deflate_on_oom = false
    /// virtio-balloon VIRTIO_BALLOON_F_REPORTING (QEMU `free-page-reporting=on`, off by
    /// default): the guest reports free blocks and the host discards their backing.
    public var free_page_reporting = false
    /// Lowest order of the blocks reported (Linux `page_reporting_order`; default
    /// pageblock_order = 9 on x86-64, 2 MiB).
    public var reporting_order = 9
    /// Delay between a free of that order and the pass that reports it (Linux PAGE_REPORTING_DELAY, 2 s).
    public var reporting_delay: SimDuration = .seconds(2)
    /// Most blocks per report request (Linux PAGE_REPORTING_CAPACITY, 32).
    public var reporting_capacity = 32
    /// How often the host polls the guest's memory statistics on the stats virtqueue (QEMU
    /// `guest-stats-polling-interval`, 0 = off by default; libvirt `<stats period='N'/>`):
    /// balloon policies see the guest's memory as of the last poll. nil = they read the
    /// guest's meminfo at the instant they run (an idealisation).
    public var stats_period: SimDuration? = nil
    /// Memory the guest keeps at least (Proxmox `balloon:`, Hyper-V Minimum RAM, oVirt
    /// guaranteed memory); nil = configured memory: the VM is not auto-ballooned by MOM or
    /// Proxmox (the `hyperv` policy takes Startup RAM, Hyper-V's default minimum).
    public var minimum: ByteCount? = nil
    /// XenServer memory-dynamic-min; nil = half of configured memory (a model choice, twice
    /// the quarter of static-max XenServer accepts).
    public var dynamic_min: ByteCount? = nil
    /// XenServer memory-dynamic-max; nil = configured memory (static-max).
    public var dynamic_max: ByteCount? = nil
    /// Proxmox `shares` weight for auto-ballooning (0 excludes the VM).
    public var proxmox_shares: Int = 1000
    /// Balloon size the static policy holds.
    public var static_target: ByteCount = ByteCount(0)
    /// Hyper-V Startup RAM (`Set-VMMemory -StartupBytes`): memory the guest sees at boot;
    /// configured memory is Hyper-V's Maximum RAM and the space between them is hot-added in
    /// 128 MiB chunks as the `hyperv` policy asks. nil = configured memory (nothing to hot-add).
    public var startup_memory: ByteCount? = nil
    /// Hyper-V memory buffer (`Set-VMMemory -Buffer`, 5-2000 %, default 20 %): memory the
    /// `hyperv` policy gives a VM above its demand, of its demand.
    public var memory_buffer = Percentage(percent: 20)
    /// Hyper-V memory weight (WMI `Msvm_MemorySettingData.Weight`, 0-10000, default 5000;
    /// `Set-VMMemory -Priority` 0-100 sets weight / 100): how the `hyperv` policy splits memory
    /// when the host cannot give every VM its target.
    public var memory_weight = 5000

    public init() {}

    /// Largest balloon in pages for a VM of `configuredPages`.
    public func maxBalloonPages(configuredPages: Int) -> Int {
        Int((Double(configuredPages) * min(Swift.max(max.fraction, 0), 1)).rounded(.down))
    }
    /// Minimum guest memory in pages (configured when `minimum` is nil), at most configured.
    public func minimumPages(configuredPages: Int) -> Int {
        min(minimum?.pages ?? configuredPages, configuredPages)
    }
    /// Hyper-V Startup RAM in pages (configured when `startup_memory` is nil), at most configured.
    public func startupPages(configuredPages: Int) -> Int {
        min(startup_memory?.pages ?? configuredPages, configuredPages)
    }
    /// Hyper-V Minimum RAM in pages: `minimum`, or Startup RAM when it is unset (Hyper-V's
    /// default minimum), at most Startup RAM.
    public func hyperVMinimumPages(configuredPages: Int) -> Int {
        let startup = startupPages(configuredPages: configuredPages)
        return min(minimum?.pages ?? startup, startup)
    }
    /// XenServer dynamic-min in pages.
    public func dynamicMinPages(configuredPages: Int) -> Int {
        min(dynamic_min?.pages ?? configuredPages / 2, configuredPages)
    }
    /// XenServer dynamic-max in pages.
    public func dynamicMaxPages(configuredPages: Int) -> Int {
        min(dynamic_max?.pages ?? configuredPages, configuredPages)
    }

    public static let tableName = "guest.balloon"
    public static let tableSummary =
        "A VM's balloon driver (vmmemctl / virtio-balloon) and the per-VM knobs of the balloon policies (Proxmox minimum and shares, XenServer dynamic range, Hyper-V startup memory, buffer and weight)."
    public static let fields: [ParameterField<Self>] = [
        .init(\.driver, "driver", "whether the guest runs a balloon driver (without one the host can only swap)"),
        .init(\.max, "max", "largest balloon, of configured memory (ESX Mem.CtlMaxPercent)", .share),
        .init(
            \.rate, "rate", "memory the driver inflates or deflates per second (vmw_balloon: 16384 pages per cycle)",
            .atLeastOnePage, unit: "per second"),
        .init(\.poll_interval, "poll_interval", "how often the driver reads its target", .period),
        .init(\.deflate_on_oom, "deflate_on_oom", "virtio-balloon DEFLATE_ON_OOM: release 1MiB of balloon per guest OOM instead of killing"),
        .init(
            \.free_page_reporting, "free_page_reporting",
            "virtio-balloon free page reporting (QEMU free-page-reporting=on): the host discards the free blocks the guest reports"),
        .init(
            \.reporting_order, "reporting_order", "lowest order of the free blocks reported (Linux page_reporting_order; 9 = 2MiB)",
            .range(0...10, because: "the buddy allocator's orders, MAX_PAGE_ORDER = 10")),
        .init(
            \.reporting_delay, "reporting_delay", "delay from a free of that order to the reporting pass (Linux PAGE_REPORTING_DELAY)",
            .period),
        .init(
            \.reporting_capacity, "reporting_capacity", "most blocks per report request (Linux PAGE_REPORTING_CAPACITY)",
            .range(1...4096)),
        .init(
            \.stats_period, "stats_period",
            "how often the host polls the stats virtqueue (QEMU guest-stats-polling-interval, libvirt <stats period>); policies see the last poll",
            .period, unset: "(policies read the guest's meminfo at once)"),
        .init(
            \.minimum, "minimum",
            "memory the guest keeps at least (Proxmox balloon:, Hyper-V Minimum RAM); unset = not auto-ballooned (hyperv: startup memory)",
            .upToLargestHost, unset: "(configured memory)"),
        .init(
            \.dynamic_min, "dynamic_min", "XenServer memory-dynamic-min: the lowest target squeezed sets",
            .upToLargestHost, unset: "(half of configured memory)"),
        .init(
            \.dynamic_max, "dynamic_max", "XenServer memory-dynamic-max: the highest target squeezed sets",
            .upToLargestHost, unset: "(configured memory)"),
        .init(
            \.proxmox_shares, "proxmox_shares", "Proxmox auto-balloon shares weight (0 excludes the VM)",
            .range(0...50_000, because: "Proxmox's range")),
        .init(\.static_target, "static_target", "balloon size the static policy holds", .upToLargestHost),
        .init(
            \.startup_memory, "startup_memory",
            "Hyper-V Startup RAM: memory the guest sees at boot; the rest up to configured memory (Maximum RAM) is hot-added in 128MiB chunks",
            .upToLargestHost, unset: "(configured memory: nothing to hot-add)"),
        .init(
            \.memory_buffer, "memory_buffer", "Hyper-V memory buffer: memory given above the VM's demand, of its demand",
            .range(.percent(5) ... .percent(2000), because: "Hyper-V's range")),
        .init(
            \.memory_weight, "memory_weight", "Hyper-V memory weight: the VM's claim when the host cannot give every VM its target",
            .range(0...10_000, because: "Hyper-V's range")),
    ]

    /// Problems that do not depend on the VM's memory size (bounds are in `fields`).
    public func consistencyProblems() -> [ParameterProblem] {
        var p: [ParameterProblem] = []
        if let lo = dynamic_min, let hi = dynamic_max, lo > hi {
            p.append(("dynamic_min", "must not exceed dynamic_max (\(hi)); got \(lo)"))
        }
        if free_page_reporting && !driver {
            p.append(("free_page_reporting", "needs the balloon driver (driver: true): the guest reports through virtio-balloon"))
        }
        if stats_period != nil && !driver {
            p.append(("stats_period", "needs the balloon driver (driver: true): the guest answers on virtio-balloon's stats virtqueue"))
        }
        return p
    }

    /// All problems for a VM with `configured` memory, in field order: `validationProblems()`
    /// and `problems(configured:)`.
    public func validationProblems(configured: ByteCount) -> [ParameterProblem] {
        Self.inFieldOrder(validationProblems() + problems(configured: configured))
    }

    /// The problems that depend on the VM's `configured` memory: sizes within configured
    /// memory, dynamic_min ≤ dynamic_max, dynamic_min at least a quarter of configured memory
    /// (XenServer's stability constraint static-max ≤ 4 × dynamic-min, which CloudStack's
    /// XenServer resource also applies).
    public func problems(configured: ByteCount) -> [ParameterProblem] {
        var p: [ParameterProblem] = []
        let cfg = configured.pages
        for (key, v) in [("minimum", minimum), ("dynamic_min", dynamic_min), ("dynamic_max", dynamic_max)] {
            if let v, v.pages > cfg { p.append((key, "must not exceed the VM's configured memory (\(configured)); got \(v)")) }
        }
        let lo = dynamicMinPages(configuredPages: cfg), hi = dynamicMaxPages(configuredPages: cfg)
        if dynamic_min == nil || dynamic_max == nil, lo > hi {
            p.append(("dynamic_min", "must not exceed dynamic_max (\(ByteCount.pages(hi))); got \(ByteCount.pages(lo))"))
        }
        if lo * 4 < cfg {
            p.append(
                (
                    "dynamic_min",
                    "must be at least a quarter of configured memory (\(ByteCount.pages((cfg + 3) / 4))), as XenServer requires; got \(ByteCount.pages(lo))"
                ))
        }
        if let startup = startup_memory, let lo = minimum, lo > startup {
            p.append(("minimum", "must not exceed startup_memory (\(startup)), as Hyper-V requires of Minimum RAM; got \(lo)"))
        }
        if let startup = startup_memory, startup.pages > cfg {
            p.append(("startup_memory", "must not exceed the VM's configured memory (Maximum RAM, \(configured)); got \(startup)"))
        }
        if static_target.pages > maxBalloonPages(configuredPages: cfg) {
            p.append(("static_target", "must not exceed the largest balloon (max \(max) of \(configured)); got \(static_target)"))
        }
        return p
    }
}
