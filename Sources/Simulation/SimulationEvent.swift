import GuestKernel
import Hypervisor
import OvercommitSupport

/// One line of `events.jsonl`: when, where, what, and the details as ordered key/values.
public struct SimulationEvent: Sendable, Equatable {
    public var timeNs: Int64
    /// The guest it happened in, or nil for the host.
    public var guest: String?
    public var kind: String
    public var fields: [(String, String)]

    public static func == (a: SimulationEvent, b: SimulationEvent) -> Bool {
        a.timeNs == b.timeNs && a.guest == b.guest && a.kind == b.kind && a.fields.map { $0.0 + "=" + $0.1 } == b.fields.map { $0.0 + "=" + $0.1 }
    }

    init(time: Int64, guest: String?, kernel e: KernelEvent) {
        timeNs = time
        self.guest = guest
        switch e {
        case .oomKill(let pid, let name, let badness, let score, let rss, let swap, let freed, let trigger):
            kind = "oom_kill"
            fields = [("pid", "\(pid)"), ("process", name), ("badness", "\(badness)"), ("oom_score", "\(score)"),
                      ("rss_pages", "\(rss)"), ("swap_pages", "\(swap)"), ("freed_pages", "\(freed)"), ("trigger", trigger)]
        case .allocationRefused(let pid, let name, let pages, let committed, let limit, let mode):
            kind = "allocation_refused"
            fields = [("pid", "\(pid)"), ("process", name), ("pages", "\(pages)"), ("committed_as_pages", "\(committed)"),
                      ("commit_limit_pages", "\(limit)"), ("overcommit_memory", "\(mode)")]
        case .segfault(let pid, let name, let vpn, let write):
            kind = "segfault"
            fields = [("pid", "\(pid)"), ("process", name), ("address", "0x" + String(vpn << 12, radix: 16)), ("write", "\(write)")]
        case .panic(let reason):
            kind = "guest_panic"
            fields = [("reason", reason)]
        case .thrashing(let on, let rate):
            kind = on ? "thrashing_start" : "thrashing_end"
            fields = [("refaults_per_second", formatFixed(rate, 1))]
        case .exited(let pid, let name):
            kind = "process_exit"
            fields = [("pid", "\(pid)"), ("process", name)]
        case .balloonDeflateOnOOM(let pages):
            kind = "balloon_deflate_on_oom"
            fields = [("pages", "\(pages)")]
        }
    }

    init(time: Int64, host e: HostEvent) {
        timeNs = time
        switch e {
        case .poweredOn(let vm, let overhead):
            guest = vm; kind = "power_on"; fields = [("overhead_pages", "\(overhead)")]
        case .admissionRefused(let vm, let need, let avail):
            guest = vm; kind = "admission_refused"; fields = [("needed_pages", "\(need)"), ("available_pages", "\(avail)")]
        case .hostOutOfMemory(let vm, let pfn):
            guest = nil; kind = "host_out_of_memory"; fields = [("vm", vm), ("guest_pfn", "\(pfn)")]
        case .stateChanged(let from, let to, let free):
            guest = nil; kind = "host_state"; fields = [("from", from.rawValue), ("to", to.rawValue), ("free_pages", "\(free)")]
        }
    }

    /// Is this an event users count as a failure (kill, refusal, panic, host OOM)?
    public var isFailure: Bool { ["oom_kill", "allocation_refused", "guest_panic", "host_out_of_memory", "admission_refused"].contains(kind) }
}
