import GuestKernel
import HostPolicies
import Hypervisor
import OvercommitSupport
import Scenarios
import Simulation

/// Turns a `SimulationResult` into the files of an output directory and the console lines.
///
/// Files (after gem5's m5out): `scenario.resolved.yaml` (every default filled in),
/// `summary.json`, `timeseries.csv` (one row per guest per sample), `events.jsonl`,
/// `stats.txt` (name, value, unit, description). Only simulated quantities appear: no wall
/// clock, no host names, so the same scenario and seed give byte-identical files.
public enum RunReport {
    /// Every output file as (name, contents), in a fixed order.
    public static func files(_ r: SimulationResult) -> [(name: String, contents: String)] {
        [
            ("scenario.resolved.yaml", ScenarioRenderer.yaml(r.config)),
            ("summary.json", summaryJSON(r).rendered(indent: 2) + "\n"),
            ("timeseries.csv", timeseriesCSV(r)),
            ("host_timeseries.csv", hostTimeseriesCSV(r)),
            ("events.jsonl", eventsJSONL(r)),
            ("stats.txt", statsText(r)),
        ]
    }

    /// A counter on the console: `name=value`, the name without its unit suffix (`free_kb`
    /// prints as `free`), the value in human units (`1.46GiB`, `30.1ms`, `yes`).
    public static func consoleField<S>(_ c: OutputCounter<S>, _ w: CounterWindow<S>) -> String {
        consoleKey(c) + "=" + humanValue(c, c.value(w))
    }

    /// A counter's name without the unit suffix its unit implies (Linux's own names as they are).
    public static func consoleKey<S>(_ c: OutputCounter<S>) -> String {
        let suffix: String
        switch c.unit {
        case .kilobytes: suffix = "_kb"
        case .seconds: suffix = "_s"
        case .nanoseconds: suffix = "_ns"
        default: return c.name
        }
        return c.name.hasSuffix(suffix) && !c.isMainlineName ? String(c.name.dropLast(suffix.count)) : c.name
    }

    /// A counter's value in human units: memory in KiB..TiB, times in s..ns, ratios with three
    /// significant digits, flags as yes/no, levels by name, counts as they are.
    public static func humanValue<S>(_ c: OutputCounter<S>, _ v: Double) -> String {
        switch (c.unit, c.format) {
        case (.kilobytes, _): return HumanUnits.memory(kilobytes: v)
        case (.seconds, _): return HumanUnits.duration(seconds: v)
        case (.nanoseconds, _): return HumanUnits.duration(seconds: v / 1e9)
        case (_, .flag): return v != 0 ? "yes" : "no"
        case (_, .label(let names)): return names.indices.contains(Int(v)) ? names[Int(v)] : HumanUnits.significant(v)
        case (_, .decimals): return HumanUnits.significant(v)
        case (_, .integer): return c.csvText(v)
        }
    }

    /// One stable, greppable line per guest, one about how the host backs it, and two for the
    /// host: the counters' names and human units (docs/outputs.md).
    public static func consoleLines(_ r: SimulationResult) -> [String] {
        let c = GuestCounters.handles, h = HostCounters.handles
        // Steal time and what it cost, only where the host charges its work (host.cpu).
        let steal = r.config.host.cpu.charge_host_work == .steal
        var lines: [String] = []
        for g in r.guests {
            let w = CounterWindow(now: g.state)
            func f(_ list: [GuestCounter]) -> String { list.map { consoleField($0, w) }.joined(separator: " ") }
            lines.append(
                "guest \(g.name) "
                    + f([
                        c.configured, c.host.consumed, c.meminfo.memFree, c.meminfo.cached, c.meminfo.anonPages,
                        c.swapUsed, c.meminfo.committedAS, c.vmstat.accesses, c.vmstat.pgfault, c.vmstat.pgmajfault,
                        c.vmstat.pswpin, c.vmstat.pswpout, c.vmstat.oomKill, c.vmstat.refusedAllocations, c.eat, c.slowdown,
                    ])
                    + (steal ? " " + f([c.steal, c.throughputRatio]) : "")
                    + (g.panicked ? " " + consoleField(c.panicked, w) : "") + (g.poweredOn ? "" : " " + consoleField(c.poweredOn, w)))
            let active = g.host.activePeriods > 0 ? f([c.host.activeEstimated, c.host.activeTrue]) : "active=unsampled"
            lines.append(
                "vm \(g.name) "
                    + f([
                        c.host.consumed, c.host.privateFrames, c.host.shared, c.host.ballooned, c.host.compressed,
                        c.host.cache, c.host.hostSwapped,
                    ]) + " " + active + " "
                    + f([c.host.largePages, c.host.cowBreaks, c.host.hostSwapIns, c.host.doublePaging]))
        }
        let w = CounterWindow(now: r.hostState)
        func f(_ list: [HostCounter]) -> String { list.map { consoleField($0, w) }.joined(separator: " ") }
        lines.append(
            "host \(r.config.host.name) " + f([h.ram, h.free, h.consumed, h.overhead, h.hypervisor]) + " guests=\(r.guests.count) "
                + consoleField(RunCounters.handles.simulated, CounterWindow(now: r)) + " " + f([h.outOfMemory]))
        lines.append(
            "host \(r.config.host.name) "
                + f([
                    h.state, h.minFree, h.pagesShared, h.pagesSharing, h.ksmZeroPages, h.savedBySharing,
                    h.ballooned, h.compressed, h.compressionSaved, h.hostSwapped, h.largePages,
                    h.scanCPU, h.compressCPU,
                ]) + (steal ? " " + f([h.hostWorkCPU, h.stealCharged]) : ""))
        lines.append("host \(r.config.host.name) " + savedLine(r))
        return lines
    }

    /// What each technique saved, in words: at the end, with the peak when it was higher (a
    /// balloon deflates once the host is back in high), then the time in each state.
    public static func savedLine(_ r: SimulationResult) -> String {
        let h = HostCounters.handles
        func part(_ name: String, _ c: HostCounter) -> String {
            let end = c.value(at: r.hostState)
            let peak = max(end, r.hostSamples.compactMap { $0[c] }.max() ?? 0)
            return name + " " + HumanUnits.memory(kilobytes: end) + (peak > end ? " (peak " + HumanUnits.memory(kilobytes: peak) + ")" : "")
        }
        let techniques = [
            part("sharing", h.savedBySharing), part("ballooning", h.ballooned), part("compression", h.compressionSaved),
            part("host swap", h.hostSwapped),
        ]
        let states = HostMemoryState.allCases.map { "\($0.rawValue) " + HumanUnits.duration(seconds: h.timeIn($0).value(at: r.hostState)) }
        return "saved: " + techniques.joined(separator: ", ") + "; time in " + states.joined(separator: ", ")
    }

    /// A counter's value as JSON: whole numbers as integers, reals as numbers (null when not
    /// finite), flags as booleans, levels by name.
    static func jsonValue<S>(_ c: OutputCounter<S>, _ v: Double) -> JSONValue {
        switch c.format {
        case .integer: return v.isFinite ? .int(Int64(v)) : .double(v)
        case .decimals: return .double(v)
        case .flag: return .bool(v != 0)
        case .label(let names): return names.indices.contains(Int(v)) ? .string(names[Int(v)]) : .double(v)
        }
    }

    /// The counters of a catalog as JSON object fields: top-level counters by name, each group
    /// as a nested object under its key, in declaration order.
    public static func counterFields<S>(_ catalog: CounterCatalog<S>, _ w: CounterWindow<S>) -> [(String, JSONValue)] {
        func fields(_ entries: ArraySlice<CounterEntry<S>>, depth: Int) -> [(String, JSONValue)] {
            var out: [(String, JSONValue)] = []
            var i = entries.startIndex
            while i < entries.endIndex {
                let e = entries[i]
                if e.groups.count == depth {
                    out.append((e.counter.name, jsonValue(e.counter, e.counter.value(w))))
                    i += 1
                    continue
                }
                let key = e.groups[depth]
                var j = i
                while j < entries.endIndex, entries[j].groups.count > depth, entries[j].groups[depth] == key { j += 1 }
                out.append((key, .object(fields(entries[i..<j], depth: depth + 1))))
                i = j
            }
            return out
        }
        return fields(catalog.entries[...], depth: 0)
    }

    /// The counters of a catalog as statistics named `prefix` + their dotted path.
    static func addCounters<S>(_ catalog: CounterCatalog<S>, _ w: CounterWindow<S>, prefix: String, to b: inout StatisticsBlock) {
        for e in catalog.entries {
            b.add(Statistic(prefix + e.path, e.counter.value(w), unit: e.counter.unit.rawValue, e.counter.summary))
        }
    }

    public static func summaryJSON(_ r: SimulationResult) -> JSONValue {
        let guests: [JSONValue] = r.guests.map { g in
            .object(
                [(SummaryKey.name, .string(g.name))]
                    + counterFields(GuestCounters.catalog, CounterWindow(now: g.state))
                    + (g.state.host.numa.map { [("numa", .object(counterFields(VMNUMACounters.catalog, CounterWindow(now: $0))))] } ?? [])
                    + (g.nodes.isEmpty
                        ? [] : [("nodes", .array(g.nodes.map { .object(counterFields(GuestNodeCounters.catalog, CounterWindow(now: $0))) }))])
                    + [
                        (SummaryKey.buddyinfo, .array(g.buddyinfo.map { .int($0) })),
                        (
                            SummaryKey.processes,
                            .array(
                                g.processes.map { p in
                                    .object([
                                        ("pid", .int(Int(p.pid))), ("name", .string(p.name)), ("rss_kb", .int(p.rssPages * 4)),
                                        ("swap_kb", .int(p.swapPages * 4)), ("page_tables_kb", .int(p.pageTablePages * 4)),
                                        ("oom_score", .int(p.oomScore)), ("oom_score_adj", .int(p.oomScoreAdj)),
                                    ])
                                })
                        ),
                        (
                            SummaryKey.workloads,
                            .array(
                                g.workloads.map { w in
                                    .object([("kind", .string(w.kind))] + w.stats.entries.map { ($0.name, .double($0.value)) })
                                })
                        ),
                    ])
        }
        return .object(
            [
                (SummaryKey.scenario, .string(r.config.name)),
                (SummaryKey.seed, .int(Int64(bitPattern: r.config.seed))),
                (SummaryKey.version, .string(OvercommitVersion.string)),
            ] + counterFields(RunCounters.catalog, CounterWindow(now: r)) + [
                (SummaryKey.endedEarlyReason, r.endedEarly.map { .string($0) } ?? .null),
                (SummaryKey.partial, .bool(r.partial)),
                (
                    SummaryKey.host,
                    .object(
                        [(SummaryKey.name, .string(r.config.host.name))] + counterFields(HostCounters.catalog, CounterWindow(now: r.hostState))
                            + nodesField(r))
                ),
                (SummaryKey.guests, .array(guests)),
                (SummaryKey.events, .object(eventCounts(r).map { ($0.0, .int($0.1)) })),
                (
                    SummaryKey.checks,
                    .object([
                        (SummaryKey.checksRun, .int(r.checksRun)),
                        (SummaryKey.checkProblems, .array(r.checkProblems.map { .string($0) })),
                    ])
                ),
            ])
    }

    /// summary.json's `host.nodes`: each NUMA node's counters, only on a host of several nodes.
    static func nodesField(_ r: SimulationResult) -> [(String, JSONValue)] {
        let nodes = r.hostState.snapshot.nodes
        guard !nodes.isEmpty else { return [] }
        return [("nodes", .array(nodes.map { .object(counterFields(NodeCounters.catalog, CounterWindow(now: $0))) }))]
    }

    static func eventCounts(_ r: SimulationResult) -> [(String, Int)] {
        var kinds: [String] = []
        var counts: [Int] = []
        for e in r.events {
            if let i = kinds.firstIndex(of: e.kind) { counts[i] += 1 } else { kinds.append(e.kind); counts.append(1) }
        }
        return zip(kinds, counts).sorted { $0.0 < $1.0 }
    }

    /// `timeseries.csv`: the time, the guest, then every sampled guest counter.
    public static func timeseriesCSV(_ r: SimulationResult) -> String {
        let sampled = GuestCounters.catalog.sampled
        var s = ([SummaryKey.time, SummaryKey.guest] + sampled.map(\.counter.name)).joined(separator: ",") + "\n"
        for x in r.samples {
            var fields = [formatFixed(Double(x.timeNs) / 1e9, 3), csvQuote(x.guest)]
            for (e, v) in zip(sampled, x.values) { fields.append(e.counter.csvText(v)) }
            s += fields.joined(separator: ",") + "\n"
        }
        return s
    }

    /// `host_timeseries.csv`: the time, then every sampled host counter (free, consumed and
    /// overhead memory, the free-memory state, what each technique holds), then on a host of
    /// several nodes every sampled node counter of each node (`node<N>.<name>`).
    public static func hostTimeseriesCSV(_ r: SimulationResult) -> String {
        let sampled = HostCounters.catalog.sampled
        let nodeSampled = NodeCounters.catalog.sampled
        let nodes = r.hostSamples.first?.nodeValues.count ?? 0
        let nodeColumns = (0..<nodes).flatMap { k in nodeSampled.map { "node\(k).\($0.counter.name)" } }
        var s = ([SummaryKey.time] + sampled.map(\.counter.name) + nodeColumns).joined(separator: ",") + "\n"
        for h in r.hostSamples {
            var fields = [formatFixed(Double(h.timeNs) / 1e9, 3)]
            for (e, v) in zip(sampled, h.values) { fields.append(e.counter.csvText(v)) }
            for values in h.nodeValues {
                for (e, v) in zip(nodeSampled, values) { fields.append(e.counter.csvText(v)) }
            }
            s += fields.joined(separator: ",") + "\n"
        }
        return s
    }

    static func csvQuote(_ f: String) -> String {
        f.contains(",") || f.contains("\"") ? "\"" + f.replacingAll("\"", "\"\"") + "\"" : f
    }

    /// An event field as JSON: numbers as numbers, flags as booleans.
    static func eventJSON(_ v: EventValue) -> JSONValue {
        switch v {
        case .int(let i): .int(i)
        case .real(let d, let decimals): .decimal(d, places: decimals)
        case .text(let s): .string(s)
        case .flag(let b): .bool(b)
        }
    }

    public static func eventsJSONL(_ r: SimulationResult) -> String {
        var s = ""
        for e in r.events {
            var o: [(String, JSONValue)] = [("time_s", .double(Double(e.timeNs) / 1e9)), ("kind", .string(e.kind))]
            o.append(("guest", e.guest.map { .string($0) } ?? .null))
            for (k, v) in e.fields { o.append((k, eventJSON(v))) }
            s += JSONValue.object(o).rendered() + "\n"
        }
        return s
    }

    /// Every statistic of the run, gem5-style: the run's, the host's and each guest's counters,
    /// event counts, /proc/buddyinfo and each workload's statistics.
    public static func statistics(_ r: SimulationResult) -> StatisticsBlock {
        var b = StatisticsBlock()
        addCounters(RunCounters.catalog, CounterWindow(now: r), prefix: "sim.", to: &b)
        addCounters(HostCounters.catalog, CounterWindow(now: r.hostState), prefix: "host.", to: &b)
        for (k, n) in r.hostState.snapshot.nodes.enumerated() {
            addCounters(NodeCounters.catalog, CounterWindow(now: n), prefix: "host.node\(k).", to: &b)
        }
        for (k, n) in eventCounts(r) { b.add("events.\(k)", n, unit: "count", "events of kind \(k)") }
        for g in r.guests {
            let p = "guest.\(g.name)."
            addCounters(GuestCounters.catalog, CounterWindow(now: g.state), prefix: p, to: &b)
            if let n = g.state.host.numa { addCounters(VMNUMACounters.catalog, CounterWindow(now: n), prefix: p + "numa.", to: &b) }
            for (k, n) in g.nodes.enumerated() { addCounters(GuestNodeCounters.catalog, CounterWindow(now: n), prefix: p + "node\(k).", to: &b) }
            for (o, n) in g.buddyinfo.enumerated() { b.add(p + "buddyinfo.order\(o)", n, unit: "blocks", "free blocks of order \(o) (/proc/buddyinfo)") }
            for (i, w) in g.workloads.enumerated() {
                for e in w.stats.entries { b.add(Statistic(p + "workload\(i).\(w.kind).\(e.name)", e.value, unit: e.unit, e.summary)) }
            }
        }
        return b
    }

    /// `stats.txt`: a first line naming the overcommit that wrote it (none with `version` nil:
    /// the golden files hold simulated metrics only), then every statistic between gem5's
    /// markers.
    public static func statsText(_ r: SimulationResult, version: String? = OvercommitVersion.string) -> String {
        let b = statistics(r)
        let w = b.entries.map(\.name.count).max() ?? 10
        var s = version.map { "# overcommit \($0)\n" } ?? ""
        s += "---------- Begin Simulation Statistics ----------\n"
        for e in b.entries {
            let v = e.formattedValue
            s += e.name.padding(w) + "  " + v.leftPadding(16) + "  " + e.unit.padding(6) + "  # " + e.summary + "\n"
        }
        s += "---------- End Simulation Statistics   ----------\n"
        return s
    }
}

/// The keys of `summary.json` and the CSV columns that are not counters (structure and
/// identity), shared by the writer (`RunReport`) and the reader (`RunOutput`).
public enum SummaryKey {
    public static let scenario = "scenario"
    public static let seed = "seed"
    /// The version of overcommit that wrote the files (`OvercommitVersion.string`).
    public static let version = "version"
    public static let endedEarlyReason = "ended_early_reason"
    public static let partial = "partial"
    public static let host = "host"
    public static let guests = "guests"
    public static let name = "name"
    public static let buddyinfo = "buddyinfo"
    public static let processes = "processes"
    public static let workloads = "workloads"
    public static let events = "events"
    public static let checks = "checks"
    public static let checksRun = "run"
    public static let checkProblems = "problems"
    /// The first CSV columns: the sampling instant and (timeseries.csv) the guest.
    public static let time = "time_s"
    public static let guest = "guest"
}

extension String {
    func padding(_ n: Int) -> String { count >= n ? self : self + String(repeating: " ", count: n - count) }
    func leftPadding(_ n: Int) -> String { count >= n ? self : String(repeating: " ", count: n - count) + self }
    func replacingAll(_ a: String, _ b: String) -> String { split(separator: a, omittingEmptySubsequences: false).joined(separator: b) }
}
