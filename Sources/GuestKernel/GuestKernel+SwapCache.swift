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
        swap.releaseIfUnused(slot)
    }

    /// Drops one swap entry of `p` that named `slot` (`swap_free`).
    func dropSwapRef(_ p: GuestProcess, _ slot: UInt32) {
        swap.swapMap[Int(slot)] -= 1
        p.swapEntries -= 1
        swap.releaseIfUnused(slot)
    }

    /// Fills a new frame from a slot and adds it to the swap cache.
    func readSwapSlot(_ slot: UInt32, into f: PFN) {
        // Unmapped until a fault maps it; the reverse map is set then.
        initFrame(f, flags: FrameFlag.anon | FrameFlag.swapCache, owner: 0, index: 0, mapCount: 0, content: swap.slotContent[Int(slot)])
        swap.slotFrame[Int(slot)] = f
        frameSlot[f] = slot
        swapCachePages += 1
        anonPages += 1
    }
}
