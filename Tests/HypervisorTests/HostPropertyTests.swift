import Testing
import OvercommitTestSupport
@testable import GuestKernel
@testable import Hypervisor
import HostPolicies
import OvercommitSupport
import PageContents

/// Random interleavings of guest activity and every host technique on two guests sharing a
/// small host, with host frame conservation, the p2m and sharing tables, the guest kernels'
/// invariants and every page's bytes checked along the way. Seeds are pinned; a failure
/// names its seed and step.
@Suite struct HostPropertyTests {
    static let seeds: [UInt64] = Array(1...8)

    @Test(arguments: seeds)
    func randomHostAndGuestOperationsLoseNothing(seed: UInt64) {
        var r = Xoshiro256(seed: seed, component: "host-property")
        let host = makeHost(mib: 112) {
            $0.large_pages = r.chance(0.5)
            $0.sharing.salting = r.int(below: 3)
            $0.sharing.pages_to_scan = 500
            $0.sharing.scan_order = r.chance(0.5) ? .random : .sequential
            $0.compression.threshold = Percentage(percent: Double(r.int(in: 30...90)))
            $0.compression.cache_size = Percentage(percent: Double(r.int(in: 1...20)))
            $0.swap.victim_selection = r.chance(0.5) ? .random : .accessed
        }
        var guests: [(GuestKernel, VirtualMachine, FileID, [PID], [(PID, VPN)])] = []
        for n in 0..<2 {
            let (k, vm) = addGuest(host, "g\(n)", mib: 40, swapMiB: 24) { $0.pshareSalt = r.chance(0.5) ? "pool" : nil }
            let f = k.registerFile(path: "/shared/lib", pages: 1500, style: .code, contentSeed: 77)
            guests.append((k, vm, f, [k.spawn(name: "init")], []))
        }
        var now: Int64 = 0
        for step in 0..<1500 {
            let gi = r.int(below: 2)
            let (k, vm, f, _, _) = guests[gi]
            guests[gi].3.removeAll { !k.isAlive($0) }
            if guests[gi].3.isEmpty { guests[gi].3.append(k.spawn(name: "p\(step)")) }
            let pid = guests[gi].3[r.int(below: guests[gi].3.count)]
            switch r.int(below: 100) {
            case 0..<5:
                k.setAnonContentMix(pid, [(.sparse, 0.3), (.text, 0.3), (.random, 0.2), (.zero, 0.1), (.pattern, 0.1)])
                if let v = k.mmap(pid, pages: r.int(in: 50...800)).value { guests[gi].4.append((pid, v)) }
            case 5..<7:
                if let m = guests[gi].4.filter({ $0.0 == pid }).last { _ = k.munmap(pid, start: m.1, pages: r.int(in: 1...200)) }
            case 7..<9:
                if guests[gi].3.count < 5, let c = k.fork(pid).value { guests[gi].3.append(c) }
            case 9: if guests[gi].3.count > 1 { k.exit(pid) }
            case 10..<16: for _ in 0..<20 { _ = k.fileRead(pid, file: f, page: r.int(below: 1500)) }
            case 16..<18: _ = k.fileWrite(pid, file: f, page: r.int(below: 1500))
            case 18..<26: _ = host.runSharingScanner()
            case 26..<32: vm.pageOut(r.int(in: 1...400), compress: r.chance(0.7), swap: r.chance(0.8))
            case 32..<36: k.balloonInflate(pages: r.int(in: 1...600))
            case 36..<39: k.balloonDeflate(pages: r.int(in: 1...600))
            case 39..<42:
                let rr = r.int(below: vm.largeRegion.count)
                breakLargePage(host, vm, rr, shareFirst: r.chance(0.5))
            case 42..<46: now += 100_000_000; host.runScheduler(now: now)
            case 46:
                // The whole-guest clear drops exactly the cached translations that walking the
                // reverse map of each accessed frame drops (testAndClearAllEPTAccessed).
                let expected = guests.map { expectedAfterClearingAccessedBits($0.0) }
                host.sampleActiveMemory()
                for (n, g) in guests.enumerated() {
                    let k = g.0, pt = k.pageTables
                    #expect(g.1.trueActivePages == expected[n].count, "seed \(seed) step \(step) g\(n): pages counted as accessed")
                    #expect(
                        Array(UnsafeBufferPointer(start: pt.entries, count: pt.entryCount)) == expected[n].entries,
                        "seed \(seed) step \(step) g\(n): page-table entries after the clear")
                    #expect((0..<k.totalPages).allSatisfy { k.ept[$0] & GuestKernel.eptAccessed == 0 }, "seed \(seed) step \(step) g\(n)")
                }
            case 47..<50: _ = k.runKswapd()
            case 50: k.runPeriodicAging(dirtyExpired: r.chance(0.3))
            default:
                let mine = guests[gi].4.filter { $0.0 == pid }
                guard let m = mine.isEmpty ? nil : mine[r.int(below: mine.count)] else { continue }
                for _ in 0..<30 { _ = k.access(pid, m.1 + VPN(r.int(below: 800)), write: r.chance(0.4)) }
            }
            if step % 100 == 99 {
                let problems = host.checkInvariants() + guests.flatMap { $0.0.checkInvariants() }
                #expect(problems.isEmpty, "seed \(seed) step \(step): \(problems.prefix(4).joined(separator: "; "))")
                if !problems.isEmpty { return }
                expectHostConsistent(host, "seed \(seed) step \(step)")
            }
        }
        #expect(!host.outOfMemory, "seed \(seed): host out of memory")
        let techniques = host.vms.reduce(0) { $0 + $1.stats.compressions + $1.stats.swapOuts + $1.stats.merges + $1.stats.balloonReclaimed }
        #expect(techniques > 0, "seed \(seed): no host technique ran")
    }
}

/// What clearing every EPT accessed bit of `k` frame by frame leaves: the number of bits set,
/// and the page-table entries after each accessed frame's reverse-map walk.
func expectedAfterClearingAccessedBits(_ k: GuestKernel) -> (count: Int, entries: [UInt32]) {
    let pt = k.pageTables
    var entries = Array(UnsafeBufferPointer(start: pt.entries, count: pt.entryCount))
    var count = 0
    for pfn in 0..<k.totalPages where k.ept[pfn] & GuestKernel.eptAccessed != 0 {
        count += 1
        k.forEachPTE(of: PFN(pfn)) { idx in entries[idx] &= ~PTE.hostBit }
    }
    return (count, entries)
}
