/// Time costs of memory events, after the effective-access-time model of demand paging
/// (EAT = (1 - p) * ma + p * fault_time; Silberschatz, Galvin and Gagne, "Operating System
/// Concepts", chapter "Virtual Memory", "Performance of Demand Paging") and the latencies of
/// real devices.
///
/// Every cost is configurable in the scenario's `costs:` table; defaults are documented
/// in `docs/cost-model.md`.
public struct CostModel: ParameterTable {
    /// Time of one memory access that hits (ma).
    public var memory_access: SimDuration = .ns(100)
    /// Minor fault: mapping a page already in memory (zero page, page cache, swap cache, COW
    /// of the zero page excluded), no I/O.
    public var minor_fault: SimDuration = .ns(1_000)
    /// Zero-filling a fresh frame (a 4 KiB page write), on top of the minor fault.
    public var zero_fill: SimDuration = .ns(1_000)
    /// Copying a 4 KiB page (guest copy-on-write after fork).
    public var page_copy: SimDuration = .ns(1_000)
    /// Reading a file page from the guest's disk (page-cache miss).
    public var file_read: SimDuration = .us(100)
    /// Host: copying a shared page on a write (TPS copy-on-write break).
    public var cow_break: SimDuration = .ns(2_000)
    /// Host: hashing one 4 KiB page during a sharing scan.
    public var page_hash: SimDuration = .ns(300)
    /// Host: comparing two 4 KiB pages byte for byte.
    public var page_compare: SimDuration = .ns(400)
    /// Compressing one page: the host's compression cache, and a guest's zswap or zram.
    public var compress: SimDuration = .us(5)
    /// Decompressing one page on access: the host's compression cache, a guest's zswap or zram.
    public var decompress: SimDuration = .us(2)
    /// Host: handling a second-level (EPT) fault before any I/O.
    public var host_fault: SimDuration = .us(2)
    /// Extra time of an access to memory on another NUMA node than the accessing vCPU's
    /// (two-socket x86: remote DRAM about 1.5-2x local, Linux's SLIT distance 21 vs 10).
    public var remote_access: SimDuration = .ns(60)

    public init() {}

    public static let tableName = "costs"
    public static let tableSummary =
        "Time cost of memory events (effective access time of demand paging, EAT = (1-p)*ma + p*fault, as in Silberschatz et al., Operating System Concepts; device latencies are in swap device presets)."
    public static let fields: [ParameterField<Self>] = [
        .init(\.memory_access, "memory_access", "time of one memory access that hits (ma in EAT = (1-p)*ma + p*fault)", .cost),
        .init(\.minor_fault, "minor_fault", "a fault served without I/O: map the zero page, a page-cache or swap-cache page", .cost),
        .init(\.zero_fill, "zero_fill", "zeroing a fresh frame on the first write (added to the minor fault)", .cost),
        .init(\.page_copy, "page_copy", "copying a page for a guest copy-on-write fault", .cost),
        .init(\.file_read, "file_read", "reading one file page from the guest's disk on a page-cache miss", .cost),
        .init(\.cow_break, "cow_break", "host: private copy of a shared page on a guest write", .cost),
        .init(\.page_hash, "page_hash", "host: hashing one page (xxHash) in a sharing scan", .cost),
        .init(\.page_compare, "page_compare", "host: full 4096-byte comparison of two pages", .cost),
        .init(\.compress, "compress", "compressing one page (host compression cache; guest zswap and zram)", .cost),
        .init(\.decompress, "decompress", "decompressing one page on access (host compression cache; guest zswap and zram)", .cost),
        .init(\.host_fault, "host_fault", "host: a second-level (EPT/NPT) fault before any I/O", .cost),
        .init(
            \.remote_access, "remote_access",
            "added to memory_access for an access to a frame on another NUMA node (two-socket x86: remote about 1.5-2x local)", .cost),
    ]
}

/// A block device preset: latency of one 4 KiB page read or write.
///
/// HDD ~5 ms (average seek plus half a rotation of a 7200 rpm disk, 4.17 ms), SATA SSD ~100 us,
/// NVMe ~20 us.
public enum DevicePreset: String, CaseIterable, Codable, Sendable {
    case hdd, ssd, nvme, ramdisk
    public var readLatency: SimDuration {
        switch self {
        case .hdd: .ms(5);
        case .ssd: .us(100);
        case .nvme: .us(20);
        case .ramdisk: .us(2)
        }
    }
    public var writeLatency: SimDuration {
        switch self {
        case .hdd: .ms(5);
        case .ssd: .us(60);
        case .nvme: .us(15);
        case .ramdisk: .us(2)
        }
    }
    /// Sequential bandwidth: a 7200 rpm disk ~150 MB/s, a SATA SSD ~500 MB/s, an NVMe drive
    /// ~2 GB/s, memory-backed ~8 GB/s.
    public var bandwidth: ByteCount {
        switch self {
        case .hdd: .mib(150);
        case .ssd: .mib(500);
        case .nvme: .mib(2000);
        case .ramdisk: .mib(8000)
        }
    }
}

/// What a guest's swap area lives on.
public enum SwapKind: String, CaseIterable, Codable, Sendable {
    /// A block device (partition or swap file on a disk): `device` gives its latency.
    case disk
    /// A zram device (Linux drivers/block/zram): a RAM disk of `size` (its `disksize`) whose
    /// pages are kept compressed in guest RAM.
    case zram
}

extension SwapKind: ParameterChoice {
    public static var choiceNoun: String { "swap kind" }
}

/// A swap device: a disk with a preset and optional latency overrides, or a zram device.
///
/// A guest has one swap area, so a zram device replaces the disk rather than sitting in
/// front of it at a higher priority as `swapon -p` would arrange.
public struct SwapDeviceConfig: ParameterTable {
    /// Size of the swap area (0 = no swap); for zram its disksize.
    public var size: ByteCount = .gib(1)
    /// A disk or a zram device.
    public var kind: SwapKind = .disk
    /// Device preset.
    public var device: DevicePreset = .ssd
    /// Read latency of one page; defaults to the preset's.
    public var read_latency: SimDuration? = nil
    /// Write latency of one page; defaults to the preset's.
    public var write_latency: SimDuration? = nil
    /// zram's /sys/block/zram0/comp_algorithm (Linux's default lzo-rle is not in this build;
    /// lz4 is the fast codec it has). A codec name, checked where the codecs are known.
    public var comp_algorithm: String = "lz4"
    /// zram's /sys/block/zram0/mem_limit: most guest RAM the device may use (nil: no limit).
    public var mem_limit: ByteCount? = nil

    public init() {}
    public init(size: ByteCount, device: DevicePreset) { self.size = size; self.device = device }
    public init(zram size: ByteCount, compAlgorithm: String = "lz4", memLimit: ByteCount? = nil) {
        self.size = size; self.kind = .zram; self.comp_algorithm = compAlgorithm; self.mem_limit = memLimit
    }

    public var effectiveReadLatency: SimDuration { read_latency ?? device.readLatency }
    public var effectiveWriteLatency: SimDuration { write_latency ?? device.writeLatency }

    public static let tableName = "swap"
    public static let tableSummary = "A guest's swap area: on a block device (a Linux swap partition) or on a zram device in guest RAM."
    public static let fields: [ParameterField<Self>] = [
        .init(\.size, "size", "size of the swap area (zram: its disksize); 0 disables swap", .atMost(.tib(1))),
        .init(\.kind, "kind", "disk: a block device with the device's latency; zram: pages compressed in guest RAM (drivers/block/zram)"),
        .init(\.device, "device", "latency preset: hdd 5ms, ssd 100us read/60us write, nvme 20us/15us, ramdisk 2us"),
        .init(\.read_latency, "read_latency", "override the preset's latency of one page read", .cost, unset: "(preset)"),
        .init(\.write_latency, "write_latency", "override the preset's latency of one page write", .cost, unset: "(preset)"),
        .init(\.comp_algorithm, "comp_algorithm", "zram: codec compressing the pages (a registered codec: overcommit policies lists them)"),
        .init(
            \.mem_limit, "mem_limit", "zram: most guest RAM the device may use; a write past it fails and the page stays in memory",
            .range(.kib(4) ... .gib(512), because: "the largest guest"), unset: "(no limit)"),
    ]

    /// Problems between keys: the zram keys only with `kind: zram`.
    public func consistencyProblems() -> [ParameterProblem] {
        guard kind == .disk else { return [] }
        var p: [ParameterProblem] = []
        if mem_limit != nil { p.append(("mem_limit", "applies to a zram device only (kind: zram)")) }
        if comp_algorithm != SwapDeviceConfig().comp_algorithm { p.append(("comp_algorithm", "applies to a zram device only (kind: zram)")) }
        return p
    }
}
