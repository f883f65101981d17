extension GuestKernel {
    /// The current /proc/meminfo.
    public var meminfo: Meminfo {
        var m = Meminfo()
        let kb = 4
        m.MemTotal = managedPages * kb
        m.MemFree = buddy.freePages * kb
        let aa = policy.count(.activeAnon), ia = policy.count(.inactiveAnon)
        let af = policy.count(.activeFile), inf = policy.count(.inactiveFile)
        m.ActiveAnon = aa * kb; m.InactiveAnon = ia * kb; m.ActiveFile = af * kb; m.InactiveFile = inf * kb
        m.Active = (aa + af) * kb; m.Inactive = (ia + inf) * kb
        m.Unevictable = mlockedPages * kb
        m.Mlocked = mlockedPages * kb
        m.SwapCached = swapCachePages * kb
        m.Cached = filePages * kb  // page cache incl. shmem, excl. swap cache, as Linux prints it
        m.SwapTotal = swap.slotCount * kb
        m.SwapFree = swap.freeSlots * kb
        m.Dirty = dirtyFilePages * kb
        m.AnonPages = (anonPages - swapCacheUnmapped) * kb
        m.Shmem = shmemPages * kb
        m.PageTables = pageTableFrames * kb
        m.CommitLimit = commitLimit * kb
        m.Committed_AS = committedAS * kb
        m.AnonHugePages = anonHugePages * GuestKernel.hugePagePages * kb
        m.Balloon = balloonPages * kb
        m.KernelReserved = reservedPages * kb
        let z = compressedSwap
        if z.mode == .zswap {
            m.Zswap = z.pool.pages * kb
            m.Zswapped = z.storedPages * kb
        }
        m.compressedSwap = CompressedSwapStats()
        m.compressedSwap.storedPages = z.storedPages
        m.compressedSwap.sameFilledPages = z.sameFilledPages
        m.compressedSwap.poolPages = z.pool.pages
        m.compressedSwap.compressedBytes = z.compressedBytes
        m.compressedSwap.hugePages = z.hugePages
        m.compressedSwap.isZswap = z.mode == .zswap
        m.compressedSwap.isZram = z.mode == .zram
        var mapped = 0
        for case let p? in processes { mapped += p.rssFile }
        m.Mapped = mapped * kb
        m.MemAvailable = memAvailablePages * kb
        return m
    }

    /// MemAvailable in pages (mm/page_alloc.c `si_mem_available`): free memory above the low
    /// watermark plus the reclaimable page cache, of which half (at most the low watermark)
    /// is kept.
    var memAvailablePages: Int {
        let pagecache = policy.count(.activeFile) + policy.count(.inactiveFile)
        return max(0, buddy.freePages - watermarks.low + pagecache - min(pagecache / 2, watermarks.low))
    }

    /// Swap-cache pages no PTE maps (readahead or left behind): counted in SwapCached, not AnonPages.
    var swapCacheUnmapped: Int {
        var n = 0
        for (f, _) in frameSlot where frames.mapCount[Int(f)] == 0 { n += 1 }
        return n
    }
}
