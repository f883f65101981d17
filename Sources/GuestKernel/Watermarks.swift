import OvercommitSupport
import PageContents

/// The zone watermarks, derived as Linux derives them (mm/page_alloc.c).
public struct Watermarks: Sendable, Equatable {
    public var min: Int
    public var low: Int
    public var high: Int
    public var minFreeKbytes: Int

    public init(min: Int, low: Int, high: Int, minFreeKbytes: Int) {
        self.min = min
        self.low = low
        self.high = high
        self.minFreeKbytes = minFreeKbytes
    }

    /// As `calculate_min_free_kbytes()` and `__setup_per_zone_wmarks()` (mm/page_alloc.c) for
    /// one zone: min_free_kbytes = int_sqrt(lowmem_kbytes * 16) clamped to 128..262144 kB
    /// (256 MiB, the clamp of current kernels) unless set, lowmem_kbytes being the managed
    /// pages at boot; min = min_free_kbytes >> 2 pages; gap = max(min >> 2, managed *
    /// watermark_scale_factor / 10000); low = min + gap; high = low + gap.
    public init(managedPages: Int, config: GuestKernelConfig) {
        let lowmemKB = managedPages * 4
        let mfk: Int
        if let v = config.min_free_kbytes {
            mfk = Int(v)
        } else {
            mfk = Swift.max(128, Swift.min(262_144, Watermarks.intSqrt(lowmemKB * 16)))
        }
        minFreeKbytes = mfk
        min = Swift.max(1, mfk / 4)
        let gap = Swift.max(min / 4, managedPages * config.watermark_scale_factor / 10000)
        low = min + gap
        high = min + 2 * gap
    }

    /// Each node's watermarks: min_free_kbytes (computed from the managed pages of every node
    /// together) split over the zones in proportion to their managed pages, as
    /// `__setup_per_zone_wmarks()` does (zone min = pages_min * zone managed / lowmem pages,
    /// integer division; gap = max(zone min >> 2, zone managed * watermark_scale_factor /
    /// 10000)). One node gets exactly `init(managedPages:config:)`'s marks.
    public static func perNode(managedPages: [Int], config: GuestKernelConfig) -> [Watermarks] {
        let total = managedPages.reduce(0, +)
        let whole = Watermarks(managedPages: total, config: config)
        guard managedPages.count > 1 else { return [whole] }
        let pagesMin = whole.minFreeKbytes / 4
        return managedPages.map { managed in
            var w = whole
            w.min = total > 0 ? pagesMin * managed / total : 0
            let gap = Swift.max(w.min >> 2, managed * config.watermark_scale_factor / 10000)
            w.low = w.min + gap
            w.high = w.min + 2 * gap
            return w
        }
    }

    /// The sums of `nodes`' marks (what /proc/zoneinfo's zones add up to; MemAvailable and the
    /// kernel's host-wide checks use them).
    public init(summing nodes: [Watermarks]) {
        min = nodes.reduce(0) { $0 + $1.min }
        low = nodes.reduce(0) { $0 + $1.low }
        high = nodes.reduce(0) { $0 + $1.high }
        minFreeKbytes = nodes.first?.minFreeKbytes ?? 0
    }

    /// The kernel's int_sqrt(): the largest r with r * r <= x.
    static func intSqrt(_ x: Int) -> Int {
        guard x > 0 else { return 0 }
        var r = Int(Double(x).squareRoot())
        while r * r > x { r -= 1 }
        while (r + 1) * (r + 1) <= x { r += 1 }
        return r
    }
}
