import ArgumentParser
import CLISupport
import Experiments
import Foundation

struct MergeCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "merge",
        abstract: "Join the shard directories of one sweep (`sweep --shard i/n`) into the output an unsharded sweep writes.",
        discussion: "Refuses shards of different sweeps, of different splits, duplicates and missing slices. See docs/howto-sweeps.md.")

    @Argument(help: "Shard output directories (every slice 0..n-1 exactly once, in any order).")
    var shards: [String]

    @Option(help: "Output directory (plan.txt, runs.csv, sweep.csv).")
    var out: String

    @Flag(help: "Replace the --out directory if it exists and holds overcommit output (never a shard being merged).")
    var force = false

    mutating func run() throws {
        var inputs: [SweepMerge.Input] = []
        for d in shards {
            func read(_ name: String) -> String {
                let path = FileSystem.trimmingTrailingSlashes(d) + "/" + name
                do { return try FileSystem.readText(path, what: "a shard's \(name)") } catch {
                    fail(error.message + " (is '\(d)' the output directory of `overcommit sweep --shard`?)")
                }
            }
            inputs.append(SweepMerge.Input(label: d, planText: read("plan.txt"), runsCSV: read("runs.csv")))
        }
        let shardInputs = shards.map { RunInput(path: $0, role: "a shard being merged") }
        attempt { try OutputDirectory.check(out, force: force, inputs: shardInputs) }
        let files: [(name: String, contents: String)]
        do { files = try SweepMerge.merge(inputs) } catch { fail(error.description) }
        for w in attempt({ try OutputDirectory.write(files, to: out, force: force, inputs: shardInputs) }) { warn(w) }
        let rows = files.first { $0.name == "runs.csv" }.map { $0.contents.split(separator: "\n").count - 1 } ?? 0
        print("merged \(shards.count) shards (\(rows) runs) into \(out)")
    }
}
