/// The MOM data model: the fields, properties and controls of `Host` and of each guest in
/// `Guests`, declared once here; the evaluator, the checker, the sample-file reader, the
/// command line and `docs/policy-language.md` all read these tables.
///
/// The fields are those of MOM's collectors in the configuration oVirt hosts run
/// (`/etc/vdsm/mom.conf`: host collectors HostMemory, HostKSM, HostCpu; guest collectors
/// GuestMemoryOptional, GuestBalloonOptional, GuestCpuTune, GuestIoTuneOptional) plus
/// GuestQemuProc from MOM's own example configuration, with the units MOM and vdsm report
/// them in (`mom/Collectors/*.py`, `mom/HypervisorInterfaces/vdsmRpcBase.py`, vdsm
/// `lib/vdsm/virt/vmstats.py`). Memory is in KiB.

/// Which entity a field, property or control belongs to.
public enum MOMEntityKind: String, Sendable, CaseIterable {
    case host, guest

    /// The fields, in declaration order (a sample stores its values in this order).
    public var fields: [MOMFieldInfo] {
        switch self {
        case .host: return MOMHostField.allCases.map(\.info)
        case .guest: return MOMGuestField.allCases.map(\.info)
        }
    }
    public var fieldNames: [String] { fields.map(\.name) }

    /// The position of a field in this kind's samples.
    public func fieldIndex(_ name: String) -> Int? {
        switch self {
        case .host: return Self.hostIndex[name]
        case .guest: return Self.guestIndex[name]
        }
    }
    private static let hostIndex = Dictionary(uniqueKeysWithValues: MOMHostField.allCases.enumerated().map { ($1.rawValue, $0) })
    private static let guestIndex = Dictionary(uniqueKeysWithValues: MOMGuestField.allCases.enumerated().map { ($1.rawValue, $0) })

    /// What messages call an entity of this kind.
    public var displayName: String { self == .host ? "Host" : "a guest" }

    /// The properties `(X.Prop "name")` reads.
    public var properties: [MOMPropertyInfo] {
        switch self {
        case .host: return [MOMPropertyInfo(name: "interval", summary: "host-monitor-interval in seconds (MOM puts it in the host's properties for HostKSM)")]
        case .guest:
            return [
                MOMPropertyInfo(name: "name", summary: "the VM's name"),
                MOMPropertyInfo(name: "uuid", summary: "the VM's UUID"),
                MOMPropertyInfo(name: "pid", summary: "the process ID of the VM's QEMU process"),
            ]
        }
    }

    /// The controls `(X.Control "name" v)` may set.
    public var controls: [MOMControlInfo] {
        switch self {
        case .host: return MOMHostControl.allCases.map(\.info)
        case .guest: return MOMGuestControl.allCases.map(\.info)
        }
    }
}

/// One field of a sample.
public struct MOMFieldInfo: Sendable, Equatable {
    public var name: String
    /// MOM's unit: `KiB`, `pages`, `per second`, ...
    public var unit: String
    /// The MOM collector that provides it.
    public var collector: String
    /// What it measures, and where MOM reads it on a real host.
    public var summary: String
    /// Optional fields are nil when their source has no data (vdsm's `*Optional` collectors:
    /// a guest without balloon statistics or guest agent); a policy tests them with `valid`.
    public var optional: Bool
    /// Whether overcommit's simulation measures the field or reports a fixed value for it.
    public var source: MOMFieldSource = .simulated
}

/// Where the value of a field comes from in overcommit.
public enum MOMFieldSource: Sendable, Equatable {
    /// Measured from the simulated host and guests.
    case simulated
    /// overcommit has no model of it (CPU scheduling, disk I/O): it reports this value, the
    /// one vdsm reports for a VM without CPU or I/O limits.
    case fixed(PolicyValue)
}

/// One property of an entity.
public struct MOMPropertyInfo: Sendable, Equatable {
    public var name: String
    public var summary: String
}

/// One control output.
public struct MOMControlInfo: Sendable, Equatable {
    public var name: String
    public var unit: String
    /// The MOM controller that applies it.
    public var controller: String
    public var summary: String
}

/// The fields of `Host`.
public enum MOMHostField: String, Sendable, CaseIterable {
    case mem_available, mem_unused, mem_free, swap_in, swap_out, anon_pages, swap_total, swap_usage
    case ksm_run, ksm_sleep_millisecs, ksm_pages_shared, ksm_pages_sharing, ksm_pages_unshared
    case ksm_pages_to_scan, ksm_pages_volatile, ksm_full_scans, ksm_merge_across_nodes
    case ksm_shareable, ksmd_cpu_usage
    case cpu_count

    /// Position of the field's value in a sample.
    public var index: Int { Self.indexTable[self]! }
    private static let indexTable: [MOMHostField: Int] = Dictionary(uniqueKeysWithValues: allCases.enumerated().map { ($1, $0) })

    public var info: MOMFieldInfo {
        func f(_ unit: String, _ collector: String, _ summary: String) -> MOMFieldInfo {
            MOMFieldInfo(name: rawValue, unit: unit, collector: collector, summary: summary, optional: false)
        }
        switch self {
        case .mem_available: return f("KiB", "HostMemory", "total memory: MemTotal of /proc/meminfo")
        case .mem_unused: return f("KiB", "HostMemory", "memory used for nothing: MemFree")
        case .mem_free: return f("KiB", "HostMemory", "free memory including caches: MemFree + Buffers + Cached")
        case .swap_in: return f("pages", "HostMemory", "pages swapped in since the previous sample (pswpin of /proc/vmstat)")
        case .swap_out: return f("pages", "HostMemory", "pages swapped out since the previous sample (pswpout)")
        case .anon_pages: return f("KiB", "HostMemory", "anonymous memory: AnonPages")
        case .swap_total: return f("KiB", "HostMemory", "swap space: SwapTotal")
        case .swap_usage: return f("KiB", "HostMemory", "swap in use: SwapTotal - SwapFree")
        case .ksm_run: return f("0/1/2", "HostKSM", "KSM state (/sys/kernel/mm/ksm/run): 0 stopped, 1 running, 2 unmerging")
        case .ksm_sleep_millisecs: return f("ms", "HostKSM", "ksmd's sleep between scan batches (sleep_millisecs)")
        case .ksm_pages_shared: return f("pages", "HostKSM", "shared frames in KSM's stable tree (pages_shared)")
        case .ksm_pages_sharing: return f("pages", "HostKSM", "extra mappings of shared frames, the pages saved (pages_sharing)")
        case .ksm_pages_unshared: return f("pages", "HostKSM", "pages scanned but unique (pages_unshared)")
        case .ksm_pages_to_scan: return f("pages", "HostKSM", "pages ksmd scans per batch (pages_to_scan)")
        case .ksm_pages_volatile: return f("pages", "HostKSM", "pages changing too fast to be merged (pages_volatile)")
        case .ksm_full_scans: return f("count", "HostKSM", "full scans of the mergeable memory since KSM started (full_scans)")
        case .ksm_merge_across_nodes: return f("0/1", "HostKSM", "whether KSM merges pages of different NUMA nodes (merge_across_nodes)")
        case .ksm_shareable: return f("KiB", "HostKSM", "memory registered with KSM: the virtual size of the QEMU processes")
        case .ksmd_cpu_usage: return f("percent", "HostKSM", "CPU time of ksmd over the last monitor interval, percent of one CPU")
        case .cpu_count: return f("count", "HostCpu", "host processors (processor lines of /proc/cpuinfo)")
        }
    }
}

/// The fields of a guest.
public enum MOMGuestField: String, Sendable, CaseIterable {
    case mem_available, mem_unused, mem_free, major_fault, minor_fault, swap_in, swap_out, swap_total, swap_usage
    case balloon_cur, balloon_max, balloon_min
    case host_minor_faults, host_major_faults, rss
    case vcpu_quota, vcpu_period, vcpu_user_limit, vcpu_count
    case io_tune, io_tune_current

    /// Position of the field's value in a sample.
    public var index: Int { Self.indexTable[self]! }
    private static let indexTable: [MOMGuestField: Int] = Dictionary(uniqueKeysWithValues: allCases.enumerated().map { ($1, $0) })

    public var info: MOMFieldInfo {
        func f(_ unit: String, _ collector: String, _ summary: String, optional: Bool = true, fixed: PolicyValue? = nil) -> MOMFieldInfo {
            MOMFieldInfo(
                name: rawValue, unit: unit, collector: collector, summary: summary, optional: optional,
                source: fixed.map { .fixed($0) } ?? .simulated)
        }
        switch self {
        case .mem_available: return f("KiB", "GuestMemory", "the guest's total memory: MemTotal (virtio-balloon stat 'available')")
        case .mem_unused: return f("KiB", "GuestMemory", "memory the guest uses for nothing: MemFree (stat 'unused')")
        case .mem_free: return f("KiB", "GuestMemory", "free memory including caches: MemFree + buffers + page cache (stats 'unused' + 'disk_caches')")
        case .major_fault:
            return f("per second", "GuestMemory", "major page faults per second over the last stats interval (vdsm; libvirt reports a cumulative count)")
        case .minor_fault: return f("per second", "GuestMemory", "minor page faults per second over the last stats interval (vdsm)")
        case .swap_in: return f("KiB/s", "GuestMemory", "memory swapped in per second over the last stats interval (vdsm; libvirt: cumulative KiB)")
        case .swap_out: return f("KiB/s", "GuestMemory", "memory swapped out per second over the last stats interval (vdsm)")
        case .swap_total: return f("KiB", "GuestMemory", "the guest's swap space")
        case .swap_usage: return f("KiB", "GuestMemory", "the guest's swap in use")
        case .balloon_cur: return f("KiB", "GuestBalloon", "current memory: configured memory minus the balloon")
        case .balloon_max: return f("KiB", "GuestBalloon", "configured (maximum) memory")
        case .balloon_min: return f("KiB", "GuestBalloon", "guaranteed memory, the least the guest is ballooned to")
        case .host_minor_faults:
            return f("count", "GuestQemuProc", "minor faults of the VM's QEMU process on the host since the previous sample", optional: false)
        case .host_major_faults:
            return f("count", "GuestQemuProc", "major faults (host swap-ins) of the VM's QEMU process since the previous sample", optional: false)
        case .rss: return f("pages", "GuestQemuProc", "resident set of the VM's QEMU process: host frames backing it", optional: false)
        case .vcpu_quota: return f("us", "GuestCpuTune", "CFS quota of each vCPU (libvirt vcpu_quota; 0 none set)", optional: false, fixed: .int(0))
        case .vcpu_period: return f("us", "GuestCpuTune", "CFS period of the vCPUs (libvirt vcpu_period; 0 none set)", optional: false, fixed: .int(0))
        case .vcpu_user_limit: return f("percent", "GuestCpuTune", "the CPU limit the user set for the VM, 0-100", optional: false, fixed: .int(100))
        case .vcpu_count: return f("count", "GuestCpuTune", "the VM's vCPUs", optional: false, fixed: .int(1))
        case .io_tune: return f("objects", "GuestIoTuneOptional", "per-disk I/O limits (guaranteed, maximum, current)", fixed: PolicyValue.none)
        case .io_tune_current: return f("objects", "GuestIoTuneOptional", "per-disk current I/O limits", fixed: PolicyValue.none)
        }
    }
}

/// The controls of `Host`: KSM's tunables, written by MOM's KSM controller.
public enum MOMHostControl: String, Sendable, CaseIterable {
    case ksm_run, ksm_pages_to_scan, ksm_sleep_millisecs, ksm_merge_across_nodes

    public var info: MOMControlInfo {
        switch self {
        case .ksm_run:
            return MOMControlInfo(
                name: rawValue, unit: "0/1/2", controller: "KSM", summary: "0 stops ksmd, 1 runs it, 2 stops it and unmerges every shared page")
        case .ksm_pages_to_scan: return MOMControlInfo(name: rawValue, unit: "pages", controller: "KSM", summary: "pages ksmd scans per batch")
        case .ksm_sleep_millisecs: return MOMControlInfo(name: rawValue, unit: "ms", controller: "KSM", summary: "ksmd's sleep between batches")
        case .ksm_merge_across_nodes:
            return MOMControlInfo(
                name: rawValue, unit: "0/1", controller: "KSM",
                summary: "merge pages across NUMA nodes (the kernel accepts a change only while no page is shared)")
        }
    }
}

/// The controls of a guest.
public enum MOMGuestControl: String, Sendable, CaseIterable {
    case balloon_target, vcpu_quota, vcpu_period

    public var info: MOMControlInfo {
        switch self {
        case .balloon_target:
            return MOMControlInfo(
                name: rawValue, unit: "KiB", controller: "Balloon",
                summary: "the guest's memory after ballooning (libvirt setMemory): the balloon is balloon_max minus it")
        case .vcpu_quota:
            return MOMControlInfo(name: rawValue, unit: "us", controller: "CpuTune", summary: "CFS quota per vCPU (recorded; overcommit has no CPU model)")
        case .vcpu_period:
            return MOMControlInfo(name: rawValue, unit: "us", controller: "CpuTune", summary: "CFS period (recorded; overcommit has no CPU model)")
        }
    }
}

/// Variables the oVirt engine injects through vdsm (`setMOMPolicyParameters`, written into
/// the `01-parameters` policy as `(set name value)`), with vdsm's defaults from its
/// `00-defines.policy`. A policy may use other injected names too; these are the ones
/// oVirt sends.
public enum MOMEngineVariable: String, Sendable, CaseIterable {
    case balloonEnabled, ksmEnabled, ksmMergeAcrossNodes, cpuTuneEnabled, ioTuneEnabled

    /// vdsm's default (1 true, 0 false).
    public var vdsmDefault: Int {
        switch self {
        case .balloonEnabled: return 0
        case .ksmEnabled, .ksmMergeAcrossNodes, .cpuTuneEnabled, .ioTuneEnabled: return 1
        }
    }

    public var summary: String {
        switch self {
        case .balloonEnabled: return "the cluster's memory balloon optimization is on"
        case .ksmEnabled: return "the cluster's KSM is on"
        case .ksmMergeAcrossNodes: return "KSM may merge pages of different NUMA nodes"
        case .cpuTuneEnabled: return "MOM applies the VMs' CPU limits"
        case .ioTuneEnabled: return "MOM applies the VMs' disk I/O limits"
        }
    }
}

/// The data model as Markdown tables: what `overcommit policy fields` prints and what
/// docs/policy-language.md holds between its data-model markers (a test keeps them equal).
public enum MOMDataModelReference {
    public static func markdown() -> String {
        var out: [String] = []
        func row(_ cells: [String]) { out.append("| " + cells.joined(separator: " | ") + " |") }
        func table(_ title: String, _ header: [String], _ rows: [[String]]) {
            out.append("**\(title)**")
            out.append("")
            row(header)
            row(header.map { _ in "---" })
            for r in rows { row(r) }
            out.append("")
        }
        func fieldRows(_ kind: MOMEntityKind) -> [[String]] {
            kind.fields.map { f in
                var note = f.summary
                if case .fixed(let v) = f.source {
                    let shown = v == .none ? "nil" : v.pythonRepr()
                    note += "; overcommit reports \(shown) (not modelled)"
                }
                return ["`\(f.name)`", f.unit, f.collector + (f.optional ? " (optional)" : ""), note]
            }
        }
        table("Host fields", ["field", "unit", "collector", "meaning"], fieldRows(.host))
        table("Guest fields", ["field", "unit", "collector", "meaning"], fieldRows(.guest))
        table(
            "Properties (`(X.Prop \"name\")`)", ["entity", "property", "meaning"],
            MOMEntityKind.allCases.flatMap { k in k.properties.map { [k == .host ? "Host" : "guest", "`\($0.name)`", $0.summary] } })
        table(
            "Controls (`(X.Control \"name\" value)`)", ["entity", "control", "unit", "controller", "effect"],
            MOMEntityKind.allCases.flatMap { k in k.controls.map { [k == .host ? "Host" : "guest", "`\($0.name)`", $0.unit, $0.controller, $0.summary] } })
        table(
            "Variables the oVirt engine injects", ["variable", "vdsm default", "meaning"],
            MOMEngineVariable.allCases.map { ["`\($0.rawValue)`", "\($0.vdsmDefault)", $0.summary] })
        table(
            "Methods of Host and of each guest", ["method", "arguments", "meaning"],
            MOMEntityMethod.allCases.map { m in
                let args = m.arity.count == 1 ? "\(m.arity.lowerBound)" : "\(m.arity.lowerBound)-\(m.arity.upperBound)"
                return ["`\(m.rawValue)`", args, m.summary]
            })
        while out.last == "" { out.removeLast() }
        return out.joined(separator: "\n") + "\n"
    }
}

extension MOMEntityMethod {
    /// One line on what the method does (MOM's `Entity`).
    public var summary: String {
        switch self {
        case .Prop: return "a property: name, uuid, pid of a guest; interval of Host"
        case .Stat: return "a field's value in the latest sample (a second argument is MOM's unused default)"
        case .StatAvg: return "the mean of a field's non-nil values over the sample history, a float (0.0 if none)"
        case .SetVar: return "stores a value in the entity for the rest of this evaluation"
        case .GetVar: return "a value SetVar stored in this evaluation, else nil"
        case .Control: return "sets a control output; returns nil"
        case .GetControl: return "the value a Control set in this evaluation, else nil"
        }
    }
}
