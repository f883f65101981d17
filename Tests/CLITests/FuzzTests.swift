import Foundation
import OvercommitSupport
import Scenarios
import Simulation
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// A seeded fuzz test of the built `overcommit` binary (issue 12): mutations of every
/// `Configs/` scenario and of its traces, and output-directory situations.
///
/// Asserted for every command: no signal (a Swift trap is SIGILL, an abort SIGABRT), no
/// hang, exit 0 or 2 (64 for a flag the argument parser refuses), a message naming the file
/// for every refused scenario, no output directory on exit 2, and never "ok" from `validate`
/// followed by a refusal from `run`. A failure prints the seed, the mutation and the
/// mutated text; `FUZZ_SEED=N` reruns with another seed, `FUZZ_MUTATIONS=N` and `FUZZ_RUNS=N`
/// with more mutants and more of them run (a deeper search than the suite's few seconds).
@Suite(.serialized) struct FuzzTests {
    static let seed: UInt64 = ProcessInfo.processInfo.environment["FUZZ_SEED"].flatMap { UInt64($0) } ?? 20_261_206
    static let mutationCount = ProcessInfo.processInfo.environment["FUZZ_MUTATIONS"].flatMap { Int($0) } ?? 200
    /// Mutants that `validate` accepts and are small enough for a debug build are also run.
    static let runCount = ProcessInfo.processInfo.environment["FUZZ_RUNS"].flatMap { Int($0) } ?? 6

    /// Values that broke parsers and arithmetic before: zero, negative, huge, non-numbers,
    /// YAML specials, units at their limits.
    static let values = [
        "0", "1", "-1", "1e20", "-1e20", "1e308", "18446744073709551616", "9223372036854775807", "0ns", "1ns",
        "-5s", "0s", "2000000h", "1TiB", "16EiB", "0B", "1B", "4097B", "", "~", "null", "[]", "{}", "[1, 2]",
        ".nan", ".inf", "-.inf", "\"\"", "yes", "no", "true", "abc", "1.5", "100%", "101%", "-1%", "0%", "0x10",
        "*undefined", "&anchor x", "!!binary AAAA", "'quoted'", "é", "lru", "opt", "esx", "none", "3GiB", "250ms",
    ]
    static let junkLines = [
        "<<: *nope", "&a", "- ", ": :", "{", "guests: 5", "\t", "key_typo: 3", "host: [1, 2]", "templates: &t {a: *t}",
        "---", "%YAML 1.1", "? complex", "name: [", "duration: 1h1h", "  - {kind: nope}",
    ]

    struct Mutant {
        var name: String
        var source: String
        var what: String
        var bytes: [UInt8]
    }

    /// One mutation of `text` (a scenario file's lines).
    static func mutate(_ text: String, _ rng: inout Xoshiro256) -> (String, [UInt8]) {
        var lines = text.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        let valueLines = lines.indices.filter { lines[$0].contains(": ") && !lines[$0].trimmingCharacters(in: .whitespaces).hasPrefix("#") }
        func pick<T>(_ a: [T]) -> T { a[rng.int(below: a.count)] }
        switch rng.int(below: 10) {
        case 0, 1, 2:
            // Replace one value (block `key: value` or one entry of a flow table).
            guard let i = valueLines.isEmpty ? nil : pick(valueLines) else { break }
            let v = pick(values)
            let parts = lines[i].components(separatedBy: ": ")
            let k = rng.int(below: parts.count - 1)
            var rest = parts[k + 1]
            let end = rest.firstIndex { $0 == "," || $0 == "}" || $0 == "]" } ?? rest.endIndex
            rest.replaceSubrange(rest.startIndex..<end, with: v)
            var p = parts
            p[k + 1] = rest
            lines[i] = p.joined(separator: ": ")
            return ("value \(v) at line \(i + 1)", Array(lines.joined(separator: "\n").utf8))
        case 3:
            guard !lines.isEmpty else { break }
            let i = rng.int(below: lines.count)
            lines.remove(at: i)
            return ("delete line \(i + 1)", Array(lines.joined(separator: "\n").utf8))
        case 4:
            guard !lines.isEmpty else { break }
            let i = rng.int(below: lines.count)
            lines.insert(lines[i], at: i)
            return ("duplicate line \(i + 1)", Array(lines.joined(separator: "\n").utf8))
        case 5:
            guard lines.count > 1 else { break }
            let i = rng.int(below: lines.count - 1)
            lines.swapAt(i, i + 1)
            return ("swap lines \(i + 1) and \(i + 2)", Array(lines.joined(separator: "\n").utf8))
        case 6:
            guard !lines.isEmpty else { break }
            let i = rng.int(below: lines.count)
            if rng.chance(0.5) { lines[i] = "  " + lines[i] } else if lines[i].hasPrefix("  ") { lines[i].removeFirst(2) }
            return ("re-indent line \(i + 1)", Array(lines.joined(separator: "\n").utf8))
        case 7:
            let i = rng.int(below: lines.count + 1)
            let j = pick(junkLines)
            lines.insert(j, at: i)
            return ("insert '\(j)' at line \(i + 1)", Array(lines.joined(separator: "\n").utf8))
        case 8:
            let bytes = Array(text.utf8)
            let cut = rng.int(below: bytes.count + 1)
            return ("truncate at byte \(cut)", Array(bytes[..<cut]))
        default:
            var bytes = Array(text.utf8)
            let at = rng.int(below: bytes.count + 1)
            let junk: [UInt8] = pick([[0xFF], [0x00], [0xC3], [0xE2, 0x82], [0x09], [0x0D], [0x22], [0x27], [0x7B], [0x5B]])
            bytes.insert(contentsOf: junk, at: at)
            return ("insert bytes \(junk) at \(at)", bytes)
        }
        return ("unchanged", Array(text.utf8))
    }

    /// One mutation of a trace file's records.
    static func mutateTrace(_ text: String, _ rng: inout Xoshiro256) -> (String, String) {
        var lines = text.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        let records = [
            "R 1 0x0", "W 1 0xffffffffffff", "M 1 0x0 0", "M 1 0x7ffffffff000 4096", "F 1 1", "F 1 2", "X 1", "X 9",
            "R -1 0x0", "Q 1 0x1", "R 1 zz", "W 1", " I  0400000,4", " L 0x0,99999999999", "==1== lackey", "",
        ]
        let i = rng.int(below: lines.count + 1)
        let r = records[rng.int(below: records.count)]
        if i < lines.count && rng.chance(0.5) { lines[i] = r } else { lines.insert(r, at: min(i, lines.count)) }
        return ("trace record '\(r)' at line \(i + 1)", lines.joined(separator: "\n"))
    }

    static func configFiles() -> [String] {
        var out: [String] = []
        let e = FileManager.default.enumerator(atPath: repoRoot + "/Configs")
        while let f = e?.nextObject() as? String { if f.hasSuffix(".yaml") { out.append(f) } }
        return out.sorted()
    }

    /// A copy of Configs/ (so relative trace and image paths resolve) with the mutants next
    /// to their originals.
    static func makeMutants(in dir: String) throws -> [Mutant] {
        try FileManager.default.copyItem(atPath: repoRoot + "/Configs", toPath: dir + "/Configs")
        var rng = Xoshiro256(seed: seed, component: "fuzz")
        let files = configFiles()
        var mutants: [Mutant] = []
        for m in 0..<mutationCount {
            let f = files[rng.int(below: files.count)]
            guard let text = read(repoRoot + "/Configs/" + f) else { throw CocoaError(.fileReadNoSuchFile) }
            let folder = (f as NSString).deletingLastPathComponent
            let name = "Configs/" + (folder.isEmpty ? "" : folder + "/") + "mutant-\(m).yaml"
            var (what, bytes) = mutate(text, &rng)
            // A scenario replaying a trace sometimes gets a mutated copy of its trace instead.
            if let traceLine = text.split(separator: "\n").first(where: { $0.contains("file: ") && $0.contains(".t") }), rng.chance(0.3),
                let path = traceLine.components(separatedBy: "file: ").last?.split(whereSeparator: { $0 == "}" || $0 == "," || $0 == " " }).first
            {
                let original = dir + "/Configs/" + (folder.isEmpty ? "" : folder + "/") + path
                if let t = read(original) {
                    let (tw, mutated) = mutateTrace(t, &rng)
                    let copy = "mutant-\(m).trace"
                    try write(mutated, to: dir + "/Configs/" + (folder.isEmpty ? "" : folder + "/") + copy)
                    what = tw
                    bytes = Array(text.replacingOccurrences(of: String(path), with: copy).utf8)
                }
            }
            #expect(FileManager.default.createFile(atPath: dir + "/" + name, contents: Data(bytes)))
            mutants.append(Mutant(name: name, source: f, what: what, bytes: bytes))
        }
        return mutants
    }

    func describe(_ m: Mutant) -> String {
        "seed \(Self.seed), \(m.name) from Configs/\(m.source): \(m.what)\n"
            + String(decoding: m.bytes.prefix(1500), as: UTF8.self)
    }

    /// Checks that a command ended cleanly: no signal, no hang, an allowed exit code.
    func clean(_ r: CLIResult, allowed: Set<Int32> = [0, 2], _ context: @autoclosure () -> String) -> Bool {
        guard r.exited, allowed.contains(r.status) else {
            Issue.record("\(context())\n\(r)")
            return false
        }
        return true
    }

    @Test func mutatedScenariosNeverCrashHangOrValidateThenRefuse() throws {
        let dir = try scratchDirectory("fuzz"); defer { cleanup(dir) }
        let mutants = try Self.makeMutants(in: dir)
        // The same overrides for validate and run, so "ok" must mean the run starts.
        let edits = ["--duration", "30ms", "--set", "sample_interval=30ms"]
        var accepted: [Mutant] = []
        for batch in stride(from: 0, to: mutants.count, by: 40) {
            let group = Array(mutants[batch..<min(batch + 40, mutants.count)])
            let v = try overcommit(["validate"] + group.map(\.name) + edits, in: dir, limit: 600)
            if !(v.exited && (v.status == 0 || v.status == 2)) {
                // Find the mutant that broke the batch.
                for m in group {
                    let one = try overcommit(["validate", m.name] + edits, in: dir, limit: 600)
                    _ = clean(one, "validate crashed or hung on \(describe(m))")
                }
                continue
            }
            let okLines = Set(v.stdout.split(separator: "\n").compactMap { $0.components(separatedBy: ": ok").first })
            for m in group {
                let ok = okLines.contains(m.name)
                let named = v.stderr.split(separator: "\n").contains { $0.hasPrefix(m.name) }
                if ok == named { Issue.record("validate must say ok or name the file in a message, exactly one: \(describe(m))\n\(v)") }
                if ok { accepted.append(m) }
            }
        }
        #expect(accepted.count > 10 && accepted.count < mutants.count - 10, "the mutations should produce both valid and invalid scenarios")

        // Run some accepted mutants (those small enough for a debug build): never a refusal.
        var ran = 0
        for m in accepted where ran < Self.runCount {
            guard let c = try? ScenarioLoader.load(text: String(decoding: m.bytes, as: UTF8.self), file: m.name),
                c.expandedGuests.reduce(0, { $0 + $1.memory.bytes }) <= 8 << 30, c.host.memory.bytes <= 16 << 30
            else { continue }
            ran += 1
            let out = "out-\(ran)"
            let r = try overcommit(["run", m.name, "--out", out, "--quiet"] + edits, in: dir, limit: 600)
            guard clean(r, allowed: [0], "validate said ok, run did not succeed: \(describe(m))") else { continue }
            #expect(exists(dir + "/" + out + "/summary.json") && exists(dir + "/" + out + "/.overcommit-output"))
        }
        #expect(ran > 0)

        // And some refused ones: run refuses them too, writing nothing.
        let refused = mutants.filter { m in !accepted.contains { $0.name == m.name } }.prefix(6)
        for (i, m) in refused.enumerated() {
            let r = try overcommit(["run", m.name, "--out", "bad-\(i)"] + edits, in: dir, limit: 600)
            if clean(r, "run crashed or hung on \(describe(m))") {
                #expect(r.status == 2, "validate refused it, run must too: \(describe(m))\n\(r)")
                #expect(!exists(dir + "/bad-\(i)"), "no output directory on exit 2: \(describe(m))")
            }
        }
    }

    /// Every scalar key of the configuration reference (`overcommit config-reference`, so it
    /// follows the parameter tables) as a `--set` path on a one-guest scenario.
    static func keyPaths() throws -> [String] {
        let r = try overcommit(["config-reference"], in: repoRoot)
        var table = "", out: [String] = []
        let prefixes = [
            "scenario": "", "costs": "costs.", "host": "host.", "guest": "guests[0].", "guest.kernel": "guests[0].kernel.",
            "swap": "guests[0].swap.", "guest.balloon": "guests[0].balloon.", "workload.batch": "guests[0].workloads[0].",
        ]
        for line in r.stdout.split(separator: "\n") {
            if line.hasPrefix("## ") { table = String(line.dropFirst(3)); continue }
            guard line.hasPrefix("| `"), !line.contains("table: "), !line.contains("list of") else { continue }
            let key = line.dropFirst(3).prefix { $0 != "`" }
            if let p = prefixes[table] {
                out.append(p + key)
            } else if table.hasPrefix("host.") && !table.hasPrefix("host.balloon_policy.") {
                out.append(table + "." + key)
            }
        }
        return out.filter { $0 != "guests[0].workloads[0].kind" && $0 != "templates" && $0 != "guests[0].name" }
    }

    /// Opt-in (`FUZZ_KEYS=1`, minutes in a debug build): every scalar key with values at and
    /// beyond its limits, through `--set`; each value `validate` accepts is run briefly.
    @Test(.enabled(if: ProcessInfo.processInfo.environment["FUZZ_KEYS"] != nil))
    func everyKeyAtItsLimitsNeverCrashesARun() throws {
        let dir = try scratchDirectory("fuzzkeys"); defer { cleanup(dir) }
        try write(tinyScenario, to: dir + "/t.yaml")
        let edits = ["--duration", "100ms", "--set", "sample_interval=50ms"]
        let extremes = ["0", "-1", "1e20", "2000000h", "1ns", "16EiB", "1TiB", "abc", "101%"]
        for key in try Self.keyPaths() {
            for v in extremes {
                let set = ["--set", "\(key)=\(v)"]
                let val = try overcommit(["validate", "t.yaml"] + edits + set, in: dir, limit: 600)
                guard clean(val, "validate: \(set)"), val.status == 0 else { continue }
                let run = try overcommit(["run", "t.yaml", "--quiet"] + edits + set, in: dir, limit: 120)
                _ = clean(run, allowed: [0], "validate said ok, run did not succeed: \(set)")
            }
        }
    }

    /// Where `--out` points, and what is there before the command.
    enum Situation: CaseIterable {
        case fresh, nested, emptyDirectory, ownOutput, ownOutputWithUserFile, userDirectory, regularFile, symlink,
            emptyPath, currentDirectory, parent, root, holdsScenario, underAFile, procfs, trailingSlash
    }

    @Test func outputDirectorySituationsNeverLoseAFile() throws {
        let dir = try scratchDirectory("fuzzout"); defer { cleanup(dir) }
        try write(tinyScenario, to: dir + "/base/t.yaml")
        // A finished run to copy as "overcommit's own output".
        #expect(try overcommit(["run", "base/t.yaml", "--out", "base/own", "--quiet"], in: dir).status == 0)
        var rng = Xoshiro256(seed: Self.seed, component: "fuzz-out")
        let flagSets: [[String]] = [
            [], ["--seed", "7"], ["--duration", "200ms"], ["--set", "host.memory=2GiB"],
            ["--seed", "-1"], ["--duration", "-5s"], ["--set", "nokey=1"], ["--set", "="],
            ["--set", "guests[9].memory=1GiB"], ["--report"], ["--check"], ["--json"],
        ]
        for k in 0..<24 {
            let situation = Situation.allCases[rng.int(below: Situation.allCases.count)]
            let force = rng.chance(0.6)
            let flags = flagSets[rng.int(below: flagSets.count)]
            let work = dir + "/case-\(k)"
            try FileManager.default.createDirectory(atPath: work, withIntermediateDirectories: true)
            try write(tinyScenario, to: work + "/t.yaml")
            var scenario = "t.yaml"
            var out = "out"
            switch situation {
            case .fresh: break
            case .nested: out = "a/b/out"
            case .emptyDirectory: try FileManager.default.createDirectory(atPath: work + "/out", withIntermediateDirectories: false)
            case .ownOutput: try FileManager.default.copyItem(atPath: dir + "/base/own", toPath: work + "/out")
            case .ownOutputWithUserFile:
                try FileManager.default.copyItem(atPath: dir + "/base/own", toPath: work + "/out")
                try write("mine\n", to: work + "/out/notes.txt")
            case .userDirectory: try write("data\n", to: work + "/out/data.csv")
            case .regularFile: try write("file\n", to: work + "/out")
            case .symlink:
                try FileManager.default.createDirectory(atPath: work + "/real", withIntermediateDirectories: false)
                try FileManager.default.createSymbolicLink(atPath: work + "/out", withDestinationPath: work + "/real")
            case .emptyPath: out = ""
            case .currentDirectory: out = "."
            case .parent: out = ".."
            case .root: out = "/"
            case .holdsScenario:
                try write(tinyScenario, to: work + "/out/t.yaml")
                scenario = "out/t.yaml"
            case .underAFile:
                try write("file\n", to: work + "/f")
                out = "f/out"
            case .procfs: out = "/proc/overcommit-\(k)"
            case .trailingSlash: out = "out/"
            }
            let before = snapshot(dir)
            let args = ["run", scenario, "--out", out] + (force ? ["--force"] : []) + flags
            let r = try overcommit(args, in: work, limit: 600)
            let context = "seed \(Self.seed), case \(k): \(situation) \(args)"
            guard clean(r, allowed: [0, 2, 3, 64], context) else { continue }
            let after = snapshot(dir)
            let target = out.isEmpty ? nil : (out.hasPrefix("/") ? out : work + "/" + out)
            // Every file that was there is still there with its bytes, except inside an output
            // directory that overcommit replaced (its own output only).
            for (path, bytes) in before where after[path] != bytes {
                let full = dir + "/" + path
                let replaced = r.status == 0 && target.map { full.hasPrefix(FileSystemPath.trim($0) + "/") } == true
                if !replaced || path.hasSuffix("notes.txt") || path.hasSuffix("data.csv") || path.hasSuffix("/t.yaml") {
                    Issue.record("\(context): '\(path)' was changed or removed\n\(r)")
                }
            }
            if r.status == 2 || r.status == 64 {
                // Nothing new appeared anywhere.
                let added = Set(after.keys).subtracting(before.keys)
                #expect(added.isEmpty, "\(context): exit \(r.status) but wrote \(added.sorted())\n\(r)")
                #expect(!r.stderr.contains("Error Domain"), "\(context): \(r)")
            } else if let target {
                #expect(exists(FileSystemPath.trim(target) + "/.overcommit-output"), "\(context): \(r)")
            }
        }
    }
}

enum FileSystemPath {
    static func trim(_ p: String) -> String {
        var s = p
        while s.count > 1 && s.hasSuffix("/") { s.removeLast() }
        return s
    }
}
