import PageContents

/// A guest process id.
public typealias PID = Int32

/// A guest process: its address space (regions and page-table directory) and OOM settings.
public final class GuestProcess {
    public let pid: PID
    public var name: String
    /// The anon_vma family: processes related by fork share anonymous pages' reverse map.
    public let family: RmapOwner
    /// Regions sorted by start, non-overlapping.
    public var regions: [Region] = []
    /// Page-table directory: for each 2 MiB slot of the address space, a leaf index or -1.
    public var directory: [Int32] = []
    public var oomScoreAdj: Int = 0
    /// Resident pages mapped (RSS: anon + file), swap entries and locked pages, kept exactly.
    public var rssAnon = 0
    public var rssFile = 0
    public var swapEntries = 0
    public var pageTablePages = 0
    /// Pages charged to Committed_AS for this process.
    public var committed = 0
    /// Next free virtual page for mmap (grows upward, as a simple bottom-up allocator).
    public var mmapCursor: VPN
    /// Where the mmap area starts (the heap ends below it).
    public static let mmapBase: VPN = 0x10_0000
    /// The heap region's start; the heap is the region with `isHeap`.
    public let heapStart: VPN
    /// Styles of pages this process writes, 256 precomputed picks (the compressibility mix).
    public var writeStyles: [ContentStyle]
    /// Where execve placed the stack, heap, mmap base and shared libraries, as a seed: 0 for
    /// the fixed layout of `kernel.randomize_va_space = 0`, a per-exec random value otherwise;
    /// fork copies it. Pages holding pointers have the same bytes in two processes only if
    /// their layouts are equal.
    public internal(set) var layoutSeed: UInt64 = 0
    /// The guest NUMA node the process runs on (0 in a one-node guest): its allocations
    /// prefer it (`GuestKernel+NUMA.swift`).
    public internal(set) var node = 0
    /// The host node backing that guest node, plus one (0: the host has one node): an access
    /// to a frame whose host node differs pays the remote-access cost.
    var hostNodeTag: UInt8 = 0
    /// Index of the last region found (one-entry cache for region lookup).
    var lastRegion = 0

    init(pid: PID, name: String, family: RmapOwner, writeStyles: [ContentStyle]) {
        self.pid = pid
        self.name = name
        self.family = family
        self.writeStyles = writeStyles
        // Layout (virtual page numbers): heap from 16 MiB, mmap area from 4 GiB upward. Kept
        // compact so the page-table directory (one entry per 2 MiB) stays small.
        self.heapStart = 0x1000
        self.mmapCursor = GuestProcess.mmapBase
    }

    /// The index of the region containing `vpn`, if any (binary search with a cache).
    @inline(__always)
    func regionIndex(_ vpn: VPN) -> Int? {
        if lastRegion < regions.count, regions[lastRegion].contains(vpn) { return lastRegion }
        var lo = 0, hi = regions.count
        while lo < hi {
            let mid = (lo + hi) / 2
            if regions[mid].end <= vpn { lo = mid + 1 } else { hi = mid }
        }
        if lo < regions.count, regions[lo].contains(vpn) { lastRegion = lo; return lo }
        return nil
    }

    /// Inserts a region keeping the list sorted.
    func insert(_ r: Region) {
        var i = 0
        while i < regions.count && regions[i].start < r.start { i += 1 }
        regions.insert(r, at: i)
    }

    public var virtualPages: Int { regions.reduce(0) { $0 + $1.pages } }
    public var lockedPages: Int { regions.filter(\.locked).reduce(0) { $0 + $1.pages } }
}
