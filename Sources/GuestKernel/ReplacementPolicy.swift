/// A guest page replacement policy: which resident pages to reclaim first.
///
/// Modelled on Linux's `lruvec` interface: pages are added when they become resident,
/// removed when freed, locked or isolated, and reclaim asks for victims. Policies see the
/// hardware accessed bit (`FrameFlag.accessed`) that every access sets; only exact LRU also
/// asks to be told of every access (`wantsAccessHook`), which costs a list move per access.
public protocol ReplacementPolicy: AnyObject {
    var kind: ReplacementPolicyKind { get }
    /// True when `accessed(_:)` must be called on every access that hits.
    var wantsAccessHook: Bool { get }
    /// A page became resident and evictable. `activate` asks for the active list where the policy has one.
    func add(_ pfn: PFN, anon: Bool, activate: Bool)
    /// The page leaves the policy's lists.
    func remove(_ pfn: PFN)
    /// Every access to a resident page (only when `wantsAccessHook`).
    func accessed(_ pfn: PFN)
    /// `mark_page_accessed`: a page-cache page used through read(2)/write(2), without a PTE.
    func markAccessed(_ pfn: PFN)
    /// Picks up to `count` victims; `anonCount` of them at most anonymous, the rest file pages.
    /// Victims are unlinked and marked `.isolated`.
    func isolateVictims(anon anonCount: Int, file fileCount: Int, into victims: inout [PFN], stats: inout VMStat)
    /// A victim that could not be reclaimed goes back (to the active end where there is one).
    func putBack(_ pfn: PFN, anon: Bool)
    /// Periodic aging: harvest accessed bits and balance lists.
    func age(stats: inout VMStat)
    /// Pages on the policy's lists by use (for /proc/meminfo's Active/Inactive lines).
    func count(_ use: FrameUse) -> Int
    /// Consistency problems of the policy's lists.
    func checkInvariants() -> [String]
}

extension ReplacementPolicyKind {
    /// Builds the policy over a guest's frame table. `nextUse` is OPT's oracle; `referenced`
    /// tests and clears a page's accessed bits (page_referenced through the rmap).
    public func make(frames: FrameTable, nextUse: @escaping (PFN) -> Int, referenced: @escaping (PFN) -> Bool) -> any ReplacementPolicy {
        switch self {
        case .linux: LinuxTwoListPolicy(frames: frames, referenced: referenced)
        case .lru: SingleListPolicy(frames: frames, mode: .lru, referenced: referenced)
        case .fifo: SingleListPolicy(frames: frames, mode: .fifo, referenced: referenced)
        case .clock: SingleListPolicy(frames: frames, mode: .clock, referenced: referenced)
        case .opt: OptimalPolicy(frames: frames, nextUse: nextUse)
        }
    }
}
