import ArgumentParser
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

    @Flag(help: "Replace the output directory if it exists.")
    var force = false

    mutating func run() throws {
        if FileManager.default.fileExists(atPath: out), !force { fail("output directory '\(out)' exists; pass --force to replace it") }
        var inputs: [SweepMerge.Input] = []
        for d in shards {
            func read(_ name: String) -> String {
                guard let data = FileManager.default.contents(atPath: d + "/" + name), let s = String(data: data, encoding: .utf8) else {
                    fail("\(d)/\(name): cannot read it (is '\(d)' the output directory of `overcommit sweep --shard`?)")
                }
                return s
            }
            inputs.append(SweepMerge.Input(label: d, planText: read("plan.txt"), runsCSV: read("runs.csv")))
        }
        let files: [(name: String, contents: String)]
        do { files = try SweepMerge.merge(inputs) } catch { fail(error.description) }
        writeDirectory(out, files)
        let rows = files.first { $0.name == "runs.csv" }.map { $0.contents.split(separator: "\n").count - 1 } ?? 0
        print("merged \(shards.count) shards (\(rows) runs) into \(out)")
    }
}
