import Testing
@testable import GuestKernel
import Hypervisor
import OvercommitSupport
@testable import Reports
import Scenarios
@testable import Simulation

/// The output counters are declared once and every file follows the declarations.
@Suite struct OutputCounterTests {
    static let run: SimulationResult = {
        let c = try! ScenarioLoader.load(text: smallScenarioYAML, file: "small.yaml")
        return try! Simulation(config: c).run()
    }()

    static func state(accesses: Int = 0, accessTimeNs: Int64 = 0, pgfault: Int = 0, swapIns: Int = 0) -> GuestState {
        var v = VMStat()
        v.accesses = accesses; v.accessTimeNs = accessTimeNs; v.pgfault = pgfault
        var h = VMHostSnapshot()
        h.stats.swapIns = swapIns
        return GuestState(
            configuredPages: 1024, vcpus: 1, poweredOn: true, panicked: false, liveProcesses: 1, thrashing: false,
            meminfo: Meminfo(), vmstat: v, host: h, peakConsumedPages: 0, memoryAccessNs: 100)
    }

    @Test func aWindowShowsIncreasesOfEventCountsAndFormulasOverThem() {
        let g = GuestCounters.handles
        let a = Self.state(accesses: 1_000, accessTimeNs: 200_000, pgfault: 10, swapIns: 3)
        let b = Self.state(accesses: 3_000, accessTimeNs: 1_000_000, pgfault: 25, swapIns: 3)
        // Over the whole run (no start): totals; over the interval a..b: increases.
        #expect(g.vmstat.pgfault.value(at: b) == 25)
        #expect(g.vmstat.pgfault.value(CounterWindow(now: b, start: a)) == 15)
        #expect(g.host.hostSwapIns.value(CounterWindow(now: b, start: a)) == 0)
        // EAT = time / accesses over the window; slowdown = EAT / memory_access.
        #expect(g.eat.value(at: b) == 1_000_000.0 / 3_000)
        #expect(g.eat.value(CounterWindow(now: b, start: a)) == 800_000.0 / 2_000)
        #expect(g.slowdown.value(CounterWindow(now: b, start: a)) == 4)
        // No access in the window: the plain access time, slowdown 1.
        #expect(g.slowdown.value(CounterWindow(now: b, start: b)) == 1)
        // Gauges read the end of the window.
        #expect(g.configured.value(CounterWindow(now: b, start: a)) == 4096)
    }

    @Test func theMeminfoGroupIsProcMeminfoFieldByField() {
        var m = Meminfo()
        var i = 1
        // Distinct values for every field, set through the rendering's own order.
        for (name, _) in m.fields {
            switch name {
            case "MemTotal": m.MemTotal = i;
            case "MemFree": m.MemFree = i;
            case "MemAvailable": m.MemAvailable = i
            case "Buffers": m.Buffers = i;
            case "Cached": m.Cached = i;
            case "SwapCached": m.SwapCached = i
            case "Active": m.Active = i;
            case "Inactive": m.Inactive = i;
            case "Active(anon)": m.ActiveAnon = i
            case "Inactive(anon)": m.InactiveAnon = i;
            case "Active(file)": m.ActiveFile = i;
            case "Inactive(file)": m.InactiveFile = i
            case "Unevictable": m.Unevictable = i;
            case "Mlocked": m.Mlocked = i;
            case "SwapTotal": m.SwapTotal = i
            case "SwapFree": m.SwapFree = i;
            case "Zswap": m.Zswap = i
            case "Zswapped": m.Zswapped = i
            case "Dirty": m.Dirty = i;
            case "AnonPages": m.AnonPages = i;
            case "Mapped": m.Mapped = i
            case "Shmem": m.Shmem = i;
            case "PageTables": m.PageTables = i;
            case "CommitLimit": m.CommitLimit = i
            case "Committed_AS": m.Committed_AS = i;
            case "AnonHugePages": m.AnonHugePages = i
            case "Balloon": m.Balloon = i;
            case "KernelReserved": m.KernelReserved = i
            default: Issue.record("meminfo field \(name) is not set by this test")
            }
            i += 1
        }
        var s = Self.state()
        s.meminfo = m
        let group = GuestCounters.catalog.entries.filter { $0.groups == [GuestCounters.MeminfoGroup.key] }
        let fields: [(String, Int)] = m.fields
        #expect(group.map(\.counter.name) == fields.map { $0.0 })
        for (e, f) in zip(group, fields) { #expect(e.counter.value(at: s) == Double(f.1), "\(f.0)") }
    }

    @Test func namesAreUniqueCSVSafeAndCarryTheirUnit() {
        func check<S>(_ c: CounterCatalog<S>) {
            let names = c.entries.map(\.counter.name)
            #expect(Set(names).count == names.count)
            for e in c.entries {
                let n = e.counter.name
                #expect(!n.isEmpty && !n.contains(",") && !n.contains("\"") && !n.contains(" ") && !n.contains("."), "\(n)")
                // The unit is in the name (memory _kb, time _s, latency _ns), except Linux's own names.
                let suffix: [CounterUnit: String] = [.kilobytes: "_kb", .seconds: "_s", .nanoseconds: "_ns"]
                // (The meminfo group is the guest's /proc/meminfo, line by line, under its own names.)
                if let x = suffix[e.counter.unit], !e.counter.isMainlineName, e.groups != [GuestCounters.MeminfoGroup.key] {
                    #expect(n.hasSuffix(x), "\(n) (\(e.counter.unit.rawValue))")
                }
                // Pages only where Linux counts pages (KSM's sysfs).
                if e.counter.unit == .pages { #expect(e.counter.equivalents.contains { $0.source == .ksm }, "\(n)") }
            }
        }
        check(GuestCounters.catalog)
        check(HostCounters.catalog)
        check(RunCounters.catalog)
    }

    @Test func everyCounterIsInStatsSummaryAndItsTimeSeries() throws {
        let r = Self.run
        let files = outputFiles(r)
        let stats = try RunOutput.parseStats(files["stats.txt"]!)
        let summary = try JSONParser.parse(files["summary.json"]!, file: "summary.json")
        let guestCSV = try CSVTable(text: files["timeseries.csv"]!, file: "timeseries.csv")
        let hostCSV = try CSVTable(text: files["host_timeseries.csv"]!, file: "host_timeseries.csv")
        func stat(_ name: String) -> StatLine? { stats.first { $0.name == name } }

        for e in RunCounters.catalog.entries {
            #expect(stat("sim." + e.path)?.unit == e.counter.unit.rawValue, "sim.\(e.path)")
            #expect(summary[e.counter.name] != nil, "\(e.path)")
        }
        for e in HostCounters.catalog.entries {
            let s = stat("host." + e.path)
            #expect(s?.unit == e.counter.unit.rawValue && s?.summary == e.counter.summary, "host.\(e.path)")
            #expect(RunOutput.value(e, in: summary[SummaryKey.host]) == e.counter.value(at: r.hostState), "host.\(e.path)")
        }
        #expect(hostCSV.header == [SummaryKey.time] + HostCounters.catalog.sampled.map(\.counter.name))
        let guest = r.guests[0]
        let guestJSON = summary[SummaryKey.guests]?.arrayValue?.first
        for e in GuestCounters.catalog.entries {
            let s = stat("guest.\(guest.name)." + e.path)
            #expect(s?.unit == e.counter.unit.rawValue && s?.summary == e.counter.summary, "guest.\(guest.name).\(e.path)")
            // JSON prints reals with six decimals.
            let v = e.counter.value(at: guest.state), j = RunOutput.value(e, in: guestJSON)
            #expect(v.isFinite ? abs((j ?? .nan) - v) <= 5e-7 : j == nil, "\(e.path): \(String(describing: j)) in summary.json, \(v) counted")
        }
        #expect(guestCSV.header == [SummaryKey.time, SummaryKey.guest] + GuestCounters.catalog.sampled.map(\.counter.name))
    }

    @Test func eventCountsOfTheTimeSeriesAddUpToTheRunTotals() throws {
        let r = Self.run
        let csv = try CSVTable(text: RunReport.timeseriesCSV(r), file: "timeseries.csv")
        let events = GuestCounters.catalog.sampled.filter { $0.counter.kind == .events }
        #expect(events.count >= 8)
        for g in r.guests {
            let rows = csv.rows.indices.filter { csv.rows[$0][1] == g.name }
            for e in events {
                let sum = try csv.numbers(e.counter.name, rows: rows).reduce(0, +)
                #expect(sum == e.counter.value(at: g.state), "\(g.name) \(e.counter.name): samples add up to \(sum)")
            }
        }
    }

    @Test func theRunRecordsTheVersionThatWroteIt() throws {
        let files = outputFiles(Self.run)
        #expect(files["stats.txt"]!.hasPrefix("# overcommit \(OvercommitVersion.string)\n---------- Begin Simulation Statistics"))
        let summary = try JSONParser.parse(files["summary.json"]!, file: "summary.json")
        #expect(summary[SummaryKey.version]?.stringValue == OvercommitVersion.string)
        // The golden comparison leaves it out, and the statistics are the same either way.
        let bare = RunReport.statsText(Self.run, version: nil)
        #expect(bare.hasPrefix("---------- Begin") && files["stats.txt"]!.hasSuffix(bare))
        #expect(try RunOutput.parseStats(files["stats.txt"]!) == RunOutput.parseStats(bare))
    }
}
