import OvercommitSupport
import Testing
@testable import HostPolicies

@Suite struct ActiveMemoryEstimatorTests {
    @Test func unmeasuredVMIsFullyActiveAndFirstPeriodSeeds() {
        var e = ActiveMemoryEstimator()
        #expect(e.estimate == 1)
        e.addPeriod(touched: 20, sampled: 100)
        #expect(e.estimate == 0.2 && e.fast == 0.2 && e.slow == 0.2)
    }

    @Test func respondsAtOnceToIncreases() {
        var e = ActiveMemoryEstimator()
        e.addPeriod(touched: 20, sampled: 100)
        e.addPeriod(touched: 80, sampled: 100)
        // fast = 0.2 + 0.5 × 0.6 = 0.5, slow = 0.2 + 0.125 × 0.6 = 0.275; the last period (0.8) wins.
        #expect(abs(e.fast - 0.5) < 1e-12 && abs(e.slow - 0.275) < 1e-12)
        #expect(e.estimate == 0.8)
    }

    @Test func decaysSlowlyAfterTheVMGoesIdle() {
        var e = ActiveMemoryEstimator()
        e.addPeriod(touched: 80, sampled: 100)
        e.addPeriod(touched: 0, sampled: 100)
        #expect(abs(e.estimate - 0.7) < 1e-12)  // slow: 0.8 − 0.125 × 0.8
        e.addPeriod(touched: 0, sampled: 100)
        #expect(abs(e.estimate - 0.6125) < 1e-12)  // 0.7 × 0.875
        for _ in 0..<40 { e.addPeriod(touched: 0, sampled: 100) }
        #expect(e.estimate < 0.01)
    }

    @Test func emptyPeriodsAndOvercountsAreHandled() {
        var e = ActiveMemoryEstimator()
        e.addPeriod(touched: 0, sampled: 0)
        #expect(e.periods == 0 && e.estimate == 1)
        e.addPeriod(touched: 150, sampled: 100)
        #expect(e.estimate == 1 && e.periods == 1)
    }

    @Test func configDecodingAndValidation() throws {
        let c = try decodeJSON(ActiveMemoryEstimatorConfig.self, #"{"period": "30s", "slow_weight": 0.25}"#)
        #expect(c.period == .seconds(30) && c.slow_weight == 0.25 && c.sample_pages == 100 && c.fast_weight == 0.5)
        #expect(try roundTrip(c) == c)
        #expect(ActiveMemoryEstimatorConfig().validationProblems().isEmpty)
        var bad = ActiveMemoryEstimatorConfig()
        bad.sample_pages = 0; bad.slow_weight = 0.9; bad.period = .ns(0)
        #expect(bad.validationProblems().map(\.key) == ["sample_pages", "period", "slow_weight"])
    }
}
