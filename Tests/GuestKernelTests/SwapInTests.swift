import Testing
import OvercommitTestSupport
@testable import GuestKernel
import OvercommitSupport
import PageContents

/// Swap-in and recency as Linux counts them: do_swap_page (mm/memory.c, Linux >= 5.19) maps an
/// exclusive page of a writable VMA writable at once; exact LRU sees faulting accesses too.
@Suite struct SwapInTests {
    @Test func aSwapAreaCostsWhatItsUsedSlotsCostNotItsSize() {
        var area = SwapArea(slots: 1 << 24)  // 64 GiB of swap
        #expect(area.capacityBytes == 0)
        for _ in 0..<1000 {
            let s = Int(area.allocate()!)
            area.swapMap[s] = 1
            area.slotContent[s] = PageContent(raw: UInt64(s + 1))
        }
        #expect(area.usedSlots == 1000 && area.freeSlots == (1 << 24) - 1000)
        #expect(area.capacityBytes < 1000 * 18 * 4, "\(area.capacityBytes) bytes for 1000 slots")
        #expect(area.isFree(5000) && area.swapMap[1 << 23] == 0 && area.slotFrame[1 << 23] == nilFrame, "unused slots read as free")
        #expect(area.checkInvariants().isEmpty)
    }

    /// The swap cache's frame -> slot index against a dictionary model: inserts, updates and
    /// removals at random, with clustered frames so that runs wrap and deletions shift.
    @Test(arguments: [UInt64(1), 2, 3])
    func theSwapCacheIndexAgreesWithADictionaryModel(seed: UInt64) {
        var r = Xoshiro256(seed: seed, component: "swap-cache-index-property")
        var index = SwapCacheIndex()
        var model: [PFN: UInt32] = [:]
        for step in 0..<40_000 {
            // Frames from a small range (collisions, long runs) or anywhere in 32 bits.
            let f = r.chance(0.8) ? PFN(r.next(below: 3000)) : PFN(r.next(below: UInt64(nilFrame)))
            if r.chance(0.55) {
                let slot = UInt32(truncatingIfNeeded: r.next())
                index[f] = slot
                model[f] = slot
            } else {
                index[f] = nil
                model[f] = nil
            }
            if step % 997 == 0 {
                #expect(index.count == model.count, "seed \(seed), step \(step)")
                #expect(index.capacity * 3 >= index.count * 4, "seed \(seed), step \(step): over 3/4 full")
            }
            #expect(index[f] == model[f], "seed \(seed), step \(step): frame \(f)")
        }
        for (f, s) in model.sorted(by: { $0.key < $1.key }) { #expect(index[f] == s, "seed \(seed): frame \(f)") }
        let listed = index.map { ($0.key, $0.value) }.sorted { $0.0 < $1.0 }
        #expect(listed.map(\.0) == model.keys.sorted(), "seed \(seed): iteration lists every frame once")
        #expect(listed.allSatisfy { model[$0.0] == $0.1 }, "seed \(seed)")
        #expect(index.footprintBytes == index.capacity * 8)
    }

    /// A process that wrote more than RAM: its first pages are in swap.
    func swappedProcess(_ k: GuestKernel, pages: Int = 20_000) -> (PID, VPN) {
        let pid = k.spawn(name: "big")
        let base = k.mmap(pid, pages: pages).value!
        for i in 0..<pages { _ = k.access(pid, base + VPN(i), write: true) }
        return (pid, base)
    }

    func firstSwapped(_ k: GuestKernel, _ pid: PID, _ base: VPN, from: Int = 0) -> VPN? {
        (from..<20_000).map { base + VPN($0) }.first { PTE(raw: k.pteValue(k.process(pid)!, $0)).isSwap }
    }

    @Test func aPageSwappedInByAReadDoesNotFaultOnItsFirstWrite() {
        let k = makeTestKernel(memory: .mib(64), swap: .mib(128))
        let (pid, base) = swappedProcess(k)
        #expect(k.vmstat.pswpout > 0)
        guard let v = firstSwapped(k, pid, base) else { Issue.record("nothing was swapped"); return }
        let r = k.access(pid, v, write: false).result
        #expect(r == .majorFault || r == .minorFault)
        // Exclusive and in a writable mapping: writable at once, still in the swap cache (clean).
        let e = PTE(raw: k.pteValue(k.process(pid)!, v))
        #expect(e.isPresent && e.isWritable && k.frames.has(e.pfn, FrameFlag.swapCache))
        let faults = k.vmstat.pgfault
        #expect(k.access(pid, v, write: true).result == .hit)
        #expect(k.vmstat.pgfault == faults)
        expectConsistent(k, "after the write")
        // Evicted again, the written page must be written to its slot again (it is dirty).
        let out = k.vmstat.pswpout
        let other = k.spawn(name: "other")
        let ob = k.mmap(other, pages: 16_000).value!
        for i in 0..<16_000 { _ = k.access(other, ob + VPN(i), write: true) }
        #expect(k.vmstat.pswpout > out)
        _ = k.access(pid, v, write: false)
        expectConsistent(k, "after the page came back")
    }

    @Test func aSharedSwapEntryStaysReadOnlyAndCopiesOnWrite() {
        let k = makeTestKernel(memory: .mib(64), swap: .mib(128))
        let (pid, base) = swappedProcess(k)
        guard let v = firstSwapped(k, pid, base) else { Issue.record("nothing was swapped"); return }
        let child = k.fork(pid).value!
        // Parent and child both hold the swap entry: not exclusive.
        _ = k.access(pid, v, write: false)
        let e = PTE(raw: k.pteValue(k.process(pid)!, v))
        #expect(e.isPresent && !e.isWritable)
        #expect(k.access(pid, v, write: true).result == .cowCopy)
        #expect(k.isAlive(child))
        expectConsistent(k)
    }

    @Test func swapOverHalfFullFreesTheSlotOnARead() {
        // 24 MiB of swap for 80 MiB written into 64 MiB: more than half the slots in use.
        let k = makeTestKernel(memory: .mib(64), swap: .mib(24))
        let (pid, base) = swappedProcess(k)
        #expect(k.swap.freeSlots * 2 < k.swap.slotCount)
        guard let v = firstSwapped(k, pid, base) else { Issue.record("nothing was swapped"); return }
        _ = k.access(pid, v, write: false)
        let e = PTE(raw: k.pteValue(k.process(pid)!, v))
        // should_try_to_free_swap(): vm_swap_full() drops the slot; the page is dirty and writable.
        #expect(e.isPresent && e.isWritable && !k.frames.has(e.pfn, FrameFlag.swapCache) && k.frames.has(e.pfn, FrameFlag.dirty))
        expectConsistent(k)
    }

    @Test func exactLRUCountsAFaultingAccess() {
        let k = makeTestKernel(memory: .mib(64), swap: .mib(32)) { $0.replacement_policy = .lru }
        let f = k.registerFile(path: "/lib/libx.so", pages: 64, style: .code, contentSeed: 3)
        let a = k.spawn(name: "a"), b = k.spawn(name: "b")
        let va = k.mmap(a, pages: 64, protection: .readExec, backing: .file(f, offset: 0)).value!
        let vb = k.mmap(b, pages: 64, protection: .readExec, backing: .file(f, offset: 0)).value!
        for i in 0..<64 { _ = k.access(a, va + VPN(i), write: false) }
        let lru = k.policy as! SingleListPolicy
        let page0 = PTE(raw: k.pteValue(k.process(a)!, va)).pfn
        #expect(lru.resident.list.head != page0)
        // b's first access to page 0 is a minor fault (the page is cached): it is a reference.
        #expect(k.access(b, vb, write: false).result == .minorFault)
        #expect(lru.resident.list.head == page0)
        expectConsistent(k)
    }
}
