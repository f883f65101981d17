import OvercommitSupport

/// /sys/kernel/mm/transparent_hugepage/enabled (Linux mm/huge_memory.c,
/// Documentation/admin-guide/mm/transhuge.rst): which anonymous mappings get 2 MiB pages.
public enum TransparentHugepageMode: String, CaseIterable, Codable, Sendable {
    /// Every private anonymous mapping (except MADV_NOHUGEPAGE ranges).
    case always
    /// Only ranges given MADV_HUGEPAGE.
    case madvise
    /// No transparent huge pages; khugepaged does not run.
    case never
}

extension TransparentHugepageMode: ParameterChoice {
    public static var choiceNoun: String { "transparent_hugepage mode" }
}

/// khugepaged's tunables, /sys/kernel/mm/transparent_hugepage/khugepaged/* (Linux
/// mm/khugepaged.c), with Linux's defaults: `khugepaged_pages_to_scan = HPAGE_PMD_NR * 8`,
/// `khugepaged_scan_sleep_millisecs = 10000`, `khugepaged_alloc_sleep_millisecs = 60000`,
/// `khugepaged_max_ptes_none = HPAGE_PMD_NR - 1`, `khugepaged_max_ptes_swap = HPAGE_PMD_NR / 8`,
/// `khugepaged_max_ptes_shared = HPAGE_PMD_NR / 2`.
public struct KhugepagedConfig: ParameterTable {
    /// pages_to_scan: page-table entries examined per wakeup (a 2 MiB range counts 512).
    public var pages_to_scan: Int = 4096
    /// scan_sleep_millisecs: sleep between two wakeups.
    public var scan_sleep_millisecs: Int = 10_000
    /// alloc_sleep_millisecs: sleep after a failed huge page allocation.
    public var alloc_sleep_millisecs: Int = 60_000
    /// max_ptes_none: most empty (or zero-page) PTEs a range may have and still be collapsed.
    public var max_ptes_none: Int = 511
    /// max_ptes_swap: most swapped-out PTEs a range may have (they are swapped in first).
    public var max_ptes_swap: Int = 64
    /// max_ptes_shared: most PTEs mapping pages shared with another process (after fork).
    public var max_ptes_shared: Int = 256

    public init() {}

    public static let tableName = "guest.kernel.transparent_hugepage.khugepaged"
    public static let tableSummary =
        "khugepaged (Linux mm/khugepaged.c): collapses 2 MiB ranges of small pages into huge pages; sysfs tunables with Linux's defaults."
    public static let fields: [ParameterField<Self>] = [
        .init(
            \.pages_to_scan, "pages_to_scan", "page-table entries examined per wakeup (each 2 MiB range counts 512)",
            .range(1...134_217_728, because: "the pages of the largest guest"), unit: "pages"),
        .init(
            \.scan_sleep_millisecs, "scan_sleep_millisecs", "sleep between two wakeups",
            .range(1...3_600_000, because: "a period of 1 ms to 1 hour"), unit: "ms"),
        .init(
            \.alloc_sleep_millisecs, "alloc_sleep_millisecs", "sleep after a huge page allocation failed",
            .range(1...3_600_000, because: "a period of 1 ms to 1 hour"), unit: "ms"),
        .init(
            \.max_ptes_none, "max_ptes_none", "most empty or zero-page PTEs a 2 MiB range may have and still be collapsed (they become zero-filled memory)",
            .range(0...511, because: "HPAGE_PMD_NR - 1"), unit: "PTEs"),
        .init(
            \.max_ptes_swap, "max_ptes_swap", "most swapped-out PTEs a range may have; they are swapped in before the collapse",
            .range(0...511, because: "HPAGE_PMD_NR - 1"), unit: "PTEs"),
        .init(
            \.max_ptes_shared, "max_ptes_shared", "most PTEs mapping a page another process also maps (after fork)",
            .range(0...511, because: "HPAGE_PMD_NR - 1"), unit: "PTEs"),
    ]
}

/// Transparent huge pages of anonymous memory in the guest (Linux mm/huge_memory.c,
/// mm/khugepaged.c, Documentation/admin-guide/mm/transhuge.rst).
///
/// The default is `never`, not Linux's: the upstream Kconfig default
/// (CONFIG_TRANSPARENT_HUGEPAGE_ALWAYS, mm/Kconfig) and RHEL and Debian kernels use `always`,
/// Ubuntu `madvise`; `never` keeps every existing scenario's figures as they were. `defrag`
/// is not modelled: a huge page is taken only from a free order-9 block above the low
/// watermark, never by direct compaction or reclaim (what `defrag=never` does).
public struct TransparentHugepageConfig: ParameterTable {
    /// transparent_hugepage/enabled.
    public var enabled: TransparentHugepageMode = .never
    /// khugepaged's tunables.
    public var khugepaged = KhugepagedConfig()

    public init() {}

    public static let tableName = "guest.kernel.transparent_hugepage"
    public static let tableSummary =
        "Transparent huge pages of anonymous memory (Linux mm/huge_memory.c): 2 MiB pages on faults, and khugepaged; off by default (Linux's default is always)."
    public static let fields: [ParameterField<Self>] = [
        .init(
            \.enabled, "enabled",
            "always: every private anonymous mapping; madvise: MADV_HUGEPAGE ranges only; never: none (Linux's default is always; never keeps older scenarios' figures)"
        ),
        .init(\.khugepaged, "khugepaged", "khugepaged's tunables (/sys/kernel/mm/transparent_hugepage/khugepaged)"),
    ]
}
