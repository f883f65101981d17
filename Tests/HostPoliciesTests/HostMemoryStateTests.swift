import Testing
@testable import HostPolicies

@Suite struct HostMemoryStateTests {
    @Test func statesAreOrderedFromHighToLow() {
        #expect(HostMemoryState.allCases.map(\.level) == [0, 1, 2, 3, 4])
        #expect(HostMemoryState.high < .clear && .hard < .low)
        #expect(HostMemoryState(level: 9) == .low)
    }
}
