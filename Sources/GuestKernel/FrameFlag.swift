import OvercommitSupport
import PageContents

/// Per-frame flags, after Linux's `page->flags` (PG_referenced, PG_dirty, PG_swapcache...).
public enum FrameFlag {
    /// Low 4 bits: `FrameUse`.
    public static let useMask: UInt16 = 0x000F
    /// Bits 4-6: the frame's EPT entry, which belongs to the host, not to the guest: read and
    /// write permission granted by the hypervisor, and the hardware accessed bit (see
    /// `GuestKernel.ept`). Kept in the same word to save a byte per frame; every guest-side
    /// update of the flags preserves these bits.
    public static let eptShift: UInt16 = 4
    public static let eptMask: UInt16 = 0x0070
    /// PG_reported: on the head frame of a free buddy block only, the block was handed to the
    /// host by free page reporting (Linux mm/page_reporting.c; Linux aliases the bit to
    /// PG_uptodate, which free pages do not use). Cleared when the block leaves the free lists.
    public static let reported: UInt16 = 1 << 7
    /// PG_referenced: seen accessed once by the LRU scan; a second sighting promotes.
    public static let referenced: UInt16 = 1 << 8
    /// The hardware accessed (young) bit, aggregated over all mappings of the frame.
    public static let accessed: UInt16 = 1 << 9
    /// PG_dirty: the contents differ from the backing store (file or swap slot).
    public static let dirty: UInt16 = 1 << 10
    /// PG_swapcache: the frame is in the swap cache (has a swap slot).
    public static let swapCache: UInt16 = 1 << 11
    /// Anonymous memory (otherwise page cache).
    public static let anon: UInt16 = 1 << 12
    /// PG_writeback: being written to its backing store.
    public static let writeback: UInt16 = 1 << 13
    /// PG_mlocked.
    public static let mlocked: UInt16 = 1 << 14
    /// Lazily freeable anonymous page (MADV_FREE): Linux clears PG_swapbacked and moves the
    /// folio to the inactive file list (`folio_mark_lazyfree`, mm/swap.c, Linux 4.12+).
    /// Reclaim discards it unless it was written (PG_dirty) since.
    public static let lazyfree: UInt16 = 1 << 15
}
