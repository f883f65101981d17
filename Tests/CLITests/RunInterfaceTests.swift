import Foundation
import OvercommitSupport
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// Issue 13 point 1: one run interface. `run` has `--set` and `--duration` (the option group
/// `sweep`, `consolidate` and `validate` share), `--version`, and reads its scenario from
/// standard input or any stream.
@Suite(.serialized) struct RunInterfaceTests {
    @Test func versionPrintsTheVersion() throws {
        let r = try overcommit(["--version"], in: repoRoot)
        #expect(r.status == 0 && r.stdout == OvercommitVersion.string + "\n", "\(r)")
    }

    @Test func runTakesSetAndDuration() throws {
        let dir = try scratchDirectory("set"); defer { cleanup(dir) }
        try write(tinyScenario, to: dir + "/t.yaml")
        let r = try overcommit(
            [
                "run", "t.yaml", "--set", "host.memory=2GiB", "--set", "guests[g].memory=96MiB",
                "--duration", "200ms", "--out", "r", "--quiet",
            ], in: dir)
        #expect(r.status == 0, "\(r)")
        let resolved = try #require(read(dir + "/r/scenario.resolved.yaml"))
        #expect(resolved.contains("duration: 200ms"), "\(resolved.prefix(400))")
        #expect(resolved.contains("memory: 2GiB") && resolved.contains("memory: 96MiB"), "\(resolved.prefix(600))")
        #expect(read(dir + "/r/summary.json")?.contains("\"simulated_s\": 0.2") == true)
        // The same key paths and messages as sweep's.
        let bad = try overcommit(["run", "t.yaml", "--set", "host.ram=2GiB"], in: dir)
        #expect(bad.status == 2 && bad.stderr.contains("--set host.ram=2GiB: unknown key 'ram' in 'host'"), "\(bad)")
        let many = try overcommit(["run", "t.yaml", "--set", "host.memory=2GiB,4GiB"], in: dir)
        #expect(many.status == 2 && many.stderr.contains("overcommit sweep"), "\(many)")
        // --dry-run shows the overrides applied.
        let dry = try overcommit(["run", "t.yaml", "--set", "seed=9", "--dry-run"], in: dir)
        #expect(dry.status == 0 && dry.stdout.contains("seed: 9"), "\(dry)")
    }

    /// Issue 10: each sweep point runs the policy files its own `host.policy.files` names
    /// (the files are read per point, not once for the whole sweep).
    @Test func sweepPointsRunTheirOwnPolicyFiles() throws {
        let dir = try scratchDirectory("policy-sweep"); defer { cleanup(dir) }
        try write(
            """
            name: policy-sweep
            seed: 1
            duration: 4s
            host:
              memory: 1GiB
              policy: {kind: mom, files: [shrink.policy], interval: 1s, sample_interval: 1s}
            guests:
              - {name: g, memory: 256MiB, workloads: [{kind: idle}]}
            """, to: dir + "/t.yaml")
        try write("(with Guests guest (guest.Control \"balloon_target\" (/ guest.balloon_cur 2)))\n", to: dir + "/shrink.policy")
        try write("(defvar unused 1)\n", to: dir + "/keep.policy")
        try write("(defvar other 2)\n", to: dir + "/other.policy")
        let r = try overcommit(
            [
                "sweep", "t.yaml", "--set", "host.policy.files=[keep.policy],[shrink.policy],[other.policy]",
                "--out", "s", "--quiet",
            ], in: dir)
        #expect(r.status == 0, "\(r)")
        let lines = try #require(read(dir + "/s/runs.csv")).split(separator: "\n")
        let header = lines[0].split(separator: ",")
        let files = try #require(header.firstIndex(of: "host.policy.files"))
        let ballooned = try #require(header.firstIndex(of: "host.ballooned_kb"))
        let rows = lines.dropFirst().map { $0.split(separator: ",") }
        #expect(rows.map { String($0[files]) } == ["[keep.policy]", "[shrink.policy]", "[other.policy]"])
        // Only the point that runs shrink.policy inflates the balloon: 3 evaluations halve it.
        #expect(rows.map { Int($0[ballooned]) ?? -1 }.map { $0 > 0 } == [false, true, false], "\(lines)")
    }

    @Test func aSweepPointReRunsWithRunSet() throws {
        // A one-run sweep point is `run` with the same --set (same seed): same metrics.
        let dir = try scratchDirectory("point"); defer { cleanup(dir) }
        try write(tinyScenario, to: dir + "/t.yaml")
        #expect(try overcommit(["sweep", "t.yaml", "--set", "host.memory=1GiB,2GiB", "--out", "s", "--quiet"], in: dir).status == 0)
        #expect(try overcommit(["run", "t.yaml", "--set", "host.memory=2GiB", "--out", "r", "--quiet"], in: dir).status == 0)
        let row = try #require(read(dir + "/s/runs.csv")?.split(separator: "\n").last).split(separator: ",")
        let header = try #require(read(dir + "/s/runs.csv")?.split(separator: "\n").first).split(separator: ",")
        let freeEnd = try #require(header.firstIndex(of: "host.free_kb"))
        let summary = try #require(read(dir + "/r/summary.json"))
        let json = try #require(try JSONSerialization.jsonObject(with: Data(summary.utf8)) as? [String: Any])
        let freeKB = try #require((json["host"] as? [String: Any])?["free_kb"] as? Int)
        #expect("\(freeKB)" == String(row[freeEnd]))
    }

    @Test func aScenarioFromStandardInputResolvesPathsAgainstTheCurrentDirectory() throws {
        let dir = try scratchDirectory("stdin"); defer { cleanup(dir) }
        let yaml = """
            name: from-stdin
            duration: 200ms
            sample_interval: 100ms
            host: {memory: 1GiB, hypervisor_reserved: 64MiB}
            guests:
              - name: a
                memory: 64MiB
                kernel: {kernel_reserved: 8MiB}
                workloads: [{kind: trace, file: traces/small.trace}]

            """
        try write("R 1 0x0\nW 1 0x1000\nR 1 0x2000\n", to: dir + "/traces/small.trace")
        let v = try overcommit(["validate", "-"], in: dir, stdin: yaml)
        #expect(v.status == 0 && v.stdout.hasPrefix("<stdin>: ok — from-stdin"), "\(v)")
        let r = try overcommit(["run", "-", "--out", "r", "--quiet"], in: dir, stdin: yaml)
        #expect(r.status == 0, "\(r)")
        #expect(read(dir + "/r/summary.json")?.contains("\"scenario\": \"from-stdin\"") == true)
        // A problem names <stdin> and its line.
        let bad = try overcommit(["validate", "-"], in: dir, stdin: "guests: [{name: a, memory: 1KiB}]\n")
        #expect(bad.status == 2 && bad.stderr.hasPrefix("<stdin>:1:"), "\(bad)")
    }

    @Test func aScenarioFromAFIFOWorks() throws {
        // What `<(envsubst < t.yaml)` gives: a path to a pipe.
        let dir = try scratchDirectory("fifo"); defer { cleanup(dir) }
        let fifo = dir + "/scenario.fifo"
        #expect(mkfifo(fifo, 0o600) == 0)
        let writer = Thread {
            let fd = open(fifo, O_WRONLY)
            let bytes = Array(tinyScenario.utf8)
            _ = bytes.withUnsafeBytes { write(fd, $0.baseAddress, bytes.count) }
            close(fd)
        }
        writer.start()
        let r = try overcommit(["run", fifo, "--json"], in: dir)
        #expect(r.status == 0, "\(r)")
        #expect(r.stdout.contains("\"scenario\": \"tiny\""), "\(r)")
    }
}
