import Foundation
import Testing
@testable import HostPolicies

@Suite struct ShareAllocationTests {
    /// The greedy process the allocation solves: one page at a time from the lowest rho.
    func greedy(_ vms: [AllocationVM], _ n: Int, tau: Double) -> [Int] {
        var take = vms.map { max(0, $0.allocatedPages - $0.limitPages) }
        var left = max(0, n - take.reduce(0, +))
        while left > 0 {
            var best = -1, bestRho = Double.infinity
            for (i, v) in vms.enumerated() where v.allocatedPages - take[i] > v.reservationPages {
                let rho = ShareAllocation.adjustedSharesPerPage(shares: v.shares, pages: v.allocatedPages - take[i], activeFraction: v.activeFraction, tau: tau)
                if rho < bestRho || best < 0 { best = i; bestRho = rho }
            }
            if best < 0 { break }
            take[best] += 1; left -= 1
        }
        return take
    }

    @Test func adjustedSharesPerPage() {
        // f = 0.5, tau = 0.75: k = 4, so each page costs 0.5 + 4 × 0.5 = 2.5; rho = 1000 / (1000 × 2.5).
        #expect(ShareAllocation.adjustedSharesPerPage(shares: 1000, pages: 1000, activeFraction: 0.5, tau: 0.75) == 0.4)
        #expect(ShareAllocation.adjustedSharesPerPage(shares: 1000, pages: 1000, activeFraction: 0.3, tau: 0) == 1)
        // tau = 1 is clamped to 0.99 (k = 100) instead of dividing by zero.
        let r = ShareAllocation.adjustedSharesPerPage(shares: 1000, pages: 1000, activeFraction: 0, tau: 1)
        #expect(r.isFinite && abs(r - 0.01) < 1e-12)
        #expect(ShareAllocation.adjustedSharesPerPage(shares: 1000, pages: 0, activeFraction: 1, tau: 0.75) == .infinity)
    }

    @Test func workedExampleIdleVMGivesMore() {
        // Two VMs, 1000 shares and 1000 pages each; A fully active, B idle; tau = 0.75 (k = 4).
        // rho_A = 1000 / (1000 × 1) = 1, rho_B = 1000 / (1000 × 4) = 0.25: B gives first.
        // Reclaim 600: B alone until its rho reaches A's (at 250 pages); 1000 − 250μ = 600 at μ = 1.6
        //   → B keeps 400 (rho 0.625 < 1): [0, 600].
        // Reclaim 900: both give, ending at equal rho: (1000 − 1000μ) + (1000 − 250μ) = 900
        //   → μ = 0.88: A keeps 880, B keeps 220 (rho 1000/880 = 250/220 = 1.136): [120, 780].
        let vms = [
            AllocationVM(shares: 1000, allocatedPages: 1000, activeFraction: 1),
            AllocationVM(shares: 1000, allocatedPages: 1000, activeFraction: 0),
        ]
        #expect(ShareAllocation.reclaimTargets(vms, pagesToReclaim: 600, tau: 0.75) == [0, 600])
        #expect(ShareAllocation.reclaimTargets(vms, pagesToReclaim: 900, tau: 0.75) == [120, 780])
        #expect(ShareAllocation.reclaimTargets(vms, pagesToReclaim: 5000, tau: 0.75) == [1000, 1000])
    }

    @Test func zeroTaxIsPurelyProportionalToShares() {
        // Shares 2000 and 1000, 1000 pages each, activity ignored at tau = 0.
        // Reclaim 800: (1000 − 2000μ) + (1000 − 1000μ) = 800 → μ = 0.4: they keep 800 and 400 (2:1).
        let vms = [
            AllocationVM(shares: 2000, allocatedPages: 1000, activeFraction: 0),
            AllocationVM(shares: 1000, allocatedPages: 1000, activeFraction: 1),
        ]
        let t = ShareAllocation.reclaimTargets(vms, pagesToReclaim: 800, tau: 0)
        #expect(t == [200, 600])
        #expect((1000 - t[0]) == 2 * (1000 - t[1]))
    }

    @Test func reservationIsNeverReclaimed() {
        let vms = [
            AllocationVM(shares: 1000, allocatedPages: 1000, activeFraction: 1),
            AllocationVM(shares: 1000, allocatedPages: 1000, activeFraction: 0, reservationPages: 700),
        ]
        // B can give only 300; A's rho reaches B's floor level at μ = 0.7: [300, 300].
        #expect(ShareAllocation.reclaimTargets(vms, pagesToReclaim: 600, tau: 0.75) == [300, 300])
        // More than reclaimable: everything above the reservations.
        #expect(ShareAllocation.reclaimTargets(vms, pagesToReclaim: 10_000, tau: 0.75) == [1000, 300])
    }

    @Test func limitExcessIsTakenFirstAndCountsTowardTheRequest() {
        let vms = [
            AllocationVM(shares: 1000, allocatedPages: 1000, activeFraction: 1, limitPages: 800),
            AllocationVM(shares: 1000, allocatedPages: 1000, activeFraction: 0),
        ]
        // Even with nothing requested, the 200 pages above A's limit go.
        #expect(ShareAllocation.reclaimTargets(vms, pagesToReclaim: 0, tau: 0.75) == [200, 0])
        // Request 500: 200 from A's limit, the other 300 from idle B (rho 0.25 vs A's 1.25).
        #expect(ShareAllocation.reclaimTargets(vms, pagesToReclaim: 500, tau: 0.75) == [200, 300])
    }

    @Test func tiesGoToTheLowestIndexAndResultsRepeat() {
        let same = Array(repeating: AllocationVM(shares: 1000, allocatedPages: 1000, activeFraction: 0.5), count: 2)
        #expect(ShareAllocation.reclaimTargets(same, pagesToReclaim: 1) == [1, 0])
        #expect(ShareAllocation.reclaimTargets(same, pagesToReclaim: 3) == [2, 1])
        // VMs without shares are drained first, in index order.
        let free = [
            AllocationVM(shares: 1000, allocatedPages: 500), AllocationVM(shares: 0, allocatedPages: 300),
            AllocationVM(shares: 0, allocatedPages: 300),
        ]
        #expect(ShareAllocation.reclaimTargets(free, pagesToReclaim: 400) == [0, 300, 100])
        let vms: [AllocationVM] = (0..<7).map { (i: Int) -> AllocationVM in
            AllocationVM(
                shares: Double(500 + 300 * i), allocatedPages: 2000 + 977 * i,
                activeFraction: Double(i % 4) / 3, reservationPages: 100 * i)
        }
        #expect(ShareAllocation.reclaimTargets(vms, pagesToReclaim: 4321) == ShareAllocation.reclaimTargets(vms, pagesToReclaim: 4321))
    }

    @Test func matchesThePageByPageGreedyProcess() {
        let vms: [AllocationVM] = (0..<6).map { (i: Int) -> AllocationVM in
            let limit: Int = i == 3 ? 1500 : .max
            return AllocationVM(
                shares: Double(400 + 350 * i), allocatedPages: 900 + 413 * i,
                activeFraction: Double((i * 7) % 5) / 4, reservationPages: 50 * i, limitPages: limit)
        }
        var spare = 0
        for v in vms { spare += min(v.allocatedPages, v.limitPages) - v.reservationPages }
        for n in [0, 1, 17, 500, 2345, 5000, spare - 1, spare, spare + 100] {
            for tau in [0, 0.5, 0.75, 0.95] {
                let t = ShareAllocation.reclaimTargets(vms, pagesToReclaim: n, tau: tau)
                let g = greedy(vms, n, tau: tau)
                #expect(t.reduce(0, +) == g.reduce(0, +), "n=\(n) tau=\(tau)")
                #expect(zip(t, g).allSatisfy { abs($0 - $1) <= 1 }, "n=\(n) tau=\(tau): \(t) vs \(g)")
                #expect(zip(t, vms).allSatisfy { $1.allocatedPages - $0 >= min($1.reservationPages, $1.allocatedPages) })
            }
        }
    }

    @Test func sharesSettings() throws {
        #expect(SharesSetting.low.shares(configuredMiB: 4096) == 20_480)
        #expect(SharesSetting.normal.shares(configuredMiB: 4096) == 40_960)
        #expect(SharesSetting.high.shares(configuredMiB: 4096) == 81_920)
        #expect(SharesSetting.custom(7).shares(configuredMiB: 4096) == 7)
        let list = try decodeJSON([SharesSetting].self, #"["low", "normal", "high", 2500]"#)
        #expect(list == [.low, .normal, .high, .custom(2500)])
        #expect(try jsonString(list) == #"["low","normal","high",2500]"#)
        do {
            _ = try decodeJSON([SharesSetting].self, #"["medium"]"#)
            Issue.record("accepted 'medium'")
        } catch {
            #expect("\(error)".contains("allowed: low, normal, high"))
        }
        #expect(throws: DecodingError.self) { try decodeJSON([SharesSetting].self, "[-5]") }
    }
}
