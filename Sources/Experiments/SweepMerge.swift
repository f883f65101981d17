import OvercommitSupport

/// Joins the shard outputs of one sweep (`overcommit merge`) into the files an unsharded run
/// of the same sweep writes, byte for byte.
///
/// It refuses shards of different sweeps (plan hash: scenario digest, fixed overrides, axes,
/// runs and metric set), shards of different splits, a shard given twice, missing shards,
/// and a shard whose `runs.csv` lacks tasks or holds tasks of another slice.
public enum SweepMerge {
    /// One shard directory as read by the CLI.
    public struct Input: Sendable {
        public var label: String
        public var planText: String
        public var runsCSV: String
        public init(label: String, planText: String, runsCSV: String) {
            self.label = label; self.planText = planText; self.runsCSV = runsCSV
        }
    }

    public static func merge(_ inputs: [Input]) throws(OverrideError) -> [(name: String, contents: String)] {
        guard !inputs.isEmpty else { throw OverrideError("merge: give the shard directories to join") }
        struct Parsed { var input: Input; var plan: [(String, String)]; var shard: Shard; var hash: String }
        var parsed: [Parsed] = []
        for i in inputs {
            let plan = parsePlan(i.planText)
            func value(_ k: String) -> String? { plan.first { $0.0 == k }?.1 }
            guard value("plan_hash") != nil, value("format") != nil else {
                throw OverrideError("\(i.label)/plan.txt: not an overcommit sweep plan (no plan_hash: line)")
            }
            guard value("format") == "\(SweepPlan.formatVersion)" else {
                throw OverrideError("\(i.label)/plan.txt: format \(value("format")!) is not the format this overcommit writes (\(SweepPlan.formatVersion))")
            }
            guard let s = value("shard") else {
                throw OverrideError("\(i.label): a whole sweep, not a shard (its plan.txt has no shard: line); it needs no merging")
            }
            let shard: Shard
            do { shard = try Shard(parsing: s) } catch { throw OverrideError("\(i.label)/plan.txt: bad shard line '\(s)'") }
            let metrics = RunMetrics.all.map(\.name).joined(separator: ",")
            guard value("metrics") == metrics else {
                throw OverrideError("\(i.label)/plan.txt: written by an overcommit with other metrics; rerun the shard with this version")
            }
            parsed.append(Parsed(input: i, plan: plan, shard: shard, hash: value("plan_hash")!))
        }
        let first = parsed[0]
        for p in parsed.dropFirst() where p.hash != first.hash {
            let a = identity(first.plan), b = identity(p.plan)
            let diff = zip(a, b).first { $0 != $1 }.map { "'\($0.0)' vs '\($0.1)'" } ?? "different plan lines"
            throw OverrideError("\(p.input.label) belongs to a different sweep than \(first.input.label) (plan_hash \(p.hash) vs \(first.hash)): \(diff)")
        }
        let n = first.shard.count
        for p in parsed where p.shard.count != n {
            throw OverrideError(
                "\(p.input.label) is shard \(p.shard) but \(first.input.label) is shard \(first.shard): shards of different splits do not merge")
        }
        var byIndex: [Parsed?] = Array(repeating: nil, count: n)
        for p in parsed {
            if let other = byIndex[p.shard.index] {
                throw OverrideError("shard \(p.shard) is given twice: \(other.input.label) and \(p.input.label)")
            }
            byIndex[p.shard.index] = p
        }
        let missing = byIndex.indices.filter { byIndex[$0] == nil }
        guard missing.isEmpty else {
            throw OverrideError(
                "missing shard\(missing.count == 1 ? "" : "s") " + missing.map { "\($0)/\(n)" }.joined(separator: ", ")
                    + " (have " + parsed.map { "\($0.shard)" }.sorted().joined(separator: ", ") + ")")
        }
        guard let totalText = first.plan.first(where: { $0.0 == "tasks" })?.1, let total = Int(totalText),
            let runsText = first.plan.first(where: { $0.0 == "runs" })?.1, let runsPerPoint = Int(runsText), runsPerPoint > 0
        else {
            throw OverrideError("\(first.input.label)/plan.txt: no tasks: or runs: line")
        }

        // Rows of every shard, checked against its slice.
        var header: [String]? = nil
        var rows: [(task: Int, line: String, cells: [String])] = []
        for p in parsed {
            let lines = p.input.runsCSV.split(separator: "\n", omittingEmptySubsequences: true).map(String.init)
            guard let h = lines.first else { throw OverrideError("\(p.input.label)/runs.csv is empty") }
            let cells = parseCSVLine(h)
            if let header, header != cells {
                throw OverrideError("\(p.input.label)/runs.csv: its columns differ from \(first.input.label)/runs.csv")
            }
            header = cells
            let expected = Array(stride(from: p.shard.index, to: total, by: n))
            var got: [Int] = []
            for l in lines.dropFirst() {
                let c = parseCSVLine(l)
                guard c.count == cells.count, let t = Int(c[0]) else {
                    throw OverrideError("\(p.input.label)/runs.csv: malformed row '\(l.prefix(60))'")
                }
                got.append(t)
                rows.append((t, l, c))
            }
            guard got == expected else {
                let lacking = Set(expected).subtracting(got).sorted()
                let extra = Set(got).subtracting(expected).sorted()
                var why: [String] = []
                if !lacking.isEmpty {
                    why.append(
                        "lacks task\(lacking.count == 1 ? "" : "s") \(lacking.prefix(8).map(String.init).joined(separator: ", "))\(lacking.count > 8 ? ", ..." : "")"
                    )
                }
                if !extra.isEmpty {
                    why.append("holds task\(extra.count == 1 ? "" : "s") \(extra.prefix(8).map(String.init).joined(separator: ", ")) of another shard")
                }
                if why.isEmpty { why.append("has its tasks out of order or repeated") }
                throw OverrideError("\(p.input.label)/runs.csv (shard \(p.shard)) " + why.joined(separator: " and ") + "; rerun that shard")
            }
        }
        rows.sort { $0.task < $1.task }
        let cols = header!
        guard let ee = cols.firstIndex(of: "ended_early"), ee >= 4 else {
            throw OverrideError("\(first.input.label)/runs.csv: no ended_early column")
        }
        // The points from the plan's axes (runs.csv has no column for an axis over `seed`).
        let axes: [SweepAxis]
        do {
            axes = try first.plan.filter { $0.0 == "set" }.map { l throws(OverrideError) in try SweepAxis(parsing: l.1) }
        } catch { throw OverrideError("\(first.input.label)/plan.txt: a set: line does not read as path=v1,v2: \(error)") }
        let pointValues = SweepPlan.points(axes)
        guard pointValues.count * runsPerPoint == total else {
            throw OverrideError("\(first.input.label)/plan.txt: its set: lines give \(pointValues.count) points x \(runsPerPoint) runs, not \(total) tasks")
        }
        var runs: [SweepRun] = []
        for r in rows {
            let point = r.task / runsPerPoint
            runs.append(
                SweepRun(
                    task: r.task, point: point, replication: r.task % runsPerPoint, seed: UInt64(r.cells[3]) ?? 0,
                    endedEarly: r.cells[ee] == "1", fields: Array(r.cells[(ee + 1)...])))
        }
        let planLines = first.input.planText.split(separator: "\n", omittingEmptySubsequences: false)
            .filter { !$0.hasPrefix("shard: ") && !$0.hasPrefix("shard_tasks: ") }
        let runsCSV = ([cols.map(Sweep.csvQuote).joined(separator: ",")] + rows.map(\.line)).joined(separator: "\n") + "\n"
        return [
            ("plan.txt", planLines.joined(separator: "\n")), ("runs.csv", runsCSV),
            ("sweep.csv", Sweep.sweepCSV(axes: axes.map(\.path), pointValues: pointValues, runs: runs)),
        ]
    }

    static func parsePlan(_ text: String) -> [(String, String)] {
        text.split(separator: "\n").compactMap { l in
            guard !l.hasPrefix("#"), let r = l.range(of: ": ") else { return nil }
            return (String(l[..<r.lowerBound]), String(l[r.upperBound...]))
        }
    }

    static func identity(_ plan: [(String, String)]) -> [String] {
        plan.filter { ["format", "scenario_digest", "fixed", "set", "runs", "metrics"].contains($0.0) }.map { "\($0.0): \($0.1)" }
    }

    /// One CSV line (RFC 4180 quoting) into cells.
    static func parseCSVLine(_ line: String) -> [String] {
        var cells: [String] = []
        var cur = ""
        var quoted = false
        var chars = Array(line)
        if chars.last == "\r" { chars.removeLast() }
        var i = 0
        while i < chars.count {
            let c = chars[i]
            if quoted {
                if c == "\"" {
                    if i + 1 < chars.count, chars[i + 1] == "\"" { cur.append("\""); i += 1 } else { quoted = false }
                } else {
                    cur.append(c)
                }
            } else if c == "\"" {
                quoted = true
            } else if c == "," {
                cells.append(cur); cur = ""
            } else {
                cur.append(c)
            }
            i += 1
        }
        cells.append(cur)
        return cells
    }
}
