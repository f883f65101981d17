import ArgumentParser
import CLISupport
import Foundation
import Reports
#if canImport(Glibc)
import Glibc
#endif

/// `overcommit report OUTDIR`: the self-contained HTML page about a run, from its output
/// directory's files (written atomically, `OUTDIR/report.html` unless `--output` says otherwise).
struct ReportCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "report",
        abstract: "Write a self-contained HTML report (SVG charts, opens offline) from a run's output directory.",
        discussion: """
        Reads summary.json, timeseries.csv, host_timeseries.csv, events.jsonl, scenario.resolved.yaml and \
        stats.txt from OUTDIR (written by `overcommit run --out OUTDIR`) and writes OUTDIR/report.html. \
        `overcommit run --out DIR --report` does the same as part of the run.
        """)

    @Argument(help: "Output directory of a run (`overcommit run --out DIR`).")
    var outdir: String

    @Option(name: .shortAndLong, help: "Where to write the page (default: OUTDIR/report.html); never over a file that is not an overcommit report.")
    var output: String?

    @Flag(help: "Print nothing on stdout (errors still go to stderr).")
    var quiet = false

    mutating func run() throws {
        var isDir: ObjCBool = false
        if outdir.isEmpty { fail("the output directory path is empty (an unset shell variable?)") }
        guard FileManager.default.fileExists(atPath: outdir, isDirectory: &isDir), isDir.boolValue else {
            fail("\(outdir): not a directory (expected the output directory of `overcommit run --out DIR`)")
        }
        var files: [String: String] = [:]
        for name in RunOutput.fileNames {
            let path = outdir + "/" + name
            do { files[name] = try FileSystem.readText(path, what: "a file of the run's output") } catch {
                fail(error.message + " (is '\(outdir)' the output directory of `overcommit run --out`?)")
            }
        }
        // The run's own files are inputs: the page must never replace one of them.
        let inputs = RunOutput.fileNames.map { RunInput(path: outdir + "/" + $0, role: "the run's \($0)") }
        let target = output ?? FileSystem.trimmingTrailingSlashes(outdir) + "/report.html"
        attempt { try OutputFile.check(target, inputs: inputs, option: output == nil ? "report" : "--output") }
        let html = attempt { try reportHTML(files: files, dir: outdir) }
        attempt { try OutputFile.write(html, to: target, inputs: inputs, option: output == nil ? "report" : "--output") }
        if !quiet { print("wrote \(target)") }
    }
}

/// Parses an output directory's files and renders the HTML report; the problem names the
/// file, line and column on bad input.
func reportHTML(files: [String: String], dir: String) throws(CLIProblem) -> String {
    do {
        return try HTMLReport.render(try RunOutput(files: files))
    } catch {
        throw CLIProblem("\(dir)/\(error)")
    }
}
