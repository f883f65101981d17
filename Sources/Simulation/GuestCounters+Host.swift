import Hypervisor
import OvercommitSupport

extension GuestCounters {
    /// The guest as the host sees it: what backs its memory (vSphere's per-VM memory
    /// counters: consumed, shared, ballooned, compressed, swapped, active) and what each host
    /// technique did to it.
    public struct HostGroup: CounterGroup {
        public static let key = "host"

        public let consumed = GuestCounter.memory(
            "consumed_kb", sampled: true,
            "machine memory consumed: private frames and compression cache",
            also: [.esxtop("≈ GRANT - SHRDSVD"), .dommemstat("≈ rss (without overhead)")]
        ) { $0.host.consumed }
        public let consumedPeak = GuestCounter.memory("consumed_peak_kb", "peak machine memory backing the guest") { $0.peakConsumedPages }
        public let privateFrames = GuestCounter.memory("private_kb", sampled: true, "machine memory backing the guest privately") {
            $0.host.privateFrames
        }
        public let shared = GuestCounter.memory("shared_kb", sampled: true, "guest memory mapped to shared frames", also: [.esxtop("SHRD")]) { $0.host.shared }
        public let zeroShared = GuestCounter.memory(
            "zero_shared_kb", sampled: true, "guest memory mapped to the host zero frame",
            also: [.esxtop("ZERO")]
        ) {
            $0.host.zeroShared
        }
        public let ballooned = GuestCounter.memory(
            "ballooned_kb", sampled: true, "memory held by the balloon driver",
            also: [.esxtop("MCTLSZ"), .dommemstat("configured - actual"), .hyperv("Removed Memory")]
        ) { $0.host.ballooned }
        public let balloonTarget = GuestCounter.memory(
            "balloon_target_kb", sampled: true, "the balloon policy's target",
            also: [.esxtop("MCTLTGT")]
        ) {
            $0.host.balloonTarget
        }
        public let online = GuestCounter.memory(
            "online_kb", sampled: true,
            "memory the guest sees: Hyper-V startup memory plus what was hot-added (configured memory without startup_memory)",
            also: [.hyperv("Guest Visible Physical Memory")]
        ) { $0.host.online }
        public let physicalMemory = GuestCounter.memory(
            "physical_memory_kb", sampled: true, "memory assigned to the VM: what the guest sees less its balloon",
            also: [.hyperv("Physical Memory")]
        ) { $0.host.online - $0.host.ballooned }
        public let memoryDemand = GuestCounter.memory(
            "memory_demand_kb", sampled: true,
            "memory demand the guest's Dynamic Memory driver reports (hv_balloon: Committed_AS + balloon floor)"
        ) { $0.host.memoryDemand }
        public let averagePressure = GuestCounter.derived(
            "average_pressure", .ratio, decimals: 1, sampled: true, "memory demand / physical memory x 100",
            also: [.hyperv("Average Pressure")]
        ) { w in
            let physical = w.now.host.online - w.now.host.ballooned
            return physical > 0 ? Double(w.now.host.memoryDemand) * 100 / Double(physical) : 0
        }
        public let hotAdded = GuestCounter.memory(
            "hot_added_kb", sampled: true, "memory hot-added to the guest since boot (128MiB chunks)",
            also: [.hyperv("Added Memory")]
        ) { $0.host.stats.hotAdded }
        public let smartPaging = GuestCounter.memory(
            "smart_paging_kb", sampled: true,
            "guest memory in the Hyper-V Smart Paging file (the VM's swap file while it starts short of memory)",
            also: [.hyperv("Smart Paging Working Set Size")]
        ) { $0.host.smartPaging }
        public let smartPagingOuts = GuestCounter.events(
            "smart_paging_outs", "pages written to the Smart Paging file"
        ) { $0.host.stats.smartPagingOuts }
        public let compressed = GuestCounter.memory("compressed_kb", sampled: true, "guest memory held compressed") { $0.host.compressed }
        public let compressedBytes = GuestCounter.gauge("compressed_bytes", .bytes, sampled: true, "compressed bytes in the cache") {
            $0.host.compressedBytes
        }
        public let cache = GuestCounter.memory("cache_kb", "machine memory of the compression cache", also: [.esxtop("CACHEUSD")]) { $0.host.cacheFrames }
        public let hostSwapped = GuestCounter.memory(
            "host_swapped_kb", sampled: true, "guest memory in the host swap file",
            also: [.esxtop("SWCUR")]
        ) {
            $0.host.hostSwapped
        }
        public let largePages = GuestCounter.gauge("large_pages", .count, "intact 2 MiB large pages") { $0.host.largePages }
        public let largePageUntouched = GuestCounter.memory(
            "large_page_untouched_kb", sampled: true,
            "large-page memory the guest never touched (waste)"
        ) { $0.host.largePageUntouched }
        public let activeEstimated = GuestCounter.memory(
            "active_estimated_kb", sampled: true, "active memory estimated by sampling",
            also: [.esxtop("TCHD")]
        ) {
            $0.host.activeEstimated
        }
        public let activeTrue = GuestCounter.memory("active_true_kb", sampled: true, "pages truly touched in the last sampling period") {
            $0.host.activeTrue
        }
        public let eptFaults = GuestCounter.events("ept_faults", "second-level (EPT) faults") { $0.host.stats.eptFaults }
        public let hostFaultTime = GuestCounter.time("host_fault_time_s", "simulated time of host faults") {
            $0.host.stats.hostTimeNs
        }
        public let cowBreaks = GuestCounter.events("cow_breaks", sampled: true, "copy-on-write breaks of shared pages") {
            $0.host.stats.cowBreaks
        }
        public let merges = GuestCounter.events("merges", "pages merged into shared frames") { $0.host.stats.merges }
        public let compressions = GuestCounter.events("compressions", "pages compressed into the cache", also: [.esxtop("ZIP/s (a rate)")]) {
            $0.host.stats.compressions
        }
        public let compressionRejects = GuestCounter.events("compression_rejects", "pages that did not compress below the threshold") {
            $0.host.stats.compressionRejects
        }
        public let decompressions = GuestCounter.events("decompressions", "pages decompressed on access", also: [.esxtop("UNZIP/s (a rate)")]) {
            $0.host.stats.decompressions
        }
        public let cacheEvictions = GuestCounter.events("cache_evictions", "compressed pages moved to swap when the cache was full") {
            $0.host.stats.cacheEvictions
        }
        public let hostSwapOuts = GuestCounter.events("host_swap_outs", "pages written to the host swap file", also: [.esxtop("SWW/s (a rate)")]) {
            $0.host.stats.swapOuts
        }
        public let hostSwapIns = GuestCounter.events(
            "host_swap_ins", sampled: true, "host-level major faults (swap file reads)",
            also: [.esxtop("SWR/s (a rate)")]
        ) { $0.host.stats.swapIns }
        public let doublePaging = GuestCounter.events("double_paging", "guest swap-outs of pages the host had swapped or compressed") {
            $0.host.stats.doublePaging
        }
        public let largePagesBacked = GuestCounter.events("large_pages_backed", "2 MiB pages that backed a region") {
            $0.host.stats.largePagesBacked
        }
        public let largePagesBroken = GuestCounter.events("large_pages_broken", "large pages broken into 4 KiB pages") {
            $0.host.stats.largePagesBroken
        }
        public let balloonReclaimed = GuestCounter.events("balloon_reclaimed", "backed pages freed through the balloon") {
            $0.host.stats.balloonReclaimed
        }
        public let balloonReturned = GuestCounter.events("balloon_returned", "pages given back to the guest on deflate") {
            $0.host.stats.balloonReturned
        }
        public let reportedFreed = GuestCounter.events("reported_freed", "backed pages the host dropped on free page reports (MADV_DONTNEED)") {
            $0.host.stats.reportedFreed
        }
        public let swapFull = GuestCounter.events("swap_full", "host swap-outs the VM's swap file had no room for") { $0.host.stats.swapFull }
        public let blocked = GuestCounter.time("blocked_s", "time waiting for synchronous host reclamation") {
            $0.host.stats.blockedNs
        }
    }
}
