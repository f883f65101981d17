import Simulation
import Testing
import Workloads
@testable import Scenarios

/// Every workload kind of the schema, found generically from `WorkloadSpec.parameterKind`.
@Suite struct WorkloadKindsTests {
    static var kinds: [String] { ConfigReference.caseNames(WorkloadSpec.parameterKind) }

    @Test(arguments: kinds)
    func kindLoadsWithItsDefaultsAndRendersBack(_ kind: String) throws {
        let text = "guests:\n  - name: g\n    memory: 4GiB\n    workloads:\n      - kind: \(kind)\n"
        switch Self.attempt(text) {
        case .success(let config):
            #expect(config.guests[0].workloads.map(\.kindName) == [kind])
            let rendered = ScenarioRenderer.yaml(config)
            let again = try Self.attempt(rendered).get()
            #expect(again == config, "\(rendered)")
        case .failure(let errors):
            // A kind may need a value without a usable default (a trace file): that must be
            // a problem of that workload, never of the schema or the decoder.
            for e in errors.errors {
                #expect(e.keyPath.hasPrefix("guests[0].workloads[0]"), "\(e)")
                #expect(!e.message.hasPrefix("unknown key") && !e.message.hasPrefix("missing required key"), "\(e)")
            }
        }
    }

    static func attempt(_ text: String) -> Result<ScenarioConfig, ScenarioErrors> {
        do {
            return .success(try ScenarioLoader.load(text: text, file: "k.yaml"))
        } catch {
            return .failure(error)
        }
    }

    @Test(arguments: kinds)
    func unknownKeyOfAKindListsThatKindsKeys(_ kind: String) throws {
        let errors: [ScenarioError]
        do {
            _ = try ScenarioLoader.load(text: "guests: [{name: g, workloads: [{kind: \(kind), no_such_key: 1}]}]", file: "k.yaml")
            errors = []
        } catch {
            errors = error.errors
        }
        let e = try #require(errors.first { $0.message.hasPrefix("unknown key") })
        #expect(e.location == "1:\(41 + kind.count)")  // just after `kind: \(kind), `
        #expect(e.keyPath == "guests[0].workloads[0].no_such_key")
        #expect(e.allowed?.hasPrefix("kind") == true)
    }
}
