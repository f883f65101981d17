import OvercommitSupport
import PageContents

/// What a guest-physical frame is used for. Values are stored in the low 4 bits of
/// `FrameTable.flags`; they follow the lists of Linux's `struct lruvec` plus the buddy.
public enum FrameUse: UInt16, CaseIterable, Sendable, CustomStringConvertible {
    /// In the buddy allocator's free lists.
    case free = 0
    case activeAnon = 1
    case inactiveAnon = 2
    case activeFile = 3
    case inactiveFile = 4
    /// mlocked (Linux's unevictable list).
    case unevictable = 5
    /// Pinned by the balloon driver.
    case balloon = 6
    /// Kernel memory: the zero page, kernel text/data, slab.
    case kernel = 7
    /// A page-table page (a 512-entry PTE leaf).
    case pageTable = 8
    /// Allocated and not yet on a list (being faulted in or isolated by reclaim).
    case isolated = 9
    /// A page of the zsmalloc pool holding zswap's or zram's compressed pages.
    case zpool = 10
    /// Present but offline: guest-physical memory above a Hyper-V VM's startup memory that
    /// memory hotplug has not onlined yet (Linux keeps such pages out of the buddy allocator
    /// and out of MemTotal until `online_pages`).
    case offline = 11

    public var description: String {
        switch self {
        case .free: "free";
        case .activeAnon: "active_anon";
        case .inactiveAnon: "inactive_anon"
        case .activeFile: "active_file";
        case .inactiveFile: "inactive_file";
        case .unevictable: "unevictable"
        case .balloon: "balloon";
        case .kernel: "kernel";
        case .pageTable: "page_table";
        case .isolated: "isolated";
        case .zpool: "zpool";
        case .offline: "offline"
        }
    }
    /// True for the four LRU lists.
    public var isLRU: Bool { (1...4).contains(rawValue) }
}
