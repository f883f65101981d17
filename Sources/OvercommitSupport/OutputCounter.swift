/// Output counters declared once, after gem5's statistics: each counter has a name, a unit, a
/// description and the way it is read from a snapshot of the model, and every output (stats.txt,
/// the CSV time series, summary.json, the HTML report, sweep metrics) is derived from that one
/// declaration.
///
/// A scope (a guest, the host) declares its counters as the stored properties of a catalog
/// struct, grouped by nested `CounterGroup` structs (`vmstat`, `meminfo`, ...). The properties
/// are the typed handles other code uses (`GuestCounters.catalog.vmstat.pgfault`); the catalog
/// is enumerated in declaration order through `Mirror`, as swift-argument-parser discovers a
/// command's options, so adding a counter is adding one property.

/// The unit a counter is written in (the unit column of `stats.txt`). One convention for
/// every machine-readable file (docs/outputs.md): memory in KiB (`kB`, as /proc/meminfo
/// writes it), times in seconds, a per-access latency in nanoseconds, and the page counts
/// of Linux's own counters (KSM's sysfs) in pages.
public enum CounterUnit: String, Sendable, CaseIterable {
    /// Memory in KiB (1 kB = 1024 bytes), written `kB` as /proc/meminfo does.
    case kilobytes = "kB"
    case bytes
    /// 4 KiB pages: only for counters that Linux itself counts in pages (KSM's sysfs).
    case pages
    case count
    case seconds = "s"
    /// A latency per access (EAT).
    case nanoseconds = "ns"
    case ratio
    /// Events per simulated second.
    case perSecond = "1/s"
    case bool
    /// A position in an ordered set of named levels (the host's free-memory state).
    case level
}

/// Where a real system shows the same figure: the mapping table of docs/outputs.md.
public struct Equivalent: Sendable, Equatable {
    /// The real systems the table maps to, in its column order.
    public enum Source: String, Sendable, CaseIterable {
        case meminfo = "/proc/meminfo"
        case vmstat = "/proc/vmstat"
        case ksm = "KSM sysfs"
        case esxtop = "esxtop"
        case dommemstat = "virsh dommemstat"
        case zswapZram = "zswap debugfs, zram sysfs"
        /// Performance Monitor's "Hyper-V Dynamic Memory VM" counter set.
        case hyperv = "Hyper-V Dynamic Memory VM"
    }

    public var source: Source
    /// The name there, possibly with a short note (`MCTLSZ`, `≈ pageoutrun`).
    public var name: String

    public static func meminfo(_ n: String) -> Equivalent { Equivalent(source: .meminfo, name: n) }
    public static func vmstat(_ n: String) -> Equivalent { Equivalent(source: .vmstat, name: n) }
    public static func ksm(_ n: String) -> Equivalent { Equivalent(source: .ksm, name: n) }
    public static func esxtop(_ n: String) -> Equivalent { Equivalent(source: .esxtop, name: n) }
    public static func dommemstat(_ n: String) -> Equivalent { Equivalent(source: .dommemstat, name: n) }
    public static func zswapZram(_ n: String) -> Equivalent { Equivalent(source: .zswapZram, name: n) }
    public static func hyperv(_ n: String) -> Equivalent { Equivalent(source: .hyperv, name: n) }
}

/// How a counter's value is written.
public enum CounterFormat: Sendable, Equatable {
    /// A whole number.
    case integer
    /// A real number, with this many decimals in CSV files (JSON and stats.txt print six).
    case decimals(Int)
    /// A yes/no figure: 1/0 in CSV files and stats.txt, true/false in JSON.
    case flag
    /// A level written by name in CSV and JSON (`high`, `soft`, ...), by number in stats.txt.
    case label([String])
}

/// How a counter changes over time, which decides what a sampling interval shows.
public enum CounterKind: String, Sendable {
    /// A level at an instant (free memory, pages held): a sample shows its value then.
    case gauge
    /// A count of events since the start: a sample shows its increase over the interval.
    case events
    /// A formula over other figures (gem5's Formula), evaluated over the window it is given.
    case derived
}

/// The span a counter is read over: the state at its end and, for a sampling interval, the
/// state at its start. Without a start the window covers the whole run so far.
public struct CounterWindow<State: Sendable>: Sendable {
    public var now: State
    public var start: State?

    @inlinable
    public init(now: State, start: State? = nil) {
        self.now = now
        self.start = start
    }

    /// How much an event count grew over the window (its value when the window has no start).
    @inlinable
    public func increase(_ read: (State) -> Int) -> Int {
        guard let s = start else { return read(now) }
        return read(now) - read(s)
    }

    @inlinable
    public func increase(_ read: (State) -> Int64) -> Int64 {
        guard let s = start else { return read(now) }
        return read(now) - read(s)
    }
}

/// One output counter of a scope whose state is `State`.
public struct OutputCounter<State: Sendable>: Sendable {
    /// The name in every file: CSV column, JSON key, last component of the stats.txt name.
    public let name: String
    public let unit: CounterUnit
    public let format: CounterFormat
    public let kind: CounterKind
    /// One line: what the counter measures (stats.txt's `# description`).
    public let summary: String
    /// Whether the counter is a column of the scope's time series.
    public let sampled: Bool
    /// The same figure in real systems (/proc/meminfo, /proc/vmstat, KSM, esxtop, virsh).
    public let equivalents: [Equivalent]
    @usableFromInline let reader: @Sendable (CounterWindow<State>) -> Double

    public init(
        _ name: String, unit: CounterUnit, format: CounterFormat = .integer, kind: CounterKind, sampled: Bool = false,
        _ summary: String, also equivalents: [Equivalent] = [], read: @escaping @Sendable (CounterWindow<State>) -> Double
    ) {
        self.name = name
        self.unit = unit
        self.format = format
        self.kind = kind
        self.summary = summary
        self.sampled = sampled
        self.equivalents = equivalents
        self.reader = read
    }

    /// Whether the name is a real system's own (a /proc/meminfo field, a vmstat or KSM
    /// counter), kept as it is there rather than given a unit suffix.
    public var isMainlineName: Bool {
        equivalents.contains { $0.name == name && [.meminfo, .vmstat, .ksm].contains($0.source) }
    }

    /// The counter's value over `window`.
    @inlinable
    public func value(_ window: CounterWindow<State>) -> Double { reader(window) }

    /// The counter's value at `state` (event counts: their total so far).
    @inlinable
    public func value(at state: State) -> Double { reader(CounterWindow(now: state)) }

    /// A value as a CSV field: whole numbers without a decimal point, reals with the
    /// counter's decimals, flags as 1/0, levels by name.
    public func csvText(_ v: Double) -> String {
        switch format {
        case .integer: return v.isFinite ? "\(Int64(v))" : formatFixed(v, 0)
        case .decimals(let d): return formatFixed(v, d)
        case .flag: return v != 0 ? "1" : "0"
        case .label(let names): return names.indices.contains(Int(v)) ? names[Int(v)] : "\(Int64(v))"
        }
    }
}

extension OutputCounter {
    /// Memory held at an instant, read in 4 KiB pages and written in kB.
    @inlinable
    public static func memory(
        _ name: String, sampled: Bool = false, _ summary: String, also: [Equivalent] = [],
        _ pages: @escaping @Sendable (State) -> Int
    ) -> OutputCounter {
        OutputCounter(name, unit: .kilobytes, kind: .gauge, sampled: sampled, summary, also: also) { Double(pages($0.now) * 4) }
    }

    /// Memory held at an instant, read in kB.
    @inlinable
    public static func kilobytes(
        _ name: String, sampled: Bool = false, _ summary: String, also: [Equivalent] = [],
        _ kilobytes: @escaping @Sendable (State) -> Int
    ) -> OutputCounter {
        OutputCounter(name, unit: .kilobytes, kind: .gauge, sampled: sampled, summary, also: also) { Double(kilobytes($0.now)) }
    }

    /// A whole-number level at an instant.
    @inlinable
    public static func gauge(
        _ name: String, _ unit: CounterUnit, sampled: Bool = false, _ summary: String, also: [Equivalent] = [],
        _ read: @escaping @Sendable (State) -> Int
    ) -> OutputCounter {
        OutputCounter(name, unit: unit, kind: .gauge, sampled: sampled, summary, also: also) { Double(read($0.now)) }
    }

    /// A count of events since the start of the run; a sampling interval shows its increase.
    @inlinable
    public static func events(
        _ name: String, unit: CounterUnit = .count, sampled: Bool = false, _ summary: String,
        also: [Equivalent] = [], _ read: @escaping @Sendable (State) -> Int
    ) -> OutputCounter {
        OutputCounter(name, unit: unit, kind: .events, sampled: sampled, summary, also: also) { Double($0.increase(read)) }
    }

    /// Time accumulated since the start of the run, read in nanoseconds and written in
    /// seconds (`decimals` in CSV files); a sampling interval shows its increase.
    @inlinable
    public static func time(
        _ name: String, decimals: Int = 6, sampled: Bool = false, _ summary: String, also: [Equivalent] = [],
        nanoseconds read: @escaping @Sendable (State) -> Int64
    ) -> OutputCounter {
        OutputCounter(name, unit: .seconds, format: .decimals(decimals), kind: .events, sampled: sampled, summary, also: also) { w in
            Double(w.increase(read)) / 1e9
        }
    }

    /// A yes/no figure at an instant.
    @inlinable
    public static func flag(
        _ name: String, sampled: Bool = false, _ summary: String, also: [Equivalent] = [],
        _ read: @escaping @Sendable (State) -> Bool
    ) -> OutputCounter {
        OutputCounter(name, unit: .bool, format: .flag, kind: .gauge, sampled: sampled, summary, also: also) { read($0.now) ? 1 : 0 }
    }

    /// A formula over the window (gem5's Formula): a ratio or a rate, written with `decimals`
    /// in CSV files.
    @inlinable
    public static func derived(
        _ name: String, _ unit: CounterUnit, decimals: Int, sampled: Bool = false, _ summary: String,
        also: [Equivalent] = [], _ formula: @escaping @Sendable (CounterWindow<State>) -> Double
    ) -> OutputCounter {
        OutputCounter(name, unit: unit, format: .decimals(decimals), kind: .derived, sampled: sampled, summary, also: also, read: formula)
    }

    /// A whole-number formula over the window (a sum of other figures).
    @inlinable
    public static func derived(
        _ name: String, _ unit: CounterUnit, sampled: Bool = false, _ summary: String, also: [Equivalent] = [],
        _ formula: @escaping @Sendable (CounterWindow<State>) -> Int
    ) -> OutputCounter {
        OutputCounter(name, unit: unit, kind: .derived, sampled: sampled, summary, also: also) { Double(formula($0)) }
    }
}

/// A named group of counters inside a catalog (`vmstat`, `meminfo`, ...): a nested object in
/// JSON and a dotted prefix in stats.txt. The group's stored properties are its counters.
public protocol CounterGroup: Sendable {
    /// The group's key: JSON object key and stats.txt name component.
    static var key: String { get }
}

/// A counter together with the groups it sits in.
public struct CounterEntry<State: Sendable>: Sendable {
    /// Keys of the enclosing groups, outermost first (empty at the top level).
    public let groups: [String]
    public let counter: OutputCounter<State>

    /// `vmstat.pgfault`: the groups and the name, dot-separated.
    public var path: String { (groups + [counter.name]).joined(separator: ".") }
}

/// The counters of one scope in declaration order, with their groups, and lookups by handle.
public struct CounterCatalog<State: Sendable>: Sendable {
    /// Every counter, depth first in declaration order.
    public let entries: [CounterEntry<State>]
    /// The counters of the time series, in `entries` order.
    public let sampled: [CounterEntry<State>]
    /// Their readers, in the same order: what a sample evaluates (no entry copies per sample).
    @usableFromInline let sampledReaders: [@Sendable (CounterWindow<State>) -> Double]
    let entryIndex: [String: Int]
    let sampledIndex: [String: Int]

    /// Enumerates the stored properties of `root`: counters become entries, nested groups are
    /// walked with their key. Counter names must be unique in a scope (they are CSV columns).
    public init(root: some Sendable) {
        var out: [CounterEntry<State>] = []
        func walk(_ value: Any, _ groups: [String]) {
            for child in Mirror(reflecting: value).children {
                if let c = child.value as? OutputCounter<State> {
                    out.append(CounterEntry(groups: groups, counter: c))
                } else if let g = child.value as? any CounterGroup {
                    walk(g, groups + [type(of: g).key])
                }
            }
        }
        walk(root, [])
        entries = out
        sampled = out.filter(\.counter.sampled)
        sampledReaders = sampled.map(\.counter.reader)
        var index: [String: Int] = [:]
        for (i, e) in out.enumerated() {
            precondition(index[e.counter.name] == nil, "counter name '\(e.counter.name)' is declared twice in one scope")
            index[e.counter.name] = i
        }
        entryIndex = index
        var si: [String: Int] = [:]
        for (i, e) in sampled.enumerated() { si[e.counter.name] = i }
        sampledIndex = si
    }

    /// The entry of a counter handle.
    public func entry(_ c: OutputCounter<State>) -> CounterEntry<State> {
        guard let i = entryIndex[c.name] else { preconditionFailure("counter '\(c.name)' is not in this catalog") }
        return entries[i]
    }

    /// The position of a sampled counter in a time-series row, nil when it is not sampled.
    public func sampledPosition(_ c: OutputCounter<State>) -> Int? { sampledIndex[c.name] }

    /// The sampled counters' values over `window`, in `sampled` order.
    @inlinable
    public func sample(_ window: CounterWindow<State>) -> [Double] {
        var out: [Double] = []
        out.reserveCapacity(sampledReaders.count)
        for read in sampledReaders { out.append(read(window)) }
        return out
    }
}
