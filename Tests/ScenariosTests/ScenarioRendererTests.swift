import GuestKernel
import Hypervisor
import OvercommitSupport
import PageContents
import Simulation
import Testing
import Workloads
@testable import Scenarios

@Suite struct ScenarioRendererTests {
    /// Scenarios covering every table, unset and set optionals, and strings YAML would
    /// otherwise read as something else.
    static var configs: [ScenarioConfig] {
        var minimal = ScenarioConfig()
        var g = GuestConfig()
        g.name = "web"
        minimal.guests = [g]

        var full = ScenarioConfig()
        full.name = "null"
        full.description = "Web tier: 3 guests # not a comment\n\"quoted\" \\ back\tslash, ünïcode"
        full.seed = UInt64.max
        full.duration = .ms(90_500)
        full.sample_interval = .ms(500)
        full.tick = .us(250)
        full.costs.file_read = .ms(5)
        full.host.name = "esx-01"
        full.host.memory = .gib(128)
        var img = ImageConfig()
        img.name = "ubuntu"
        img.kernel_size = .mib(30)
        img.memory_image = "dumps/web vm.raw"
        img.files = [
            FileConfig(path: "/srv/data", size: ByteCount(12_345), style: .sparse, perGuest: true),
            FileConfig(path: "/etc/yes", size: .kib(4), style: .zero),
        ]
        full.images = [.builtinLinux, img]
        var a = GuestConfig()
        a.name = "yes"
        a.count = 3
        a.memory = ByteCount(1_610_612_736)
        a.vcpus = 4
        a.image = "ubuntu"
        a.kernel.overcommit_memory = 2
        a.kernel.min_free_kbytes = 1024
        a.kernel.admin_reserve_kbytes = 4096
        a.kernel.user_reserve_kbytes = 65536
        a.kernel.kernel_reserved = .mib(48)
        a.kernel.replacement_policy = .fifo
        a.kernel.thrashing_refaults_per_second = 0.125
        a.swap = SwapDeviceConfig(size: ByteCount(0), device: .hdd)
        a.swap.write_latency = .ns(1500)
        a.start_at = .seconds(2)
        var b = GuestConfig()
        b.name = "1.5"
        full.guests = [a, b]
        return [minimal, full]
    }

    @Test(arguments: configs.indices)
    func renderedScenarioLoadsBackEqual(_ i: Int) throws {
        let config = Self.configs[i]
        let text = ScenarioRenderer.yaml(config)
        do {
            let loaded = try ScenarioLoader.load(text: text, file: "scenario.resolved.yaml")
            #expect(loaded == config)
        } catch {
            Issue.record("\(error)\n---\n\(text)")
        }
    }

    @Test func loadedScenariosRenderAndLoadBackEqual() throws {
        let texts = [
            "guests: [{name: a}]",
            """
            templates: {t: &t {memory: 4GiB, kernel: {vm.swappiness: 0}}}
            name: "on"
            host: {memory: 32GiB}
            images: [{name: img, files: [{path: /x, size: 8KiB, per_guest: true}]}]
            guests:
              - {<<: *t, name: a, image: img, count: 2}
              - {name: b, swap: {size: 0, device: ramdisk, read_latency: 3us}, workloads: [{kind: idle, resident: 1MiB}]}
            """,
        ]
        for text in texts {
            let config = try ScenarioLoader.load(text: text, file: "in.yaml")
            let rendered = ScenarioRenderer.yaml(config)
            let again = try ScenarioLoader.load(text: rendered, file: "out.yaml")
            #expect(again == config, "\(rendered)")
            // Rendering is a fixed point.
            #expect(ScenarioRenderer.yaml(again) == rendered)
        }
    }

    @Test func renderingIsIdenticalEveryTime() {
        for config in Self.configs {
            let first = ScenarioRenderer.yaml(config)
            for _ in 0..<5 { #expect(ScenarioRenderer.yaml(config) == first) }
        }
    }

    @Test func keysFollowParameterTableOrder() throws {
        let text = ScenarioRenderer.yaml(Self.configs[1])
        let lines = text.split(separator: "\n").map(String.init)
        func key(_ line: String) -> String {
            var l = Substring(line)
            l = l.drop { $0 == " " }
            if l.hasPrefix("- ") { l = l.dropFirst(2) }
            if l.hasPrefix("# ") { l = l.dropFirst(2) }
            return String(l.prefix { $0 != ":" })
        }
        // Top level: every key of the table but the free-form templates, in order.
        let top = lines.filter { !$0.hasPrefix(" ") && !$0.hasPrefix("#") && !$0.isEmpty }.map(key)
        #expect(top == ScenarioConfig.parameters.map(\.key).filter { $0 != "templates" })
        // The kernel table: every key, unset ones as comments, in the table's order.
        let start = try #require(lines.firstIndex(of: "    kernel:"))
        // (Lines indented deeper belong to a nested table: kernel.zswap.)
        let kernelLines = lines[(start + 1)...].prefix { $0.hasPrefix("      ") }.filter { !$0.hasPrefix("       ") }
        #expect(kernelLines.map(key) == GuestKernelConfig.parameters.map(\.key))
        #expect(kernelLines.contains("      kernel_reserved: 48MiB"))  // set in this guest
        #expect(!kernelLines.contains { $0.contains("unset") })
        #expect(ScenarioRenderer.yaml(Self.configs[0]).contains("      # vm.min_free_kbytes: unset (default: sqrt(lowmem_kB*16))"))
    }

    @Test func stringsAreQuotedOnlyWhenNeeded() {
        let text = ScenarioRenderer.yaml(Self.configs[1])
        #expect(text.contains("\nname: \"null\"\n"))
        #expect(text.contains("  - name: \"yes\"\n"))
        #expect(text.contains("  - name: \"1.5\"\n"))
        #expect(text.contains("\nseed: 18446744073709551615\n"))
        #expect(text.contains("      - path: /usr/lib/libc.so.6\n"))
        #expect(text.contains("    memory_image: dumps/web vm.raw\n"))
        #expect(text.contains("description: \"Web tier: 3 guests # not a comment\\n\\\"quoted\\\" \\\\ back\\tslash, ünïcode\"\n"))
        #expect(YAMLText.string("8GiB") == "8GiB")
        #expect(YAMLText.string("") == "\"\"")
        #expect(YAMLText.string("- x") == "\"- x\"")
        #expect(YAMLText.string("a\u{1}b") == "\"a\\u0001b\"")
    }

    @Test func orderedEncoderKeepsWriteOrder() throws {
        let v = try OrderedEncoding.encode(HostConfig())
        #expect(
            v.mapPairs?.map(\.key) == [
                "name", "memory", "hypervisor_reserved", "vm_overhead", "large_pages", "numa", "sharing",
                "compression", "swap", "states", "scheduler", "active_sampling", "balloon_policy", "policy", "cpus", "cpu",
            ])
        #expect(v["memory"] == .string("64GiB"))
    }
}

@Suite struct ConfigReferenceTests {
    @Test func markdownMentionsEveryKeyOfEveryTable() {
        let md = ConfigReference.markdown()
        for key in GuestKernelConfig.parameters.map(\.key) {
            #expect(md.contains("| `\(key)` |"), "missing \(key)")
        }
        for table in ConfigReference.reachableTables() {
            #expect(md.contains("\n## \(table.tableName)\n"), "missing table \(table.tableName)")
            for p in table.parameters { #expect(md.contains("| `\(p.key)` |")) }
        }
        #expect(
            md.contains(
                "| `vm.swappiness` | integer | `60` | between 0 and 200 (Linux's range) | 0-200: preference for swapping anonymous pages over dropping page cache |"
            ))
        #expect(md.contains("| `pages_to_scan` | integer (pages) | `100 (KSM)` | between 1 and 1000000 | "))
        #expect(md.contains("| `kernel` | table: [guest.kernel](#guestkernel) | see [guest.kernel](#guestkernel) |"))
        #expect(md == ConfigReference.markdown())
    }

    @Test func reachableTablesIncludeVariantCases() {
        let names = ConfigReference.reachableTables().map { $0.tableName }
        #expect(names.first == "scenario")
        #expect(names.contains("guest.kernel") && names.contains("swap") && names.contains("file"))
        let kinds = ConfigReference.children(WorkloadSpec.parameterKind).map { $0.tableName }
        #expect(!kinds.isEmpty)
        for k in kinds { #expect(names.contains(k)) }
        #expect(Set(names).count == names.count)
    }

    @Test func plainTextColumnsAreAligned() throws {
        let text = ConfigReference.plainText(tables: [GuestKernelConfig.self, SwapDeviceConfig.self])
        let blocks = text.split(separator: "\n\n")
        #expect(blocks.count == 2)
        let lines = blocks[0].split(separator: "\n").map(String.init)
        #expect(lines[0] == "guest.kernel: \(GuestKernelConfig.tableSummary)")
        let header = lines[1]
        let typeColumn = try #require(header.firstRange(of: "TYPE")).lowerBound.utf16Offset(in: header)
        let defaultColumn = try #require(header.firstRange(of: "DEFAULT")).lowerBound.utf16Offset(in: header)
        for (line, p) in zip(lines.dropFirst(2), GuestKernelConfig.parameters) {
            #expect(line.hasPrefix("  \(p.key) "))
            let chars = Array(line.utf16)
            #expect(String(decoding: chars[typeColumn..<(typeColumn + p.kind.typeName.utf16.count)], as: UTF16.self) == p.kind.typeName)
            #expect(chars[typeColumn - 1] == 32 && chars[defaultColumn - 1] == 32)
            #expect(line.hasSuffix(p.summary))
        }
    }
}
