import Testing
import OvercommitTestSupport
@testable import GuestKernel
import OvercommitSupport
import PageContents

/// Guest-side compressed swap: zswap in front of the swap device (Linux mm/zswap.c) and zram
/// as the swap device (drivers/block/zram), with their zsmalloc pool in guest frames.
@Suite struct ZswapTests {
    /// A guest with zswap (`tweak` sets its parameters) or, with `zram`, a zram swap device.
    func kernel(
        memory: ByteCount = .mib(64), swap: ByteCount = .mib(128), zram: Bool = false, memLimit: ByteCount? = nil,
        _ tweak: (inout ZswapConfig) -> Void = { _ in }
    ) -> GuestKernel {
        var c = GuestKernelConfig()
        c.kernel_reserved = .mib(4)
        c.zswap.enabled = !zram
        tweak(&c.zswap)
        let device = zram ? SwapDeviceConfig(zram: swap, memLimit: memLimit) : SwapDeviceConfig(size: swap, device: .ssd)
        let k = GuestKernel(name: zram ? "zram" : "zswap", memoryPages: memory.pages, config: c, swap: device, costs: CostModel(), seed: 7)
        k.enableContentShadow()
        return k
    }

    /// Writes `pages` pages (more than RAM), each with the bytes `content(i)` gives (nil: the
    /// process's default mix), then reads every one back.
    @discardableResult
    func writeAndReadBack(_ k: GuestKernel, pages: Int = 20_000, content: (Int) -> PageContent? = { _ in nil }) -> (PID, VPN) {
        let pid = k.spawn(name: "big")
        let base = k.mmap(pid, pages: pages).value!
        for i in 0..<pages {
            if let c = content(i) { _ = k.access(pid, base + VPN(i), storing: c) } else { _ = k.access(pid, base + VPN(i), write: true) }
        }
        expectConsistent(k, "after the writes")
        for i in 0..<pages { _ = k.access(pid, base + VPN(i), write: false) }
        return (pid, base)
    }

    @Test func zsmallocGeometryFollowsLinux() {
        // The largest class sharing its zspages is 3264 bytes (4 pages, 5 objects); less
        // the handle's 7 extra bytes.
        #expect(ZsmallocPool.hugeClassSize == 3257)
        var pool = ZsmallocPool()
        pool.add(length: 100)
        #expect(pool.pages >= 1)
        // 3264-byte objects pack five to a 4-page zspage: the fifth fits, the sixth opens another.
        var big = ZsmallocPool()
        for _ in 0..<5 { big.add(length: 3256) }
        #expect(big.pages == 4)
        big.add(length: 3256)
        #expect(big.pages == 8)
        // A huge object takes a page of its own.
        var huge = ZsmallocPool()
        for _ in 0..<3 { huge.add(length: 3500) }
        #expect(huge.pages == 3)
        for _ in 0..<3 { huge.remove(length: 3500) }
        #expect(huge.pages == 0 && huge.count == 0)
    }

    @Test func bytesRoundTripThroughZswap() {
        let k = kernel()
        writeAndReadBack(k)
        #expect(k.vmstat.zswpout > 0 && k.vmstat.zswpin > 0, "zswpout \(k.vmstat.zswpout) zswpin \(k.vmstat.zswpin)")
        // The default mix has 10 % random pages: those are rejected and go to the device.
        #expect(k.vmstat.zswap_reject_compress_poor > 0 && k.vmstat.pswpout > 0)
        #expect(k.compressedSwap.pool.pages > 0 && k.compressedSwap.frames.count == k.compressedSwap.pool.pages)
        let m = k.meminfo
        #expect(m.Zswap == k.compressedSwap.pool.pages * 4 && m.Zswapped == k.compressedSwap.storedPages * 4)
        // Same-filled pages (the mix's zero pages) need no pool; the rest cost at least what
        // zsmalloc packs them into.
        #expect(k.compressedSwap.sameFilledPages > 0)
        expectConsistent(k, "after reading everything back")
        #expect(k.compressionProblems.isEmpty)
    }

    @Test func sameFilledPagesAreStoredWithoutPoolMemory() {
        let k = kernel()
        writeAndReadBack(k, pages: 20_000) { i in PageContent(style: .pattern, seed: UInt64(i + 1)) }
        #expect(k.vmstat.zswpout > 0)
        #expect(k.compressedSwap.storedPages == k.compressedSwap.sameFilledPages)
        #expect(k.compressedSwap.pool.pages == 0 && k.compressedSwap.frames.isEmpty)
        expectConsistent(k)

        // With same_filled_pages_enabled off the codec compresses them: pool memory is used.
        let off = kernel { $0.same_filled_pages_enabled = false }
        writeAndReadBack(off, pages: 20_000) { i in PageContent(style: .pattern, seed: UInt64(i + 1)) }
        #expect(off.compressedSwap.sameFilledPages == 0)
        #expect(off.compressedSwap.pool.pages > 0)
        expectConsistent(off)
    }

    @Test func pagesThatDoNotCompressGoToTheSwapDevice() {
        let k = kernel()
        writeAndReadBack(k) { i in PageContent(style: .random, seed: UInt64(i + 1)) }
        #expect(k.vmstat.zswap_reject_compress_poor > 0)
        #expect(k.vmstat.zswpout == 0 && k.compressedSwap.storedPages == 0)
        #expect(k.vmstat.pswpout >= k.vmstat.zswap_reject_compress_poor)
        expectConsistent(k)
    }

    /// zswap_check_limits: the pool stops at max_pool_percent, the shrink worker writes the
    /// oldest entries back until the pool is at the accept threshold, and stores resume only
    /// then.
    @Test func poolLimitHitThenAcceptThresholdHysteresis() {
        let k = kernel {
            $0.max_pool_percent = 2; $0.accept_threshold_percent = 50
        }
        let maxPages = k.managedPages * 2 / 100, acceptPages = maxPages * 50 / 100
        // Slots written as reclaim would write them: each holds a page of text (~45 % of a page).
        func store() -> (slot: Int, stored: Bool) {
            let s = Int(k.swap.allocate()!)
            k.swap.swapMap[s] = 1
            k.swap.slotContent[s] = PageContent(style: .text, seed: UInt64(s + 1))
            return (s, k.zswapStore(s, k.swap.slotContent[s]))
        }
        var stored = 0
        while store().stored { stored += 1 }
        #expect(stored > 0)
        // The refused store hit the limit, and the worker wrote back down to the threshold.
        #expect(k.vmstat.zswap_pool_limit_hit == 1)
        #expect(k.vmstat.zswpwb > 0 && k.vmstat.zswpwb == k.vmstat.pswpout)
        #expect(k.compressedSwap.pool.pages <= acceptPages, "pool \(k.compressedSwap.pool.pages) pages, threshold \(acceptPages)")
        #expect(k.compressedSwap.frames.count == k.compressedSwap.pool.pages)
        // The oldest entries went first.
        #expect(!k.compressedSwap.has(0))
        // Below the threshold stores are accepted again until the limit is hit once more.
        #expect(store().stored)
        while store().stored {}
        #expect(k.vmstat.zswap_pool_limit_hit == 2)
        #expect(k.compressedSwap.pool.pages <= acceptPages)
    }

    @Test func poolLimitUnderReclaimKeepsEveryPage() {
        let k = kernel { $0.max_pool_percent = 5 }
        writeAndReadBack(k, pages: 24_000)
        #expect(k.vmstat.zswap_pool_limit_hit > 0 && k.vmstat.zswpwb > 0)
        #expect(k.compressedSwap.pool.pages <= k.managedPages * 5 / 100 + ZsmallocPool.maxPagesPerZspage)
        expectConsistent(k, "after write-back under reclaim")
    }

    @Test func bytesRoundTripThroughZram() {
        let k = kernel(zram: true)
        let (pid, base) = writeAndReadBack(k)
        let z = k.compressedSwap
        #expect(z.mode == .zram && z.storedPages > 0 && z.pool.pages > 0)
        // zram is a block device: its traffic is swap I/O; zswap's counters stay at zero.
        #expect(k.vmstat.pswpout > 0 && k.vmstat.pswpin > 0 && k.vmstat.zswpout == 0)
        // Random pages (10 % of the mix) are stored uncompressed, as huge pages.
        #expect(z.hugePages > 0 && z.sameFilledPages > 0)
        #expect(k.meminfo.Zswap == 0)
        expectConsistent(k, "after reading everything back")
        // Writing every page makes its zram copy stale; the device frees it.
        for i in 0..<20_000 { _ = k.access(pid, base + VPN(i), write: true) }
        expectConsistent(k, "after rewriting")
        #expect(k.compressionProblems.isEmpty)
    }

    @Test func zramMemLimitRefusesWritesAndKeepsThePages() {
        let k = kernel(swap: .mib(64), zram: true, memLimit: .mib(2))
        let pid = k.spawn(name: "big")
        let base = k.mmap(pid, pages: 17_000).value!
        for i in 0..<17_000 { _ = k.access(pid, base + VPN(i), write: true) }
        #expect(k.vmstat.zram_failed_writes > 0)
        #expect(k.compressedSwap.pool.pages <= ByteCount.mib(2).pages)
        expectConsistent(k)
    }

    @Test func theCodecIsVerifiedOnEveryLoadUnderCheck() {
        // A slot whose stored length is not what the codec gives is reported.
        let k = kernel()
        let s = Int(k.swap.allocate()!)
        k.swap.swapMap[s] = 1
        k.swap.slotContent[s] = PageContent(style: .text, seed: 3)
        #expect(k.zswapStore(s, k.swap.slotContent[s]))
        let n = k.compressedSwap.storedLength(s)!
        k.compressedSwap.remove(s)
        k.compressedSwap.insert(s, length: n + 1)
        _ = k.loadSwapSlot(UInt32(s))
        #expect(k.compressionProblems.count == 1 && k.compressionProblems[0].contains("\(n) bytes now"), "\(k.compressionProblems)")
    }
}
