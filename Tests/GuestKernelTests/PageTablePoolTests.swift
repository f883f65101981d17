import Testing
@testable import GuestKernel

@Suite struct PageTablePoolTests {
    /// Dropping the cached host translations clears `PTE.hostBit` in present entries only: a
    /// swap entry's slot uses that bit (slots of 2^27 and above), and an empty entry stays 0.
    @Test func droppingHostTranslationsLeavesSwapEntriesAlone() {
        let pool = PageTablePool()
        let a = Int(pool.allocateLeaf(frame: 10)) << 9
        let b = Int(pool.allocateLeaf(frame: 11)) << 9
        let cached = PTE.present(1234, writable: true).raw | PTE.hostBit | PTE.youngBit
        let uncached = PTE.present(99, writable: false).raw
        let swapHigh = PTE.swap(UInt32(1) << 27 | 5).raw
        let swapLow = PTE.swap(7).raw
        pool.entries[a] = cached
        pool.entries[a + 1] = uncached
        pool.entries[a + 511] = swapHigh
        pool.entries[b + 3] = swapLow
        #expect(swapHigh & PTE.hostBit != 0)
        pool.dropHostTranslations()
        #expect(pool.entries[a] == cached & ~PTE.hostBit)
        #expect(pool.entries[a + 1] == uncached)
        #expect(pool.entries[a + 511] == swapHigh)
        #expect(PTE(raw: pool.entries[a + 511]).slot == UInt32(1) << 27 | 5)
        #expect(pool.entries[b + 3] == swapLow)
        #expect((0..<pool.entryCount).filter { pool.entries[$0] != 0 }.count == 4)
    }
}
