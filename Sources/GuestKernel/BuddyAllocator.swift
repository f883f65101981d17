import OvercommitSupport

/// Linux's binary buddy allocator (mm/page_alloc.c) over the frames of a `FrameTable`.
///
/// Free memory is kept as blocks of 2^order frames, order 0...`maxOrder` (Linux's
/// MAX_ORDER = 11 free lists, order 10 = 4 MiB blocks), each aligned to its size in PFN
/// space. `allocate` takes a block from the smallest non-empty list at or above the wanted
/// order and splits it, putting the upper halves back (`__rmqueue_smallest` and `expand`);
/// `free` merges a block with its buddy `pfn ^ (1 << order)` for as long as the buddy is a
/// free block of the same order (`__free_one_page`).
///
/// State lives in the frame table, as in `struct page`: a free block's head frame has use
/// `.free` and its order in `rmapIndex` (Linux keeps it in `page->private`); its other
/// (tail) frames have use `.free` and order `tailMarker`. The host's EPT bits in the flags
/// word are never touched. The free lists are `FrameList`s threaded through the table's
/// `next`/`prev` arrays (`page->buddy_list`), which the LRU lists use while frames are in
/// use. Frames outside the managed range (the kernel's reserved memory) are never read or
/// written. Allocation and free do O(order) work besides marking the block's own frames;
/// no memory is allocated per call.
///
/// Not modelled: per-CPU page lists, migrate types, zones and watermarks (callers check
/// `freePages` against their own watermarks).
public struct BuddyAllocator {
    /// The highest order: blocks of 2^10 frames (4 MiB), Linux's MAX_ORDER - 1 (MAX_PAGE_ORDER).
    public static let maxOrder = 10
    /// The order recorded on a free block's tail frames.
    static let tailMarker: UInt32 = FrameTable.tailMarker

    /// The frames this allocator threads its lists through.
    public let frames: FrameTable
    /// The frames it manages; frames outside are never touched.
    public let managed: Range<Int>
    /// One free list per order (Linux's `zone->free_area[order]`).
    var freeLists: [FrameList]
    /// Free frames in all free blocks (`NR_FREE_PAGES`).
    public private(set) var freePages: Int = 0
    /// The lowest order free page reporting reports (`page_reporting_order`); above
    /// `maxOrder` when reporting is off (no free notifies it).
    public var reportingOrder = BuddyAllocator.maxOrder + 1
    /// A block of `reportingOrder` or more was freed since the last reporting pass began
    /// (Linux's PAGE_REPORTING_REQUESTED, set by `page_reporting_notify_free`).
    public var reportingRequested = false
    /// Frames in free blocks marked reported (PG_reported on their heads).
    public private(set) var reportedPages = 0
    /// Maximal blocks never allocated since boot: `untouchedNext..<untouchedEnd`, in steps of
    /// 2^maxOrder. Logically they are the tail of the `maxOrder` free list, in address order
    /// (where boot put them); they are kept out of the list so that their frames are never
    /// written and the simulator's memory grows with the memory the guest touches, not with
    /// the memory it is configured with (a zeroed frame reads as a free tail frame, see
    /// `FrameTable`).
    private(set) var untouchedNext = 0
    private(set) var untouchedEnd = 0

    /// Puts every frame of `range` on the free lists as maximal aligned blocks.
    ///
    /// Like `memblock_free_all` -> `__free_pages_core`, blocks are added at the tail of
    /// their list (FPI_TO_TAIL, Linux 5.10+), so early allocations come from low addresses.
    /// Every frame of the range is overwritten (flags, links); others are left alone.
    ///
    /// With `online`, only the frames of that part of the range are freed: the rest are
    /// present but offline (memory hotplug) and left alone until `online(_:)` frees them.
    public init(frames: FrameTable, managed range: Range<Int>, online: Range<Int>? = nil) {
        precondition(
            range.lowerBound >= 0 && range.upperBound <= frames.count,
            "managed range \(range) is outside the frame table of \(frames.count) frames")
        precondition(range.upperBound < Int(nilFrame), "frame numbers must fit in a PFN")
        self.frames = frames
        self.managed = range
        freeLists = Array(repeating: FrameList(), count: BuddyAllocator.maxOrder + 1)
        self.online(online ?? range, pristine: true)
    }

    /// Puts every frame of `range` (inside the managed range, none of them free) on the free
    /// lists as maximal aligned blocks at the tails of their lists: boot's
    /// `memblock_free_all`, and memory hotplug's `online_pages` -> `generic_online_page` ->
    /// `__free_pages_core`, which frees a newly onlined range the same way (FPI_TO_TAIL).
    ///
    /// `pristine` (boot): the frames were never written, so the run of maximal blocks is left
    /// untouched (see `untouchedNext`). Hot-added frames were written while offline: they go
    /// on the lists, after the untouched blocks (which are put on the list first, keeping
    /// Linux's list order).
    public mutating func online(_ range: Range<Int>, pristine: Bool = false) {
        precondition(
            range.lowerBound >= managed.lowerBound && range.upperBound <= managed.upperBound,
            "range \(range) is outside the managed range \(managed)")
        var pfn = range.lowerBound
        while pfn < range.upperBound {
            var order = BuddyAllocator.maxOrder
            while order > 0 && (pfn & ((1 << order) - 1) != 0 || pfn + (1 << order) > range.upperBound) {
                order -= 1
            }
            if pristine && order == BuddyAllocator.maxOrder && freeLists[order].count == 0
                && (untouchedNext == untouchedEnd || untouchedEnd == pfn)
            {
                // The run of maximal blocks: left untouched (their frames already read free).
                if untouchedNext == untouchedEnd { untouchedNext = pfn }
                untouchedEnd = pfn + (1 << order)
                untouchedBlocksAtBoot(pfn)
            } else {
                if order == BuddyAllocator.maxOrder && untouchedNext < untouchedEnd { materializeUntouchedBlocks() }
                markFree(pfn, order: order)
                freeLists[order].pushTail(PFN(pfn), in: frames)
            }
            freePages += 1 << order
            pfn += 1 << order
        }
    }

    /// Checks (in debug builds) that a block left untouched at boot reads as free tail frames.
    private func untouchedBlocksAtBoot(_ pfn: Int) {
        assert(frames.flags[pfn] == 0 && frames.rmapIndex[pfn] == BuddyAllocator.tailMarker, "frame \(pfn) was written before boot")
    }

    /// Maximal blocks never allocated since boot.
    var untouchedBlocks: Int { (untouchedEnd - untouchedNext) >> BuddyAllocator.maxOrder }

    /// Free blocks of `order`, the untouched ones included (`free_area[order].nr_free`).
    @inline(__always)
    func blockCount(_ order: Int) -> Int {
        freeLists[order].count + (order == BuddyAllocator.maxOrder ? untouchedBlocks : 0)
    }

    /// The head of the `order` list: its first entry, else (at `maxOrder`) the first untouched
    /// block, which becomes an ordinary free head (its order written) as it leaves.
    private mutating func popHead(order: Int) -> PFN? {
        if let p = freeLists[order].popHead(in: frames) { return p }
        guard order == BuddyAllocator.maxOrder, untouchedNext < untouchedEnd else { return nil }
        let p = untouchedNext
        untouchedNext += 1 << order
        frames.rmapIndex[p] = UInt32(order)
        return PFN(p)
    }

    /// Puts the untouched blocks on the `maxOrder` list's tail, in address order, where they
    /// logically are (before a walk of the list, which page reporting makes).
    mutating func materializeUntouchedBlocks() {
        while untouchedNext < untouchedEnd {
            let p = untouchedNext
            untouchedNext += 1 << BuddyAllocator.maxOrder
            frames.rmapIndex[p] = UInt32(BuddyAllocator.maxOrder)
            freeLists[BuddyAllocator.maxOrder].pushTail(PFN(p), in: frames)
        }
    }

    /// Number of managed frames (Linux's `managed_pages`).
    public var managedPages: Int { managed.count }

    /// Allocates a block of 2^order frames and returns its first frame, or nil when no free
    /// block of that order or larger exists (or `order > maxOrder`, as Linux refuses).
    ///
    /// Every frame of the block gets use `.isolated` and no other flags; the caller puts it
    /// on a list or changes its use.
    public mutating func allocate(order: Int) -> PFN? {
        precondition(order >= 0, "negative order \(order)")
        guard order <= BuddyAllocator.maxOrder else { return nil }
        var current = order
        while current <= BuddyAllocator.maxOrder && blockCount(current) == 0 { current += 1 }
        guard current <= BuddyAllocator.maxOrder, let head = popHead(order: current) else { return nil }
        // del_page_from_free_list(): a reported block loses PG_reported; its split halves go
        // back unreported (the host discarded them, so a later pass reports them again).
        if frames.flags[Int(head)] & FrameFlag.reported != 0 { reportedPages -= 1 << current }
        // expand(): halve the block until it has the wanted order; upper halves go back.
        while current > order {
            current -= 1
            let upper = head + PFN(1 << current)
            setFree(Int(upper), order: UInt32(current))
            freeLists[current].pushHead(upper, in: frames)
        }
        let start = Int(head)
        for i in start..<(start + (1 << order)) {
            frames.resetFlags(PFN(i), FrameUse.isolated.rawValue)
            frames.rmapIndex[i] = 0
        }
        freePages -= 1 << order
        return head
    }

    /// Frees the block of 2^order frames starting at `pfn`, merging it with free buddies.
    ///
    /// The block's frames lose every flag (Linux's free_pages_prepare checks and clears
    /// `page->flags`); their other per-frame fields are the caller's business. The merged
    /// block goes to the head of its list (cache-hot, as `__free_one_page` by default).
    ///
    /// - Precondition: the block is aligned, inside the managed range and not free
    ///   (double frees are caught).
    public mutating func free(_ pfn: PFN, order: Int) {
        precondition(order >= 0 && order <= BuddyAllocator.maxOrder, "order \(order) out of 0...\(BuddyAllocator.maxOrder)")
        let start = Int(pfn), size = 1 << order
        precondition(start & (size - 1) == 0, "pfn \(pfn) is not aligned to order \(order)")
        precondition(
            start >= managed.lowerBound && start + size <= managed.upperBound,
            "block \(start)..<\(start + size) is outside the managed range \(managed)")
        for i in start..<(start + size) {
            precondition(frames.flags[i] & FrameFlag.useMask != FrameUse.free.rawValue, "double free of frame \(i)")
            setFree(i, order: BuddyAllocator.tailMarker)
        }
        var head = start, current = order
        while current < BuddyAllocator.maxOrder {
            let buddy = head ^ (1 << current)
            guard isFreeHead(buddy, order: current) else { break }
            freeLists[current].remove(PFN(buddy), in: frames)
            // The merged block is new to page reporting: the buddy loses PG_reported.
            if frames.flags[buddy] & FrameFlag.reported != 0 {
                reportedPages -= 1 << current
                frames.resetFlags(PFN(buddy), FrameUse.free.rawValue)
            }
            // The higher of the two heads becomes a tail of the merged block.
            frames.rmapIndex[max(head, buddy)] = BuddyAllocator.tailMarker
            head = min(head, buddy)
            current += 1
        }
        frames.rmapIndex[head] = UInt32(current)
        freeLists[current].pushHead(PFN(head), in: frames)
        freePages += size
        // page_reporting_notify_free(): a block of the reporting order or more is free.
        if current >= reportingOrder { reportingRequested = true }
    }

    // MARK: - Free page reporting

    /// Whether the free block headed by `pfn` is marked reported.
    public func isReported(_ pfn: PFN) -> Bool { frames.flags[Int(pfn)] & FrameFlag.reported != 0 }

    /// Walks the free list of `order` from its head and returns its unreported blocks, as
    /// `page_reporting_cycle` does (reported blocks sit at the tail and are skipped).
    public mutating func unreportedBlocks(order: Int) -> [PFN] {
        if order == BuddyAllocator.maxOrder { materializeUntouchedBlocks() }
        var out: [PFN] = []
        var p = freeLists[order].head
        while p != nilFrame {
            if frames.flags[Int(p)] & FrameFlag.reported == 0 { out.append(p) }
            p = frames.next[Int(p)]
        }
        return out
    }

    /// Marks the free block of `order` headed by `pfn` reported and moves it to the tail of
    /// its list, so allocations take unreported (still backed) blocks first
    /// (`page_reporting_drain` -> `__putback_isolated_page`, then `__SetPageReported`).
    public mutating func markReported(_ pfn: PFN, order: Int) {
        precondition(isFreeHead(Int(pfn), order: order), "pfn \(pfn) does not head a free block of order \(order)")
        precondition(!isReported(pfn), "block \(pfn) of order \(order) is already reported")
        freeLists[order].remove(pfn, in: frames)
        freeLists[order].pushTail(pfn, in: frames)
        frames.flags[Int(pfn)] |= FrameFlag.reported
        reportedPages += 1 << order
    }

    /// True iff `pfn` heads a free block of exactly `order` lying inside the managed range
    /// (Linux's `page_is_buddy`).
    @inline(__always)
    func isFreeHead(_ pfn: Int, order: Int) -> Bool {
        guard pfn >= managed.lowerBound && pfn + (1 << order) <= managed.upperBound else { return false }
        return frames.flags[pfn] & FrameFlag.useMask == FrameUse.free.rawValue
            && frames.rmapIndex[pfn] == UInt32(order)
    }

    /// Marks one frame free with the given order (`set_buddy_order()`); keeps its EPT bits.
    @inline(__always)
    private func setFree(_ i: Int, order: UInt32) {
        frames.resetFlags(PFN(i), FrameUse.free.rawValue)
        frames.rmapIndex[i] = order
    }

    /// Marks a block's frames free: the head with its order, the tails with `tailMarker`.
    private func markFree(_ start: Int, order: Int) {
        setFree(start, order: UInt32(order))
        for i in (start + 1)..<(start + (1 << order)) {
            setFree(i, order: BuddyAllocator.tailMarker)
            frames.next[i] = nilFrame
            frames.prev[i] = nilFrame
        }
    }

    // MARK: - Statistics

    /// Number of free blocks of `order` (`free_area[order].nr_free`).
    public func freeBlocks(order: Int) -> Int { blockCount(order) }

    /// Free blocks per order 0...10, as a zone's line of /proc/buddyinfo.
    public var buddyinfo: [Int] { (0...BuddyAllocator.maxOrder).map(blockCount) }

    /// The highest order with a free block, or nil when nothing is free.
    public var largestFreeOrder: Int? {
        (0...BuddyAllocator.maxOrder).last { blockCount($0) > 0 }
    }

    /// Linux's external fragmentation index for `order` (`__fragmentation_index` in
    /// mm/vmstat.c), in the kernel's integer thousandths.
    ///
    /// -1000 when a block of that order (or larger) is free: the allocation would succeed.
    /// 0 when nothing is free. Otherwise `1000 - (1000 + free_pages * 1000 / 2^order) /
    /// free_blocks_total` with integer division, i.e. 1000 x (1 - (1 + free_pages /
    /// requested) / blocks_total): towards 0 the failure is due to lack of memory, towards
    /// 1000 due to fragmentation. /sys/kernel/debug/extfrag/extfrag_index prints this
    /// value divided by 1000 with three decimals (`-1.000`, `0.953`); the compaction
    /// threshold `vm.extfrag_threshold` (default 500) compares against the same scale.
    public func fragmentationIndex(order: Int) -> Double {
        precondition(order >= 0 && order <= BuddyAllocator.maxOrder, "order \(order) out of 0...\(BuddyAllocator.maxOrder)")
        var blocksTotal = 0, freeTotal = 0, suitable = 0
        for o in 0...BuddyAllocator.maxOrder {
            let n = blockCount(o)
            blocksTotal += n
            freeTotal += n << o
            if o >= order { suitable += n << (o - order) }
        }
        if blocksTotal == 0 { return 0 }
        if suitable > 0 { return -1000 }
        let requested = 1 << order
        return Double(1000 - (1000 + freeTotal * 1000 / requested) / blocksTotal)
    }

    // MARK: - Checks

    /// Checks the allocator's structure; returns human-readable problems (empty if consistent).
    ///
    /// Every list entry is a free head of that list's order, aligned and inside the managed
    /// range, with free tail frames; lists are well linked and their counts right; blocks do
    /// not overlap; no two free buddies of the same order are left unmerged; every managed
    /// frame marked free is in some block; `freePages` equals the sum of the blocks. O(n).
    public func checkInvariants() -> [String] {
        var problems: [String] = []
        func fail(_ s: String) { if problems.count < 50 { problems.append(s) } }
        let lower = managed.lowerBound
        var covered = [Bool](repeating: false, count: managed.count)
        var sum = 0, reported = 0
        for order in 0...BuddyAllocator.maxOrder {
            let list = freeLists[order]
            let size = 1 << order
            var p = list.head, previous = nilFrame, seen = 0
            while p != nilFrame {
                seen += 1
                if seen > list.count { fail("order \(order): list is longer than its count \(list.count) (cycle?)"); break }
                let i = Int(p)
                if frames.prev[i] != previous { fail("order \(order): frame \(i) has prev \(frames.prev[i]), expected \(previous)") }
                if i < lower || i + size > managed.upperBound {
                    fail("order \(order): block \(i)..<\(i + size) is outside the managed range \(managed)")
                } else {
                    if i & (size - 1) != 0 { fail("order \(order): block at \(i) is not aligned") }
                    let f = frames.flags[i]
                    if f & FrameFlag.useMask != FrameUse.free.rawValue { fail("order \(order): head \(i) has use \(frames.use(p))") }
                    let bits = frames.rmapIndex[i]
                    if bits != UInt32(order) { fail("order \(order): head \(i) has order \(bits)") }
                    if f & FrameFlag.reported != 0 {
                        reported += size
                        if order < reportingOrder { fail("order \(order): block \(i) is reported below the reporting order \(reportingOrder)") }
                    }
                    if order < BuddyAllocator.maxOrder && isFreeHead(i ^ size, order: order) {
                        if i < i ^ size { fail("order \(order): free buddies \(i) and \(i ^ size) were not merged") }
                    }
                    for j in i..<(i + size) {
                        if covered[j - lower] { fail("frame \(j) is in two free blocks") }
                        covered[j - lower] = true
                        if j > i {
                            let t = frames.flags[j]
                            if t & (FrameFlag.useMask | FrameFlag.reported) != FrameUse.free.rawValue || frames.rmapIndex[j] != BuddyAllocator.tailMarker {
                                fail("order \(order): tail frame \(j) of block \(i) has flags 0x\(String(t, radix: 16)), order \(frames.rmapIndex[j])")
                            }
                        }
                    }
                    sum += size
                }
                previous = p
                p = frames.next[i]
            }
            if seen < list.count { fail("order \(order): list has \(seen) entries but counts \(list.count)") }
            if list.tail != previous && seen <= list.count { fail("order \(order): tail is \(list.tail), last entry \(previous)") }
        }
        // The untouched blocks: aligned, inside the range, every frame still zero (a free tail).
        if untouchedNext & ((1 << BuddyAllocator.maxOrder) - 1) != 0 || untouchedNext > untouchedEnd
            || (untouchedNext < untouchedEnd && (untouchedNext < lower || untouchedEnd > managed.upperBound))
        {
            fail("untouched blocks \(untouchedNext)..<\(untouchedEnd) are not maximal blocks of the managed range")
        } else {
            for j in untouchedNext..<untouchedEnd {
                if covered[j - lower] { fail("frame \(j) is in two free blocks") }
                covered[j - lower] = true
                if frames.flags[j] != 0 || frames.rmapIndex[j] != BuddyAllocator.tailMarker || frames.next[j] != nilFrame {
                    fail("untouched frame \(j) was written")
                }
            }
            sum += untouchedEnd - untouchedNext
        }
        if sum != freePages { fail("freePages is \(freePages) but free blocks hold \(sum) frames") }
        if reported != reportedPages { fail("reportedPages is \(reportedPages) but reported free blocks hold \(reported) frames") }
        for j in managed where !covered[j - lower] && frames.flags[j] & FrameFlag.useMask == FrameUse.free.rawValue {
            fail("frame \(j) is marked free but is in no free block")
        }
        return problems
    }
}
