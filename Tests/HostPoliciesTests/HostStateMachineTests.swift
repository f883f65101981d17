import Foundation
import OvercommitSupport
import Testing
@testable import HostPolicies

@Suite struct HostStateMachineTests {
    // minFree = 10 000 pages: high 40 000, clear 10 000, soft 6 400, hard 3 200, low 1 600, hysteresis 800.
    func machine(_ edit: (inout HostStateConfig) -> Void = { _ in }) -> HostStateMachine {
        var c = HostStateConfig()
        edit(&c)
        return HostStateMachine(config: c, minFreePages: 10_000)
    }

    @Test func thresholdsInPages() {
        let m = machine()
        #expect(HostMemoryState.allCases.map { m.thresholdPages($0) } == [40_000, 10_000, 6_400, 3_200, 1_600])
        #expect(HostMemoryState.allCases.map { m.lowerEdgePages($0) } == [10_000, 6_400, 3_200, 1_600, 0])
        #expect(m.risePages(.hard) == 2_400 && m.risePages(.soft) == 4_000 && m.risePages(.clear) == 7_200)
        #expect(m.risePages(.high) == 40_000)
    }

    @Test func stateFromFreeMemoryFollowsVMwaresTable() {
        let m = machine()
        let cases: [(Int, HostMemoryState)] = [
            (50_000, .high), (10_000, .high), (9_999, .clear), (6_400, .clear),
            (6_399, .soft), (3_200, .soft), (3_199, .hard), (1_600, .hard), (1_599, .low), (0, .low),
        ]
        for (free, s) in cases { #expect(m.stateWithoutHysteresis(freePages: free) == s, "\(free)") }
    }

    @Test func fallsOneStateAtATimeAndAllAtOnce() {
        var m = machine()
        #expect(m.state == .high)
        #expect(m.update(freePages: 9_999) == .clear)
        #expect(m.update(freePages: 6_399) == .soft)
        #expect(m.update(freePages: 3_199) == .hard)
        #expect(m.update(freePages: 1_599) == .low)
        var n = machine()
        #expect(n.update(freePages: 100) == .low)
    }

    @Test func risesOnlyPastTheHysteresis() {
        var m = machine()
        m.update(freePages: 0)
        #expect(m.update(freePages: 2_399) == .low)
        #expect(m.update(freePages: 2_400) == .hard)
        #expect(m.update(freePages: 3_999) == .hard)
        #expect(m.update(freePages: 4_000) == .soft)
        #expect(m.update(freePages: 7_199) == .soft)
        #expect(m.update(freePages: 7_200) == .clear)
        // Back to high only at the high threshold (400 % of minFree), not at clear + hysteresis.
        #expect(m.update(freePages: 10_800) == .clear)
        #expect(m.update(freePages: 39_999) == .clear)
        #expect(m.update(freePages: 40_000) == .high)
    }

    @Test func risesSeveralStatesAtOnce() {
        var m = machine()
        m.update(freePages: 0)
        #expect(m.update(freePages: 7_200) == .clear)
    }

    @Test func doesNotFlapAtABoundary() {
        var m = machine()
        m.update(freePages: 3_199)
        var changes = 0, last = m.state
        for i in 0..<100 {
            let s = m.update(freePages: i % 2 == 0 ? 3_250 : 3_150)  // ±50 pages around the hard edge
            if s != last { changes += 1; last = s }
        }
        #expect(changes == 0 && m.state == .hard)
        // Without hysteresis it flaps on every sample.
        var f = machine { $0.hysteresis = Percentage(fraction: 0) }
        f.update(freePages: 3_199)
        changes = 0; last = f.state
        for i in 0..<100 {
            let s = f.update(freePages: i % 2 == 0 ? 3_250 : 3_150)
            if s != last { changes += 1; last = s }
        }
        #expect(changes == 100)
    }

    @Test func defaultTechniquesPerState() {
        let m = machine()
        #expect(m.techniques(in: .high) == [.share])
        #expect(m.techniques(in: .clear) == [.break_large_pages, .share])
        #expect(m.techniques(in: .soft) == [.break_large_pages, .share, .balloon])
        #expect(m.techniques(in: .hard) == [.break_large_pages, .share, .compress, .swap])
        #expect(m.techniques(in: .low) == [.break_large_pages, .share, .compress, .swap, .block])
        #expect(m.isEnabled(.balloon, in: .soft) && !m.isEnabled(.balloon, in: .hard))
        #expect(!m.isEnabled(.block))  // current state: high
    }

    @Test func customMappingAndThresholds() throws {
        let c = try decodeJSON(
            HostStateConfig.self, #"{"soft": "80%", "soft_techniques": ["balloon", "share", "balloon"], "hard_techniques": ["balloon", "swap"]}"#)
        #expect(c.soft == Percentage(percent: 80) && c.clear == Percentage(percent: 100) && c.hysteresis == Percentage(percent: 8))
        var m = HostStateMachine(config: c, minFreePages: 10_000)
        #expect(m.update(freePages: 7_999) == .soft)
        #expect(m.techniques(in: .soft) == [.share, .balloon])  // ordered, without the repeat
        #expect(m.isEnabled(.balloon, in: .hard) && !m.isEnabled(.compress, in: .hard))
        #expect(c.validationProblems().map(\.key) == ["soft_techniques"])
    }

    @Test func decodingAndValidation() throws {
        #expect(HostStateConfig().validationProblems().isEmpty)
        let c = HostStateConfig()
        #expect(try roundTrip(c) == c)
        let json = try jsonString(c)
        for key in HostStateConfig.parameters.map(\.key) { #expect(json.contains("\"\(key)\""), "\(key)") }
        do {
            _ = try decodeJSON(HostStateConfig.self, #"{"low_techniques": ["swap", "ballon"]}"#)
            Issue.record("accepted an unknown technique")
        } catch {
            #expect("\(error)".contains("allowed: break_large_pages, share, balloon, compress, swap, block"))
        }
        var bad = HostStateConfig()
        bad.soft = Percentage(percent: 120)
        bad.low = Percentage(percent: 0)
        bad.hysteresis = Percentage(percent: 20)
        let keys = bad.validationProblems().map(\.key)
        #expect(keys.contains("soft") && keys.contains("low"))
        var wide = HostStateConfig()
        wide.hysteresis = Percentage(percent: 16)  // the hard band is only 16 % wide
        #expect(wide.validationProblems().map(\.key) == ["hysteresis"])
    }
}
