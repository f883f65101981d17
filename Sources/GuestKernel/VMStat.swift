import OvercommitSupport
import PageContents

/// Per-guest counters, after /proc/vmstat.
public struct VMStat: Sendable, Equatable {
    public var accesses = 0
    public var pgfault = 0
    public var pgmajfault = 0
    public var zeroFills = 0
    public var cowCopies = 0
    public var zeroPageMaps = 0
    public var pswpin = 0
    public var pswpout = 0
    public var pgpgin = 0
    public var pgpgout = 0
    public var pgsteal_kswapd = 0
    public var pgsteal_direct = 0
    public var pgscan_kswapd = 0
    public var pgscan_direct = 0
    public var pgactivate = 0
    public var pgdeactivate = 0
    public var pgrotated = 0
    public var kswapd_wakeups = 0
    public var allocstall = 0
    public var workingset_refault = 0
    public var workingset_activate = 0
    public var swapCacheHits = 0
    public var swapWritesAvoided = 0
    public var fileReads = 0
    /// Pages brought in by read-ahead (no extra I/O latency).
    public var readahead = 0
    public var writebacks = 0
    public var oom_kill = 0
    public var refusedAllocations = 0
    public var segfaults = 0
    /// Pages the balloon driver inflated (allocated, pinned and handed to the host) and deflated.
    public var balloon_inflate = 0
    public var balloon_deflate = 0
    /// Balloon inflations cut short because the allocation failed (no free memory even after
    /// one round of direct reclaim: __GFP_NORETRY).
    public var balloon_inflate_failed = 0
    /// OOM notifications answered by deflating the balloon (virtio-balloon DEFLATE_ON_OOM).
    public var balloon_oom_deflates = 0
    /// Free page reporting: report requests sent to the host (one per full scatterlist of
    /// PAGE_REPORTING_CAPACITY blocks, or the remainder at the end of a pass) and the pages
    /// in the blocks they reported.
    public var free_page_reports = 0
    public var free_pages_reported = 0
    /// madvise(2) calls that succeeded.
    public var madvise_calls = 0
    /// Pages made lazily freeable by MADV_FREE, and lazily freeable pages reclaim discarded
    /// without swapping (/proc/vmstat pglazyfree, pglazyfreed).
    public var pglazyfree = 0
    public var pglazyfreed = 0
    /// zswap: pages loaded from and stored into the pool, and entries written back to the
    /// swap device (/proc/vmstat zswpin, zswpout, zswpwb).
    public var zswpin = 0
    public var zswpout = 0
    public var zswpwb = 0
    /// zswap's refusals (debugfs pool_limit_hit, reject_compress_poor, reject_alloc_fail).
    public var zswap_pool_limit_hit = 0
    public var zswap_reject_compress_poor = 0
    public var zswap_reject_alloc_fail = 0
    /// zram writes that failed: the device's mem_limit, or no memory (io_stat failed_writes).
    public var zram_failed_writes = 0
    /// Transparent huge pages (/proc/vmstat): huge pages allocated on a fault, faults that
    /// fell back to a small page (no free order-9 block above the low watermark), huge pages
    /// khugepaged allocated for a collapse and allocations it failed, huge pages split into
    /// small pages, and PMD mappings split (one per process mapping a split huge page).
    public var thp_fault_alloc = 0
    public var thp_fault_fallback = 0
    public var thp_collapse_alloc = 0
    public var thp_collapse_alloc_failed = 0
    public var thp_split_page = 0
    public var thp_split_pmd = 0
    /// khugepaged's sysfs figures: huge pages made by collapsing small ones, and complete
    /// passes over every address space (/sys/kernel/mm/transparent_hugepage/khugepaged).
    public var khugepaged_pages_collapsed = 0
    public var khugepaged_full_scans = 0
    /// Simulated nanoseconds spent by accesses (hits and faults), for EAT.
    public var accessTimeNs: Int64 = 0
    /// Accesses that hit a frame the host backs on another NUMA node, and the time they added.
    public var numaRemoteAccesses = 0
    public var numaRemoteNs: Int64 = 0
    /// Simulated nanoseconds spent in faults and reclaim beyond the plain access time.
    public var stallNs: Int64 = 0
    public init() {}
}
