import GuestKernel
import OvercommitSupport
import Workloads

/// What a run will cost the machine that simulates it, estimated from the scenario before
/// anything is built: peak resident memory and CPU time (docs/performance.md, "Know the cost
/// before paying it").
///
/// Memory follows the data layout (docs/architecture.md): per configured guest page only the
/// per-region and per-block arrays (the per-page arrays are zeroed allocations the OS backs
/// when written, see `ZeroedBuffer`); per page the guests are expected to touch (at most the
/// host's memory plus what it can page out) the frame table (26 B), the p2m entry, KSM
/// checksum and host-paging bit (8.1 B), page tables and swap-file or cache bookkeeping; per
/// configured guest swap slot the swap map (18 B); per guest the slack of its huge pages; and a
/// fixed part (binary, runtime, buffers). CPU time is the references
/// the workloads issue (vCPUs times their mean `access_rate`, for the time each guest runs)
/// at the throughput measured on the scale ladder, plus a part per configured page (setup,
/// sampling). The constants are calibrated against measured runs (docs/performance.md gives
/// the comparison); treat the time as an order of magnitude.
public struct RunCostEstimate: Sendable, Equatable {
    /// Estimated peak resident memory of the simulator, bytes.
    public var peakMemoryBytes: UInt64
    /// Estimated CPU time of the run with one thread, seconds.
    public var cpuSeconds: Double
    /// Memory references the workloads would issue if nothing stalled.
    public var references: Double

    /// Fixed part: the binary, the Swift runtime, output buffers (measured: a 1 s run of a
    /// small scenario).
    public static let baseBytes: Double = 48 * 1024 * 1024
    /// Per configured guest page, touched or not: per-region counters, the host-paging
    /// counts per block, the page-table directories (measured: a 512 GiB and a 4 GiB guest
    /// touching the same 2 GiB differ by 0.22 B per configured page).
    public static let bytesPerConfiguredPage: Double = 0.25
    /// Per configured guest swap slot: `SwapArea` (swap_map, content, swap-cache frame, shadow).
    public static let bytesPerGuestSwapSlot: Double = 18
    /// Per touched page: frame table 26 B, p2m 4 B, checksum 4 B and the host-paging bit
    /// (34.2 B, which every configured page cost before these arrays were allocated zeroed),
    /// plus 12 B of PTE, host swap slot or compression-cache bookkeeping and sharing tables
    /// (16 B until host-paging candidates moved from a 4-byte list entry into the bitmap).
    public static let bytesPerTouchedPage: Double = 46.2
    /// Per guest, the slack of the tables on 2 MiB pages (`HugePages`): the frame table's
    /// fields (`FrameTable.hugePageFieldBytes`) and the page-table pool (an entry per mapped
    /// page, `PageTablePool.entryBytes`). The OS backs the last, partly written huge page of
    /// each whole, 1 MiB on average for each table large enough to hold whole huge pages.
    public static func hugePageSlackBytes(pages: Double) -> Double {
        let huge = Double(HugePages.size)
        let perPage = FrameTable.hugePageFieldBytes + [PageTablePool.entryBytes]
        return perPage.reduce(0) { $0 + (pages * Double($1) >= 2 * huge ? huge / 2 : 0) }
    }
    /// References (as estimated here: unstalled) per CPU second for an overcommitted mix,
    /// measured on the ladder: the one-hour run of `host-64g-16vm` with one thread took 1367
    /// CPU s (f8a909f, 2026-12-08) for the 12.7 G references estimated (9.5 G issued; stalls
    /// issue fewer), 211 s of it the per-configured-page part; with it the 256 GiB hour comes
    /// to 4270 s against the 4563 CPU s its 2-thread hour measured (docs/performance.md, "The
    /// cost estimate"). It was 6.9 M from the 2048 CPU s hour of 2026-12-07.
    public static let referencesPerCPUSecond: Double = 11.0e6
    /// CPU seconds per configured guest page per simulated second (host sampling, scans).
    public static let cpuPerConfiguredPageSecond: Double = 2.0e-9

    public static func of(_ c: ScenarioConfig) -> RunCostEstimate {
        let pageBytes = 4096.0
        let guests = c.expandedGuests
        let hostPages = Double(c.host.memory.bytes) / pageBytes
        var configured = 0.0, swapSlots = 0.0, refs = 0.0, slack = 0.0
        let duration = c.duration.seconds
        for g in guests {
            let pages = Double(g.memory.bytes) / pageBytes
            configured += pages
            slack += hugePageSlackBytes(pages: pages)
            swapSlots += Double(g.swap.size.bytes) / pageBytes
            let rates = g.workloads.map { $0.parameters.access_rate }
            let mean = rates.isEmpty ? 0 : rates.reduce(0, +) / Double(rates.count)
            let running = max(0, duration - g.start_at.seconds)
            refs += Double(g.vcpus) * mean * running
        }
        let touched = min(configured, hostPages * 1.5)
        let bytes =
            baseBytes + configured * bytesPerConfiguredPage + swapSlots * bytesPerGuestSwapSlot
            + touched * bytesPerTouchedPage + slack
        let cpu = refs / referencesPerCPUSecond + configured * duration * cpuPerConfiguredPageSecond
        return RunCostEstimate(peakMemoryBytes: UInt64(bytes), cpuSeconds: cpu, references: refs)
    }

    /// One line: "estimate: peak memory ~1.3 GiB, CPU time ~12 min (40 G references)".
    public var summary: String {
        "estimate: peak memory ~" + ByteCount.human(Double(peakMemoryBytes)) + ", CPU time "
            + RunCostEstimate.duration(cpuSeconds) + " (" + RunCostEstimate.count(references) + " references)"
    }

    /// "~12 min", "~1.5 h"; "under 1 s" rather than "~0 s".
    static func duration(_ s: Double) -> String {
        if s < 0.5 { return "under 1 s" }
        if s < 120 { return "~" + formatFixed(s, 0) + " s" }
        if s < 7200 { return "~" + formatFixed(s / 60, 0) + " min" }
        return "~" + formatFixed(s / 3600, 1) + " h"
    }

    static func count(_ n: Double) -> String {
        if n >= 1e9 { return formatFixed(n / 1e9, 1) + " G" }
        if n >= 1e6 { return formatFixed(n / 1e6, 1) + " M" }
        return formatFixed(n, 0)
    }
}
