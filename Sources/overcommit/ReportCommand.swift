import ArgumentParser
import CLISupport
import Experiments
import Foundation
import Reports
#if canImport(Glibc)
import Glibc
#endif

/// `overcommit report OUTDIR`: the self-contained HTML page about a run, from its output
/// directory's files (written atomically, `OUTDIR/report.html` unless `--output` says otherwise).
struct ReportCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "report",
        abstract: "Write a self-contained HTML report (SVG charts, opens offline) from a run's, a sweep's or a consolidation's output directory.",
        discussion: """
            A run's directory (`overcommit run --out OUTDIR`: summary.json, timeseries.csv, host_timeseries.csv, \
            events.jsonl, scenario.resolved.yaml, stats.txt): a summary at the top, the host's and each VM's charts. \
            `overcommit run --out DIR --report` does the same as part of the run. \
            A sweep's directory (`overcommit sweep --out` or `merge --out`: plan.txt, sweep.csv): every metric family \
            against the swept key with 95 % confidence intervals, and the table. \
            A consolidation's directory (`overcommit consolidate --out`: consolidation.json, consolidation.txt): each \
            SLA term against the number of VMs with its limit and where it broke. The page is OUTDIR/report.html.
            """)

    @Argument(help: "Output directory of a run, a sweep or a consolidation (`run`/`sweep`/`merge`/`consolidate --out DIR`).")
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
        let fm = FileManager.default
        let outdir = self.outdir
        func has(_ name: String) -> Bool { fm.fileExists(atPath: outdir + "/" + name) }
        let names: [String]
        let render: ([String: String]) throws(CLIProblem) -> String
        if has("summary.json") {
            names = RunOutput.fileNames
            render = { files throws(CLIProblem) in try reportHTML(files: files, dir: outdir) }
        } else if has("plan.txt") && !has("sweep.csv") {
            fail("\(outdir): a shard of a sweep (plan.txt without sweep.csv); join the shards with `overcommit merge` and report the merged directory")
        } else if has("plan.txt") {
            names = ["plan.txt", "sweep.csv"]
            render = { files throws(CLIProblem) in
                do { return try ExperimentReportPage.sweep(plan: files["plan.txt"]!, sweepCSV: files["sweep.csv"]!, dir: outdir) } catch {
                    throw CLIProblem("\(outdir)/\(error)")
                }
            }
        } else if has("consolidation.json") {
            names = ["consolidation.json", "consolidation.txt"]
            render = { files throws(CLIProblem) in
                do {
                    return try ExperimentReportPage.consolidation(json: files["consolidation.json"]!, summary: files["consolidation.txt"]!, dir: outdir)
                } catch { throw CLIProblem("\(outdir)/\(error)") }
            }
        } else {
            fail(
                "\(outdir): not an output directory of overcommit: expected summary.json (a run), plan.txt and sweep.csv (a sweep) or consolidation.json (a consolidation)"
            )
        }
        var files: [String: String] = [:]
        for name in names {
            let path = outdir + "/" + name
            do { files[name] = try FileSystem.readText(path, what: "a file of the output directory") } catch {
                fail(error.message + " (is '\(outdir)' the output directory of `overcommit run`, `sweep` or `consolidate --out`?)")
            }
        }
        // The directory's own files are inputs: the page must never replace one of them.
        let inputs = names.map { RunInput(path: outdir + "/" + $0, role: "the output directory's \($0)") }
        let target = output ?? FileSystem.trimmingTrailingSlashes(outdir) + "/report.html"
        attempt { try OutputFile.check(target, inputs: inputs, option: output == nil ? "report" : "--output") }
        let html = attempt { try render(files) }
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
