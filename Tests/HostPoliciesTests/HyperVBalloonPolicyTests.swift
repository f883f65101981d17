import OvercommitSupport
import Testing
@testable import HostPolicies

/// The Hyper-V Dynamic Memory policy: demand × (1 + buffer) within [minimum, maximum], by
/// weight when the host is short, negative targets (hot-add) above what the guest sees.
@Suite struct HyperVBalloonPolicyTests {
    /// A VM of 10 000 pages maximum that sees `online`, with startup 4000 and minimum 2000.
    func vm(
        demand: Int, online: Int = 4000, balloon: Int = 0, consumed: Int = 3000, weight: Int = 5000,
        buffer: Int = 20, minimum: Int? = 2000
    ) -> BalloonVMView {
        var s = BalloonVMSettings()
        s.startup_memory = .pages(4000)
        s.minimum = minimum.map { .pages($0) }
        s.memory_weight = weight
        s.memory_buffer = Percentage(percent: Double(buffer))
        return BalloonVMView(
            name: "vm", configuredPages: 10_000, consumedPages: consumed, balloonPages: balloon, targetPages: balloon,
            settings: s, onlinePages: online, memoryDemandPages: demand)
    }

    @Test func targetIsDemandPlusBufferClampedToMinimumAndMaximum() {
        #expect(HyperVBalloonPolicy.wantedPages(vm(demand: 3000)) == 3600)
        #expect(HyperVBalloonPolicy.wantedPages(vm(demand: 3000, buffer: 50)) == 4500)
        #expect(HyperVBalloonPolicy.wantedPages(vm(demand: 1000)) == 2000, "at least Minimum RAM")
        #expect(HyperVBalloonPolicy.wantedPages(vm(demand: 1000, minimum: nil)) == 4000, "Minimum RAM defaults to Startup RAM")
        #expect(HyperVBalloonPolicy.wantedPages(vm(demand: 9000)) == 10_000, "at most Maximum RAM (configured memory)")
    }

    @Test func belowWhatTheGuestSeesItBalloonsAboveItAsksForHotAdd() {
        var p = HyperVBalloonPolicy()
        let view = BalloonHostView(
            usablePages: 100_000, freePages: 50_000, minFreePages: 1000,
            vms: [vm(demand: 2500), vm(demand: 5000), vm(demand: 5000, online: 8000)])
        // 3000 of 4000 visible: balloon 1000; 6000 wanted of 4000: -2000 (hot-add 2000);
        // 6000 of 8000 visible (after earlier hot-adds): balloon 2000, nothing hot-removed.
        #expect(p.targets(view) == [1000, -2000, 2000])
    }

    @Test func whenShortMemoryAboveTheMinimumsGoesByWeight() {
        // Pool: free 1000 - reserve 1000 + consumed 3 × 3000 = 9000; minimums 3 × 2000 =
        // 6000; 3000 left for wants of 4000 each, weights 1:1:2.
        let out = HyperVBalloonPolicy.distribute(pool: 9000, lo: [2000, 2000, 2000], hi: [6000, 6000, 6000], weights: [2500, 2500, 5000])
        #expect(out == [2750, 2750, 3500])
        // A VM capped at its target leaves the rest to the others, still by weight.
        let capped = HyperVBalloonPolicy.distribute(pool: 9000, lo: [2000, 2000, 2000], hi: [2200, 6000, 6000], weights: [5000, 5000, 10_000])
        #expect(capped == [2200, 2933, 3867])
        // Enough for everyone: every VM gets its target, whatever its weight.
        #expect(HyperVBalloonPolicy.distribute(pool: 20_000, lo: [2000, 2000], hi: [3000, 6000], weights: [0, 10_000]) == [3000, 6000])
        // Weight 0 gets only its minimum while a weighted VM still wants memory, then what is left.
        #expect(HyperVBalloonPolicy.distribute(pool: 7000, lo: [2000, 2000], hi: [6000, 6000], weights: [0, 5000]) == [2000, 5000])
        #expect(HyperVBalloonPolicy.distribute(pool: 9000, lo: [2000, 2000], hi: [6000, 3000], weights: [0, 5000]) == [6000, 3000])
        #expect(HyperVBalloonPolicy.distribute(pool: 8000, lo: [2000, 2000], hi: [6000, 3000], weights: [0, 5000]) == [5000, 3000])
        // Less than the minimums: every VM keeps its minimum (Hyper-V never goes below it).
        #expect(HyperVBalloonPolicy.distribute(pool: 1000, lo: [2000, 2000], hi: [6000, 6000], weights: [1, 1]) == [2000, 2000])
    }

    @Test func theHostViewFeedsTheWeightedSplit() {
        var p = HyperVBalloonPolicy()
        let view = BalloonHostView(
            usablePages: 20_000, freePages: 1000, minFreePages: 1000,
            vms: [vm(demand: 5000, weight: 2500), vm(demand: 5000, weight: 2500), vm(demand: 5000, weight: 5000)])
        #expect(p.targets(view) == [4000 - 2750, 4000 - 2750, 4000 - 3500])
    }

    @Test func vmsWithoutADriverKeepTheirTarget() {
        var p = HyperVBalloonPolicy()
        var off = vm(demand: 100, balloon: 7)
        off.hasDriver = false
        let view = BalloonHostView(usablePages: 100_000, freePages: 50_000, vms: [off, vm(demand: 100)])
        #expect(p.targets(view) == [7, 2000])
    }

    @Test func registryListsHyperVWithItsKnobs() throws {
        let kind = try #require(BalloonPolicyKind(rawValue: "hyperv"))
        #expect(BalloonPolicyKind.allCases.contains(kind))
        #expect(kind.summary.contains("Hyper-V"))
        let spec = kind.defaultSpec
        #expect(spec.parameters.interval == .seconds(1))
        #expect(HyperVBalloonParameters.fields.map(\.key) == ["interval", "host_reserve"])
        let keys = BalloonVMSettings.fields.map(\.key)
        for k in ["startup_memory", "minimum", "memory_buffer", "memory_weight"] { #expect(keys.contains(k)) }
        let d = BalloonVMSettings()
        #expect(d.memory_buffer == Percentage(percent: 20) && d.memory_weight == 5000 && d.startup_memory == nil)
    }

    @Test func settingsRefuseAMinimumAboveStartupAndStartupAboveMaximum() {
        var s = BalloonVMSettings()
        s.startup_memory = .mib(512)
        s.minimum = .mib(768)
        #expect(s.validationProblems(configured: .gib(2)).contains { $0.0 == "minimum" })
        s.minimum = .mib(256)
        #expect(s.validationProblems(configured: .gib(2)).isEmpty)
        s.startup_memory = .gib(3)
        #expect(s.validationProblems(configured: .gib(2)).contains { $0.0 == "startup_memory" })
        s.startup_memory = .mib(512)
        s.memory_weight = 10_001
        #expect(s.validationProblems(configured: .gib(2)).contains { $0.0 == "memory_weight" })
    }
}
