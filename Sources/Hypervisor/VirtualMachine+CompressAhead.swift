import GuestKernel
import PageContents

/// Compressed sizes worked out ahead of host paging: the victims `pageOut` is about to take,
/// compressed in chunks on the simulation's worker threads before the page-out loop runs.
///
/// Host paging is host-wide work at synchronisation points, and the codec is most of it
/// (LZ4 was 36 % of the samples of a 40 GiB host paging from the start, every one of them on
/// the coordinator's thread while the other cores waited). A victim's compressed size depends
/// only on its bytes, so `pageOut` first draws the victims it is going to take, with the same
/// filters but none of their side effects, puts them back (`HostVictimSet.undo`: the same
/// members, the random stream rewound), runs the codec on the contents the host's memo does
/// not know, and then pages out exactly as it did, each victim taking its size from the plan
/// instead of compressing again. Every result is the same with the plan or without it, for
/// any number of threads: the plan is a prediction, and a victim it did not foresee is
/// compressed in place, as before. ESX and zswap compress one page at a time; this changes
/// when the simulator computes a size, not what the host does or what it is charged.
struct CompressAhead {
    /// The planned victims' contents in draw order, and what the codec gave for each:
    /// a size, `rejected` (not below the limit) or `unknown` (the memo knows it: not run).
    private var contents: [PageContent] = []
    private var sizes: [Int32] = []
    private var next = 0
    /// Sizes `take` gave from the plan.
    private(set) var taken = 0
    /// The page-out loop's draw count up to which the plan covers it; a new plan is made
    /// past it.
    var covers = 0

    static let rejected: Int32 = -1, unknown: Int32 = -2
    /// Pages per job: a few tens of microseconds of LZ4, so that a 32-page allocation stall
    /// still splits over two threads.
    static let pagesPerJob = 8
    /// Victims planned at first, and at most at once (a host-wide pass can page out
    /// thousands); each plan of a call is twice the last.
    static let firstPlan = 64, maximumPlan = 1024
    /// Fewer victims than this are compressed in place: handing them to threads costs more.
    static let minimumPlan = 2 * pagesPerJob

    /// What the codec gave for `content` if it is the next planned victim (or one of the
    /// next few: the loop may have dropped a planned one): `.some(size)`, `.some(nil)` for
    /// not below the limit; nil when the plan has nothing for it.
    mutating func take(_ content: PageContent) -> Int?? {
        let end = min(contents.count, next + 4)
        var j = next
        while j < end {
            if contents[j] == content {
                next = j + 1
                guard sizes[j] != CompressAhead.unknown else { return nil }
                taken += 1
                return .some(sizes[j] == CompressAhead.rejected ? nil : Int(sizes[j]))
            }
            j += 1
        }
        return nil
    }

    /// Runs the codec on `planned` (below `limit` bytes) on `runJobs`, except on the
    /// contents `memo` knows, and keeps the plan for `take`.
    mutating func compute(
        _ planned: [PageContent], limit: Int, codec: any PageCodec, generator: PageGenerator,
        memo: CompressedSizeMemo, runJobs: ((Int, @escaping (Int) -> Void) -> Void)
    ) {
        contents = planned
        next = 0
        var todo: [Int] = []
        todo.reserveCapacity(planned.count)
        for (j, c) in planned.enumerated() where !memo.knows(c, limit: limit) { todo.append(j) }
        let out = UnsafeMutablePointer<Int32>.allocate(capacity: max(1, planned.count))
        out.initialize(repeating: CompressAhead.unknown, count: max(1, planned.count))
        defer { out.deallocate() }
        let jobs = (todo.count + CompressAhead.pagesPerJob - 1) / CompressAhead.pagesPerJob
        // Each job writes the sizes of its own victims, read once every job has ended.
        runJobs(jobs) { k in
            let scratch = UnsafeMutableRawPointer.allocate(byteCount: max(codec.worstCaseSize, pageSize) + 64, alignment: 16)
            defer { scratch.deallocate() }
            let from = k * CompressAhead.pagesPerJob
            for t in from..<min(todo.count, from + CompressAhead.pagesPerJob) {
                let j = todo[t]
                let n = generator.withBytes(planned[j]) { codec.compress($0, into: scratch, capacity: limit - 1) }
                out[j] = n.map { Int32($0) } ?? CompressAhead.rejected
            }
        }
        sizes = Array(UnsafeBufferPointer(start: out, count: planned.count))
    }
}

extension VirtualMachine {
    /// The next victims `pageOut` will take, at most `count` of them within `draws` draws:
    /// the pages `p2m.victims` draws and the loop's filters let through (a private page, not
    /// an untouched part of a large page, with the `accessed` selection not accessed), read
    /// without clearing anything and put back afterwards. The plan ends at a page whose
    /// page-out breaks a large page, which changes what the filters see. Returns the pages
    /// and how many draws they took.
    func upcomingVictims(_ count: Int, draws: Int, useAccessed: Bool) -> (pages: [Int], draws: Int) {
        let ept = guest.ept
        let state = p2m.victims.drawState
        var drawn: [Int] = []
        var pages: [Int] = []
        while pages.count < count && drawn.count < draws, let i = p2m.victims.draw() {
            drawn.append(i)
            guard skip(i, ept: ept, useAccessed: useAccessed, clearing: false) == nil else { continue }
            pages.append(i)
            if largeRegion[i >> 9] != 0 { break }
        }
        p2m.victims.undo(draws: drawn, to: state)
        return (pages, drawn.count)
    }
}
