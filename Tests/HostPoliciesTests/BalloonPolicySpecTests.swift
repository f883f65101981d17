import Foundation
import OvercommitSupport
import Testing
@testable import HostPolicies

@Suite struct BalloonPolicySpecTests {
    @Test func kindSelectsTheTableAndAbsentKeysKeepDefaults() throws {
        let s = try decodeJSON(BalloonPolicySpec.self, #"{"kind": "mom", "pressure_threshold": "25%", "interval": "5s"}"#)
        let p = try #require(s.parameters as? MOMBalloonParameters, "not mom: \(s)")
        #expect(p.pressure_threshold == Percentage(percent: 25) && p.interval == .seconds(5))
        #expect(p.pressure_critical == Percentage(percent: 5) && p.min_balloon_change == Percentage(percent: 0.25))
        #expect(try decodeJSON(BalloonPolicySpec.self, "{}") == BalloonPolicySpec(ESXBalloonParameters()))
        #expect(try decodeJSON(BalloonPolicySpec.self, #"{"kind": "static"}"#).kind == BalloonPolicyKind(StaticBalloonParameters.self))
    }

    @Test func unknownKindListsTheKinds() {
        do {
            _ = try decodeJSON(BalloonPolicySpec.self, #"{"kind": "balloonomatic"}"#)
            Issue.record("accepted an unknown policy")
        } catch {
            #expect("\(error)".contains("allowed: " + BalloonPolicyKind.allCases.map(\.rawValue).joined(separator: ", ")))
            #expect("\(error)".contains("unknown balloon policy kind 'balloonomatic'"))
        }
    }

    @Test func everyKindRoundTripsAndDocumentsItsKeys() throws {
        guard case .variant(let d, let cases) = BalloonPolicySpec.parameterKind else { Issue.record("not a variant"); return }
        #expect(d == "kind" && cases.map(\.name) == BalloonPolicyKind.allCases.map(\.rawValue))
        for kind in BalloonPolicyKind.allCases {
            let spec = kind.defaultSpec
            #expect(try roundTrip(spec) == spec, "\(kind)")
            #expect(spec.validationProblems().isEmpty, "\(kind)")
            #expect(!kind.summary.isEmpty)
            let keys = kind.parameterTable.parameters.map(\.key)
            #expect(keys.first == "interval" && Set(keys).count == keys.count)
            let json = try jsonString(spec)
            for key in keys where key != "host_reserve" { #expect(json.contains("\"\(key)\""), "\(kind).\(key)") }
            let policy = spec.make()
            #expect(policy.kind == kind && policy.interval == spec.parameters.interval)
        }
        var x = XenServerBalloonParameters()
        x.host_reserve = .mib(256)
        #expect(try roundTrip(BalloonPolicySpec(x)) == BalloonPolicySpec(x))
        #expect(BalloonPolicySpec(x) != BalloonPolicySpec(XenServerBalloonParameters()))
        #expect(BalloonPolicySpec(x) != BalloonPolicySpec(MOMBalloonParameters()))
    }

    @Test func defaultIntervals() {
        // ESX recomputes targets about once a second, the management daemons every 10 s.
        let known: [String: SimDuration] = [
            "esx": .seconds(1), "mom": .seconds(10), "proxmox": .seconds(10),
            "xenserver": .seconds(10), "static": .seconds(10), "none": .seconds(10),
        ]
        for kind in BalloonPolicyKind.allCases {
            let interval = kind.defaultSpec.make().interval
            #expect(interval == kind.defaultSpec.parameters.interval && interval >= .ms(1), "\(kind)")
            if let want = known[kind.rawValue] { #expect(interval == want, "\(kind)") }
        }
        #expect(Set(known.keys).isSubset(of: BalloonPolicyKind.allCases.map(\.rawValue)))
    }

    @Test func validationNamesKeysRelativeToThePolicy() throws {
        let s = try decodeJSON(BalloonPolicySpec.self, #"{"kind": "mom", "pressure_critical": "30%", "max_balloon_change": "150%", "interval": 0}"#)
        #expect(s.validationProblems().map(\.key) == ["interval", "pressure_critical", "max_balloon_change"])
        let p = try decodeJSON(BalloonPolicySpec.self, #"{"kind": "proxmox", "target": "120%"}"#)
        #expect(p.validationProblems().map(\.key) == ["target"])
    }

    @Test func vmSettings() throws {
        let s = try decodeJSON(BalloonVMSettings.self, #"{"minimum": "2GiB", "max": "50%", "proxmox_shares": 3000}"#)
        #expect(s.minimum == .gib(2) && s.max == Percentage(percent: 50) && s.proxmox_shares == 3000 && s.rate == .mib(64))
        #expect(try roundTrip(s) == s)
        #expect(s.maxBalloonPages(configuredPages: 1000) == 500)
        #expect(s.minimumPages(configuredPages: 1_048_576) == 524_288)
        let d = BalloonVMSettings()
        #expect(d.minimumPages(configuredPages: 1000) == 1000 && d.dynamicMinPages(configuredPages: 1000) == 500)
        #expect(d.dynamicMaxPages(configuredPages: 1000) == 1000 && d.maxBalloonPages(configuredPages: 1000) == 650)
        #expect(d.validationProblems(configured: .gib(4)).isEmpty)
        let json = try jsonString(d)
        for key in BalloonVMSettings.parameters.map(\.key) where !["minimum", "dynamic_min", "dynamic_max", "stats_period", "startup_memory"].contains(key) {
            #expect(json.contains("\"\(key)\""), "\(key)")
        }
        var bad = BalloonVMSettings()
        bad.dynamic_min = .gib(3); bad.dynamic_max = .gib(2); bad.minimum = .gib(8); bad.static_target = .gib(3)
        bad.proxmox_shares = -1
        let keys = bad.validationProblems(configured: .gib(4)).map(\.key)
        #expect(keys == ["minimum", "dynamic_min", "proxmox_shares", "static_target"])  // in field order
        var quarter = BalloonVMSettings()
        quarter.dynamic_min = .mib(512)
        #expect(quarter.validationProblems(configured: .gib(4)).map(\.key) == ["dynamic_min"])
        #expect(quarter.validationProblems().isEmpty)
    }
}
