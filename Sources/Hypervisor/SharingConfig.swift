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
public struct SharingConfig: ParameterTable {
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
    /// KSM merge_across_nodes: 1 merges identical pages whatever NUMA node their frames are
    /// on; 0 merges only pages on the same node (one stable tree per node, as ESXi shares
    /// per node).
    public var merge_across_nodes: Int = 1

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
    public static let fields: [ParameterField<Self>] = [
        .init(\.enabled, "enabled", "run the page-sharing scanner"),
        .init(
            \.pages_to_scan, "pages_to_scan", "KSM: pages scanned per wake-up, all VMs together",
            .range(1...1_000_000), unit: "pages", unset: "\(defaultPagesToScan) (KSM)"),
        .init(
            \.sleep_millisecs, "sleep_millisecs", "KSM: milliseconds between wake-ups",
            .range(1...60_000), unit: "ms", unset: "\(defaultSleepMillisecs) (KSM)"),
        .init(
            \.scan_rate_per_vm, "scan_rate_per_vm", "ESX: pages per second scanned in each VM (ESX 2.x: 50); excludes the KSM keys",
            .above(0, atMost: 1e8), unit: "pages/s", unset: "(unset)"),
        .init(
            \.scan_rate_total, "scan_rate_total", "ESX: cap on pages per second over all VMs (ESX 2.x: 200)",
            .above(0, atMost: 1e9), unit: "pages/s", unset: "(unset)"),
        .init(
            \.share_scan_time, "share_scan_time", "ESX Mem.ShareScanTime: time to scan each VM's memory once (ESXi: 60min)",
            .period, unset: "(unset)"),
        .init(
            \.scan_tick, "scan_tick", "ESX vocabulary: how often the scanner wakes up to spend the per-VM and total rates (KSM: sleep_millisecs)",
            .range(.ms(1) ... .seconds(60))),
        .init(\.scan_order, "scan_order", "page order within a VM: sequential (KSM) or random (ESX)"),
        .init(
            \.salting, "salting", "ESX Mem.ShareForceSalting: 0 inter-VM sharing; 1 salt=pshare_salt else common; 2 salt=pshare_salt else per VM",
            .range(0...2).described(as: "0, 1 or 2 (ESX Mem.ShareForceSalting)")),
        .init(\.use_zero_pages, "use_zero_pages", "zero pages share one host-wide zero frame regardless of salt (KSM use_zero_pages)"),
        .init(
            \.max_page_sharing, "max_page_sharing", "KSM: mappings of one shared frame before another copy starts",
            .range(2...1_000_000, because: "KSM refuses < 2")),
        .init(\.precompute_large_page_hashes, "precompute_large_page_hashes", "ESX: hash subpages of large pages so they share as soon as the page is broken"),
        .init(
            \.merge_across_nodes, "merge_across_nodes",
            "KSM merge_across_nodes: 1 merges pages of different NUMA nodes (the kernel's default); 0 only within a node (ESXi shares per node)",
            .range(0...1).described(as: "0 or 1 (KSM merge_across_nodes)")),
    ]

    /// The two rate vocabularies are exclusive; the per-VM rate is set once.
    public func consistencyProblems() -> [ParameterProblem] {
        var p: [ParameterProblem] = []
        if usesESXRates && (pages_to_scan != nil || sleep_millisecs != nil) {
            p.append(
                (
                    "pages_to_scan",
                    "the KSM keys (pages_to_scan, sleep_millisecs) and the ESX keys (scan_rate_per_vm, scan_rate_total, share_scan_time) set the same scan rate: use one vocabulary"
                ))
        }
        if scan_rate_per_vm != nil && share_scan_time != nil {
            p.append(("share_scan_time", "scan_rate_per_vm and share_scan_time both set the per-VM rate: use one"))
        }
        return p
    }
}

extension SharingConfig.ScanOrder: ParameterChoice {
    public static var choiceNoun: String { "scan order" }
}

/// The host's compression cache (ESX memory compression, after Linux zswap's accept rule).
public struct CompressionConfig: ParameterTable {
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
    public static let fields: [ParameterField<Self>] = [
        .init(\.enabled, "enabled", "compress pages chosen for host swap-out first"),
        .init(\.codec, "codec", "compression codec (a real library run on the page bytes)", choices: codecNames, noun: "codec"),
        .init(
            \.threshold, "threshold", "keep a page compressed only if it shrinks below this share of 4 KiB (ESX: 2 KiB)",
            .above(.percent(0), atMost: .percent(100))),
        .init(\.cache_size, "cache_size", "compression cache limit per VM, share of configured memory (ESX Mem.MemZipMaxPct)", .share),
    ]

    /// Names of the codecs this build can run.
    public static var codecNames: [String] { CodecKind.allCases.map(\.rawValue) }
}

/// Host swap: one swap file per VM, sized configured memory - reservation (ESX `.vswp`).
public struct HostSwapConfig: ParameterTable {
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
    public static let fields: [ParameterField<Self>] = [
        .init(\.enabled, "enabled", "allow host swapping"),
        .init(\.device, "device", "device of the swap files: hdd, ssd, nvme, ramdisk (latency and bandwidth presets)"),
        .init(\.read_latency, "read_latency", "override the latency of one page read (swap-in)", .cost, unset: "(preset)"),
        .init(\.write_latency, "write_latency", "override the latency of one page write (swap-out)", .cost, unset: "(preset)"),
        .init(
            \.bandwidth, "bandwidth",
            "bytes per second (presets: hdd 150MiB, ssd 500MiB, nvme 2000MiB, ramdisk 8000MiB); adds 4 KiB / bandwidth per page and caps the swap-out rate",
            .atLeastOnePage, unit: "per second", unset: "(preset)"),
        .init(\.victim_selection, "victim_selection", "random pages (ESX) or pages whose EPT accessed bit is clear (CLOCK)"),
    ]
}

extension HostSwapConfig.VictimSelection: ParameterChoice {
    public static var choiceNoun: String { "victim selection" }
}
