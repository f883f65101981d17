import OvercommitSupport

/// One VM's balloon driver and the per-VM knobs the balloon policies read.
///
/// The driver follows VMware's vmmemctl and virtio-balloon; the knobs are the ones each
/// management stack puts on a VM: Proxmox `balloon:` (minimum memory) and `shares`, XenServer
/// `memory-dynamic-min`/`-max`, Hyper-V minimum RAM.
public struct BalloonVMSettings: ParameterTable, Equatable {
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
    /// Memory the guest keeps at least (Proxmox `balloon:`, Hyper-V minimum RAM, oVirt
    /// guaranteed memory); nil = configured memory: the VM is not auto-ballooned by MOM or Proxmox.
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

    public init() {}

    /// Largest balloon in pages for a VM of `configuredPages`.
    public func maxBalloonPages(configuredPages: Int) -> Int {
        Int((Double(configuredPages) * min(Swift.max(max.fraction, 0), 1)).rounded(.down))
    }
    /// Minimum guest memory in pages (configured when `minimum` is nil), at most configured.
    public func minimumPages(configuredPages: Int) -> Int {
        min(minimum?.pages ?? configuredPages, configuredPages)
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
    public static let tableSummary = "A VM's balloon driver (vmmemctl / virtio-balloon) and the per-VM knobs of the balloon policies (Proxmox minimum and shares, XenServer dynamic range)."
    public static let parameters: [ParameterInfo] = [
        .init("driver", .bool, default: "true", "whether the guest runs a balloon driver (without one the host can only swap)"),
        .init("max", .percent, default: "65%", "largest balloon, of configured memory (ESX Mem.CtlMaxPercent)"),
        .init("rate", .bytes, default: "64MiB", "memory the driver inflates or deflates per second (vmw_balloon: 16384 pages per cycle)"),
        .init("poll_interval", .duration, default: "1s", "how often the driver reads its target"),
        .init("deflate_on_oom", .bool, default: "false", "virtio-balloon DEFLATE_ON_OOM: release 1MiB of balloon per guest OOM instead of killing"),
        .init("minimum", .bytes, default: "(configured memory)", "memory the guest keeps at least (Proxmox balloon:, Hyper-V minimum); unset = not auto-ballooned"),
        .init("dynamic_min", .bytes, default: "(half of configured memory)", "XenServer memory-dynamic-min: the lowest target squeezed sets"),
        .init("dynamic_max", .bytes, default: "(configured memory)", "XenServer memory-dynamic-max: the highest target squeezed sets"),
        .init("proxmox_shares", .int, default: "1000", "Proxmox auto-balloon shares weight (0 excludes the VM)"),
        .init("static_target", .bytes, default: "0B", "balloon size the static policy holds"),
    ]

    public init(from decoder: Decoder) throws {
        self.init()
        let d = try ParameterDecoder(decoder)
        try d.get("driver", &driver); try d.get("max", &max); try d.get("rate", &rate)
        try d.get("poll_interval", &poll_interval); try d.get("deflate_on_oom", &deflate_on_oom)
        try d.getOptional("minimum", &minimum)
        try d.getOptional("dynamic_min", &dynamic_min); try d.getOptional("dynamic_max", &dynamic_max)
        try d.get("proxmox_shares", &proxmox_shares); try d.get("static_target", &static_target)
    }

    public func encode(to encoder: Encoder) throws {
        var e = ParameterEncoder(encoder)
        try e.set("driver", driver); try e.set("max", max); try e.set("rate", rate)
        try e.set("poll_interval", poll_interval); try e.set("deflate_on_oom", deflate_on_oom)
        try e.setIfPresent("minimum", minimum)
        try e.setIfPresent("dynamic_min", dynamic_min); try e.setIfPresent("dynamic_max", dynamic_max)
        try e.set("proxmox_shares", proxmox_shares); try e.set("static_target", static_target)
    }

    /// Problems that do not depend on the VM's memory size.
    public func validationProblems() -> [ParameterProblem] {
        var p: [ParameterProblem] = []
        checkFraction("max", max, &p)
        if rate.pages < 1 { p.append(("rate", "must be at least one 4KiB page per second; got \(rate)")) }
        checkPositive("poll_interval", poll_interval, &p)
        if proxmox_shares < 0 || proxmox_shares > 50_000 {
            p.append(("proxmox_shares", "must be between 0 and 50000 (Proxmox's range); got \(proxmox_shares)"))
        }
        if let lo = dynamic_min, let hi = dynamic_max, lo > hi {
            p.append(("dynamic_min", "must not exceed dynamic_max (\(hi)); got \(lo)"))
        }
        return p
    }

    /// All problems for a VM with `configured` memory: sizes within configured memory,
    /// dynamic_min ≤ dynamic_max, dynamic_min at least a quarter of configured memory
    /// (XenServer's stability constraint static-max ≤ 4 × dynamic-min, which CloudStack's
    /// XenServer resource also applies).
    public func validationProblems(configured: ByteCount) -> [ParameterProblem] {
        var p = validationProblems()
        let cfg = configured.pages
        for (key, v) in [("minimum", minimum), ("dynamic_min", dynamic_min), ("dynamic_max", dynamic_max)] {
            if let v, v.pages > cfg { p.append((key, "must not exceed the VM's configured memory (\(configured)); got \(v)")) }
        }
        let lo = dynamicMinPages(configuredPages: cfg), hi = dynamicMaxPages(configuredPages: cfg)
        if dynamic_min == nil || dynamic_max == nil, lo > hi {
            p.append(("dynamic_min", "must not exceed dynamic_max (\(ByteCount.pages(hi))); got \(ByteCount.pages(lo))"))
        }
        if lo * 4 < cfg {
            p.append(("dynamic_min", "must be at least a quarter of configured memory (\(ByteCount.pages((cfg + 3) / 4))), as XenServer requires; got \(ByteCount.pages(lo))"))
        }
        if static_target.pages > maxBalloonPages(configuredPages: cfg) {
            p.append(("static_target", "must not exceed the largest balloon (max \(max) of \(configured)); got \(static_target)"))
        }
        return p
    }
}
