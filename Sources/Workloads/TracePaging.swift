import GuestKernel
import OvercommitSupport

/// Textbook demand paging with exactly N page frames: the model of the page-replacement
/// chapter of an operating-systems course (Silberschatz, *Operating System Concepts*, ch. 10;
/// Tanenbaum, *Modern Operating Systems*, ch. 3), run on a recorded reference trace.
///
/// Every reference names a page; a reference to a page that is not in one of the N frames is
/// a page fault. While a frame is free the page takes it; once all N are in use the policy
/// chooses its victim *before* the new page is brought in, one page at a time (no batches,
/// no watermarks, no read-ahead, no zero page: every page takes a frame at its first
/// reference, whatever its kind). Each (process, page) of the trace is its own page, and the
/// N frames are shared by all the trace's processes (global replacement).
///
/// The policies are the guest kernel's own (`ReplacementPolicyKind.make`, one file per
/// policy), driven over an N-frame `FrameTable`:
/// - LRU moves a page to the head of its list on every reference (`accessed`).
/// - FIFO evicts in arrival order.
/// - CLOCK is the textbook ring: the reference bit is set by every reference, including the
///   one that faults the page in (the MMU sets it when the faulting instruction is restarted;
///   Stallings: "when a page is first loaded into a frame, the use bit is set to 1"); on a
///   fault the hand sweeps from the oldest frame, clearing set bits and passing on, and
///   replaces the first page whose bit is clear; the new page goes where the victim was, so
///   it is the last the hand reaches. (libCacheSim's `Clock` leaves the bit of a new object
///   clear, which counts differently.)
/// - OPT (Belady's MIN) evicts the page whose next reference is furthest away (never
///   referenced again first), from the trace's next-use index.
/// - `linux` runs Linux's active/inactive approximation on the same N frames.
///
/// A page written while resident is dirty; evicting it counts a write-back (page-out).
public final class FixedFramePager {
    public let frameCount: Int
    public let policyKind: ReplacementPolicyKind
    let frames: FrameTable
    var policy: (any ReplacementPolicy)!
    /// Per frame: the page it holds and that page's next reference (for OPT).
    var pageOfFrame: [Int]
    var nextUseOfFrame: [Int]
    /// Per page: its frame, or `nilFrame`.
    var frameOfPage: [PFN]
    var used = 0
    var victims: [PFN] = []
    var vmstat = VMStat()

    /// References, faults (misses), evictions (faults once every frame is in use) and
    /// write-backs of dirty victims so far.
    public private(set) var references = 0
    public private(set) var faults = 0
    public private(set) var evictions = 0
    public private(set) var writebacks = 0
    public var hits: Int { references - faults }

    /// A pager with `frames` frames (at least 1) for pages numbered 0..<`pages`.
    public init(frames: Int, pages: Int, policy kind: ReplacementPolicyKind) {
        precondition(frames >= 1, "at least one frame")
        frameCount = frames
        policyKind = kind
        self.frames = FrameTable(count: frames)
        pageOfFrame = Array(repeating: -1, count: frames)
        nextUseOfFrame = Array(repeating: .max, count: frames)
        frameOfPage = Array(repeating: nilFrame, count: pages)
        policy = kind.make(
            frames: self.frames,
            nextUse: { [unowned self] pfn in self.nextUseOfFrame[Int(pfn)] },
            referenced: { [unowned self] pfn in
                let had = self.frames.has(pfn, FrameFlag.accessed)
                self.frames.clear(pfn, FrameFlag.accessed)
                return had
            })
    }

    /// One reference to `page`; `nextUse` is the position of the page's next reference
    /// (`Int.max` if none), for OPT. Returns true if it faulted.
    @discardableResult
    public func reference(_ page: Int, write: Bool, nextUse: Int) -> Bool {
        references += 1
        var f = frameOfPage[page]
        let fault = f == nilFrame
        if fault {
            faults += 1
            if used < frameCount {
                f = PFN(used)
                used += 1
            } else {
                f = chooseVictim()
                evictions += 1
                if frames.has(f, FrameFlag.dirty) { writebacks += 1 }
                frameOfPage[pageOfFrame[Int(f)]] = nilFrame
            }
            frames.flags[Int(f)] = FrameUse.isolated.rawValue
            pageOfFrame[Int(f)] = page
            frameOfPage[page] = f
            policy.add(f, anon: true, activate: false)
        } else if policy.wantsAccessHook {
            policy.accessed(f)
        }
        frames.set(f, FrameFlag.accessed)
        if write { frames.set(f, FrameFlag.dirty) }
        nextUseOfFrame[Int(f)] = nextUse
        return fault
    }

    /// The policy's victim among the N resident pages, taken off its list.
    func chooseVictim() -> PFN {
        // A policy may rotate every page once before it finds one (CLOCK, Linux's lists).
        for _ in 0..<3 {
            victims.removeAll(keepingCapacity: true)
            policy.isolateVictims(anon: 1, file: 0, into: &victims, stats: &vmstat)
            if let v = victims.first {
                for extra in victims.dropFirst() { policy.putBack(extra, anon: true) }
                return v
            }
        }
        preconditionFailure("\(policyKind) chose no victim among \(used) resident pages")
    }

    /// The page in each frame (nil: free), by frame number.
    public var framePages: [Int?] { pageOfFrame.map { $0 < 0 ? nil : $0 } }

    /// Consistency of the policy's lists with the frames in use.
    public func checkInvariants() -> [String] {
        var p = policy.checkInvariants()
        let listed = policy.count(.activeAnon) + policy.count(.inactiveAnon)
        if listed != used { p.append("\(policyKind): \(listed) pages on the lists, \(used) frames in use") }
        return p
    }
}

/// One policy at one frame count over a whole trace.
public struct PagingResult: Sendable, Equatable {
    public var policy: ReplacementPolicyKind
    public var frames: Int
    public var references: Int
    public var faults: Int
    public var evictions: Int
    public var writebacks: Int
    /// Distinct pages of the trace (the compulsory faults of any policy with enough frames).
    public var distinctPages: Int
    public var hits: Int { references - faults }
    /// Faults per reference.
    public var faultRate: Double { references == 0 ? 0 : Double(faults) / Double(references) }
}

/// The textbook paging study of a trace: `FixedFramePager` over its references.
public enum TracePaging {
    /// The policies, from the replacement-policy registry.
    public static var policies: [ReplacementPolicyKind] { ReplacementPolicyKind.allCases }

    /// Replays every reference of one pass of `trace` with `frames` frames under `policy`.
    public static func run(_ trace: CompiledTrace, frames: Int, policy: ReplacementPolicyKind) -> PagingResult {
        // More frames than pages never evict: the table needs no more frames than pages.
        let pager = FixedFramePager(frames: min(frames, max(1, trace.pageCount)), pages: trace.pageCount, policy: policy)
        trace.forEachReference { page, write, next in pager.reference(page, write: write, nextUse: next) }
        return PagingResult(
            policy: policy, frames: frames, references: pager.references, faults: pager.faults,
            evictions: pager.evictions, writebacks: pager.writebacks, distinctPages: trace.distinctPages)
    }

    /// Every combination, policies outer, frame counts inner, in the order given.
    public static func study(_ trace: CompiledTrace, frames: [Int], policies: [ReplacementPolicyKind]) -> [PagingResult] {
        policies.flatMap { p in frames.map { run(trace, frames: $0, policy: p) } }
    }

    /// Belady's anomaly in results: pairs (fewer frames, more frames) of one policy where more
    /// frames gave more faults.
    public static func anomalies(_ results: [PagingResult]) -> [(PagingResult, PagingResult)] {
        var out: [(PagingResult, PagingResult)] = []
        for p in policies {
            let rs = results.filter { $0.policy == p }.sorted { $0.frames < $1.frames }
            for (a, b) in zip(rs, rs.dropFirst()) where b.frames > a.frames && b.faults > a.faults { out.append((a, b)) }
        }
        return out
    }
}
