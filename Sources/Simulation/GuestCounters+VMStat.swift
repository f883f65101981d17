import GuestKernel
import OvercommitSupport

extension GuestCounters {
    /// The guest's /proc/vmstat event counters, totals since boot: Linux's names where Linux
    /// has the counter (and its unit: pgpgin and pgpgout in kB), the simulator's own beside them.
    public struct VMStatGroup: CounterGroup {
        public static let key = "vmstat"

        /// A count of events under the simulator's own name.
        static func count(
            _ name: String, sampled: Bool = false, _ summary: String, also: [Equivalent] = [],
            _ read: @escaping @Sendable (VMStat) -> Int
        ) -> GuestCounter {
            .events(name, sampled: sampled, summary, also: also) { read($0.vmstat) }
        }

        /// A count of events under Linux's /proc/vmstat name.
        static func linux(
            _ name: String, sampled: Bool = false, _ summary: String, also: [Equivalent] = [],
            _ read: @escaping @Sendable (VMStat) -> Int
        ) -> GuestCounter {
            .events(name, sampled: sampled, summary, also: [.vmstat(name)] + also) { read($0.vmstat) }
        }

        public let accesses = count("accesses", sampled: true, "memory references and one-page file I/O calls") { $0.accesses }
        public let pgfault = linux("pgfault", sampled: true, "page faults (minor and major)", also: [.dommemstat("minor_fault + major_fault")]) {
            $0.pgfault
        }
        public let pgmajfault = linux("pgmajfault", sampled: true, "major faults (swap-in or file read)", also: [.dommemstat("major_fault")]) {
            $0.pgmajfault
        }
        public let zeroFills = count("zero_fills", "first writes that zero-filled a frame") { $0.zeroFills }
        public let cowCopies = count("cow_copies", "copy-on-write copies") { $0.cowCopies }
        public let zeroPageMaps = count("zero_page_maps", "reads that mapped the shared zero page") { $0.zeroPageMaps }
        public let pswpin = linux("pswpin", sampled: true, "pages read from swap (incl. readahead)", also: [.dommemstat("swap_in (kB)")]) {
            $0.pswpin
        }
        public let pswpout = linux("pswpout", sampled: true, "pages written to swap", also: [.dommemstat("swap_out (kB)")]) { $0.pswpout }
        public let swapCacheHits = count("swap_cache_hit", "swap faults served by the swap cache") { $0.swapCacheHits }
        public let swapWritesAvoided = count("swap_write_avoided", "evictions of clean swap-cache pages (no write)") { $0.swapWritesAvoided }
        public let pgpgin = GuestCounter.events(
            "pgpgin", unit: .kilobytes, "kB read from disk into the page cache (swap-ins: pswpin)",
            also: [.vmstat("pgpgin")]
        ) { $0.vmstat.pgpgin * 4 }
        public let pgpgout = GuestCounter.events("pgpgout", unit: .kilobytes, "kB written to disk or swap", also: [.vmstat("pgpgout")]) {
            $0.vmstat.pgpgout * 4
        }
        public let fileReads = count("file_read", "file pages read on page-cache misses") { $0.fileReads }
        public let readahead = count("readahead", "file pages brought in by read-ahead with the miss before them") { $0.readahead }
        public let writebacks = count("writeback", "dirty page-cache pages written back", also: [.vmstat("≈ nr_written")]) { $0.writebacks }
        public let pgscanKswapd = linux("pgscan_kswapd", "pages isolated for reclaim by kswapd") { $0.pgscan_kswapd }
        public let pgscanDirect = linux("pgscan_direct", "pages isolated for reclaim by direct reclaim") { $0.pgscan_direct }
        public let pgstealKswapd = linux("pgsteal_kswapd", "pages reclaimed by kswapd") { $0.pgsteal_kswapd }
        public let pgstealDirect = linux("pgsteal_direct", "pages reclaimed by direct reclaim") { $0.pgsteal_direct }
        public let pgactivate = linux("pgactivate", "pages promoted to an active list") { $0.pgactivate }
        public let pgdeactivate = linux("pgdeactivate", "pages moved to an inactive list") { $0.pgdeactivate }
        public let pgrotated = linux("pgrotated", "referenced pages given a second round") { $0.pgrotated }
        public let kswapdWakeups = count("kswapd_wakeups", "kswapd runs that had work", also: [.vmstat("≈ pageoutrun")]) { $0.kswapd_wakeups }
        public let allocstall = linux("allocstall", "allocations that entered direct reclaim (Linux: allocstall_<zone>, summed)") {
            $0.allocstall
        }
        public let workingsetRefault = linux(
            "workingset_refault", sampled: true,
            "faults on pages evicted earlier (Linux 5.9+: workingset_refault_anon + _file)"
        ) {
            $0.workingset_refault
        }
        public let workingsetActivate = linux("workingset_activate", "refaulted pages activated at once (short refault distance)") {
            $0.workingset_activate
        }
        public let oomKill = linux("oom_kill", sampled: true, "processes killed by the OOM killer") { $0.oom_kill }
        public let refusedAllocations = count("refused_allocations", sampled: true, "allocations refused by the overcommit policy") {
            $0.refusedAllocations
        }
        public let segfaults = count("segfaults", "accesses outside any region or against its protection") { $0.segfaults }
        public let balloonInflate = linux("balloon_inflate", "pages the balloon driver inflated (allocated, pinned, handed to the host)") {
            $0.balloon_inflate
        }
        public let balloonDeflate = linux("balloon_deflate", "pages the balloon driver deflated (given back to the guest)") {
            $0.balloon_deflate
        }
        public let balloonInflateFailed = count("balloon_inflate_failed", "inflations cut short: no free page even after direct reclaim") {
            $0.balloon_inflate_failed
        }
        public let balloonOOMDeflates = count("balloon_oom_deflates", "OOM notifications answered by deflating (DEFLATE_ON_OOM)") {
            $0.balloon_oom_deflates
        }
        public let freePageReports = count("free_page_reports", sampled: true, "free page reporting requests sent to the balloon device") {
            $0.free_page_reports
        }
        public let freePagesReported = count("free_pages_reported", sampled: true, "pages in the free blocks reported to the host (page_reporting)") {
            $0.free_pages_reported
        }
        public let madviseCalls = count("madvise_calls", "madvise(2) calls that succeeded (mm/madvise.c)") { $0.madvise_calls }
        public let pglazyfree = linux("pglazyfree", "pages made lazily freeable by MADV_FREE") { $0.pglazyfree }
        public let pglazyfreed = linux("pglazyfreed", "lazily freeable pages reclaim discarded without swapping") { $0.pglazyfreed }
        public let zswpin = linux("zswpin", sampled: true, "pages loaded (decompressed) from the zswap pool on swap-in") { $0.zswpin }
        public let zswpout = linux("zswpout", sampled: true, "pages stored in the zswap pool on swap-out (instead of a device write)") { $0.zswpout }
        public let zswpwb = linux("zswpwb", "zswap entries written back to the swap device (debugfs written_back_pages)") { $0.zswpwb }
    }
}
