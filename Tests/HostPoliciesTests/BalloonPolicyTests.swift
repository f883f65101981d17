import OvercommitSupport
import Testing
@testable import HostPolicies

@Suite struct ESXBalloonPolicyTests {
    func vm(balloon: Int = 0, target: Int = 0, reclaim: Int = 0, consumed: Int = 5_000, limit: Int = .max) -> BalloonVMView {
        BalloonVMView(
            name: "vm", configuredPages: 10_000, consumedPages: consumed, balloonPages: balloon, targetPages: target,
            limitPages: limit, reclaimTargetPages: reclaim)
    }

    @Test func softStateInflatesByTheShareBasedReclaim() {
        // Worked example: the idle VM of ShareAllocation's example gives all 600 pages.
        let alloc = [
            AllocationVM(shares: 1000, allocatedPages: 1000, activeFraction: 1),
            AllocationVM(shares: 1000, allocatedPages: 1000, activeFraction: 0),
        ]
        let reclaim = ShareAllocation.reclaimTargets(alloc, pagesToReclaim: 600)
        var p = ESXBalloonPolicy()
        let view = BalloonHostView(
            usablePages: 100_000, freePages: 500, minFreePages: 1000, state: .soft, ballooningEnabled: true,
            vms: [vm(balloon: 100, target: 100, reclaim: reclaim[0]), vm(balloon: 100, target: 100, reclaim: reclaim[1])])
        #expect(p.targets(view) == [100, 700])
    }

    @Test func highAndClearDeflateGradually() {
        var p = ESXBalloonPolicy()
        for state in [HostMemoryState.high, .clear] {
            let view = BalloonHostView(
                usablePages: 100_000, freePages: 50_000, state: state,
                vms: [vm(balloon: 500, target: 500), vm(balloon: 30, target: 30), vm(balloon: 800, target: 600)])
            // 1 % of 10 000 pages per run, from the smaller of balloon and target, never below 0.
            #expect(p.targets(view) == [400, 0, 500], "\(state)")
        }
    }

    @Test func hardAndLowHoldTheBalloons() {
        var p = ESXBalloonPolicy()
        let view = BalloonHostView(
            usablePages: 100_000, freePages: 100, state: .hard, ballooningEnabled: false,
            vms: [vm(balloon: 200, target: 300, reclaim: 1000)])
        #expect(p.targets(view) == [300])
    }

    @Test func limitsAreEnforcedInEveryState() {
        var p = ESXBalloonPolicy()
        for state in HostMemoryState.allCases {
            let on = state == .soft
            // Limit 6 000 of 10 000 configured: the balloon is held at 4 000 at least.
            let view = BalloonHostView(
                usablePages: 100_000, freePages: 90_000, state: state, ballooningEnabled: on,
                vms: [
                    vm(balloon: 0, target: 0, consumed: 7_000, limit: 6_000),
                    vm(balloon: 4_000, target: 4_000, consumed: 6_000, limit: 6_000),
                    vm(balloon: 4_000, target: 4_000, consumed: 6_500, limit: 6_000),
                ])
            #expect(p.targets(view) == [4_000, 4_000, 4_500], "\(state)")
        }
    }
}

@Suite struct MOMBalloonPolicyTests {
    // usable 100 000 pages; VMs of 10 000 pages with a guaranteed minimum of 4 000.
    func vm(balloon: Int, free: Int, target: Int? = nil, minimum: Int? = 4_000) -> BalloonVMView {
        BalloonVMView(
            name: "vm", configuredPages: 10_000, balloonPages: balloon, targetPages: target ?? balloon,
            guestFreePages: free, settings: settings(minimumPages: minimum))
    }
    func host(free: Int, _ vms: [BalloonVMView]) -> BalloonHostView {
        BalloonHostView(usablePages: 100_000, freePages: free, vms: vms)
    }

    @Test func pressureShrinksGuestsAtMostFivePercent() {
        var p = MOMBalloonPolicy()
        // Host 10 % free: guests keep 20 % × 10/20 = 10 % free.
        // A: M 10 000, used 5 000: floor max(4 000, 5 000 + 1 000) = 6 000; 5 % step: 9 500 → target 500.
        // B: used 9 500: floor 10 500 > M, so no shrink: target stays.
        // C: no guaranteed minimum set (= configured): never shrunk.
        let t = p.targets(
            host(
                free: 10_000,
                [
                    vm(balloon: 0, free: 5_000), vm(balloon: 0, free: 500, target: 7),
                    vm(balloon: 0, free: 5_000, minimum: nil),
                ]))
        #expect(t == [500, 7, 0])
    }

    @Test func criticalPressurePushesGuestsBelowTheirUsedMemory() {
        var p = MOMBalloonPolicy()
        // Host 4 % free (≤ 5 %): guest free = 4 % − 5 % = −1 %. Used 9 800: floor 9 800 − 100 = 9 700 → target 300.
        #expect(p.targets(host(free: 4_000, [vm(balloon: 0, free: 200)])) == [300])
        // At 10 % free the same guest is left alone (its floor is above its memory).
        #expect(p.targets(host(free: 10_000, [vm(balloon: 0, free: 200)])) == [0])
    }

    @Test func guaranteedMemoryIsTheFloor() {
        var p = MOMBalloonPolicy()
        // M 4 100, used 100: the 5 % step (3 895) is below the minimum 4 000 → target 6 000.
        #expect(p.targets(host(free: 10_000, [vm(balloon: 5_900, free: 4_000)])) == [6_000])
    }

    @Test func withoutPressureGuestsGrowBack() {
        var p = MOMBalloonPolicy()
        // A: M 8 000, used 7 000: wants 7 000 + 20 % × 8 000 = 8 600 (more than the 5 % step 8 400) → target 1 400.
        // B: M 9 500, mostly free: 5 % step 9 975 → target 25.
        // C: change of 10 pages < 0.25 % of 9 990: target stays 10. D: not ballooned: stays.
        let t = p.targets(
            host(
                free: 50_000,
                [
                    vm(balloon: 2_000, free: 1_000), vm(balloon: 500, free: 9_000),
                    vm(balloon: 10, free: 9_000), vm(balloon: 0, free: 100, target: 0),
                ]))
        #expect(t == [1_400, 25, 10, 0])
    }
}

@Suite struct ProxmoxBalloonPolicyTests {
    // usable 100 000 pages, target 80 %; max change 100 MiB = 25 600 pages, dead band 10 MiB = 2 560 pages.
    func vm(
        _ name: String, configured: Int = 40_000, balloon: Int, free: Int, minimum: Int? = 10_000, shares: Int = 1000,
        driver: Bool = true, target: Int? = nil
    ) -> BalloonVMView {
        BalloonVMView(
            name: name, configuredPages: configured, balloonPages: balloon, targetPages: target ?? balloon, hasDriver: driver,
            guestFreePages: free, settings: settings(minimumPages: minimum) { $0.proxmox_shares = shares })
    }

    @Test func shrinkIsSplitByShares() {
        var p = ProxmoxBalloonPolicy()
        // Used 95 000: goal = 80 000 − 95 000 = −15 000 pages. Memory above minimum: 30 000 each = 60 000 → 45 000.
        // Round 1: A (1000 shares) wants 10 000 + 45 000/4 = 21 250; B (3000) wants 43 750 → capped at 40 000 (no change).
        // Round 2: only A, 11 250 + 3 750 left over = 15 000 → 25 000. A gives 15 000 pages: target 15 000.
        let view = BalloonHostView(
            usablePages: 100_000, freePages: 5_000,
            vms: [vm("a", balloon: 0, free: 20_000), vm("b", balloon: 0, free: 20_000, shares: 3000)])
        #expect(p.targets(view) == [15_000, 0])
    }

    @Test func growServesVMsShortOfMemoryFirst() {
        var p = ProxmoxBalloonPolicy()
        // Used 60 000: goal +20 000. A (MemFree 1 000 ≤ 25 % of its minimum) is short: it gets all 20 000 → target 0.
        let view = BalloonHostView(
            usablePages: 100_000, freePages: 40_000,
            vms: [vm("a", balloon: 20_000, free: 1_000), vm("b", balloon: 20_000, free: 15_000)])
        #expect(p.targets(view) == [0, 20_000])
    }

    @Test func oneRoundMovesAtMostOneHundredMiB() {
        var p = ProxmoxBalloonPolicy()
        let view = BalloonHostView(
            usablePages: 100_000, freePages: 90_000,
            vms: [vm("a", configured: 100_000, balloon: 60_000, free: 0)])
        #expect(p.targets(view) == [60_000 - 25_600])
        // A full host wants 20 000 pages back; with max_change 40 MiB one round takes 10 240.
        var params = ProxmoxBalloonParameters()
        params.max_change = .mib(40)
        var shrink = ProxmoxBalloonPolicy(params)
        let full = BalloonHostView(
            usablePages: 100_000, freePages: 0,
            vms: [vm("a", configured: 100_000, balloon: 0, free: 50_000)])
        #expect(shrink.targets(full) == [10_240])
    }

    @Test func smallGoalsAndExcludedVMsAreLeftAlone() {
        var p = ProxmoxBalloonPolicy()
        // Goal −2 000 pages (inside the 10 MiB dead band): nothing moves.
        let small = BalloonHostView(usablePages: 100_000, freePages: 18_000, vms: [vm("a", balloon: 0, free: 20_000, target: 5)])
        #expect(p.targets(small) == [5])
        // Under pressure, VMs without a minimum, with zero shares or without a driver keep their targets.
        let excluded = BalloonHostView(
            usablePages: 100_000, freePages: 0,
            vms: [
                vm("a", balloon: 0, free: 20_000, minimum: nil, target: 1), vm("b", balloon: 0, free: 20_000, shares: 0, target: 2),
                vm("c", balloon: 0, free: 20_000, driver: false, target: 3),
            ])
        #expect(p.targets(excluded) == [1, 2, 3])
        // Never below the minimum: a VM at its minimum is not shrunk further.
        let atMin = BalloonHostView(usablePages: 100_000, freePages: 0, vms: [vm("a", balloon: 30_000, free: 5_000)])
        #expect(p.targets(atMin) == [30_000])
    }
}

@Suite struct XenServerBalloonPolicyTests {
    // Two VMs of 10 000 pages: dynamic_min 5 000 (default half), dynamic_max 10 000; reserve = minFree 1 000.
    func vm(_ name: String, consumed: Int, balloon: Int = 0, target: Int = 0, dmin: Int? = nil) -> BalloonVMView {
        BalloonVMView(
            name: name, configuredPages: 10_000, consumedPages: consumed, balloonPages: balloon, targetPages: target,
            settings: settings { if let dmin { $0.dynamic_min = .pages(dmin) } })
    }
    func host(free: Int, at t: Int64 = 0, _ vms: [BalloonVMView]) -> BalloonHostView {
        BalloonHostView(timeNs: t, usablePages: 30_000, freePages: free, minFreePages: 1_000, vms: vms)
    }

    @Test func everyVMAtTheSameFraction() {
        var p = XenServerBalloonPolicy()
        // surplus = 3 000 − 1 000 + (8 000 − 5 000) × 2 = 8 000 over a total range of 10 000: x = 0.8.
        // Memory target 5 000 + 0.8 × 5 000 = 9 000: balloon 1 000 each.
        #expect(p.targets(host(free: 3_000, [vm("a", consumed: 8_000), vm("b", consumed: 8_000)])) == [1_000, 1_000])
        // More pressure (free 1 000): x = 0.6 → balloons 2 000. No pressure: x = 1 → no balloon.
        #expect(p.targets(host(free: 1_000, [vm("a", consumed: 8_000), vm("b", consumed: 8_000)])) == [2_000, 2_000])
        #expect(p.targets(host(free: 20_000, [vm("a", consumed: 8_000), vm("b", consumed: 8_000)])) == [0, 0])
        // Different ranges, same fraction: A 2 000...10 000, B 5 000...10 000; surplus 1 000 + 4 000 + 3 000 = 8 000,
        // x = 8/13: A 2 000 + 4 923 = 6 923 (balloon 3 077), B 5 000 + 3 076 = 8 076 (balloon 1 924).
        let t = p.targets(host(free: 2_000, [vm("a", consumed: 6_000, dmin: 2_000), vm("b", consumed: 8_000)]))
        #expect(t == [3_077, 1_924])
        // Never below dynamic_min, whatever the pressure.
        #expect(p.targets(host(free: 0, [vm("a", consumed: 5_000), vm("b", consumed: 5_000)])) == [5_000, 5_000])
    }

    @Test func stuckBalloonsAreLeftOut() {
        var p = XenServerBalloonPolicy()
        // t = 0: A has a target of 1 000 it has not reached; both active.
        #expect(p.targets(host(free: 3_000, at: 0, [vm("a", consumed: 8_000, target: 1_000), vm("b", consumed: 8_000)])) == [1_000, 1_000])
        #expect(p.stuckVMs.isEmpty)
        // t = 6 s: A has not moved for more than 5 s: inactive, it keeps its target and its memory
        // no longer counts as freeable: x = (3 000 − 1 000 + 3 000) / 5 000 = 1 → B unballooned.
        let later = p.targets(host(free: 3_000, at: 6_000_000_000, [vm("a", consumed: 8_000, target: 1_000), vm("b", consumed: 8_000)]))
        #expect(p.stuckVMs == ["a"])
        #expect(later == [1_000, 0])
        // Tighter host: with A stuck, B takes the whole cut (x = (1 000 − 1 000 + 3 000) / 5 000 = 0.6 → 2 000).
        let tight = p.targets(host(free: 1_000, at: 7_000_000_000, [vm("a", consumed: 8_000, target: 1_000), vm("b", consumed: 8_000)]))
        #expect(tight == [1_000, 2_000])
        // t = 8 s: A's balloon moved toward its target: active again.
        _ = p.targets(host(free: 1_000, at: 8_000_000_000, [vm("a", consumed: 7_900, balloon: 100, target: 1_000), vm("b", consumed: 8_000)]))
        #expect(p.stuckVMs.isEmpty)
    }

    @Test func reserveCanBeSet() {
        var params = XenServerBalloonParameters()
        params.host_reserve = .pages(3_000)
        var p = XenServerBalloonPolicy(params)
        // surplus = 3 000 − 3 000 + 6 000 = 6 000: x = 0.6.
        #expect(p.targets(host(free: 3_000, [vm("a", consumed: 8_000), vm("b", consumed: 8_000)])) == [2_000, 2_000])
    }
}

@Suite struct StaticAndNoBalloonPolicyTests {
    @Test func staticHoldsEachVMsTargetAndNoneZeroes() {
        let vms = [
            BalloonVMView(
                name: "a", configuredPages: 10_000, balloonPages: 5, targetPages: 9,
                settings: settings { $0.static_target = .mib(8) }),
            BalloonVMView(name: "b", configuredPages: 10_000, balloonPages: 700, targetPages: 700),
        ]
        for state in HostMemoryState.allCases {
            let view = BalloonHostView(
                usablePages: 100_000, freePages: state == .high ? 90_000 : 10, state: state,
                ballooningEnabled: state == .soft, vms: vms)
            var s = StaticBalloonPolicy()
            #expect(s.targets(view) == [2_048, 0])
            var n = NoBalloonPolicy()
            #expect(n.targets(view) == [0, 0])
        }
    }
}
