import ArgumentParser
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

    @Option(name: .shortAndLong, help: "Where to write the page (default: OUTDIR/report.html).")
    var output: String?

    @Flag(help: "Print nothing on stdout (errors still go to stderr).")
    var quiet = false

    mutating func run() throws {
        var isDir: ObjCBool = false
        guard FileManager.default.fileExists(atPath: outdir, isDirectory: &isDir), isDir.boolValue else {
            fail("\(outdir): not a directory (expected the output directory of `overcommit run --out DIR`)")
        }
        var files: [String: String] = [:]
        for name in RunOutput.fileNames {
            let path = outdir + "/" + name
            guard let data = FileManager.default.contents(atPath: path) else {
                fail("\(path): missing or unreadable (is '\(outdir)' the output directory of `overcommit run --out`?)")
            }
            guard let text = String(data: data, encoding: .utf8) else { fail("\(path): not UTF-8 text") }
            files[name] = text
        }
        let html = reportHTML(files: files, dir: outdir)
        let target = output ?? outdir + "/report.html"
        writeFileAtomically(html, to: target)
        if !quiet { print("wrote \(target)") }
    }
}

/// Parses an output directory's files and renders the HTML report; exits with a message naming
/// the file, line and column on bad input.
func reportHTML(files: [String: String], dir: String) -> String {
    do {
        return try HTMLReport.render(try RunOutput(files: files))
    } catch {
        fail("\(dir)/\(error)")
    }
}

/// Writes a file through a temporary file in the same directory and rename(2), so readers
/// see the old file or the whole new one, never a part.
func writeFileAtomically(_ text: String, to path: String) {
    let tmp = path + ".partial-\(getpid())"
    guard FileManager.default.createFile(atPath: tmp, contents: Data(text.utf8)) else {
        fail("cannot write '\(tmp)' (does the directory exist and is it writable?)", code: 1)
    }
    if rename(tmp, path) != 0 {
        let why = String(cString: strerror(errno))
        unlink(tmp)
        fail("cannot rename '\(tmp)' to '\(path)': \(why)", code: 1)
    }
}
