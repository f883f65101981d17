import OvercommitSupport
import Testing
@testable import Scenarios
@testable import Simulation

/// Every numeric key is bounded, and `validate` refuses what `run` could not survive: the
/// reproducers of issue 12 (values that trapped, periods that made a run crawl).
@Suite struct ParameterBoundsTests {
    static let guest = "guests: [{name: g, memory: 256MiB}]\n"

    func problems(_ yaml: String) -> [ScenarioError] {
        do {
            _ = try ScenarioLoader.load(text: yaml, file: "b.yaml")
            return []
        } catch {
            return error.errors
        }
    }

    /// The one problem of `yaml`, as `keyPath: message`.
    func only(_ yaml: String, sourceLocation: SourceLocation = #_sourceLocation) -> String {
        let p = problems(yaml)
        #expect(p.count == 1, "\(p)", sourceLocation: sourceLocation)
        return p.first.map { "\($0.keyPath): \($0.message)" } ?? ""
    }

    @Test func hugeStateThresholdIsRefused() {
        // Trapped in HostStateMachine.pagesOf (Double to Int) before it was bounded.
        let p = problems("host: {states: {high: 1e20}}\n" + Self.guest)
        #expect(
            p.map(\.description) == [
                "b.yaml:1:23: host.states.high: must be above 0% and at most 10000% (free memory is at most ~100 × minFree); got 1e+20%"
            ])
    }

    @Test(arguments: ["memory_access", "minor_fault", "compress", "page_hash"])
    func hugeCostIsRefused(key: String) {
        // Overflowed GuestKernel.faultingAccessRetained's time arithmetic before.
        #expect(only("costs: {\(key): 2000000h}\n" + Self.guest) == "costs.\(key): must be at most 1s; got 2000000h")
    }

    @Test func nanosecondPeriodsAreRefused() {
        let floor = "must be between 1ms and 1000h; got 1ns"
        #expect(only("guests: [{name: g, balloon: {poll_interval: 1ns}}]\n") == "guests[0].balloon.poll_interval: " + floor)
        #expect(only("guests: [{name: g, kernel: {kswapd_interval: 1ns}}]\n") == "guests[0].kernel.kswapd_interval: " + floor)
        #expect(only("guests: [{name: g, kernel: {lru_scan_interval: 1ns}}]\n") == "guests[0].kernel.lru_scan_interval: " + floor)
        #expect(only("host: {active_sampling: {period: 1ns}}\n" + Self.guest) == "host.active_sampling.period: " + floor)
        #expect(only("host: {scheduler: {interval: 1ns}}\n" + Self.guest) == "host.scheduler.interval: " + floor)
        let kinds = ConfigReference.caseNames(HostConfigSchema.balloonPolicyKind)
        #expect(kinds.count >= 6)
        for kind in kinds {
            #expect(
                only("host: {balloon_policy: {kind: \(kind), interval: 1ns}}\n" + Self.guest)
                    == "host.balloon_policy.interval: " + floor, "\(kind)")
        }
    }

    @Test func boundsAllowTheirEnds() throws {
        let c = try ScenarioLoader.load(
            text: """
                costs: {memory_access: 1s, minor_fault: 0ns}
                host: {states: {high: 10000%}, active_sampling: {period: 1ms}, balloon_policy: {kind: mom, interval: 1000h}}
                guests: [{name: g, memory: 64MiB, kernel: {kswapd_interval: 1ms, vm.swappiness: 200}, balloon: {poll_interval: 1ms}}]
                """, file: "ends.yaml")
        #expect(c.costs.memory_access == .seconds(1) && c.host.states.high == Percentage(percent: 10_000))
    }

    /// Every numeric key of every table reachable from a scenario declares bounds with an upper
    /// bound (only a key that arithmetic never uses may be unbounded, and says why), and the
    /// configuration reference shows them.
    @Test func everyNumericKeyIsBoundedAndDocumented() {
        let md = ConfigReference.markdown()
        var unbounded: [String] = []
        for table in ConfigReference.reachableTables() {
            for p in table.parameters {
                switch p.kind {
                case .int, .double, .bytes, .duration, .percent:
                    let bounds = p.bounds ?? ""
                    #expect(!bounds.isEmpty, "\(table.tableName).\(p.key) declares no bounds")
                    if p.upperBound == nil {
                        // A key without an upper bound must say why: `any value (only mixed into ...)`.
                        #expect(bounds.hasPrefix("any value ("), "\(table.tableName).\(p.key) has no upper bound: \(bounds)")
                        unbounded.append("\(table.tableName).\(p.key)")
                    }
                    #expect(md.contains("| `\(p.key)` |") && md.contains(" | \(bounds) | "), "\(table.tableName).\(p.key) bounds not in the reference")
                default:
                    #expect(p.bounds == nil, "\(table.tableName).\(p.key)")
                }
            }
        }
        #expect(unbounded == ["scenario.seed"])
    }

    /// Every key named as a period (`*interval`, `period`) runs at most once a millisecond.
    @Test func everyPeriodHasAFloorOfOneMillisecond() throws {
        var periods = 0
        for table in ConfigReference.reachableTables() {
            for p in table.parameters where p.kind == .duration && (p.key.hasSuffix("interval") || p.key == "period") {
                let floor = try #require(p.lowerBound.flatMap(SimDuration.parse), "\(table.tableName).\(p.key) has no floor")
                #expect(floor >= .ms(1), "\(table.tableName).\(p.key) floor \(floor)")
                periods += 1
            }
        }
        #expect(periods >= 10)
    }
}

/// Where the balloon policies sit in the schema (`host.balloon_policy.kind`).
enum HostConfigSchema {
    static var balloonPolicyKind: ParameterKind {
        guard case .table(let host)? = ScenarioConfig.parameter("host")?.kind,
            let p = host.parameters.first(where: { $0.key == "balloon_policy" })
        else { return .string }
        return p.kind
    }
}
