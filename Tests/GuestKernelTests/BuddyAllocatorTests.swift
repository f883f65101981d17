import Testing
import OvercommitSupport
@testable import GuestKernel

/// The buddy order recorded on a frame (in `rmapIndex`, Linux's `page->private`).
func orderBits(_ t: FrameTable, _ pfn: Int) -> UInt32 { t.rmapIndex[pfn] }

func expectConsistent(_ b: BuddyAllocator, _ step: String = "", sourceLocation: SourceLocation = #_sourceLocation) {
    let problems = b.checkInvariants()
    #expect(problems.isEmpty, "\(step): \(problems.prefix(5))", sourceLocation: sourceLocation)
}

@Suite struct BuddyAllocatorTests {
    @Test func initialBlocksAreMaximalAndAligned() {
        let t = FrameTable(count: 64)
        for i in 0..<64 { t.setUse(PFN(i), .kernel) }
        let b = BuddyAllocator(frames: t, managed: 3..<40)
        // 3 | 4-7 | 8-15 | 16-31 | 32-39
        #expect(b.buddyinfo == [1, 0, 1, 2, 1, 0, 0, 0, 0, 0, 0])
        #expect(b.freePages == 37 && b.managedPages == 37)
        #expect(b.largestFreeOrder == 4)
        #expect(orderBits(t, 16) == 4 && orderBits(t, 17) == 0xF && orderBits(t, 31) == 0xF)
        #expect(t.use(16) == .free && t.use(31) == .free)
        // Reserved frames outside the range are untouched.
        #expect((0..<3).allSatisfy { t.use(PFN($0)) == .kernel } && (40..<64).allSatisfy { t.use(PFN($0)) == .kernel })
        expectConsistent(b)

        let big = BuddyAllocator(frames: FrameTable(count: 5000), managed: 0..<5000)
        // 4 x 1024 + 512 + 256 + 128 + 8 = 5000.
        #expect(big.buddyinfo == [0, 0, 0, 1, 0, 0, 0, 1, 1, 1, 4])
        expectConsistent(big)
    }

    @Test func allocationSplitsTheSmallestLargerBlock() {
        let t = FrameTable(count: 2048)
        var b = BuddyAllocator(frames: t, managed: 0..<2048)
        #expect(b.buddyinfo == [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2])
        // Blocks are queued at the tail on init, so the lowest block is split first.
        #expect(b.allocate(order: 0) == 0)
        #expect(b.buddyinfo == [1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1])
        #expect(b.freePages == 2047)
        #expect(t.use(0) == .isolated && orderBits(t, 0) == 0)
        expectConsistent(b, "after order-0")
        // Exact fits come from their own list without splitting.
        #expect(b.allocate(order: 3) == 8)
        #expect(b.buddyinfo == [1, 1, 1, 0, 1, 1, 1, 1, 1, 1, 1])
        #expect((8..<16).allSatisfy { t.use(PFN($0)) == .isolated && orderBits(t, $0) == 0 })
        // Order 3 again must split the order-4 block 16-31.
        #expect(b.allocate(order: 3) == 16)
        #expect(b.buddyinfo == [1, 1, 1, 1, 0, 1, 1, 1, 1, 1, 1])
        #expect(orderBits(t, 24) == 3 && t.use(24) == .free)
        #expect(b.freePages == 2048 - 1 - 8 - 8)
        expectConsistent(b, "after order-3 x2")
    }

    @Test func freeCoalescesBackToTheInitialState() {
        let t = FrameTable(count: 2048)
        for i in 0..<2048 { t.setUse(PFN(i), .kernel) }
        var b = BuddyAllocator(frames: t, managed: 5..<2000)
        let initial = b.buddyinfo
        var got: [PFN] = []
        while let f = b.allocate(order: 0) { got.append(f) }
        #expect(got.count == 1995)
        #expect(Set(got).count == 1995 && got.allSatisfy { (5..<2000).contains(Int($0)) })
        #expect(b.freePages == 0 && b.largestFreeOrder == nil)
        #expect(b.buddyinfo == [Int](repeating: 0, count: 11))
        expectConsistent(b, "all allocated")
        var rng = Xoshiro256(seed: 42)
        rng.shuffle(&got)
        for (step, f) in got.enumerated() {
            b.free(f, order: 0)
            if step % 7 == 0 || step > 1980 { expectConsistent(b, "free #\(step) of \(f)") }
        }
        #expect(b.buddyinfo == initial)
        #expect(b.freePages == 1995)
        #expect((0..<5).allSatisfy { t.use(PFN($0)) == .kernel } && (2000..<2048).allSatisfy { t.use(PFN($0)) == .kernel })
        expectConsistent(b, "all freed")
    }

    @Test func randomMixedOrdersKeepInvariantsAtEveryStep() {
        let t = FrameTable(count: 4096)
        var b = BuddyAllocator(frames: t, managed: 17..<4001)
        let initial = b.buddyinfo
        var rng = Xoshiro256(seed: 2024, component: "buddy-test")
        var live: [(PFN, Int)] = []
        var failures = 0
        for step in 0..<3000 {
            if live.isEmpty || rng.chance(0.55) {
                let order = min(rng.int(below: 6), rng.int(below: 11))
                let free = b.freePages
                if let f = b.allocate(order: order) {
                    #expect(Int(f) % (1 << order) == 0, "aligned")
                    #expect(b.freePages == free - (1 << order))
                    live.append((f, order))
                } else {
                    failures += 1
                    #expect(b.largestFreeOrder.map { $0 < order } ?? true, "failed only when no block of order \(order) exists")
                }
            } else {
                let i = rng.int(below: live.count)
                let (f, order) = live[i]
                live.swapAt(i, live.count - 1)
                live.removeLast()
                b.free(f, order: order)
            }
            expectConsistent(b, "step \(step)")
        }
        // Allocated blocks never overlap.
        var owner = [Bool](repeating: false, count: 4096)
        for (f, order) in live {
            for j in Int(f)..<(Int(f) + (1 << order)) { #expect(!owner[j]); owner[j] = true }
        }
        for (f, order) in live { b.free(f, order: order) }
        #expect(b.buddyinfo == initial)
        #expect(b.freePages == 3984)
        expectConsistent(b, "end")
        #expect(failures < 3000)
    }

    @Test func knownSequenceBuddyinfo() {
        var b = BuddyAllocator(frames: FrameTable(count: 16), managed: 0..<16)
        #expect(b.buddyinfo == [0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0])
        let a = b.allocate(order: 1)!  // 0-1;  free: 2-3, 4-7, 8-15
        #expect(a == 0)
        #expect(b.buddyinfo == [0, 1, 1, 1, 0, 0, 0, 0, 0, 0, 0])
        let c = b.allocate(order: 0)!  // 2;    free: 3, 4-7, 8-15
        #expect(c == 2)
        #expect(b.buddyinfo == [1, 0, 1, 1, 0, 0, 0, 0, 0, 0, 0])
        let d = b.allocate(order: 2)!  // 4-7;  free: 3, 8-15
        #expect(d == 4)
        #expect(b.buddyinfo == [1, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0])
        b.free(a, order: 1)  // 0-1 cannot merge: 2 is in use
        #expect(b.buddyinfo == [1, 1, 0, 1, 0, 0, 0, 0, 0, 0, 0])
        b.free(c, order: 0)  // 2+3 -> 2-3, + 0-1 -> 0-3; 4-7 in use
        #expect(b.buddyinfo == [0, 0, 1, 1, 0, 0, 0, 0, 0, 0, 0])
        b.free(d, order: 2)  // 0-3 + 4-7 -> 0-7, + 8-15 -> 0-15
        #expect(b.buddyinfo == [0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0])
        expectConsistent(b)
    }

    @Test func fragmentationAfterFreeingEveryOtherPage() {
        let t = FrameTable(count: 1024)
        var b = BuddyAllocator(frames: t, managed: 0..<1024)
        #expect(b.fragmentationIndex(order: 10) == -1000)
        var pages: [PFN] = []
        while let f = b.allocate(order: 0) { pages.append(f) }
        #expect(b.fragmentationIndex(order: 0) == 0, "nothing free: failure by lack of memory")
        for f in pages where f % 2 == 0 { b.free(f, order: 0) }
        expectConsistent(b)
        #expect(b.freePages == 512)
        #expect(b.buddyinfo == [512, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0])
        #expect(b.largestFreeOrder == 0)
        #expect(b.allocate(order: 1) == nil, "half the memory is free, yet no two adjacent frames")
        #expect(b.fragmentationIndex(order: 0) == -1000)
        // 1000 - (1000 + 512 * 1000 / 2) / 512 = 1000 - 501
        #expect(b.fragmentationIndex(order: 1) == 499)
        // 1000 - (1000 + 512 * 1000 / 8) / 512 = 1000 - 126
        #expect(b.fragmentationIndex(order: 3) == 874)
        // 1000 - (1000 + 512 * 1000 / 1024) / 512 = 998: almost purely fragmentation.
        #expect(b.fragmentationIndex(order: 10) == 998)
        // Freeing the odd pages merges everything back into one order-10 block.
        for f in pages where f % 2 == 1 { b.free(f, order: 0) }
        #expect(b.buddyinfo == [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1])
        expectConsistent(b)
    }

    @Test func allocationFailsWhenNoBlockIsLargeEnough() {
        // 1000 frames: 512 + 256 + 128 + 64 + 32 + 8, no order-10 block.
        var b = BuddyAllocator(frames: FrameTable(count: 1024), managed: 0..<1000)
        #expect(b.buddyinfo == [0, 0, 0, 1, 0, 1, 1, 1, 1, 1, 0])
        #expect(b.allocate(order: 10) == nil)
        #expect(b.allocate(order: 11) == nil, "above MAX_ORDER")
        #expect(b.freePages == 1000)
        #expect(b.allocate(order: 9) == 0)
        #expect(b.allocate(order: 9) == nil)
        #expect(b.largestFreeOrder == 8)
        #expect(b.allocate(order: 8) == 512)
        #expect(b.freePages == 1000 - 512 - 256)
        expectConsistent(b)
    }

    @Test func coalescingStopsAtTheManagedRange() {
        let t = FrameTable(count: 8)
        // Frame 0 is outside the range and its flags (all zero) look like a free order-0 head.
        var b = BuddyAllocator(frames: t, managed: 1..<4)
        #expect(b.buddyinfo == [1, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0])
        let f = b.allocate(order: 0)!
        #expect(f == 1)
        b.free(f, order: 0)
        #expect(b.buddyinfo == [1, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0], "1 must not merge with frame 0")
        #expect(t.flags[0] == 0 && t.next[0] == nilFrame)
        expectConsistent(b)
    }

    @Test func checkInvariantsReportsCorruption() {
        let t = FrameTable(count: 64)
        let b = BuddyAllocator(frames: t, managed: 0..<64)
        expectConsistent(b)
        t.setUse(10, .activeAnon)  // a tail frame of the free block taken behind the allocator's back
        let problems = b.checkInvariants()
        #expect(problems.contains { $0.contains("tail frame 10") })
        t.setUse(10, .free)
        t.rmapIndex[0] = 3  // wrong order on the head
        #expect(!b.checkInvariants().isEmpty)
    }

    /// The host's EPT bits share the flags word; allocating, splitting, freeing and merging
    /// must leave them exactly as the host set them.
    @Test func eptBitsSurviveAllocationAndFree() {
        let t = FrameTable(count: 64)
        var b = BuddyAllocator(frames: t, managed: 0..<64)
        let ept = EPTEntries(flags: t.flags)
        for i in 0..<64 { ept[i] = UInt8(i % 8) }
        let a = b.allocate(order: 0)!, c = b.allocate(order: 2)!, d = b.allocate(order: 5)!
        t.setUse(a, .activeAnon); t.set(a, FrameFlag.dirty | FrameFlag.anon | FrameFlag.referenced)
        t.resetFlags(c, FrameUse.kernel.rawValue)
        #expect(t.use(a) == .activeAnon && t.has(a, FrameFlag.dirty) && t.use(c) == .kernel)
        b.free(a, order: 0); b.free(c, order: 2); b.free(d, order: 5)
        expectConsistent(b, "after free")
        #expect(b.freePages == 64 && b.freeBlocks(order: 6) == 1)
        for i in 0..<64 { #expect(ept[i] == UInt8(i % 8), "frame \(i)") }
        #expect(!t.has(a, FrameFlag.dirty), "free clears the guest's flags")
    }

    @Test func doubleFreeIsAPreconditionFailure() async {
        await #expect(processExitsWith: .failure) {
            var b = BuddyAllocator(frames: FrameTable(count: 16), managed: 0..<16)
            let f = b.allocate(order: 0)!
            b.free(f, order: 0)
            b.free(f, order: 0)
        }
    }
}
