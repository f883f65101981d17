import Testing
import OvercommitTestSupport
@testable import GuestKernel
import OvercommitSupport
import PageContents

/// A tiny oracle over a fixed reference string (for OPT).
final class StringOracle: FutureReferenceOracle {
    var positions: [VPN: [Int]] = [:]
    var position = 0
    let pid: PID
    init(pid: PID, refs: [VPN]) {
        self.pid = pid
        for (i, r) in refs.enumerated() { positions[r, default: []].append(i) }
    }
    func nextUse(pid: PID, vpn: VPN) -> Int {
        guard let ps = positions[vpn] else { return Int.max }
        var lo = 0, hi = ps.count
        while lo < hi { let m = (lo + hi) / 2; if ps[m] <= position { lo = m + 1 } else { hi = m } }
        return lo < ps.count ? ps[lo] : Int.max
    }
}

@Suite struct PolicyTests {
    /// Runs a reference string over a guest whose memory holds about `frames` user pages and
    /// counts major faults (libCacheSim-style miss counts).
    func majorFaults(_ policy: ReplacementPolicyKind, refs: [Int]) -> Int {
        let k = makeTestKernel(memory: .mib(16), swap: .mib(32)) {
            $0.replacement_policy = policy; $0.kernel_reserved = .mib(8)
        }
        let pid = k.spawn(name: "t")
        let pages = (refs.max() ?? 0) + 1
        let base = k.mmap(pid, pages: pages).value!
        let oracle = StringOracle(pid: pid, refs: refs.map { base + VPN($0) })
        k.installOracle(oracle)
        for (i, r) in refs.enumerated() {
            oracle.position = i
            _ = k.access(pid, base + VPN(r), write: true)
        }
        expectConsistent(k, "\(policy)")
        return k.vmstat.pgmajfault
    }

    @Test func allPoliciesRunAndOPTIsBest() {
        // A loop over more pages than fit, plus a hot set: classic case where LRU thrashes.
        var refs: [Int] = []
        var r = Xoshiro256(seed: 3)
        for round in 0..<3 {
            for i in 0..<2500 { refs.append(i); if i % 4 == 0 { refs.append(2500 + r.int(below: 50)) } }
            _ = round
        }
        var faults: [ReplacementPolicyKind: Int] = [:]
        for p in ReplacementPolicyKind.allCases { faults[p] = majorFaults(p, refs: refs) }
        for p in ReplacementPolicyKind.allCases where p != .opt { #expect(faults[.opt]! <= faults[p]!, "OPT \(faults[.opt]!) vs \(p) \(faults[p]!)") }
        // A cyclic scan larger than memory makes LRU and FIFO miss on every re-reference.
        #expect(faults[.lru]! > faults[.opt]! * 2)
    }

    @Test func exactLRUEvictsTheLeastRecentlyUsed() {
        let k = makeTestKernel(memory: .mib(16), swap: .mib(32)) { $0.replacement_policy = .lru }
        let pid = k.spawn(name: "t")
        let base = k.mmap(pid, pages: 100).value!
        for i in 0..<100 { _ = k.access(pid, base + VPN(i), write: true) }
        _ = k.access(pid, base, write: false)  // page 0 becomes most recent
        var victims: [PFN] = []
        var st = VMStat()
        k.policy.isolateVictims(anon: 1, file: 0, into: &victims, stats: &st)
        #expect(victims.count == 1)
        #expect(victims[0] == PTE(raw: k.pteValue(k.process(pid)!, base + 1)).pfn)
        k.policy.putBack(victims[0], anon: true)
    }

    @Test func clockGivesASecondChance() {
        let k = makeTestKernel(memory: .mib(16), swap: .mib(32)) { $0.replacement_policy = .clock }
        let pid = k.spawn(name: "t")
        let base = k.mmap(pid, pages: 4).value!
        for i in 0..<4 { _ = k.access(pid, base + VPN(i), write: true) }
        for i in 0..<4 { _ = k.testAndClearReferenced(PTE(raw: k.pteValue(k.process(pid)!, base + VPN(i))).pfn) }
        _ = k.access(pid, base, write: false)  // oldest page referenced again
        var victims: [PFN] = []
        var st = VMStat()
        k.policy.isolateVictims(anon: 1, file: 0, into: &victims, stats: &st)
        #expect(victims == [PTE(raw: k.pteValue(k.process(pid)!, base + 1)).pfn])
        #expect(st.pgrotated == 1)
    }
}
