import Foundation
import GuestKernel
import OvercommitSupport
import Testing
@testable import Workloads

@Suite struct WorkloadSpecTests {
    func decode(_ json: String) throws -> WorkloadSpec {
        try JSONDecoder().decode(WorkloadSpec.self, from: Data(json.utf8))
    }

    @Test func kindSelectsTheParameterTable() throws {
        let s = try decode(#"{"kind": "web", "workers": 8, "worker_memory": "64MiB", "access_rate": 50000, "content_mix": {"text": "70%", "zero": 30}}"#)
        let p = try #require(s.parameters as? WebWorkloadParameters, "not web: \(s)")
        #expect(p.workers == 8)
        #expect(p.worker_memory == .mib(64))
        #expect(p.access_rate == 50_000)
        #expect(p.docroot == "/var/www/html")
        #expect(p.content_mix[.text].percent == 70 && p.content_mix[.zero].percent == 30)
        #expect(s.kindName == "web")
        #expect(s.validationProblems().isEmpty)
    }

    @Test func everyKindRoundTripsThroughJSON() throws {
        for kind in WorkloadKind.allCases {
            let spec = kind.defaultSpec
            let data = try JSONEncoder().encode(spec)
            let back = try JSONDecoder().decode(WorkloadSpec.self, from: data)
            #expect(back == spec, "\(kind)")
            #expect(back.kind == kind)
        }
        var b = BatchWorkloadParameters()
        b.stop_at = .seconds(30); b.repeat = true
        let back = try JSONDecoder().decode(WorkloadSpec.self, from: JSONEncoder().encode(WorkloadSpec.batch(b)))
        #expect(back == .batch(b))
    }

    @Test func unknownKindListsTheKinds() {
        #expect(throws: DecodingError.self) { try decode(#"{"kind": "webserver"}"#) }
        do { _ = try decode(#"{"kind": "webserver"}"#) } catch {
            #expect("\(error)".contains("unknown workload kind 'webserver'; allowed: " + WorkloadKind.allCases.map(\.rawValue).joined(separator: ", ")))
        }
    }

    @Test func defaultsAreValidAndTablesAreComplete() {
        guard case .variant(let d, let cases) = WorkloadSpec.parameterKind else { Issue.record("not a variant"); return }
        #expect(d == "kind")
        #expect(cases.map(\.name) == WorkloadKind.allCases.map(\.rawValue))
        for kind in WorkloadKind.allCases {
            let keys = kind.parameterTable.parameters.map(\.key)
            for common in ["access_rate", "start_at", "stop_at", "content_mix", "oom_score_adj"] { #expect(keys.contains(common), "\(kind) \(common)") }
            #expect(Set(keys).count == keys.count)
            #expect(!kind.summary.isEmpty)
            // Every documented key is written by the encoder (and so read by the decoder).
            let json = String(decoding: try! JSONEncoder().encode(kind.defaultSpec), as: UTF8.self)
            for key in keys where key != "stop_at" { #expect(json.contains("\"\(key)\""), "\(kind).\(key) not encoded") }
            let problems = kind.defaultSpec.validationProblems()
            if kind == .trace { #expect(problems.map(\.key) == ["file"]) } else { #expect(problems.isEmpty, "\(kind): \(problems)") }
        }
    }

    @Test func validationNamesKeysRelativeToTheWorkload() throws {
        let s = try decode(
            #"{"kind": "database", "hot_fraction": "120%", "access_rate": 0, "content_mix": {"text": 50, "random": 20}, "oom_score_adj": 2000, "start_at": "10s", "stop_at": "5s"}"#
        )
        let keys = s.validationProblems().map(\.key)
        #expect(keys.contains("hot_fraction"))
        #expect(keys.contains("access_rate"))
        #expect(keys.contains("content_mix"))
        #expect(keys.contains("oom_score_adj"))
        #expect(keys.contains("stop_at"))
        let mix = s.validationProblems().first { $0.key == "content_mix" }!
        #expect(mix.message.contains("sum to 70%"))
        #expect(throws: DecodingError.self) { try decode(#"{"kind": "idle", "content_mix": {"bogus": 100}}"#) }
    }

    @Test func makeRefusesInvalidParametersAndMissingFiles() throws {
        let k = makeKernel()
        var p = WebWorkloadParameters()
        p.workers = 0
        #expect(throws: WorkloadError.self) { try make(.web(p), k) }
        var q = WebWorkloadParameters()
        q.docroot = "/srv/nothing"
        #expect(throws: WorkloadError.missingFile(kind: "web", key: "docroot", path: "/srv/nothing")) { try make(.web(q), k) }
        for kind in WorkloadKind.allCases where kind != .trace {
            let w = try make(kind.defaultSpec, k)
            #expect(w.kind == kind)
        }
    }
}
