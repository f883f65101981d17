import Testing
import OvercommitSupport
import Scenarios
import Simulation
@testable import Experiments

let overrideBaseYAML = """
    name: base
    seed: 3
    duration: 2s
    host:
      memory: 2GiB
      balloon_policy: {kind: esx}
    guests:
      - name: web
        memory: 256MiB
        workloads:
          - kind: idle
            resident: 16MiB
      - name: db
        memory: 512MiB
        kernel:
          vm.swappiness: 60
        workloads:
          - kind: database
            buffer_pool: 200MiB
    """

func withOverrides(_ sets: [String]) throws -> ScenarioConfig {
    try ScenarioOverrides.load(text: overrideBaseYAML, file: "base.yaml", overrides: sets.map { try ScenarioOverride(parsing: $0) })
}

func overrideError(_ sets: [String]) -> String {
    do {
        _ = try withOverrides(sets)
        return "(no error)"
    } catch let e as OverrideError { return e.message } catch { return "\(error)" }
}

@Suite struct ScenarioOverrideTests {
    @Test func setsScalarsWithUnits() throws {
        let c = try withOverrides(["host.memory=8GiB", "duration=1500ms"])
        #expect(c.host.memory == .gib(8))
        #expect(c.duration == .ms(1500))
        // Untouched keys keep their values.
        #expect(c.guests[1].memory == .mib(512))
    }

    @Test func selectsListEntriesByIndexAndByName() throws {
        let c = try withOverrides(["guests[0].memory=128MiB", "guests[db].memory=1GiB", "guests[db].kernel.vm.swappiness=100"])
        #expect(c.guests[0].memory == .mib(128))
        #expect(c.guests[1].memory == .gib(1))
        #expect(c.guests[1].kernel.swappiness == 100)
    }

    @Test func reachesIntoVariantsAndAddsMissingTables() throws {
        let c = try withOverrides([
            "guests[db].workloads[0].buffer_pool=100MiB", "host.balloon_policy.kind=mom", "host.sharing.salting=0",
            "guests[web].swap.size=64MiB",
        ])
        #expect(c.guests[1].workloads[0].kindName == "database")
        #expect(ScenarioRendererProbe.yaml(c).contains("buffer_pool: 100MiB"))
        #expect(ScenarioRendererProbe.yaml(c).contains("kind: mom"))
        #expect(c.host.sharing.salting == 0)
        #expect(c.guests[0].swap.size == .mib(64))
    }

    @Test func unknownKeyListsTheKeysAllowedAtThatLevel() {
        let m = overrideError(["host.ram=8GiB"])
        #expect(m.contains("--set host.ram=8GiB"))
        #expect(m.contains("unknown key 'ram'"))
        #expect(m.contains("; allowed: name, memory, hypervisor_reserved"))
        #expect(
            overrideError(["guests[db].kernel.vm.swapiness=10"]).contains("unknown key 'vm.swapiness' in 'guests[1].kernel'; did you mean 'vm.swappiness'?"))
        let top = overrideError(["hots.memory=1GiB"])
        #expect(top.contains("did you mean 'host'?"))
    }

    @Test func badValueGetsTheLoadersMessageNamingTheOverride() {
        let m = overrideError(["guests[db].memory=lots"])
        #expect(m.hasPrefix("--set guests[db].memory=lots: guests[1].memory:"), "\(m)")
        let r = overrideError(["guests[0].kernel.vm.swappiness=300"])
        #expect(r.contains("--set guests[0].kernel.vm.swappiness=300"), "\(r)")
        #expect(r.contains("200"), "\(r)")
    }

    @Test func badSelectorsNameWhatExists() {
        #expect(overrideError(["guests[5].memory=1GiB"]).contains("out of range; the scenario has 2 entries (0...1): web, db"))
        #expect(overrideError(["guests[cache].memory=1GiB"]).contains("allowed: web, db"))
        #expect(overrideError(["host.memory.size=1GiB"]).contains("'host.memory' is a bytes"))
        #expect(overrideError(["host[0]=1"]).contains("not a list"))
    }

    @Test func scenarioErrorsKeepTheirLines() {
        do {
            _ = try ScenarioOverrides.load(text: "guests: [{name: a, memory: 1GiB, vcpus: 0}]", file: "x.yaml", overrides: [])
            Issue.record("no error")
        } catch { #expect(error.message.hasPrefix("x.yaml:1:"), "\(error.message)") }
    }

    @Test func valuesSplitOutsideBrackets() throws {
        #expect(ScenarioOverride.splitValues("1GiB,2GiB, 3GiB") == ["1GiB", "2GiB", "3GiB"])
        #expect(ScenarioOverride.splitValues("[balloon],[balloon, compress],'a,b'") == ["[balloon]", "[balloon, compress]", "'a,b'"])
        let a = try SweepAxis(parsing: "host.memory=1GiB,2GiB")
        #expect(a.path == "host.memory" && a.values == ["1GiB", "2GiB"])
        #expect(throws: OverrideError.self) { try SweepAxis(parsing: "host.memory=1GiB,,2GiB") }
        #expect(throws: OverrideError.self) { try ScenarioOverride(parsing: "host.memory") }
    }
}

/// The resolved YAML of a config (what `run --dry-run` prints).
enum ScenarioRendererProbe {
    static func yaml(_ c: ScenarioConfig) -> String { ScenarioRenderer.yaml(c) }
}
