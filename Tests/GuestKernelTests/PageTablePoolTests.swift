import Testing
@testable import GuestKernel
import OvercommitSupport

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

    /// A pool that outgrows its reservation moves with every entry, and once its entries fill
    /// two huge pages the rest of it is on huge pages (what `residentBytes` counts).
    @Test func aPoolKeepsItsEntriesAsItGrowsAndGoesOnHugePagesWhenLarge() {
        let pool = PageTablePool(reserveEntries: 1)  // one huge page: 1024 leaves
        let leaves = 2100
        for l in 0..<leaves {
            let leaf = Int(pool.allocateLeaf(frame: PFN(l)))
            #expect(leaf == l)
            pool.entries[leaf << 9 | (l % 512)] = PTE.present(PFN(l), writable: l % 2 == 0).raw
        }
        #expect(pool.entryCount == leaves * 512 && pool.entryCapacity >= pool.entryCount)
        #expect((0..<leaves).allSatisfy { pool.entries[$0 << 9 | ($0 % 512)] == PTE.present(PFN($0), writable: $0 % 2 == 0).raw })
        #expect((0..<pool.entryCount).filter { pool.entries[$0] != 0 }.count == leaves)
        // 2100 leaves are 4.1 MiB of entries: the first 4 MiB on 4 KiB pages, then one huge page.
        #expect(pool.residentBytes == 3 * HugePages.size)
        #expect(pool.leafFrame.count == leaves && pool.leavesInUse == leaves)
    }
}
