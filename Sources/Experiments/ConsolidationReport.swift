import OvercommitSupport
import Reports

/// Text and JSON for consolidation searches: one search in detail, or several side by side.
public enum ConsolidationReport {
    /// The technique savings reported at the limit: (metric, label).
    public static let savings: [(metric: RunMetric, label: String)] = {
        let m = RunMetrics.handles
        return [
            (m.savedBySharing, "page sharing saved"),
            (m.ballooned, "ballooned"),
            (m.balloonedPeak, "ballooned, peak"),
            (m.compressionSaved, "compression saved"),
            (m.hostSwapped, "host swapped"),
            (m.largePagesBroken, "large pages broken"),
            (m.guestSwapUsed, "guest swap used"),
            (m.throughputRatioMin, "worst throughput ratio"),
            (m.stealSum, "steal"),
        ]
    }()

    static func memory(_ bytes: UInt64) -> String { HumanUnits.memory(kilobytes: Double(bytes) / 1024) }

    static func what(_ m: ConsolidationMode) -> String {
        switch m {
        case .vm(let n): "copies of \(n)";
        case .scaleMix: "copies of the whole mix"
        }
    }

    /// `1.035` and the margin to the limit, `0.065` (negative: over it), or `-` without a term.
    static func penalty(_ p: ConsolidationPoint) -> (measured: String, margin: String) {
        guard let t = p.penalty else { return ("-", "-") }
        return (formatFixed(t.measured, 3), t.margin.map { formatFixed($0, 3) } ?? "-")
    }

    /// What a size that held came to: the other checked terms with a finite, nonzero limit
    /// (the penalty has its own columns).
    static func heldTerms(_ p: ConsolidationPoint) -> String {
        let shown = p.terms.filter { $0.checked && $0.limit.isFinite && $0.limit > 0 && $0.name != "overcommit_penalty" }
        return shown.isEmpty ? "" : "; " + shown.map { $0.description + " (margin \(formatFixed($0.margin ?? 0, 3)))" }.joined(separator: "; ")
    }

    /// The detailed report of one search.
    public static func text(_ r: ConsolidationResult) -> [String] {
        var out: [String] = []
        out.append("consolidation\(r.label.isEmpty ? "" : " [\(r.label)]"): \(what(r.mode)); SLA: \(r.sla.description)")
        out.append("copies   vms  configured  ratio  penalty  margin  SLA")
        for p in r.evaluated {
            let verdict = p.passed ? "holds" + heldTerms(p) : "breaks: " + p.broken.map(\.description).joined(separator: "; ")
            let (measured, margin) = penalty(p)
            out.append(
                pad("\(p.copies)", 6) + pad("\(p.vms)", 6) + pad(memory(p.configuredBytes), 12) + pad(formatFixed(p.ratio, 2), 7)
                    + pad(measured, 9) + pad(margin, 8) + "  " + verdict)
        }
        if let l = r.limit {
            out.append(
                "limit: \(l.vms) VMs (\(l.copies) \(l.copies == 1 ? "copy" : "copies")), \(memory(l.configuredBytes)) configured on \(memory(l.hostBytes)) host RAM: consolidation ratio \(formatFixed(l.ratio, 2))"
            )
        } else {
            out.append("limit: none; even one copy breaks the SLA")
        }
        if let b = r.beyond {
            out.append("beyond: \(b.vms) VMs break " + b.broken.map(\.description).joined(separator: "; "))
        } else {
            out.append("beyond: not reached; the SLA held up to --max-vms (\(r.maxCopies) copies)")
        }
        if let l = r.limit {
            out.append("at the limit: " + savings.map { "\($0.label) \(RunMetrics.human($0.metric, l.metric($0.metric)))" }.joined(separator: ", "))
            out.append("SLA terms at the limit: " + l.terms.map(\.description).joined(separator: "; "))
        }
        return out
    }

    /// Several searches side by side, one column per setting.
    public static func compareText(_ rs: [ConsolidationResult]) -> [String] {
        var rows: [(String, [String])] = []
        rows.append(("VMs at the limit", rs.map { $0.limit.map { "\($0.vms)" } ?? "0" }))
        rows.append(("consolidation ratio", rs.map { $0.limit.map { formatFixed($0.ratio, 2) } ?? "-" }))
        rows.append(("configured guest memory", rs.map { $0.limit.map { memory($0.configuredBytes) } ?? "-" }))
        rows.append(("overcommit_penalty at the limit", rs.map { r in r.limit.map { penalty($0).measured } ?? "-" }))
        rows.append(("  margin to the SLA", rs.map { r in r.limit.map { penalty($0).margin } ?? "-" }))
        rows.append(("first breaking term", rs.map { $0.beyond?.broken.first?.name ?? "(none up to max)" }))
        rows.append(
            (
                "  measured vs limit",
                rs.map { r in
                    r.beyond?.broken.first.map { t in formatFixed(t.measured, 3) + " > " + formatFixed(t.limit, 3) } ?? "-"
                }
            ))
        for s in savings {
            rows.append((s.label, rs.map { $0.limit.map { RunMetrics.human(s.metric, $0.metric(s.metric)) } ?? "-" }))
        }
        let labelWidth = max(26, (rows.map(\.0.count).max() ?? 0) + 2)
        let widths = rs.indices.map { i in max(rs[i].label.count, rows.map { $0.1[i].count }.max() ?? 0) + 2 }
        var out = [pad("", labelWidth, left: true) + rs.indices.map { pad(rs[$0].label, widths[$0]) }.joined()]
        for (name, cells) in rows {
            out.append(pad(name, labelWidth, left: true) + cells.indices.map { pad(cells[$0], widths[$0]) }.joined())
        }
        if let r = rs.first { out.append("SLA: \(r.sla.description); \(what(r.mode))") }
        return out
    }

    static func pad(_ s: String, _ w: Int, left: Bool = false) -> String {
        let n = max(0, w - s.count)
        return left ? s + String(repeating: " ", count: n) : String(repeating: " ", count: n) + s
    }

    static func termJSON(_ t: SLATerm) -> JSONValue {
        .object([
            ("name", .string(t.name)), ("measured", .double(t.measured)),
            ("limit", t.limit.isInfinite ? .null : .double(t.limit)), ("margin", t.margin.map { .double($0) } ?? .null),
            ("unit", .string(t.unit)),
            ("checked", .bool(t.checked)), ("passed", .bool(t.passed)), ("detail", .string(t.detail)),
        ])
    }

    static func pointJSON(_ p: ConsolidationPoint) -> JSONValue {
        .object([
            ("copies", .int(p.copies)), ("vms", .int(p.vms)), ("configured_kb", .int(Int64(p.configuredBytes / 1024))),
            ("host_kb", .int(Int64(p.hostBytes / 1024))), ("ratio", .double(p.ratio)), ("passed", .bool(p.passed)),
            ("terms", .array(p.terms.map(termJSON))),
            ("metrics", .object(zip(RunMetrics.all, p.metrics).map { ($0.name, .double($1)) })),
        ])
    }

    /// One search as JSON.
    public static func json(_ r: ConsolidationResult) -> JSONValue {
        let mode: JSONValue
        switch r.mode {
        case .vm(let n): mode = .object([("vm", .string(n))]);
        case .scaleMix: mode = .string("scale-mix")
        }
        let sla = r.sla
        let slaJSON: JSONValue = .object([
            ("max_overcommit_penalty", .double(sla.maxOvercommitPenalty)), ("max_oom_kills", .int(sla.maxOOMKills)),
            ("max_refused_allocations", .int(sla.maxRefusedAllocations)),
            ("max_host_swap_in_rate", sla.maxHostSwapInRate.map { JSONValue.double($0) } ?? .null),
            ("max_low_state_seconds", sla.maxLowStateSeconds.map { JSONValue.double($0) } ?? .null),
            ("max_throughput_loss", sla.maxThroughputLoss.map { JSONValue.double($0) } ?? .null),
        ])
        let ratio: JSONValue = r.limit.map { JSONValue.double($0.ratio) } ?? .null
        let breaking: [JSONValue] = r.beyond?.broken.map(termJSON) ?? []
        var saved: JSONValue = .null
        if let l = r.limit { saved = .object(savings.map { ($0.metric.name, JSONValue.double(l.metric($0.metric))) }) }
        let limit: JSONValue = r.limit.map(pointJSON) ?? .null
        let beyond: JSONValue = r.beyond.map(pointJSON) ?? .null
        var fields: [(String, JSONValue)] = [("label", .string(r.label)), ("mode", mode), ("sla", slaJSON)]
        fields.append(("vms", .int(r.limit?.vms ?? 0)))
        fields.append(("consolidation_ratio", ratio))
        fields.append(("first_breaking", .array(breaking)))
        fields.append(("savings_at_limit", saved))
        fields.append(("limit", limit))
        fields.append(("beyond", beyond))
        fields.append(("evaluated", .array(r.evaluated.map(pointJSON))))
        return .object(fields)
    }
}
