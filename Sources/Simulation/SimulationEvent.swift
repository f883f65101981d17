import GuestKernel
import Hypervisor
import OvercommitSupport

/// The kinds of `events.jsonl` lines.
public enum EventKind: String, Sendable, CaseIterable {
    case oomKill = "oom_kill"
    case allocationRefused = "allocation_refused"
    case segfault
    case guestPanic = "guest_panic"
    case thrashingStart = "thrashing_start"
    case thrashingEnd = "thrashing_end"
    case processExit = "process_exit"
    case balloonDeflateOnOOM = "balloon_deflate_on_oom"
    case powerOn = "power_on"
    case admissionRefused = "admission_refused"
    case hostOutOfMemory = "host_out_of_memory"
    case hostState = "host_state"
}

/// A value of an event's field, written as a JSON number, string or boolean.
public enum EventValue: Sendable, Equatable, CustomStringConvertible {
    case int(Int)
    /// A real number and the decimals it is written with.
    case real(Double, decimals: Int)
    case text(String)
    case flag(Bool)

    public var description: String {
        switch self {
        case .int(let i): "\(i)"
        case .real(let d, let decimals): formatFixed(d, decimals)
        case .text(let s): s
        case .flag(let b): b ? "true" : "false"
        }
    }

    /// Memory given in 4 KiB pages, as kB.
    static func kilobytes(pages: Int) -> EventValue { .int(pages * 4) }
}

/// One line of `events.jsonl`: when, where, what, and the details as ordered key/values.
/// Memory is in kB (`_kb` fields), as in every other output.
public struct SimulationEvent: Sendable, Equatable {
    public var timeNs: Int64
    /// The guest it happened in, or nil for the host.
    public var guest: String?
    public var kind: String
    public var fields: [(String, EventValue)]

    public static func == (a: SimulationEvent, b: SimulationEvent) -> Bool {
        a.timeNs == b.timeNs && a.guest == b.guest && a.kind == b.kind && a.fields.elementsEqual(b.fields) { $0.0 == $1.0 && $0.1 == $1.1 }
    }

    /// The value of a field, nil when the event has none of that name.
    public func field(_ key: String) -> EventValue? { fields.first { $0.0 == key }?.1 }

    /// Whether the event is of `kind`.
    public func `is`(_ kind: EventKind) -> Bool { self.kind == kind.rawValue }

    init(time: Int64, guest: String?, kernel e: KernelEvent) {
        timeNs = time
        self.guest = guest
        let k: EventKind
        switch e {
        case .oomKill(let pid, let name, let badness, let score, let rss, let swap, let freed, let trigger):
            k = .oomKill
            fields = [
                ("pid", .int(Int(pid))), ("process", .text(name)), ("badness", .int(badness)), ("oom_score", .int(score)),
                ("rss_kb", .kilobytes(pages: rss)), ("swap_kb", .kilobytes(pages: swap)), ("freed_kb", .kilobytes(pages: freed)),
                ("trigger", .text(trigger)),
            ]
        case .allocationRefused(let pid, let name, let pages, let committed, let limit, let mode):
            k = .allocationRefused
            fields = [
                ("pid", .int(Int(pid))), ("process", .text(name)), ("size_kb", .kilobytes(pages: pages)),
                ("committed_as_kb", .kilobytes(pages: committed)), ("commit_limit_kb", .kilobytes(pages: limit)),
                ("overcommit_memory", .int(mode)),
            ]
        case .segfault(let pid, let name, let vpn, let write):
            k = .segfault
            fields = [
                ("pid", .int(Int(pid))), ("process", .text(name)), ("address", .text("0x" + String(vpn << 12, radix: 16))),
                ("write", .flag(write)),
            ]
        case .panic(let reason):
            k = .guestPanic
            fields = [("reason", .text(reason))]
        case .thrashing(let on, let rate):
            k = on ? .thrashingStart : .thrashingEnd
            fields = [("refaults_per_second", .real(rate, decimals: 1))]
        case .exited(let pid, let name):
            k = .processExit
            fields = [("pid", .int(Int(pid))), ("process", .text(name))]
        case .balloonDeflateOnOOM(let pages):
            k = .balloonDeflateOnOOM
            fields = [("deflated_kb", .kilobytes(pages: pages))]
        }
        kind = k.rawValue
    }

    init(time: Int64, host e: HostEvent) {
        timeNs = time
        let k: EventKind
        switch e {
        case .poweredOn(let vm, let overhead):
            guest = vm; k = .powerOn; fields = [("overhead_kb", .kilobytes(pages: overhead))]
        case .admissionRefused(let vm, let need, let avail):
            guest = vm; k = .admissionRefused; fields = [("needed_kb", .kilobytes(pages: need)), ("available_kb", .kilobytes(pages: avail))]
        case .hostOutOfMemory(let vm, let pfn):
            guest = nil; k = .hostOutOfMemory; fields = [("vm", .text(vm)), ("guest_pfn", .int(Int(pfn)))]
        case .stateChanged(let from, let to, let free):
            guest = nil; k = .hostState
            fields = [("from", .text(from.rawValue)), ("to", .text(to.rawValue)), ("free_kb", .kilobytes(pages: free))]
        }
        kind = k.rawValue
    }
}
