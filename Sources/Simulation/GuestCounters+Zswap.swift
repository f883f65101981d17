import GuestKernel
import OvercommitSupport

extension GuestCounters {
    /// zswap's own figures, under the names of /sys/kernel/debug/zswap (Linux mm/zswap.c);
    /// zero unless the guest runs zswap (`kernel.zswap.enabled`). The pool's size and the
    /// pages it holds are also /proc/meminfo's Zswap and Zswapped, its traffic vmstat's
    /// zswpin, zswpout and zswpwb.
    public struct ZswapGroup: CounterGroup {
        public static let key = "zswap"

        static func stats(_ s: GuestState) -> CompressedSwapStats? {
            s.meminfo.compressedSwap.isZswap ? s.meminfo.compressedSwap : nil
        }

        public let poolTotalSize = GuestCounter.gauge(
            "pool_total_size", .bytes, sampled: true, "guest memory the zswap pool (zsmalloc) occupies",
            also: [.zswapZram("pool_total_size")]
        ) { (stats($0)?.poolPages ?? 0) * 4096 }
        public let storedPages = GuestCounter.gauge(
            "stored_pages", .count, sampled: true, "pages held in zswap, same-filled ones included",
            also: [.zswapZram("stored_pages")]
        ) { stats($0)?.storedPages ?? 0 }
        public let sameFilledPages = GuestCounter.gauge(
            "same_filled_pages", .count, "pages held as one repeated word, with no pool memory",
            also: [.zswapZram("same_filled_pages")]
        ) { stats($0)?.sameFilledPages ?? 0 }
        public let poolLimitHit = GuestCounter.events(
            "pool_limit_hit", "stores refused because the pool was at max_pool_percent (or not yet back to the accept threshold)",
            also: [.zswapZram("pool_limit_hit")]
        ) { $0.vmstat.zswap_pool_limit_hit }
        public let rejectCompressPoor = GuestCounter.events(
            "reject_compress_poor", "stores refused because the page did not compress below a page",
            also: [.zswapZram("reject_compress_poor")]
        ) { $0.vmstat.zswap_reject_compress_poor }
        public let rejectAllocFail = GuestCounter.events(
            "reject_alloc_fail", "stores refused because the pool could not get a page",
            also: [.zswapZram("reject_alloc_fail")]
        ) { $0.vmstat.zswap_reject_alloc_fail }
    }

    /// A zram swap device's figures, under the names of /sys/block/zram0/mm_stat and io_stat
    /// (Linux drivers/block/zram); zero unless the guest swaps to zram (`swap.kind: zram`).
    public struct ZramGroup: CounterGroup {
        public static let key = "zram"

        static func stats(_ s: GuestState) -> CompressedSwapStats? {
            s.meminfo.compressedSwap.isZram ? s.meminfo.compressedSwap : nil
        }

        public let origDataSize = GuestCounter.gauge(
            "orig_data_size", .bytes, sampled: true, "uncompressed size of the pages stored in the device",
            also: [.zswapZram("mm_stat orig_data_size")]
        ) { (stats($0)?.storedPages ?? 0) * 4096 }
        public let comprDataSize = GuestCounter.gauge(
            "compr_data_size", .bytes, "compressed size of the pages stored (uncompressed huge pages count 4096)",
            also: [.zswapZram("mm_stat compr_data_size")]
        ) { stats($0)?.compressedBytes ?? 0 }
        public let memUsedTotal = GuestCounter.gauge(
            "mem_used_total", .bytes, sampled: true, "guest memory the device's zsmalloc pool occupies",
            also: [.zswapZram("mm_stat mem_used_total")]
        ) { (stats($0)?.poolPages ?? 0) * 4096 }
        public let samePages = GuestCounter.gauge(
            "same_pages", .count, "pages stored as one repeated word, with no pool memory",
            also: [.zswapZram("mm_stat same_pages")]
        ) { stats($0)?.sameFilledPages ?? 0 }
        public let hugePages = GuestCounter.gauge(
            "huge_pages", .count, "pages stored uncompressed (compressed length at least zsmalloc's huge_class_size)",
            also: [.zswapZram("mm_stat huge_pages")]
        ) { stats($0)?.hugePages ?? 0 }
        public let failedWrites = GuestCounter.events(
            "failed_writes", "writes refused (mem_limit reached, or no page for the pool): the page stayed in memory",
            also: [.zswapZram("io_stat failed_writes")]
        ) { $0.vmstat.zram_failed_writes }
    }
}
