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
    for g in c.guests {
        for w in g.workloads {
            for p in w.resourcePaths {
                o.textResources[p] = (try? String(contentsOfFile: p.hasPrefix("/") ? p : dir + "/" + p, encoding: .utf8)) ?? ""
            }
        }
    }
    for img in c.images {
        if let p = img.memory_image {
            o.memoryImages[p] = FileManager.default.contents(atPath: p.hasPrefix("/") ? p : dir + "/" + p).map { [UInt8]($0) } ?? []
        }
    }
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

    /// Every shipped scenario validates, and a slice of it runs under check mode (issue 12):
    /// at every sample the guest and host invariants hold (frames and slots conserved,
    /// p2m/backing counts agree), and at the end every guest page's bytes equal what the guest
    /// last wrote, whatever path (sharing, compression, host or guest swap) they took.
    @Test(arguments: configFiles())
    func everyConfigValidatesAndRunsUnderCheck(file: String) throws {
        let text = try String(contentsOfFile: file, encoding: .utf8)
        var c = try ScenarioLoader.load(text: text, file: file)
        // The scale ladder is validated here and run by `make bench-scale`: even a slice
        // allocates its 100 GiB - 2 TiB of configured memory's structures (1.6-23 GiB).
        if file.contains("/Configs/scale/") {
            #expect(c.expandedGuests.count >= 16)
            return
        }
        // A slice of two simulated seconds: guests that start later start at 100 ms, so that
        // every guest boots and reaches its workload.
        c.duration = min(c.duration, .seconds(2))
        c.sample_interval = min(c.sample_interval, .ms(500))
        for i in c.guests.indices { c.guests[i].start_at = min(c.guests[i].start_at, .ms(100)) }
        var o = options(for: c, file: file)
        // Every invariant and every page's bytes at each sample and at the end (`run --check`
        // also checks after each tick: ~40x slower, `make check-configs` runs that).
        o.check = true
        o.checkAfterEachTick = false
        let r = try Simulation(config: c, options: o).run()
        #expect(r.guests.count == c.expandedGuests.count)
        #expect(r.samples.count >= c.expandedGuests.count)
        #expect(r.checksRun >= 4, "\(file): checks ran at every sample and at the end")
        #expect(r.checkProblems.isEmpty, "\(file): \(r.checkProblems.prefix(5).joined(separator: "; "))")
        #expect(!RunReport.statsText(r).isEmpty)
    }
}
