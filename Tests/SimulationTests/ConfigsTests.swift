import Foundation
import Testing
import OvercommitSupport
import PolicyLanguage
import Reports
import Scenarios
@testable import Simulation

/// The repository root (Tests/SimulationTests/ is two levels down).
let repoRoot: String = {
    var url = URL(fileURLWithPath: #filePath)
    for _ in 0..<3 { url.deleteLastPathComponent() }
    return url.path
}()

/// Every scenario under Configs/, recursively, sorted.
func configFiles() -> [String] {
    let base = repoRoot + "/Configs"
    guard let e = FileManager.default.enumerator(atPath: base) else { return [] }
    return e.compactMap { $0 as? String }.filter { $0.hasSuffix(".yaml") || $0.hasSuffix(".json") }.sorted().map { base + "/" + $0 }
}

/// Loads the resources (traces, memory images) a scenario names, relative to its folder.
func options(for c: ScenarioConfig, file: String) -> SimulationOptions {
    var o = SimulationOptions()
    let dir = (file as NSString).deletingLastPathComponent
    for g in c.guests { for w in g.workloads { for p in w.resourcePaths {
        o.textResources[p] = (try? String(contentsOfFile: p.hasPrefix("/") ? p : dir + "/" + p, encoding: .utf8)) ?? ""
    } } }
    for img in c.images { if let p = img.memory_image {
        o.memoryImages[p] = FileManager.default.contents(atPath: p.hasPrefix("/") ? p : dir + "/" + p).map { [UInt8]($0) } ?? []
    } }
    if c.host.policy.isProgram {
        o.policySources[c.host.policy.files] = c.host.policy.files.map { p in
            PolicySource(name: p, text: (try? String(contentsOfFile: p.hasPrefix("/") ? p : dir + "/" + p, encoding: .utf8)) ?? "")
        }
    }
    return o
}

@Suite struct ConfigsTests {
    @Test func defaultScenarioFileMatchesTheBuiltIn() throws {
        let text = try String(contentsOfFile: repoRoot + "/Configs/default.yaml", encoding: .utf8)
        #expect(text == BuiltinScenarios.defaultYAML)
    }

    @Test(arguments: configFiles())
    func everyConfigValidatesAndRuns(file: String) throws {
        let text = try String(contentsOfFile: file, encoding: .utf8)
        var c = try ScenarioLoader.load(text: text, file: file)
        // The scale ladder is validated here and run by `make bench-scale`: even a slice
        // allocates its 100 GiB - 2 TiB of configured memory's structures (1.6-23 GiB).
        if file.contains("/Configs/scale/") {
            #expect(c.expandedGuests.count >= 16)
            return
        }
        // Run a short slice of each (debug builds are slow); the full runs are `make validate` + README.
        c.duration = min(c.duration, .ms(600))
        c.sample_interval = min(c.sample_interval, c.duration)
        for i in c.guests.indices { c.guests[i].start_at = min(c.guests[i].start_at, .ms(100)) }
        var o = options(for: c, file: file)
        o.check = false
        let r = try Simulation(config: c, options: o).run()
        #expect(r.guests.count == c.expandedGuests.count)
        #expect(r.samples.count >= c.expandedGuests.count)
        #expect(!RunReport.statsText(r).isEmpty)
    }
}
