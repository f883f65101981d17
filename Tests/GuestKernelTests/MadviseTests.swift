import Testing
@testable import GuestKernel
import OvercommitSupport
import OvercommitTestSupport
import PageContents

/// madvise(2) after Linux's mm/madvise.c: what each advice does to pages, their bytes and
/// the counters.
@Suite struct MadviseTests {
    func pte(_ k: GuestKernel, _ pid: PID, _ vpn: VPN) -> PTE { PTE(raw: k.pteValue(k.process(pid)!, vpn)) }

    func errno(_ r: Result<Void, Errno>) -> Errno? { if case .failure(let e) = r { return e } else { return nil } }

    /// Reclaims one page at a time until nothing more can be freed (one page per call, so
    /// that a file list shorter than a batch is still scanned).
    func reclaimAll(_ k: GuestKernel) {
        while true {
            var sc = ReclaimControl(reason: .direct, nrToReclaim: 1)
            if k.reclaim(&sc) == 0 { break }
        }
    }

    @Test func dontneedFreesAnonymousMemoryAndTheNextReadSeesZero() {
        let k = makeTestKernel()
        let pid = k.spawn(name: "heap")
        let base = k.mmap(pid, pages: 64).value!
        let data = PageContent(style: .text, seed: 5)
        for v in 0..<VPN(64) { _ = k.access(pid, base + v, storing: data) }
        // Some of them swapped out: their slots must be freed too.
        reclaimAll(k)
        let swapped = k.process(pid)!.swapEntries
        #expect(swapped > 0)
        for v in 0..<VPN(32) { _ = k.access(pid, base + v, write: false) }
        let anonBefore = k.anonPages
        let freeSlotsBefore = k.swap.freeSlots
        #expect(k.madvise(pid, start: base, pages: 64, advice: .dontneed).value != nil)
        let p = k.process(pid)!
        #expect(p.rssAnon == 0)
        #expect(p.swapEntries == 0)
        #expect(k.anonPages < anonBefore)
        #expect(k.swap.freeSlots > freeSlotsBefore)
        #expect(k.vmstat.madvise_calls == 1)
        // The mapping stays: a read maps the zero page, a write zero-fills.
        #expect(k.access(pid, base, write: false).result == .minorFault)
        #expect(pte(k, pid, base).pfn == k.zeroPFN)
        #expect(k.access(pid, base + 1, write: true).result == .zeroFill)
        expectConsistent(k, "after MADV_DONTNEED")
    }

    @Test func dontneedOnAFileMappingKeepsThePageCache() {
        let k = makeTestKernel()
        let f = k.registerFile(path: "/lib", pages: 8, style: .text, contentSeed: 3)
        let pid = k.spawn(name: "reader")
        let base = k.mmap(pid, pages: 8, protection: .read, backing: .file(f, offset: 0)).value!
        for v in 0..<VPN(8) { _ = k.access(pid, base + v, write: false) }
        let cached = k.filePages
        #expect(k.process(pid)!.rssFile == 8)
        #expect(k.madvise(pid, start: base + 2, pages: 4, advice: .dontneed).value != nil)
        #expect(k.process(pid)!.rssFile == 4)
        #expect(k.filePages == cached)
        // Mapped again from the page cache: a minor fault with the file's bytes.
        #expect(k.access(pid, base + 3, write: false).result == .minorFault)
        #expect(k.content(of: pte(k, pid, base + 3).pfn) == k.files[Int(f)].diskContent(3))
        expectConsistent(k, "after MADV_DONTNEED on a file")
    }

    @Test func freeThenReclaimDiscardsWithoutSwapAndReadsZero() {
        let k = makeTestKernel()
        let pid = k.spawn(name: "heap")
        let base = k.mmap(pid, pages: 100).value!
        for v in 0..<VPN(100) { _ = k.access(pid, base + v, storing: PageContent(style: .text, seed: UInt64(v) + 1)) }
        #expect(k.madvise(pid, start: base, pages: 100, advice: .free).value != nil)
        #expect(k.vmstat.pglazyfree == 100)
        // Still resident and readable with the old data until reclaim.
        #expect(k.process(pid)!.rssAnon == 100)
        #expect(k.content(of: pte(k, pid, base + 7).pfn) == PageContent(style: .text, seed: 8))
        #expect(k.policy.count(.inactiveFile) >= 100)
        expectConsistent(k, "lazily freeable")
        let pswpout = k.vmstat.pswpout
        reclaimAll(k)
        #expect(k.vmstat.pglazyfreed == 100)
        #expect(k.vmstat.pswpout == pswpout)
        #expect(k.process(pid)!.rssAnon == 0)
        #expect(k.process(pid)!.swapEntries == 0)
        expectConsistent(k, "discarded")
        #expect(k.access(pid, base + 7, write: false).result == .minorFault)
        #expect(pte(k, pid, base + 7).pfn == k.zeroPFN)
        expectConsistent(k, "read after discard")
    }

    @Test func aWriteBeforeReclaimCancelsTheLazyFree() {
        let k = makeTestKernel()
        let pid = k.spawn(name: "heap")
        let base = k.mmap(pid, pages: 10).value!
        for v in 0..<VPN(10) { _ = k.access(pid, base + v, write: true) }
        #expect(k.madvise(pid, start: base, pages: 10, advice: .free).value != nil)
        let fresh = PageContent(style: .pointers, seed: 77)
        #expect(k.access(pid, base + 4, storing: fresh).result == .hit)
        reclaimAll(k)
        // Nine discarded; the written one swapped out (or still resident), never lost.
        #expect(k.vmstat.pglazyfreed == 9)
        let e = pte(k, pid, base + 4)
        #expect(!e.isNone)
        _ = k.access(pid, base + 4, write: false)
        #expect(k.content(of: pte(k, pid, base + 4).pfn) == fresh)
        #expect(k.frames.flags[Int(pte(k, pid, base + 4).pfn)] & FrameFlag.lazyfree == 0)
        expectConsistent(k, "write cancelled MADV_FREE")
    }

    @Test func freeDiscardsSwappedPagesAndRefusesOtherMappings() {
        let k = makeTestKernel()
        let pid = k.spawn(name: "heap")
        let base = k.mmap(pid, pages: 32).value!
        for v in 0..<VPN(32) { _ = k.access(pid, base + v, write: true) }
        reclaimAll(k)
        #expect(k.process(pid)!.swapEntries == 32)
        #expect(k.madvise(pid, start: base, pages: 32, advice: .free).value != nil)
        #expect(k.process(pid)!.swapEntries == 0)
        #expect(k.swap.freeSlots == k.swap.slotCount)
        #expect(k.access(pid, base, write: false).result == .minorFault)
        #expect(pte(k, pid, base).pfn == k.zeroPFN)
        expectConsistent(k, "MADV_FREE of swapped pages")
        // Shared or file mappings, and locked ranges, are refused as Linux does.
        let shm = k.mmap(pid, pages: 4, shared: true).value!
        #expect(errno(k.madvise(pid, start: shm, pages: 4, advice: .free)) == .EINVAL)
        #expect(k.mlock(pid, start: base, pages: 4).value != nil)
        #expect(errno(k.madvise(pid, start: base, pages: 4, advice: .dontneed)) == .EINVAL)
        // A hole in the range: ENOMEM, but the mapped part is advised.
        #expect(errno(k.madvise(pid, start: base + 4, pages: 40, advice: .dontneed)) == .ENOMEM)
        #expect(errno(k.madvise(999, start: base, pages: 1, advice: .free)) == .ESRCH)
        #expect(errno(k.madvise(pid, start: base, pages: 0, advice: .free)) == .EINVAL)
    }

    @Test func aForkedLazyFreePageIsDiscardedInBothOrKeptForBoth() {
        let k = makeTestKernel()
        let pid = k.spawn(name: "parent")
        let base = k.mmap(pid, pages: 4).value!
        for v in 0..<VPN(4) { _ = k.access(pid, base + v, write: true) }
        #expect(k.madvise(pid, start: base, pages: 4, advice: .free).value != nil)
        let child = k.fork(pid).value!
        reclaimAll(k)
        #expect(k.vmstat.pglazyfreed == 4)
        #expect(pte(k, child, base).isNone && pte(k, pid, base).isNone)
        expectConsistent(k, "fork of lazily freeable pages")
    }

    @Test func willneedReadsAheadSoTheFaultIsMinor() {
        let k = makeTestKernel()
        let f = k.registerFile(path: "/db", pages: 64, style: .text, contentSeed: 9)
        let pid = k.spawn(name: "db")
        let base = k.mmap(pid, pages: 64, protection: .read, backing: .file(f, offset: 0)).value!
        #expect(k.madvise(pid, start: base + 16, pages: 16, advice: .willneed).value != nil)
        #expect(k.vmstat.readahead == 16)
        let major = k.vmstat.pgmajfault
        for v in VPN(16)..<32 { #expect(k.access(pid, base + v, write: false).result == .minorFault) }
        #expect(k.vmstat.pgmajfault == major)
        // Anonymous: swapped pages come back into the swap cache.
        let heap = k.mmap(pid, pages: 8).value!
        for v in 0..<VPN(8) { _ = k.access(pid, heap + v, write: true) }
        reclaimAll(k)
        #expect(k.madvise(pid, start: heap, pages: 8, advice: .willneed).value != nil)
        for v in 0..<VPN(8) { #expect(k.access(pid, heap + v, write: false).result == .minorFault) }
        expectConsistent(k, "after MADV_WILLNEED")
    }

    @Test func sequentialReadsAheadOnEveryMissAndRandomNever() {
        func faults(_ advice: MemoryAdvice) -> (major: Int, readahead: Int) {
            let k = makeTestKernel()
            let f = k.registerFile(path: "/log", pages: 256, style: .text, contentSeed: 1)
            let pid = k.spawn(name: "scan")
            let base = k.mmap(pid, pages: 256, protection: .read, backing: .file(f, offset: 0)).value!
            #expect(k.madvise(pid, start: base, pages: 256, advice: advice).value != nil)
            // Every 40th page: never a cached predecessor, so normal read-ahead does not start.
            for v in stride(from: VPN(0), to: 256, by: 40) { _ = k.access(pid, base + v, write: false) }
            expectConsistent(k, "\(advice)")
            return (k.vmstat.pgmajfault, k.vmstat.readahead)
        }
        let normal = faults(.normal), sequential = faults(.sequential), random = faults(.random)
        #expect(normal.readahead == 0)
        #expect(random.readahead == 0)
        #expect(sequential.readahead == 6 * 31 + 15)  // read_ahead_kb 128: 31 pages after each miss, 15 after the last
        #expect(normal.major == 7 && sequential.major == 7)
    }

    @Test func mergeableOnlySetsTheFlagOnPrivateMappings() {
        let k = makeTestKernel()
        let pid = k.spawn(name: "vm")
        let base = k.mmap(pid, pages: 16).value!
        #expect(k.madvise(pid, start: base + 4, pages: 4, advice: .mergeable).value != nil)
        let regions = k.process(pid)!.regions.filter { $0.start >= base && $0.end <= base + 16 }
        #expect(regions.map(\.mergeable) == [false, true, false])
        #expect(k.madvise(pid, start: base, pages: 16, advice: .unmergeable).value != nil)
        #expect(k.process(pid)!.regions.allSatisfy { !$0.mergeable })
        // Advice undone: the three pieces are one region again (vma_merge).
        #expect(k.process(pid)!.regions.filter { $0.start >= base && $0.end <= base + 16 }.count == 1)
        #expect(MemoryAdvice(name: "MADV_DONTNEED") == .dontneed)
        #expect(MemoryAdvice(name: "free") == .free)
        #expect(MemoryAdvice(name: "MADV_COLD") == nil)
        expectConsistent(k, "after MADV_MERGEABLE")
    }

    @Test func adviceUndoneMergesTheFileMappingAndItsMapperRecordAgain() {
        let k = makeTestKernel()
        let pid = k.spawn(name: "reader")
        let f = k.registerFile(path: "/data", pages: 64, style: .text, contentSeed: 2)
        let base = k.mmap(pid, pages: 32, backing: .file(f, offset: 8)).value!
        #expect(k.madvise(pid, start: base + 10, pages: 5, advice: .sequential).value != nil)
        #expect(k.madvise(pid, start: base + 20, pages: 4, advice: .random).value != nil)
        #expect(k.process(pid)!.regions.filter { $0.fileID == f }.count == 5)
        #expect(k.files[Int(f)].mappers.count == 5)
        // Reading through every piece keeps the right file pages.
        for v in 0..<VPN(32) { _ = k.access(pid, base + v, write: false) }
        #expect(k.madvise(pid, start: base, pages: 32, advice: .normal).value != nil)
        let regions = k.process(pid)!.regions.filter { $0.fileID == f }
        #expect(regions.count == 1)
        #expect(regions.first.map { ($0.start, $0.end, $0.fileIndex(base)) } ?? (0, 0, -1) == (base, base + 32, 8))
        #expect(k.files[Int(f)].mappers.count == 1)
        #expect(k.files[Int(f)].mappers.first.map { ($0.start, $0.offset, $0.pages) } ?? (0, 0, 0) == (base, 8, 32))
        // A hint that differs only on one side stays split there.
        #expect(k.madvise(pid, start: base, pages: 4, advice: .random).value != nil)
        #expect(k.process(pid)!.regions.filter { $0.fileID == f }.map(\.pages) == [4, 28])
        expectConsistent(k, "after advice undone on a file mapping")
    }

    /// Random writes, reads, forks, exits and advice on a small guest under memory pressure,
    /// with the invariants and every page's bytes checked along the way (pinned seeds).
    @Test(arguments: [UInt64(1), 2, 3, 4])
    func randomAdviceUnderPressureKeepsEveryPage(seed: UInt64) {
        var r = Xoshiro256(seed: seed, component: "madvise-property")
        let k = makeTestKernel(memory: .mib(16), swap: .mib(r.chance(0.25) ? 0 : 8))
        let f = k.registerFile(path: "/data", pages: 2000, style: .text, contentSeed: seed)
        var pids: [PID] = [k.spawn(name: "p0")]
        var maps: [PID: [(VPN, Int)]] = [:]
        let advices = MemoryAdvice.allCases
        for step in 0..<1500 {
            pids.removeAll { !k.isAlive($0) }
            if pids.isEmpty { pids.append(k.spawn(name: "p\(step)")) }
            let pid = pids[r.int(below: pids.count)]
            let mine = maps[pid] ?? []
            switch r.int(below: 40) {
            case 0..<3:
                let n = r.int(in: 1...800)
                let file = r.chance(0.2)
                if case .success(let v) = k.mmap(pid, pages: n, backing: file ? .file(f, offset: r.int(below: 1000)) : .anonymous, shared: r.chance(0.1)) {
                    maps[pid, default: []].append((v, n))
                }
            case 3..<9:
                if let m = mine.isEmpty ? nil : mine[r.int(below: mine.count)] {
                    let off = r.int(below: m.1)
                    let advice = advices[r.int(below: advices.count)]
                    _ = k.madvise(pid, start: m.0 + VPN(off), pages: r.int(in: 1...(m.1 - off + 10)), advice: advice)
                }
            case 9: if pids.count < 5, case .success(let c) = k.fork(pid) { pids.append(c); maps[c] = mine }
            case 10: if pids.count > 1 { k.exit(pid) }
            case 11: _ = k.runKswapd()
            case 12:
                var sc = ReclaimControl(reason: .direct, nrToReclaim: r.int(in: 1...200))
                k.reclaim(&sc)
            default:
                guard let m = mine.isEmpty ? nil : mine[r.int(below: mine.count)] else { continue }
                for _ in 0..<30 { _ = k.access(pid, m.0 + VPN(r.int(below: m.1)), write: r.chance(0.5)) }
            }
            if step % 50 == 0 || step == 1499 {
                let problems = k.checkInvariants()
                #expect(problems.isEmpty, "seed \(seed) step \(step): \(problems.prefix(4).joined(separator: "; "))")
                if !problems.isEmpty { return }
            }
            if step % 300 == 299 { expectConsistent(k, "seed \(seed) step \(step)") }
        }
        expectConsistent(k, "seed \(seed) end")
        #expect(k.vmstat.madvise_calls > 50, "seed \(seed)")
        #expect(k.vmstat.pglazyfreed > 0, "seed \(seed): the pressure discarded lazily freed pages")
    }
}
