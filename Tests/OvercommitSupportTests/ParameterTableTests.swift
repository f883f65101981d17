import Foundation
import Testing
@testable import OvercommitSupport

/// A small table exercising every kind of declaration.
private struct Disk: ParameterTable {
    enum Medium: String, CaseIterable, ParameterChoice {
        case hdd, ssd
        static var choiceNoun: String { "medium" }
    }
    var name = "disk"
    var size: ByteCount = .gib(1)
    var latency: SimDuration? = nil
    var medium: Medium = .ssd
    var queue = 32
    var share = Percentage(percent: 50)
    var gain = 0.5
    var flags: [String] = []
    var label: String? = nil
    init() {}

    static let tableName = "disk"
    static let tableSummary = "A test disk."
    static let fields: [ParameterField<Self>] = [
        .init(\.name, "name", "its name"),
        .init(\.size, "size", "its size", .atLeastOnePage),
        .init(\.latency, "latency", "its latency", .cost, unset: "(medium)"),
        .init(\.medium, "medium", "what it is"),
        .init(\.queue, "queue", "queue depth", .range(1...1024, because: "NVMe's limit"), unit: "requests"),
        .init(\.share, "share", "a share", .share),
        .init(\.gain, "gain", "a gain", .above(0, atMost: 1)),
        .init(\.flags, "flags", "flags", meaning: "none"),
        .init(\.label, "label", "a label", unset: "(none)"),
        .freeForm("notes", "anything"),
    ]

    func consistencyProblems() -> [ParameterProblem] {
        queue > 512 && medium == .hdd ? [("queue", "an hdd queues at most 512 requests; got \(queue)")] : []
    }
}

/// A table holding tables and lists of them.
private struct Rack: ParameterTable {
    var disks: [Disk] = []
    var spare = Disk()
    var slots = 4
    init() {}
    static let tableName = "rack"
    static let tableSummary = "A test rack."
    static let fields: [ParameterField<Self>] = [
        .init(\.slots, "slots", "disk slots", .range(1...64)),
        .init(\.disks, "disks", "the disks"),
        .init(\.spare, "spare", "the spare disk"),
    ]
    func consistencyProblems() -> [ParameterProblem] {
        disks.count > slots ? [("disks", "more disks than slots")] : []
    }
}

@Suite struct ParameterTableTests {
    func decode<T: Decodable>(_ type: T.Type, _ json: String) throws -> T {
        try JSONDecoder().decode(T.self, from: Data(json.utf8))
    }

    func encode(_ value: some Encodable) throws -> String {
        let e = JSONEncoder()
        e.outputFormatting = [.sortedKeys]
        return String(decoding: try e.encode(value), as: UTF8.self)
    }

    @Test func absentKeysKeepTheDefaultsOfInit() throws {
        let d = try decode(Disk.self, #"{"queue": 8, "latency": "5ms", "medium": "hdd"}"#)
        var want = Disk()
        want.queue = 8; want.latency = .ms(5); want.medium = .hdd
        #expect(d == want)
        #expect(try decode(Disk.self, "{}") == Disk())
        #expect(try decode(Disk.self, #"{"label": null}"#).label == nil)
    }

    @Test func encodingWritesEveryKeyButUnsetOptionals() throws {
        let json = try encode(Disk())
        #expect(json == #"{"flags":[],"gain":0.5,"medium":"ssd","name":"disk","queue":32,"share":"50%","size":"1GiB"}"#)
        var d = Disk()
        d.latency = .us(100); d.label = "boot"
        #expect(try decode(Disk.self, try encode(d)) == d)
    }

    @Test func unknownKeysAndNamesAreRefusedWithTheAllowedOnes() throws {
        do {
            _ = try decode(Disk.self, #"{"sise": "2GiB"}"#)
            Issue.record("accepted an unknown key")
        } catch {
            #expect("\(error)".contains("unknown key 'sise'; allowed: name, size, latency, medium, queue, share, gain, flags, label, notes"))
        }
        do {
            _ = try decode(Disk.self, #"{"medium": "floppy"}"#)
            Issue.record("accepted an unknown choice")
        } catch {
            #expect("\(error)".contains("unknown medium 'floppy'; allowed: hdd, ssd"))
        }
    }

    @Test func boundsAreCheckedWithTheirPhrase() {
        var d = Disk()
        d.size = ByteCount(0); d.queue = 2000; d.share = Percentage(percent: 101); d.gain = 0; d.latency = .seconds(2)
        let p = d.validationProblems()
        #expect(p.map(\.key) == ["size", "latency", "queue", "share", "gain"])
        #expect(
            p.map(\.message) == [
                "must be between 4KiB and 4TiB; got 0B",
                "must be at most 1s; got 2s",
                "must be between 1 and 1024 (NVMe's limit); got 2000",
                "must be between 0% and 100%; got 101%",
                "must be above 0 and at most 1; got 0",
            ])
        d = Disk()
        d.gain = .nan
        #expect(d.validationProblems().map(\.message) == ["must be above 0 and at most 1; got nan"])
        d.gain = .infinity
        #expect(d.validationProblems().map(\.key) == ["gain"])
    }

    @Test func wordingAndUnboundedKeys() {
        let b = ParameterBounds<Int>.range(0...2).described(as: "0, 1 or 2")
        #expect(b.problem(3) == "must be 0, 1 or 2; got 3")
        #expect(b.problem(2) == nil)
        let any = ParameterBounds<UInt64>.unbounded(because: "only hashed")
        #expect(any.phrase == "any value (only hashed)" && any.problem(.max) == nil)
        #expect(ParameterBounds<SimDuration>.period.problem(.ns(1)) == "must be between 1ms and 1000h; got 1ns")
    }

    @Test func consistencyProblemsFollowFieldOrder() {
        var d = Disk()
        d.medium = .hdd; d.queue = 600; d.size = ByteCount(0)
        #expect(d.validationProblems().map(\.key) == ["size", "queue"])
        #expect(Disk.inFieldOrder([("", "whole"), ("gain", "g"), ("name", "n")]).map(\.key) == ["name", "gain", ""])
    }

    @Test func nestedProblemsCarryTheirPath() {
        var r = Rack()
        var bad = Disk()
        bad.queue = 0
        r.disks = [Disk(), bad]
        r.spare.share = Percentage(percent: -1)
        r.slots = 1
        #expect(r.validationProblems().map(\.key) == ["disks[1].queue", "disks", "spare.share"])
    }

    @Test func documentationDerivesFromTheDeclarations() throws {
        let info = Disk.parameters
        #expect(info.map(\.key) == ["name", "size", "latency", "medium", "queue", "share", "gain", "flags", "label", "notes"])
        func p(_ k: String) throws -> ParameterInfo { try #require(info.first { $0.key == k }) }
        #expect(try p("size").defaultValue == "1GiB")
        #expect(try p("size").bounds == "between 4KiB and 4TiB")
        #expect(try p("size").lowerBound == "4KiB" && p("size").upperBound == "4TiB")
        #expect(try p("latency").defaultValue == "(medium)" && p("latency").bounds == "at most 1s")
        #expect(try p("latency").lowerBound == nil)
        #expect(try p("medium").kind == .choice(["hdd", "ssd"]) && p("medium").defaultValue == "ssd")
        #expect(try p("queue").typeName == "integer (requests)")
        #expect(try p("share").defaultValue == "50%")
        #expect(try p("gain").defaultValue == "0.5")
        #expect(try p("flags").defaultValue == "[] (none)" && p("flags").kind.typeName == "list of string")
        #expect(try p("label").defaultValue == "(none)" && p("label").bounds == nil)
        #expect(try p("notes").defaultValue == "")
        #expect(Rack.parameters.first { $0.key == "spare" }?.kind == .table(Disk.self))
        #expect(Rack.parameters.first { $0.key == "disks" }?.kind == .list(Disk.self))
        #expect([Disk.Medium.hdd, .ssd].parameterText == "[hdd, ssd]")
        #expect(Array<Disk.Medium>.parameterKind.typeName == "list of medium: hdd, ssd")
    }

    @Test func tablesCompareThroughExistentials() {
        let a: any ParameterTable = Disk(), b: any ParameterTable = Disk(), c: any ParameterTable = Rack()
        var changed = Disk()
        changed.queue = 1
        #expect(a.isEqual(to: b) && !a.isEqual(to: c) && !a.isEqual(to: changed))
    }
}
