import GuestKernel
import Hypervisor
import OvercommitSupport
import Simulation
import Testing
import Workloads
@testable import Scenarios

/// Loads a scenario that must be valid.
func loadValid(_ text: String, file: String = "test.yaml", sourceLocation: SourceLocation = #_sourceLocation) -> ScenarioConfig? {
    do {
        return try ScenarioLoader.load(text: text, file: file)
    } catch {
        Issue.record("expected a valid scenario, got:\n\(error)", sourceLocation: sourceLocation)
        return nil
    }
}

/// Loads a scenario that must be invalid and returns its problems.
func loadErrors(_ text: String, file: String = "test.yaml", sourceLocation: SourceLocation = #_sourceLocation) -> [ScenarioError] {
    do {
        _ = try ScenarioLoader.load(text: text, file: file)
        Issue.record("expected problems, but the scenario loaded", sourceLocation: sourceLocation)
        return []
    } catch {
        return error.errors
    }
}

@Suite struct ScenarioLoaderTests {
    // MARK: Valid scenarios

    @Test func minimalScenarioLoadsWithDefaults() throws {
        let c = try #require(
            loadValid(
                """
                guests:
                  - name: web
                """))
        var expected = ScenarioConfig()
        var guest = GuestConfig()
        guest.name = "web"
        expected.guests = [guest]
        #expect(c == expected)
        #expect(c.guests[0].memory == .gib(2))
        #expect(c.guests[0].kernel == GuestKernelConfig())
        #expect(c.guests[0].swap == SwapDeviceConfig())
        #expect(c.host == HostConfig())
        #expect(c.costs == CostModel())
        #expect(c.duration == .seconds(60))
        #expect(c.images.isEmpty)
        #expect(c.resolvedImages.map(\.name) == ["linux"])
    }

    @Test func unitsParse() throws {
        let c = try #require(
            loadValid(
                """
                duration: 90s
                tick: 500us
                sample_interval: 2.5s
                host:
                  memory: 1.5GiB
                  hypervisor_reserved: 256MiB
                  vm_overhead: 1000000
                guests:
                  - name: db
                    memory: 8GiB
                    start_at: 1min
                    swap: {size: 4GB, device: nvme, read_latency: 50us}
                    kernel:
                      vm.swappiness: 10
                      vm.min_free_kbytes: 65536
                      kernel_reserved: 100MiB
                      kswapd_interval: 20ms
                      thrashing_refaults_per_second: 150.5
                      replacement_policy: clock
                """))
        #expect(c.duration == .seconds(90))
        #expect(c.tick == .us(500))
        #expect(c.sample_interval == .ms(2500))
        #expect(c.host.memory == ByteCount(1_610_612_736))
        #expect(c.host.hypervisor_reserved == .mib(256))
        #expect(c.host.vm_overhead == ByteCount(1_000_000))
        let g = c.guests[0]
        #expect(g.memory == .gib(8))
        #expect(g.start_at == .seconds(60))
        #expect(g.swap.size == ByteCount(4_000_000_000))
        #expect(g.swap.device == .nvme)
        #expect(g.swap.read_latency == .us(50))
        #expect(g.swap.write_latency == nil)
        #expect(g.kernel.swappiness == 10)
        #expect(g.kernel.min_free_kbytes == 65536)
        #expect(g.kernel.kernel_reserved == .mib(100))
        #expect(g.kernel.kswapd_interval == .ms(20))
        #expect(g.kernel.thrashing_refaults_per_second == 150.5)
        #expect(g.kernel.replacement_policy == .clock)
        // Untouched keys of a partly written table keep their defaults.
        #expect(g.kernel.overcommit_ratio == 50)
        #expect(c.host.name == "host")
    }

    @Test func scalarKindsAcceptTheirSpellings() {
        #expect(SchemaWalker.check(plain: "50%", as: .percent) == nil)
        #expect(SchemaWalker.check(plain: "12.5", as: .percent) == nil)
        #expect(SchemaWalker.check(plain: "half", as: .percent) == "expected a percentage, e.g. 50%; got 'half'")
        #expect(SchemaWalker.check(plain: "512 MiB", as: .bytes) == nil)
        #expect(SchemaWalker.check(plain: "4096", as: .bytes) == nil)
        #expect(SchemaWalker.check(plain: "8 parsecs", as: .bytes) != nil)
        #expect(SchemaWalker.check(plain: "100us", as: .duration) == nil)
        #expect(SchemaWalker.check(plain: "fast", as: .duration) != nil)
        #expect(SchemaWalker.check(plain: "true", as: .bool) == nil)
        #expect(SchemaWalker.check(plain: "maybe", as: .bool) == "expected true or false; got 'maybe'")
        #expect(SchemaWalker.check(plain: "1.5", as: .double) == nil)
        #expect(SchemaWalker.check(plain: "1.5", as: .int) == "expected an integer; got '1.5'")
    }

    @Test func emptyValueMeansDefault() throws {
        let c = try #require(
            loadValid(
                """
                description:
                guests:
                  - name: a
                    kernel:
                    swap: ~
                """))
        #expect(c.description == "")
        #expect(c.guests[0].kernel == GuestKernelConfig())
        #expect(c.guests[0].swap == SwapDeviceConfig())
    }

    @Test func templatesAreNotValidated() throws {
        let c = try #require(
            loadValid(
                """
                templates:
                  anything: {goes: [here, 1, {deeply: nested}]}
                guests: [{name: a}]
                """))
        #expect(c.guests.map(\.name) == ["a"])
    }

    // MARK: Anchors and merge keys

    @Test func anchorsAndMergeKeys() throws {
        let c = try #require(
            loadValid(
                """
                templates: {web: &web {memory: 4GiB}}
                guests: [{<<: *web, name: a}]
                """))
        #expect(c.guests[0].name == "a")
        #expect(c.guests[0].memory == .gib(4))

        let d = try #require(
            loadValid(
                """
                templates:
                  web: &web
                    memory: 4GiB
                    vcpus: 2
                    kernel: {vm.swappiness: 10}
                  small: &small
                    memory: 1GiB
                    count: 3
                guests:
                  - <<: *web
                    name: a
                  - {<<: *web, name: b, vcpus: 4}
                  - <<: [*small, *web]
                    name: c
                """))
        let (a, b, cc) = (d.guests[0], d.guests[1], d.guests[2])
        #expect(a.memory == .gib(4) && a.vcpus == 2 && a.kernel.swappiness == 10)
        // Explicit keys win over merged ones.
        #expect(b.vcpus == 4 && b.memory == .gib(4))
        // Earlier merged tables win over later ones.
        #expect(cc.memory == .gib(1) && cc.count == 3 && cc.vcpus == 2)
    }

    @Test func problemInATemplateIsReportedOnceAtTheTemplate() {
        let errors = loadErrors(
            """
            templates: {bad: &bad {memroy: 4GiB}}
            guests: [{<<: *bad, name: a}, {<<: *bad, name: b}]
            """)
        #expect(
            errors.map(\.description) == [
                "test.yaml:1:24: guests[0].memroy: unknown key 'memroy'; did you mean 'memory'? allowed: name, count, memory, vcpus, image, kernel, swap, workloads, start_at, reservation, limit, shares, pshare_salt, balloon, numa"
            ])
    }

    @Test func badMergeValue() {
        let errors = loadErrors(
            """
            guests:
              - name: a
                <<: 5
            """)
        #expect(errors.count == 1)
        #expect(errors.first?.location == "3:9")
        #expect(errors.first?.keyPath == "guests[0]")
        #expect(errors.first?.message.hasPrefix("'<<' merges tables") == true)
    }

    @Test func undefinedAlias() {
        let errors = loadErrors("guests: [{<<: *web, name: a}]\n")
        #expect(
            errors.map(\.description) == [
                "test.yaml:1:15: unknown alias '*web': define the anchor '&web' before using it (e.g. under templates:)"
            ])
    }

    // MARK: JSON

    @Test func jsonInput() throws {
        let c = try #require(
            loadValid(
                """
                {
                \t"name": "json-scenario",
                \t"host": {"memory": "32GiB"},
                \t"guests": [
                \t\t{"name": "a", "memory": "4GiB", "kernel": {"vm.swappiness": 30}},
                \t\t{"name": "b", "count": 2, "workloads": [{"kind": "idle", "resident": 1048576}]}
                \t]
                }
                """, file: "s.json"))
        #expect(c.name == "json-scenario")
        #expect(c.host.memory == .gib(32))
        #expect(c.guests[0].memory == .gib(4))
        #expect(c.guests[0].kernel.swappiness == 30)
        #expect(c.guests[1].count == 2)
        #expect(c.guests[1].workloads.map(\.kindName) == ["idle"])
        #expect(c.expandedGuests.map(\.name) == ["a", "b-1", "b-2"])
    }

    @Test func jsonProblemsHaveLineAndColumn() {
        let errors = loadErrors(#"{"guests": [{"name": "a", "memroy": "4GiB"}]}"#, file: "s.json")
        #expect(errors.map(\.location) == ["1:27"])
        #expect(errors.first?.description.hasPrefix("s.json:1:27: guests[0].memroy: unknown key 'memroy'; did you mean 'memory'?") == true)
    }

    // MARK: Problems

    @Test func unknownKeyWithSuggestion() throws {
        let errors = loadErrors(
            """
            name: web-tier
            guests:
              - name: web
                memory: 4GiB
                kernel:
                  swapiness: 10
            """, file: "Configs/web.yaml")
        let e = try #require(errors.first)
        #expect(errors.count == 1)
        #expect(e.file == "Configs/web.yaml")
        #expect(e.line == 6 && e.column == 7)
        #expect(e.keyPath == "guests[0].kernel.swapiness")
        #expect(e.message == "unknown key 'swapiness'; did you mean 'vm.swappiness'?")
        #expect(e.allowed == GuestKernelConfig.parameters.map(\.key).joined(separator: ", "))
        #expect(
            e.description == "Configs/web.yaml:6:7: guests[0].kernel.swapiness: unknown key 'swapiness'; did you mean 'vm.swappiness'? allowed: "
                + GuestKernelConfig.parameters.map(\.key).joined(separator: ", "))
    }

    @Test func unknownTopLevelKeyAndKeyWithoutPrefix() {
        let errors = loadErrors(
            """
            gusts:
              - name: web
            host:
              overcommit_memory: 1
            """)
        #expect(errors.map(\.location) == ["1:1", "4:3"])
        #expect(
            errors.map(\.message) == [
                "unknown key 'gusts'; did you mean 'guests'?",
                "unknown key 'overcommit_memory'",
            ])
        // The top-level allowed list leaves out the free-form templates key.
        #expect(errors.first?.allowed == "name, description, notes, seed, duration, sample_interval, tick, costs, host, images, guests")
    }

    @Test func wrongTypes() {
        let errors = loadErrors(
            """
            guests:
              - name: web
                memory: lots
                vcpus: two
                kernel: 5
                swap: {size: [1, 2], device: sdd}
            """)
        #expect(errors.map(\.location) == ["3:13", "4:12", "5:13", "6:18", "6:34"])
        #expect(
            errors.map(\.keyPath) == [
                "guests[0].memory", "guests[0].vcpus", "guests[0].kernel", "guests[0].swap.size", "guests[0].swap.device",
            ])
        #expect(
            errors.map(\.message) == [
                "expected a size: bytes or a number with a unit (B, KiB, MiB, GiB, TiB, kB, MB, GB, TB), e.g. 8GiB; got 'lots'",
                "expected an integer; got 'two'",
                "expected a table (guest.kernel); got '5'",
                "expected a size: bytes or a number with a unit (B, KiB, MiB, GiB, TiB, kB, MB, GB, TB), e.g. 8GiB; got a list",
                "unknown value 'sdd'; did you mean 'hdd'?",
            ])
        #expect(errors.last?.allowed == "hdd, ssd, nvme, ramdisk")
    }

    @Test func listWhereATableIsWrittenAndTheReverse() {
        #expect(
            loadErrors("guests: {name: a}\n").map(\.description) == [
                "test.yaml:1:9: guests: expected a list of guest tables; got a table"
            ])
        #expect(
            loadErrors("host: [a, b]\nguests: [{name: a}]\n").map(\.description) == [
                "test.yaml:1:7: host: expected a table (host); got a list"
            ])
    }

    @Test func negativeValueForAnUnsignedKeyIsCaughtByTheDecoder() {
        #expect(
            loadErrors("seed: -1\nguests: [{name: a}]\n").map(\.description) == [
                "test.yaml:1:7: seed: expected a non-negative integer; got '-1'"
            ])
    }

    @Test func outOfRangeValue() throws {
        let errors = loadErrors(
            """
            guests:
              - name: web
                kernel:
                  vm.overcommit_memory: 3
            """)
        #expect(
            errors.map(\.description) == [
                "test.yaml:4:29: guests[0].kernel.vm.overcommit_memory: must be 0 (heuristic), 1 (always) or 2 (strict); got 3"
            ])
    }

    @Test func errorDescriptionFormat() {
        let errors = loadErrors(
            """
            name: web
            guests:
              - name: web
                kernel:
                  vm.swappiness: 300
            """, file: "Configs/web.yaml")
        #expect(
            errors.map(\.description) == [
                "Configs/web.yaml:5:22: guests[0].kernel.vm.swappiness: must be between 0 and 200 (Linux's range); got 300"
            ])
    }

    @Test func unknownImageReference() throws {
        let errors = loadErrors(
            """
            images:
              - name: ubuntu-22
            guests:
              - name: web
                image: ubuntu
            """)
        let e = try #require(errors.first)
        #expect(errors.count == 1)
        #expect(e.location == "5:12")
        #expect(e.keyPath == "guests[0].image")
        #expect(e.message == "unknown image 'ubuntu'")
        #expect(e.allowed == "linux, ubuntu-22")
        #expect(e.description == "test.yaml:5:12: guests[0].image: unknown image 'ubuntu'; allowed: linux, ubuntu-22")
    }

    @Test func problemOfADefaultIsPlacedAtTheNearestWrittenAncestor() {
        // hypervisor_reserved keeps its 512MiB default, which is not below the host's memory.
        let errors = loadErrors(
            """
            name: small
            host:
              memory: 256MiB
            guests: [{name: a}]
            """)
        #expect(
            errors.map(\.description) == [
                "test.yaml:2:1: host.hypervisor_reserved: must be smaller than host memory (256MiB); got 512MiB"
            ])
        // No guests at all: placed at the top of the file.
        #expect(
            loadErrors("name: nothing\n").map(\.description) == [
                "test.yaml:1:1: guests: a scenario needs at least one guest"
            ])
    }

    @Test func everyProblemIsReportedSortedByLine() {
        let errors = loadErrors(
            """
            guests:
              - name: web
                kernel:
                  swapiness: 10
                  vm.overcommit_memory: 3
              - name: db
                memory: lots
                kernel: {vm.swappiness: 300}
              - name: web
            """)
        #expect(errors.map(\.location) == ["4:7", "5:29", "7:13", "8:29", "9:11"])
        #expect(
            errors.map(\.keyPath) == [
                "guests[0].kernel.swapiness", "guests[0].kernel.vm.overcommit_memory", "guests[1].memory",
                "guests[1].kernel.vm.swappiness", "guests[2].name",
            ])
        #expect(errors.last?.message == "duplicate guest name 'web'")
    }

    @Test func variantKinds() {
        let errors = loadErrors(
            """
            guests:
              - name: a
                workloads:
                  - kind: idel
                  - resident: 5MiB
            """)
        #expect(
            errors.map(\.description) == [
                "test.yaml:4:15: guests[0].workloads[0].kind: unknown kind 'idel'; did you mean 'idle'? allowed: "
                    + ConfigReference.caseNames(WorkloadSpec.parameterKind).joined(separator: ", "),
                "test.yaml:5:9: guests[0].workloads[1]: missing 'kind': say which kind this table is; allowed: "
                    + ConfigReference.caseNames(WorkloadSpec.parameterKind).joined(separator: ", "),
            ])
    }

    @Test func duplicateKey() {
        #expect(
            loadErrors(
                """
                guests:
                  - name: web
                    memory: 1GiB
                    memory: 2GiB
                """
            ).map(\.description) == [
                "test.yaml:4:5: duplicate key 'memory'; it is already set at line 3, column 5"
            ])
        #expect(
            loadErrors("guests: [{name: a, name: b}]\n").map(\.description) == [
                "test.yaml:1:20: duplicate key 'name'; it is already set at line 1, column 11"
            ])
    }

    @Test func yamlSyntaxError() {
        #expect(
            loadErrors("name: web: tier\nguests: [{name: a}]\n").map(\.description) == [
                "test.yaml:1:10: invalid YAML: mapping values are not allowed in this context"
            ])
        #expect(
            loadErrors("guests:\n  - name: web\n    memory: [1GiB\n").map(\.description) == [
                "test.yaml:4:1: invalid YAML: did not find expected ',' or ']' (while parsing a flow sequence at line 3, column 13)"
            ])
    }

    @Test func emptyAndNonTableDocuments() {
        #expect(
            loadErrors("").map(\.description) == [
                "test.yaml: the scenario is empty; write at least a guest, e.g. 'guests: [{name: vm, memory: 2GiB}]'"
            ])
        #expect(loadErrors("# only a comment\n").map(\.location) == ["?:?"])
        #expect(
            loadErrors("- a\n- b\n").map(\.description) == [
                "test.yaml:1:1: a scenario must be a table of keys (name:, host:, guests:, ...); got a list"
            ])
    }

    @Test func suggestions() {
        #expect(Suggestions.closest(to: "swapiness", in: GuestKernelConfig.parameters.map(\.key)) == "vm.swappiness")
        #expect(Suggestions.closest(to: "page_cluster", in: GuestKernelConfig.parameters.map(\.key)) == "vm.page-cluster")
        #expect(Suggestions.closest(to: "memroy", in: GuestConfig.parameters.map(\.key)) == "memory")
        #expect(Suggestions.closest(to: "banana", in: GuestConfig.parameters.map(\.key)) == nil)
        #expect(Suggestions.closest(to: "kswapd", in: GuestKernelConfig.parameters.map(\.key)) == "kswapd_interval")
        #expect(Suggestions.closest(to: "overcommit", in: GuestKernelConfig.parameters.map(\.key)) == "vm.overcommit_memory")
        #expect(Suggestions.closest(to: "memory_size", in: GuestConfig.parameters.map(\.key)) == "memory")
    }
}

@Suite struct HyperVScenarioTests {
    @Test func startupMemoryNeedsTheHyperVPolicy() throws {
        let errors = loadErrors(
            """
            host: {balloon_policy: {kind: xenserver}}
            guests:
              - {name: a, memory: 2GiB, balloon: {startup_memory: 1GiB}}
            """)
        #expect(errors.map(\.keyPath) == ["guests[0].balloon.startup_memory"])
        #expect(errors.first?.message.contains("needs host.balloon_policy.kind hyperv; got 'xenserver'") == true)
        let c = try #require(
            loadValid(
                """
                host: {balloon_policy: {kind: hyperv}}
                guests:
                  - {name: a, memory: 2GiB, balloon: {startup_memory: 1GiB, minimum: 512MiB, memory_weight: 8000}}
                """))
        #expect(c.guests[0].balloon.startup_memory == .gib(1) && c.guests[0].balloon.memory_weight == 8000)
        let bad = loadErrors(
            """
            host: {balloon_policy: {kind: hyperv}}
            guests:
              - {name: a, memory: 2GiB, balloon: {startup_memory: 3GiB, minimum: 4GiB, memory_buffer: 1%}}
            """)
        #expect(Set(bad.map(\.keyPath)) == ["guests[0].balloon.startup_memory", "guests[0].balloon.minimum", "guests[0].balloon.memory_buffer"])
    }
}
