import Foundation
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// Issue 12 item 6: `validate` said ok and `run` refused. `validate` now makes every check
/// `run` makes before simulating; both refuse each of these with the same message.
@Suite(.serialized) struct ValidateLikeRunTests {
    static let cases: [(name: String, yaml: String, files: [String: String], expect: String)] = [
        (
            "missing trace",
            """
            name: t
            duration: 200ms
            sample_interval: 100ms
            guests:
              - name: a
                memory: 128MiB
                workloads:
                  - {kind: trace, file: traces/none.trace}
            """, [:], "traces/none.trace: cannot read the trace: no such file or directory"
        ),
        (
            "missing memory image",
            """
            name: m
            duration: 200ms
            sample_interval: 100ms
            images:
              - {name: dump, memory_image: none.img}
            guests:
              - {name: a, memory: 128MiB, image: dump}
            """, [:], "images[0].memory_image: "
        ),
        (
            "data_file not in the image",
            """
            name: d
            duration: 200ms
            sample_interval: 100ms
            guests:
              - name: db
                memory: 256MiB
                workloads:
                  - kind: database
                    data_file: /var/lib/nope
            """, [:], "guests[0].workloads[0].data_file: workload database: data_file '/var/lib/nope' is not a file of the guest's image"
        ),
        (
            "docroot not in the image",
            """
            name: w
            duration: 200ms
            sample_interval: 100ms
            guests:
              - name: web
                memory: 256MiB
                workloads:
                  - {kind: web, docroot: /srv/none}
            """, [:], "guests[0].workloads[0].docroot: workload web: docroot '/srv/none'"
        ),
        (
            "trace that does not parse",
            """
            name: p
            duration: 200ms
            sample_interval: 100ms
            guests:
              - name: a
                memory: 128MiB
                workloads:
                  - {kind: trace, file: bad.trace}
            """, ["bad.trace": "R 1 0x0\nQ 1 0x0\n"], "bad.trace:2: unknown record 'Q'"
        ),
    ]

    @Test(arguments: cases.indices)
    func validateRefusesWhatRunRefuses(index: Int) throws {
        let c = Self.cases[index]
        let dir = try scratchDirectory("vr"); defer { cleanup(dir) }
        try write(c.yaml + "\n", to: dir + "/s/scenario.yaml")
        for (name, text) in c.files { try write(text, to: dir + "/s/" + name) }
        let v = try overcommit(["validate", "s/scenario.yaml"], in: dir)
        let r = try overcommit(["run", "s/scenario.yaml", "--out", "out"], in: dir)
        #expect(v.status == 2 && r.status == 2, "\(c.name): validate \(v)\nrun \(r)")
        #expect(v.stderr.contains(c.expect), "\(c.name): \(v)")
        #expect(r.stderr.contains(c.expect), "\(c.name): \(r)")
        // The message names the scenario's file and line, and nothing was written.
        #expect(v.stderr.hasPrefix("s/scenario.yaml:"), "\(c.name): \(v)")
        #expect(!exists(dir + "/out"))
    }

    @Test func validateReportsEveryProblemOfEveryFile() throws {
        let dir = try scratchDirectory("vall"); defer { cleanup(dir) }
        try write(
            Self.cases[2].yaml + "\n" + """
                  - name: web
                    memory: 256MiB
                    workloads:
                      - {kind: web, docroot: /srv/none}

                """, to: dir + "/two.yaml")
        try write(tinyScenario, to: dir + "/ok.yaml")
        let v = try overcommit(["validate", "two.yaml", "ok.yaml"], in: dir)
        #expect(v.status == 2)
        #expect(v.stderr.contains("data_file") && v.stderr.contains("docroot"), "\(v)")
        #expect(v.stdout.contains("ok.yaml: ok"), "\(v)")
    }

    @Test func everyShippedScenarioValidates() throws {
        var files: [String] = []
        let e = FileManager.default.enumerator(atPath: repoRoot + "/Configs")
        while let f = e?.nextObject() as? String { if f.hasSuffix(".yaml") { files.append("Configs/" + f) } }
        let v = try overcommit(["validate"] + files.sorted(), in: repoRoot)
        #expect(v.status == 0, "\(v)")
        // One "ok" line per file, each followed by its cost estimate.
        let lines = v.stdout.split(separator: "\n")
        #expect(lines.filter { $0.hasPrefix("Configs/") }.count == files.count, "\(v)")
        #expect(lines.filter { $0.hasPrefix("Configs/") && $0.contains(": ok") }.count == files.count, "\(v)")
    }
}

/// Issue 12 item 8: misleading messages, each now saying what is wrong.
@Suite(.serialized) struct MessageTests {
    @Test func aNonUTF8TraceSaysSo() throws {
        let dir = try scratchDirectory("utf8"); defer { cleanup(dir) }
        try write("name: t\nguests:\n  - name: a\n    memory: 128MiB\n    workloads: [{kind: trace, file: bin.trace}]\n", to: dir + "/t.yaml")
        #expect(FileManager.default.createFile(atPath: dir + "/bin.trace", contents: Data([0x52, 0x20, 0x31, 0x0A, 0xFF, 0xFE, 0x00])))
        let v = try overcommit(["validate", "t.yaml"], in: dir)
        #expect(v.status == 2)
        #expect(v.stderr.contains("bin.trace: the trace is not UTF-8 text: byte 0xff at line 2, column 1"), "\(v)")
        #expect(!v.stderr.contains("cannot read"), "\(v)")
    }

    @Test func aDirectoryGivenAsAScenarioSaysItIsADirectory() throws {
        let dir = try scratchDirectory("dirscen"); defer { cleanup(dir) }
        try write(tinyScenario, to: dir + "/exp/a.yaml")
        for cmd in [["run", "exp"], ["validate", "exp"], ["sweep", "exp", "--out", "o"]] {
            let r = try overcommit(cmd, in: dir)
            #expect(r.status == 2, "\(cmd): \(r)")
            #expect(r.stderr.contains("exp: is a directory, not a scenario file"), "\(cmd): \(r)")
            #expect(r.stderr.contains("a.yaml"), "the scenarios in it are named: \(r)")
            #expect(!r.stderr.contains("does it exist"), "\(r)")
        }
    }

    @Test func emptyAndProcOutPathsGetPlainMessages() throws {
        let dir = try scratchDirectory("procout"); defer { cleanup(dir) }
        try write(tinyScenario, to: dir + "/t.yaml")
        let empty = try overcommit(["run", "t.yaml", "--out", ""], in: dir)
        #expect(empty.status == 2 && empty.stderr.contains("--out: the path is empty"), "\(empty)")
        let proc = try overcommit(["run", "t.yaml", "--out", "/proc/x"], in: dir)
        #expect(proc.status == 2 && proc.stderr.contains("'/proc/x'"), "\(proc)")
        for r in [empty, proc] { #expect(!r.stderr.contains("NSCocoaErrorDomain") && !r.stderr.contains("Error Domain")) }
    }

    @Test func analyzeWithAnEmptyCodecNamesTheCodecOption() throws {
        let dir = try scratchDirectory("codec"); defer { cleanup(dir) }
        let r = try overcommit(["analyze", "--codec", "", repoRoot + "/Configs/images/sample.img"], in: dir)
        #expect(r.exited && r.status != 0, "\(r)")
        #expect(r.stderr.contains("--codec:") && !r.stderr.contains("--codecs"), "\(r)")
    }

    @Test(arguments: [
        (["sweep", "t.yaml", "--runs", "-1", "--out", "o"], "--runs must be between 1 and 10000; got -1"),
        (["sweep", "t.yaml", "--jobs", "-2", "--out", "o"], "--jobs must be between 1 and 1024; got -2"),
        (["consolidate", "t.yaml", "--vm", "g", "--max-vms", "-3"], "--max-vms must be at least 1; got -3"),
        (["consolidate", "t.yaml", "--vm", "g", "--max-overcommit-penalty", "-1"], "--max-overcommit-penalty must be at least 1"),
        (["run", "t.yaml", "--seed", "-1"], "'-1' is invalid for '--seed"),
        (["run", "t.yaml", "--duration", "-5s"], "duration"),
    ])
    func negativeNumbersGetARealMessage(args: [String], expect: String) throws {
        let dir = try scratchDirectory("neg"); defer { cleanup(dir) }
        try write(tinyScenario, to: dir + "/t.yaml")
        let r = try overcommit(args, in: dir)
        #expect(r.exited && r.status != 0, "\(args): \(r)")
        #expect(r.stderr.contains(expect), "\(args): \(r)")
        #expect(!r.stderr.contains("Missing value"), "\(args): \(r)")
        #expect(!exists(dir + "/o"))
    }

    @Test func aSweepOverSeedWritesOneSeedColumn() throws {
        let dir = try scratchDirectory("seedcol"); defer { cleanup(dir) }
        try write(tinyScenario, to: dir + "/t.yaml")
        let r = try overcommit(["sweep", "t.yaml", "--set", "seed=1,2", "--runs", "2", "--out", "s", "--quiet"], in: dir)
        #expect(r.status == 0, "\(r)")
        let runs = try #require(read(dir + "/s/runs.csv")).split(separator: "\n")
        let header = runs[0].split(separator: ",")
        #expect(header.filter { $0 == "seed" }.count == 1, "\(runs[0])")
        // Replication 0 of each point runs with the point's seed.
        #expect(runs[1].hasPrefix("0,0,0,1,") && runs[3].hasPrefix("2,1,0,2,"), "\(runs)")
        let sweep = try #require(read(dir + "/s/sweep.csv")).split(separator: "\n")
        #expect(sweep[0].hasPrefix("point,seed,n,") && sweep[1].hasPrefix("0,1,2,") && sweep[2].hasPrefix("1,2,2,"), "\(sweep)")
        // Shards of it merge into the same files.
        for i in 0..<2 {
            #expect(
                try overcommit(["sweep", "t.yaml", "--set", "seed=1,2", "--runs", "2", "--shard", "\(i)/2", "--out", "p\(i)", "--quiet"], in: dir).status == 0)
        }
        #expect(try overcommit(["merge", "p1", "p0", "--out", "m"], in: dir).status == 0)
        for f in ["plan.txt", "runs.csv", "sweep.csv", ".overcommit-output"] { #expect(read(dir + "/m/" + f) == read(dir + "/s/" + f), "\(f)") }
    }

    @Test(arguments: ["host.memory=1GiB,1GiB", "host.memory=1GiB,1024MiB"])
    func aSweepRefusesTheSamePointTwice(set: String) throws {
        let dir = try scratchDirectory("dup"); defer { cleanup(dir) }
        try write(tinyScenario, to: dir + "/t.yaml")
        let r = try overcommit(["sweep", "t.yaml", "--set", set, "--out", "s"], in: dir)
        #expect(r.status == 2, "\(r)")
        #expect(r.stderr.contains("points 0") && r.stderr.contains("same scenario"), "\(r)")
        #expect(!exists(dir + "/s"))
    }
}
