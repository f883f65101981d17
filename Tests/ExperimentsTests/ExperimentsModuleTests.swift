import Testing
@testable import Experiments

/// The module links with everything it builds on (the real tests live next to each feature).
@Suite struct ExperimentsModuleTests {
    @Test func moduleLinks() {
        #expect(String(describing: Experiments.self) == "Experiments")
    }
}
