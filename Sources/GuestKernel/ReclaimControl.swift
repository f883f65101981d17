/// Who reclaims guest memory: kswapd in the background, or a task whose allocation found
/// free memory at or below the min watermark (direct reclaim).
public enum ReclaimReason: Sendable {
    case kswapd, direct
}

/// One pass of the guest's page reclaim: what it is asked for and what it did, carried down
/// the whole reclaim path instead of separate arguments (Linux's `struct scan_control`,
/// mm/vmscan.c).
public struct ReclaimControl: Sendable, Equatable {
    /// kswapd or direct reclaim (`current_is_kswapd()`): decides which vmstat counters the
    /// pass charges and whether the caller waits for its writes.
    public let reason: ReclaimReason
    /// Pages to free (`nr_to_reclaim`).
    public let nrToReclaim: Int
    /// Pages isolated from the LRU lists and looked at (`nr_scanned`).
    public internal(set) var nrScanned = 0
    /// Pages freed (`nr_reclaimed`).
    public internal(set) var nrReclaimed = 0
    /// Pages the pass wrote to the swap device (new anonymous slots and shmem pages).
    public internal(set) var nrSwapWrites = 0
    /// Pages the pass compressed into zswap or the zram device (no device write).
    public internal(set) var nrCompressed = 0
    /// Simulated time the reclaiming task waited: direct reclaim waits for the swap writes
    /// it submitted (one device write latency per pass); kswapd's time is its own.
    public internal(set) var stallNs: Int64 = 0

    public init(reason: ReclaimReason, nrToReclaim: Int) {
        self.reason = reason
        self.nrToReclaim = nrToReclaim
    }
}

/// What reclaim did with one isolated page (mm/vmscan.c `shrink_folio_list`, after the
/// results of `pageout()` and where the page goes afterwards).
enum EvictOutcome: Equatable {
    /// The page left memory and its frame is free.
    case reclaimed(ReclaimedBy)
    /// The page could not be written out and goes back to the active list
    /// (`activate_locked`): no free swap slot for an anonymous page (`add_to_swap` failed),
    /// or none for a shmem page (`shmem_writepage` returns `AOP_WRITEPAGE_ACTIVATE`).
    case activate

    /// How a reclaimed page left memory.
    enum ReclaimedBy: Equatable {
        /// An anonymous page written to a new swap slot.
        case swapOut
        /// An anonymous page still in the swap cache with an up-to-date slot: freed without
        /// a write.
        case swapCacheClean
        /// A shmem page written to a swap slot.
        case shmemSwapOut
        /// A clean page-cache page dropped (its file holds the same bytes).
        case dropClean
        /// A dirty page-cache page written back to its file, then dropped.
        case writeBack
        /// A lazily freeable anonymous page (MADV_FREE) not written since: discarded, its
        /// PTEs cleared, no swap written (`try_to_unmap_one`'s discard path).
        case lazyFreeDiscard
        /// An anonymous or shmem page compressed into zswap or written to the zram device:
        /// it left memory without a device write, at the cost of one codec run.
        case compressed

        /// How an anonymous page written to its slot left memory.
        init(anonymousTo backing: SwapBacking) { self = backing == .disk ? .swapOut : .compressed }

        /// Whether the page was written to the swap device.
        var wroteSwap: Bool { self == .swapOut || self == .shmemSwapOut }
    }
}
