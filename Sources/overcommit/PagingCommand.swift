import ArgumentParser
import Foundation
import GuestKernel
import OvercommitSupport
import Workloads

/// `overcommit paging TRACE --frames 16,32,64 --policy lru,fifo,clock,opt`: textbook demand
/// paging of a recorded trace with exactly N frames (in the spirit of libCacheSim's CLI).
struct PagingCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "paging",
        abstract: "Count the page faults of a trace with exactly N frames under each replacement policy (textbook demand paging).",
        discussion: """
            The trace is read as `run` reads trace workloads: overcommit's text format (R/W/M/F/X) or \
            valgrind lackey output (--trace-mem=yes). Every (process, page) of the trace is one page; \
            a reference to a page not in one of the N frames is a fault; once the frames are full the \
            policy picks its victim before the page comes in, one page at a time. CLOCK is the \
            textbook ring (use bit set on load and on every reference); OPT is Belady's MIN. \
            Policies: \(TracePaging.policies.map(\.rawValue).joined(separator: ", ")). \
            See docs/textbook-paging.md.
            """)

    @Argument(help: "Trace file (text or lackey format).")
    var trace: String

    @Option(help: "Frame counts, comma-separated (each at least 1).")
    var frames: String = "16,32,64"

    @Option(help: "Replacement policies, comma-separated (\(TracePaging.policies.map(\.rawValue).joined(separator: ", "))).")
    var policy: String = "lru,fifo,clock,opt"

    @Option(help: "Trace format: \(TraceFormat.allCases.map(\.rawValue).joined(separator: ", ")).")
    var format: String = TraceFormat.auto.rawValue

    @Option(help: "Output: table, csv or json.")
    var output: String = "table"

    mutating func run() throws {
        guard let fmt = TraceFormat(rawValue: format) else {
            fail("--format: unknown format '\(format)'; allowed: \(TraceFormat.allCases.map(\.rawValue).joined(separator: ", "))", code: 64)
        }
        guard ["table", "csv", "json"].contains(output) else { fail("--output: '\(output)' is not one of table, csv, json", code: 64) }
        var counts: [Int] = []
        for f in frames.split(separator: ",", omittingEmptySubsequences: false).map({ $0.trimmingCharacters(in: .whitespaces) }) {
            guard let n = Int(f), n >= 1, n <= 1 << 24 else {
                fail("--frames: '\(f)' is not a frame count; write whole numbers from 1 to \(1 << 24), comma-separated (e.g. 16,32,64)", code: 64)
            }
            if !counts.contains(n) { counts.append(n) }
        }
        var policies: [ReplacementPolicyKind] = []
        for p in policy.split(separator: ",", omittingEmptySubsequences: false).map({ $0.trimmingCharacters(in: .whitespaces) }) {
            guard let k = ReplacementPolicyKind(rawValue: p) else {
                fail("--policy: unknown policy '\(p)'; allowed: \(TracePaging.policies.map(\.rawValue).joined(separator: ", "))", code: 64)
            }
            if !policies.contains(k) { policies.append(k) }
        }
        guard let data = FileManager.default.contents(atPath: trace) else { fail("\(trace): cannot read the trace file (does it exist?)") }
        guard let text = String(data: data, encoding: .utf8) else {
            fail("\(trace): not UTF-8 text; a trace is a text file (R/W/M/F/X records or lackey output)")
        }
        let compiled: CompiledTrace
        do { compiled = try CompiledTrace(parsing: text, format: fmt, path: trace) } catch { fail("\(error)") }

        let results = TracePaging.study(compiled, frames: counts, policies: policies)
        switch output {
        case "csv":
            print("policy,frames,references,faults,hits,fault_rate,evictions,writebacks,distinct_pages")
            for r in results {
                print(
                    "\(r.policy.rawValue),\(r.frames),\(r.references),\(r.faults),\(r.hits),\(formatFixed(r.faultRate, 6)),\(r.evictions),\(r.writebacks),\(r.distinctPages)"
                )
            }
        case "json":
            let rows = results.map { r in
                "{\"policy\":\"\(r.policy.rawValue)\",\"frames\":\(r.frames),\"references\":\(r.references),\"faults\":\(r.faults),"
                    + "\"hits\":\(r.hits),\"fault_rate\":\(formatFixed(r.faultRate, 6)),\"evictions\":\(r.evictions),"
                    + "\"writebacks\":\(r.writebacks)}"
            }
            print(
                "{\"trace\":\(jsonString(trace)),\"format\":\"\(compiled.format.rawValue)\",\"references\":\(compiled.referenceCount),"
                    + "\"distinct_pages\":\(compiled.distinctPages),\"results\":[" + rows.joined(separator: ",") + "]}")
        default:
            print(
                "\(trace): \(compiled.format.rawValue) trace, \(compiled.referenceCount) references, \(compiled.distinctPages) distinct pages, \(compiled.processCount) process(es)"
            )
            print("")
            let header = ["policy", "frames", "faults", "fault rate", "hits", "evictions", "write-backs"]
            var rows: [[String]] = []
            for r in results {
                rows.append([
                    r.policy.rawValue, "\(r.frames)", "\(r.faults)", formatFixed(r.faultRate * 100, 2) + " %", "\(r.hits)",
                    "\(r.evictions)", "\(r.writebacks)",
                ])
            }
            let widths = header.indices.map { i in max(header[i].count, rows.map { $0[i].count }.max() ?? 0) }
            func line(_ cells: [String]) -> String {
                cells.enumerated().map { i, c in
                    i == 0
                        ? c.padding(toLength: widths[i], withPad: " ", startingAt: 0)
                        : String(repeating: " ", count: widths[i] - c.count) + c
                }.joined(separator: "  ")
            }
            print(line(header))
            for r in rows { print(line(r)) }
            for (a, b) in TracePaging.anomalies(results) {
                print("")
                print("Belady's anomaly: \(a.policy.rawValue) faults more with \(b.frames) frames (\(b.faults)) than with \(a.frames) (\(a.faults)).")
            }
        }
    }

    func jsonString(_ s: String) -> String {
        var out = "\""
        for u in s.unicodeScalars {
            switch u {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case _ where u.value < 0x20: out += String(format: "\\u%04x", u.value)
            default: out.unicodeScalars.append(u)
            }
        }
        return out + "\""
    }
}
