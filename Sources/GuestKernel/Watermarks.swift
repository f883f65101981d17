import OvercommitSupport
import PageContents

/// The zone watermarks, derived as Linux derives them (mm/page_alloc.c).
public struct Watermarks: Sendable, Equatable {
    public var min: Int
    public var low: Int
    public var high: Int
    public var minFreeKbytes: Int

    /// min_free_kbytes = sqrt(lowmem_kB * 16) clamped to 128..65536 unless set; min = that in
    /// pages; gap = max(min / 4, managed * watermark_scale_factor / 10000); low = min + gap;
    /// high = min + 2 * gap.
    public init(managedPages: Int, config: GuestKernelConfig) {
        let lowmemKB = managedPages * 4
        var mfk: Int
        if let v = config.min_free_kbytes { mfk = Int(v) } else {
            var r = 0
            let target = lowmemKB * 16
            while (r + 1) * (r + 1) <= target { r += 1 }
            mfk = Swift.max(128, Swift.min(65536, r))
        }
        minFreeKbytes = mfk
        min = Swift.max(1, mfk / 4)
        let gap = Swift.max(min / 4, managedPages * config.watermark_scale_factor / 10000)
        low = min + gap
        high = min + 2 * gap
    }
}
