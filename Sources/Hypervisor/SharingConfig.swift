import OvercommitSupport
import PageContents

/// Transparent page sharing settings, in both vocabularies users know: Linux KSM's
/// (`/sys/kernel/mm/ksm/pages_to_scan`, `sleep_millisecs`, `max_page_sharing`,
/// `use_zero_pages`) and VMware ESX's (per-VM and total scan rates of ESX 2.x,
/// `Mem.ShareScanTime`, `Mem.ShareForceSalting`).
///
/// The scanner follows KSM's algorithm: a stable set of shared frames, and an unstable set
/// of candidate pages rebuilt at every full scan that a page enters only if its checksum did
/// not change since its previous scan; pages whose checksum changed are volatile.
public struct SharingConfig: ParameterTable, Equatable {
    /// Run the sharing scanner at all.
    public var enabled: Bool = true
    /// KSM: pages scanned per wake-up (all VMs together, one VM after the other).
    public var pages_to_scan: Int? = nil
    /// KSM: sleep between wake-ups, in milliseconds.
    public var sleep_millisecs: Int? = nil
    /// ESX: pages scanned per second in each VM (ESX 2.x: 50).
    public var scan_rate_per_vm: Double? = nil
    /// ESX: pages scanned per second over all VMs (ESX 2.x: 200).
    public var scan_rate_total: Double? = nil
    /// ESX Mem.ShareScanTime: time to scan a VM's whole memory once (today's default 60 min).
    public var share_scan_time: SimDuration? = nil
    /// ESX vocabulary: how often the scanner wakes up to spend the rates above (each VM's
    /// pages accrue as credit between wake-ups). KSM's vocabulary uses `sleep_millisecs`.
    public var scan_tick: SimDuration = .ms(20)
    /// Order pages are visited in each VM: random (ESX) or sequential (KSM).
    public var scan_order: ScanOrder = .sequential
    /// ESX Mem.ShareForceSalting: 0 share across VMs; 1 salt = pshare_salt if set, else shared
    /// across VMs; 2 salt = pshare_salt if set, else per VM (sharing only inside a VM).
    public var salting: Int = 2
    /// KSM use_zero_pages: zero pages map to one host-wide zero frame (never salted; counted in
    /// `zero_pages_sharing`, not in pages_shared).
    public var use_zero_pages: Bool = true
    /// KSM max_page_sharing: mappings of one shared frame before a second copy is started.
    public var max_page_sharing: Int = 256
    /// ESX: hash the 4 KiB subpages of large pages during scans so they can be shared the
    /// moment the large page is broken ("share before swap").
    public var precompute_large_page_hashes: Bool = true

    /// How pages of a VM are visited.
    public enum ScanOrder: String, Codable, Sendable, CaseIterable { case sequential, random }

    public init() {}

    /// KSM's defaults, used when neither vocabulary sets a rate.
    public static let defaultPagesToScan = 100
    public static let defaultSleepMillisecs = 20

    /// True when the ESX vocabulary sets the scan rate.
    public var usesESXRates: Bool { scan_rate_per_vm != nil || scan_rate_total != nil || share_scan_time != nil }

    public static let tableName = "host.sharing"
    public static let tableSummary = "Transparent page sharing (KSM algorithm, ESX or KSM rate vocabulary, ESX salting)."
    public static let parameters: [ParameterInfo] = [
        .init("enabled", .bool, default: "true", "run the page-sharing scanner"),
        .init("pages_to_scan", .int, default: "100 (KSM)", "KSM: pages scanned per wake-up, all VMs together"),
        .init("sleep_millisecs", .int, default: "20 (KSM)", "KSM: milliseconds between wake-ups"),
        .init("scan_rate_per_vm", .double, default: "(unset)", "ESX: pages per second scanned in each VM (ESX 2.x: 50); excludes the KSM keys"),
        .init("scan_rate_total", .double, default: "(unset)", "ESX: cap on pages per second over all VMs (ESX 2.x: 200)"),
        .init("share_scan_time", .duration, default: "(unset)", "ESX Mem.ShareScanTime: time to scan each VM's memory once (ESXi: 60min)"),
        .init("scan_tick", .duration, default: "20ms", "ESX vocabulary: how often the scanner wakes up to spend the per-VM and total rates (KSM: sleep_millisecs)"),
        .init("scan_order", .choice(ScanOrder.allCases.map(\.rawValue)), default: "sequential", "page order within a VM: sequential (KSM) or random (ESX)"),
        .init("salting", .int, default: "2", "ESX Mem.ShareForceSalting: 0 inter-VM sharing; 1 salt=pshare_salt else common; 2 salt=pshare_salt else per VM"),
        .init("use_zero_pages", .bool, default: "true", "zero pages share one host-wide zero frame regardless of salt (KSM use_zero_pages)"),
        .init("max_page_sharing", .int, default: "256", "KSM: mappings of one shared frame before another copy starts"),
        .init("precompute_large_page_hashes", .bool, default: "true", "ESX: hash subpages of large pages so they share as soon as the page is broken"),
    ]

    enum CodingKeys: String, CodingKey {
        case enabled, pages_to_scan, sleep_millisecs, scan_rate_per_vm, scan_rate_total, share_scan_time, scan_tick
        case scan_order, salting, use_zero_pages, max_page_sharing, precompute_large_page_hashes
    }

    public init(from decoder: Decoder) throws {
        let d = try ParameterDecoder(decoder)
        var s = SharingConfig()
        try d.get("enabled", &s.enabled)
        try d.getOptional("pages_to_scan", &s.pages_to_scan)
        try d.getOptional("sleep_millisecs", &s.sleep_millisecs)
        try d.getOptional("scan_rate_per_vm", &s.scan_rate_per_vm)
        try d.getOptional("scan_rate_total", &s.scan_rate_total)
        try d.getOptional("share_scan_time", &s.share_scan_time)
        try d.get("scan_tick", &s.scan_tick)
        try d.get("scan_order", &s.scan_order)
        try d.get("salting", &s.salting)
        try d.get("use_zero_pages", &s.use_zero_pages)
        try d.get("max_page_sharing", &s.max_page_sharing)
        try d.get("precompute_large_page_hashes", &s.precompute_large_page_hashes)
        self = s
    }

    public func encode(to encoder: Encoder) throws {
        var e = ParameterEncoder(encoder)
        try e.set("enabled", enabled)
        try e.setIfPresent("pages_to_scan", pages_to_scan)
        try e.setIfPresent("sleep_millisecs", sleep_millisecs)
        try e.setIfPresent("scan_rate_per_vm", scan_rate_per_vm)
        try e.setIfPresent("scan_rate_total", scan_rate_total)
        try e.setIfPresent("share_scan_time", share_scan_time)
        try e.set("scan_tick", scan_tick)
        try e.set("scan_order", scan_order)
        try e.set("salting", salting)
        try e.set("use_zero_pages", use_zero_pages)
        try e.set("max_page_sharing", max_page_sharing)
        try e.set("precompute_large_page_hashes", precompute_large_page_hashes)
    }

    public func validationProblems() -> [(key: String, message: String)] {
        var p: [(String, String)] = []
        if usesESXRates && (pages_to_scan != nil || sleep_millisecs != nil) {
            p.append(("pages_to_scan", "the KSM keys (pages_to_scan, sleep_millisecs) and the ESX keys (scan_rate_per_vm, scan_rate_total, share_scan_time) set the same scan rate: use one vocabulary"))
        }
        if scan_rate_per_vm != nil && share_scan_time != nil {
            p.append(("share_scan_time", "scan_rate_per_vm and share_scan_time both set the per-VM rate: use one"))
        }
        if let v = pages_to_scan, !(1...1_000_000).contains(v) { p.append(("pages_to_scan", "must be between 1 and 1000000; got \(v)")) }
        if let v = sleep_millisecs, !(1...60_000).contains(v) { p.append(("sleep_millisecs", "must be between 1 and 60000; got \(v)")) }
        if let v = scan_rate_per_vm, !(v > 0 && v <= 1e8) { p.append(("scan_rate_per_vm", "must be a positive number of pages per second up to 1e8; got \(formatShortest(v))")) }
        if let v = scan_rate_total, !(v > 0 && v <= 1e9) { p.append(("scan_rate_total", "must be a positive number of pages per second up to 1e9; got \(formatShortest(v))")) }
        if let v = share_scan_time, v.nanoseconds < 1_000_000 { p.append(("share_scan_time", "must be at least 1ms; got \(v)")) }
        if !(1_000_000...60_000_000_000).contains(scan_tick.nanoseconds) { p.append(("scan_tick", "must be between 1ms and 60s; got \(scan_tick)")) }
        if !(0...2).contains(salting) { p.append(("salting", "must be 0, 1 or 2 (ESX Mem.ShareForceSalting); got \(salting)")) }
        if !(2...1_000_000).contains(max_page_sharing) { p.append(("max_page_sharing", "must be between 2 and 1000000 (KSM refuses < 2); got \(max_page_sharing)")) }
        return p
    }
}

/// The host's compression cache (ESX memory compression, after Linux zswap's accept rule).
public struct CompressionConfig: ParameterTable, Equatable {
    /// Compress pages chosen for host swap-out before swapping them.
    public var enabled: Bool = true
    /// Codec (real library) compressing the page bytes.
    public var codec: String = "lz4"
    /// A page is kept compressed only if its compressed size is below this share of a page.
    public var threshold: Percentage = Percentage(percent: 50)
    /// Cache limit per VM, as a share of its configured memory (ESX Mem.MemZipMaxPct).
    public var cache_size: Percentage = Percentage(percent: 10)

    public init() {}

    public static let tableName = "host.compression"
    public static let tableSummary = "Memory compression cache (ESX 4.1+): pages bound for host swap kept compressed if small enough."
    public static var parameters: [ParameterInfo] { [
        .init("enabled", .bool, default: "true", "compress pages chosen for host swap-out first"),
        .init("codec", .choice(CompressionConfig.codecNames), default: "lz4", "compression codec (a real library run on the page bytes)"),
        .init("threshold", .percent, default: "50%", "keep a page compressed only if it shrinks below this share of 4 KiB (ESX: 2 KiB)"),
        .init("cache_size", .percent, default: "10%", "compression cache limit per VM, share of configured memory (ESX Mem.MemZipMaxPct)"),
    ] }

    /// Names of the codecs this build can run.
    public static var codecNames: [String] { CodecKind.allCases.map(\.rawValue) }

    enum CodingKeys: String, CodingKey { case enabled, codec, threshold, cache_size }
    public init(from decoder: Decoder) throws {
        let d = try ParameterDecoder(decoder)
        var s = CompressionConfig()
        try d.get("enabled", &s.enabled); try d.get("codec", &s.codec)
        try d.get("threshold", &s.threshold); try d.get("cache_size", &s.cache_size)
        self = s
    }
    public func encode(to encoder: Encoder) throws {
        var e = ParameterEncoder(encoder)
        try e.set("enabled", enabled); try e.set("codec", codec)
        try e.set("threshold", threshold); try e.set("cache_size", cache_size)
    }

    public func validationProblems() -> [(key: String, message: String)] {
        var p: [(String, String)] = []
        if !CompressionConfig.codecNames.contains(codec) { p.append(("codec", "unknown codec '\(codec)'; allowed: \(CompressionConfig.codecNames.joined(separator: ", "))")) }
        if !(threshold.fraction > 0 && threshold.fraction <= 1) { p.append(("threshold", "must be above 0% and at most 100%; got \(threshold)")) }
        if !(cache_size.fraction >= 0 && cache_size.fraction <= 1) { p.append(("cache_size", "must be between 0% and 100%; got \(cache_size)")) }
        return p
    }
}

/// Host swap: one swap file per VM, sized configured memory - reservation (ESX `.vswp`).
public struct HostSwapConfig: ParameterTable, Equatable {
    /// Allow host swapping at all.
    public var enabled: Bool = true
    /// Device the swap files live on.
    public var device: DevicePreset = .ssd
    /// Read latency of one page; defaults to the preset's.
    public var read_latency: SimDuration? = nil
    /// Write latency of one page; defaults to the preset's.
    public var write_latency: SimDuration? = nil
    /// Bytes per second the device transfers; defaults to the preset's.
    public var bandwidth: ByteCount? = nil
    /// How victims are chosen: random (ESX: the host cannot know which pages the guest
    /// values) or accessed (skip pages whose EPT accessed bit is set, clearing it: a CLOCK).
    public var victim_selection: VictimSelection = .random

    public enum VictimSelection: String, Codable, Sendable, CaseIterable { case random, accessed }

    public init() {}

    public func validationProblems() -> [(key: String, message: String)] {
        if let b = bandwidth, b.bytes < 4096 { return [("bandwidth", "must be at least one page (4KiB) per second; got \(b)")] }
        return []
    }

    /// Time to transfer one page at the device's bandwidth.
    public var pageTransfer: SimDuration { .ns(Int64(4096.0 / Double(max(1, (bandwidth ?? device.bandwidth).bytes)) * 1e9)) }
    /// One page read (swap-in): latency plus transfer.
    public var readLatency: SimDuration { .ns((read_latency ?? device.readLatency).nanoseconds + pageTransfer.nanoseconds) }
    /// One page write (swap-out): latency plus transfer.
    public var writeLatency: SimDuration { .ns((write_latency ?? device.writeLatency).nanoseconds + pageTransfer.nanoseconds) }
    /// Pages per second the device can write (bounds the host's swap-out rate).
    public var pagesPerSecond: Double { Double((bandwidth ?? device.bandwidth).bytes) / 4096 }

    public static let tableName = "host.swap"
    public static let tableSummary = "Host swap files, one per VM sized configured - reservation (ESX .vswp)."
    public static let parameters: [ParameterInfo] = [
        .init("enabled", .bool, default: "true", "allow host swapping"),
        .init("device", .choice(DevicePreset.allCases.map(\.rawValue)), default: "ssd", "device of the swap files: hdd, ssd, nvme, ramdisk (latency and bandwidth presets)"),
        .init("read_latency", .duration, default: "(preset)", "override the latency of one page read (swap-in)"),
        .init("write_latency", .duration, default: "(preset)", "override the latency of one page write (swap-out)"),
        .init("bandwidth", .bytes, default: "(preset)", "bytes per second (presets: hdd 150MiB, ssd 500MiB, nvme 2000MiB, ramdisk 8000MiB); adds 4 KiB / bandwidth per page and caps the swap-out rate"),
        .init("victim_selection", .choice(VictimSelection.allCases.map(\.rawValue)), default: "random", "random pages (ESX) or pages whose EPT accessed bit is clear (CLOCK)"),
    ]

    enum CodingKeys: String, CodingKey { case enabled, device, read_latency, write_latency, bandwidth, victim_selection }
    public init(from decoder: Decoder) throws {
        let d = try ParameterDecoder(decoder)
        var s = HostSwapConfig()
        try d.get("enabled", &s.enabled); try d.get("device", &s.device)
        try d.getOptional("read_latency", &s.read_latency); try d.getOptional("write_latency", &s.write_latency)
        try d.getOptional("bandwidth", &s.bandwidth)
        try d.get("victim_selection", &s.victim_selection)
        self = s
    }
    public func encode(to encoder: Encoder) throws {
        var e = ParameterEncoder(encoder)
        try e.set("enabled", enabled); try e.set("device", device)
        try e.setIfPresent("read_latency", read_latency); try e.setIfPresent("write_latency", write_latency)
        try e.setIfPresent("bandwidth", bandwidth)
        try e.set("victim_selection", victim_selection)
    }
}
