/// The host's free-memory state, as ESXi's memory scheduler names them.
///
/// ESXi 6.x compares free machine memory with `minFree` (a sliding scale of host RAM) and
/// enables more reclamation techniques the lower free memory falls: high (nothing), clear
/// (break large pages, share), soft (share, balloon), hard (share, compress, swap), low
/// (compress, swap, and block VMs that allocate).
public enum HostMemoryState: String, CaseIterable, Codable, Sendable, Comparable {
    case high, clear, soft, hard, low

    /// Position from `high` (0) to `low` (4).
    public var level: Int {
        switch self {
        case .high: 0
        case .clear: 1
        case .soft: 2
        case .hard: 3
        case .low: 4
        }
    }

    public static func < (a: HostMemoryState, b: HostMemoryState) -> Bool { a.level < b.level }

    public init(level: Int) { self = HostMemoryState.allCases[max(0, min(4, level))] }
}

/// A host reclamation technique the memory scheduler can enable in a state.
public enum ReclaimTechnique: String, CaseIterable, Codable, Sendable {
    /// Break 2 MiB large pages into 4 KiB pages so they can be shared or reclaimed.
    case break_large_pages
    /// Transparent page sharing scans (TPS / KSM).
    case share
    /// Balloon drivers inflate toward the policy's targets.
    case balloon
    /// Pages chosen for host swap are compressed first (compression cache).
    case compress
    /// Host swap of guest pages (random victims, as ESX).
    case swap
    /// VMs that allocate new machine memory are stalled until reclamation frees some.
    case block
}
