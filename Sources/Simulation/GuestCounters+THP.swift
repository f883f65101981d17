import GuestKernel
import OvercommitSupport

extension GuestCounters {
    /// Transparent huge pages in the guest: /proc/vmstat's thp_* events under Linux's names
    /// (mm/huge_memory.c, mm/khugepaged.c) and khugepaged's sysfs counters
    /// (/sys/kernel/mm/transparent_hugepage/khugepaged); zero unless the guest runs with
    /// `kernel.transparent_hugepage.enabled` always or madvise. The memory in huge pages is
    /// /proc/meminfo AnonHugePages.
    public struct THPGroup: CounterGroup {
        public static let key = "thp"

        static func vmstat(_ name: String, sampled: Bool = false, _ summary: String, _ read: @escaping @Sendable (VMStat) -> Int) -> GuestCounter {
            .events(name, sampled: sampled, summary, also: [.vmstat(name)]) { read($0.vmstat) }
        }

        public let faultAlloc = vmstat("thp_fault_alloc", sampled: true, "huge pages allocated and zero-filled on a page fault") { $0.thp_fault_alloc }
        public let faultFallback = vmstat(
            "thp_fault_fallback", "faults that wanted a huge page and got a small one (no free order-9 block above the low watermark)"
        ) { $0.thp_fault_fallback }
        public let collapseAlloc = vmstat("thp_collapse_alloc", "huge pages khugepaged allocated for a collapse") { $0.thp_collapse_alloc }
        public let collapseAllocFailed = vmstat("thp_collapse_alloc_failed", "huge page allocations khugepaged failed (it then sleeps alloc_sleep_millisecs)") {
            $0.thp_collapse_alloc_failed
        }
        public let splitPage = vmstat("thp_split_page", sampled: true, "huge pages split into small pages (COW, partial unmap or madvise, reclaim)") {
            $0.thp_split_page
        }
        public let splitPMD = vmstat("thp_split_pmd", "PMD mappings of huge pages split (one per process mapping a split huge page)") { $0.thp_split_pmd }
        public let pagesCollapsed = GuestCounter.events(
            "pages_collapsed", sampled: true, "huge pages khugepaged made by collapsing small pages (khugepaged/pages_collapsed)"
        ) { $0.vmstat.khugepaged_pages_collapsed }
        public let fullScans = GuestCounter.events("full_scans", "khugepaged's complete passes over every address space (khugepaged/full_scans)") {
            $0.vmstat.khugepaged_full_scans
        }
    }
}
