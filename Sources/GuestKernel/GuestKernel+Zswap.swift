import OvercommitSupport
import PageContents

/// Where a swap slot's page was written to or read from.
enum SwapBacking: Equatable {
    /// The swap device (a disk): device latency, pswpin/pswpout.
    case disk
    /// zswap's pool in guest RAM (Linux mm/zswap.c): no I/O, zswpin/zswpout.
    case zswap
    /// A zram device (drivers/block/zram): a block device whose sectors live compressed in
    /// guest RAM; counted as swap I/O (pswpin/pswpout), costs a codec run instead of a seek.
    case zram
}

/// Guest-side compressed swap: zswap in front of the swap device and zram as the swap
/// device, both keeping pages compressed by a real codec in a zsmalloc pool that takes
/// real guest frames (`FrameUse.zpool`), so the host sees the pool as guest memory touched.
extension GuestKernel {
    // MARK: - Writing a slot (swap_writepage)

    /// Writes frame `f` to `slot` (swap_writepage): records what the slot holds, drops a
    /// stale compressed copy, then tries zswap (`zswap_store`) or writes the zram device
    /// (`zram_write_page`). Returns where the page went: `.disk` when it still has to go to
    /// the swap device (no zswap, or zswap rejected it), nil when the zram device refused
    /// it (its `mem_limit`): the page stays in memory.
    func writeSwapSlot(_ f: PFN, slot: UInt32) -> SwapBacking? {
        let s = Int(slot)
        let content = frames.content[Int(f)]
        swap.slotContent[s] = content
        if compressedSwap.remove(s) { syncPoolFrames() }
        switch compressedSwap.mode {
        case .none: return .disk
        case .zswap: return zswapStore(s, content) ? .zswap : .disk
        case .zram: return zramWrite(s, content) ? .zram : nil
        }
    }

    /// zswap_store (Linux 6.x order): refuse while the pool is full (hitting the limit sets
    /// zswap_pool_reached_full, counts pool_limit_hit and starts the shrink worker, which
    /// writes back the oldest entries; stores resume once the pool is at or below
    /// accept_threshold_percent of the limit); store a same-filled page as its word; refuse a
    /// page whose compressed length is not below a page (reject_compress_poor) or whose
    /// pool memory cannot be allocated (reject_alloc_fail).
    func zswapStore(_ s: Int, _ content: PageContent) -> Bool {
        let z = config.zswap
        let maxPages = managedPages * z.max_pool_percent / 100
        let acceptPages = maxPages * z.accept_threshold_percent / 100
        // zswap_check_limits()
        if compressedSwap.pool.pages >= maxPages {
            vmstat.zswap_pool_limit_hit += 1
            compressedSwap.reachedFull = true
        } else if compressedSwap.reachedFull && compressedSwap.pool.pages <= acceptPages {
            compressedSwap.reachedFull = false
        }
        if compressedSwap.reachedFull {
            zswapShrink(toPages: acceptPages)
            return false
        }
        let (sameFilled, length) = compressPage(content, detectSameFilled: z.same_filled_pages_enabled)
        if sameFilled {
            compressedSwap.insert(s, length: nil)
            vmstat.zswpout += 1
            return true
        }
        if length >= pageSize {
            vmstat.zswap_reject_compress_poor += 1
            return false
        }
        guard growPool(toPages: compressedSwap.pool.pagesAfterAdding(length: length)) else {
            vmstat.zswap_reject_alloc_fail += 1
            return false
        }
        compressedSwap.insert(s, length: length)
        writePoolObject()
        vmstat.zswpout += 1
        return true
    }

    /// zram_write_page: a same-filled page is only flagged (same_pages); a page whose
    /// compressed length reaches zsmalloc's `huge_class_size` is stored uncompressed
    /// (huge_pages); the write fails when the pool would pass `mem_limit` or its memory
    /// cannot be allocated (io_stat failed_writes).
    func zramWrite(_ s: Int, _ content: PageContent) -> Bool {
        let (sameFilled, compressed) = compressPage(content, detectSameFilled: true)
        if sameFilled {
            compressedSwap.insert(s, length: nil)
            return true
        }
        let length = compressed >= ZsmallocPool.hugeClassSize ? pageSize : compressed
        let after = compressedSwap.pool.pagesAfterAdding(length: length)
        if let limit = swapConfig.mem_limit, after > limit.pages {
            vmstat.zram_failed_writes += 1
            return false
        }
        guard growPool(toPages: after) else {
            vmstat.zram_failed_writes += 1
            return false
        }
        compressedSwap.insert(s, length: length)
        writePoolObject()
        return true
    }

    /// The shrink worker (zswap's `shrink_worker`): writes back the least recently stored
    /// entries to the swap device until the pool is at or below `pages`, or a write-back
    /// cannot get a page.
    func zswapShrink(toPages pages: Int) {
        while compressedSwap.pool.pages > pages, let s = compressedSwap.oldest() {
            guard zswapWriteback(s) else { return }
        }
    }

    /// zswap_writeback_entry: decompresses the entry into a newly allocated page, writes
    /// that page to the swap device at the entry's slot, frees the page and the entry
    /// (written_back_pages, vmstat zswpwb). False when no page could be allocated.
    @discardableResult
    func zswapWriteback(_ s: Int) -> Bool {
        guard let n = compressedSwap.storedLength(s), swap.slotFrame[s] == nilFrame else { return false }
        // The worker runs outside reclaim, so it may not dip below the min watermark.
        guard buddy.freePages > watermarks.min, let page = buddy.allocate(order: 0) else { return false }
        _ = touch(page, write: true)
        frames.content[Int(page)] = swap.slotContent[s]
        if shadow != nil { verifyCompressed(s, length: n, what: "zswap write-back") }
        _ = touch(page, write: false, reason: .guestSwapOut)
        compressedSwap.remove(s)
        syncPoolFrames()
        freeFrame(page)
        vmstat.zswpwb += 1
        vmstat.pswpout += 1
        vmstat.pgpgout += 1
        return true
    }

    // MARK: - Reading a slot (swap_read_folio)

    /// Reads `slot` for a swap-in (swap_read_folio): from zswap (`zswap_load`: the entry is
    /// freed, the caller marks the page dirty so the next swap-out stores it again), from
    /// the zram device (the entry stays until the slot is freed) or from the disk. Returns
    /// where the page came from and the time the reading task waits: the device's read
    /// latency, or one decompression (a memset for a same-filled page, a copy for a page
    /// zram kept uncompressed). With `--check` the codec runs again on the page's bytes and
    /// the length and the decompressed bytes are compared with what was stored.
    func loadSwapSlot(_ slot: UInt32) -> (from: SwapBacking, costNs: Int64) {
        let s = Int(slot)
        guard compressedSwap.mode != .none, let n = compressedSwap.storedLength(s) else {
            return (.disk, swapConfig.effectiveReadLatency.nanoseconds)
        }
        if shadow != nil { verifyCompressed(s, length: n, what: compressedSwap.mode == .zswap ? "zswap load" : "zram read") }
        let cost = n == 0 ? costs.zero_fill : n >= pageSize ? costs.page_copy : costs.decompress
        guard compressedSwap.mode == .zswap else { return (.zram, cost.nanoseconds) }
        compressedSwap.remove(s)
        syncPoolFrames()
        vmstat.zswpin += 1
        return (.zswap, cost.nanoseconds)
    }

    /// Frees the compressed copy of a slot that was just freed (zswap_invalidate,
    /// zram_slot_free_notify).
    func releaseSwapSlot(_ slot: UInt32) {
        guard swap.releaseIfUnused(slot), compressedSwap.mode != .none else { return }
        if compressedSwap.remove(Int(slot)) { syncPoolFrames() }
    }

    // MARK: - The codec

    /// Whether the page's 64-bit words are all equal (zswap_is_page_same_filled,
    /// zram's page_same_filled), and otherwise its length compressed by the real codec
    /// (`worstCaseSize` when it does not compress).
    func compressPage(_ content: PageContent, detectSameFilled: Bool) -> (sameFilled: Bool, length: Int) {
        let codec = swapCodec!
        return generator.withBytes(content) { p in
            if detectSameFilled && GuestKernel.isSameFilled(p) { return (true, 0) }
            return (false, codec.compressedSize(p))
        }
    }

    static func isSameFilled(_ p: UnsafeRawPointer) -> Bool {
        let first = p.load(as: UInt64.self)
        for i in 1..<(pageSize / 8) where p.load(fromByteOffset: i * 8, as: UInt64.self) != first { return false }
        return true
    }

    /// Runs the codec again on what `slot` holds and checks the stored length and that
    /// decompression gives the page's bytes back.
    func verifyCompressed(_ s: Int, length n: Int, what: String) {
        guard compressionProblems.count < 20, let codec = swapCodec else { return }
        let content = swap.slotContent[s]
        let problem: String? = generator.withBytes(content) { page in
            if n == 0 { return GuestKernel.isSameFilled(page) ? nil : "stored as same-filled but its words differ" }
            let capacity = max(codec.worstCaseSize, pageSize)
            return withUnsafeTemporaryAllocation(byteCount: capacity + pageSize, alignment: 16) { buf in
                let out = buf.baseAddress!, back = buf.baseAddress! + capacity
                guard let m = codec.compress(page, into: out, capacity: capacity) else { return "the codec could not compress it again" }
                if n >= pageSize { return m >= ZsmallocPool.hugeClassSize ? nil : "stored uncompressed but compresses to \(m) bytes" }
                if m != n { return "compresses to \(m) bytes now, \(n) were stored" }
                guard codec.decompress(UnsafeRawPointer(out), count: m, into: back) else { return "the codec rejected its own output" }
                return PageCompare.equal(UnsafeRawPointer(back), page) ? nil : "decompressed bytes differ from the page"
            }
        }
        if let problem { compressionProblems.append("\(name): \(what) of slot \(s): \(problem)") }
    }

    // MARK: - The pool's guest frames

    /// Grows the pool to `pages` guest frames; zsmalloc allocates its pages with the
    /// reclaiming task's PF_MEMALLOC, so below the watermarks too. False (and nothing
    /// changed) when the buddy allocator has no frame.
    func growPool(toPages pages: Int) -> Bool {
        while compressedSwap.frames.count < pages {
            guard let f = buddy.allocate(order: 0) else {
                syncPoolFrames()
                return false
            }
            frames.setUse(f, .zpool)
            compressedSwap.frames.append(f)
            writePoolObject()
        }
        return true
    }

    /// Frees the pool's frames beyond what zsmalloc needs (its empty zspages, compacted).
    func syncPoolFrames() {
        while compressedSwap.frames.count > compressedSwap.pool.pages {
            freeFrame(compressedSwap.frames.removeLast())
        }
    }

    /// The newest object is written into the pool's newest page: the guest writes the frame
    /// (the host backs it, and its bytes change: compressed data, which neither sharing nor
    /// the host's compression can reduce).
    func writePoolObject() {
        guard let f = compressedSwap.frames.last else { return }
        _ = touch(f, write: true)
        zpoolWrites &+= 1
        frames.content[Int(f)] = PageContent(style: .random, seed: StableHash.mix(contentSeed, zpoolWrites | (1 << 62)) >> 8)
    }
}
