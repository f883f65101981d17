import CLISupport
import Foundation
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// Issue 12 item 1: `--force` deleted whatever `--out` named. It now replaces only an empty
/// directory or one holding overcommit output, and never a file, the current directory or
/// an ancestor, or a directory holding an input of the command. Each reproducer of the
/// issue is a test here, run against the built binary.
@Suite(.serialized) struct OutputSafetyTests {
    @Test func forceNeverWipesTheDirectoryHoldingTheScenario() throws {
        // mkdir -p proj && cp Configs/quickstart.yaml proj/q.yaml && overcommit run proj/q.yaml --out proj --force
        let dir = try scratchDirectory("proj"); defer { cleanup(dir) }
        let quickstart = try #require(read(repoRoot + "/Configs/quickstart.yaml"))
        try write(quickstart, to: dir + "/proj/q.yaml")
        let before = snapshot(dir + "/proj")
        let r = try overcommit(["run", "proj/q.yaml", "--out", "proj", "--force"], in: dir)
        #expect(r.status == 2, "\(r)")
        #expect(r.stderr.contains("contains the scenario file"), "\(r)")
        #expect(snapshot(dir + "/proj") == before)
    }

    @Test func forceNeverReplacesARegularFile() throws {
        let dir = try scratchDirectory("afile"); defer { cleanup(dir) }
        try write(tinyScenario, to: dir + "/t.yaml")
        try write("my notes\n", to: dir + "/afile")
        let r = try overcommit(["run", "t.yaml", "--out", "afile", "--force"], in: dir)
        #expect(r.status == 2, "\(r)")
        #expect(r.stderr.contains("is a regular file, not an output directory"), "\(r)")
        #expect(read(dir + "/afile") == "my notes\n")
    }

    @Test func forceNeverReplacesTheCurrentDirectoryAnAncestorOrAnEmptyPath() throws {
        let dir = try scratchDirectory("ancestor"); defer { cleanup(dir) }
        try write(tinyScenario, to: dir + "/work/t.yaml")
        try write("keep\n", to: dir + "/keep.txt")
        for (out, why) in [
            ("..", "ancestor of the current directory"), (".", "is the current directory"),
            ("/", "root directory"), ("", "the path is empty"),
        ] {
            // `--out "$RESULTS"` with RESULTS unset is `--out ""`.
            let r = try overcommit(["run", "t.yaml", "--out", out, "--force"], in: dir + "/work")
            #expect(r.status == 2, "--out '\(out)': \(r)")
            #expect(r.stderr.contains(why), "--out '\(out)': \(r)")
        }
        #expect(read(dir + "/keep.txt") == "keep\n")
        #expect(read(dir + "/work/t.yaml") == tinyScenario)
    }

    @Test func forceReplacesOnlyOvercommitOutput() throws {
        let dir = try scratchDirectory("replace"); defer { cleanup(dir) }
        try write(tinyScenario, to: dir + "/t.yaml")
        let first = try overcommit(["run", "t.yaml", "--out", "r", "--quiet"], in: dir)
        #expect(first.status == 0, "\(first)")
        #expect(read(dir + "/r/.overcommit-output")?.contains("summary.json") == true)
        // Without --force an existing directory is refused; with it, overcommit's own output is replaced.
        let again = try overcommit(["run", "t.yaml", "--out", "r", "--quiet"], in: dir)
        #expect(again.status == 2 && again.stderr.contains("pass --force"), "\(again)")
        let forced = try overcommit(["run", "t.yaml", "--out", "r", "--quiet", "--force", "--seed", "4"], in: dir)
        #expect(forced.status == 0, "\(forced)")
        #expect(read(dir + "/r/summary.json")?.contains("\"seed\": 4") == true)
        // A user's file inside an output directory is never deleted.
        try write("mine\n", to: dir + "/r/notes.txt")
        let mixed = try overcommit(["run", "t.yaml", "--out", "r", "--quiet", "--force"], in: dir)
        #expect(mixed.status == 2 && mixed.stderr.contains("notes.txt"), "\(mixed)")
        #expect(read(dir + "/r/notes.txt") == "mine\n")
        // A directory of a user's files without the marker is refused; an empty one is used.
        try write("data\n", to: dir + "/results/data.csv")
        let foreign = try overcommit(["run", "t.yaml", "--out", "results", "--force"], in: dir)
        #expect(foreign.status == 2 && foreign.stderr.contains("did not write"), "\(foreign)")
        #expect(read(dir + "/results/data.csv") == "data\n")
        try FileManager.default.createDirectory(atPath: dir + "/empty", withIntermediateDirectories: false)
        let empty = try overcommit(["run", "t.yaml", "--out", "empty", "--force", "--quiet"], in: dir)
        #expect(empty.status == 0, "\(empty)")
        #expect(exists(dir + "/empty/summary.json"))
        // No temporary directory is left next to the outputs.
        let left = try FileManager.default.contentsOfDirectory(atPath: dir).filter {
            $0.contains(".partial-") || $0.contains(".old-") || $0.contains(".check-")
        }
        #expect(left.isEmpty, "\(left)")
    }

    @Test func forceNeverReplacesALink() throws {
        let dir = try scratchDirectory("link"); defer { cleanup(dir) }
        try write(tinyScenario, to: dir + "/t.yaml")
        try FileManager.default.createDirectory(atPath: dir + "/real", withIntermediateDirectories: false)
        try FileManager.default.createSymbolicLink(atPath: dir + "/link", withDestinationPath: dir + "/real")
        let r = try overcommit(["run", "t.yaml", "--out", "link", "--force"], in: dir)
        #expect(r.status == 2 && r.stderr.contains("symbolic link"), "\(r)")
    }

    @Test func mergeNeverReplacesAnInputShard() throws {
        // `merge a b --out a --force` replaced an input shard.
        let dir = try scratchDirectory("merge"); defer { cleanup(dir) }
        try write(tinyScenario, to: dir + "/t.yaml")
        for i in 0..<2 {
            let r = try overcommit(["sweep", "t.yaml", "--set", "host.memory=1GiB,2GiB", "--shard", "\(i)/2", "--out", "s\(i)", "--quiet"], in: dir)
            #expect(r.status == 0, "\(r)")
        }
        let before = snapshot(dir + "/s0")
        let r = try overcommit(["merge", "s0", "s1", "--out", "s0", "--force"], in: dir)
        #expect(r.status == 2, "\(r)")
        #expect(r.stderr.contains("a shard being merged"), "\(r)")
        #expect(snapshot(dir + "/s0") == before)
        let m = try overcommit(["merge", "s0", "s1", "--out", "m"], in: dir)
        #expect(m.status == 0, "\(m)")
        #expect(exists(dir + "/m/.overcommit-output"))
    }

    @Test func sweepNeverReplacesTheDirectoryHoldingItsScenario() throws {
        let dir = try scratchDirectory("sweepout"); defer { cleanup(dir) }
        try write(tinyScenario, to: dir + "/exp/t.yaml")
        let r = try overcommit(["sweep", "exp/t.yaml", "--set", "seed=1,2", "--out", "exp", "--force"], in: dir)
        #expect(r.status == 2 && r.stderr.contains("contains the scenario file"), "\(r)")
        #expect(read(dir + "/exp/t.yaml") == tinyScenario)
    }

    @Test func reportNeverOverwritesARunsOwnFilesOrAUsersFile() throws {
        // `report -o c/summary.json` overwrote a run's own file.
        let dir = try scratchDirectory("report"); defer { cleanup(dir) }
        try write(tinyScenario, to: dir + "/t.yaml")
        #expect(try overcommit(["run", "t.yaml", "--out", "c", "--quiet"], in: dir).status == 0)
        let summary = read(dir + "/c/summary.json")
        let r = try overcommit(["report", "c", "-o", "c/summary.json"], in: dir)
        #expect(r.status == 2 && r.stderr.contains("summary.json"), "\(r)")
        #expect(read(dir + "/c/summary.json") == summary)
        try write("<html>my page</html>\n", to: dir + "/page.html")
        let user = try overcommit(["report", "c", "-o", "page.html"], in: dir)
        #expect(user.status == 2 && user.stderr.contains("not an overcommit report"), "\(user)")
        #expect(read(dir + "/page.html") == "<html>my page</html>\n")
        // Its own report it rewrites, by default and at a path of the user's choice.
        for _ in 0..<2 {
            #expect(try overcommit(["report", "c", "--quiet"], in: dir).status == 0)
            #expect(try overcommit(["report", "c", "-o", "r.html", "--quiet"], in: dir).status == 0)
        }
        #expect(read(dir + "/r.html")?.hasPrefix("<!DOCTYPE html>") == true)
        // A run directory that got a report can still be replaced with --force.
        #expect(try overcommit(["run", "t.yaml", "--out", "c", "--quiet", "--force"], in: dir).status == 0)
    }
}

/// Issue 12 item 5: finished work was lost (an unwritable `--out` found only after the run,
/// Ctrl-C writing nothing, a failing report taking every output with it).
@Suite(.serialized) struct FinishedWorkTests {
    @Test func anUnwritableOutIsRefusedBeforeTheRunWithAClearMessage() throws {
        let dir = try scratchDirectory("unwritable"); defer { cleanup(dir) }
        try write(tinyScenario, to: dir + "/t.yaml")
        try write("x\n", to: dir + "/afile")
        for out in ["/proc/x", "afile/sub", "/dev/null/x"] {
            let r = try overcommit(["run", "t.yaml", "--out", out], in: dir)
            #expect(r.status == 2, "--out \(out): \(r)")
            #expect(r.stderr.contains(out), "--out \(out): \(r)")
            #expect(!r.stderr.contains("NSCocoaErrorDomain") && !r.stderr.contains("Error Domain"), "\(r)")
            #expect(r.stdout.isEmpty, "no summary: the run did not start; \(r)")
        }
        if geteuid() != 0 {
            // A read-only folder (root writes anywhere, so only as a user).
            try FileManager.default.createDirectory(atPath: dir + "/ro", withIntermediateDirectories: false)
            chmod(dir + "/ro", 0o555)
            defer { chmod(dir + "/ro", 0o755) }
            let r = try overcommit(["run", "t.yaml", "--out", "ro/x"], in: dir)
            #expect(r.status == 2 && r.stderr.contains("permission denied"), "\(r)")
        }
    }

    @Test func aReportThatCannotBeDrawnDoesNotCostTheOtherFiles() throws {
        let dir = try scratchDirectory("reportfail"); defer { cleanup(dir) }
        try write(tinyScenario, to: dir + "/t.yaml")
        let files = ["scenario.resolved.yaml", "summary.json", "timeseries.csv", "host_timeseries.csv", "events.jsonl", "stats.txt"]
        struct Broken: Error {}
        // The run's writer, in-process, with a report that fails to draw.
        let written = try OutputDirectory.writeRun(
            files.map { (name: $0, contents: "x\n") }, report: { throw Broken() },
            to: dir + "/out", force: false, inputs: [])
        #expect(written.reportProblem?.exitCode == 1)
        #expect(written.reportProblem?.message.contains("report.html not written") == true)
        for f in files { #expect(read(dir + "/out/" + f) == "x\n") }
        #expect(!exists(dir + "/out/report.html"))
    }
}

/// Issue 12 item 5 and task item 3: SIGINT and SIGTERM stop the run at its next event and
/// write what was simulated, marked partial; the exit code is 128 + the signal.
@Suite(.serialized) struct SignalTests {
    /// Starts `overcommit run` on a long scenario, waits until it has installed its handler
    /// (SigCgt in /proc/PID/status: no race with the process start), lets it simulate a
    /// little, sends `sig`, and returns how it ended.
    func interrupt(
        with sig: Int32, out: String, in dir: String,
        command: [String] = ["run", "long.yaml"]
    ) throws -> (Int32, Process.TerminationReason) {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: overcommitBinary)
        p.arguments = command + ["--out", out, "--quiet"]
        p.currentDirectoryURL = URL(fileURLWithPath: dir)
        p.standardOutput = FileHandle.nullDevice
        p.standardError = FileHandle.nullDevice
        try p.run()
        let mask = UInt64(1) << UInt64(sig - 1)
        var caught = false
        for _ in 0..<6000 where p.isRunning {
            if let status = read("/proc/\(p.processIdentifier)/status"),
                let line = status.split(separator: "\n").first(where: { $0.hasPrefix("SigCgt:") }),
                let bits = UInt64(line.dropFirst(7).trimmingCharacters(in: .whitespaces), radix: 16), bits & mask != 0
            {
                caught = true
                break
            }
            usleep(10_000)
        }
        #expect(caught, "the run never installed its \(sig) handler")
        usleep(300_000)  // let it simulate a little (the test holds whatever time it reached)
        kill(p.processIdentifier, sig)
        // It stops at its next event; a run that ignored the signal is killed (and fails below).
        let pid = p.processIdentifier
        let killer = DispatchWorkItem { kill(pid, SIGKILL) }
        DispatchQueue.global().asyncAfter(deadline: .now() + 120, execute: killer)
        p.waitUntilExit()
        killer.cancel()
        return (p.terminationStatus, p.terminationReason)
    }

    @Test(arguments: [(SIGINT, Int32(130), "SIGINT"), (SIGTERM, Int32(143), "SIGTERM")])
    func aSignalWritesAPartialRun(sig: Int32, code: Int32, name: String) throws {
        let dir = try scratchDirectory("signal"); defer { cleanup(dir) }
        try write(longScenario, to: dir + "/long.yaml")
        let (status, reason) = try interrupt(with: sig, out: "r", in: dir)
        #expect(reason == .exit && status == code, "ended with \(reason) \(status)")
        let summary = try #require(read(dir + "/r/summary.json"))
        let json = try #require(try JSONSerialization.jsonObject(with: Data(summary.utf8)) as? [String: Any])
        #expect(json["partial"] as? Bool == true)
        #expect((json["ended_early_reason"] as? String)?.hasPrefix("interrupted by \(name) at") == true)
        let simulated = try #require(json["simulated_s"] as? Double)
        #expect(simulated < 3600)
        // The files are complete: every CSV row has the header's columns, and `report` reads them.
        for name in ["timeseries.csv", "host_timeseries.csv"] {
            let lines = try #require(read(dir + "/r/" + name)).split(separator: "\n")
            let columns = lines[0].split(separator: ",", omittingEmptySubsequences: false).count
            #expect(lines.allSatisfy { $0.split(separator: ",", omittingEmptySubsequences: false).count == columns })
        }
        let report = try overcommit(["report", "r", "--quiet"], in: dir)
        #expect(report.status == 0, "\(report)")
    }

    @Test func aSweepStoppedByASignalWritesNothing() throws {
        let dir = try scratchDirectory("sweepsig"); defer { cleanup(dir) }
        try write(longScenario, to: dir + "/long.yaml")
        let (status, reason) = try interrupt(
            with: SIGINT, out: "s", in: dir,
            command: ["sweep", "long.yaml", "--set", "seed=1,2", "--jobs", "1"])
        #expect(reason == .exit && status == 130, "ended with \(reason) \(status)")
        #expect(try FileManager.default.contentsOfDirectory(atPath: dir) == ["long.yaml"])
    }
}
