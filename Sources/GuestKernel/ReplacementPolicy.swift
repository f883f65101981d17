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
    /// `isolateVictims` for one NUMA node's reclaim: only frames in `eligible` (the node's
    /// frames) are taken; the pages of other nodes are passed over and keep their places
    /// (Linux 4.8+ keeps one LRU per node; see `LinuxTwoListPolicy`).
    func isolateVictims(anon anonCount: Int, file fileCount: Int, eligible: Range<Int>, into victims: inout [PFN], stats: inout VMStat)
    /// A victim that could not be reclaimed goes back (to the active end where there is one).
    func putBack(_ pfn: PFN, anon: Bool)
    /// Periodic aging: harvest accessed bits and balance lists.
    func age(stats: inout VMStat)
    /// Pages on the policy's lists by use (for /proc/meminfo's Active/Inactive lines).
    func count(_ use: FrameUse) -> Int
    /// Consistency problems of the policy's lists.
    func checkInvariants() -> [String]
}

extension ReplacementPolicy {
    /// Policies without per-node lists take victims wherever they are: a node's reclaim then
    /// frees pages of any node (the textbook policies model a machine of one node).
    public func isolateVictims(anon anonCount: Int, file fileCount: Int, eligible: Range<Int>, into victims: inout [PFN], stats: inout VMStat) {
        isolateVictims(anon: anonCount, file: fileCount, into: &victims, stats: &stats)
    }
}
