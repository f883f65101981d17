import Foundation
import HostPolicies
import OvercommitSupport
import Testing
@testable import PolicyLanguage

/// The policies of Configs/policies: they parse, check clean, set the expected controls on
/// the sample data, and balloon-mom.policy sets the same targets as the built-in `mom` policy.
@Suite struct ConfigPoliciesTests {
    static let dir = repoRoot + "/Configs/policies"

    func program(_ name: String) throws -> PolicyProgram {
        let path = Self.dir + "/" + name
        return try PolicyProgram(sources: [PolicySource(name: path, text: try String(contentsOfFile: path, encoding: .utf8))])
    }

    func sample(_ name: String) throws -> PolicyInput {
        var b = MOMSampleBuilder()
        let path = Self.dir + "/samples/" + name
        try b.read(try String(contentsOfFile: path, encoding: .utf8), file: path)
        return b.build()
    }

    /// Controls as `owner.name = applied integer`.
    func controls(_ p: PolicyProgram, _ input: PolicyInput) throws -> [String] {
        let r = try p.evaluate(input)
        var out = try r.hostControls.map { "Host.\($0.name) = \(try $0.appliedInteger()!)" }
        for (i, g) in input.guests.enumerated() {
            out += try r.guestControls[i].map { "\(g.name).\($0.name) = \(try $0.appliedInteger()!)" }
        }
        return out
    }

    @Test func everyPolicyChecksClean() throws {
        let files = try FileManager.default.contentsOfDirectory(atPath: Self.dir).filter { $0.hasSuffix(".policy") }.sorted()
        #expect(files == ["balloon-idle-first.policy", "balloon-mom.policy", "ksm-pressure.policy"])
        for f in files {
            let report = try program(f).check()
            #expect(report.diagnostics.isEmpty, "\(f): \(report.diagnostics)")
        }
    }

    @Test func momBalloonShrinksUnderPressureAndGrowsBack() throws {
        let p = try program("balloon-mom.policy")
        // 12 % free: every guest may keep 12 % free; 5 % per step; db-vm is guaranteed its memory.
        #expect(try controls(p, sample("host-pressure.sample")) == ["idle-vm.balloon_target = 3984588", "busy-vm.balloon_target = 4173332"])
        #expect(try controls(p, sample("host-relaxed.sample")) == ["idle-vm.balloon_target = 3303014", "busy-vm.balloon_target = 3643801"])
        // balloonEnabled 0 from outside: no shrinking under pressure, only growing (none here).
        var off = try sample("host-pressure.sample")
        off.variables = [PolicyVariable("balloonEnabled", .int(0))]
        #expect(try controls(p, off) == [])
    }

    @Test func idleFirstShrinksOnlyIdleGuestsWhileTheyCanCover() throws {
        let p = try program("balloon-idle-first.policy")
        // The idle guest alone can give back what the host needs: the busy guest is spared.
        #expect(try controls(p, sample("host-pressure.sample")) == ["idle-vm.balloon_target = 3774873"])
        // Without pressure the busy guest grows back fastest.
        #expect(try controls(p, sample("host-relaxed.sample")) == ["idle-vm.balloon_target = 3208642", "busy-vm.balloon_target = 3643801"])
        // When the idle guest cannot cover the need (a 30 % threshold), busy guests shrink
        // too, down to their own free margin (10 % here; at the default 20 % the busy guest,
        // 12.5 % free, has nothing to give).
        var tight = try sample("host-pressure.sample")
        tight.variables = [PolicyVariable("pressure_threshold", .float(0.3))]
        #expect(try controls(p, tight) == ["idle-vm.balloon_target = 3774873"])
        tight.variables.append(PolicyVariable("busy_free", .float(0.1)))
        #expect(try controls(p, tight) == ["idle-vm.balloon_target = 3774873", "busy-vm.balloon_target = 4089446"])
    }

    @Test func ksmScansFasterUnderPressureAndStopsWhenRelaxed() throws {
        let p = try program("ksm-pressure.policy")
        #expect(try controls(p, sample("host-pressure.sample")) == ["Host.ksm_run = 1", "Host.ksm_pages_to_scan = 587", "Host.ksm_sleep_millisecs = 7"])
        #expect(try controls(p, sample("host-relaxed.sample")) == ["Host.ksm_run = 0"])
        // Pressure at the critical level: full speed, half the sleep.
        var critical = try sample("host-pressure.sample")
        critical.host.samples = critical.host.samples.map {
            var s = $0; s[.mem_free] = .int(838860); return s
        }
        #expect(try controls(p, critical) == ["Host.ksm_run = 1", "Host.ksm_pages_to_scan = 1250", "Host.ksm_sleep_millisecs = 5"])
        // Between the start and stop thresholds a running ksmd keeps running.
        var between = try sample("host-relaxed.sample")
        between.host.samples = between.host.samples.map {
            var s = $0; s[.mem_free] = .int(4194304); return s
        }
        #expect(try controls(p, between).first == "Host.ksm_run = 1")
        // ksmEnabled 0: unmerge the shared pages.
        var disabled = try sample("host-relaxed.sample")
        disabled.variables = [PolicyVariable("ksmEnabled", .int(0))]
        #expect(try controls(p, disabled) == ["Host.ksm_run = 2"])
    }

    /// balloon-mom.policy against HostPolicies' MOMBalloonPolicy on random hosts, guests and
    /// parameters (pinned seeds): the same balloon target for every VM.
    @Test(arguments: [1, 2, 3] as [UInt64])
    func momPolicyFileEqualsTheBuiltInPolicy(seed: UInt64) throws {
        let p = try program("balloon-mom.policy")
        var rng = Xoshiro256(seed: seed, component: "policy-equivalence")
        for round in 0..<300 {
            var params = MOMBalloonParameters()
            var variables: [PolicyVariable] = []
            if round % 2 == 1 {
                params.pressure_threshold = Percentage(fraction: 0.05 + rng.unit() * 0.4)
                params.pressure_critical = Percentage(fraction: params.pressure_threshold.fraction * rng.unit())
                params.min_guest_free = Percentage(fraction: rng.unit() * 0.5)
                params.max_balloon_change = Percentage(fraction: rng.unit() * 0.2)
                params.min_balloon_change = Percentage(fraction: rng.unit() * 0.02)
                variables = [
                    PolicyVariable("pressure_threshold", .float(params.pressure_threshold.fraction)),
                    PolicyVariable("pressure_critical", .float(params.pressure_critical.fraction)),
                    PolicyVariable("min_guest_free", .float(params.min_guest_free.fraction)),
                    PolicyVariable("max_balloon_change", .float(params.max_balloon_change.fraction)),
                    PolicyVariable("min_balloon_change", .float(params.min_balloon_change.fraction)),
                ]
            }
            let usable = rng.int(in: 100_000...4_000_000)
            let free = rng.int(in: 0...usable / 2)
            var vms: [BalloonVMView] = []
            for k in 0..<rng.int(in: 1...6) {
                let configured = rng.int(in: 65_536...1_048_576)
                let balloon = rng.chance(0.3) ? 0 : rng.int(in: 0...configured * 6 / 10)
                var settings = BalloonVMSettings()
                if rng.chance(0.7) { settings.minimum = .pages(rng.int(in: 0...configured)) }
                vms.append(
                    BalloonVMView(
                        name: "vm\(k)", configuredPages: configured, balloonPages: balloon,
                        targetPages: balloon + rng.int(in: -100...100),
                        guestFreePages: rng.int(in: 0...(configured - balloon)), settings: settings))
            }
            var builtin = MOMBalloonPolicy(params)
            let expected = builtin.targets(BalloonHostView(usablePages: usable, freePages: free, vms: vms))

            // The same figures as MOM's fields, in KiB.
            let host = MOMHostData(samples: [hostSample([.mem_free: .int(free * 4), .mem_available: .int(usable * 4)])])
            let guests = vms.map { vm in
                MOMGuestData(
                    name: vm.name,
                    samples: [
                        guestSample([
                            .balloon_cur: .int(vm.guestMemoryPages * 4), .balloon_max: .int(vm.configuredPages * 4),
                            .balloon_min: .int(vm.settings.minimumPages(configuredPages: vm.configuredPages) * 4),
                            .mem_unused: .int(vm.guestFreePages * 4),
                        ])
                    ])
            }
            let r = try p.evaluate(PolicyInput(host: host, guests: guests, variables: variables))
            for (i, vm) in vms.enumerated() {
                var target = vm.targetPages
                if let kib = try r.guestControl(.balloon_target, guest: i)?.appliedInteger() {
                    target = vm.configuredPages - kib / 4
                }
                #expect(target == expected[i], "seed \(seed) round \(round) vm \(i)")
            }
        }
    }
}

/// docs/policy-language.md holds the data model as `overcommit policy fields` prints it.
@Suite struct PolicyDocsTests {
    @Test func dataModelTablesInTheDocsAreGenerated() throws {
        let doc = try String(contentsOfFile: repoRoot + "/docs/policy-language.md", encoding: .utf8)
        guard let begin = doc.range(of: "<!-- data-model:begin"), let end = doc.range(of: "<!-- data-model:end -->") else {
            Issue.record("docs/policy-language.md has no data-model markers")
            return
        }
        let afterMarker = doc[begin.upperBound...].firstIndex(of: "\n").map { doc.index(after: $0) }!
        #expect(
            String(doc[afterMarker..<end.lowerBound]) == MOMDataModelReference.markdown(),
            "regenerate the block with: overcommit policy fields")
    }
}
