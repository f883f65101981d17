import OvercommitSupport
import PageContents

/// The swap cache and swap entries (mm/swap_state.c, mm/swapfile.c): a frame read from or
/// written to a swap slot stays attached to it (`frameSlot`, `SwapArea.slotFrame`) until it
/// is written or freed; `swap_map` counts the entries that still name the slot.
extension GuestKernel {
    /// Detaches a frame from its slot (`delete_from_swap_cache`); the slot is freed if no
    /// entry refers to it any more.
    func removeFromSwapCache(_ pfn: PFN, slot: UInt32) {
        swap.slotFrame[Int(slot)] = nilFrame
        frameSlot[pfn] = nil
        frames.clear(pfn, FrameFlag.swapCache)
        swapCachePages -= 1
        releaseSwapSlot(slot)
    }

    /// Drops one swap entry of `p` that named `slot` (`swap_free`).
    func dropSwapRef(_ p: GuestProcess, _ slot: UInt32) {
        swap.swapMap[Int(slot)] -= 1
        p.swapEntries -= 1
        releaseSwapSlot(slot)
    }

    /// Fills a new frame from a slot and adds it to the swap cache; returns where the page
    /// came from and what reading it cost (`loadSwapSlot`). A page loaded from zswap is
    /// dirty: its compressed copy is gone, so its next eviction writes it again.
    func readSwapSlot(_ slot: UInt32, into f: PFN) -> (from: SwapBacking, costNs: Int64) {
        // Unmapped until a fault maps it; the reverse map is set then.
        initFrame(f, flags: FrameFlag.anon | FrameFlag.swapCache, owner: 0, index: 0, mapCount: 0, content: swap.slotContent[Int(slot)])
        swap.slotFrame[Int(slot)] = f
        frameSlot[f] = slot
        swapCachePages += 1
        anonPages += 1
        let read = loadSwapSlot(slot)
        if read.from == .zswap { frames.flags[Int(f)] |= FrameFlag.dirty }
        return read
    }
}
