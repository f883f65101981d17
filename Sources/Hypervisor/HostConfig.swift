import OvercommitSupport

/// The physical host: its RAM and what the hypervisor keeps for itself.
///
/// Follows ESXi's host model: machine memory backs guest-physical memory lazily, on the
/// first touch of each guest page; each powered-on VM costs a fixed overhead.
public struct HostConfig: ParameterTable, Equatable {
    /// Host name shown in reports.
    public var name: String = "host"
    /// Machine memory (RAM) of the host.
    public var memory: ByteCount = .gib(64)
    /// Memory the hypervisor itself uses (vmkernel), not available to guests.
    public var hypervisor_reserved: ByteCount = .mib(512)
    /// Per-VM overhead memory (page tables, device state, frame buffer), reserved at power-on.
    public var vm_overhead: ByteCount = .mib(64)

    public init() {}

    public static let tableName = "host"
    public static let tableSummary = "The physical host: machine memory and hypervisor overhead (ESXi-like lazy backing)."
    public static let parameters: [ParameterInfo] = [
        .init("name", .string, default: "host", "host name shown in reports"),
        .init("memory", .bytes, default: "64GiB", "machine memory (RAM) of the host"),
        .init("hypervisor_reserved", .bytes, default: "512MiB", "memory the hypervisor keeps for itself"),
        .init("vm_overhead", .bytes, default: "64MiB", "per-VM overhead memory reserved at power-on"),
    ]

    public func validationProblems() -> [(key: String, message: String)] {
        var p: [(String, String)] = []
        if memory.bytes < 64 << 20 { p.append(("memory", "must be at least 64MiB; got \(memory)")) }
        if hypervisor_reserved >= memory { p.append(("hypervisor_reserved", "must be smaller than host memory (\(memory)); got \(hypervisor_reserved)")) }
        return p
    }
}
